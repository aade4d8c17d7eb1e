package els

import (
	"errors"
	"path"
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	tests := []struct {
		mask string
		yes  []string
		no   []string
	}{
		{"*", []string{"", "select", "uba_user"}, nil},
		{"**", []string{"", "x"}, nil},
		{"select", []string{"select", "SELECT", "Select"}, []string{"selec", "selects", "insert"}},
		{"uba_*", []string{"uba_", "uba_user", "UBA_ELS"}, []string{"ub_user", "tsk_uba_x"}},
		{"*_adm", []string{"ubm_desktop_adm", "_adm"}, []string{"ubm_desktop_admin"}},
		{"?elect", []string{"select", "delect"}, []string{"elect", "sselect"}},
		{"[iuda]*", []string{"insert", "update", "delete", "addnew", "Insert"}, []string{"select", ""}},
		{"[^s]*", []string{"insert", "update", "x"}, []string{"select", "secureBrowserEvent", "", "Select"}},
		{"[!s]*", []string{"insert"}, []string{"select"}},
		{"[a-e]*", []string{"addnew", "delete", "Cancel"}, []string{"insert", "select"}},
		{"[^a-e]?", []string{"xy", "z1"}, []string{"ay", "x", "xyz"}},
		{"a*b*c", []string{"abc", "aXbYc", "abbbc", "acbc"}, []string{"ab", "acb", "abcx"}},
		{"*a*a*a*a*b", []string{"aaaab", "xaxaxaxab"}, []string{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}},
		{"[[]x", []string{"[x"}, []string{"x"}},
	}
	for _, tt := range tests {
		m, err := CompileMask(tt.mask)
		if err != nil {
			t.Fatalf("%q: %v", tt.mask, err)
		}
		for _, s := range tt.yes {
			if !m.Match(s) {
				t.Errorf("%q does not match %q", tt.mask, s)
			}
		}
		for _, s := range tt.no {
			if m.Match(s) {
				t.Errorf("%q matches %q", tt.mask, s)
			}
		}
	}
}

func TestMaskErrors(t *testing.T) {
	for _, bad := range []string{"", "[", "[sel", "[]", "[^]", "[!]", "a]", "[a-]", "[-a]", "[a--b]", "x[^"} {
		_, err := CompileMask(bad)
		if !errors.Is(err, ErrBadMask) {
			t.Errorf("%q: err = %v, want ErrBadMask", bad, err)
			continue
		}
		if bad != "" && !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: the error %q does not quote the mask", bad, err)
		}
	}
}

// oraclePattern is the mask in path.Match's syntax: "[!" is "[^", everything lower case.
func oraclePattern(mask string) string {
	b := []byte(strings.ToLower(mask))
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '[' {
			if b[i+1] == '!' {
				b[i+1] = '^'
			}
			// Skip to the end of the set so that a '[' inside it is not taken for a start.
			j := i + 1
			if j < len(b) && b[j] == '^' {
				j++
			}
			for j < len(b) && (b[j] != ']' || j == i+1) {
				j++
			}
			i = j
		}
	}
	return string(b)
}

// usable reports whether s stays inside what both matchers define alike: ASCII without
// path.Match's escape and separator.
func usable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] == '\\' || s[i] == '/' || s[i] < 0x20 {
			return false
		}
	}
	return true
}

// FuzzMask checks the matcher against path.Match (the same glob language, given a
// lower-case pattern and name) and against invariants that hold for any mask.
func FuzzMask(f *testing.F) {
	for _, s := range [][2]string{{"*", "select"}, {"[iuda]*", "insert"}, {"[^s]*", "select"}, {"uba_?ser", "uba_user"},
		{"[a-e]x*", "Dx1"}, {"[", "x"}, {"a*b*c", "aXbc"}, {"[!x]", "y"}, {"[]]", "]"}, {"*[", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, mask, name string) {
		if len(mask) > 64 || len(name) > 64 {
			return
		}
		m, err := CompileMask(mask)
		if usable(mask) && usable(name) && mask != "" {
			want, oerr := path.Match(oraclePattern(mask), strings.ToLower(name))
			// One deliberate difference: path.Match takes a ']' outside a set for a
			// literal; a mask with one is a typo, refused.
			stray := err != nil && oerr == nil && strings.Contains(err.Error(), "closes no '['")
			if (err != nil) != (oerr != nil) && !stray {
				t.Fatalf("mask %q: CompileMask err %v, path.Match err %v", mask, err, oerr)
			}
			if err == nil && oerr == nil && m.Match(name) != want {
				t.Fatalf("mask %q name %q: Match %v, path.Match %v", mask, name, m.Match(name), want)
			}
		}
		if err != nil {
			if !errors.Is(err, ErrBadMask) {
				t.Fatalf("mask %q: error %v does not wrap ErrBadMask", mask, err)
			}
			return
		}
		// Invariants: a star-only mask matches everything; case never matters; a mask
		// without metacharacters matches exactly itself; mask+"*" matches whatever mask
		// matches, with anything appended.
		if m.MatchesAll() && !m.Match(name) {
			t.Fatalf("%q is * but does not match %q", mask, name)
		}
		if m.Match(name) != m.Match(asciiCase(name, true)) || m.Match(name) != m.Match(asciiCase(name, false)) {
			t.Fatalf("%q: matching %q depends on case", mask, name)
		}
		if !strings.ContainsAny(mask, "*?[]") && m.Match(name) != asciiEqualFold(mask, name) {
			t.Fatalf("literal %q vs %q: Match %v", mask, name, m.Match(name))
		}
		if m.Match(name) {
			wide, err := CompileMask(mask + "*")
			if err != nil || !wide.Match(name+"suffix") {
				t.Fatalf("%q matches %q but %q does not match %q", mask, name, mask+"*", name+"suffix")
			}
		}
	})
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func asciiCase(s string, upper bool) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case upper && 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		case !upper && 'A' <= c && c <= 'Z':
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
