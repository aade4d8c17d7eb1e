// Package jsonc reads the JSON dialect UnityBase uses for ubConfig.json and *.meta files:
// strict JSON plus a leading UTF-8 byte order mark, `//` / `/* */` comments outside strings
// and trailing commas in objects and arrays (UnityBase's native reader accepts them and real
// metadata files contain them).
//
// Decoded values are plain Go values: map[string]any, []any, string, float64, bool and nil.
// Duplicate object keys keep the last value, as JavaScript's JSON.parse does, and are
// reported so that callers can warn about them. Errors carry the byte offset and the
// 1-based line and column (in runes) of the offending input.
//
// The package also locates the text position of a JSON pointer in a source (used to turn a
// schema finding into file:line:col) and merges documents the way UnityBase merges
// metadata and configuration (lodash merge plus "named collections").
package jsonc

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth bounds nesting so that a hostile or broken file cannot exhaust the stack.
const MaxDepth = 512

// SyntaxError describes malformed input.
type SyntaxError struct {
	Offset    int // byte offset into the source
	Line, Col int // 1-based; Col counts runes
	Msg       string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// Duplicate is an object key that occurred more than once; the last occurrence wins.
type Duplicate struct {
	Pointer string // JSON pointer of the key
	Offset  int    // byte offset of the repeated occurrence
}

// Parse decodes src. See ParseDups for duplicate-key reporting.
func Parse(src []byte) (any, error) {
	v, _, err := ParseDups(src)
	return v, err
}

// ParseDups decodes src and also returns the duplicate object keys it met.
func ParseDups(src []byte) (any, []Duplicate, error) {
	p := parser{src: src}
	p.skipBOM()
	p.skipSpace()
	if p.err != nil {
		return nil, nil, p.err
	}
	v := p.value(0)
	if p.err != nil {
		return nil, nil, p.err
	}
	p.skipSpace()
	if p.err == nil && p.pos < len(p.src) {
		p.fail(p.pos, "unexpected %s after the top-level value", p.describe(p.pos))
	}
	if p.err != nil {
		return nil, nil, p.err
	}
	return v, p.dups, nil
}

type parser struct {
	src  []byte
	pos  int
	err  *SyntaxError
	dups []Duplicate
	path []string // tracked only to name duplicate keys
}

func (p *parser) fail(off int, format string, args ...any) {
	if p.err != nil {
		return
	}
	line, col := Position(p.src, off)
	p.err = &SyntaxError{Offset: off, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) describe(off int) string {
	if off >= len(p.src) {
		return "end of input"
	}
	r, _ := utf8.DecodeRune(p.src[off:])
	return strconv.QuoteRune(r)
}

func (p *parser) skipBOM() {
	if len(p.src) >= 3 && p.src[0] == 0xEF && p.src[1] == 0xBB && p.src[2] == 0xBF {
		p.pos = 3
	}
}

// skipSpace skips whitespace and comments.
func (p *parser) skipSpace() {
	for p.pos < len(p.src) {
		switch c := p.src[p.pos]; c {
		case ' ', '\t', '\n', '\r':
			p.pos++
		case '/':
			if p.pos+1 >= len(p.src) {
				p.fail(p.pos, "unexpected '/'")
				return
			}
			switch p.src[p.pos+1] {
			case '/':
				p.pos += 2
				for p.pos < len(p.src) && p.src[p.pos] != '\n' {
					p.pos++
				}
			case '*':
				start := p.pos
				end := strings.Index(string(p.src[p.pos+2:]), "*/")
				if end < 0 {
					p.fail(start, "unterminated /* comment")
					return
				}
				p.pos += 2 + end + 2
			default:
				p.fail(p.pos, "unexpected '/'")
				return
			}
		default:
			return
		}
	}
}

func (p *parser) value(depth int) any {
	if depth > MaxDepth {
		p.fail(p.pos, "nesting deeper than %d levels", MaxDepth)
		return nil
	}
	if p.pos >= len(p.src) {
		p.fail(p.pos, "unexpected end of input, expected a value")
		return nil
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, ok := p.str()
		if !ok {
			return nil
		}
		return s
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return p.literal("true", true)
	case c == 'f':
		return p.literal("false", false)
	case c == 'n':
		return p.literal("null", nil)
	default:
		p.fail(p.pos, "unexpected %s, expected a value", p.describe(p.pos))
		return nil
	}
}

func (p *parser) literal(word string, v any) any {
	if strings.HasPrefix(string(p.src[p.pos:min(len(p.src), p.pos+len(word))]), word) {
		p.pos += len(word)
		return v
	}
	p.fail(p.pos, "invalid literal, expected %s", word)
	return nil
}

func (p *parser) object(depth int) any {
	p.pos++ // {
	m := make(map[string]any)
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		return m
	}
	for p.err == nil {
		p.skipSpace()
		if p.pos < len(p.src) && p.src[p.pos] == '}' {
			// A trailing comma: UnityBase's own metadata reader accepts it and real files have it.
			p.pos++
			return m
		}
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			p.fail(p.pos, "unexpected %s, expected a quoted property name", p.describe(p.pos))
			return nil
		}
		keyOff := p.pos
		key, ok := p.str()
		if !ok {
			return nil
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			p.fail(p.pos, "unexpected %s, expected ':' after property name %q", p.describe(p.pos), key)
			return nil
		}
		p.pos++
		p.skipSpace()
		p.path = append(p.path, key)
		v := p.value(depth + 1)
		if _, dup := m[key]; dup && p.err == nil {
			p.dups = append(p.dups, Duplicate{Pointer: JoinPointer(p.path...), Offset: keyOff})
		}
		p.path = p.path[:len(p.path)-1]
		m[key] = v
		p.skipSpace()
		if p.pos >= len(p.src) {
			p.fail(p.pos, "unexpected end of input, expected ',' or '}'")
			return nil
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return m
		default:
			p.fail(p.pos, "unexpected %s, expected ',' or '}'", p.describe(p.pos))
			return nil
		}
	}
	return nil
}

