package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/ubgo/ubgo/internal/jsonc"
)

// maxIncludeDepth bounds "#include(...)" nesting.
const maxIncludeDepth = 8

// fileRef names a file either on the OS file system (fsys == nil, name absolute) or inside a
// model's fs.FS (a built-in model).
type fileRef struct {
	fsys    fs.FS
	name    string // absolute OS path, or a slash-separated path inside fsys
	display string // how errors name the file
	prefix  string // for fsys files: display = prefix + name
}

func osRef(abs string) fileRef { return fileRef{name: abs, display: abs} }

func fsRef(fsys fs.FS, prefix, name string) fileRef {
	return fileRef{fsys: fsys, name: name, display: prefix + name, prefix: prefix}
}

func (r fileRef) read() ([]byte, error) {
	if r.fsys == nil {
		return os.ReadFile(r.name)
	}
	return fs.ReadFile(r.fsys, r.name)
}

// resolve returns the file rel names relative to r's folder.
func (r fileRef) resolve(rel string) fileRef {
	if filepath.IsAbs(rel) {
		return osRef(filepath.Clean(rel))
	}
	if r.fsys == nil {
		return osRef(filepath.Join(filepath.Dir(r.name), rel))
	}
	return fsRef(r.fsys, r.prefix, path.Join(path.Dir(r.name), filepath.ToSlash(rel)))
}

// preprocessor applies UnityBase's text preprocessing (reference §1.4 steps 2-4) to config
// files, keeping a source map, recording the environment variables used and collecting errors.
type preprocessor struct {
	env  *environment
	uses []EnvUse
	seen map[string]bool
	errs []*Error
}

func (p *preprocessor) fail(e *Error) { p.errs = append(p.errs, e) }

// file preprocesses one file: macros, then //#ifdef blocks, then "#include(...)" tokens.
// stack is the include chain ending with ref. ok is false when the file had errors (already
// recorded).
func (p *preprocessor) file(ref fileRef, data []byte, stack []string) (d *doc, ok bool) {
	src := &srcFile{name: ref.display, data: data}
	start := 0
	if bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		start = 3
	}
	d = newDoc(p.macros(src, start))
	d, ok = p.ifdefs(d)
	if !ok {
		return nil, false
	}
	return p.includes(d, ref, stack)
}

// lexical states used to tell whether a macro stands inside a JSON string.
const (
	lexCode = iota
	lexString
	lexLineComment
	lexBlockComment
)

// macros substitutes %NAME||default% macros in src.data[start:]. A value taken from the
// environment is JSON-escaped when the macro stands inside a JSON string, and has its
// backslashes doubled otherwise (as UnityBase does); a default is inserted as written.
func (p *preprocessor) macros(src *srcFile, start int) []piece {
	data := src.data
	ms := macroRE.FindAllSubmatchIndex(data[start:], -1)
	var out []piece
	last := start
	state, escaped, mi := lexCode, false, 0
	for i := start; i < len(data); {
		if mi < len(ms) && ms[mi][0]+start == i {
			m := ms[mi]
			mi++
			if last < i {
				out = append(out, piece{text: string(data[last:i]), src: src, off: last, verbatim: true})
			}
			name := string(data[start+m[2] : start+m[3]])
			var def *string
			if m[4] >= 0 {
				s := string(data[start+m[4] : start+m[5]])
				def = &s
			}
			out = append(out, piece{text: p.resolve(name, def, state == lexString), src: src, off: i})
			i = start + m[1]
			last, escaped = i, false
			continue
		}
		c := data[i]
		switch state {
		case lexCode:
			switch {
			case c == '"':
				state = lexString
			case c == '/' && i+1 < len(data) && data[i+1] == '/':
				state = lexLineComment
				i += 2
				continue
			case c == '/' && i+1 < len(data) && data[i+1] == '*':
				state = lexBlockComment
				i += 2
				continue
			}
		case lexString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"' || c == '\n':
				state = lexCode
			}
		case lexLineComment:
			if c == '\n' {
				state = lexCode
			}
		case lexBlockComment:
			if c == '*' && i+1 < len(data) && data[i+1] == '/' {
				state = lexCode
				i += 2
				continue
			}
		}
		i++
	}
	if last < len(data) {
		out = append(out, piece{text: string(data[last:]), src: src, off: last, verbatim: true})
	}
	return out
}

