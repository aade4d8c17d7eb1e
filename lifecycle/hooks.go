package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultHookTimeout bounds a hook registered with a zero timeout, and every error hook.
const DefaultHookTimeout = 10 * time.Second

// ErrorQueueSize is how many error events may wait for delivery; more are dropped.
const ErrorQueueSize = 256

// Sources of error events.
const (
	SourceRequest    = "request"    // a request answered 500
	SourcePanic      = "panic"      // a request handler panicked
	SourceBackground = "background" // work outside requests (scheduled jobs...)
	SourceReady      = "ready"      // a ready hook failed
	SourceShutdown   = "shutdown"   // a shutdown hook failed
	SourceReload     = "reload"     // a reload failed; the previous generation keeps serving
	SourceStartup    = "startup"    // a startup phase failed
)

// ErrTimeout is the cause of a hook that did not return within its timeout.
var ErrTimeout = errors.New("did not finish in time")

// ErrorEvent is an unhandled failure.
type ErrorEvent struct {
	Source     string // one of the Source constants
	Err        error
	Request    *Request // the request that failed; nil outside requests
	Generation int64    // the application generation that served it; 0 when none
	Time       time.Time
}

// Request describes the request of an error event. It is a copy: hooks run after the
// response has been sent, when the *http.Request must no longer be used.
type Request struct {
	ID       string // the request id (X-Request-Id)
	Method   string
	Path     string
	User     string // "" when the request had no session
	RemoteIP string
	Status   int
}

// Fields is the event as a plain map, for logs and for JavaScript listeners.
func (ev ErrorEvent) Fields() map[string]any {
	m := map[string]any{"source": ev.Source, "generation": ev.Generation, "time": ev.Time}
	if ev.Err != nil {
		m["message"] = ev.Err.Error()
	}
	if r := ev.Request; r != nil {
		m["request"] = map[string]any{"id": r.ID, "method": r.Method, "path": r.Path, "user": r.User,
			"remoteIP": r.RemoteIP, "status": r.Status}
	}
	return m
}

// HookError is the failure of one hook.
type HookError struct {
	Event string // "ready", "shutdown" or "error"
	Hook  string
	Err   error
}

func (e *HookError) Error() string { return fmt.Sprintf("%s hook %q: %v", e.Event, e.Hook, e.Err) }

func (e *HookError) Unwrap() error { return e.Err }

// PanicError is a hook or handler that panicked.
type PanicError struct {
	Value any
	Stack string
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Hooks is a registry of ready, shutdown and error hooks. It is safe for concurrent use.
type Hooks struct {
	log *slog.Logger

	mu       sync.Mutex
	ready    []hook
	shutdown []hook
	onError  []errorHook
	queue    chan queued // created by the first Report
	stop     chan struct{}
	stopped  chan struct{} // closed when the dispatcher has returned
	closed   bool

	delivered, dropped atomic.Int64
}

type hook struct {
	name    string
	timeout time.Duration
	fn      func(context.Context) error
}

type errorHook struct {
	name string
	fn   func(context.Context, ErrorEvent)
}

// queued is an error event waiting for delivery, or a flush marker.
type queued struct {
	ev    ErrorEvent
	flush chan struct{}
}

// New returns an empty registry logging to log (nowhere when nil).
func New(log *slog.Logger) *Hooks {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hooks{log: log, stop: make(chan struct{}), stopped: make(chan struct{})}
}

// OnReady registers fn to run once the server listens. A zero timeout means
// DefaultHookTimeout.
func (h *Hooks) OnReady(name string, timeout time.Duration, fn func(ctx context.Context) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ready = append(h.ready, hook{name: name, timeout: orDefault(timeout), fn: fn})
}

// OnShutdown registers fn to run when the server shuts down, after in-flight requests
// have finished and before the pool and the databases close. A zero timeout means
// DefaultHookTimeout.
func (h *Hooks) OnShutdown(name string, timeout time.Duration, fn func(ctx context.Context) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.shutdown = append(h.shutdown, hook{name: name, timeout: orDefault(timeout), fn: fn})
}

// OnError registers fn to receive error events. It runs on the registry's delivery
// goroutine, one event at a time, under DefaultHookTimeout.
func (h *Hooks) OnError(name string, fn func(ctx context.Context, ev ErrorEvent)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onError = append(h.onError, errorHook{name: name, fn: fn})
}

func orDefault(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultHookTimeout
	}
	return d
}

// Ready runs the ready hooks in registration order. A failing hook is logged and
// reported, and the others still run; the failures come back joined.
func (h *Hooks) Ready(ctx context.Context) error {
	return h.runAll(ctx, "ready", h.snapshot(&h.ready), SourceReady)
}

