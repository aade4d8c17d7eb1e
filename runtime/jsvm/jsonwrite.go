package jsvm

import (
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// appendJSON appends JSON.stringify(v), byte for byte as goja writes it, without
// building the text as a JS string first. ok is false, and b unchanged, when
// JSON.stringify(v) is undefined (v is undefined, a function or a symbol).
//
// Select results (rows.go) are written from their Go cells, ordinary objects and arrays
// by walking them as JSON.stringify does: the same property reads in the same order,
// toJSON called with the same key, so getters run once and exceptions propagate as
// they would. Values it has no exact rule for (a Proxy, a BigInt, a Go value exposed to
// scripts, structures nested deeper than maxJSONDepth, which may be circular) are
// written by JSON.stringify itself, one subtree at a time.
// TestAppendJSONMatchesStringify (rows_test.go) compares the output with JSON.stringify's.
func (w *Worker) appendJSON(b []byte, v goja.Value) (out []byte, ok bool) {
	if cap(b) == 0 {
		b = make([]byte, 0, 128) // instead of growing from 8 bytes for a small object
	}
	j := jsonWriter{w: w, b: b}
	if !j.value(v, "", 0, true) {
		return b, false
	}
	return j.b, true
}

// maxJSONDepth is the nesting from which appendJSON leaves a value to JSON.stringify,
// which detects cycles.
const maxJSONDepth = 64

type jsonWriter struct {
	w *Worker
	b []byte
	// What result rows assume of the prototypes, each read on first need: a select by ID
	// asks only about Object.prototype, a list also about Array.prototype, and only rows
	// with dates about Date.prototype.
	objChecked, objPlain   bool
	arrChecked, arrPlain   bool
	dateChecked, datePlain bool
}

// objectsPlain reports whether no toJSON was added to Object.prototype, which writing a
// result row from its cells assumes.
func (j *jsonWriter) objectsPlain() bool {
	if !j.objChecked {
		a := j.w.builtinProtos()
		j.objPlain, j.objChecked = absent(a.objectProto.Get("toJSON")), true
	}
	return j.objPlain
}

// arraysPlain reports whether no toJSON was added to Array.prototype, which writing a
// select result from its rows assumes.
func (j *jsonWriter) arraysPlain() bool {
	if !j.arrChecked {
		a := j.w.builtinProtos()
		j.arrPlain, j.arrChecked = absent(a.arrayProto.Get("toJSON")), true
	}
	return j.arrPlain
}

// datesPlain reports whether Date's toJSON and toISOString are the built-in ones, which
// writing a date cell as its ISO text assumes.
func (j *jsonWriter) datesPlain() bool {
	if !j.dateChecked {
		a := j.w.builtinProtos()
		j.datePlain = a.dateProto.Get("toJSON") == a.dateToJSON && a.dateProto.Get("toISOString") == a.dateToISO
		j.dateChecked = true
	}
	return j.datePlain
}

func absent(v goja.Value) bool { return v == nil || goja.IsUndefined(v) }

// builtinProtos returns the worker's API with the built-in prototypes and Date methods
// the JSON writer compares against, read on first use.
func (w *Worker) builtinProtos() *api {
	a := &w.api
	if a.objectProto == nil {
		vm := w.vm
		a.objectProto = vm.Get("Object").(*goja.Object).Get("prototype").(*goja.Object)
		a.arrayProto = vm.Get("Array").(*goja.Object).Get("prototype").(*goja.Object)
		a.dateProto = a.dateCtor.Get("prototype").(*goja.Object)
		a.dateToJSON = a.dateProto.Get("toJSON")
		a.dateToISO = a.dateProto.Get("toISOString")
	}
	return a
}

var (
	typeMap   = reflect.TypeFor[map[string]any]()
	typeProxy = reflect.TypeFor[goja.Proxy]()
)

// value writes v, the value of property key of its holder, as JSON.stringify's
// SerializeJSONProperty does; toJSON says whether v's toJSON applies (it does not to the
// value a toJSON returned). It returns false when nothing is written: undefined,
// functions and symbols, which objects leave out and arrays write as null.
func (j *jsonWriter) value(v goja.Value, key string, depth int, toJSON bool) bool {
	if v == nil || goja.IsUndefined(v) {
		return false
	}
	obj, isObj := v.(*goja.Object)
	if !isObj {
		if _, sym := v.(*goja.Symbol); sym {
			return false
		}
		if j.primitive(v) {
			return true
		}
		return j.builtin(v) // a BigInt: JSON.stringify throws
	}
	if depth >= maxJSONDepth {
		return j.builtin(v)
	}
	if r := j.w.rowOf(obj); r != nil {
		if j.objectsPlain() && j.plainRow(obj, r) {
			j.cells(r.shape, r.cells, r.vals, depth)
			return true
		}
	} else {
		switch obj.ExportType() {
		case typeResultRows:
			if j.arraysPlain() && j.objectsPlain() && obj.Prototype() == j.w.api.arrayProto {
				j.rows(obj.Export().(*resultRows), depth)
				return true
			}
		case typeProxy:
			return j.builtin(v)
		}
	}
	if toJSON {
		if f, callable := goja.AssertFunction(obj.Get("toJSON")); callable {
			res, err := f(obj, j.w.vm.ToValue(key))
			if err != nil {
				j.w.throw(err)
			}
			return j.value(res, key, depth+1, false)
		}
	}
	switch class := obj.ClassName(); {
	case class == "Function":
		return false
	case class == "Array":
		return j.array(obj, depth)
	case class == "Object" && obj.ExportType() == typeMap:
		return j.object(obj, depth)
	case toJSON:
		return j.builtin(v) // a Date, Map, boxed primitive...: JSON.stringify knows them
	case class == "Number" || class == "String" || class == "Boolean":
		return j.builtin(v) // a toJSON's boxed result: unwrapped
	}
	// What a toJSON returned gets no toJSON call of its own: any other object is written
	// as its own enumerable properties (a Date as {}).
	return j.object(obj, depth)
}

// builtin writes v with JSON.stringify.
func (j *jsonWriter) builtin(v goja.Value) bool {
	s, err := j.w.api.jsonStringify(goja.Undefined(), v)
	if err != nil {
		j.w.throw(err)
	}
	if s == nil || goja.IsUndefined(s) {
		return false
	}
	j.b = append(j.b, s.String()...) // JSON text escapes lone surrogates: String() is exact
	return true
}

// object writes an ordinary object: its own enumerable string keys, in order.
func (j *jsonWriter) object(obj *goja.Object, depth int) bool {
	keys := obj.Keys()
	for _, k := range keys {
		if strings.Contains(k, "\uFFFD") {
			// Keys lost a lone surrogate of this name in the conversion to Go;
			// JSON.stringify has the name exactly. No property was read yet.
			return j.builtin(obj)
		}
	}
	j.b = append(j.b, '{')
	first := true
	for _, k := range keys {
		mark := len(j.b)
		if !first {
			j.b = append(j.b, ',')
		}
		j.b = appendJSString(j.b, k)
		j.b = append(j.b, ':')
		if j.value(obj.Get(k), k, depth+1, true) {
			first = false
		} else {
			j.b = j.b[:mark]
		}
	}
	j.b = append(j.b, '}')
	return true
}

// array writes an array (or any object of class Array) element by element.
func (j *jsonWriter) array(obj *goja.Object, depth int) bool {
	n := obj.Get("length").ToInteger()
	j.b = append(j.b, '[')
	for i := range n {
		if i > 0 {
			j.b = append(j.b, ',')
		}
		k := j.w.indexKey(int(i))
		if !j.value(obj.Get(k), k, depth+1, true) {
			j.b = append(j.b, "null"...)
		}
	}
	j.b = append(j.b, ']')
	return true
}

// indexKey returns the property name of array index i, kept per worker so that walking
// an array allocates nothing.
func (w *Worker) indexKey(i int) string {
	if i >= 1<<16 {
		return strconv.Itoa(i)
	}
	for len(w.indexKeys) <= i {
		w.indexKeys = append(w.indexKeys, strconv.Itoa(len(w.indexKeys)))
	}
	return w.indexKeys[i]
}

// plainRow reports whether r is written from its cells: nothing added or deleted, the
// Object prototype, no field named toJSON.
func (j *jsonWriter) plainRow(obj *goja.Object, r *resultRow) bool {
	return r.extra == nil && obj.Prototype() == j.w.api.objectProto && r.shape.find("toJSON") < 0
}

// rows writes a select result: the rows no script has read straight from the store's
// cells, the others as values.
func (j *jsonWriter) rows(a *resultRows, depth int) {
	// Room for short cells: growing a response body by doubling copies it several times.
	j.b = slices.Grow(j.b, len(a.elems)*(len(a.shape.names)*16+2)+2)
	j.b = append(j.b, '[')
	for i, e := range a.elems {
		if i > 0 {
			j.b = append(j.b, ',')
		}
		switch {
		case e == nil:
			j.cells(a.shape, a.data[i], nil, depth+1)
		case i < len(a.rows) && a.rows[i].obj == e && j.plainRow(a.rows[i].obj, &a.rows[i]):
			r := &a.rows[i]
			j.cells(r.shape, r.cells, r.vals, depth+1)
		case !j.value(e, j.w.indexKey(i), depth+1, true):
			j.b = append(j.b, "null"...)
		}
	}
	j.b = append(j.b, ']')
}

// cells writes a row object: vals[i], when set, replaces cells[i].
func (j *jsonWriter) cells(shape *rowShape, cells []any, vals []goja.Value, depth int) {
	names, keys := shape.names, shape.jsonKeys()
	j.b = append(j.b, '{')
	first := true
	for i := range min(len(names), len(cells)) {
		mark := len(j.b)
		if !first {
			j.b = append(j.b, ',')
		}
		j.b = append(j.b, keys[i]...)
		var written bool
		if vals != nil && vals[i] != nil {
			written = j.value(vals[i], names[i], depth+1, true)
		} else {
			written = j.cell(cells[i], names[i], depth+1)
		}
		if written {
			first = false
		} else { // undefined: JSON.stringify leaves the property out
			j.b = j.b[:mark]
		}
	}
	j.b = append(j.b, '}')
}

// cell writes a store value as JSON.stringify writes the JS value toJS makes of it.
func (j *jsonWriter) cell(c any, key string, depth int) bool {
	switch x := c.(type) {
	case nil:
		j.b = append(j.b, "null"...)
	case int64:
		j.int(x)
	case int:
		j.int(int64(x))
	case int32:
		j.b = strconv.AppendInt(j.b, int64(x), 10)
	case float64:
		j.float(x)
	case bool:
		j.b = strconv.AppendBool(j.b, x)
	case string:
		j.b = appendJSString(j.b, x)
	case time.Time:
		// toJS makes a Date of the whole milliseconds; its toJSON is toISOString.
		t := time.UnixMilli(x.UnixMilli()).UTC()
		if t.Year() < 0 || t.Year() > 9999 || !j.datesPlain() {
			return j.value(j.w.toJS(c), key, depth, true)
		}
		j.b = append(j.b, '"')
		j.b = t.AppendFormat(j.b, "2006-01-02T15:04:05.000Z")
		j.b = append(j.b, '"')
	default:
		return j.value(j.w.toJS(c), key, depth, true)
	}
	return true
}

func (j *jsonWriter) primitive(v goja.Value) bool {
	if goja.IsNull(v) {
		j.b = append(j.b, "null"...)
		return true
	}
	switch v.ExportType() {
	case typeInt64:
		j.b = strconv.AppendInt(j.b, v.ToInteger(), 10)
	case typeFloat64:
		j.float(v.ToFloat())
	case typeBool:
		j.b = strconv.AppendBool(j.b, v.ToBoolean())
	case typeString:
		s := v.String()
		if strings.Contains(s, "\uFFFD") {
			// A UTF-16 string may hold lone surrogates, which String() replaced;
			// JSON.stringify escapes them.
			if gs, isStr := v.(goja.String); isStr {
				j.b = appendJSUTF16(j.b, gs)
				return true
			}
		}
		j.b = appendJSString(j.b, s)
	default: // undefined at the top level, symbols, BigInt, objects
		return false
	}
	return true
}

var (
	typeInt64   = reflect.TypeFor[int64]()
	typeFloat64 = reflect.TypeFor[float64]()
	typeBool    = reflect.TypeFor[bool]()
	typeString  = reflect.TypeFor[string]()
)

// maxSafeInt is the largest integer a float64 holds exactly with all below it (2^53):
// goja keeps integers up to it as integers and turns larger ones into floats.
const maxSafeInt = 1 << 53

// int writes an integer cell as the JS number goja makes of it.
func (j *jsonWriter) int(x int64) {
	if x >= -maxSafeInt && x <= maxSafeInt {
		j.b = strconv.AppendInt(j.b, x, 10)
		return
	}
	j.float(float64(x))
}

// float writes a number as JavaScript's Number.prototype.toString does (NaN and the
// infinities as null).
func (j *jsonWriter) float(f float64) {
	switch a := math.Abs(f); {
	case math.IsNaN(f) || math.IsInf(f, 0):
		j.b = append(j.b, "null"...)
	case f == math.Trunc(f) && a <= maxSafeInt:
		j.b = strconv.AppendInt(j.b, int64(f), 10) // also -0 as "0"
	case a >= 1e-6 && a < 1e21:
		j.b = strconv.AppendFloat(j.b, f, 'f', -1, 64)
	default: // exponent notation: goja's own formatting
		j.b = append(j.b, j.w.vm.ToValue(f).String()...)
	}
}

// appendJSString appends s as a JSON string the way JSON.stringify quotes the string
// goja makes of s: invalid UTF-8 became U+FFFD, and only '"', '\' and control characters
// are escaped.
func appendJSString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...)
			i++
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		b = appendJSEscape(b, rune(c))
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendJSUTF16 quotes a goja string code unit by code unit, escaping lone surrogates.
func appendJSUTF16(b []byte, s goja.String) []byte {
	b = append(b, '"')
	n := s.Length()
	for i := 0; i < n; i++ {
		c := rune(s.CharAt(i))
		switch {
		case utf16.IsSurrogate(c):
			if c < 0xDC00 && i+1 < n {
				if c2 := rune(s.CharAt(i + 1)); c2 >= 0xDC00 && c2 <= 0xDFFF {
					b = utf8.AppendRune(b, utf16.DecodeRune(c, c2))
					i++
					continue
				}
			}
			b = append(b, `\u`...)
			b = append(b, hexDigits[c>>12], hexDigits[(c>>8)&0xF], hexDigits[(c>>4)&0xF], hexDigits[c&0xF])
		case c < 0x20 || c == '"' || c == '\\':
			b = appendJSEscape(b, c)
		default:
			b = utf8.AppendRune(b, c)
		}
	}
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

func appendJSEscape(b []byte, c rune) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', byte(c))
	case '\b':
		return append(b, `\b`...)
	case '\t':
		return append(b, `\t`...)
	case '\n':
		return append(b, `\n`...)
	case '\f':
		return append(b, `\f`...)
	case '\r':
		return append(b, `\r`...)
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}
