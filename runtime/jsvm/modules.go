package jsvm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// compiled is a model file ready to run in any runtime. A *goja.Program is not bound to a
// runtime and may run in several at once, so every file is read and compiled once per
// Program, whichever runtime asked for it first; a file that does not compile keeps its
// error and fails the same way everywhere.
type compiled struct {
	model *jsModel
	rel   string
	prog  *goja.Program // .js files: evaluates to the module function
	json  string        // .json files: the text, for JSON.parse in each runtime
	err   error
}

// path is the module's name inside runtimes (and its key in per-runtime module caches).
func (c *compiled) path() string { return modulePath(c.model.name, c.rel) }

// target is what a require() argument names.
type target struct {
	builtin string    // an API module: "@unitybase/ub", "events", ...
	entity  string    // "<entity>.meta": the entity's namespace object
	file    *compiled // a model file
}

// builtinModules are the module names that resolve to ubgo's own API objects.
var builtinModules = map[string]bool{
	"@unitybase/ub":        true,
	"@unitybase/base":      true,
	"@unitybase/uba":       true,
	"@unitybase/cs-shared": true,
	"events":               true,
	"mustache":             true, // mustache.js 4, rendered in Go (mustache.go)
}

// modelPrefix names a file of any model by the model's name: "@ubgo-model/TSK/modules/x".
const modelPrefix = "@ubgo-model/"

// errEscape marks a path that leaves every model folder.
var errEscape = errors.New("the path leads outside the model folders")

// compile returns the compiled form of a model file, compiling it on first use.
func (p *Program) compile(m *jsModel, rel string) *compiled {
	key := modulePath(m.name, rel)
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.compiled[key]; c != nil {
		return c
	}
	c := &compiled{model: m, rel: rel}
	c.prog, c.json, c.err = p.compileFile(m, rel)
	p.compiled[key] = c
	return c
}

func (p *Program) compileFile(m *jsModel, rel string) (*goja.Program, string, error) {
	src, err := fs.ReadFile(m.fsys, rel)
	if err != nil {
		return nil, "", fmt.Errorf("jsvm: model %s: read %s: %w", m.name, m.display(rel), err)
	}
	// Editors on Windows like to save a BOM; inside the wrapper it is a syntax error.
	src = trimBOM(src)
	if path.Ext(rel) == ".json" {
		// JSON.parse reports no position; check here to name line and column.
		var v any
		if err := json.Unmarshal(src, &v); err != nil {
			return nil, "", jsonError(m, rel, src, err)
		}
		return nil, string(src), nil
	}
	name := modulePath(m.name, rel)
	// Parsing ourselves (rather than goja.Compile) keeps the position of syntax errors.
	ast, err := parser.ParseFile(nil, name, moduleWrapperStart+string(src)+moduleWrapperEnd, 0, parser.WithDisableSourceMaps)
	if err != nil {
		se := p.syntaxError(err)
		if se != nil && se.Line > strings.Count(string(src), "\n")+1 {
			// "Unexpected end of input" points into the closing part of the wrapper.
			se.Line = strings.Count(string(src), "\n") + 1
			se.Column = len(src) - strings.LastIndexByte(string(src), '\n')
		}
		return nil, "", orErr(se, err)
	}
	prog, err := goja.CompileAST(ast, false)
	if err != nil {
		return nil, "", orErr(p.syntaxError(err), err)
	}
	return prog, "", nil
}

// orErr returns e when it is set and err otherwise (a nil *Error must not become a
// non-nil error).
func orErr(e *Error, err error) error {
	if e != nil {
		return e
	}
	return err
}

// resolve finds what require(name) means in a file of model from whose folder (a slash
// path inside the model) is dir. Successful resolutions are cached, so runtimes resolve
// known modules without touching the file system; failures are not, because a script
// may require names that come from data and the cache must stay bounded.
func (p *Program) resolve(from *jsModel, dir, name string) (target, error) {
	key := from.name + "\x00" + dir + "\x00" + name
	p.mu.Lock()
	t, ok := p.resolved[key]
	p.mu.Unlock()
	if ok {
		return t, nil
	}
	t, err := p.resolveUncached(from, dir, name)
	if err == nil {
		p.mu.Lock()
		p.resolved[key] = t
		p.mu.Unlock()
	}
	return t, err
}

