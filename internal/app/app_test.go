package app

import (
	"context"
	"errors"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ubgo/ubgo/lifecycle"
	"github.com/ubgo/ubgo/server"
	"github.com/ubgo/ubgo/store/storetest"
)

// TestStartPhases checks the named phases, their timings (on a clock that advances one
// millisecond per reading), the first generation and /stat.
func TestStartPhases(t *testing.T) {
	ta := newTestApp(t, storetest.SQLite3)
	opts := ta.options()
	var mu sync.Mutex
	clock := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	opts.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Millisecond)
		return clock
	}
	a := ta.start(t, opts)
	var names []string
	for _, p := range a.Phases() {
		names = append(names, p.Name)
		if p.Duration != time.Millisecond {
			t.Errorf("phase %s took %v on the fake clock, want 1ms", p.Name, p.Duration)
		}
	}
	if want := []string{"config", "domain", "store", "runtime", "security", "server", "listen"}; !slices.Equal(names, want) {
		t.Fatalf("phases %v, want %v", names, want)
	}
	r := run(t, a)
	g := a.Current()
	if g.N != 1 {
		t.Fatalf("generation %d", g.N)
	}
	if code, body := get(t, r, "/hello"); code != 200 || body != `{"version":"v1"}` {
		t.Fatalf("/hello: %d %s", code, body)
	}
	waitFor(t, "the models' ready listener", func() bool { return cached(g, "ready") == "v1 as root" })
	s := stat(t, r)
	if s["generation"] != 1.0 || s["startup_ms"] != 7.0 || s["reloads"] != 0.0 || s["uptime_sec"] == nil || s["pool"] == nil {
		t.Errorf("/stat = %v", s)
	}
	if gc, _ := s["go"].(map[string]any); gc == nil || gc["gogc"] == nil || gc["heap_live_bytes"] == nil || gc["goroutines"].(float64) < 1 {
		t.Errorf("/stat go = %v", s["go"])
	}
	for _, want := range []string{`msg="phase done" gen=1 phase=store`, `msg=listening`, `startup=7ms`,
		`phases="config=1ms domain=1ms store=1ms runtime=1ms security=1ms server=1ms listen=1ms"`,
		`msg="database created" gen=1`, `msg=http gen=1 `} {
		if !strings.Contains(ta.logs.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
}

// TestGracefulShutdownCompletesInFlightRequest cancels Run while a request runs in
// JavaScript: the listener closes, the request completes, the models' shutdown listener
// runs and commits, and Run returns nil.
func TestGracefulShutdownCompletesInFlightRequest(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			ta := newTestApp(t, d)
			a := ta.start(t, ta.options())
			var order []string
			var mu sync.Mutex
			a.Hooks().OnShutdown("go hook", 0, func(context.Context) error {
				mu.Lock()
				defer mu.Unlock()
				order = append(order, "go hook, inFlight="+strconv.FormatInt(a.Current().InFlight(), 10))
				return nil
			})
			r := run(t, a)
			g := a.Current()
			// Committed, not just run: cancelling while the ready listener's transaction
			// commits would turn it into an error event.
			waitFor(t, "the ready listener to commit", func() bool { return slices.Contains(events(t, r), "ready: v1 as root") })
			slow := getAsync(r, "/slow")
			waitFor(t, "the slow request to run", func() bool { return cached(g, "slow") == "running" })

			r.cancel()
			addr := r.Addr().String()
			waitFor(t, "the listener to close", func() bool {
				c, err := net.Dial("tcp", addr)
				if err == nil {
					c.Close()
				}
				return err != nil
			})
			if _, err := http.Get(r.url("/hello")); err == nil {
				t.Fatal("a new request was served during the shutdown")
			}
			select {
			case <-g.Done():
				t.Fatal("the generation closed under a running request")
			default:
			}
			g.Program.GlobalCachePut("gate", "open")
			res := <-slow
			if res.err != nil || res.status != 200 || res.body != `{"version":"v1","done":true}` {
				t.Fatalf("in-flight request: %+v", res)
			}
			if err := r.wait(t); err != nil {
				t.Fatalf("Run: %v\n%s", err, ta.logs)
			}
			<-g.Done()
			if cached(g, "shutdown") != "v1" {
				t.Error("the models' shutdown listener did not run")
			}
			mu.Lock()
			if !slices.Equal(order, []string{"go hook, inFlight=0"}) {
				t.Errorf("Go shutdown hooks: %v", order)
			}
			mu.Unlock()
			if !strings.Contains(ta.logs.String(), "status=200") || !strings.Contains(ta.logs.String(), "path=/slow") {
				t.Error("the slow request is not in the access log")
			}

			// The listeners' rows were committed: a new start on the same database sees them.
			b := ta.start(t, ta.options())
			r2 := run(t, b)
			var got []string
			waitFor(t, "the second start's ready listener to commit", func() bool { got = events(t, r2); return len(got) >= 3 })
			slices.Sort(got)
			if !slices.Equal(got, []string{"ready: v1 as root", "ready: v1 as root", "shutdown: v1"}) {
				t.Errorf("events %q", got)
			}
			if err := r2.stop(t); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestShutdownDeadlineCutsOff: a request that outlives ShutdownTimeout is cancelled
// (its JavaScript interrupted) and Run reports it.
func TestShutdownDeadlineCutsOff(t *testing.T) {
	ta := newTestApp(t, storetest.SQLite3)
	opts := ta.options()
	opts.ShutdownTimeout = 20 * time.Millisecond
	a := ta.start(t, opts)
	r := run(t, a)
	g := a.Current()
	slow := getAsync(r, "/slow") // the gate never opens
	waitFor(t, "the slow request to run", func() bool { return cached(g, "slow") == "running" })
	err := r.stop(t)
	if !errors.Is(err, server.ErrShutdownTimeout) {
		t.Fatalf("Run: %v, want ErrShutdownTimeout", err)
	}
	if res := <-slow; res.err == nil && res.status == 200 {
		t.Fatalf("the cut-off request succeeded: %+v", res)
	}
	<-g.Done()
	if st := g.Pool.Stats(); st.Replaced < 1 {
		t.Errorf("pool %+v: the interrupted worker was not discarded", st)
	}
}

// TestAbortForcesTheShutdown: during the drain delay /ready answers 503 while the
// listener still accepts; Abort (the second signal) cancels the running request and
// Run returns ErrForced.
func TestAbortForcesTheShutdown(t *testing.T) {
	ta := newTestApp(t, storetest.SQLite3)
	opts := ta.options()
	opts.DrainDelay = time.Hour
	a := ta.start(t, opts)
	r := run(t, a)
	g := a.Current()
	slow := getAsync(r, "/slow")
	waitFor(t, "the slow request to run", func() bool { return cached(g, "slow") == "running" })
	r.cancel()
	waitFor(t, "/ready to answer 503", func() bool {
		resp, err := http.Get(r.url("/ready"))
		if err != nil {
			t.Fatalf("the listener closed during the drain delay: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	a.Abort()
	if err := r.wait(t); !errors.Is(err, ErrForced) {
		t.Fatalf("Run: %v, want ErrForced", err)
	}
	if res := <-slow; res.err == nil && res.status == 200 {
		t.Fatalf("the request survived the forced shutdown: %+v", res)
	}
	<-g.Done()
}

// TestReloadSwapsGenerations changes the model's code and reloads: new requests see the
// new code, a request started before finishes on the old generation, which closes once
// it is done.
func TestReloadSwapsGenerations(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			ta := newTestApp(t, d)
			a := ta.start(t, ta.options())
			r := run(t, a)
			g1 := a.Current()
			waitFor(t, "the ready listener", func() bool { return cached(g1, "ready") != "" })
			slow := getAsync(r, "/slow")
			waitFor(t, "the slow request to run", func() bool { return cached(g1, "slow") == "running" })

			ta.edit(t, "models/lct/index.js", "const VERSION = 'v1'", "const VERSION = 'v2'")
			g2, err := a.Reload(context.Background())
			if err != nil {
				t.Fatalf("Reload: %v\n%s", err, ta.logs)
			}
			if g2.N != 2 || a.Current() != g2 {
				t.Fatalf("generation %d after the reload", a.Current().N)
			}
			if code, body := get(t, r, "/hello"); code != 200 || body != `{"version":"v2"}` {
				t.Fatalf("/hello after the reload: %d %s", code, body)
			}
			if cached(g2, "ready") != "v2 as root" {
				t.Error("the new generation's ready listener did not run before Reload returned")
			}
			if code, _ := get(t, r, "/ready"); code != 200 {
				t.Errorf("/ready on the new generation: %d", code)
			}
			select {
			case <-g1.Done():
				t.Fatal("the old generation closed under its running request")
			default:
			}
			if g1.InFlight() != 1 {
				t.Errorf("old generation in flight: %d", g1.InFlight())
			}

			g1.Program.GlobalCachePut("gate", "open")
			res := <-slow
			if res.err != nil || res.status != 200 || res.body != `{"version":"v1","done":true}` {
				t.Fatalf("the request started before the reload: %+v", res)
			}
			select {
			case <-g1.Done():
			case <-time.After(time.Minute):
				t.Fatal("the old generation was not closed after its last request")
			}
			if cached(g1, "shutdown") != "v1" || cached(g2, "shutdown") != "" {
				t.Error("the shutdown listener did not run on the old generation only")
			}
			s := stat(t, r)
			if s["generation"] != 2.0 || s["reloads"] != 1.0 {
				t.Errorf("/stat = %v", s)
			}
			// Both generations wrote through their own connections to the same database (each
			// with its own block of IDs: the order of IDs is not the order of the inserts).
			got := events(t, r)
			slices.Sort(got)
			if !slices.Equal(got, []string{"ready: v1 as root", "ready: v2 as root", "shutdown: v1"}) {
				t.Errorf("events %q", got)
			}
			logs := ta.logs.String()
			for _, want := range []string{"msg=reloaded gen=2 previous=1", "gen=2 requestId=", `msg="generation closed" gen=1`} {
				if !strings.Contains(logs, want) {
					t.Errorf("log lacks %q", want)
				}
			}
			if err := r.stop(t); err != nil {
				t.Fatal(err)
			}
			if cached(g2, "shutdown") != "v2" {
				t.Error("the last generation's shutdown listener did not run")
			}
		})
	}
}

// TestBrokenReloadKeepsGeneration: a reload that fails in any phase leaves the running
// generation serving, says why (file, position, JSON path) and tells the error hooks.
func TestBrokenReloadKeepsGeneration(t *testing.T) {
	ta := newTestApp(t, storetest.SQLite3)
	opts := ta.options()
	opts.Hooks = lifecycle.New(nil)
	var mu sync.Mutex
	var reported []lifecycle.ErrorEvent
	opts.Hooks.OnError("collect", func(_ context.Context, ev lifecycle.ErrorEvent) {
		mu.Lock()
		defer mu.Unlock()
		reported = append(reported, ev)
	})
	a := ta.start(t, opts)
	r := run(t, a)
	tests := []struct {
		name, file, old, new string
		phase                string
		want                 []string
	}{
		{"script syntax", "models/lct/index.js", "App.registerEndpoint('hello', function (req, resp) {",
			"App.registerEndpoint('hello', function (req, resp) {{", "runtime", []string{"models/lct/index.js:", "model LCT"}},
		{"script throws", "models/lct/index.js", "const VERSION = 'v1'", "const VERSION = 'v1'; null.x", "runtime",
			[]string{"models/lct/index.js:2:", "TypeError"}},
		{"config JSON", "ubconfig.json", `"threadPoolSize": 4}`, `"threadPoolSize": 4`, "config", []string{"ubconfig.json:"}},
		{"config schema", "ubconfig.json", `"threadPoolSize": 4`, `"threadPoolSize": "four"`, "config",
			[]string{"ubconfig.json:5:", "/httpServer/threadPoolSize"}},
		{"metadata", "models/lct/lct_event.meta", `"dataType": "String", "size": 32`, `"dataType": "Strin", "size": 32`, "domain",
			[]string{"lct_event.meta:4:", "/attributes/1/dataType", `"Strin"`}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ta.edit(t, tt.file, tt.old, tt.new)
			defer ta.edit(t, tt.file, tt.new, tt.old)
			g, err := a.Reload(context.Background())
			var pe *lifecycle.PhaseError
			if g != nil || !errors.As(err, &pe) || pe.Phase != tt.phase {
				t.Fatalf("Reload = %v, %v; want a %s phase error", g, err, tt.phase)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if a.Current().N != 1 {
				t.Fatalf("generation %d after a failed reload", a.Current().N)
			}
			if code, body := get(t, r, "/hello"); code != 200 || body != `{"version":"v1"}` {
				t.Fatalf("/hello after a failed reload: %d %s", code, body)
			}
			if err := a.Hooks().Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(reported) != i+1 || reported[i].Source != lifecycle.SourceReload || reported[i].Generation != 1 || !errors.Is(reported[i].Err, err) {
				t.Errorf("error hooks got %+v", reported)
			}
		})
	}
	if !strings.Contains(ta.logs.String(), `msg="reload failed; the running generation keeps serving" gen=1`) {
		t.Error("the failed reload is not logged")
	}
	// Fixed again, the reload succeeds; generation numbers count successful builds.
	g, err := a.Reload(context.Background())
	if err != nil || g.N != 2 {
		t.Fatalf("Reload after the fix: %v", err)
	}
	if s := stat(t, r); s["reloads"] != 1.0 || s["reloads_failed"] != float64(len(tests)) {
		t.Errorf("/stat = %v", s)
	}
}

// TestErrorHooks: a 500 from an unexpected failure and a panic reach the Go error hooks
// and the models' error listener with the request, background work without one; a
// deliberate UBAbort and a 404 do not.
func TestErrorHooks(t *testing.T) {
	ta := newTestApp(t, storetest.SQLite3)
	opts := ta.options()
	opts.Hooks = lifecycle.New(nil)
	var mu sync.Mutex
	var got []lifecycle.ErrorEvent
	opts.Hooks.OnError("collect", func(_ context.Context, ev lifecycle.ErrorEvent) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ev)
	})
	a := ta.start(t, opts)
	a.Current().Server.Handle("panic", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("nil map") }), false)
	r := run(t, a)
	for _, tt := range []struct {
		path   string
		status int
	}{{"/abort", 500}, {"/boom", 500}, {"/panic", 500}, {"/nope", 404}} {
		if code, body := get(t, r, tt.path); code != tt.status {
			t.Fatalf("%s: %d %s", tt.path, code, body)
		}
	}
	a.ReportError(lifecycle.SourceBackground, errors.New("nightly job failed"))
	if err := a.Hooks().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(got) != 3 {
		t.Fatalf("error hooks got %d events, want 3: %+v", len(got), got)
	}
	boom, pnc, bg := got[0], got[1], got[2]
	mu.Unlock()
	if bg.Source != lifecycle.SourceBackground || bg.Request != nil || bg.Generation != 1 || bg.Err.Error() != "nightly job failed" {
		t.Errorf("background event %+v", bg)
	}
	if boom.Source != lifecycle.SourceRequest || boom.Request == nil || boom.Request.Path != "/boom" || boom.Request.Status != 500 ||
		boom.Request.ID == "" || boom.Generation != 1 || !strings.Contains(boom.Err.Error(), "boom: an unexpected failure") {
		t.Errorf("boom event %+v %+v", boom, boom.Request)
	}
	var pe *lifecycle.PanicError
	if pnc.Source != lifecycle.SourcePanic || pnc.Request.Path != "/panic" || !errors.As(pnc.Err, &pe) || pe.Value != "nil map" {
		t.Errorf("panic event %+v", pnc)
	}
	g := a.Current()
	waitFor(t, "the models' error listener", func() bool { return strings.HasPrefix(cached(g, "error"), "background") })
	if got := cached(g, "error"); got != "background outside requests gen1: nightly job failed" {
		t.Errorf("the models' error listener saw %q", got)
	}
	var errs []string
	waitFor(t, "the error listener's rows", func() bool {
		errs = nil
		for _, e := range events(t, r) {
			if strings.HasPrefix(e, "error: ") {
				errs = append(errs, e)
			}
		}
		return len(errs) >= 3
	})
	slices.Sort(errs)
	if len(errs) != 3 || errs[1] != "error: panic /panic 500 gen1: panic: nil map" ||
		!strings.HasPrefix(errs[2], "error: request /boom 500 gen1: jsvm: model LCT: ") {
		t.Errorf("error rows %q", errs)
	}
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
}

