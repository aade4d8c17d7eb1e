// Package runner is the measuring half of scripts/perf.sh: it loads the perf database,
// starts the perf build of the server on 127.0.0.1, runs every scenario of the perf
// application under wrk interleaved with its baseline, keeps only runs the rest of the
// machine did not disturb, and writes summary.tsv, runs.tsv, ratios.md and machine.txt.
// It also measures the time to listening and the memory of generated domains of N
// entities. Method and goals: docs/performance.md.
package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/internal/perfapp"
)

// Dialect names used in file names and tables.
const (
	SQLite   = "sqlite"
	Postgres = "pg"
)

// Config is one run of the harness.
type Config struct {
	Out      string   // output folder for the reports, logs and profiles (created)
	Work     string   // folder for databases, generated domains and scripts; "" means Out/work
	AppDir   string   // the perf application folder (perf/)
	Server   string   // the ubgo binary built with -tags perf
	Wrk      string   // wrk binary
	Dialects []string // SQLite, Postgres, in run order
	PGURL    string   // URL of the perf PostgreSQL database, with search_path
	PGDB     string   // its database name (its backends are ours)
	Only     []string // groups or scenario names; empty: all

	Duration, Warmup time.Duration
	Rounds           int
	Threads, Conns   int

	QuietLimit float64       // outsiders' cores below which the machine counts as quiet
	DirtyLimit float64       // outsiders' cores above which a run is disturbed
	QuietMax   time.Duration // longest wait for quiet before a run goes ahead anyway
	// QuietBudget bounds all waiting for quiet and all retries of one Run together: on a
	// machine that never gets quiet the suite still ends, its runs marked noisy.
	QuietBudget time.Duration
	Retries     int // extra attempts of a disturbed run

	Profile     []string      // scenarios to profile (one extra run each, CPU profile saved)
	StartupN    []int         // generated domain sizes for startup and memory; empty: skip
	StartupRuns int           // starts per size (median)
	LoadRun     time.Duration // load before reading the peak RSS of a generated domain

	// Security runs the server with its security layer (the perf configs have no
	// authentication methods, so every request is the anonymous user, checked against the
	// ELS matrix and the endpoint grants); false runs it with -dev-anonymous-admin, which
	// switches the layer off.
	Security bool

	Gate bool // fail when a "must" goal fails
	Mode string
}

// runner holds the state of one Run.
type runner struct {
	cfg      Config
	log      *slog.Logger
	proc     procFS
	srvPID   atomic.Int64
	records  []Record // every measured attempt
	extra    []Extra  // figures outside the wrk table (memory, errors in logs)
	startups []startupResult
	server   map[string]string
	insert   map[string]float64 // best insert rate per dialect, sizes the prepared rows
	waited   time.Duration      // spent waiting for quiet and on retries, against QuietBudget
}

// Record is one wrk run.
type Record struct {
	Dialect, Scenario, Group, Kind string
	Round, Attempt                 int
	Kept                           bool // the attempt that represents its round
	Res                            wrkResult
	ServerCPU                      float64 // seconds of CPU the server used
	MachineCPU                     float64 // seconds of CPU the whole machine used
	Outsiders                      float64 // cores used by other work during the run
	Waited                         time.Duration
	QuietTimedOut                  bool
	Clean                          bool
}

// Extra is a figure that is not a wrk run: peak memory, startup time.
type Extra struct {
	Name, Dialect string
	Value         float64
	Unit          string
	Note          string
}

