package jsvm

import (
	"context"
	"strings"
	"testing"

	"github.com/dop251/goja"
)

// parseJSONFast must build exactly what JSON.parse builds (types, -0, key order, own
// data properties, prototypes) and leave everything outside its subset to JSON.parse.
func TestParseJSONFastMatchesJSONParse(t *testing.T) {
	p := NewPool(loadProgram(t), PoolOptions{Size: 1})
	w, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release(w)
	deep := strings.Repeat("[", fastJSONDepth+2) + strings.Repeat("]", fastJSONDepth+2)
	cases := []struct {
		name, src string
		fast      bool // parseJSONFast handles it
	}{
		{"byid body", `{"id":42}`, true},
		{"scalars", `{"a":[1,2.5,-0,1e3,-1.5E-2,"x",true,false,null,{}],"b":{"c":[]}}`, true},
		{"spaces", " \t\r\n{ \"x\" : [ 1 , 2 ] , \"y\" : { } } \n", true},
		{"repeated key", `{"a":1,"b":3,"a":2}`, true},
		{"proto key", `{"__proto__":{"x":1},"y":2}`, true},
		{"index-like keys", `{"b":1,"1":2,"0":3}`, true},
		{"top-level array", `[1,"two",[3]]`, true},
		{"top-level string", `"str"`, true},
		{"top-level number", `123`, true},
		{"beyond 2^53", `9007199254740993`, true},
		{"large exponent", `1e308`, true},
		{"empty array", `[]`, true},
		{"escape", `{"a":"\u00e9\n"}`, false},
		{"non-ASCII", `{"a":"é"}`, false},
		{"overflow", `1e400`, false},
		{"leading zero", `01`, false},
		{"trailing comma", `{"a":1,}`, false},
		{"trailing text", `{"a":1} x`, false},
		{"bare minus", `-`, false},
		{"dot without digits", `1.`, false},
		{"empty", ``, false},
		{"truncated", `{"a":[1,2`, false},
		{"bad literal", `tru`, false},
		{"too deep", deep, false},
		{"deep enough", strings.Repeat("[", fastJSONDepth) + strings.Repeat("]", fastJSONDepth), true},
	}
	err = w.guard(context.Background(), anonymous, nil, func() error {
		same, err := w.vm.RunString(`(function same (a, b) {
			if (typeof a !== typeof b) return 'typeof ' + typeof a + ' vs ' + typeof b
			if (a === null || typeof a !== 'object') return Object.is(a, b) ? '' : String(a) + ' vs ' + String(b)
			if (b === null) return 'null'
			if (Array.isArray(a) !== Array.isArray(b)) return 'array'
			if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return 'prototype'
			const ka = Reflect.ownKeys(a), kb = Reflect.ownKeys(b)
			if (ka.join() !== kb.join()) return 'keys ' + ka.join() + ' vs ' + kb.join()
			for (const k of ka) {
				const da = Object.getOwnPropertyDescriptor(a, k), db = Object.getOwnPropertyDescriptor(b, k)
				if (da.writable !== db.writable || da.enumerable !== db.enumerable || da.configurable !== db.configurable) return 'flags of ' + String(k)
				const d = same(a[k], b[k])
				if (d) return String(k) + ': ' + d
			}
			return ''
		})`)
		if err != nil {
			return err
		}
		sameFn, _ := goja.AssertFunction(same)
		for _, c := range cases {
			v, ok := w.parseJSONFast([]byte(c.src))
			if ok != c.fast {
				t.Errorf("%s: fast path took it = %v, want %v", c.name, ok, c.fast)
				continue
			}
			if !ok {
				continue
			}
			want, err := w.api.jsonParse(goja.Undefined(), w.vm.ToValue(c.src))
			if err != nil {
				t.Errorf("%s: JSON.parse failed where the fast path did not: %v", c.name, err)
				continue
			}
			diff, err := sameFn(goja.Undefined(), v, want)
			if err != nil {
				return err
			}
			if d := diff.String(); d != "" {
				t.Errorf("%s: differs from JSON.parse: %s", c.name, d)
			}
		}
		// A setter a script put on Object.prototype is not called: properties are defined.
		if _, err := w.vm.RunString(`Object.defineProperty(Object.prototype, 'trap', {set (v) { globalThis.trapped = v }, configurable: true})`); err != nil {
			return err
		}
		defer w.vm.RunString(`delete Object.prototype.trap; delete globalThis.trapped`)
		v, ok := w.parseJSONFast([]byte(`{"trap":1}`))
		if !ok {
			t.Fatal("fast path refused {\"trap\":1}")
		}
		o := v.(*goja.Object)
		if got := o.Get("trap"); got == nil || got.ToInteger() != 1 || w.vm.Get("trapped") != nil {
			t.Errorf("trap: own value %v, setter saw %v", got, w.vm.Get("trapped"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// req.json() falls back to JSON.parse, so bodies outside the fast subset still parse and
// bad ones still throw a SyntaxError.
func TestRequestJSONFallback(t *testing.T) {
	w := endpointWorker(t, `
		App.registerEndpoint('jsonEcho', function (req, resp) {
			try {
				resp.writeEnd(req.json())
			} catch (e) {
				resp.writeEnd(e.name)
			}
		})
	`)
	for _, c := range []struct{ body, want string }{
		{`{"id":42}`, `{"id":42}`},
		{`{"s":"caf\u00e9","n":[1e2]}`, `{"s":"café","n":[100]}`},
		{`{"id":`, `SyntaxError`},
		{``, `SyntaxError`},
	} {
		resp, err := callOn(t, w, "jsonEcho", &Request{Method: "POST", Body: []byte(c.body)})
		if err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		if string(resp.Body) != c.want {
			t.Errorf("%s: got %s, want %s", c.body, resp.Body, c.want)
		}
	}
}
