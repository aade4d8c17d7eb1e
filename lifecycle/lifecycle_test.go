package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder collects what hooks did, from any goroutine.
type recorder struct {
	mu   sync.Mutex
	list []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, s)
}

func (r *recorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.list)
}

// errorsOf registers an error hook that records each event as "source: message".
func errorsOf(h *Hooks) *recorder {
	rec := &recorder{}
	h.OnError("record", func(_ context.Context, ev ErrorEvent) { rec.add(ev.Source + ": " + ev.Err.Error()) })
	return rec
}

func TestShutdownHooksRunInOrderAndHangingOnesAreCutOff(t *testing.T) {
	h := New(nil)
	errs := errorsOf(h)
	var ran recorder
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // lets the abandoned goroutine of the hanging hook end
	h.OnShutdown("first", 0, func(context.Context) error { ran.add("first"); return nil })
	h.OnShutdown("hangs", 20*time.Millisecond, func(context.Context) error {
		ran.add("hangs")
		<-release // ignores its context: the registry must not wait for it
		return nil
	})
	h.OnShutdown("fails", 0, func(context.Context) error { ran.add("fails"); return errors.New("disk full") })
	h.OnShutdown("panics", 0, func(context.Context) error { ran.add("panics"); panic("bad hook") })
	h.OnShutdown("last", 0, func(ctx context.Context) error {
		ran.add("last")
		_, ok := ctx.Deadline()
		if !ok {
			return errors.New("no deadline")
		}
		return nil
	})
	err := h.Shutdown(context.Background())
	if got, want := ran.get(), []string{"first", "hangs", "fails", "panics", "last"}; !slices.Equal(got, want) {
		t.Fatalf("hooks ran %v, want %v", got, want)
	}
	var he *HookError
	if !errors.As(err, &he) || he.Hook != "hangs" || !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want the hanging hook's timeout first", err)
	}
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "bad hook" || !strings.Contains(pe.Stack, "lifecycle_test.go") {
		t.Fatalf("err = %v, want the panic with its stack", err)
	}
	for _, want := range []string{`shutdown hook "fails": disk full`, `shutdown hook "panics": panic: bad hook`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err does not contain %q: %v", want, err)
		}
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := errs.get()
	if len(got) != 3 || !strings.HasPrefix(got[0], `shutdown: shutdown hook "hangs": did not finish in time`) ||
		!strings.HasPrefix(got[1], "shutdown: ") || !strings.HasPrefix(got[2], "shutdown: ") {
		t.Fatalf("error hooks got %q, want the three failures in order", got)
	}
}

func TestForcedShutdownSkipsTheRemainingHooks(t *testing.T) {
	h := New(nil)
	ctx, force := context.WithCancelCause(context.Background())
	var ran recorder
	h.OnShutdown("forces", 0, func(context.Context) error { ran.add("forces"); force(errors.New("second signal")); return nil })
	h.OnShutdown("skipped", 0, func(context.Context) error { ran.add("skipped"); return nil })
	err := h.Shutdown(ctx)
	if got := ran.get(); !slices.Equal(got, []string{"forces"}) {
		t.Fatalf("ran %v", got)
	}
	if err == nil || !strings.Contains(err.Error(), `shutdown hook "skipped": skipped: second signal`) {
		t.Fatalf("err = %v", err)
	}
}

func TestReadyFailureIsReportedAndTheOthersRun(t *testing.T) {
	h := New(nil)
	errs := errorsOf(h)
	var ran recorder
	h.OnReady("a", 0, func(context.Context) error { ran.add("a"); return errors.New("cache unreachable") })
	h.OnReady("b", 0, func(context.Context) error { ran.add("b"); return nil })
	if err := h.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), `ready hook "a": cache unreachable`) {
		t.Fatalf("err = %v", err)
	}
	if got := ran.get(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("ran %v", got)
	}
	if err := h.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := errs.get(); len(got) != 1 || got[0] != `ready: ready hook "a": cache unreachable` {
		t.Fatalf("error hooks got %q", got)
	}
}