func (p *parser) array(depth int) any {
	p.pos++ // [
	a := make([]any, 0, 4)
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		return a
	}
	for p.err == nil {
		p.skipSpace()
		if p.pos < len(p.src) && p.src[p.pos] == ']' {
			p.pos++ // a trailing comma, accepted like in objects
			return a
		}
		p.path = append(p.path, strconv.Itoa(len(a)))
		v := p.value(depth + 1)
		p.path = p.path[:len(p.path)-1]
		a = append(a, v)
		p.skipSpace()
		if p.pos >= len(p.src) {
			p.fail(p.pos, "unexpected end of input, expected ',' or ']'")
			return nil
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return a
		default:
			p.fail(p.pos, "unexpected %s, expected ',' or ']'", p.describe(p.pos))
			return nil
		}
	}
	return nil
}

func (p *parser) number() any {
	start := p.pos
	if p.src[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	intStart := p.pos
	if digits() == 0 {
		p.fail(start, "invalid number")
		return nil
	}
	if p.src[intStart] == '0' && p.pos-intStart > 1 {
		p.fail(start, "invalid number: leading zero")
		return nil
	}
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			p.fail(start, "invalid number: no digits after '.'")
			return nil
		}
	}
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			p.fail(start, "invalid number: no digits in exponent")
			return nil
		}
	}
	f, err := strconv.ParseFloat(string(p.src[start:p.pos]), 64)
	if err != nil || math.IsInf(f, 0) {
		p.fail(start, "number %s is out of range", p.src[start:p.pos])
		return nil
	}
	return f
}

// str reads a JSON string starting at the opening quote.
func (p *parser) str() (string, bool) {
	start := p.pos
	p.pos++
	// Fast path: no escapes.
	for i := p.pos; i < len(p.src); i++ {
		c := p.src[i]
		if c == '"' {
			s := p.src[p.pos:i]
			if !utf8.Valid(s) {
				break
			}
			p.pos = i + 1
			return string(s), true
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	var b strings.Builder
	for {
		if p.pos >= len(p.src) {
			p.fail(start, "unterminated string")
			return "", false
		}
		c := p.src[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), true
		case c == '\\':
			if p.pos+1 >= len(p.src) {
				p.fail(start, "unterminated string")
				return "", false
			}
			esc := p.src[p.pos+1]
			p.pos += 2
			switch esc {
			case '"', '\\', '/':
				b.WriteByte(esc)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", false
				}
				if utf16.IsSurrogate(r) {
					r2 := rune(utf8.RuneError)
					if p.pos+1 < len(p.src) && p.src[p.pos] == '\\' && p.src[p.pos+1] == 'u' {
						p.pos += 2
						lo, ok := p.hex4()
						if !ok {
							return "", false
						}
						r2 = utf16.DecodeRune(r, lo)
					}
					r = r2
				}
				b.WriteRune(r)
			default:
				p.fail(p.pos-2, "invalid escape \\%c in string", esc)
				return "", false
			}
		case c < 0x20:
			p.fail(p.pos, "control character in string (use \\n, \\t, ...)")
			return "", false
		default:
			r, size := utf8.DecodeRune(p.src[p.pos:])
			if r == utf8.RuneError && size == 1 {
				p.fail(p.pos, "invalid UTF-8 in string")
				return "", false
			}
			b.Write(p.src[p.pos : p.pos+size])
			p.pos += size
		}
	}
}

func (p *parser) hex4() (rune, bool) {
	if p.pos+4 > len(p.src) {
		p.fail(p.pos, "invalid \\u escape")
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.src[p.pos:p.pos+4]), 16, 32)
	if err != nil {
		p.fail(p.pos-2, "invalid \\u escape")
		return 0, false
	}
	p.pos += 4
	return rune(n), true
}

// Position converts a byte offset into a 1-based line and a 1-based column counted in runes.
func Position(src []byte, offset int) (line, col int) {
	if offset > len(src) {
		offset = len(src)
	}
	line, col = 1, 1
	lineStart := 0
	for i := 0; i < offset; i++ {
		if src[i] == '\n' {
			line++
			lineStart = i + 1
		}
	}
	seg := src[lineStart:offset]
	if lineStart == 0 && len(seg) >= 3 && seg[0] == 0xEF && seg[1] == 0xBB && seg[2] == 0xBF {
		seg = seg[3:]
	}
	return line, utf8.RuneCount(seg) + 1
}
