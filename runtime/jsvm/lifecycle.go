package jsvm

import (
	"context"

	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/store"
)

// App lifecycle events. Models subscribe with App.on(event, fn) at load time (module top
// level or domainIsLoaded); the server emits them with Pool.EmitAppEvent. UnityBase has
// no such server events; they are ubgo's.
//
// Each worker evaluates the models' code, so each has its own listeners; these events
// run once per application generation, on one worker borrowed from the pool, as the
// system user (root) inside a transaction of their own that is committed when every
// listener returns and rolled back when one throws. They are for work with the database
// or with state shared through App.globalCachePut, not for per-worker set-up (do that at
// module load or on domainIsLoaded, which every worker runs).
const (
	// AppEventReady fires once the generation serves requests: after the server
	// listens, or after a reload swapped the generation in.
	AppEventReady = "ready"
	// AppEventShutdown fires when the generation is retired, after its in-flight
	// requests have finished and before its pool and databases close: on shutdown, and
	// on a reload for the generation it replaces. It runs under the shutdown hook
	// timeout; a listener that outlives it is interrupted.
	AppEventShutdown = "shutdown"
	// AppEventError fires for an unhandled failure (a request that panicked or answered
	// 500 with an error that is not a <<<...>>> message, a failing hook, background
	// work). Argument: {source, message, generation, time, request: {id, method, path,
	// user, remoteIP, status}} (request is absent outside requests). It runs after the
	// response was sent, so a listener cannot change it; a listener that throws is
	// logged.
	AppEventError = "error"
)

// EmitAppEvent runs App.emit(event, args...) on a worker of the pool as the system user,
// inside a transaction of PoolOptions.Store when there is one (committed when every
// listener returns). It borrows no worker when no model listens to event. Arguments are
// converted as endpoint values are (maps become objects, time.Time a Date).
func (p *Pool) EmitAppEvent(ctx context.Context, event string, args ...any) error {
	if !p.prog.HasAppListeners(event) {
		return nil
	}
	w, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	defer p.Release(w)
	var tx *store.Tx
	if p.opts.Store != nil {
		tx = p.opts.Store.Begin(store.System)
		defer tx.Rollback()
	}
	err = w.guard(ctx, store.System, tx, func() error {
		vals := make([]goja.Value, 0, 1+len(args))
		vals = append(vals, w.vm.ToValue(event))
		for _, a := range args {
			vals = append(vals, w.toJS(a))
		}
		_, err := w.api.emit(w.api.app, vals...)
		return err
	})
	if err != nil {
		return err
	}
	if tx != nil {
		return tx.Commit()
	}
	return nil
}

// GlobalCachePut stores a value that every worker of the program reads with
// App.globalCacheGet(key). It is the Go side of App.globalCachePut, for Go code that
// shares state with the models. The cache belongs to the Program: a reloaded
// application starts with an empty one.
func (p *Program) GlobalCachePut(key, value string) { p.globalCache.Store(key, value) }

// GlobalCacheGet reads what App.globalCachePut or GlobalCachePut stored under key.
func (p *Program) GlobalCacheGet(key string) (string, bool) {
	v, ok := p.globalCache.Load(key)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}
