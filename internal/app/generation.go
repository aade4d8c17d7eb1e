package app

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ubgo/ubgo/config"
	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/lifecycle"
	"github.com/ubgo/ubgo/runtime/jsvm"
	"github.com/ubgo/ubgo/security"
	"github.com/ubgo/ubgo/server"
	"github.com/ubgo/ubgo/store"
)

// Generation is everything built from one reading of the configuration and the models.
// Its fields are set by the phases and never change afterwards.
type Generation struct {
	N       int64     // 1 for the first start, then one more per successful reload
	Started time.Time // when it was built
	Phases  []lifecycle.Phase

	Config  *config.Config
	Domain  *domain.Domain
	Store   *store.Store
	Program *jsvm.Program
	Pool    *jsvm.Pool
	Server  *server.Server
	// Security authenticates requests; nil when -dev-anonymous-admin turned it off.
	Security *security.Service

	app   *App
	log   *slog.Logger // carries gen=N
	seq   *lifecycle.Sequence
	hooks *lifecycle.Hooks // the models' App 'ready' / 'shutdown' / 'error' listeners

	// Filled by the phases before the server phase builds the handler.
	serverOpts server.Options
	els        jsvm.ELSFunc // entity-level security; nil allows everything

	live      atomic.Bool  // it has been the current generation (its shutdown listeners run)
	refs      atomic.Int64 // requests holding the generation
	retired   atomic.Bool
	drained   chan struct{} // closed once retired with no request left
	drainOnce sync.Once
	closed    chan struct{}
	closeOnce sync.Once
}

// build runs the phases config → domain → store → runtime → security → server. first
// marks the start of the process: only then may the store create and initialize the
// database. The caller holds reloadMu.
func (a *App) build(ctx context.Context, first bool) (*Generation, error) {
	n := a.lastGen + 1
	log := a.log.With("gen", n)
	g := &Generation{N: n, app: a, log: log, seq: lifecycle.NewSequence(log, a.now), hooks: lifecycle.New(log),
		drained: make(chan struct{}), closed: make(chan struct{})}
	err := g.runPhases(ctx, first)
	g.Phases = g.seq.Phases()
	g.Started = a.now()
	if err != nil {
		g.seq.Cleanup()
		g.hooks.Close(context.Background())
		close(g.closed)
		return nil, err
	}
	return g, nil
}

func (g *Generation) runPhases(ctx context.Context, first bool) error {
	a := g.app
	bo := a.bootOptions(g.log)
	if err := g.seq.Run("config", func() (err error) {
		g.Config, err = boot.LoadConfig(bo)
		return err
	}); err != nil {
		return err
	}
	if err := g.seq.Run("domain", func() (err error) {
		g.Domain, err = boot.BuildDomain(ctx, g.Config, bo)
		return err
	}); err != nil {
		return err
	}
	if err := g.seq.Run("store", func() error { return g.storePhase(ctx, first) }); err != nil {
		return err
	}
	if err := g.seq.Run("runtime", func() error { return g.runtimePhase(ctx) }); err != nil {
		return err
	}
	if err := g.seq.Run("security", func() error { return a.securityPhase(ctx, g) }); err != nil {
		return err
	}
	return g.seq.Run("server", func() error { return g.serverPhase() })
}

func (g *Generation) storePhase(ctx context.Context, first bool) error {
	st, err := store.Open(ctx, g.Config, g.Domain, store.Options{Create: first, Logger: g.log})
	if err != nil {
		return err
	}
	g.Store = st
	g.seq.OnCleanup("databases", st.Close)
	return prepareDatabase(ctx, st, g.log, first, g.app.opts.AdminPassword, g.app.opts.Stderr)
}

func (g *Generation) runtimePhase(ctx context.Context) error {
	prog, err := jsvm.Load(ctx, g.Domain, g.Config, g.log)
	if err != nil {
		return err
	}
	g.Program = prog
	g.Pool = jsvm.NewPool(prog, jsvm.PoolOptions{
		Size:        poolSize(g.Config, g.Store),
		WaitTimeout: seconds(g.Config.HTTPServer.Timeouts.RequestQueue),
		Store:       g.Store,
		// The security phase, which runs after this one, sets g.els.
		ELS: func(sess *store.Session, entity, method string) bool {
			return g.els == nil || g.els(sess, entity, method)
		},
	})
	g.seq.OnCleanup("worker pool", func() error { g.Pool.Close(); return nil })
	g.log.Info("worker pool", "size", g.Pool.Stats().Size, "endpoints", len(prog.Endpoints()))
	return nil
}

func (g *Generation) serverPhase() error {
	a := g.app
	o := g.serverOpts
	o.Dispatcher = &jsvm.Dispatcher{Store: g.Store, Pool: g.Pool, Allow: g.els, OnDenied: g.denied}
	o.Dev, o.DevAnonymousAdmin, o.MaxBodyBytes = a.opts.Dev, a.opts.DevAnonymousAdmin, a.opts.MaxBodyBytes
	o.EntityMethods = func(e *domain.Entity) []string { return g.Program.Methods(e.Name) }
	o.Stats = func() map[string]any { return a.stats(g) }
	o.OnError = g.reportError
	srv, err := server.NewWithOptions(g.Config, g.Domain, g.log, o)
	if err != nil {
		return err
	}
	g.Server = srv
	g.seq.OnCleanup("server", srv.Close)
	if err := srv.MountJS(g.Pool, g.Store); err != nil {
		return err
	}
	if a.opts.Mount != nil {
		if err := a.opts.Mount(srv, g.Store); err != nil {
			return err
		}
	}
	g.registerModelHooks()
	return nil
}

