// Package mustache parses Mustache templates the way mustache.js 4 does, so that the
// server's native "mustache" module (runtime/jsvm) renders what UnityBase applications
// rendered with the npm package, byte for byte: the same tag syntax ({{name}}, {{{name}}},
// {{&name}}, sections, inverted sections, partials, comments, set delimiters), the same
// trimming of whitespace inside tags, the same removal of "standalone" lines (a line
// holding only section, comment, partial or delimiter tags and whitespace), and the same
// errors. Rendering, which reads JavaScript values, lives with the runtime.
//
// Offsets (Token.Start, End, SectionEnd) are byte offsets into the template.
package mustache

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Kind is the kind of a token: the tag's symbol, "name" for a plain {{tag}}, or "text".
type Kind byte

const (
	Text     Kind = 't' // literal text
	Name     Kind = 'n' // {{name}}: the value, HTML-escaped
	Raw      Kind = '&' // {{{name}}} or {{&name}}: the value as it is
	Section  Kind = '#' // {{#name}}...{{/name}}
	Inverted Kind = '^' // {{^name}}...{{/name}}
	Partial  Kind = '>' // {{>name}}
)

// Token is one node of a parsed template.
type Token struct {
	Kind  Kind
	Value string // the text of a Text token; the (trimmed) name of a tag
	Start int    // where the token starts in the template
	End   int    // where it ends (for sections: the end of the opening tag)

	Children   []Token // the tokens of a section
	SectionEnd int     // where a section's closing tag starts

	// Partials: the whitespace (and spaces for other characters) before the tag on its
	// line, the number of tags before it on the line, and whether non-space text
	// precedes it on the line.
	Indentation     string
	TagIndex        int
	LineHasNonSpace bool
}

// DefaultTags are the delimiters of a template that sets none.
var DefaultTags = [2]string{"{{", "}}"}

// Error is a template that cannot be parsed; its message is mustache.js's.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Parse parses template with the delimiters tags.
func Parse(template string, tags [2]string) ([]Token, error) {
	if template == "" {
		return nil, nil
	}
	p := parser{src: template}
	if err := p.setTags(tags); err != nil {
		return nil, err
	}
	if err := p.run(); err != nil {
		return nil, err
	}
	return nest(squash(p.tokens)), nil
}

// ParseTags reads delimiters given as a string, as in a {{= =}} tag: the first two
// whitespace-separated parts.
func ParseTags(s string) ([2]string, error) {
	parts := strings.FieldsFunc(s, isSpace)
	if strings.IndexFunc(s, isSpace) == 0 {
		parts = append([]string{""}, parts...) // JavaScript's split keeps a leading empty part
	}
	if len(parts) < 2 {
		return [2]string{}, &Error{Msg: "Invalid tags: " + strings.Join(parts, ",")}
	}
	return [2]string{parts[0], parts[1]}, nil
}

// token is a parse-time token; text tokens hold one character each until squash, so
// that standalone lines can drop their whitespace.
type token struct {
	Token
	deleted bool
	closing bool // a {{/name}} tag
}

type parser struct {
	src    string
	pos    int
	tokens []token
	open   string // the opening delimiter
	close  string // the closing delimiter

	sections        []int // indices of the open section tokens
	spaces          []int // whitespace text tokens of the current line
	hasTag          bool  // a tag on the current line
	nonSpace        bool  // non-whitespace text or a value tag on the current line
	lineHasNonSpace bool
	indentation     strings.Builder
	tagIndex        int
}

func (p *parser) setTags(tags [2]string) error {
	if tags[0] == "" || tags[1] == "" {
		return &Error{Msg: "Invalid tags: " + tags[0] + "," + tags[1]}
	}
	p.open, p.close = tags[0], tags[1]
	return nil
}

// stripSpace ends a line: on a standalone line (a tag and only whitespace) the
// whitespace goes.
func (p *parser) stripSpace() {
	if p.hasTag && !p.nonSpace {
		for _, i := range p.spaces {
			p.tokens[i].deleted = true
		}
	}
	p.spaces = p.spaces[:0]
	p.hasTag, p.nonSpace = false, false
}

func (p *parser) run() error {
	for p.pos < len(p.src) {
		start := p.pos
		// The text up to the next opening delimiter, one character at a time.
		end := strings.Index(p.src[p.pos:], p.open)
		if end < 0 {
			end = len(p.src)
		} else {
			end += p.pos
		}
		for i := start; i < end; {
			r, size := utf8.DecodeRuneInString(p.src[i:])
			if isSpace(r) {
				p.spaces = append(p.spaces, len(p.tokens))
				p.indentation.WriteString(p.src[i : i+size])
			} else {
				p.nonSpace, p.lineHasNonSpace = true, true
				p.indentation.WriteByte(' ')
			}
			p.tokens = append(p.tokens, token{Token: Token{Kind: Text, Value: p.src[i : i+size], Start: i, End: i + size}})
			i += size
			if r == '\n' {
				p.stripSpace()
				p.indentation.Reset()
				p.tagIndex = 0
				p.lineHasNonSpace = false
			}
		}
		p.pos = end
		if p.pos >= len(p.src) {
			break
		}
		if err := p.tag(); err != nil {
			return err
		}
	}
	p.stripSpace()
	if n := len(p.sections); n > 0 {
		return &Error{Msg: fmt.Sprintf(`Unclosed section "%s" at %d`, p.tokens[p.sections[n-1]].Value, p.pos)}
	}
	return nil
}

