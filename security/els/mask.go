package els

import (
	"errors"
	"fmt"
)

// Mask is a compiled entityMask or methodMask of an access rule: a glob pattern where
// "*" matches any run of characters (also none), "?" one character, "[abc]" one of the
// listed characters, "[a-e]" one of a range, and "[^abc]" or "[!abc]" one character not
// listed. Every other character stands for itself; there is no escape character. Matching
// ignores ASCII letter case and works on bytes: entity and method names are ASCII.
type Mask struct {
	src   string
	parts []part
	all   bool // the mask is "*" (or only stars)
}

type partKind uint8

const (
	pLiteral partKind = iota
	pAny              // ?
	pStar             // *
	pClass            // [...]
)

type part struct {
	kind   partKind
	lit    byte      // pLiteral, lower case
	negate bool      // pClass
	ranges [][2]byte // pClass, lower case bounds
}

// ErrBadMask is wrapped by every mask syntax error.
var ErrBadMask = errors.New("malformed mask")

// CompileMask parses a mask. Errors wrap ErrBadMask and say what is wrong and where.
func CompileMask(src string) (*Mask, error) {
	if src == "" {
		return nil, fmt.Errorf("%w: the mask is empty", ErrBadMask)
	}
	m := &Mask{src: src, all: true}
	for i := 0; i < len(src); {
		c := src[i]
		switch c {
		case '*':
			if n := len(m.parts); n == 0 || m.parts[n-1].kind != pStar { // "**" is "*"
				m.parts = append(m.parts, part{kind: pStar})
			}
			i++
			continue
		case '?':
			m.parts = append(m.parts, part{kind: pAny})
			i++
		case '[':
			p, next, err := compileClass(src, i)
			if err != nil {
				return nil, err
			}
			m.parts = append(m.parts, p)
			i = next
		case ']':
			return nil, fmt.Errorf("%w %q: ']' at %d closes no '['", ErrBadMask, src, i+1)
		default:
			m.parts = append(m.parts, part{kind: pLiteral, lit: lower(c)})
			i++
		}
		m.all = false
	}
	return m, nil
}

// compileClass reads the character class that starts at src[i] == '['.
func compileClass(src string, i int) (part, int, error) {
	bad := func(msg string) (part, int, error) {
		return part{}, 0, fmt.Errorf("%w %q: %s (the set at %d)", ErrBadMask, src, msg, i+1)
	}
	p := part{kind: pClass}
	j := i + 1
	if j < len(src) && (src[j] == '^' || src[j] == '!') {
		p.negate = true
		j++
	}
	for {
		if j >= len(src) {
			return bad("'[' is not closed")
		}
		c := src[j]
		if c == ']' {
			if len(p.ranges) == 0 {
				return bad("the set is empty")
			}
			return p, j + 1, nil
		}
		if c == '-' {
			return bad("'-' must not start a range")
		}
		lo, hi := c, c
		j++
		if j < len(src) && src[j] == '-' {
			if j+1 >= len(src) || src[j+1] == ']' || src[j+1] == '-' {
				return bad("a range has no upper bound")
			}
			hi = src[j+1]
			j += 2
		}
		p.ranges = append(p.ranges, [2]byte{lower(lo), lower(hi)})
	}
}

// String is the mask as written.
func (m *Mask) String() string { return m.src }

// MatchesAll reports whether the mask is "*".
func (m *Mask) MatchesAll() bool { return m.all }

// Match reports whether name matches the whole mask.
func (m *Mask) Match(name string) bool {
	if m.all {
		return true
	}
	// Greedy matching with backtracking to the last star: every star only ever extends,
	// so the work is bounded by len(parts) * len(name).
	pi, ni := 0, 0
	starPart, starName := -1, 0
	for ni < len(name) || pi < len(m.parts) {
		if pi < len(m.parts) {
			p := &m.parts[pi]
			if p.kind == pStar {
				starPart, starName = pi, ni
				pi++
				continue
			}
			if ni < len(name) && p.matches(lower(name[ni])) {
				pi++
				ni++
				continue
			}
		}
		if starPart < 0 || starName >= len(name) {
			return false
		}
		starName++
		pi, ni = starPart+1, starName
	}
	return true
}

func (p *part) matches(c byte) bool {
	switch p.kind {
	case pAny:
		return true
	case pLiteral:
		return p.lit == c
	}
	in := false
	for _, r := range p.ranges {
		if r[0] <= c && c <= r[1] {
			in = true
			break
		}
	}
	return in != p.negate
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
