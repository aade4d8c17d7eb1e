package config

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"
)

// environment resolves %VAR% macros: the real environment first, then the .env file.
type environment struct {
	lookup func(string) (string, bool)
	dotenv map[string]string
}

func (e *environment) get(name string) (string, bool) {
	if e == nil {
		return "", false
	}
	if e.lookup != nil {
		if v, ok := e.lookup(name); ok {
			return v, true
		}
	}
	v, ok := e.dotenv[name]
	return v, ok
}

var dotenvLineRE = regexp.MustCompile(`^\s*(?:export\s+)?([\w.\-]+)\s*=\s*(.*?)\s*$`)

// parseDotenv reads KEY=VALUE lines. Blank lines and lines starting with # are skipped; a value
// may be wrapped in double quotes (where \n, \r, \t, \" and \\ are expanded) or single quotes
// (taken literally); an unquoted value is trimmed and a " #" starts a trailing comment. Lines
// that are not assignments are reported by their 1-based numbers.
func parseDotenv(data []byte) (vals map[string]string, bad []int) {
	vals = map[string]string{}
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		m := dotenvLineRE.FindStringSubmatch(line)
		if m == nil {
			bad = append(bad, n)
			continue
		}
		vals[m[1]] = dotenvValue(m[2])
	}
	return vals, bad
}

func dotenvValue(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		s := v[1 : len(v)-1]
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				switch s[i+1] {
				case 'n':
					b.WriteByte('\n')
				case 'r':
					b.WriteByte('\r')
				case 't':
					b.WriteByte('\t')
				case '"':
					b.WriteByte('"')
				case '\\':
					b.WriteByte('\\')
				default:
					b.WriteByte(c)
					b.WriteByte(s[i+1])
				}
				i++
				continue
			}
			b.WriteByte(c)
		}
		return b.String()
	}
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1]
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v)
}

// macroRE is UnityBase's environment macro: %NAME% or %NAME||default%.
var macroRE = regexp.MustCompile(`%([\w\-#.@$]*?)(?:\|\|(.*?))?%`)

// jsonEscape escapes s for use inside a JSON string literal.
func jsonEscape(s string) string {
	if !strings.ContainsAny(s, "\"\\") && !hasControl(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20:
			const hex = "0123456789abcdef"
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 {
			return true
		}
	}
	return false
}