// Run measures everything cfg asks for and writes the reports. It always stops the
// servers it started. With cfg.Gate it returns an error when a must goal fails.
func Run(ctx context.Context, cfg Config, logw io.Writer) error {
	if cfg.Work == "" {
		cfg.Work = filepath.Join(cfg.Out, "work")
	}
	for _, dir := range []string{cfg.Out, cfg.Work} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	r := &runner{cfg: cfg, log: slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelInfo})),
		server: map[string]string{}, insert: map[string]float64{}}
	self := os.Getpid()
	r.proc = procFS{root: "/proc", ours: func(pid int, cmd string) bool {
		return pid == self || int64(pid) == r.srvPID.Load() || (cfg.PGDB != "" && isPerfPostgres(cmd, cfg.PGDB))
	}}
	if _, err := exec.LookPath(cfg.Wrk); err != nil {
		return errNoWrk
	}
	writeMachine(ctx, cfg)
	var errs []error
	for i, d := range cfg.Dialects {
		if err := r.dialect(ctx, d, i == 0); err != nil {
			r.log.Error("dialect failed", "dialect", d, "err", err)
			errs = append(errs, fmt.Errorf("%s: %w", d, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	if len(cfg.StartupN) > 0 && ctx.Err() == nil {
		if err := r.startup(ctx); err != nil {
			r.log.Error("startup measurement failed", "err", err)
			errs = append(errs, fmt.Errorf("startup: %w", err))
		}
	}
	failed, err := r.report()
	if err != nil {
		errs = append(errs, err)
	}
	if cfg.Gate && failed > 0 {
		errs = append(errs, fmt.Errorf("%d must goals failed (PERF_GATE)", failed))
	}
	return errors.Join(errs...)
}

func (r *runner) configFile(d string) string {
	if d == Postgres {
		return filepath.Join(r.cfg.AppDir, "ubconfig.pg.json")
	}
	return filepath.Join(r.cfg.AppDir, "ubconfig.sqlite.json")
}

// appEnv is the environment of the perf application for dialect d and port.
func (r *runner) appEnv(d string, port int) []string {
	return []string{
		"UB_PORT=" + strconv.Itoa(port),
		"UB_PERF_DB=" + filepath.Join(r.cfg.Work, "data", "perf.sqlite3"),
		"UB_PERF_FILES=" + filepath.Join(r.cfg.Work, "data", "stores"),
		"UB_PERF_PG=" + r.cfg.PGURL,
	}
}

// dialect loads the database, starts the server and runs the scenario groups.
func (r *runner) dialect(ctx context.Context, d string, first bool) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	env := r.appEnv(d, port)
	r.log.Info("loading the perf database", "dialect", d)
	start := time.Now()
	lookup := func(k string) (string, bool) {
		for _, kv := range env {
			if name, v, _ := strings.Cut(kv, "="); name == k {
				return v, true
			}
		}
		return os.LookupEnv(k)
	}
	res, err := perfapp.LoadApp(ctx, boot.Options{ConfigFile: r.configFile(d), LookupEnv: lookup}, true, perfapp.LoadOptions{})
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	r.log.Info("loaded", "dialect", d, "worlds", res.Worlds, "fortunes", res.Fortunes, "duration", time.Since(start).Round(time.Millisecond))

	srv, err := r.startPerfServer(ctx, d, port, env)
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.stop(); err != nil {
			r.log.Warn("stop server", "err", err)
		}
		r.srvPID.Store(0)
	}()
	list := selectScenarios(r.cfg.Only, first)
	for _, g := range Groups(list) {
		var members []Scenario
		for _, s := range list {
			if s.Group == g {
				members = append(members, s)
			}
		}
		if err := r.group(ctx, d, srv, members); err != nil {
			return fmt.Errorf("group %s: %w", g, err)
		}
	}
	if hwm, rss, err := memStatus("/proc", srv.pid); err == nil {
		r.extra = append(r.extra, Extra{Name: "peak RSS after the suite", Dialect: d, Value: float64(hwm) / (1 << 20), Unit: "MB",
			Note: fmt.Sprintf("RSS now %.1f MB", float64(rss)/(1<<20))})
	}
	if n := countInLog(filepath.Join(r.cfg.Out, "server-"+d+".log"), "SQLITE_BUSY", "database is locked"); n > 0 {
		r.extra = append(r.extra, Extra{Name: "SQLITE_BUSY in the server log", Dialect: d, Value: float64(n)})
	}
	return nil
}

// startPerfServer starts `ubgo serve` (the perf build) and checks that it serves the
// baselines.
func (r *runner) startPerfServer(ctx context.Context, d string, port int, env []string) (*serverProc, error) {
	logPath := filepath.Join(r.cfg.Out, "server-"+d+".log")
	args := []string{"serve", "-cfg", r.configFile(d), "-log-level", "warn"}
	if !r.cfg.Security {
		args = append(args, "-dev-anonymous-admin")
	}
	srv, err := startServer(ctx, r.cfg.Server, args, env, logPath, port, 60*time.Second)
	if err != nil {
		return nil, err
	}
	status, _, err := get(ctx, srv.base+"/_perf/raw/fortunes", 10*time.Second)
	if err != nil || status != 200 {
		srv.stop()
		return nil, fmt.Errorf("%s does not serve the perf baselines (GET /_perf/raw/fortunes: %d, %v): build it with -tags perf", r.cfg.Server, status, err)
	}
	r.srvPID.Store(int64(srv.pid))
	r.server[d] = filepath.Base(r.cfg.Server) + " serve"
	r.log.Info("server ready", "dialect", d, "binary", r.cfg.Server, "pid", srv.pid, "ready", srv.ready.Round(time.Millisecond))
	return srv, nil
}

// group warms every member up, then measures the rounds interleaved: round 1 of every
// member, round 2 of every member, and so on.
func (r *runner) group(ctx context.Context, d string, srv *serverProc, members []Scenario) error {
	for _, s := range members {
		if _, err := r.wrk(ctx, d, srv, s, r.cfg.Warmup, nil); err != nil {
			return fmt.Errorf("warm-up of %s: %w", s.Name, err)
		}
	}
	for round := 1; round <= r.cfg.Rounds; round++ {
		for _, s := range members {
			if err := r.measure(ctx, d, srv, s, round); err != nil {
				return err
			}
		}
	}
	for _, s := range members {
		if contains(r.cfg.Profile, s.Name) {
			if err := r.profile(ctx, d, srv, s); err != nil {
				r.log.Warn("profile failed", "scenario", s.Name, "err", err)
			}
		}
	}
	return nil
}

// measure runs one round of a scenario, again when other work disturbed it (up to
// Retries times), and keeps the least disturbed attempt.
func (r *runner) measure(ctx context.Context, d string, srv *serverProc, s Scenario, round int) error {
	best := -1
	for attempt := 1; attempt <= 1+r.cfg.Retries; attempt++ {
		waited, quiet := r.waitQuiet(ctx)
		var rec Record
		res, err := r.wrk(ctx, d, srv, s, r.cfg.Duration, &rec)
		if err != nil {
			return fmt.Errorf("%s round %d: %w", s.Name, round, err)
		}
		rec.Dialect, rec.Scenario, rec.Group, rec.Kind, rec.Round, rec.Attempt = d, s.Name, s.Group, s.Kind, round, attempt
		rec.Res, rec.Waited, rec.QuietTimedOut = res, waited, !quiet
		rec.Clean = rec.Outsiders <= r.cfg.DirtyLimit
		r.records = append(r.records, rec)
		i := len(r.records) - 1
		if best < 0 || rec.Outsiders < r.records[best].Outsiders {
			best = i
		}
		r.log.Info("run", "dialect", d, "scenario", s.Name, "round", round, "attempt", attempt,
			"rps", math.Round(res.RPS()), "p99ms", float64(res.P99US)/1000, "non2xx", res.Status, "sockErr", res.SocketErrors(),
			"serverUsPerReq", round1(usPerReq(rec.ServerCPU, res.Requests)), "outsiders", round2(rec.Outsiders), "clean", rec.Clean)
		if s.Group == "insert" {
			r.insert[d] = max(r.insert[d], res.RPS())
		}
		if attempt > 1 {
			r.waited += r.cfg.Duration
		}
		if rec.Clean || r.waited >= r.cfg.QuietBudget {
			break
		}
	}
	r.records[best].Kept = true
	return nil
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
func round2(f float64) float64 { return math.Round(f*100) / 100 }

func usPerReq(secs float64, reqs int64) float64 {
	if reqs <= 0 {
		return 0
	}
	return secs * 1e6 / float64(reqs)
}

// wrk runs one wrk invocation of s for dur and, when rec is not nil, fills in the CPU
// figures of the run.
func (r *runner) wrk(ctx context.Context, d string, srv *serverProc, s Scenario, dur time.Duration, rec *Record) (wrkResult, error) {
	var from int64
	if s.Prep {
		var err error
		if from, err = r.prep(ctx, d, srv, dur); err != nil {
			return wrkResult{}, err
		}
	}
	script := filepath.Join(r.cfg.Work, "lua", d+"_"+s.Name+".lua")
	os.MkdirAll(filepath.Dir(script), 0o755)
	if err := os.WriteFile(script, []byte(luaScript(s, from, r.cfg.Threads, 42)), 0o644); err != nil {
		return wrkResult{}, err
	}
	w := wrkRun{bin: r.cfg.Wrk, threads: r.cfg.Threads, conns: r.cfg.Conns, duration: dur, url: srv.base + s.Path,
		script: script, log: filepath.Join(r.cfg.Out, "wrk-"+d+".log")}
	before, err := r.proc.sample()
	if err != nil {
		return wrkResult{}, err
	}
	res, wrkCPU, err := w.runWithUsage(ctx)
	if err != nil {
		return res, err
	}
	after, err := r.proc.sample()
	if err != nil {
		return res, err
	}
	if rec != nil {
		rec.ServerCPU = procSeconds(before, after, srv.pid)
		rec.MachineCPU = machineCores(before, after) * after.at.Sub(before.at).Seconds()
		secs := after.at.Sub(before.at).Seconds()
		rec.Outsiders = max(0, outsiderCores(before, after)-wrkCPU/secs)
	}
	return res, nil
}

// runWithUsage runs wrk and also returns the CPU seconds wrk used (its rusage: wrk has
// exited, and left /proc, by the time the runner samples again).
func (w wrkRun) runWithUsage(ctx context.Context) (wrkResult, float64, error) {
	var cpu float64
	w.onExit = func(user, sys time.Duration) { cpu = (user + sys).Seconds() }
	res, err := w.run(ctx)
	return res, cpu, err
}

// prep asks the server for fresh tst_item rows for an update or delete run of dur: twice
// what the fastest insert run of this dialect would use, at least 50,000.
func (r *runner) prep(ctx context.Context, d string, srv *serverProc, dur time.Duration) (int64, error) {
	rate := r.insert[d]
	if rate == 0 {
		rate = 40_000
	}
	n := int64(math.Ceil(2 * rate * (dur.Seconds() + 1)))
	n = min(max(n, 50_000), perfapp.MaxPrep)
	body, err := post(ctx, srv.base+"/_perf/prep", fmt.Sprintf(`{"n":%d}`, n), 5*time.Minute)
	if err != nil {
		return 0, fmt.Errorf("prep %d rows: %w", n, err)
	}
	var out struct{ From int64 }
	if err := json.Unmarshal(body, &out); err != nil || out.From == 0 {
		return 0, fmt.Errorf("prep answered %s", body)
	}
	return out.From, nil
}

// waitQuiet waits until other work uses less than QuietLimit cores (measured over one
// second, the server idle), or QuietMax has passed. It reports how long it waited and
// whether the machine was quiet.
func (r *runner) waitQuiet(ctx context.Context) (time.Duration, bool) {
	start := time.Now()
	defer func() { r.waited += time.Since(start) }()
	logged := time.Time{}
	for {
		a, err := r.proc.sample()
		if err != nil {
			return 0, false
		}
		select {
		case <-ctx.Done():
			return time.Since(start), false
		case <-time.After(time.Second):
		}
		b, err := r.proc.sample()
		if err != nil {
			return 0, false
		}
		o := outsiderCores(a, b)
		if o < r.cfg.QuietLimit {
			return time.Since(start), true
		}
		if time.Since(start) >= r.cfg.QuietMax || r.waited+time.Since(start) >= r.cfg.QuietBudget {
			r.log.Warn("the machine did not get quiet; measuring anyway (the run is marked)", "outsiders", round2(o),
				"waited", time.Since(start).Round(time.Second), "budgetLeft", max(0, r.cfg.QuietBudget-r.waited-time.Since(start)).Round(time.Second))
			return time.Since(start), false
		}
		if time.Since(logged) > 15*time.Second {
			r.log.Info("waiting for a quiet machine", "outsiders", round2(o), "limit", r.cfg.QuietLimit)
			logged = time.Now()
		}
	}
}

// profile runs s once more while the server records a CPU profile.
func (r *runner) profile(ctx context.Context, d string, srv *serverProc, s Scenario) error {
	dir := filepath.Join(r.cfg.Out, "profiles")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	secs := max(1, int(r.cfg.Duration.Seconds())-1)
	type result struct {
		body []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		status, body, err := get(ctx, srv.base+"/debug/pprof/profile?seconds="+strconv.Itoa(secs), time.Duration(secs+30)*time.Second)
		if err == nil && status != 200 {
			err = fmt.Errorf("status %d: %s", status, tail(body, 200))
		}
		done <- result{body, err}
	}()
	res, err := r.wrk(ctx, d, srv, s, r.cfg.Duration, nil)
	p := <-done
	if err != nil {
		return err
	}
	if p.err != nil {
		return p.err
	}
	file := filepath.Join(dir, d+"_"+s.Name+".pprof")
	r.log.Info("profile", "scenario", s.Name, "file", file, "rps", math.Round(res.RPS()))
	return os.WriteFile(file, p.body, 0o644)
}

func countInLog(path string, needles ...string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n := 0
	for _, s := range needles {
		n += strings.Count(string(data), s)
	}
	return n
}
