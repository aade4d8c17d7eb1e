// Command perfctl drives ubgo's performance harness (scripts/perf.sh calls it; see
// docs/performance.md).
//
//	perfctl run [flags]                   measure every scenario and write the reports
//	perfctl load -cfg FILE [-fresh]       bring a perf database to its starting state
//	perfctl gendomain -n N -out DIR       write a generated application of N entities
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/internal/perfapp"
	"github.com/ubgo/ubgo/internal/perfapp/runner"
	"github.com/ubgo/ubgo/internal/synth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: perfctl run|load|gendomain [flags]  (perfctl <command> -h for the flags)")
		return 2
	}
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"run": runCmd, "load": loadCmd, "gendomain": genCmd,
	}
	f, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "perfctl: unknown command %q\n", args[0])
		return 2
	}
	if err := f(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var usage usageError
		if errors.As(err, &usage) {
			fmt.Fprintln(stderr, "perfctl "+args[0]+":", err)
			return 2
		}
		fmt.Fprintln(stderr, "perfctl "+args[0]+":", err)
		return 1
	}
	return 0
}

type usageError struct{ error }

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

func logger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Errorf("-log-level: %w", err)}
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("perfctl run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg runner.Config
	quick := fs.Bool("quick", false, "smoke check: 1 round of 3 s per scenario, 1 s warm-up, short waits for quiet, one start per domain size")
	fs.StringVar(&cfg.Out, "out", "", "output `folder` (default perf/results/<UTC date-time>)")
	fs.StringVar(&cfg.Work, "work", "", "`folder` for the databases, generated domains and scripts (default <out>/work)")
	fs.StringVar(&cfg.AppDir, "app", "perf", "the perf application `folder`")
	fs.StringVar(&cfg.Server, "server", "", "the ubgo `binary` built with -tags perf (required)")
	fs.StringVar(&cfg.Wrk, "wrk", "wrk", "wrk `binary`")
	dialects := fs.String("dialects", "sqlite,pg", "`list` of dialects to measure, in order: sqlite, pg")
	fs.StringVar(&cfg.PGURL, "pg-url", "postgres://postgres@127.0.0.1:5432/ubgo_perf?sslmode=disable&search_path=perf", "`URL` of the perf PostgreSQL database; its schema (search_path) is dropped and recreated")
	only := fs.String("only", "", "comma-separated scenario groups or names to run (default all): json, byid, list20, queries20, fortunes, insert, update, delete")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "length of one measured run")
	fs.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "warm-up run per scenario")
	fs.IntVar(&cfg.Rounds, "rounds", 2, "measured rounds per scenario")
	fs.IntVar(&cfg.Threads, "threads", 2, "wrk threads")
	fs.IntVar(&cfg.Conns, "conns", 64, "wrk connections")
	fs.Float64Var(&cfg.QuietLimit, "quiet-limit", 0.1, "start a run only when other work uses fewer `cores` than this")
	fs.Float64Var(&cfg.DirtyLimit, "dirty-limit", 0.05, "a run during which other work used more `cores` is disturbed and retried")
	fs.DurationVar(&cfg.QuietMax, "quiet-max", 2*time.Minute, "longest wait for a quiet machine before one run goes ahead (marked noisy)")
	fs.DurationVar(&cfg.QuietBudget, "quiet-budget", 20*time.Minute, "all waiting for quiet and all retries of the suite together; once spent, runs go ahead (marked noisy)")
	fs.IntVar(&cfg.Retries, "retries", 2, "extra attempts of a disturbed run")
	profile := fs.String("profile", "", "comma-separated scenarios to CPU-profile in one extra run each (e.g. raw_byid,ubql_byid)")
	startup := fs.String("startup", "10,100,1000", "comma-separated generated domain sizes for the startup and memory goals (\"\" to skip)")
	fs.IntVar(&cfg.StartupRuns, "startup-runs", 3, "timed starts per domain size")
	fs.DurationVar(&cfg.LoadRun, "load-run", 10*time.Second, "load on a generated domain before its peak RSS is read")
	security := fs.String("security", "on", "on: the server's security layer checks every request (the anonymous user of \"authentication not used\"); off: -dev-anonymous-admin")
	fs.BoolVar(&cfg.Gate, "gate", os.Getenv("PERF_GATE") == "1", "exit 1 when a must goal fails (default from PERF_GATE=1)")
	if err := parse(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	cfg.Mode = "full"
	if *quick {
		cfg.Mode = "quick"
		defaults := map[string]func(){
			"duration":     func() { cfg.Duration = 3 * time.Second },
			"warmup":       func() { cfg.Warmup = time.Second },
			"rounds":       func() { cfg.Rounds = 1 },
			"quiet-max":    func() { cfg.QuietMax = 3 * time.Second },
			"quiet-budget": func() { cfg.QuietBudget = 2 * time.Minute },
			"retries":      func() { cfg.Retries = 0 },
			"startup-runs": func() { cfg.StartupRuns = 1 },
			"load-run":     func() { cfg.LoadRun = 3 * time.Second },
		}
		for name, apply := range defaults {
			if !set[name] {
				apply()
			}
		}
	}
	switch *security {
	case "on":
		cfg.Security = true
	case "off":
	default:
		return usageError{fmt.Errorf("-security: %q is neither on nor off", *security)}
	}
	if cfg.Server == "" {
		return usageError{errors.New("-server is required: the ubgo binary built with -tags perf")}
	}
	if cfg.Rounds < 1 || cfg.Threads < 1 || cfg.Conns < cfg.Threads || cfg.Duration < time.Second || cfg.Retries < 0 {
		return usageError{errors.New("need -rounds ≥ 1, -threads ≥ 1, -conns ≥ -threads, -duration ≥ 1s and -retries ≥ 0")}
	}
	for _, d := range splitList(*dialects) {
		if d != runner.SQLite && d != runner.Postgres {
			return usageError{fmt.Errorf("-dialects: unknown dialect %q (sqlite, pg)", d)}
		}
		cfg.Dialects = append(cfg.Dialects, d)
	}
	if len(cfg.Dialects) == 0 {
		return usageError{errors.New("-dialects is empty")}
	}
	if strings.Contains(*dialects, runner.Postgres) {
		db, err := databaseOf(cfg.PGURL)
		if err != nil {
			return usageError{err}
		}
		cfg.PGDB = db
	}
	cfg.Only = splitList(*only)
	cfg.Profile = splitList(*profile)
	for _, s := range splitList(*startup) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return usageError{fmt.Errorf("-startup: %q is not a positive number", s)}
		}
		cfg.StartupN = append(cfg.StartupN, n)
	}
	if cfg.Out == "" {
		cfg.Out = filepath.Join(cfg.AppDir, "results", time.Now().UTC().Format("2006-01-02T150405Z"))
	}
	var err error
	if cfg.Out, err = filepath.Abs(cfg.Out); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "perfctl: writing to", cfg.Out)
	err = runner.Run(ctx, cfg, stderr)
	fmt.Fprintln(stdout, "perfctl: reports in", cfg.Out, "(ratios.md, summary.tsv, runs.tsv, machine.txt)")
	return err
}

