package runner

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// goal is one ratio goal of reference performance.md §3: Num's throughput over Den's, both
// measured in the same server process, paired round by round.
type goal struct {
	ID, What      string
	Dialects      []string // nil: every dialect measured
	Num, Den      string
	Must, Stretch float64
}

var ratioGoals = []goal{
	{"G1", "ubql select by ID / raw", []string{Postgres}, "ubql_byid", "raw_byid", 0.70, 0.85},
	{"G2", "ubql select by ID / raw", []string{SQLite}, "ubql_byid", "raw_byid", 0.60, 0.80},
	{"G3", "ubql 20-row list / raw", nil, "ubql_list20", "raw_list20", 0.65, 0.80},
	{"G3q", "ubql 20 queries (one batch) / raw", nil, "ubql_queries20", "raw_queries20", 0.60, 0.80},
	{"G3f", "fortunes through the store (Go) / raw", nil, "go_fortunes", "raw_fortunes", 0.60, 0.80},
	{"G4", "JS endpoint / Go twin: select by ID", nil, "js_byid", "go_byid", 0.80, 0.90},
	// Not in the reference's G4 (select by ID only), held to the same bar: the same data
	// path with more rows and more calls.
	{"G4", "JS endpoint / Go twin: 20-row list", nil, "js_list20", "go_list20", 0.80, 0.90},
	{"G4", "JS endpoint / Go twin: 20 queries", nil, "js_queries20", "go_queries20", 0.80, 0.90},
	{"G5", "JS constant object / Go /json", nil, "js_json", "json", 0.65, 0.75},
	{"G6", "ubql insert / raw", nil, "ubql_insert", "raw_insert", 0.60, 0.75},
	{"G7", "ubql update (optimistic lock) / raw", nil, "ubql_update", "raw_update", 0.60, 0.75},
	{"G7", "ubql delete / raw", nil, "ubql_delete", "raw_delete", 0.60, 0.75},
}

// Informative ratios: not goals, but they say where the cost is.
var infoRatios = []goal{
	{"i1", "ubql select by ID / Go twin (cost of the client protocol)", nil, "ubql_byid", "go_byid", 0, 0},
	{"i2", "Go twin select by ID / raw (cost of the store's UBQL path)", nil, "go_byid", "raw_byid", 0, 0},
	{"i3", "raw select by ID / /json (cost of the database)", nil, "raw_byid", "json", 0, 0},
	// Fortunes in JS is bound by script code the runtime cannot take over (the sort
	// comparator runs in the interpreter; rendering is native mustache): the ratio says
	// what that costs, it is not the reference's G4.
	{"i4", "JS endpoint / Go twin: fortunes (sort comparator in JS, mustache in Go)", nil, "js_fortunes", "go_fortunes", 0, 0},
}

// kept returns the kept record of a scenario's round, or nil.
func (r *runner) kept(d, scenario string, round int) *Record {
	for i := range r.records {
		rec := &r.records[i]
		if rec.Kept && rec.Dialect == d && rec.Scenario == scenario && rec.Round == round {
			return rec
		}
	}
	return nil
}

