package jsonc

import (
	"strconv"
	"strings"
)

// JoinPointer builds an RFC 6901 JSON pointer from unescaped tokens.
func JoinPointer(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		if strings.ContainsAny(t, "~/") {
			t = strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
		}
		b.WriteString(t)
	}
	return b.String()
}

// SplitPointer splits an RFC 6901 JSON pointer into unescaped tokens. "" is the whole document.
func SplitPointer(ptr string) []string {
	if ptr == "" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, t := range parts {
		if strings.Contains(t, "~") {
			parts[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
		}
	}
	return parts
}

// Get returns the value at the pointer tokens inside v.
func Get(v any, tokens []string) (any, bool) {
	for _, t := range tokens {
		switch c := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = c[t]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// Locate returns the byte offset in src of the value the pointer designates. When the pointer
// goes deeper than the document (a missing key), it returns the position of the deepest
// existing value on the way and ok=false, which is still the best place to point a user at.
func Locate(src []byte, ptr string) (offset int, ok bool) {
	tokens := SplitPointer(ptr)
	p := parser{src: src}
	p.skipBOM()
	p.skipSpace()
	best := p.pos
	for _, tok := range tokens {
		if p.err != nil || p.pos >= len(src) {
			return best, false
		}
		switch src[p.pos] {
		case '{':
			found := false
			p.pos++
			for p.err == nil {
				p.skipSpace()
				if p.pos >= len(src) || src[p.pos] == '}' {
					break
				}
				key, okk := p.str()
				if !okk {
					return best, false
				}
				p.skipSpace()
				p.pos++ // ':'
				p.skipSpace()
				if key == tok {
					found = true
					// Keep scanning for a later duplicate, which is the one that wins.
					best = p.pos
					save := p.pos
					p.skipValue()
					p.skipSpace()
					if p.pos < len(src) && src[p.pos] == ',' {
						p.pos++
						if later, ok := p.findKeyLater(tok); ok {
							save = later
						}
					}
					p.pos = save
					best = save
					break
				}
				p.skipValue()
				p.skipSpace()
				if p.pos < len(src) && src[p.pos] == ',' {
					p.pos++
				}
			}
			if !found {
				return best, false
			}
		case '[':
			idx, err := strconv.Atoi(tok)
			if err != nil || idx < 0 {
				return best, false
			}
			p.pos++
			for i := 0; ; i++ {
				p.skipSpace()
				if p.err != nil || p.pos >= len(src) || src[p.pos] == ']' {
					return best, false
				}
				if i == idx {
					break
				}
				p.skipValue()
				p.skipSpace()
				if p.pos < len(src) && src[p.pos] == ',' {
					p.pos++
				}
			}
			best = p.pos
		default:
			return best, false
		}
	}
	return best, p.err == nil
}

// findKeyLater scans the rest of the current object for key and returns its value offset.
func (p *parser) findKeyLater(key string) (int, bool) {
	off, found := 0, false
	for p.err == nil {
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] == '}' {
			break
		}
		k, ok := p.str()
		if !ok {
			break
		}
		p.skipSpace()
		p.pos++
		p.skipSpace()
		if k == key {
			off, found = p.pos, true
		}
		p.skipValue()
		p.skipSpace()
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
		}
	}
	return off, found
}

// skipValue advances over one value without building it.
func (p *parser) skipValue() {
	if p.pos >= len(p.src) {
		return
	}
	switch p.src[p.pos] {
	case '{', '[':
		depth := 0
		for p.pos < len(p.src) && p.err == nil {
			switch p.src[p.pos] {
			case '{', '[':
				depth++
				p.pos++
			case '}', ']':
				depth--
				p.pos++
				if depth == 0 {
					return
				}
			case '"':
				p.str()
			case '/':
				p.skipSpace()
			default:
				p.pos++
			}
		}
	case '"':
		p.str()
	default:
		for p.pos < len(p.src) {
			switch p.src[p.pos] {
			case ',', '}', ']', ' ', '\t', '\n', '\r', '/':
				return
			}
			p.pos++
		}
	}
}
