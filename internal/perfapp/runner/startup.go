package runner

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ubgo/ubgo/internal/synth"
)

// startupResult is the startup and memory of one generated domain.
type startupResult struct {
	N         int
	First     time.Duration   // first start: creates and initializes the database
	Starts    []time.Duration // later starts, from exec to the first 200 of /ready
	Phases    string          // what the server logged about its phases (the last start logged at info)
	PeakMB    float64         // VmHWM after the load run
	LoadRPS   float64
	LoadError int64
}

func (s startupResult) median() time.Duration {
	if len(s.Starts) == 0 {
		return 0
	}
	d := slices.Clone(s.Starts)
	slices.Sort(d)
	return d[len(d)/2]
}

// startup generates a domain of N entities (10 attributes and one JS module each) for every
// configured N, starts `ubgo serve` on it once to create the database, then StartupRuns
// more times, timing each start until /ready answers; after the last start it puts the
// server under load (selects and JS method calls over all entities) and reads its peak
// resident memory.
func (r *runner) startup(ctx context.Context) error {
	for _, n := range r.cfg.StartupN {
		res, err := r.startupOf(ctx, n)
		if err != nil {
			return fmt.Errorf("N=%d: %w", n, err)
		}
		r.startups = append(r.startups, res)
		r.log.Info("startup", "entities", n, "first", res.First.Round(time.Millisecond), "median", res.median().Round(time.Millisecond),
			"peakMB", round1(res.PeakMB), "loadRps", res.LoadRPS)
	}
	return nil
}

func (r *runner) startupOf(ctx context.Context, n int) (startupResult, error) {
	res := startupResult{N: n}
	dir := filepath.Join(r.cfg.Work, "gen", strconv.Itoa(n))
	os.RemoveAll(dir)
	if _, _, err := synth.Generate(dir, synth.Options{Entities: n, Attributes: 10, JSModules: true, DatabaseName: "./data/synth.sqlite3"}); err != nil {
		return res, err
	}
	names, err := generatedEntities(dir)
	if err != nil {
		return res, err
	}
	cfgFile := filepath.Join(dir, "ubconfig.json")
	for i := 0; i <= r.cfg.StartupRuns; i++ {
		// The start put under load logs at warn: at info its access log would be a line
		// per request, tens of megabytes; the phases come from the starts before it.
		loaded := i == r.cfg.StartupRuns
		level := "info"
		if loaded && i > 0 {
			level = "warn"
		}
		args := []string{"serve", "-cfg", cfgFile, "-dev-anonymous-admin", "-log-level", level}
		port, err := freePort()
		if err != nil {
			return res, err
		}
		logPath := filepath.Join(r.cfg.Out, "startup", fmt.Sprintf("N%d-%d.log", n, i))
		os.MkdirAll(filepath.Dir(logPath), 0o755)
		srv, err := startServer(ctx, r.cfg.Server, args, []string{"UB_PORT=" + strconv.Itoa(port)}, logPath, port, 5*time.Minute)
		if err != nil {
			return res, err
		}
		if i == 0 {
			res.First = srv.ready
		} else {
			res.Starts = append(res.Starts, srv.ready)
		}
		if loaded {
			r.srvPID.Store(int64(srv.pid))
			lr, err := r.loadGenerated(ctx, srv, names, n)
			if err == nil {
				res.LoadRPS, res.LoadError = lr.RPS(), lr.Status+lr.SocketErrors()
				if hwm, _, err := memStatus("/proc", srv.pid); err == nil {
					res.PeakMB = float64(hwm) / (1 << 20)
				}
			}
			r.srvPID.Store(0)
			srv.stop()
			if err != nil {
				return res, err
			}
		} else {
			srv.stop()
		}
		if level == "info" {
			res.Phases = phasesOf(logPath)
		}
	}
	return res, nil
}

// loadGenerated runs LoadRun of wrk against the generated application: every request picks
// an entity at random and either selects from it or calls its JS method ping, so every
// worker of the pool is created and runs every entity's module.
func (r *runner) loadGenerated(ctx context.Context, srv *serverProc, names []string, n int) (wrkResult, error) {
	var b strings.Builder
	b.WriteString("-- perfctl: load on a generated domain\nlocal names = {")
	for i, name := range names {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(strconv.Quote(name))
	}
	b.WriteString(`}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function request()
  local e = names[math.random(1, #names)]
  local body
  if math.random(1, 2) == 1 then
    body = '[{"entity":"' .. e .. '","method":"select","fieldList":["ID","code"],"options":{"start":0,"limit":10}}]'
  else
    body = '[{"entity":"' .. e .. '","method":"ping"}]'
  end
  return wrk.format(nil, "/ubql", nil, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('PERFJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`)
	script := filepath.Join(r.cfg.Work, "lua", fmt.Sprintf("gen%d.lua", n))
	os.MkdirAll(filepath.Dir(script), 0o755)
	if err := os.WriteFile(script, []byte(b.String()), 0o644); err != nil {
		return wrkResult{}, err
	}
	w := wrkRun{bin: r.cfg.Wrk, threads: r.cfg.Threads, conns: r.cfg.Conns, duration: r.cfg.LoadRun, url: srv.base + "/ubql",
		script: script, log: filepath.Join(r.cfg.Out, "wrk-startup.log")}
	return w.run(ctx)
}