// resolveUncached implements the resolution rules: the API module names, model files by
// "@ubgo-model/<Model>/path", by package name ("<package.json name>/path"), by a path
// relative to the requiring file or by an absolute path. Relative and absolute paths may
// cross into another model's folder but never leave the model folders.
func (p *Program) resolveUncached(from *jsModel, dir, name string) (target, error) {
	if builtinModules[name] {
		return target{builtin: name}, nil
	}
	switch {
	case name == "":
		return target{}, errors.New("the module name is empty")
	case strings.HasPrefix(name, "@unitybase/"):
		return target{}, fmt.Errorf("%s is not available in ubgo (the server API is provided as @unitybase/ub, @unitybase/base, @unitybase/uba and @unitybase/cs-shared)", name)
	case strings.HasPrefix(name, modelPrefix):
		model, sub, _ := strings.Cut(strings.TrimPrefix(name, modelPrefix), "/")
		m := p.byName[model]
		if m == nil {
			return target{}, fmt.Errorf("there is no model %q", model)
		}
		return p.resolveIn(m, sub, sub == "")
	case isRelative(name):
		if from.osPath != "" {
			abs := filepath.Join(from.osPath, filepath.FromSlash(dir), filepath.FromSlash(name))
			m, rel, ok := p.modelOfOSPath(abs)
			if !ok {
				return target{}, errEscape
			}
			return p.resolveIn(m, rel, false)
		}
		rel := path.Join(dir, name)
		if rel == ".." || strings.HasPrefix(rel, "../") {
			return target{}, fmt.Errorf("%w (model %s is built into the server and has no neighbours)", errEscape, from.name)
		}
		return p.resolveIn(from, rel, false)
	case filepath.IsAbs(name):
		m, rel, ok := p.modelOfOSPath(filepath.Clean(name))
		if !ok {
			return target{}, errEscape
		}
		return p.resolveIn(m, rel, false)
	}
	pkg, sub := splitPackage(name)
	for _, m := range p.models {
		if m.moduleName == pkg {
			return p.resolveIn(m, sub, sub == "")
		}
	}
	return target{}, errors.New("not found: only relative paths, model packages (@ubgo-model/<Model>/path or the package name of a model) and the @unitybase API modules can be required")
}

// resolveIn finds a file inside model m the way Node does: the path itself, with .js or
// .json added, or a folder with package.json "main" or index.js. root asks for the model
// package itself (its main).
func (p *Program) resolveIn(m *jsModel, rel string, root bool) (target, error) {
	if root {
		rel = "."
		if m.main != "" {
			rel = path.Clean(m.main)
		}
	}
	rel = path.Clean(rel)
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return target{}, errEscape
	}
	if entity, ok := strings.CutSuffix(path.Base(rel), ".meta"); ok && p.dom.Entity(entity) != nil {
		return target{entity: entity}, nil
	}
	if f, ok := p.findFile(m, rel); ok {
		return target{file: p.compile(m, f)}, nil
	}
	if main := packageMain(m.fsys, path.Join(rel, "package.json")); main != "" {
		if f, ok := p.findFile(m, path.Join(rel, main)); ok {
			return target{file: p.compile(m, f)}, nil
		}
		if f, ok := p.findFile(m, path.Join(rel, main, "index")); ok {
			return target{file: p.compile(m, f)}, nil
		}
	}
	if f, ok := p.findFile(m, path.Join(rel, "index")); ok {
		return target{file: p.compile(m, f)}, nil
	}
	return target{}, fmt.Errorf("not found in model %s (looked for %s)", m.name, m.display(rel))
}

// findFile tries rel, rel.js and rel.json.
func (p *Program) findFile(m *jsModel, rel string) (string, bool) {
	for _, f := range []string{rel, rel + ".js", rel + ".json"} {
		if isFile(m.fsys, f) {
			return f, true
		}
	}
	return "", false
}

// packageMain reads "main" of a package.json, or returns "".
func packageMain(fsys fs.FS, rel string) string {
	if !isFile(fsys, rel) {
		return ""
	}
	src, err := fs.ReadFile(fsys, rel)
	if err != nil {
		return ""
	}
	var pj struct {
		Main string `json:"main"`
	}
	if json.Unmarshal(trimBOM(src), &pj) != nil || pj.Main == "" {
		return ""
	}
	return path.Clean(pj.Main)
}

// splitPackage splits "pkg/sub/path" or "@scope/pkg/sub/path" into the package name and
// the path inside it.
func splitPackage(name string) (pkg, sub string) {
	parts := strings.SplitN(name, "/", 3)
	if strings.HasPrefix(name, "@") && len(parts) >= 2 {
		pkg = parts[0] + "/" + parts[1]
		if len(parts) == 3 {
			sub = parts[2]
		}
		return pkg, sub
	}
	pkg, sub, _ = strings.Cut(name, "/")
	return pkg, sub
}

// isRelative reports whether a require() argument is relative to the requiring file.
func isRelative(name string) bool {
	return name == "." || name == ".." || strings.HasPrefix(name, "./") || strings.HasPrefix(name, "../")
}
