package ubql

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/ubgo/ubgo/store/dialect"
)

// AppendResponses appends the /ubql answer, a JSON array of responses, to dst.
func AppendResponses(dst []byte, rs []*Response) []byte {
	dst = append(dst, '[')
	for i, r := range rs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = r.AppendJSON(dst)
	}
	return append(dst, ']')
}

// MarshalJSON encodes the response as UnityBase does.
func (r *Response) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// MarshalJSON encodes the request in the form DecodeRequest reads.
func (r *Request) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// AppendJSON appends the response object: the request echoed back, then resultData,
// __totalRecCount and the Result keys (in name order). A Result key replaces an echoed key
// of the same name (a cached select answers its own "version").
func (r *Response) AppendJSON(dst []byte) []byte {
	w := objWriter{b: append(dst, '{'), skip: r.Result}
	if r.Request != nil {
		w.request(r.Request)
	}
	if r.ResultData != nil && w.key("resultData") {
		w.b = r.ResultData.appendJSON(w.b)
	}
	if r.TotalRecCount != nil && w.key("__totalRecCount") {
		w.b = strconv.AppendInt(w.b, *r.TotalRecCount, 10)
	}
	if len(r.Result) > 0 {
		w.skip = nil
		for _, k := range sortedKeys(r.Result) {
			w.key(k)
			w.b = appendValue(w.b, r.Result[k])
		}
	}
	return append(w.b, '}')
}

// AppendJSON appends the request as a JSON object.
func (r *Request) AppendJSON(dst []byte) []byte {
	w := objWriter{b: append(dst, '{')}
	w.request(r)
	return append(w.b, '}')
}

// objWriter writes the members of one object, the commas between them, and leaves out
// names in skip.
type objWriter struct {
	b    []byte
	n    int
	skip map[string]any
}

// key writes the name of the next member and reports whether to write its value.
func (w *objWriter) key(k string) bool {
	if w.skip != nil {
		if _, ok := w.skip[k]; ok {
			return false
		}
	}
	if w.n > 0 {
		w.b = append(w.b, ',')
	}
	w.n++
	w.b = appendString(w.b, k)
	w.b = append(w.b, ':')
	return true
}

func (w *objWriter) str(k, v string) {
	if w.key(k) {
		w.b = appendString(w.b, v)
	}
}

func (w *objWriter) strs(k string, v []string) {
	if w.key(k) {
		w.b = appendStrings(w.b, v)
	}
}

func (w *objWriter) request(r *Request) {
	w.str("entity", r.Entity)
	w.str("method", r.Method)
	if r.FieldListSet || len(r.FieldList) > 0 {
		w.strs("fieldList", r.FieldList)
	}
	if len(r.WhereList) > 0 && w.key("whereList") {
		w.b = appendWhereList(w.b, r.WhereList)
	}
	if len(r.LogicalPredicates) > 0 {
		w.strs("logicalPredicates", r.LogicalPredicates)
	}
	if len(r.JoinAs) > 0 {
		w.strs("joinAs", r.JoinAs)
	}
	if len(r.OrderList) > 0 && w.key("orderList") {
		w.b = append(w.b, '{')
		for i, o := range r.OrderList {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = append(w.b, '"')
			w.b = strconv.AppendInt(w.b, int64(i), 10)
			w.b = append(w.b, `":{"expression":`...)
			w.b = appendString(w.b, o.Expression)
			w.b = append(w.b, `,"order":`...)
			w.b = appendString(w.b, o.Order)
			w.b = append(w.b, '}')
		}
		w.b = append(w.b, '}')
	}
	if len(r.GroupList) > 0 {
		w.strs("groupList", r.GroupList)
	}
	if r.Options.Set && w.key("options") {
		w.b = append(w.b, `{"start":`...)
		w.b = strconv.AppendInt(w.b, int64(r.Options.Start), 10)
		w.b = append(w.b, `,"limit":`...)
		w.b = strconv.AppendInt(w.b, int64(r.Options.Limit), 10)
		w.b = append(w.b, `,"totalRequired":`...)
		w.b = strconv.AppendBool(w.b, r.Options.TotalRequired)
		w.b = append(w.b, '}')
	}
	if r.ExecParams != nil && w.key("execParams") {
		w.b = appendValue(w.b, r.ExecParams)
	}
	if r.ID != nil && w.key("ID") {
		w.b = strconv.AppendInt(w.b, *r.ID, 10)
	}
	for i := range miscFlags {
		f := &miscFlags[i]
		if f.b != nil {
			if *f.b(&r.Misc) && w.key(f.name) {
				w.b = append(w.b, "true"...)
			}
		} else if s := *f.s(&r.Misc); s != "" {
			w.str(f.name, s)
		}
	}
	if len(r.Extra) > 0 {
		for _, k := range sortedKeys(r.Extra) {
			if _, known := topKeys[k]; known {
				continue // a key the request holds in a field of its own
			}
			if w.key(k) {
				w.b = appendValue(w.b, r.Extra[k])
			}
		}
	}
}