// pairedRatio is the median over rounds of num's req/s over den's. den may come from the
// first dialect (the Once scenarios). noisy says a run behind it was disturbed.
func (r *runner) pairedRatio(d, num, den string) (ratio float64, noisy, ok bool) {
	var ratios []float64
	for round := 1; round <= r.cfg.Rounds; round++ {
		a, b := r.kept(d, num, round), r.kept(d, den, round)
		if a == nil || b == nil || b.Res.RPS() == 0 {
			continue
		}
		ratios = append(ratios, a.Res.RPS()/b.Res.RPS())
		noisy = noisy || !a.Clean || !b.Clean || a.QuietTimedOut || b.QuietTimedOut
	}
	if len(ratios) == 0 {
		return 0, false, false
	}
	return median(ratios), noisy, true
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// scenarioStats are the medians of a scenario's kept runs.
type scenarioStats struct {
	rps, p50, p99, serverUS, machineUS float64
	non2xx, sockErr                    int64
	rounds, clean                      int
}

func (r *runner) stats(d, scenario string) (scenarioStats, bool) {
	var st scenarioStats
	var rps, p50, p99, srv, mach []float64
	for _, rec := range r.records {
		if !rec.Kept || rec.Dialect != d || rec.Scenario != scenario {
			continue
		}
		rps = append(rps, rec.Res.RPS())
		p50 = append(p50, float64(rec.Res.P50US)/1000)
		p99 = append(p99, float64(rec.Res.P99US)/1000)
		srv = append(srv, usPerReq(rec.ServerCPU, rec.Res.Requests))
		mach = append(mach, usPerReq(rec.MachineCPU, rec.Res.Requests))
		st.non2xx += rec.Res.Status
		st.sockErr += rec.Res.SocketErrors()
		st.rounds++
		if rec.Clean && !rec.QuietTimedOut {
			st.clean++
		}
	}
	if st.rounds == 0 {
		return st, false
	}
	st.rps, st.p50, st.p99, st.serverUS, st.machineUS = median(rps), median(p50), median(p99), median(srv), median(mach)
	return st, true
}

func verdict(ratio, must, stretch float64, noisy bool) string {
	v := "FAIL"
	switch {
	case ratio >= stretch:
		v = "PASS (stretch)"
	case ratio >= must:
		v = "PASS"
	}
	if noisy {
		v += ", noisy"
	}
	return v
}

// report writes summary.tsv, runs.tsv and ratios.md, and returns how many must goals
// failed.
func (r *runner) report() (failed int, err error) {
	var runs, summary bytes.Buffer
	head := "dialect\tscenario\tgroup\tkind\tround\tattempt\tkept\treq_per_s\tp50_ms\tp90_ms\tp99_ms\tmax_ms\trequests\tnon2xx\tsocket_errors\tserver_us_per_req\tmachine_us_per_req\toutsiders_cores\tclean\tquiet_wait_s\tquiet_timed_out\n"
	runs.WriteString(head)
	summary.WriteString(head)
	for _, rec := range r.records {
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%d\t%d\t%t\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%d\t%d\t%.1f\t%.1f\t%.3f\t%t\t%.0f\t%t\n",
			rec.Dialect, rec.Scenario, rec.Group, rec.Kind, rec.Round, rec.Attempt, rec.Kept, rec.Res.RPS(),
			float64(rec.Res.P50US)/1000, float64(rec.Res.P90US)/1000, float64(rec.Res.P99US)/1000, float64(rec.Res.MaxUS)/1000,
			rec.Res.Requests, rec.Res.Status, rec.Res.SocketErrors(), usPerReq(rec.ServerCPU, rec.Res.Requests),
			usPerReq(rec.MachineCPU, rec.Res.Requests), rec.Outsiders, rec.Clean, rec.Waited.Seconds(), rec.QuietTimedOut)
		runs.WriteString(line)
		if rec.Kept {
			summary.WriteString(line)
		}
	}
	if err := os.WriteFile(filepath.Join(r.cfg.Out, "runs.tsv"), runs.Bytes(), 0o644); err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(r.cfg.Out, "summary.tsv"), summary.Bytes(), 0o644); err != nil {
		return 0, err
	}

	var md bytes.Buffer
	kept, clean := 0, 0
	for _, rec := range r.records {
		if rec.Kept {
			kept++
			if rec.Clean && !rec.QuietTimedOut {
				clean++
			}
		}
	}
	fmt.Fprintf(&md, "# ubgo performance, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&md, "Mode **%s**: %d round(s) of `wrk -t%d -c%d -d%s --latency` per scenario after a %s warm-up, rounds interleaved within each group. ",
		r.cfg.Mode, r.cfg.Rounds, r.cfg.Threads, r.cfg.Conns, r.cfg.Duration, r.cfg.Warmup)
	var servers []string
	for _, d := range r.cfg.Dialects {
		if s := r.server[d]; s != "" {
			servers = append(servers, d+": "+s)
		}
	}
	sec := "security layer on (no authentication methods: requests are the anonymous user, checked against the ELS matrix and endpoint grants; no signature check)"
	if !r.cfg.Security {
		sec = "security layer off (-dev-anonymous-admin: every request runs as admin)"
	}
	fmt.Fprintf(&md, "Server: %s, %s. Machine: see machine.txt.\n\n", strings.Join(servers, ", "), sec)
	if kept > 0 && clean < kept {
		fmt.Fprintf(&md, "> **NOISY / PRELIMINARY:** %d of %d kept runs were disturbed by other work on the machine "+
			"(outsiders above %.2f core during the run, or no quiet moment within %s before it). Ratios marked \"noisy\" rest on such runs.\n\n",
			kept-clean, kept, r.cfg.DirtyLimit, r.cfg.QuietMax)
	} else if kept > 0 {
		fmt.Fprintf(&md, "All %d kept runs were clean (other work below %.2f core).\n\n", kept, r.cfg.DirtyLimit)
	}

	md.WriteString("## Goals\n\nRatios are medians over rounds of paired req/s ratios (same process, same pools, runs interleaved).\n\n")
	md.WriteString("| goal | dialect | what | measured | must | stretch | result |\n|---|---|---|---|---|---|---|\n")
	for _, d := range r.cfg.Dialects {
		for _, g := range ratioGoals {
			if g.Dialects != nil && !contains(g.Dialects, d) {
				continue
			}
			dd := d
			if g.Den == "json" { // measured once, in the first dialect
				dd = r.cfg.Dialects[0]
				if d != dd {
					continue
				}
			}
			ratio, noisy, ok := r.pairedRatio(dd, g.Num, g.Den)
			if !ok {
				continue
			}
			v := verdict(ratio, g.Must, g.Stretch, noisy)
			if strings.HasPrefix(v, "FAIL") {
				failed++
			}
			fmt.Fprintf(&md, "| %s | %s | %s | **%.0f %%** | ≥ %.0f %% | ≥ %.0f %% | %s |\n", g.ID, dd, g.What, ratio*100, g.Must*100, g.Stretch*100, v)
		}
		// G8: latency of select by ID through ubql against raw.
		a, okA := r.stats(d, "ubql_byid")
		b, okB := r.stats(d, "raw_byid")
		if okA && okB && b.p99 > 0 {
			x := a.p99 / b.p99
			v := "FAIL"
			switch {
			case x <= 1.5 && a.p99 <= 15:
				v = "PASS (stretch)"
			case x <= 2.5 && a.p99 <= 15:
				v = "PASS"
			}
			if a.clean < a.rounds || b.clean < b.rounds {
				v += ", noisy"
			}
			if strings.HasPrefix(v, "FAIL") {
				failed++
			}
			fmt.Fprintf(&md, "| G8 | %s | p99 of ubql select by ID: %.2f ms vs raw %.2f ms | **%.2f×** | ≤ 2.5× and ≤ 15 ms | ≤ 1.5× | %s |\n", d, a.p99, b.p99, x, v)
		}
	}
	failed += r.reportStartupGoals(&md)
	// G11: no errors under load.
	var non2xx, sockErr int64
	for _, rec := range r.records {
		if rec.Kept {
			non2xx += rec.Res.Status
			sockErr += rec.Res.SocketErrors()
		}
	}
	busy := 0.0
	for _, e := range r.extra {
		if strings.HasPrefix(e.Name, "SQLITE_BUSY") {
			busy += e.Value
		}
	}
	if kept > 0 {
		v := "PASS"
		if non2xx+sockErr > 0 || busy > 0 {
			v = "FAIL"
			failed++
		}
		fmt.Fprintf(&md, "| G11 | all | errors under load: non-2xx %d, socket errors %d, SQLITE_BUSY %.0f | | 0 | | %s |\n", non2xx, sockErr, busy, v)
	}

	md.WriteString("\n### Where the cost is (informative)\n\n| dialect | ratio | measured |\n|---|---|---|\n")
	for _, d := range r.cfg.Dialects {
		for _, g := range infoRatios {
			dd := d
			if g.Den == "json" && d != r.cfg.Dialects[0] {
				continue
			}
			if ratio, noisy, ok := r.pairedRatio(dd, g.Num, g.Den); ok {
				n := ""
				if noisy {
					n = " (noisy)"
				}
				fmt.Fprintf(&md, "| %s | %s | %.0f %%%s |\n", dd, g.What, ratio*100, n)
			}
		}
	}

	md.WriteString("\n## Scenarios (medians of the kept runs; absolute figures are logged, not gated)\n\n")
	md.WriteString("| dialect | scenario | req/s | p50 ms | p99 ms | server CPU µs/req | machine CPU µs/req | non-2xx | socket errors | clean rounds |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, d := range r.cfg.Dialects {
		for _, s := range Scenarios {
			st, ok := r.stats(d, s.Name)
			if !ok {
				continue
			}
			fmt.Fprintf(&md, "| %s | %s | %.0f | %.2f | %.2f | %.1f | %.1f | %d | %d | %d/%d |\n",
				d, s.Name, st.rps, st.p50, st.p99, st.serverUS, st.machineUS, st.non2xx, st.sockErr, st.clean, st.rounds)
		}
	}
	r.reportStartupTable(&md)
	if len(r.extra) > 0 {
		md.WriteString("\n## Other figures\n\n| what | dialect | value | note |\n|---|---|---|---|\n")
		for _, e := range r.extra {
			fmt.Fprintf(&md, "| %s | %s | %.1f %s | %s |\n", e.Name, e.Dialect, e.Value, e.Unit, e.Note)
		}
	}
	if len(r.cfg.Profile) > 0 {
		md.WriteString("\nCPU profiles of the scenarios in `profiles/` (one extra run each): `go tool pprof -top profiles/<dialect>_<scenario>.pprof`.\n")
	}
	return failed, os.WriteFile(filepath.Join(r.cfg.Out, "ratios.md"), md.Bytes(), 0o644)
}

