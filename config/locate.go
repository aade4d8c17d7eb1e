package config

import (
	"strconv"

	"github.com/ubgo/ubgo/internal/jsonc"
)

// locate finds where the value at ptr of the final config was written: in the cust partial,
// the main config (including what it #included), then the partials from last to first. A
// pointer to a value that does not exist (a missing property) is located at its parent. A value
// that only defaults created has no position.
func (l *loader) locate(ptr string) (file string, line, col int) {
	tokens := jsonc.SplitPointer(ptr)
	if _, ok := jsonc.Get(l.cfg.Raw, tokens); !ok && len(tokens) > 0 {
		tokens = tokens[:len(tokens)-1]
	}
	for _, s := range l.sources() {
		st, ok := translate(l.cfg.Raw, s.value, tokens)
		if !ok {
			continue
		}
		off, ok := jsonc.Locate(s.doc.text, jsonc.JoinPointer(st...))
		if !ok {
			continue
		}
		return s.doc.pos(off)
	}
	return "", 0, 0
}

// sources lists the parsed files in the order they win.
func (l *loader) sources() []source {
	var out []source
	if l.cust != nil {
		out = append(out, *l.cust)
	}
	if l.main.doc != nil {
		out = append(out, l.main)
	}
	for i := len(l.partials) - 1; i >= 0; i-- {
		out = append(out, l.partials[i])
	}
	return out
}

// translate turns pointer tokens into the final config into tokens into one source, following
// the merge rules: an item of an array of named objects is found by its name, any other array
// item by its index.
func translate(final, src any, tokens []string) ([]string, bool) {
	out := make([]string, 0, len(tokens))
	f, s := final, src
	for _, t := range tokens {
		switch fv := f.(type) {
		case map[string]any:
			sm, ok := s.(map[string]any)
			if !ok {
				return nil, false
			}
			sv, ok := sm[t]
			if !ok {
				return nil, false
			}
			f, s = fv[t], sv
		case []any:
			sa, ok := s.([]any)
			if !ok {
				return nil, false
			}
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(fv) {
				return nil, false
			}
			j := i
			if name, named := itemName(fv[i]); named && jsonc.IsNamedCollection(sa) {
				j = -1
				for k, x := range sa {
					if n, _ := itemName(x); n == name {
						j = k
						break
					}
				}
				if j < 0 {
					return nil, false
				}
			} else if i >= len(sa) {
				return nil, false
			}
			t = strconv.Itoa(j)
			f, s = fv[i], sa[j]
		default:
			return nil, false
		}
		out = append(out, t)
	}
	return out, true
}

func itemName(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	n, ok := m["name"].(string)
	return n, ok
}

// mainPos returns the position of the value at ptr in the main config (or of its deepest
// existing ancestor).
func (l *loader) mainErr(ptr, msg string) *Error {
	off, _ := jsonc.Locate(l.main.doc.text, ptr)
	return l.main.doc.errAt(off, ptr, msg)
}
