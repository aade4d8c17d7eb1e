package jsvm

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/dop251/goja"
)

// The native require('mustache') renders what mustache.js 4.2.0 renders: every case of
// testdata/mustache/cases.js against the output mustache.js gave for it
// (testdata/mustache/expected.json, written by gen.js).
func TestMustacheMatchesMustacheJS(t *testing.T) {
	src, err := os.ReadFile("testdata/mustache/cases.js")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/mustache/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var expected map[string]struct {
		Output *string
		Error  string
	}
	if err := json.Unmarshal(raw, &expected); err != nil {
		t.Fatal(err)
	}
	withWorker(t, func(w *Worker) error {
		mod := w.builtinModule("mustache").(*goja.Object)
		render, _ := goja.AssertFunction(mod.Get("render"))
		v, err := w.vm.RunString("(function (module) {" + string(src) + "\n; return module.exports })({})")
		if err != nil {
			return err
		}
		cases := v.(*goja.Object)
		n := int(cases.Get("length").ToInteger())
		if n != len(expected) {
			t.Errorf("%d cases, %d expected outputs: run gen.js again", n, len(expected))
		}
		for i := range n {
			c := cases.Get(w.indexKey(i)).(*goja.Object)
			name := c.Get("name").String()
			want, ok := expected[name]
			if !ok {
				t.Errorf("%s: no expected output", name)
				continue
			}
			arg := func(k string) goja.Value {
				if v := c.Get(k); v != nil {
					return v
				}
				return goja.Undefined()
			}
			hook := func(k string) {
				if f, ok := goja.AssertFunction(c.Get(k)); ok {
					if _, err := f(c, mod); err != nil {
						t.Fatalf("%s: %s: %v", name, k, err)
					}
				}
			}
			hook("before")
			out, err := render(mod, arg("template"), arg("view"), arg("partials"), arg("tags"))
			hook("after")
			switch {
			case want.Error != "":
				ex, isEx := err.(*goja.Exception)
				if !isEx {
					t.Errorf("%s: got %v, want a %s", name, out, want.Error)
					continue
				}
				if ctor := ex.Value().(*goja.Object).Get("constructor").(*goja.Object).Get("name").String(); ctor != want.Error {
					t.Errorf("%s: threw a %s (%v), want a %s", name, ctor, ex, want.Error)
				}
			case err != nil:
				t.Errorf("%s: %v", name, err)
			case out.String() != *want.Output:
				t.Errorf("%s:\n got %q\nwant %q", name, out.String(), *want.Output)
			}
		}
		return nil
	})
}
