package jsvm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/storetest"
)

func TestInterruptReplacesWorker(t *testing.T) {
	a := newTestApp(t, storetest.SQLite3)
	p := NewPool(a.prog, PoolOptions{Size: 1, CallTimeout: 100 * time.Millisecond})

	start := time.Now()
	_, err := a.call(t, p, client, `{"entity": "jst_item", "method": "spin"}`)
	e := asError(t, err)
	if time.Since(start) > 5*time.Second || e.Status != 503 || !errors.Is(err, context.DeadlineExceeded) ||
		!strings.Contains(e.Message, "interrupted") || e.Line != lineOf(t, "for (;;) {}") {
		t.Fatalf("spin: %v after %v (%+v)", err, time.Since(start), e)
	}
	if s := p.Stats(); s.Replaced != 1 || s.Live != 0 || s.Busy != 0 {
		t.Errorf("after the interrupt: %+v", s)
	}
	// The pool stays healthy: the next call gets a fresh worker.
	if _, err := a.call(t, p, client, `{"entity": "jst_item", "method": "calc"}`); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Created != 2 || s.Live != 1 || s.Idle != 1 {
		t.Errorf("after the next call: %+v", s)
	}

	// A context deadline shorter than the call timeout wins.
	p2 := NewPool(a.prog, PoolOptions{Size: 1})
	w, err := p2.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	tx := a.store.Begin(client)
	defer tx.Rollback()
	start = time.Now()
	if _, err := w.CallMethod(ctx, tx, req(t, `{"entity": "jst_item", "method": "spin"}`)); err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("spin with a 50ms context: %v after %v", err, time.Since(start))
	}
	p2.Release(w)
	if s := p2.Stats(); s.Replaced != 1 {
		t.Errorf("interrupted worker was not replaced: %+v", s)
	}
}

func TestGoPanicContained(t *testing.T) {
	a := newTestApp(t, storetest.SQLite3)
	els := func(sess *store.Session, entity, method string) bool {
		if method == "panic" {
			var m map[string]int
			m["boom"]++ // a real Go panic: assignment to entry in nil map
		}
		return true
	}
	p := NewPool(a.prog, PoolOptions{Size: 1, ELS: els})
	_, err := a.call(t, p, client, `{"entity": "jst_item", "method": "goPanic"}`)
	e := asError(t, err)
	if e.Status != 500 || e.Client != clientInternal || !strings.Contains(e.Message, "panic during a JavaScript call: assignment to entry in nil map") {
		t.Fatalf("goPanic: %+v", e)
	}
	if s := p.Stats(); s.Replaced != 1 {
		t.Errorf("panicked worker was not replaced: %+v", s)
	}
	if _, err := a.call(t, p, client, `{"entity": "jst_item", "method": "calc"}`); err != nil {
		t.Fatal(err)
	}
}

