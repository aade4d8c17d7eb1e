package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ubgo/ubgo/internal/app"
	"github.com/ubgo/ubgo/internal/gctune"
	"github.com/ubgo/ubgo/lifecycle"
	"github.com/ubgo/ubgo/server"
)

// forceGrace is how long a forced shutdown (the second SIGINT/SIGTERM) may take before
// the process exits without finishing it.
const forceGrace = 5 * time.Second

// exitNow ends the process when even the forced shutdown hangs; tests replace it.
var exitNow = os.Exit

// runServe runs `ubgo serve`.
//
// Signals: SIGINT or SIGTERM starts the graceful shutdown (/ready answers 503, the
// listener closes, in-flight requests get -shutdown-timeout to finish, shutdown hooks
// run, the pool and the databases close; exit 0, or 1 when requests had to be cut off).
// A second SIGINT/SIGTERM forces it: running requests are cancelled, remaining hooks are
// skipped, the databases still close, exit 1; if even that takes longer than 5 seconds
// the process exits with 1 at once. SIGHUP reloads the configuration and the models
// into a new generation (a failure keeps the running one and is logged).
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) exitCode {
	var af appFlags
	fs := newFlagSet("serve", stderr)
	af.register(fs)
	fs.Lookup("log-level").DefValue = "info"
	af.logLevel = "info"
	addr := fs.String("addr", "", "listen `address` (default from httpServer.host and httpServer.port)")
	dev := fs.Bool("dev", false, "development mode: clients see the text of unexpected errors")
	devAdmin := fs.Bool("dev-anonymous-admin", false, "LOCAL DEVELOPMENT ONLY: run requests without a session as the admin user (until authentication is built)")
	maxBody := fs.Int64("max-body", server.DefaultMaxBodyBytes, "largest request body in `bytes`")
	watch := fs.Bool("watch", false, "development: reload when the configuration or the models' files change (polls every -watch-interval)")
	watchInterval := fs.Duration("watch-interval", time.Second, "how often -watch looks for changes")
	shutdownTimeout := fs.Duration("shutdown-timeout", server.ShutdownTimeout, "on SIGINT/SIGTERM (and for a generation replaced by a reload), how long in-flight requests may still run")
	drainDelay := fs.Duration("drain-delay", 0, "on SIGINT/SIGTERM, answer /ready with 503 and keep accepting for this long before closing the listener, so load balancers can react")
	sessionCache := fs.Duration("session-cache", 2*time.Second, "PostgreSQL: how long a session read from the database is reused (logouts reach every process at once by NOTIFY); 0 reads it on every request")
	hookTimeout := fs.Duration("hook-timeout", lifecycle.DefaultHookTimeout, "time limit of each ready and shutdown hook of the models")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	log, err := af.logger(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "ubgo serve:", err)
		return 2
	}

	if tuner, err := startGCTuning(os.LookupEnv, log); err != nil {
		fmt.Fprintln(stderr, "ubgo serve:", err)
		return 2
	} else if tuner != nil {
		defer tuner.Stop()
	}

	// Registered before the start: a SIGHUP during it must not kill the process (its
	// default action), and a SIGINT/SIGTERM is acted on once the server runs.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	a, err := app.Start(ctx, app.Options{
		ConfigFile: af.cfg, EnvFile: af.env, Logger: log, Addr: *addr,
		Dev: *dev, DevAnonymousAdmin: *devAdmin, MaxBodyBytes: *maxBody,
		ShutdownTimeout: *shutdownTimeout, DrainDelay: *drainDelay, HookTimeout: *hookTimeout, SessionCache: *sessionCache,
		AdminPassword: os.Getenv("UBGO_ADMIN_PASSWORD"), Stderr: stderr,
		Mount: mountPerf, // nil unless built with -tags perf
	})
	if err != nil {
		var pe *lifecycle.PhaseError
		if errors.As(err, &pe) {
			fmt.Fprintf(stderr, "ubgo serve: the %s phase failed\n", pe.Phase)
			err = pe.Err
		}
		printErrors(stderr, err)
		return 1
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	defer close(done)
	go handleSignals(runCtx, a, sigs, stop, done, log, stderr)
	if *watch {
		go a.Watch(runCtx, *watchInterval)
	}
	err = a.Run(runCtx)
	switch {
	case err == nil:
		log.Info("stopped")
		return 0
	case errors.Is(err, app.ErrForced), errors.Is(err, server.ErrShutdownTimeout):
		log.Warn("stopped without finishing the graceful shutdown", "err", err)
		return 1
	default:
		fmt.Fprintln(stderr, "ubgo serve:", err)
		return 1
	}
}

// handleSignals turns signals into reloads and shutdowns until done closes.
func handleSignals(ctx context.Context, a *app.App, sigs <-chan os.Signal, shutdown func(), done <-chan struct{}, log *slog.Logger, stderr io.Writer) {
	stops := 0
	for {
		select {
		case <-done:
			return
		case s := <-sigs:
			if s == syscall.SIGHUP {
				log.Info("SIGHUP: reloading the configuration and the models")
				go a.Reload(ctx) // serialized by the app; logs its own failure
				continue
			}
			stops++
			if stops == 1 {
				log.Info("signal received: shutting down gracefully (send it again to force)", "signal", s.String())
				shutdown()
				continue
			}
			log.Warn("second signal: forcing the shutdown", "signal", s.String())
			a.Abort()
			go func() {
				t := time.NewTimer(forceGrace)
				defer t.Stop()
				select {
				case <-done:
				case <-t.C:
					fmt.Fprintln(stderr, "ubgo serve: the forced shutdown did not finish; exiting")
					exitNow(1)
				}
			}()
		}
	}
}

// startGCTuning starts internal/gctune as gcTuning decides, and logs the decision.
func startGCTuning(lookupEnv func(string) (string, bool), log *slog.Logger) (*gctune.Tuner, error) {
	opts, why, err := gcTuning(lookupEnv)
	if err != nil {
		return nil, err
	}
	if opts.MinHeap == 0 {
		log.Info("garbage collector: heap headroom tuning off", "why", why)
		return nil, nil
	}
	log.Info("garbage collector: heap headroom tuning", "min_heap_mib", opts.MinHeap>>20, "base_gogc", opts.Base)
	return gctune.Start(opts), nil
}

// gcTuning reads the environment: UBGO_GC_MIN_HEAP sets the headroom ("64MiB" by
// default, "off" turns tuning off). An operator's own GOGC turns it off too, unless
// UBGO_GC_MIN_HEAP is set as well: then that GOGC is the base percentage. A zero MinHeap
// means no tuning, and why says which setting decided it.
func gcTuning(lookupEnv func(string) (string, bool)) (opts gctune.Options, why string, err error) {
	opts = gctune.Options{MinHeap: gctune.DefaultMinHeap, Base: gctune.DefaultBase}
	v, set := lookupEnv("UBGO_GC_MIN_HEAP")
	if set {
		if opts.MinHeap, err = gctune.ParseSize(v); err != nil {
			return gctune.Options{}, "", fmt.Errorf("UBGO_GC_MIN_HEAP: %w", err)
		}
		if opts.MinHeap == 0 {
			return opts, "UBGO_GC_MIN_HEAP=" + v, nil
		}
	}
	if gogc, ok := lookupEnv("GOGC"); ok {
		n, convErr := strconv.Atoi(strings.TrimSpace(gogc))
		switch {
		case !set:
			return gctune.Options{}, "GOGC is set", nil
		case convErr != nil || n <= 0:
			return gctune.Options{}, "GOGC=" + gogc, nil
		}
		opts.Base = n
	}
	return opts, "", nil
}