// TestWatchReloads: in watch mode a saved model file gives a new generation.
func TestWatchReloads(t *testing.T) {
	ta := newTestApp(t, storetest.SQLite3)
	a := ta.start(t, ta.options())
	r := run(t, a)
	ctx, cancel := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		a.Watch(ctx, 5*time.Millisecond)
	}()
	defer func() {
		cancel()
		<-watched
	}()
	waitFor(t, "the watcher's first snapshot", func() bool { return strings.Contains(ta.logs.String(), "watching the configuration") })
	ta.edit(t, "models/lct/index.js", "const VERSION = 'v1'", "const VERSION = 'v2 (watched)'")
	waitFor(t, "the reload", func() bool { return a.Current().N == 2 })
	if code, body := get(t, r, "/hello"); code != 200 || body != `{"version":"v2 (watched)"}` {
		t.Fatalf("/hello: %d %s", code, body)
	}
	// A broken save keeps generation 2; fixing it reloads again.
	ta.edit(t, "models/lct/index.js", "const VERSION", "const const VERSION")
	waitFor(t, "the failed reload", func() bool { return a.reloadsFailed.Load() == 1 })
	ta.edit(t, "models/lct/index.js", "const const VERSION = 'v2 (watched)'", "const VERSION = 'v3'")
	waitFor(t, "the reload after the fix", func() bool { return a.Current().N == 3 })
	if code, body := get(t, r, "/hello"); code != 200 || body != `{"version":"v3"}` {
		t.Fatalf("/hello: %d %s", code, body)
	}
}

