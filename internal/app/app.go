package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/internal/gctune"
	"github.com/ubgo/ubgo/lifecycle"
	"github.com/ubgo/ubgo/security"
	"github.com/ubgo/ubgo/server"
	"github.com/ubgo/ubgo/store"
)

// Options say what to run and how.
type Options struct {
	ConfigFile string                      // see config.Options.File
	EnvFile    string                      // see config.Options.EnvFile
	LookupEnv  func(string) (string, bool) // nil: the process environment
	Logger     *slog.Logger

	// Addr is the listen address; "" means httpServer.host and port.
	Addr string
	// Listener, when set, is used instead of listening on Addr (tests pass one).
	Listener net.Listener

	Dev               bool  // see server.Options.Dev
	DevAnonymousAdmin bool  // see server.Options.DevAnonymousAdmin
	MaxBodyBytes      int64 // see server.Options.MaxBodyBytes

	// ShutdownTimeout bounds how long in-flight requests may run once the shutdown
	// begins, and how long a generation replaced by a reload may keep serving the
	// requests it had. 0 means server.ShutdownTimeout.
	ShutdownTimeout time.Duration
	// DrainDelay: see server.ServeOptions.DrainDelay.
	DrainDelay time.Duration
	// HookTimeout bounds each of the models' ready and shutdown listeners (and the Go
	// hooks registered with a zero timeout get lifecycle.DefaultHookTimeout). 0 means
	// lifecycle.DefaultHookTimeout.
	HookTimeout time.Duration
	// SessionCache is how long a process on PostgreSQL may reuse a session row it read
	// instead of reading it on every signed request; an ended session is dropped from
	// every process's cache by NOTIFY (see security.PostgresOptions.CacheFor). 0 reads
	// every time.
	SessionCache time.Duration

	// AdminPassword is the admin password the first start sets when it creates the
	// database; "" generates one, printed once on Stderr.
	AdminPassword string
	Stderr        io.Writer // nil: os.Stderr

	// Hooks receives the Go hooks; nil makes an empty registry (see App.Hooks).
	Hooks *lifecycle.Hooks
	// Mount, when set, adds endpoints of the embedding program to every generation's
	// server, after the models' endpoints (the perf build mounts its baselines here). An
	// error fails the server phase.
	Mount func(srv *server.Server, st *store.Store) error
	// Now is the clock of phase timings and uptimes; nil means time.Now.
	Now func() time.Time
}

// ErrForced is returned by Run when Abort cut the shutdown short.
var ErrForced = errors.New("shutdown forced")

// ErrShuttingDown is returned by Reload once the shutdown has begun.
var ErrShuttingDown = errors.New("the server is shutting down")

// App is a running application: the listener and the current generation.
type App struct {
	opts    Options
	log     *slog.Logger
	hooks   *lifecycle.Hooks
	now     func() time.Time
	started time.Time
	phases  []lifecycle.Phase // of Start, listen included
	ln      net.Listener

	cur atomic.Pointer[Generation]

	reloadMu sync.Mutex // serializes Reload and the start of the shutdown
	lastGen  int64      // number of the newest generation built; under reloadMu
	closing  bool       // under reloadMu

	stopCtx    context.Context // ends when the shutdown begins: a reload in progress gives up
	stopCancel context.CancelFunc
	drainOnce  sync.Once

	force     chan struct{} // closed by Abort
	forceOnce sync.Once

	sessions     security.Backend // SQLite: the memory sessions every generation shares
	sessionsOnce sync.Once

	retiring               sync.WaitGroup // generations replaced by a reload, until closed
	reloads, reloadsFailed atomic.Int64
}

// Start runs the startup phases and opens the listener. On failure it has undone what
// the completed phases did, and returns a *lifecycle.PhaseError.
func Start(ctx context.Context, opts Options) (*App, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = server.ShutdownTimeout
	}
	if opts.HookTimeout <= 0 {
		opts.HookTimeout = lifecycle.DefaultHookTimeout
	}
	a := &App{opts: opts, log: opts.Logger, hooks: opts.Hooks, now: opts.Now, force: make(chan struct{})}
	if a.hooks == nil {
		a.hooks = lifecycle.New(a.log)
	}
	a.started = a.now()
	a.stopCtx, a.stopCancel = context.WithCancel(context.Background())

	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	g, err := a.build(ctx, true)
	if err == nil {
		err = g.seq.Run("listen", func() error { return a.listen(g) })
		g.Phases = g.seq.Phases()
		if err != nil {
			g.close(context.Background())
		}
	}
	if err != nil {
		a.stopCancel()
		a.hooks.Report(lifecycle.ErrorEvent{Source: lifecycle.SourceStartup, Err: err, Time: a.now()})
		fctx, cancel := context.WithTimeout(context.Background(), opts.HookTimeout)
		a.hooks.Flush(fctx)
		cancel()
		return nil, err
	}
	a.lastGen = g.N
	a.phases = g.Phases
	g.live.Store(true)
	a.cur.Store(g)
	a.log.Info("listening", "url", "http://"+a.ln.Addr().String()+g.Config.HTTPServer.Path,
		"gen", g.N, "entities", len(g.Domain.Entities), "config", g.Config.File, "workers", g.Pool.Stats().Size,
		"startup", lifecycle.Total(a.phases), "phases", lifecycle.Format(a.phases))
	go releaseMemory()
	return a, nil
}

