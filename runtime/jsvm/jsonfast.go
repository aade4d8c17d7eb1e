package jsvm

import (
	"strconv"

	"github.com/dop251/goja"
)

// parseJSONFast is JSON.parse for the request bodies endpoints usually get: small objects
// and arrays of numbers, plain strings, booleans and null. goja's JSON.parse walks the
// text through encoding/json's token stream, which costs about twenty allocations for
// {"id":42}; this builds the same values directly.
//
// It accepts a strict subset of JSON and reports ok=false for anything else (a string
// with an escape, a control or non-ASCII byte, a number strconv cannot represent, nesting
// deeper than fastJSONDepth, a syntax error), so the caller falls back to JSON.parse,
// which then produces the value or the SyntaxError scripts expect. What it does build is
// what JSON.parse builds: numbers go through the float64 → Value conversion JSON.parse
// uses (integral values become integers), properties are defined as own data properties
// in text order (a repeated key keeps its first position and its last value; "__proto__"
// is an ordinary key; setters on Object.prototype are not called).
func (w *Worker) parseJSONFast(src []byte) (v goja.Value, ok bool) {
	p := fastJSON{w: w, src: src}
	v, ok = p.value(0)
	if !ok {
		return nil, false
	}
	p.space()
	if p.pos != len(p.src) {
		return nil, false
	}
	return v, true
}

// fastJSONDepth bounds the recursion of parseJSONFast; deeper values take the slow path.
const fastJSONDepth = 32

type fastJSON struct {
	w   *Worker
	src []byte
	pos int
}

func (p *fastJSON) space() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *fastJSON) value(depth int) (goja.Value, bool) {
	p.space()
	if p.pos >= len(p.src) || depth > fastJSONDepth {
		return nil, false
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		return p.w.vm.ToValue(s), true
	case c == 't':
		return p.literal("true", goja.Value(p.w.vm.ToValue(true)))
	case c == 'f':
		return p.literal("false", goja.Value(p.w.vm.ToValue(false)))
	case c == 'n':
		return p.literal("null", goja.Null())
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return nil, false
}

func (p *fastJSON) literal(word string, v goja.Value) (goja.Value, bool) {
	if len(p.src)-p.pos < len(word) || string(p.src[p.pos:p.pos+len(word)]) != word {
		return nil, false
	}
	p.pos += len(word)
	return v, true
}

// str reads a string of printable ASCII without escapes.
func (p *fastJSON) str() (string, bool) {
	start := p.pos + 1
	for i := start; i < len(p.src); i++ {
		switch c := p.src[i]; {
		case c == '"':
			p.pos = i + 1
			return string(p.src[start:i]), true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return "", false
		}
	}
	return "", false
}

// number reads a JSON number (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?).
func (p *fastJSON) number() (goja.Value, bool) {
	start, i := p.pos, p.pos
	digits := func() bool {
		from := i
		for i < len(p.src) && p.src[i] >= '0' && p.src[i] <= '9' {
			i++
		}
		return i > from
	}
	if p.src[i] == '-' {
		i++
	}
	if i < len(p.src) && p.src[i] == '0' {
		i++
	} else if !digits() {
		return nil, false
	}
	if i < len(p.src) && p.src[i] == '.' {
		i++
		if !digits() {
			return nil, false
		}
	}
	if i < len(p.src) && (p.src[i] == 'e' || p.src[i] == 'E') {
		i++
		if i < len(p.src) && (p.src[i] == '+' || p.src[i] == '-') {
			i++
		}
		if !digits() {
			return nil, false
		}
	}
	f, err := strconv.ParseFloat(string(p.src[start:i]), 64)
	if err != nil {
		return nil, false
	}
	p.pos = i
	return p.w.vm.ToValue(f), true
}

func (p *fastJSON) object(depth int) (goja.Value, bool) {
	obj := p.w.vm.NewObject()
	p.pos++ // {
	p.space()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		return obj, true
	}
	for {
		p.space()
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return nil, false
		}
		key, ok := p.str()
		if !ok {
			return nil, false
		}
		p.space()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return nil, false
		}
		p.pos++
		v, ok := p.value(depth + 1)
		if !ok {
			return nil, false
		}
		if obj.DefineDataProperty(key, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE) != nil {
			return nil, false
		}
		p.space()
		if p.pos >= len(p.src) {
			return nil, false
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return obj, true
		default:
			return nil, false
		}
	}
}

func (p *fastJSON) array(depth int) (goja.Value, bool) {
	p.pos++ // [
	var items []any
	p.space()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		return p.w.vm.NewArray(), true
	}
	for {
		v, ok := p.value(depth + 1)
		if !ok {
			return nil, false
		}
		items = append(items, v)
		p.space()
		if p.pos >= len(p.src) {
			return nil, false
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return p.w.vm.NewArray(items...), true
		default:
			return nil, false
		}
	}
}