// TestStartFailure: a failing phase ends Start with a typed error naming the phase, the
// Go error hooks hear of it, and nothing is left listening.
func TestStartFailure(t *testing.T) {
	t.Run("runtime", func(t *testing.T) {
		ta := newTestApp(t, storetest.SQLite3)
		ta.edit(t, "models/lct/index.js", "const VERSION = 'v1'", "const VERSION = 'v1'; require('./missing')")
		opts := ta.options()
		opts.Hooks = lifecycle.New(nil)
		var got []string
		var mu sync.Mutex
		opts.Hooks.OnError("collect", func(_ context.Context, ev lifecycle.ErrorEvent) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, ev.Source)
		})
		a, err := Start(context.Background(), opts)
		var pe *lifecycle.PhaseError
		if a != nil || !errors.As(err, &pe) || pe.Phase != "runtime" || !strings.Contains(err.Error(), "./missing") {
			t.Fatalf("Start = %v, %v", a, err)
		}
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(got, []string{lifecycle.SourceStartup}) {
			t.Errorf("error hooks got %v", got)
		}
		logs := ta.logs.String()
		if !strings.Contains(logs, `msg="phase failed" gen=1 phase=runtime`) || strings.Contains(logs, "phase=security") {
			t.Errorf("log:\n%s", logs)
		}
	})
	t.Run("listen", func(t *testing.T) {
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		ta := newTestApp(t, storetest.SQLite3)
		opts := ta.options()
		opts.Addr = busy.Addr().String()
		_, err = Start(context.Background(), opts)
		var pe *lifecycle.PhaseError
		if !errors.As(err, &pe) || pe.Phase != "listen" || !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("Start: %v", err)
		}
		logs := ta.logs.String()
		if !strings.Contains(logs, `msg="generation closed" gen=1`) {
			t.Errorf("the built generation was not closed:\n%s", logs)
		}
		// It never served: the models' shutdown listener did not run (it would insert a row;
		// a new start sees only its own ready row).
		b := ta.start(t, ta.options())
		r := run(t, b)
		var got []string
		waitFor(t, "the ready listener to commit", func() bool { got = events(t, r); return len(got) > 0 })
		if !slices.Equal(got, []string{"ready: v1 as root"}) {
			t.Errorf("events %q", got)
		}
	})
}

// TestPoolSize: httpServer.threadPoolSize sizes the worker pool when the configuration
// sets it; otherwise the pool has a worker per CPU or per database connection,
// whichever is more.
func TestPoolSize(t *testing.T) {
	ta := newTestApp(t, storetest.SQLite3)
	a := ta.start(t, ta.options())
	if got := a.Current().Pool.Stats().Size; got != 4 {
		t.Errorf("threadPoolSize 4: pool of %d", got)
	}
	ta.edit(t, "ubconfig.json", `, "threadPoolSize": 4`, "")
	g, err := a.Reload(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := max(runtime.GOMAXPROCS(0), g.Store.Default().Read.Stats().MaxOpenConnections)
	if got := g.Pool.Stats().Size; got != want || want < 4 {
		t.Errorf("no threadPoolSize: pool of %d, want %d", got, want)
	}
	r := run(t, a)
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
}