// registerModelHooks turns the models' App 'ready', 'shutdown' and 'error' listeners
// into hooks of the generation.
func (g *Generation) registerModelHooks() {
	timeout := g.app.opts.HookTimeout
	if g.Program.HasAppListeners(jsvm.AppEventReady) {
		g.hooks.OnReady("App 'ready' listeners", timeout, func(ctx context.Context) error {
			return g.Pool.EmitAppEvent(ctx, jsvm.AppEventReady)
		})
	}
	if g.Program.HasAppListeners(jsvm.AppEventShutdown) {
		g.hooks.OnShutdown("App 'shutdown' listeners", timeout, func(ctx context.Context) error {
			return g.Pool.EmitAppEvent(ctx, jsvm.AppEventShutdown)
		})
	}
	if g.Program.HasAppListeners(jsvm.AppEventError) {
		g.hooks.OnError("App 'error' listeners", func(ctx context.Context, ev lifecycle.ErrorEvent) {
			if err := g.Pool.EmitAppEvent(ctx, jsvm.AppEventError, ev.Fields()); err != nil {
				g.log.Error("an App 'error' listener failed", "err", err)
			}
		})
	}
}

// reportError hands a request's unhandled failure to the Go error hooks and to the
// generation's models.
func (g *Generation) reportError(ev lifecycle.ErrorEvent) {
	ev.Generation = g.N
	g.app.hooks.Report(ev)
	g.hooks.Report(ev)
}

// ready runs the models' App 'ready' listeners; a failure goes to the Go error hooks
// too (the models' error listeners already have it). The listeners hold the generation
// like a request does, so a reload right after the start cannot close the pool under
// them.
func (g *Generation) ready(ctx context.Context) {
	if !g.enter() {
		return
	}
	defer g.leave()
	if err := g.hooks.Ready(ctx); err != nil {
		g.app.hooks.Report(lifecycle.ErrorEvent{Source: lifecycle.SourceReady, Err: err, Generation: g.N})
	}
}

// poolSize is httpServer.threadPoolSize when the configuration sets it, else the larger
// of GOMAXPROCS and the default connection's pool: a worker per request that can reach
// the database at once.
func poolSize(cfg *config.Config, st *store.Store) int {
	if hs, ok := cfg.Raw["httpServer"].(map[string]any); ok {
		if _, set := hs["threadPoolSize"]; set && cfg.HTTPServer.ThreadPoolSize > 0 {
			return cfg.HTTPServer.ThreadPoolSize
		}
	}
	n := runtime.GOMAXPROCS(0)
	if c := st.Default(); c != nil && c.Read != nil {
		n = max(n, c.Read.Stats().MaxOpenConnections)
	}
	return n
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// enter registers a request on the generation; false when it is retired (the caller
// takes the current generation instead).
func (g *Generation) enter() bool {
	g.refs.Add(1)
	if g.retired.Load() {
		g.leave()
		return false
	}
	return true
}

func (g *Generation) leave() {
	if g.refs.Add(-1) == 0 && g.retired.Load() {
		g.drainOnce.Do(func() { close(g.drained) })
	}
}

// retire stops the generation from taking requests; drained closes when the last one
// has left. (The order of the atomic operations in enter, leave and retire guarantees
// that no request enters after drained is closed.)
func (g *Generation) retire() {
	g.retired.Store(true)
	if g.refs.Load() == 0 {
		g.drainOnce.Do(func() { close(g.drained) })
	}
}

// InFlight is the number of requests the generation is serving.
func (g *Generation) InFlight() int64 { return g.refs.Load() }

// Done is closed when the generation has been closed.
func (g *Generation) Done() <-chan struct{} { return g.closed }

// close runs the models' shutdown listeners, delivers the error events still queued,
// and undoes the phases (server folders, pool, databases). ctx ends when the shutdown
// is forced.
func (g *Generation) close(ctx context.Context) {
	g.closeOnce.Do(func() {
		// A generation that never served (its listener failed) has nothing to shut down
		// for the models.
		if g.live.Load() {
			if err := g.hooks.Shutdown(ctx); err != nil {
				g.app.hooks.Report(lifecycle.ErrorEvent{Source: lifecycle.SourceShutdown, Err: err, Generation: g.N})
			}
		}
		fctx, cancel := context.WithTimeout(ctx, g.app.opts.HookTimeout)
		g.hooks.Close(fctx)
		cancel()
		if err := g.seq.Cleanup(); err != nil {
			g.log.Warn("closing the generation", "err", err)
		}
		g.log.Info("generation closed")
		close(g.closed)
	})
}

// denied records a client's call that the access matrix, an attribute restriction or a
// script's ESecurityException refused: an audit row, the /stat count and the models'
// Session 'securityViolation' listeners (through the security service's hooks).
func (g *Generation) denied(ctx context.Context, sess *store.Session, entity, method, reason string) {
	if g.Security != nil {
		g.Security.RecordViolation(ctx, sess, reason)
		return
	}
	if err := g.Pool.EmitSessionEvent(ctx, sess, jsvm.EventSecurityViolation, reason); err != nil {
		g.log.Warn("Session 'securityViolation' listener", "err", err)
	}
}
