package jsvm

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// appendResultJSON appends v as JSON.stringify(v) would write it, for the values whose
// text it can produce without running script code: primitives, select results (rows.go)
// whose rows hold primitive and date values, and ordinary arrays of these. ok is false for everything else,
// and for results a script has changed in ways the fast path does not follow (added or
// deleted properties, another prototype, object values, a toJSON method on
// Object.prototype, Array.prototype or Date.prototype): the caller then runs
// JSON.stringify itself. b is returned unchanged when ok is false.
//
// Exactness matters more than reach: every value written here is written byte for byte
// as goja's JSON.stringify writes it (jsonwrite_test.go compares the two).
func (w *Worker) appendResultJSON(b []byte, v goja.Value) (out []byte, ok bool) {
	j := resultJSON{w: w, b: b}
	if obj, isObj := v.(*goja.Object); isObj {
		if !w.prototypesPlain() {
			return b, false
		}
		ok = j.object(obj)
	} else {
		ok = j.primitive(v)
	}
	if !ok {
		return b, false
	}
	return j.b, true
}

type resultJSON struct {
	w *Worker
	b []byte
}

// prototypesPlain reports whether no toJSON was added to the prototypes that the fast
// path assumes have none, and Date's is its own.
func (w *Worker) prototypesPlain() bool {
	a := &w.api
	if a.objectProto == nil {
		vm := w.vm
		a.objectProto = vm.Get("Object").(*goja.Object).Get("prototype").(*goja.Object)
		a.arrayProto = vm.Get("Array").(*goja.Object).Get("prototype").(*goja.Object)
		a.dateProto = a.dateCtor.Get("prototype").(*goja.Object)
		a.dateToJSON = a.dateProto.Get("toJSON")
		a.dateToISO = a.dateProto.Get("toISOString")
	}
	absent := func(v goja.Value) bool { return v == nil || goja.IsUndefined(v) }
	return absent(a.objectProto.Get("toJSON")) && absent(a.arrayProto.Get("toJSON")) &&
		a.dateProto.Get("toJSON") == a.dateToJSON && a.dateProto.Get("toISOString") == a.dateToISO
}

// object writes a result, a row, or an ordinary array of them and primitives.
func (j *resultJSON) object(obj *goja.Object) bool {
	switch obj.ExportType() {
	case typeResultRows:
		return j.rows(obj)
	case typeResultRow:
		return j.row(obj, obj.Export().(*resultRow))
	}
	if obj.ClassName() != "Array" || obj.Prototype() != j.w.api.arrayProto {
		return false
	}
	n := obj.Get("length").ToInteger()
	j.b = append(j.b, '[')
	for i := range n {
		if i > 0 {
			j.b = append(j.b, ',')
		}
		e := obj.Get(j.w.indexKey(int(i)))
		switch eo, isObj := e.(*goja.Object); {
		case e == nil || goja.IsUndefined(e):
			j.b = append(j.b, "null"...) // as JSON.stringify writes a hole
		case isObj:
			if !j.object(eo) {
				return false
			}
		case !j.primitive(e):
			return false
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

func (j *resultJSON) rows(obj *goja.Object) bool {
	a := obj.Export().(*resultRows)
	if obj.Prototype() != j.w.api.arrayProto {
		return false
	}
	j.b = append(j.b, '[')
	for i, e := range a.elems {
		if i > 0 {
			j.b = append(j.b, ',')
		}
		if e == nil { // never read by the script: the store's row as it came
			if !j.cells(a.shape.names, a.data[i], nil) {
				return false
			}
			continue
		}
		eo, isObj := e.(*goja.Object)
		if !isObj || eo.ExportType() != typeResultRow || !j.row(eo, eo.Export().(*resultRow)) {
			return false
		}
	}
	j.b = append(j.b, ']')
	return true
}

func (j *resultJSON) row(obj *goja.Object, r *resultRow) bool {
	if r.extra != nil || obj.Prototype() != j.w.api.objectProto {
		return false
	}
	return j.cells(r.shape.names, r.cells, r.vals)
}

// cells writes a row object: vals[i], when set, replaces cells[i].
func (j *resultJSON) cells(names []string, cells []any, vals []goja.Value) bool {
	j.b = append(j.b, '{')
	first := true
	for i := range min(len(names), len(cells)) {
		mark := len(j.b)
		if !first {
			j.b = append(j.b, ',')
		}
		j.b = appendJSString(j.b, names[i])
		j.b = append(j.b, ':')
		var written, ok bool
		if vals != nil && vals[i] != nil {
			written, ok = j.value(vals[i])
		} else {
			written, ok = j.cell(cells[i])
		}
		switch {
		case !ok:
			return false
		case written:
			first = false
		default: // undefined: JSON.stringify leaves the property out
			j.b = j.b[:mark]
		}
	}
	j.b = append(j.b, '}')
	return true
}

// cell writes a store value as JSON.stringify writes the JS value toJS makes of it.
func (j *resultJSON) cell(c any) (written, ok bool) {
	switch x := c.(type) {
	case nil:
		j.b = append(j.b, "null"...)
	case int64:
		return true, j.int(x)
	case int:
		return true, j.int(int64(x))
	case int32:
		j.b = strconv.AppendInt(j.b, int64(x), 10)
	case float64:
		return true, j.float(x)
	case bool:
		j.b = strconv.AppendBool(j.b, x)
	case string:
		j.b = appendJSString(j.b, x)
	case time.Time:
		// toJS makes a Date of the whole milliseconds; its toJSON is toISOString.
		t := time.UnixMilli(x.UnixMilli()).UTC()
		if t.Year() < 0 || t.Year() > 9999 {
			return false, false
		}
		j.b = append(j.b, '"')
		j.b = t.AppendFormat(j.b, "2006-01-02T15:04:05.000Z")
		j.b = append(j.b, '"')
	default:
		return false, false
	}
	return true, true
}

// value writes a primitive JS value; undefined is not written.
func (j *resultJSON) value(v goja.Value) (written, ok bool) {
	if goja.IsUndefined(v) {
		return false, true
	}
	return true, j.primitive(v)
}

func (j *resultJSON) primitive(v goja.Value) bool {
	if goja.IsNull(v) {
		j.b = append(j.b, "null"...)
		return true
	}
	switch v.ExportType() {
	case typeInt64:
		j.b = strconv.AppendInt(j.b, v.ToInteger(), 10)
	case typeFloat64:
		return j.float(v.ToFloat())
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
func (j *resultJSON) int(x int64) bool {
	if x >= -maxSafeInt && x <= maxSafeInt {
		j.b = strconv.AppendInt(j.b, x, 10)
		return true
	}
	return j.float(float64(x))
}

// float writes a number as JavaScript's Number.prototype.toString does (NaN and the
// infinities as null).
func (j *resultJSON) float(f float64) bool {
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
	return true
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