// databaseOf is the database name of a postgres:// URL.
func databaseOf(u string) (string, error) {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return "", fmt.Errorf("-pg-url %q is not a postgres:// URL", u)
	}
	_, rest, _ = strings.Cut(rest, "/")
	db, _, _ := strings.Cut(rest, "?")
	if db == "" {
		return "", fmt.Errorf("-pg-url %q names no database", u)
	}
	return db, nil
}

func loadCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("perfctl load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgFile := fs.String("cfg", "perf/ubconfig.sqlite.json", "the perf application's config `file`")
	fresh := fs.Bool("fresh", false, "remove the database first (the SQLite file, or the PostgreSQL schema)")
	force := fs.Bool("force", false, "reload World and Fortune even when they hold the expected rows")
	keep := fs.Bool("keep-items", false, "keep the tst_item rows of earlier runs")
	level := fs.String("log-level", "warn", "log `level`")
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := logger(stderr, *level)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := perfapp.LoadApp(ctx, boot.Options{ConfigFile: *cfgFile, Logger: log}, *fresh,
		perfapp.LoadOptions{Force: *force, KeepItems: *keep})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loaded %s: %d worlds, %d fortunes written, items emptied: %t (%s)\n", *cfgFile, res.Worlds, res.Fortunes,
		res.ItemsDeleted, time.Since(start).Round(time.Millisecond))
	return nil
}

func genCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("perfctl gendomain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 100, "number of entities")
	out := fs.String("out", "", "output `folder` (required; its generated files are replaced)")
	attrs := fs.Int("attributes", 10, "attributes per entity")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{errors.New("-out is required")}
	}
	e, a, err := synth.Generate(*out, synth.Options{Entities: *n, Attributes: *attrs, JSModules: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "generated %s: %d entities, %d attributes, a JS module per entity; serve it with: ubgo serve -cfg %s -dev-anonymous-admin\n",
		*out, e, a, filepath.Join(*out, "ubconfig.json"))
	return nil
}
