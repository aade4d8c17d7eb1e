package perfapp

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"

	"github.com/ubgo/ubgo/internal/app"
	"github.com/ubgo/ubgo/server"
	"github.com/ubgo/ubgo/store"
)

// App is an application started exactly as the perf build of `ubgo serve` starts it
// (internal/app: the phases, the worker pool, security, the server, and Mount as
// Options.Mount), serving on a listener of its own. Tests and benchmarks use it through
// ServeHTTP.
type App struct {
	App    *app.App
	Store  *store.Store   // of the current generation
	Server *server.Server // of the current generation, with the perf endpoints

	cancel context.CancelFunc
	done   chan error
}

// OpenOptions adjust Open.
type OpenOptions struct {
	App app.Options // ConfigFile, LookupEnv, Dev, DevAnonymousAdmin, Addr or Listener...; Mount is set
	// Local listens on a free port of 127.0.0.1 when neither App.Addr nor App.Listener is
	// set (tests).
	Local bool
}

// Open starts the application with the perf endpoints and serves until Close. The
// perf application has no authentication, so App.DevAnonymousAdmin is what lets /ubql
// run; the database should have been loaded (LoadApp) before.
func Open(ctx context.Context, opt OpenOptions) (*App, error) {
	o := opt.App
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Mount = Mount
	if opt.Local && o.Listener == nil && o.Addr == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		o.Listener = ln
	}
	started, err := app.Start(ctx, o)
	if err != nil {
		if o.Listener != nil {
			o.Listener.Close()
		}
		return nil, err
	}
	g := started.Current()
	a := &App{App: started, Store: g.Store, Server: g.Server, done: make(chan error, 1)}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel
	go func() { a.done <- started.Run(runCtx) }()
	return a, nil
}

// Wait blocks until the application has stopped (after Close) and returns Run's error.
func (a *App) Wait() error {
	err := <-a.done
	a.done <- err // for the next Wait or Close
	return err
}

// ServeHTTP serves a request as the application's listener would.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.App.ServeHTTP(w, r) }

// Close shuts the application down gracefully and releases everything it opened.
func (a *App) Close() error {
	a.cancel()
	err := a.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