func (a *App) listen(g *Generation) error {
	if a.opts.Listener != nil {
		a.ln = a.opts.Listener
		return nil
	}
	addr := a.opts.Addr
	if addr == "" {
		addr = server.Addr(g.Config.HTTPServer)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	a.ln = ln
	return nil
}

// Addr is the address the server listens on.
func (a *App) Addr() net.Addr { return a.ln.Addr() }

// Hooks is the registry of Go hooks (Options.Hooks, or the one Start made).
func (a *App) Hooks() *lifecycle.Hooks { return a.hooks }

// Phases are the startup phases and their durations, listen included.
func (a *App) Phases() []lifecycle.Phase { return append([]lifecycle.Phase(nil), a.phases...) }

// Current is the generation that serves new requests.
func (a *App) Current() *Generation { return a.cur.Load() }

// Run serves until ctx ends, then shuts down gracefully (see the package doc). It
// returns nil after a clean shutdown; server.ErrShutdownTimeout when requests had to be
// cut off; ErrForced after Abort. Run is called once.
func (a *App) Run(ctx context.Context) error {
	served := make(chan error, 1)
	go func() {
		served <- server.Serve(ctx, a.ln, a, server.ServeOptions{
			Limits: server.LimitsOf(a.Current().Config.HTTPServer), Log: a.log,
			ShutdownTimeout: a.opts.ShutdownTimeout, DrainDelay: a.opts.DrainDelay,
			OnDrain: a.beginShutdown, Force: a.force,
		})
	}()
	if err := a.hooks.Ready(ctx); err != nil {
		a.log.Warn("ready hooks failed", "err", err)
	}
	a.Current().ready(ctx)
	err := <-served
	a.beginShutdown() // also when Serve failed by itself
	return a.shutdown(err)
}

// ServeHTTP serves a request on the current generation, which it holds until the
// request is done.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g := a.enterCurrent()
	if g == nil {
		// Retired and not replaced: the process is stopping.
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"success":false,"errCode":1,"errMsg":"The server is shutting down"}`)
		return
	}
	defer g.leave()
	g.Server.ServeHTTP(w, r)
}

// enterCurrent holds the current generation for a request; nil when the process is
// stopping. A generation retired between the load and the hold has been replaced: the
// next load finds its successor.
func (a *App) enterCurrent() *Generation {
	for {
		g := a.cur.Load()
		if g.enter() {
			return g
		}
		if a.cur.Load() == g {
			return nil
		}
	}
}

// beginShutdown is Serve's OnDrain: /ready answers 503 and a reload in progress gives up.
func (a *App) beginShutdown() {
	a.drainOnce.Do(func() {
		a.log.Info("shutdown begins", "gen", a.Current().N)
		a.stopCancel()
		a.Current().Server.Drain()
	})
}

// Abort forces the shutdown: see the package doc. It may be called at any time, more
// than once.
func (a *App) Abort() {
	a.forceOnce.Do(func() {
		a.log.Warn("shutdown forced")
		close(a.force)
	})
}

func (a *App) forced() bool {
	select {
	case <-a.force:
		return true
	default:
		return false
	}
}

// unwindGrace is how long requests cut off by the shutdown deadline get to return
// before their generation is closed under them.
const unwindGrace = 5 * time.Second

func (a *App) shutdown(serveErr error) error {
	a.reloadMu.Lock() // waits for a reload in progress, which stopCtx has told to give up
	a.closing = true
	a.reloadMu.Unlock()

	// hctx ends when the shutdown is forced: hooks and waits stop there.
	hctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-a.force:
			cancel()
		case <-hctx.Done():
		}
	}()

	g := a.Current()
	g.retire()
	if serveErr != nil {
		// Requests were cut off: their contexts are cancelled; let them unwind.
		t := time.NewTimer(unwindGrace)
		select {
		case <-g.drained:
		case <-t.C:
			a.log.Warn("requests still running after the shutdown deadline; closing under them", "gen", g.N, "inFlight", g.InFlight())
		case <-hctx.Done():
		}
		t.Stop()
	} else {
		select {
		case <-g.drained:
		case <-hctx.Done():
		}
	}
	waitGroup(hctx, &a.retiring)

	if err := a.hooks.Shutdown(hctx); err != nil {
		a.log.Warn("shutdown hooks failed", "err", err)
	}
	g.close(hctx)
	if a.sessions != nil {
		if err := a.sessions.Close(); err != nil {
			a.log.Warn("close the session backend", "err", err)
		}
	}
	fctx, fcancel := context.WithTimeout(hctx, a.opts.HookTimeout)
	a.hooks.Close(fctx)
	fcancel()
	if a.forced() {
		return ErrForced
	}
	return serveErr
}

// ReportError hands the failure of work outside requests (a scheduled job, a background
// task; source lifecycle.SourceBackground) to the Go error hooks and to the current
// generation's App 'error' listeners. It never blocks.
func (a *App) ReportError(source string, err error) {
	a.Current().reportError(lifecycle.ErrorEvent{Source: source, Err: err, Time: a.now()})
}

// waitGroup waits for wg or ctx.
func waitGroup(ctx context.Context, wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// Reload builds a new generation from the configuration and the models as they are now
// and swaps it in (see the package doc). On failure the current generation keeps
// serving and the error, a *lifecycle.PhaseError, is logged, reported to the error
// hooks and returned.
func (a *App) Reload(ctx context.Context) (*Generation, error) {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	if a.closing || a.stopCtx.Err() != nil {
		return nil, ErrShuttingDown
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(a.stopCtx, cancel)()

	old := a.Current()
	a.log.Info("reloading", "gen", old.N)
	g, err := a.build(ctx, false)
	if err != nil {
		a.reloadsFailed.Add(1)
		a.log.Error("reload failed; the running generation keeps serving", "gen", old.N, "err", err)
		a.hooks.Report(lifecycle.ErrorEvent{Source: lifecycle.SourceReload, Err: err, Generation: old.N, Time: a.now()})
		return nil, err
	}
	if a.stopCtx.Err() != nil { // the shutdown began while the generation was built
		g.close(context.Background())
		return nil, ErrShuttingDown
	}
	a.warnListenerChanges(old, g)
	a.lastGen = g.N
	g.live.Store(true)
	a.cur.Store(g)
	a.reloads.Add(1)
	old.Server.Drain()
	if a.stopCtx.Err() != nil {
		g.Server.Drain() // beginShutdown drained the previous one just before the swap
	}
	a.log.Info("reloaded", "gen", g.N, "previous", old.N, "duration", lifecycle.Total(g.Phases),
		"phases", lifecycle.Format(g.Phases), "entities", len(g.Domain.Entities))
	a.retiring.Add(1)
	go func() {
		defer a.retiring.Done()
		a.retire(old)
	}()
	g.ready(ctx)
	return g, nil
}

// retire waits until the last request of a replaced generation has left (at most
// ShutdownTimeout), then closes it.
func (a *App) retire(g *Generation) {
	g.retire()
	t := time.NewTimer(a.opts.ShutdownTimeout)
	defer t.Stop()
	select {
	case <-g.drained:
	case <-t.C:
		g.log.Warn("a replaced generation still has requests after the shutdown timeout; closing it under them",
			"inFlight", g.InFlight(), "timeout", a.opts.ShutdownTimeout)
	case <-a.force:
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-a.force:
			cancel()
		case <-ctx.Done():
		}
	}()
	g.close(ctx)
	releaseMemory()
}

// warnListenerChanges says which settings of the new configuration need a restart.
func (a *App) warnListenerChanges(old, g *Generation) {
	if a.opts.Addr == "" && a.opts.Listener == nil && server.Addr(old.Config.HTTPServer) != server.Addr(g.Config.HTTPServer) {
		a.log.Warn("httpServer host or port changed: the server keeps listening on "+a.ln.Addr().String()+"; restart to apply",
			"gen", g.N)
	}
	if server.LimitsOf(old.Config.HTTPServer) != server.LimitsOf(g.Config.HTTPServer) {
		a.log.Warn("httpServer.timeouts changed: they apply after a restart", "gen", g.N)
	}
	if old.Config.HTTPServer.Path != g.Config.HTTPServer.Path {
		a.log.Info("httpServer.path changed", "from", old.Config.HTTPServer.Path, "to", g.Config.HTTPServer.Path, "gen", g.N)
	}
}

// bootOptions are the options of the config and domain phases.
func (a *App) bootOptions(log *slog.Logger) boot.Options {
	return boot.Options{ConfigFile: a.opts.ConfigFile, EnvFile: a.opts.EnvFile, LookupEnv: a.opts.LookupEnv, Logger: log}
}

// stats are the figures App adds to /stat.
func (a *App) stats(g *Generation) map[string]any {
	now := a.now()
	out := map[string]any{
		"pool":                  g.Pool.Stats(),
		"generation":            g.N,
		"generation_started":    g.Started.UTC().Format(time.RFC3339),
		"generation_uptime_sec": int64(now.Sub(g.Started).Seconds()),
		"started":               a.started.UTC().Format(time.RFC3339),
		"uptime_sec":            int64(now.Sub(a.started).Seconds()),
		"startup_ms":            lifecycle.Total(a.phases).Milliseconds(),
		"reloads":               a.reloads.Load(),
		"reloads_failed":        a.reloadsFailed.Load(),
		"errors_reported":       a.hooks.ErrorStats().Delivered,
		"go":                    gctune.ReadStats(),
	}
	securityStats(g, out)
	return out
}