// appendWhereList writes whereList in the form each item came in: v2 "value" and/or v1
// "values".
func appendWhereList(b []byte, items []WhereItem) []byte {
	b = append(b, '{')
	for i := range items {
		it := &items[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, it.Name)
		b = append(b, `:{"expression":`...)
		b = appendString(b, it.Expression)
		b = append(b, `,"condition":`...)
		b = appendString(b, string(it.Condition))
		if it.HasValue {
			b = append(b, `,"value":`...)
			if it.SubQuery != nil && it.Value == nil {
				b = it.SubQuery.AppendJSON(b)
			} else {
				b = appendValue(b, it.Value)
			}
		}
		if it.Values != nil {
			b = append(b, `,"values":`...)
			b = appendValue(b, it.Values)
		}
		if it.SubQueryType != "" {
			b = append(b, `,"subQueryType":`...)
			b = appendString(b, it.SubQueryType)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func (rd *ResultData) appendJSON(b []byte) []byte {
	if rd.NotModified {
		return append(b, `{"notModified":true}`...)
	}
	b = append(b, `{"fields":`...)
	b = appendStrings(b, rd.Fields)
	b = append(b, `,"rowCount":`...)
	b = strconv.AppendInt(b, int64(len(rd.Data)), 10)
	b = append(b, `,"data":[`...)
	for i, row := range rd.Data {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j, cell := range row {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, cell)
		}
		b = append(b, ']')
	}
	return append(b, "]}"...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendValue writes a JSON value. The cases cover what decoders, the store and the
// JavaScript runtime produce; anything else goes through encoding/json.
func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		return appendFloat(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case time.Time:
		b = append(b, '"')
		b = x.UTC().AppendFormat(b, dialect.TimeFormat)
		return append(b, '"')
	case json.RawMessage:
		if len(x) == 0 {
			return append(b, "null"...)
		}
		return append(b, x...)
	case []byte:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, x)
		return append(b, '"')
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case float32:
		return appendFloat(b, float64(x))
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, e)
		}
		return append(b, ']')
	case map[string]any:
		b = append(b, '{')
		for i, k := range sortedKeys(x) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendValue(b, x[k])
		}
		return append(b, '}')
	case []string:
		return appendStrings(b, x)
	case []int64:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, e, 10)
		}
		return append(b, ']')
	case *Request:
		return x.AppendJSON(b)
	case *ResultData:
		return x.appendJSON(b)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, out...)
}

// appendFloat writes f as JavaScript would: the shortest form that reads back the same,
// integral values without a fraction, exponents only for very small or large values.
// NaN and infinities, which JSON cannot express, become null (JSON.stringify does the
// same).
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-07 → e-7, as JavaScript writes it
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// safeASCII marks the ASCII bytes a JSON string may hold unescaped.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string, escaped as every ubgo response escapes
// strings; code outside ubql that writes JSON by hand uses it too.
func AppendJSONString(b []byte, s string) []byte { return appendString(b, s) }

// appendString writes s as a JSON string: quotes, backslashes and control characters
// escaped, invalid UTF-8 replaced by U+FFFD, and U+2028/U+2029 escaped so that the output
// is also valid JavaScript.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