// resolve returns the replacement of one macro and records its use.
func (p *preprocessor) resolve(name string, def *string, quoted bool) string {
	v, set := p.env.get(name)
	use := EnvUse{Name: name}
	var out string
	switch {
	case set:
		use.Value = v
		if quoted {
			out = jsonEscape(v)
		} else {
			out = strings.ReplaceAll(v, `\`, `\\`)
		}
	case def != nil:
		use.Value, use.Defaulted = *def, true
		out = *def
	default:
		use.Unset = true
	}
	if name != "" && !p.seen[name] {
		if p.seen == nil {
			p.seen = map[string]bool{}
		}
		p.seen[name] = true
		p.uses = append(p.uses, use)
	}
	return out
}

var (
	directiveRE = regexp.MustCompile(`^[ \t]*//#(?:ifn?def|endif)`)
	ifRE        = regexp.MustCompile(`^[ \t]*//#(ifdef|ifndef)(\d?)\((.*)\)[ \t\r]*$`)
	endifRE     = regexp.MustCompile(`^[ \t]*//#endif(\d?)[ \t\r]*$`)
)

type ifFrame struct {
	kw, level string
	off       int // text offset of the directive
	active    bool
}

func (f ifFrame) open() string { return "//#" + f.kw + f.level }

// ifdefs evaluates //#ifdef(...) / //#ifndef(...) ... //#endif blocks (levels 1 and 2 nest
// inside level-less ones: //#ifdef1 ... //#endif1). Directive lines and the lines of inactive
// blocks become empty lines, so line numbers are preserved.
func (p *preprocessor) ifdefs(d *doc) (*doc, bool) {
	text := d.text
	var edits []edit
	var stack []ifFrame
	ok := true
	for ls := 0; ; {
		le := bytes.IndexByte(text[ls:], '\n')
		if le < 0 {
			le = len(text)
		} else {
			le += ls
		}
		line := text[ls:le]
		if directiveRE.Match(line) {
			at := ls + len(line) - len(bytes.TrimLeft(line, " \t"))
			if m := ifRE.FindSubmatchIndex(line); m != nil {
				f := ifFrame{kw: string(line[m[2]:m[3]]), level: string(line[m[4]:m[5]]), off: at}
				for _, o := range stack {
					if o.level == f.level {
						p.fail(d.errAt(at, "", fmt.Sprintf("%s(...) nested inside %s(...) of the same level: use //#%s%s ... //#endif%[4]s for the inner block",
							f.open(), o.open(), f.kw, nextLevel(o.level))))
						ok = false
						break
					}
				}
				cond := condition(d, ls+m[6], ls+m[7])
				if f.kw == "ifndef" {
					cond = !cond
				}
				f.active = cond && (len(stack) == 0 || stack[len(stack)-1].active)
				stack = append(stack, f)
			} else if m := endifRE.FindSubmatchIndex(line); m != nil {
				level := string(line[m[2]:m[3]])
				match := -1
				for i := len(stack) - 1; i >= 0; i-- {
					if stack[i].level == level {
						match = i
						break
					}
				}
				if match < 0 {
					p.fail(d.errAt(at, "", fmt.Sprintf("//#endif%s without a matching //#ifdef%[1]s or //#ifndef%[1]s", level)))
					ok = false
				} else {
					for _, f := range stack[match+1:] {
						p.fail(d.errAt(f.off, "", fmt.Sprintf("%s(...) is not closed before //#endif%s: missing //#endif%s", f.open(), level, f.level)))
						ok = false
					}
					stack = stack[:match]
				}
			} else {
				p.fail(d.errAt(at, "", "malformed directive: expected //#ifdef(%VAR%), //#ifdef(%VAR%=value), //#ifndef(...) or //#endif, alone on the line (an optional digit 1 or 2 after the keyword marks a nested level)"))
				ok = false
			}
			edits = append(edits, edit{start: ls, end: le})
		} else if len(stack) > 0 && !stack[len(stack)-1].active && ls < le {
			edits = append(edits, edit{start: ls, end: le})
		}
		if le == len(text) {
			break
		}
		ls = le + 1
	}
	for _, f := range stack {
		p.fail(d.errAt(f.off, "", fmt.Sprintf("%s(...) is never closed: missing //#endif%s", f.open(), f.level)))
		ok = false
	}
	if !ok {
		return nil, false
	}
	return d.apply(edits), true
}

func nextLevel(level string) string {
	switch level {
	case "":
		return "1"
	case "1":
		return "2"
	}
	return "2"
}

// condition evaluates the text between the parentheses of an //#ifdef after macro
// substitution: "X" is true when X is not empty, "X=Y" when X equals Y. Only an '=' written in
// the file splits the condition, never one that came from a variable's value.
func condition(d *doc, cs, ce int) bool {
	for j := cs; j < ce; j++ {
		if d.text[j] == '=' && d.verbatimAt(j) {
			return string(d.text[cs:j]) == string(d.text[j+1:ce])
		}
	}
	return ce > cs
}

var includeRE = regexp.MustCompile(`(?s)^#include\((.*)\)$`)

// includes replaces every "#include(path)" string token by the preprocessed content of that
// file (relative to the including file's folder).
func (p *preprocessor) includes(d *doc, ref fileRef, stack []string) (*doc, bool) {
	var edits []edit
	ok := true
	scanStrings(d.text, func(s, e int) {
		if !bytes.HasPrefix(d.text[s+1:e], []byte("#include(")) {
			return
		}
		v, err := jsonc.Parse(d.text[s:e])
		str, _ := v.(string)
		m := includeRE.FindStringSubmatch(str)
		if err != nil || m == nil {
			return
		}
		rel := m[1]
		fail := func(msg string) {
			p.fail(d.errAt(s, "", msg))
			ok = false
		}
		if strings.TrimSpace(rel) == "" {
			fail("#include() names no file")
			return
		}
		child := ref.resolve(rel)
		for i, x := range stack {
			if x == child.display {
				fail(fmt.Sprintf("include cycle: %s -> %s", strings.Join(stack[i:], " -> "), child.display))
				return
			}
		}
		if len(stack) > maxIncludeDepth {
			fail(fmt.Sprintf("cannot include %q: includes are nested deeper than %d levels", rel, maxIncludeDepth))
			return
		}
		data, err := child.read()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				fail(fmt.Sprintf("cannot include %q: file %s not found", rel, child.display))
			} else {
				fail(fmt.Sprintf("cannot include %q: %v", rel, err))
			}
			return
		}
		cd, cok := p.file(child, data, append(stack[:len(stack):len(stack)], child.display))
		if !cok {
			ok = false
			return
		}
		if len(bytes.TrimSpace(cd.text)) == 0 {
			fail(fmt.Sprintf("cannot include %q: file %s is empty", rel, child.display))
			return
		}
		with := append(cd.pieces[:len(cd.pieces):len(cd.pieces)],
			// a trailing // comment in the included file must not swallow the rest of the line
			piece{text: "\n", src: &srcFile{name: child.display, data: data}, off: len(data)})
		edits = append(edits, edit{start: s, end: e, with: with})
	})
	if !ok {
		return nil, false
	}
	return d.apply(edits), true
}

// scanStrings calls fn with the [start, end) range of every complete JSON string token outside
// comments.
func scanStrings(text []byte, fn func(s, e int)) {
	for i := 0; i < len(text); {
		switch c := text[i]; {
		case c == '/' && i+1 < len(text) && text[i+1] == '/':
			j := bytes.IndexByte(text[i:], '\n')
			if j < 0 {
				return
			}
			i += j + 1
		case c == '/' && i+1 < len(text) && text[i+1] == '*':
			j := bytes.Index(text[i+2:], []byte("*/"))
			if j < 0 {
				return
			}
			i += 2 + j + 2
		case c == '"':
			j := i + 1
			for j < len(text) && text[j] != '"' && text[j] != '\n' {
				if text[j] == '\\' {
					j++
				}
				j++
			}
			if j < len(text) && text[j] == '"' {
				fn(i, j+1)
			}
			i = j + 1
		default:
			i++
		}
	}
}
