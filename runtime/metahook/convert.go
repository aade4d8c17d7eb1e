package metahook

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// The domain JSON crosses the Go/JS boundary twice per start-up, and for a
// big application it is several megabytes, so both directions walk the
// values directly instead of going through JSON text: BenchmarkConvert
// measured the direct walk 3.7 times (Go to JS) and 2 times (JS to Go)
// faster than json.Marshal+JSON.parse and JSON.stringify+json.Unmarshal,
// with half the allocated bytes. The figures are in bench_test.go.

// toJS builds plain JS objects and arrays from plain Go JSON values. Plain
// objects (rather than goja's wrappers around Go maps and slices) are what
// hooks expect: Array.prototype methods, delete and Object.keys behave as
// in Node, and assigning JS values into them does not copy anything.
func toJS(vm *goja.Runtime, v any) (goja.Value, error) {
	return toJSValue(vm, v, 0)
}

func toJSValue(vm *goja.Runtime, v any, depth int) (goja.Value, error) {
	switch x := v.(type) {
	case nil:
		return goja.Null(), nil
	case string:
		return vm.ToValue(x), nil
	case float64:
		return vm.ToValue(x), nil
	case bool:
		return vm.ToValue(x), nil
	case map[string]any:
		// A map can contain itself; without a limit that would be a fatal
		// Go stack overflow rather than an error.
		if depth >= maxDepth {
			return nil, &pathError{msg: fmt.Sprintf("value is nested deeper than %d levels", maxDepth)}
		}
		obj := vm.NewObject()
		// Sorted keys make for..in and Object.keys order the same on every
		// run, so hooks that append in iteration order are deterministic.
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			jv, err := toJSValue(vm, x[k], depth+1)
			if err != nil {
				return nil, prependPath(err, "."+k)
			}
			if err := obj.Set(k, jv); err != nil {
				return nil, fmt.Errorf(".%s: %w", k, err)
			}
		}
		return obj, nil
	case []any:
		if depth >= maxDepth {
			return nil, &pathError{msg: fmt.Sprintf("value is nested deeper than %d levels", maxDepth)}
		}
		items := make([]any, len(x))
		for i, item := range x {
			jv, err := toJSValue(vm, item, depth+1)
			if err != nil {
				return nil, prependPath(err, "["+strconv.Itoa(i)+"]")
			}
			items[i] = jv
		}
		return vm.NewArray(items...), nil
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return nil, &pathError{msg: fmt.Sprintf("invalid number %q", string(x))}
		}
		return vm.ToValue(f), nil
	case int:
		return vm.ToValue(float64(x)), nil
	case int64:
		return vm.ToValue(float64(x)), nil
	case int32:
		return vm.ToValue(float64(x)), nil
	case float32:
		return vm.ToValue(float64(x)), nil
	default:
		return nil, &pathError{msg: fmt.Sprintf("unsupported Go type %T (want plain JSON values)", v)}
	}
}

// pathError accumulates the JSON path of a value that cannot be converted.
type pathError struct {
	path string
	msg  string
}

func (e *pathError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return "at " + strings.TrimPrefix(e.path, ".") + ": " + e.msg
}

func prependPath(err error, seg string) error {
	if pe, ok := errors.AsType[*pathError](err); ok {
		pe.path = seg + pe.path
		return pe
	}
	return err
}

// maxDepth stops runaway nesting before it exhausts the Go stack; real
// domain JSON is less than ten levels deep.
const maxDepth = 1000

// fromJSRoot converts the domain object back into plain Go values.
func fromJSRoot(vm *goja.Runtime, v goja.Value) (out map[string]any, err error) {
	c := &exporter{vm: vm}
	// Getters and toJSON methods run JS; if they throw, goja panics with the
	// exception because we are not inside a Run call.
	defer func() {
		if x := recover(); x != nil {
			switch e := x.(type) {
			case *goja.Exception:
				err = fmt.Errorf("JS exception: %w", e)
			case *goja.InterruptedError:
				err = fmt.Errorf("interrupted: %w", e)
			case *goja.StackOverflowError:
				err = fmt.Errorf("JS stack overflow: %w", e)
			default:
				panic(x) // a real bug; Run's recover reports it
			}
		}
	}()
	res, present, err := c.value(v, 0)
	if err != nil {
		return nil, err
	}
	m, ok := res.(map[string]any)
	if !present || !ok {
		return nil, fmt.Errorf("domainJSON is %s, not an object", describeValue(v))
	}
	return m, nil
}

