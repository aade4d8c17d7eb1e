package jsvm

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/dop251/goja"
)

// Values cross between Go and JavaScript in two shapes. Towards JS they become plain JS
// values (objects, arrays, Dates), not goja's wrappers around Go maps and slices, so that
// scripts can use every Array method, delete keys and rely on JSON.stringify. Towards Go
// they are exported with goja's Export (map[string]any, []any, int64, float64, string,
// bool, time.Time, nil) and checked for depth, because a script can build a cyclic object
// and a cycle would make any later Go walk (encoding, UBQL decoding) recurse for ever.

// maxValueDepth is the deepest nesting of arrays and objects accepted from or sent to a
// script; UBQL itself allows 64 levels (ubql.MaxJSONDepth).
const maxValueDepth = 100

// errTooDeep reports a value nested deeper than maxValueDepth (or a cyclic one).
var errTooDeep = errors.New("the value is nested too deeply or refers to itself")

// toJS converts a Go value of the kinds the store, UBQL and the configuration produce.
func (w *Worker) toJS(v any) goja.Value {
	return w.toJSDepth(v, 0)
}

func (w *Worker) toJSDepth(v any, depth int) goja.Value {
	vm := w.vm
	switch x := v.(type) {
	case nil:
		return goja.Null()
	case goja.Value:
		return x
	case string, bool, int64, float64, int, int32, float32:
		return vm.ToValue(x)
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return vm.ToValue(n)
		}
		f, _ := x.Float64()
		return vm.ToValue(f)
	case time.Time:
		return w.newDate(x)
	case json.RawMessage:
		if len(x) == 0 {
			return goja.Null()
		}
		if res, err := w.api.jsonParse(goja.Undefined(), vm.ToValue(string(x))); err == nil {
			return res
		}
		return vm.ToValue(string(x))
	case []byte:
		return vm.ToValue(base64.StdEncoding.EncodeToString(x))
	}
	if depth >= maxValueDepth {
		panic(vm.NewTypeError(errTooDeep.Error()))
	}
	switch x := v.(type) {
	case []any:
		items := make([]any, len(x))
		for i, it := range x {
			items[i] = w.toJSDepth(it, depth+1)
		}
		return vm.NewArray(items...)
	case []int64:
		items := make([]any, len(x))
		for i, it := range x {
			items[i] = it
		}
		return vm.NewArray(items...)
	case []string:
		items := make([]any, len(x))
		for i, it := range x {
			items[i] = it
		}
		return vm.NewArray(items...)
	case map[string]any:
		obj := vm.NewObject()
		// Sorted keys: Object.keys order is the same on every run.
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			_ = obj.Set(k, w.toJSDepth(x[k], depth+1))
		}
		return obj
	}
	return vm.ToValue(v)
}

// newDate returns a JS Date for t.
func (w *Worker) newDate(t time.Time) goja.Value {
	d, err := w.vm.New(w.api.dateCtor, w.vm.ToValue(t.UnixMilli()))
	if err != nil {
		return w.vm.ToValue(t.UTC().Format(time.RFC3339Nano))
	}
	return d
}

// export converts a JS value into plain Go values; undefined and null become nil.
func (w *Worker) export(v goja.Value) (any, error) {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil, nil
	}
	if _, ok := v.(*goja.Object); !ok {
		return v.Export(), nil // a primitive: nothing to run, nothing nested
	}
	var out any
	var err error
	if ex := w.vm.Try(func() { out, err = plainResult(v.Export(), 0) }); ex != nil {
		return nil, ex
	}
	return out, err
}

// exportObject exports a JS object into a map; undefined and null give nil.
func (w *Worker) exportObject(v goja.Value, what string) (map[string]any, error) {
	x, err := w.export(v)
	if err != nil || x == nil {
		return nil, err
	}
	m, ok := x.(map[string]any)
	if !ok {
		return nil, errors.New(what + " must be an object")
	}
	return m, nil
}