func TestErrorEventsAreDeliveredInOrderWithTheRequest(t *testing.T) {
	h := New(nil)
	var got []ErrorEvent
	var mu sync.Mutex
	h.OnError("collect", func(_ context.Context, ev ErrorEvent) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ev)
	})
	h.OnError("panics", func(context.Context, ErrorEvent) { panic("a broken error hook must not stop delivery") })
	for i := range 5 {
		h.Report(ErrorEvent{Source: SourceRequest, Err: fmt.Errorf("e%d", i), Request: &Request{ID: fmt.Sprint(i), Path: "/x"}})
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.Report(ErrorEvent{Source: SourceBackground, Err: errors.New("after close")}) // ignored
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 5 {
		t.Fatalf("delivered %d events, want 5", len(got))
	}
	for i, ev := range got {
		if ev.Err.Error() != fmt.Sprintf("e%d", i) || ev.Request.ID != fmt.Sprint(i) || ev.Time.IsZero() {
			t.Errorf("event %d = %+v", i, ev)
		}
	}
	f := got[0].Fields()
	if f["message"] != "e0" || f["source"] != "request" || f["request"].(map[string]any)["path"] != "/x" {
		t.Errorf("Fields() = %v", f)
	}
	if s := h.ErrorStats(); s.Delivered != 5 || s.Dropped != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestReportNeverBlocks(t *testing.T) {
	h := New(nil)
	block := make(chan struct{})
	h.OnError("slow", func(ctx context.Context, _ ErrorEvent) {
		select {
		case <-block:
		case <-ctx.Done():
		}
	})
	for range ErrorQueueSize + 50 {
		h.Report(ErrorEvent{Source: SourceRequest, Err: errors.New("x")})
	}
	if s := h.ErrorStats(); s.Dropped < 49 {
		t.Fatalf("dropped %d, want at least 49 of the events beyond the queue", s.Dropped)
	}
	close(block)
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestWithoutErrorHooksReportIsFree(t *testing.T) {
	h := New(nil)
	h.Report(ErrorEvent{Err: errors.New("x")})
	if h.queue != nil {
		t.Fatal("a delivery goroutine started without error hooks")
	}
	if err := h.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// fakeClock advances one millisecond per reading.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time {
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func TestSequenceTimesPhasesAndUndoesThemInReverse(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := NewSequence(nil, clock.now)
	var undone []string
	for _, name := range []string{"config", "store", "runtime"} {
		if err := s.Run(name, func() error {
			s.OnCleanup(name, func() error {
				undone = append(undone, name)
				if name == "store" {
					return errors.New("busy")
				}
				return nil
			})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	cause := errors.New("listen tcp :80: permission denied")
	err := s.Run("listen", func() error { return cause })
	var pe *PhaseError
	if !errors.As(err, &pe) || pe.Phase != "listen" || !errors.Is(err, cause) || err.Error() != "listen phase: "+cause.Error() {
		t.Fatalf("err = %v", err)
	}
	want := []Phase{{"config", time.Millisecond}, {"store", time.Millisecond}, {"runtime", time.Millisecond}, {"listen", time.Millisecond}}
	if got := s.Phases(); !slices.Equal(got, want) {
		t.Fatalf("phases %v, want %v", got, want)
	}
	if Total(want) != 4*time.Millisecond || Format(want[:2]) != "config=1ms store=1ms" {
		t.Fatalf("Total %v, Format %q", Total(want), Format(want[:2]))
	}
	cerr := s.Cleanup()
	if !slices.Equal(undone, []string{"runtime", "store", "config"}) {
		t.Fatalf("undone %v, want the reverse order", undone)
	}
	if cerr == nil || cerr.Error() != "close store: busy" {
		t.Fatalf("cleanup err = %v", cerr)
	}
	if s.Cleanup() != nil || len(undone) != 3 {
		t.Fatal("a second Cleanup ran the cleanups again")
	}
}