// exporter converts JS values to plain Go JSON values with JSON.stringify
// semantics, without producing JSON text for the common cases.
type exporter struct {
	vm        *goja.Runtime
	ancestors []*goja.Object // the objects being converted, to detect cycles
	stringify goja.Callable  // JSON.stringify, looked up on first use
	indexKeys []string       // "0", "1", ... reused for array element lookups
}

// value returns the Go value for v. present is false for values that
// JSON.stringify leaves out of objects (undefined, functions, symbols);
// in arrays they become null.
func (c *exporter) value(v goja.Value, depth int) (res any, present bool, err error) {
	if v == nil || goja.IsUndefined(v) {
		return nil, false, nil
	}
	if goja.IsNull(v) {
		return nil, true, nil
	}
	if o, ok := v.(*goja.Object); ok {
		return c.object(o, depth)
	}
	switch x := v.Export().(type) {
	case string:
		return x, true, nil
	case int64:
		return float64(x), true, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, true, nil
		}
		return x, true, nil
	case bool:
		return x, true, nil
	case *goja.Symbol:
		return nil, false, nil
	case *big.Int:
		return nil, false, &pathError{msg: "BigInt value cannot be converted to JSON"}
	default:
		return nil, false, &pathError{msg: fmt.Sprintf("unsupported JS value %s", v.String())}
	}
}

func (c *exporter) object(o *goja.Object, depth int) (any, bool, error) {
	if _, isFunc := goja.AssertFunction(o); isFunc {
		return nil, false, nil
	}
	if depth >= maxDepth {
		return nil, false, &pathError{msg: fmt.Sprintf("value is nested deeper than %d levels", maxDepth)}
	}
	if slices.Contains(c.ancestors, o) {
		return nil, false, &pathError{msg: "cyclic object value"}
	}

	switch o.ClassName() {
	case "Array":
		c.ancestors = append(c.ancestors, o)
		defer func() { c.ancestors = c.ancestors[:len(c.ancestors)-1] }()
		n := o.Get("length").ToInteger()
		out := make([]any, n)
		for i := range int(n) {
			item, _, err := c.value(o.Get(c.indexKey(i)), depth+1)
			if err != nil {
				return nil, false, prependPath(err, "["+strconv.Itoa(i)+"]")
			}
			out[i] = item // absent values (undefined, functions) stay nil, i.e. null
		}
		return out, true, nil
	case "Object":
		if _, hasToJSON := goja.AssertFunction(o.Get("toJSON")); hasToJSON {
			return c.viaJSON(o)
		}
		c.ancestors = append(c.ancestors, o)
		defer func() { c.ancestors = c.ancestors[:len(c.ancestors)-1] }()
		keys := o.Keys()
		out := make(map[string]any, len(keys))
		for _, k := range keys {
			item, present, err := c.value(o.Get(k), depth+1)
			if err != nil {
				return nil, false, prependPath(err, "."+k)
			}
			if present {
				out[k] = item
			}
		}
		return out, true, nil
	default:
		// Dates, boxed primitives, Maps, RegExps, errors...: rare in domain
		// JSON, and JSON.stringify knows the rules for each of them.
		return c.viaJSON(o)
	}
}

// indexKey returns the property name of array index i without allocating a
// new string for every element of every array.
func (c *exporter) indexKey(i int) string {
	for len(c.indexKeys) <= i {
		c.indexKeys = append(c.indexKeys, strconv.Itoa(len(c.indexKeys)))
	}
	return c.indexKeys[i]
}

// viaJSON converts an exotic value with JSON.stringify and encoding/json.
func (c *exporter) viaJSON(o *goja.Object) (any, bool, error) {
	if c.stringify == nil {
		fn, ok := goja.AssertFunction(c.vm.Get("JSON").ToObject(c.vm).Get("stringify"))
		if !ok {
			return nil, false, errors.New("JSON.stringify is not a function")
		}
		c.stringify = fn
	}
	s, err := c.stringify(goja.Undefined(), o)
	if err != nil {
		return nil, false, &pathError{msg: "JSON.stringify: " + err.Error()}
	}
	if goja.IsUndefined(s) {
		return nil, false, nil
	}
	var out any
	if err := json.Unmarshal([]byte(s.String()), &out); err != nil {
		return nil, false, &pathError{msg: "JSON.stringify produced invalid JSON: " + err.Error()}
	}
	return out, true, nil
}