// generatedEntities lists the generated entities of a synth application (mMM_eKKKK).
func generatedEntities(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "models", "*", "*.meta"))
	if err != nil {
		return nil, err
	}
	re := regexp.MustCompile(`^m\d+_e\d+$`)
	var names []string
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".meta")
		if re.MatchString(name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no generated entities in %s", dir)
	}
	slices.Sort(names)
	return names, nil
}

var (
	msgRE      = regexp.MustCompile(`msg="([^"]*)"|msg=(\S+)`)
	durationRE = regexp.MustCompile(`duration=(\S+)`)
	startupRE  = regexp.MustCompile(`startup=(\S+) phases="([^"]*)"`)
)

// phasesOf reads the startup phases from a server log: serve's "listening" line
// (startup=<total> phases="config=.. domain=.. ..."), or else every line that carries a
// duration ("<msg> <duration>").
func phasesOf(logPath string) string {
	data, err := os.ReadFile(logPath)
	if err != nil {
		return ""
	}
	if m := startupRE.FindSubmatch(data); m != nil {
		return "total " + string(m[1]) + ": " + string(m[2])
	}
	var out []string
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		d := durationRE.FindSubmatch(line)
		m := msgRE.FindSubmatch(line)
		if d == nil || m == nil || bytes.Contains(line, []byte("msg=http ")) {
			continue
		}
		msg := string(m[1])
		if msg == "" {
			msg = string(m[2])
		}
		out = append(out, msg+" "+string(d[1]))
	}
	return strings.Join(out, "; ")
}

// reportStartupGoals writes the G9 and G10 rows and returns how many failed.
func (r *runner) reportStartupGoals(md *bytes.Buffer) (failed int) {
	for _, s := range r.startups {
		med := s.median().Seconds()
		must, stretch := 0.5+0.001*float64(s.N), 0.2+0.0003*float64(s.N)
		v := "FAIL"
		switch {
		case med <= stretch:
			v = "PASS (stretch)"
		case med <= must:
			v = "PASS"
		}
		if v == "FAIL" {
			failed++
		}
		fmt.Fprintf(md, "| G9 | sqlite | time to listening, N = %d entities (median of %d) | **%.0f ms** | ≤ %.0f ms | ≤ %.0f ms | %s |\n",
			s.N, len(s.Starts), med*1000, must*1000, stretch*1000, v)
	}
	for _, s := range r.startups {
		if s.N != 1000 || s.PeakMB == 0 {
			continue
		}
		v := "FAIL"
		switch {
		case s.PeakMB <= 120:
			v = "PASS (stretch)"
		case s.PeakMB <= 250:
			v = "PASS"
		}
		if v == "FAIL" {
			failed++
		}
		fmt.Fprintf(md, "| G10 | sqlite | peak RSS after load, N = 1,000 | **%.0f MB** | ≤ 250 MB | ≤ 120 MB | %s |\n", s.PeakMB, v)
	}
	return failed
}

func (r *runner) reportStartupTable(md *bytes.Buffer) {
	if len(r.startups) == 0 {
		return
	}
	md.WriteString("\n## Startup and memory (generated domains: 10 attributes and one JS module per entity, SQLite)\n\n")
	md.WriteString("| N | first start (creates the database) | starts (ms) | median | peak RSS after load | load req/s | load errors | phases logged by serve (last start at log level info) |\n|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.startups {
		var starts []string
		for _, d := range s.Starts {
			starts = append(starts, strconv.FormatInt(d.Milliseconds(), 10))
		}
		fmt.Fprintf(md, "| %d | %d ms | %s | **%d ms** | %.0f MB | %.0f | %d | %s |\n", s.N, s.First.Milliseconds(),
			strings.Join(starts, ", "), s.median().Milliseconds(), s.PeakMB, s.LoadRPS, s.LoadError, s.Phases)
	}
}