// writeMachine records what the figures were measured on.
func writeMachine(ctx context.Context, cfg Config) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "date: %s\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "nproc: %d (GOMAXPROCS of the runner %d)\n", runtime.NumCPU(), runtime.GOMAXPROCS(0))
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		line, _, _ := strings.Cut(string(data), "\n")
		fmt.Fprintf(&b, "memory: %s\n", strings.Join(strings.Fields(line)[1:], " "))
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "model name") {
				_, v, _ := strings.Cut(line, ":")
				fmt.Fprintf(&b, "cpu: %s\n", strings.TrimSpace(v))
				break
			}
		}
	}
	for _, c := range [][]string{{"uname", "-sr"}, {"go", "version"}, {"psql", "--version"}, {cfg.Wrk, "-v"}, {"git", "-C", cfg.AppDir, "rev-parse", "--short", "HEAD"}} {
		out, _ := exec.CommandContext(ctx, c[0], c[1:]...).CombinedOutput()
		line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		fmt.Fprintf(&b, "%s: %s\n", strings.Join(c, " "), line)
	}
	fmt.Fprintf(&b, "server: %s\npostgres: %s\n", cfg.Server, redactURL(cfg.PGURL))
	os.WriteFile(filepath.Join(cfg.Out, "machine.txt"), b.Bytes(), 0o644)
}

// redactURL hides a password in a connection URL.
func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	userinfo, host, ok := strings.Cut(rest, "@")
	if !ok {
		return u
	}
	if user, _, hasPwd := strings.Cut(userinfo, ":"); hasPwd {
		return scheme + "://" + user + ":***@" + host
	}
	return u
}
