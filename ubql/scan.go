package ubql

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// decoder is a strict JSON scanner over one request body. It accepts exactly RFC 8259
// JSON: no byte order mark, no comments, no NaN or Infinity, no trailing data, valid
// UTF-8 only (lone surrogate escapes included), no duplicate member names, and no
// numbers that overflow a float64. Nesting is bounded by MaxJSONDepth.
//
// It is hand-written rather than built on encoding/json because the request decoder needs
// member order (whereList items, the first of v1 "values"), integer literals as int64,
// duplicate-name detection and error paths, and because this is the hot path of every
// request.
type decoder struct {
	data  []byte
	pos   int
	depth int
	off   int    // offset of data in the whole body, for messages about re-decoded spans
	nest  int    // subquery nesting of the request being read
	buf   []byte // scratch for unescaping
}

func (d *decoder) syntaxErr(msg string) *Error {
	return badRequest(CodeInvalidData, "", "invalid JSON at offset "+strconv.Itoa(d.off+d.pos)+": "+msg)
}

// unexpected reports what was found where want was expected.
func (d *decoder) unexpected(want string) *Error {
	if d.pos >= len(d.data) {
		return d.syntaxErr("unexpected end of input, expected " + want)
	}
	c := d.data[d.pos]
	var found string
	switch {
	case d.pos == 0 && d.off == 0 && c == 0xEF:
		found = "a byte order mark"
	case c >= 0x20 && c < 0x7F:
		found = strconv.QuoteRune(rune(c))
	default:
		found = "byte 0x" + strconv.FormatUint(uint64(c), 16)
	}
	return d.syntaxErr("unexpected " + found + ", expected " + want)
}

func (d *decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek skips white space and returns the next byte, or 0 at the end of the input.
func (d *decoder) peek() byte {
	d.ws()
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// end checks that only white space follows the value just read.
func (d *decoder) end() error {
	d.ws()
	if d.pos != len(d.data) {
		return d.syntaxErr("unexpected data after the JSON value")
	}
	return nil
}

func (d *decoder) enter() error {
	d.depth++
	if d.depth > MaxJSONDepth {
		return d.syntaxErr("nesting is deeper than " + strconv.Itoa(MaxJSONDepth) + " levels")
	}
	d.pos++
	return nil
}

// object reads an object, calling fn for each member once the colon has been read; fn
// must read the member's value. key stays valid after fn returns. Errors returned by fn
// get the key prepended to their path.
func (d *decoder) object(fn func(key []byte) error) error {
	if d.peek() != '{' {
		return d.unexpected("'{'")
	}
	if err := d.enter(); err != nil {
		return err
	}
	if d.peek() == '}' {
		d.pos++
		d.depth--
		return nil
	}
	for {
		if d.peek() != '"' {
			return d.unexpected("a member name")
		}
		key, err := d.strBytes(true)
		if err != nil {
			return err
		}
		if d.peek() != ':' {
			return d.unexpected("':'")
		}
		d.pos++
		d.ws()
		if err := fn(key); err != nil {
			if e, ok := err.(*Error); ok {
				e.at(pathSeg(string(key)))
			}
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			d.depth--
			return nil
		default:
			return d.unexpected("',' or '}'")
		}
	}
}

// array reads an array, calling fn for each element; fn must read the element. Errors
// returned by fn get the index prepended to their path.
func (d *decoder) array(fn func(i int) error) error {
	if d.peek() != '[' {
		return d.unexpected("'['")
	}
	if err := d.enter(); err != nil {
		return err
	}
	if d.peek() == ']' {
		d.pos++
		d.depth--
		return nil
	}
	for i := 0; ; i++ {
		d.ws()
		if err := fn(i); err != nil {
			if e, ok := err.(*Error); ok {
				e.at(strconv.Itoa(i))
			}
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			d.depth--
			return nil
		default:
			return d.unexpected("',' or ']'")
		}
	}
}

// value reads any JSON value: nil, bool, int64, float64, string, []any or map[string]any.
func (d *decoder) value() (any, error) {
	switch c := d.peek(); c {
	case '"':
		return d.str()
	case '{':
		m := map[string]any{}
		err := d.object(func(key []byte) error {
			if _, dup := m[string(key)]; dup {
				return errDuplicate()
			}
			k := string(key)
			v, err := d.value()
			if err != nil {
				return err
			}
			m[k] = v
			return nil
		})
		return m, err
	case '[':
		s := []any{}
		err := d.array(func(int) error {
			v, err := d.value()
			s = append(s, v)
			return err
		})
		return s, err
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return d.number()
		}
		return nil, d.unexpected("a value")
	}
}

func errDuplicate() *Error {
	return badRequest(CodeInvalidData, "", "duplicate member name")
}

func (d *decoder) literal(lit string) error {
	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return nil
	}
	return d.unexpected("a value")
}

