package jsvm

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/ubgo/ubgo/store"
)

// PoolOptions configure a Pool. Zero values take the defaults.
type PoolOptions struct {
	// Size is the most workers that exist at once. Default: the larger of GOMAXPROCS,
	// httpServer.threadPoolSize and the default connection's maxConnections.
	Size int
	// CallTimeout bounds one CallMethod or CallEndpoint (and the creation of a worker);
	// the script is interrupted when it runs out. A shorter context deadline wins.
	// Default 30s.
	CallTimeout time.Duration
	// WaitTimeout bounds how long Acquire waits for a free worker before it returns
	// ErrBusy. A shorter context deadline wins. Default 10s.
	WaitTimeout time.Duration
	// MaxCalls recycles a worker after that many calls, bounding what scripts can
	// accumulate in a runtime's globals. 0 means never.
	MaxCalls int
	// ELS backs App.els, entity.haveAccessToMethod and the rest endpoint's check; nil
	// allows everything.
	ELS ELSFunc
	// Store gives the listeners EmitSessionEvent runs a transaction of their own; nil
	// runs them without data access.
	Store *store.Store
	// UserSession builds the session Session.runAsUser switches to; nil reads the user,
	// roles and groups from the UBA tables.
	UserSession UserSessionFunc
}

// Defaults of PoolOptions.
const (
	DefaultCallTimeout = 30 * time.Second
	DefaultWaitTimeout = 10 * time.Second
)

// Pool lends workers of one Program. It creates them lazily, never more than Size at a
// time: when all are busy, Acquire waits (up to WaitTimeout or the context's deadline)
// instead of creating an extra runtime, and then fails with ErrBusy. A worker whose call
// was interrupted or panicked is discarded on Release and replaced by a new one when
// needed.
//
// Pool is safe for concurrent use; each Worker it lends is used by one goroutine until it
// is released.
type Pool struct {
	prog *Program
	opts PoolOptions

	// idle holds the workers waiting to be lent; permits one token per worker that may
	// still be created. Idle workers are taken first, so a light load keeps using the
	// runtimes it has instead of creating one per slot. A worker out on loan holds
	// neither: len(idle) + len(permits) + lent = Size. Release hands a worker (or, when it
	// drops one, a permit) straight to a waiting Acquire.
	idle    chan *Worker
	permits chan struct{}

	closed atomic.Bool

	live, created, busy                 atomic.Int64
	waits, timeouts, replaced, recycled atomic.Int64
	createNanos                         atomic.Int64
}

// Stats are counters of a pool, for /stat and metrics.
type Stats struct {
	Size     int           // most workers at once
	Live     int           // workers that exist now (busy + idle)
	Busy     int           // workers lent out now
	Idle     int           // workers waiting in the pool
	Created  int64         // workers created since the pool started
	Waits    int64         // Acquire calls that found no free worker and waited
	Timeouts int64         // Acquire calls that gave up with ErrBusy
	Replaced int64         // workers discarded because a call was interrupted or panicked
	Recycled int64         // workers discarded after MaxCalls calls
	AvgNew   time.Duration // mean time to create a worker
}

// NewPool creates a pool of workers for prog. No worker is created yet.
func NewPool(prog *Program, opts PoolOptions) *Pool {
	if opts.Size <= 0 {
		opts.Size = runtime.GOMAXPROCS(0)
		if cfg := prog.cfg; cfg != nil {
			opts.Size = max(opts.Size, cfg.HTTPServer.ThreadPoolSize)
			if c := cfg.DefaultConnection(); c != nil {
				opts.Size = max(opts.Size, c.MaxConnections)
			}
		}
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = DefaultWaitTimeout
	}
	p := &Pool{prog: prog, opts: opts, idle: make(chan *Worker, opts.Size), permits: make(chan struct{}, opts.Size)}
	for range opts.Size {
		p.permits <- struct{}{}
	}
	return p
}