// tag reads the tag at p.pos, an opening delimiter.
func (p *parser) tag() error {
	start := p.pos
	p.pos += len(p.open)
	p.skipSpace()
	p.hasTag = true
	kind := Name
	var closing, comment, delims, curly bool
	if p.pos < len(p.src) {
		switch c := p.src[p.pos]; c {
		case '#', '^', '>', '&':
			kind = Kind(c)
			p.pos++
		case '/':
			closing = true
			p.pos++
		case '{':
			kind, curly = Raw, true
			p.pos++
		case '=':
			delims = true
			p.pos++
		case '!':
			comment = true
			p.pos++
		}
	}
	p.skipSpace()
	var value string
	switch {
	case delims:
		value = p.until(func(rest string) int { return spaceThen(rest, "=") })
		if n := spaceThen(p.src[p.pos:], "="); n > 0 {
			p.pos += n
		}
		p.until(p.closeAt)
	case curly:
		value = p.until(func(rest string) int { return spaceThen(rest, "}"+p.close) })
		if n := spaceThen(p.src[p.pos:], "}"); n > 0 {
			p.pos += n
		}
		p.until(p.closeAt)
	default:
		value = p.until(p.closeAt)
	}
	n := p.closeAt(p.src[p.pos:])
	if n < 0 {
		return &Error{Msg: fmt.Sprintf("Unclosed tag at %d", p.pos)}
	}
	p.pos += n
	t := token{Token: Token{Kind: kind, Value: value, Start: start, End: p.pos}, closing: closing}
	if kind == Partial {
		t.Indentation, t.TagIndex, t.LineHasNonSpace = p.indentation.String(), p.tagIndex, p.lineHasNonSpace
	}
	p.tagIndex++
	switch {
	case comment:
		t.deleted = true // kept until here: it counts as a tag of the line
	case delims:
		t.deleted = true
		tags, err := ParseTags(value)
		if err != nil {
			return err
		}
		if err := p.setTags(tags); err != nil {
			return err
		}
	case closing:
		if len(p.sections) == 0 {
			return &Error{Msg: fmt.Sprintf(`Unopened section "%s" at %d`, value, start)}
		}
		open := p.tokens[p.sections[len(p.sections)-1]]
		p.sections = p.sections[:len(p.sections)-1]
		if open.Value != value {
			return &Error{Msg: fmt.Sprintf(`Unclosed section "%s" at %d`, open.Value, start)}
		}
	case kind == Section || kind == Inverted:
		p.sections = append(p.sections, len(p.tokens))
	case kind == Name || kind == Raw:
		p.nonSpace = true
	}
	p.tokens = append(p.tokens, t)
	return nil
}

// until advances to where at finds its match in the rest of the template (or to the
// end) and returns the text passed over.
func (p *parser) until(at func(rest string) int) string {
	rest := p.src[p.pos:]
	i := indexWhere(rest, at)
	if i < 0 {
		i = len(rest)
	}
	p.pos += i
	return rest[:i]
}

// closeAt is the length of whitespace followed by the closing delimiter at the start of
// rest, or -1.
func (p *parser) closeAt(rest string) int { return spaceThen(rest, p.close) }

func (p *parser) skipSpace() {
	for p.pos < len(p.src) {
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		if !isSpace(r) {
			return
		}
		p.pos += size
	}
}

// indexWhere returns the first byte offset i of s at which at(s[i:]) matches, or -1.
func indexWhere(s string, at func(string) int) int {
	for i := 0; i <= len(s); {
		if at(s[i:]) >= 0 {
			return i
		}
		if i == len(s) {
			break
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return -1
}

// spaceThen returns the length of the whitespace and lit at the start of s, or -1.
func spaceThen(s, lit string) int {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isSpace(r) {
			break
		}
		i += size
	}
	if strings.HasPrefix(s[i:], lit) {
		return i + len(lit)
	}
	return -1
}

// isSpace is JavaScript's \s: WhiteSpace and LineTerminator.
func isSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// squash joins consecutive text tokens and drops the deleted ones.
func squash(tokens []token) []token {
	out := tokens[:0]
	for _, t := range tokens {
		if t.deleted {
			continue
		}
		if t.Kind == Text && !t.closing && len(out) > 0 {
			if last := &out[len(out)-1]; last.Kind == Text && !last.closing {
				last.Value += t.Value
				last.End = t.End
				continue
			}
		}
		out = append(out, t)
	}
	return out
}

// nest builds the tree: a section's tokens become its Children.
func nest(tokens []token) []Token {
	var root []Token
	type frame struct {
		tok      Token
		children []Token
	}
	var stack []frame
	add := func(t Token) {
		if n := len(stack); n > 0 {
			stack[n-1].children = append(stack[n-1].children, t)
		} else {
			root = append(root, t)
		}
	}
	for _, t := range tokens {
		switch {
		case t.closing:
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			f.tok.Children = f.children
			f.tok.SectionEnd = t.Start
			add(f.tok)
		case t.Kind == Section || t.Kind == Inverted:
			stack = append(stack, frame{tok: t.Token})
		default:
			add(t.Token)
		}
	}
	return root
}

// ErrDepth is returned by renderers for partials nested too deeply (a partial that
// includes itself).
var ErrDepth = errors.New("mustache: partials nested too deeply")

// AppendEscapedHTML appends s escaped as mustache.js's default escape function
// (escapeHtml) does: & < > " ' / ` = become entities.
func AppendEscapedHTML(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '&':
			rep = "&amp;"
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		case '"':
			rep = "&quot;"
		case '\'':
			rep = "&#39;"
		case '/':
			rep = "&#x2F;"
		case '`':
			rep = "&#x60;"
		case '=':
			rep = "&#x3D;"
		default:
			continue
		}
		b = append(append(b, s[last:i]...), rep...)
		last = i + 1
	}
	return append(b, s[last:]...)
}