// number reads a number: int64 when it is an integer literal that fits, float64 otherwise.
func (d *decoder) number() (any, error) {
	start, i := d.pos, d.pos
	data := d.data
	if data[i] == '-' {
		i++
	}
	digits := func() bool {
		j := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		return i > j
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case !digits():
		d.pos = i
		return nil, d.unexpected("a digit")
	}
	isInt := true
	if i < len(data) && data[i] == '.' {
		isInt = false
		i++
		if !digits() {
			d.pos = i
			return nil, d.unexpected("a digit")
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		isInt = false
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if !digits() {
			d.pos = i
			return nil, d.unexpected("a digit")
		}
	}
	d.pos = i
	text := data[start:i]
	if isInt {
		neg := text[0] == '-'
		ds := text
		if neg {
			ds = text[1:]
		}
		if len(ds) <= 18 { // fits int64 without overflow checks
			var n int64
			for _, c := range ds {
				n = n*10 + int64(c-'0')
			}
			if neg {
				n = -n
			}
			return n, nil
		}
		if n, err := strconv.ParseInt(string(text), 10, 64); err == nil {
			return n, nil
		}
	}
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil {
		d.pos = start
		return nil, d.syntaxErr("number " + quote(string(text)) + " is out of range")
	}
	return f, nil
}

func (d *decoder) str() (string, error) {
	b, err := d.strBytes(false)
	return string(b), err
}

// strBytes reads a string. The result points into the input when the string has no
// escapes; otherwise it is unescaped into d.buf (valid until the next call) or, when
// stable is set, into a fresh slice.
func (d *decoder) strBytes(stable bool) ([]byte, error) {
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return nil, d.unexpected("a string")
	}
	d.pos++
	start := d.pos
	data := d.data
	for i := start; i < len(data); {
		c := data[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			i++
			continue
		}
		switch {
		case c == '"':
			d.pos = i + 1
			return data[start:i], nil
		case c == '\\':
			return d.strSlow(start, i, stable)
		case c < 0x20:
			d.pos = i
			return nil, d.syntaxErr("control character in a string (escape it)")
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			d.pos = i
			return nil, d.syntaxErr("invalid UTF-8 in a string")
		}
		i += size
	}
	d.pos = len(data)
	return nil, d.syntaxErr("unterminated string")
}

func (d *decoder) strSlow(start, i int, stable bool) ([]byte, error) {
	data := d.data
	out := d.buf[:0]
	if stable {
		out = nil
	}
	out = append(out, data[start:i]...)
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			if !stable {
				d.buf = out
			}
			return out, nil
		case c == '\\':
			if i+1 >= len(data) {
				d.pos = i
				return nil, d.syntaxErr("unterminated string")
			}
			e := data[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := hex4(data, i)
				if !ok {
					d.pos = i
					return nil, d.syntaxErr("invalid \\u escape")
				}
				i += 4
				if utf16.IsSurrogate(r) {
					var r2 rune = -1
					if i+6 <= len(data) && data[i] == '\\' && data[i+1] == 'u' {
						r2, ok = hex4(data, i+2)
						if !ok {
							r2 = -1
						}
					}
					dec := utf16.DecodeRune(r, r2)
					if dec == utf8.RuneError {
						d.pos = i
						return nil, d.syntaxErr("invalid UTF-16 surrogate in a \\u escape")
					}
					i += 6
					r = dec
				}
				out = utf8.AppendRune(out, r)
			default:
				d.pos = i - 1
				return nil, d.syntaxErr("invalid escape in a string")
			}
		case c < 0x20:
			d.pos = i
			return nil, d.syntaxErr("control character in a string (escape it)")
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				d.pos = i
				return nil, d.syntaxErr("invalid UTF-8 in a string")
			}
			out = append(out, data[i:i+size]...)
			i += size
		}
	}
	d.pos = len(data)
	return nil, d.syntaxErr("unterminated string")
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// pathSeg makes a member name fit an error path: names that would break the one-line,
// dot-separated form are quoted.
func pathSeg(s string) string {
	if s == "" || len(s) > 64 {
		return quote(s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == '.' || c == '"' || c >= 0x7F {
			return quote(s)
		}
	}
	return s
}