// Shutdown runs the shutdown hooks in registration order, each under its own timeout.
// A hook that fails or outlives its timeout is logged and skipped. When ctx ends (a
// forced shutdown), the running hook's context ends and the remaining hooks are skipped.
func (h *Hooks) Shutdown(ctx context.Context) error {
	return h.runAll(ctx, "shutdown", h.snapshot(&h.shutdown), SourceShutdown)
}

func (h *Hooks) snapshot(list *[]hook) []hook {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hook(nil), (*list)...)
}

func (h *Hooks) runAll(ctx context.Context, event string, hooks []hook, source string) error {
	var errs []error
	for _, hk := range hooks {
		if ctx.Err() != nil {
			err := &HookError{Event: event, Hook: hk.name, Err: fmt.Errorf("skipped: %w", context.Cause(ctx))}
			h.log.Warn("hook skipped", "event", event, "hook", hk.name, "err", context.Cause(ctx))
			errs = append(errs, err)
			continue
		}
		start := time.Now()
		if err := call(ctx, hk.timeout, func(ctx context.Context) error { return hk.fn(ctx) }); err != nil {
			herr := &HookError{Event: event, Hook: hk.name, Err: err}
			h.log.Error("hook failed; skipped", "event", event, "hook", hk.name, "err", err)
			h.Report(ErrorEvent{Source: source, Err: herr, Time: time.Now()})
			errs = append(errs, herr)
			continue
		}
		h.log.Debug("hook done", "event", event, "hook", hk.name, "duration", time.Since(start))
	}
	return errors.Join(errs...)
}

// call runs fn on a goroutine of its own under timeout and returns its error, a
// *PanicError, or ErrTimeout when fn has not returned in time (fn keeps running until it
// notices its context has ended).
func call(ctx context.Context, timeout time.Duration, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("%w (%s)", ErrTimeout, timeout))
	defer cancel()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- &PanicError{Value: p, Stack: string(debug.Stack())}
			}
		}()
		done <- fn(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Report queues an error event for the error hooks and returns at once. Without error
// hooks, or after Close, it does nothing; when ErrorQueueSize events already wait, the
// event is dropped and counted.
func (h *Hooks) Report(ev ErrorEvent) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || len(h.onError) == 0 {
		return
	}
	if h.queue == nil {
		h.queue = make(chan queued, ErrorQueueSize)
		go h.dispatch(h.queue)
	}
	select {
	case h.queue <- queued{ev: ev}:
	default:
		if n := h.dropped.Add(1); n&(n-1) == 0 { // 1, 2, 4, 8...: say so without flooding the log
			h.log.Warn("error hooks are behind; events dropped", "dropped", n)
		}
	}
}

func (h *Hooks) dispatch(q chan queued) {
	defer close(h.stopped)
	for {
		select {
		case item := <-q:
			if item.flush != nil {
				close(item.flush)
				continue
			}
			h.deliver(item.ev)
		case <-h.stop:
			return
		}
	}
}

func (h *Hooks) deliver(ev ErrorEvent) {
	h.mu.Lock()
	hooks := append([]errorHook(nil), h.onError...)
	h.mu.Unlock()
	for _, hk := range hooks {
		err := call(context.Background(), DefaultHookTimeout, func(ctx context.Context) error {
			hk.fn(ctx, ev)
			return nil
		})
		if err != nil {
			// Never reported again: a failing error hook must not feed itself.
			h.log.Error("error hook failed", "hook", hk.name, "err", err)
		}
	}
	h.delivered.Add(1)
}

// Flush waits until the events reported so far have been delivered, or ctx ends.
func (h *Hooks) Flush(ctx context.Context) error {
	h.mu.Lock()
	q := h.queue
	closed := h.closed
	h.mu.Unlock()
	if q == nil || closed {
		return nil
	}
	done := make(chan struct{})
	select {
	case q <- queued{flush: done}:
	case <-h.stopped:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	select {
	case <-done:
		return nil
	case <-h.stopped:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Close delivers the events already reported (until ctx ends) and stops the delivery
// goroutine. Report does nothing afterwards.
func (h *Hooks) Close(ctx context.Context) error {
	err := h.Flush(ctx)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return err
	}
	h.closed = true
	started := h.queue != nil
	close(h.stop)
	h.mu.Unlock()
	if started {
		select {
		case <-h.stopped:
		case <-ctx.Done():
		}
	}
	return err
}

// ErrorStats are the counters of error delivery.
type ErrorStats struct {
	Delivered int64 // events handed to the error hooks
	Dropped   int64 // events dropped because the queue was full
}

// ErrorStats returns the counters of error delivery.
func (h *Hooks) ErrorStats() ErrorStats {
	return ErrorStats{Delivered: h.delivered.Load(), Dropped: h.dropped.Load()}
}