// Acquire lends a worker: an idle one, else a new one while fewer than Size exist, else
// the first one released within WaitTimeout (or before ctx's deadline). It returns
// ErrBusy when the wait ends, the context's error when ctx is cancelled, ErrClosed after
// Close, or the error of creating a worker. The caller must Release the worker.
func (p *Pool) Acquire(ctx context.Context) (*Worker, error) {
	if p.isClosed() {
		return nil, ErrClosed
	}
	var w *Worker
	create := false
	select {
	case w = <-p.idle:
	default:
		select {
		case w = <-p.idle:
		case <-p.permits:
			create = true
		default:
			p.waits.Add(1)
			timer := time.NewTimer(p.opts.WaitTimeout)
			defer timer.Stop()
			select {
			case w = <-p.idle:
			case <-p.permits:
				create = true
			case <-timer.C:
				p.timeouts.Add(1)
				return nil, ErrBusy
			case <-ctx.Done():
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					p.timeouts.Add(1)
					return nil, ErrBusy
				}
				return nil, context.Cause(ctx)
			}
		}
	}
	if p.isClosed() {
		if w != nil {
			p.live.Add(-1)
			w.watch.close()
		}
		p.permits <- struct{}{} // wakes the next waiter, which sees the pool closed too
		return nil, ErrClosed
	}
	if create {
		var err error
		if w, err = p.newWorker(ctx); err != nil {
			p.permits <- struct{}{}
			return nil, err
		}
	}
	p.busy.Add(1)
	return w, nil
}

func (p *Pool) newWorker(ctx context.Context) (*Worker, error) {
	start := time.Now()
	w, err := newWorker(ctx, p.prog, workerOptions{callTimeout: p.opts.CallTimeout, els: p.opts.ELS, userSession: p.opts.UserSession}, nil)
	if err != nil {
		return nil, err
	}
	p.createNanos.Add(int64(time.Since(start)))
	p.created.Add(1)
	p.live.Add(1)
	return w, nil
}

// Release returns a worker to the pool. A worker that was interrupted or panicked, or
// that reached MaxCalls, is dropped; the next Acquire creates a fresh one.
func (p *Pool) Release(w *Worker) {
	if w == nil {
		return
	}
	p.busy.Add(-1)
	drop := true
	switch {
	case w.broken:
		p.replaced.Add(1)
	case p.opts.MaxCalls > 0 && w.calls >= p.opts.MaxCalls:
		p.recycled.Add(1)
	case p.isClosed():
	default:
		drop = false
	}
	if drop {
		p.live.Add(-1)
		w.watch.close()         // its armed timer would keep the runtime reachable until it fires
		p.permits <- struct{}{} // never blocks: w held the one missing
		return
	}
	p.idle <- w // never blocks, as above
}

// Close stops lending workers and drops the idle ones; workers still lent out are
// dropped when released. Acquire returns ErrClosed afterwards.
func (p *Pool) Close() {
	p.closed.Store(true)
	// Drop the idle workers and turn them into permits, so that a waiting Acquire wakes
	// up and sees the pool closed.
	for {
		select {
		case w := <-p.idle:
			p.live.Add(-1)
			w.watch.close()
			p.permits <- struct{}{}
		default:
			return
		}
	}
}

func (p *Pool) isClosed() bool { return p.closed.Load() }

// Program is the program the pool's workers run.
func (p *Pool) Program() *Program { return p.prog }

// Stats returns the pool's counters.
func (p *Pool) Stats() Stats {
	s := Stats{
		Size: p.opts.Size, Live: int(p.live.Load()), Busy: int(p.busy.Load()),
		Created: p.created.Load(), Waits: p.waits.Load(), Timeouts: p.timeouts.Load(),
		Replaced: p.replaced.Load(), Recycled: p.recycled.Load(),
	}
	s.Idle = max(0, s.Live-s.Busy)
	if s.Created > 0 {
		s.AvgNew = time.Duration(p.createNanos.Load() / s.Created)
	}
	return s
}
