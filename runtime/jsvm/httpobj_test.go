package jsvm

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// defineEndpoints runs script on w (inside a call, as model code would run) to register
// endpoints on that worker only.
func defineEndpoints(t *testing.T, w *Worker, script string) {
	t.Helper()
	err := w.guard(context.Background(), anonymous, nil, func() error {
		_, err := w.vm.RunString(script)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// endpointWorker returns a worker of the test program on which script has registered
// its endpoints; the worker goes back to its pool when the test ends.
func endpointWorker(t *testing.T, script string) *Worker {
	t.Helper()
	p := NewPool(loadProgram(t), PoolOptions{Size: 1})
	w, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Release(w) })
	defineEndpoints(t, w, script)
	return w
}

func callOn(t *testing.T, w *Worker, name string, req *Request) (*Response, error) {
	t.Helper()
	resp := &Response{}
	err := w.CallEndpoint(context.Background(), name, req, resp, nil)
	return resp, err
}

// The endpoint events are skipped only while nothing listens: a listener a handler adds
// during the call fires in the same call, a once listener is gone afterwards, and
// removeAllListeners leaves nothing to call.
func TestEndpointEventsFollowListeners(t *testing.T) {
	w := endpointWorker(t, `
		let n = 0
		App.registerEndpoint('dyn', function (req, resp) {
			n++
			resp.write('h' + n)
			if (n === 1) App.once('dyn:after', (rq, rs) => rs.write(':after'))
			if (n === 3) App.on('launchEndpoint:after', (rq, rs, name, prevented) => rs.write(':' + name + ':' + prevented))
		})
		App.registerEndpoint('dynClear', function (req, resp) { App.removeAllListeners(); resp.write('cleared') })
	`)
	for _, c := range []struct{ name, want string }{
		{"dyn", "h1:after"},     // added by the handler, fires in the same call
		{"dyn", "h2"},           // the once listener is gone
		{"dyn", "h3:dyn:false"}, // launchEndpoint:after with its arguments
		{"dyn", "h4:dyn:false"}, // and it stays
		{"dynClear", "cleared"}, // the handler removed every listener before the :after events
		{"dyn", "h5"},           // removeAllListeners dropped it
	} {
		resp, err := callOn(t, w, c.name, &Request{Method: "GET"})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if string(resp.Body) != c.want {
			t.Errorf("%s: body %q, want %q", c.name, resp.Body, c.want)
		}
	}
}

// appListens answers true for anything App's emitter would treat as listeners, so only a
// certain "nobody listens" skips an emit; App's registry behaves as a plain one for
// scripts and cannot be replaced.
func TestAppListens(t *testing.T) {
	p := NewPool(loadProgram(t), PoolOptions{Size: 1})
	w, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release(w)
	err = w.guard(context.Background(), anonymous, nil, func() error {
		for _, c := range []struct {
			script string
			want   bool // App listens to "x" afterwards
		}{
			{``, false},
			{`App.on('x', f)`, true},
			{`App.off('x', f)`, false},
			{`App.once('x', f)`, true},
			{`App.emit('x')`, false}, // the once listener ran
			{`App.on('y', f)`, false},
			{`App.prependListener('x', f); App.removeAllListeners('x')`, false},
			{`App.on('x', f); App.removeAllListeners()`, false},
			{`App._events.x = 'junk'`, true},
			{`delete App._events.x`, false},
			{`App.on(Symbol.for('x'), f)`, false}, // another event
			{`App.on('x', f); try { App._events = {} } catch (e) {}; try { delete App._events } catch (e) {}`, true},
		} {
			if _, err := w.vm.RunString(`(() => { 'use strict'; const f = () => {}; ` + c.script + ` })()`); err != nil {
				return fmt.Errorf("%s: %w", c.script, err)
			}
			if got := w.appListens("x"); got != c.want {
				t.Errorf("after %q: appListens = %v, want %v", c.script, got, c.want)
			}
			w.vm.RunString(`App.removeAllListeners()`)
		}
		// Scripts see a registry: names in order, listener lists, Symbol-named events.
		v, err := w.vm.RunString(`(() => {
			const out = []
			const s = Symbol('s')
			App.on('b', () => out.push('b')); App.on('a', () => out.push('a')); App.on(s, () => out.push('sym'))
			App.emit('a'); App.emit(s); App.emit('b')
			out.push(Object.keys(App._events).join(), App.eventNames().join(), App.listenerCount(s), App.listeners('a').length)
			App.removeAllListeners(s)
			out.push(App.emit(s), App.emit('b'))
			App.removeAllListeners()
			out.push(App.eventNames().length, App.emit('a'))
			return out.join('|')
		})()`)
		if err != nil {
			return err
		}
		if want := "a|sym|b|b,a|b,a|1|1|b|false|true|0|false"; v.String() != want {
			t.Errorf("the registry: %s, want %s", v, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The request's fields come from the prototype, can be assigned like data fields, and
// the objects stop working once their call has ended.
func TestHTTPObjectsLifetime(t *testing.T) {
	w := endpointWorker(t, `
		let kept
		App.registerEndpoint('keep', function (req, resp) {
			const before = req.uri
			req.uri = 'changed'
			const p1 = req.parsedParameters
			resp.writeEnd([before, req.uri, req.parsedParameters === p1, Object.keys(req.parsedParameters).join(),
				typeof req.getHeader, req.getHeader('x-a'), req.headers].join('|'))
			kept = { req, resp }
		})
		App.registerEndpoint('stale', function (req, resp) {
			const errs = []
			for (const f of [() => kept.req.method, () => kept.req.json(), () => kept.resp.write('x'), () => resp.write.call(req, 'y')]) {
				try { f(); errs.push('no error') } catch (e) { errs.push(e instanceof TypeError) }
			}
			resp.writeEnd(errs.join())
		})
	`)
	resp, err := callOn(t, w, "keep", &Request{Method: "GET", URI: "a/b", Parameters: "q=1&r=2",
		Header: map[string][]string{"X-A": {"1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "a/b|changed|true|q,r|function|1|X-A: 1\r\n"; string(resp.Body) != want {
		t.Errorf("keep: %q, want %q", resp.Body, want)
	}
	resp, err = callOn(t, w, "stale", &Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "true,true,true,true"; string(resp.Body) != want {
		t.Errorf("stale objects: %q, want %q", resp.Body, want)
	}
}

// The request's string fields are made JS values once per call: repeated reads give the
// same value, and the next call on the worker sees its own request.
func TestRequestFieldsPerCall(t *testing.T) {
	w := endpointWorker(t, `
		App.registerEndpoint('fields', function (req, resp) {
			resp.writeEnd([req.method, req.url, req.uri, req.uri === req.uri, req.decodedUri, req.parameters, req.requestId].join('|'))
		})
	`)
	for _, r := range []*Request{
		{Method: "GET", URL: "fields/a%20b?x=1", URI: "a%20b", Parameters: "x=1", RequestID: "r1"},
		{Method: "POST", URL: "fields/c", URI: "c", RequestID: "r2"},
	} {
		resp, err := callOn(t, w, "fields", r)
		if err != nil {
			t.Fatal(err)
		}
		decoded, _ := url.PathUnescape(r.URI)
		if want := strings.Join([]string{r.Method, r.URL, r.URI, "true", decoded, r.Parameters, r.RequestID}, "|"); string(resp.Body) != want {
			t.Errorf("%s: %q, want %q", r.RequestID, resp.Body, want)
		}
	}
}

// The per-worker timer watches every call: a worker that answered calls and then sat
// idle longer than the call timeout is not interrupted, and a later endless call still
// is, on time even though an earlier call armed the timer for a later moment. Cancelling
// the caller's context interrupts too.
func TestCallDeadlinePerCall(t *testing.T) {
	a := newTestApp(t, "SQLite3")
	p := NewPool(a.prog, PoolOptions{Size: 1})
	w, err := p.Acquire(context.Background()) // loading runs under the default timeout
	if err != nil {
		t.Fatal(err)
	}
	call := func(method string) error {
		tx := a.store.Begin(client)
		defer tx.Rollback()
		_, err := w.CallMethod(context.Background(), tx, req(t, `{"entity": "jst_item", "method": "`+method+`"}`))
		return err
	}
	w.opts.callTimeout = time.Hour
	if err := call("calc"); err != nil { // arms the timer an hour ahead
		t.Fatal(err)
	}
	w.opts.callTimeout = 50 * time.Millisecond
	start := time.Now()
	if err := call("spin"); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("spin after a call with a long timeout: %v after %v; want a deadline interrupt at 50ms", err, time.Since(start))
	}
	p.Release(w)
	if w, err = p.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.opts.callTimeout = 50 * time.Millisecond
	for range 3 {
		if err := call("calc"); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(120 * time.Millisecond) // idle past the call timeout: the stopped timer must not fire
	if err := call("calc"); err != nil || w.broken {
		t.Fatalf("after idling: %v, broken %v", err, w.broken)
	}
	if err := call("spin"); !errors.Is(err, context.DeadlineExceeded) || !w.broken {
		t.Fatalf("spin: %v, broken %v; want a deadline interrupt", err, w.broken)
	}
	p.Release(w)

	p2 := NewPool(a.prog, PoolOptions{Size: 1})
	w, err = p2.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	tx := a.store.Begin(client)
	defer tx.Rollback()
	_, err = w.CallMethod(ctx, tx, req(t, `{"entity": "jst_item", "method": "spin"}`))
	if e := asError(t, err); !errors.Is(err, context.Canceled) || e.Status != 503 {
		t.Fatalf("spin with a cancelled context: %v (%+v)", err, e)
	}
	p2.Release(w)
	if s := p2.Stats(); s.Replaced != 1 {
		t.Errorf("interrupted worker was not replaced: %+v", s)
	}
}

// entity.attributes is built on first read and then behaves as a data property.
func TestEntityAttributesLazy(t *testing.T) {
	p := NewPool(loadProgram(t), PoolOptions{Size: 1})
	w, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release(w)
	err = w.guard(context.Background(), anonymous, nil, func() error {
		v, err := w.vm.RunString(`(() => {
			const e = jst_item.entity
			const listed = Object.keys(e).includes('attributes')
			const a = e.attributes
			const same = e.attributes === a && e.getAttribute('qty') === a.qty
			const desc = Object.getOwnPropertyDescriptor(e, 'attributes')
			e.attributes = 'replaced'
			return [listed, same, a.code.code, a.qty.name, typeof desc.value, desc.writable, e.attributes].join()
		})()`)
		if err != nil {
			return err
		}
		if want := "true,true,code,qty,object,true,replaced"; v.String() != want {
			t.Errorf("got %s, want %s", v, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// statusCode is an accessor over the Go response, and writeHead's parsed lines, kept per
// worker, are never changed by a later call that adds to the same header.
func TestResponseStatusAndHeaders(t *testing.T) {
	w := endpointWorker(t, `
		App.registerEndpoint('status', function (req, resp) {
			const seen = [resp.statusCode, Object.keys(resp).length]
			resp.statusCode = 404
			seen.push(resp.statusCode)
			resp.statusCode = 'x'
			seen.push(resp.statusCode)
			resp.writeHead('X-A: 1\r\nX-B: b')
			if (req.uri === 'twice') resp.writeHead('X-A: 2\nX-A: 3')
			resp.writeEnd(seen.join())
		})
	`)
	for _, c := range []struct {
		uri  string
		xa   string
		body string
	}{
		{"twice", "1,2,3", "200,0,404,404"},
		{"once", "1", "200,0,404,404"},
		{"twice", "1,2,3", "200,0,404,404"},
	} {
		resp, err := callOn(t, w, "status", &Request{Method: "GET", URI: c.uri})
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 404 || string(resp.Body) != c.body || strings.Join(resp.Header["X-A"], ",") != c.xa || resp.Header["X-B"][0] != "b" {
			t.Errorf("%s: %d %q %v", c.uri, resp.StatusCode, resp.Body, resp.Header)
		}
	}
}