func TestPoolBusy(t *testing.T) {
	p := NewPool(loadProgram(t), PoolOptions{Size: 1, WaitTimeout: 50 * time.Millisecond})
	ctx := context.Background()
	w, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	if _, err := p.Acquire(ctx); !errors.Is(err, ErrBusy) || time.Since(start) < 50*time.Millisecond {
		t.Errorf("exhausted pool: %v after %v, want ErrBusy after the wait", err, time.Since(start))
	}
	if e := asError(t, ErrBusy); e.HTTPStatus() != 503 || e.UBCode() != 67 {
		t.Errorf("ErrBusy = %+v", e)
	}
	// A shorter context deadline ends the wait too.
	p.opts.WaitTimeout = time.Hour
	dctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := p.Acquire(dctx); !errors.Is(err, ErrBusy) {
		t.Errorf("deadline: %v", err)
	}
	cctx, cancel2 := context.WithCancel(ctx)
	cancel2()
	if _, err := p.Acquire(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// A waiting Acquire gets the worker as soon as it is released.
	go func() {
		time.Sleep(20 * time.Millisecond)
		p.Release(w)
	}()
	w2, err := p.Acquire(ctx)
	if err != nil || w2 != w {
		t.Fatalf("waiting acquire: %v (same worker %v)", err, w2 == w)
	}
	if s := p.Stats(); s.Waits != 4 || s.Timeouts != 2 || s.Created != 1 || s.Busy != 1 {
		t.Errorf("stats %+v", s)
	}

	p.Close()
	if _, err := p.Acquire(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("closed pool: %v", err)
	}
	p.Release(w2)
	if s := p.Stats(); s.Live != 0 || s.Idle != 0 {
		t.Errorf("after close and release: %+v", s)
	}
}

// Idle workers are lent before new ones are created: calls one after another use one
// runtime however large the pool is, and a second runtime appears only when two calls
// overlap. A waiter blocked on a full pool wakes when Close turns idle workers away.
func TestPoolReusesIdleWorkers(t *testing.T) {
	a := newTestApp(t, storetest.SQLite3)
	p := NewPool(a.prog, PoolOptions{Size: 4})
	ctx := context.Background()
	var first *Worker
	for i := range 5 {
		w, err := p.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = w
		} else if w != first {
			t.Fatalf("call %d got another worker although one was idle", i)
		}
		p.Release(w)
	}
	w1, err1 := p.Acquire(ctx)
	w2, err2 := p.Acquire(ctx)
	if err1 != nil || err2 != nil || w1 == w2 {
		t.Fatalf("overlapping calls: %v, %v, same worker %v", err1, err2, w1 == w2)
	}
	if s := p.Stats(); s.Created != 2 || s.Live != 2 || s.Busy != 2 || s.Idle != 0 {
		t.Errorf("after two overlapping calls: %+v", s)
	}
	p.Release(w1)
	p.Release(w2)

	// A full pool of one: a waiter wakes with ErrClosed when the pool closes.
	p1 := NewPool(a.prog, PoolOptions{Size: 1})
	w, err := p1.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := p1.Acquire(ctx); done <- err }()
	time.Sleep(20 * time.Millisecond)
	p1.Close()
	p1.Release(w) // dropped: the pool is closed; its permit wakes the waiter
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Errorf("waiter on a closed pool: %v", err)
	}
	if s := p1.Stats(); s.Live != 0 || s.Busy != 0 {
		t.Errorf("closed pool: %+v", s)
	}
}

func TestPoolRecycle(t *testing.T) {
	p := NewPool(loadProgram(t), PoolOptions{Size: 1, MaxCalls: 2})
	for range 3 {
		w, err := p.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		resp := &Response{}
		if err := w.CallEndpoint(context.Background(), "jstBad", &Request{Method: "GET"}, resp, nil); err != nil {
			t.Fatal(err)
		}
		p.Release(w)
	}
	if s := p.Stats(); s.Created != 2 || s.Recycled != 1 {
		t.Errorf("stats %+v, want a worker recycled after 2 calls", s)
	}
}

// TestPoolConcurrency runs many goroutines through a pool of two workers (meant for
// -race): goja runtimes never run on two goroutines at once.
func TestPoolConcurrency(t *testing.T) {
	a := newTestApp(t, storetest.SQLite3)
	p := NewPool(a.prog, PoolOptions{Size: 2})
	const goroutines, calls = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				if err := callCalc(a, p, g, i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s := p.Stats(); s.Created > 2 || s.Busy != 0 || s.Live > 2 {
		t.Errorf("stats %+v: more runtimes than the pool size", s)
	}
}

func callCalc(a *testApp, p *Pool, g, i int) error {
	ctx := context.Background()
	w, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	defer p.Release(w)
	tx := a.store.Begin(client)
	defer tx.Rollback()
	r, err := decodeItem(fmt.Sprintf(`{"entity": "jst_item", "method": "calc", "execParams": {"a": %d, "b": %d}}`, g, i))
	if err != nil {
		return err
	}
	resp, err := w.CallMethod(ctx, tx, r)
	if err != nil {
		return err
	}
	if got := resp.Request.Extra["sum"]; got != int64(g+i) {
		return fmt.Errorf("calc(%d, %d) = %v", g, i, got)
	}
	return nil
}
