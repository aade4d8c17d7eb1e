package metahook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
	"github.com/dop251/goja_nodejs/require"
)

// Module paths inside the runtime are "/<model>/<path in the model FS>".
// goja_nodejs/require caches modules by that path, so two models may have
// files with the same relative path without seeing each other's modules, and
// stack frames name the model a file belongs to.

// modulePath returns the runtime module path of a slash path inside a model.
func modulePath(model, rel string) string {
	return "/" + model + "/" + rel
}

// splitModulePath is the inverse of modulePath. ok is false for paths that
// do not belong to any model's namespace (e.g. "<native>").
func (r *runner) splitModulePath(p string) (h *Hook, rel string, ok bool) {
	p = filepath.ToSlash(p)
	rest, found := strings.CutPrefix(p, "/")
	if !found {
		return nil, "", false
	}
	model, rel, _ := strings.Cut(rest, "/")
	h, ok = r.models[model]
	if !ok {
		return nil, "", false
	}
	if rel == "" {
		rel = "."
	}
	return h, rel, true
}

// escapedModel is a namespace no model can have (model names may not contain
// NUL). resolvePath puts paths that leave their model there, so loadSource
// can reject them with a clear error instead of reading another model.
const escapedModel = "\x00escaped"

// resolvePath implements require.PathResolver with slash paths on every OS.
// Our require passes absolute module paths; relative paths come only from
// goja_nodejs looking for package.json, index.js or a package.json "main".
func (r *runner) resolvePath(base, p string) string {
	p = filepath.ToSlash(p)
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	base = filepath.ToSlash(base)
	joined := path.Join(base, p)
	if h, _, ok := r.splitModulePath(base); ok {
		if h2, _, ok2 := r.splitModulePath(joined); !ok2 || h2 != h {
			return "/" + escapedModel + joined
		}
	}
	return joined
}

// errModuleEscapes reports a module path that points outside its model.
var errModuleEscapes = errors.New("module path escapes the model root")

// loadSource implements require.SourceLoader on top of the models' FS.
func (r *runner) loadSource(p string) ([]byte, error) {
	if strings.HasPrefix(filepath.ToSlash(p), "/"+escapedModel) {
		// Reached via a package.json "main" such as "../../OTHER/x.js".
		return nil, fmt.Errorf("%w: %s", errModuleEscapes, strings.TrimPrefix(filepath.ToSlash(p), "/"+escapedModel))
	}
	h, rel, ok := r.splitModulePath(p)
	if !ok || !fs.ValidPath(rel) || rel == "." {
		return nil, require.ModuleFileDoesNotExistError
	}
	f, err := h.FS.Open(rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) {
			return nil, require.ModuleFileDoesNotExistError
		}
		return nil, fmt.Errorf("model %s: open %s: %w", h.Model, h.displayPath(rel), err)
	}
	defer f.Close()
	// Directories must look like missing files, otherwise require('./lib')
	// would not go on to lib/index.js. Reading a directory is not portable,
	// so ask Stat first.
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("model %s: stat %s: %w", h.Model, h.displayPath(rel), err)
	}
	if info.IsDir() {
		return nil, require.ModuleFileDoesNotExistError
	}
	src, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("model %s: read %s: %w", h.Model, h.displayPath(rel), err)
	}
	// Editors on Windows like to save a BOM; in the middle of the wrapped
	// source it would be a syntax error.
	src = bytes.TrimPrefix(src, []byte("\xEF\xBB\xBF"))

	if path.Ext(rel) == ".json" {
		// goja_nodejs feeds .json files to JSON.parse, whose error has no
		// usable position. Validate here to report file:line:col.
		if json.Valid(src) {
			return src, nil
		}
		var v any
		if err := json.Unmarshal(src, &v); err != nil { // only for the error position
			me := &moduleError{name: "SyntaxError", file: filepath.ToSlash(p), msg: "invalid JSON: " + err.Error(), cause: err}
			if se, ok := errors.AsType[*json.SyntaxError](err); ok {
				me.line, me.col = offsetToLineCol(src, se.Offset)
			}
			return nil, me
		}
		return src, nil // unreachable: Valid and Unmarshal disagree
	}

	// goja.Parse flattens parse errors into a message without a usable
	// position, so parse the module once more here, wrapped the way
	// goja_nodejs wraps it (a function body, so a top-level return is legal),
	// to report file:line:col. Hook files are small; the second parse costs
	// far less than the conversions of the domain.
	wrapped := moduleWrapperStart + string(src) + moduleWrapperEnd
	if _, err := parser.ParseFile(nil, filepath.ToSlash(p), wrapped, 0, parser.WithDisableSourceMaps); err != nil {
		if me := syntaxModuleError(err); me != nil {
			// "Unexpected end of input" points into the closing part of the
			// wrapper; show it at the end of the user's file.
			if lines := bytes.Count(src, []byte("\n")) + 1; me.line > lines {
				me.line = lines
				me.col = len(src) - (bytes.LastIndexByte(src, '\n') + 1) + 1
			}
			return nil, me
		}
	}
	return src, nil
}

// The wrapper goja_nodejs puts around a module's source, on the same line as
// the first line of the source. Positions on line 1 are shifted by the
// length of moduleWrapperStart; userPosition undoes that. (Prepending a
// newline to the source instead would be simpler for us, but would make
// every line number in JS-visible stacks, e.g. err.stack printed by a hook,
// off by one.) TestRunErrors pins the exact columns, so a change of the
// wrapper in goja_nodejs shows up as a test failure.
const (
	moduleWrapperStart = "(function(exports,require,module,__filename,__dirname){"
	moduleWrapperEnd   = "\n})"
)

// userPosition maps a position in a wrapped module to the user's file.
func userPosition(line, col int) (int, int) {
	if line == 1 {
		col = max(col-len(moduleWrapperStart), 1)
	}
	return line, col
}

// offsetToLineCol converts a byte offset from encoding/json (the offset
// after the bad byte) into a 1-based line and column.
func offsetToLineCol(src []byte, off int64) (line, col int) {
	if off > int64(len(src)) {
		off = int64(len(src))
	}
	if off > 0 {
		off-- // point at the offending byte, not after it
	}
	before := src[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// moduleError describes a module that could not be loaded. It travels
// through JS as the value of a GoError, so that the final *Error can point
// at the broken file instead of at the require() call.
type moduleError struct {
	name      string // JS error name shown to hooks: "Error" or "SyntaxError"
	file      string // module path; empty when the position is the require() call
	line, col int    // position in the user's file
	msg       string
	cause     error
}

func (e *moduleError) Error() string { return e.msg }
func (e *moduleError) Unwrap() error { return e.cause }

// require is the require() function seen by hooks and their helpers. It
// resolves the request against the calling module and checks that the
// result stays inside the caller's model before handing the absolute path to
// goja_nodejs, which loads, caches and evaluates the module.
func (r *runner) require(call goja.FunctionCall) goja.Value {
	arg := call.Argument(0)
	if _, isString := arg.Export().(string); !isString {
		panic(r.vm.NewTypeError("require: the module name must be a string, got %s", describeValue(arg)))
	}
	name := arg.String()

	h, callerRel := r.callerModule()
	if h == nil {
		// Only reachable if someone calls require from code we did not load.
		r.throw(&moduleError{name: "Error", msg: fmt.Sprintf("Cannot find module '%s': require() called from outside of a model", name)})
	}
	from := h.displayPath(callerRel)

	if !isRelative(name) {
		r.throw(&moduleError{name: "Error", msg: fmt.Sprintf(
			"Cannot find module '%s' required from %s (model %s): only relative paths to files of the model can be required",
			name, from, h.Model)})
	}
	target := path.Join(path.Dir(callerRel), name)
	if target == ".." || strings.HasPrefix(target, "../") {
		r.throw(&moduleError{name: "Error", cause: errModuleEscapes, msg: fmt.Sprintf(
			"Cannot require '%s' from %s (model %s): the path escapes the model root",
			name, from, h.Model)})
	}

	exports, err := r.req.Require(modulePath(h.Model, target))
	if err == nil {
		return exports
	}
	// JS exceptions (including module errors from nested requires) and
	// uncatchable interrupts keep going unchanged.
	if _, ok := errors.AsType[*goja.InterruptedError](err); ok {
		panic(err)
	}
	if _, ok := errors.AsType[*goja.StackOverflowError](err); ok {
		panic(err)
	}
	if ex, ok := err.(*goja.Exception); ok {
		panic(ex)
	}
	if errors.Is(err, require.InvalidModuleError) {
		r.throw(&moduleError{name: "Error", cause: err, msg: fmt.Sprintf(
			"Cannot find module '%s' required from %s (model %s)", name, from, h.Model)})
	}
	if me, ok := errors.AsType[*moduleError](err); ok {
		me.msg = fmt.Sprintf("%s (required from %s)", me.msg, from)
		r.throw(me)
	}
	if errors.Is(err, errModuleEscapes) {
		r.throw(&moduleError{name: "Error", cause: err, msg: fmt.Sprintf(
			"Cannot load module '%s' required from %s (model %s): %v", name, from, h.Model, err)})
	}
	if me := syntaxModuleError(err); me != nil {
		me.msg = fmt.Sprintf("%s (required from %s)", me.msg, from)
		r.throw(me)
	}
	r.throw(&moduleError{name: "Error", cause: err, msg: fmt.Sprintf(
		"Cannot load module '%s' required from %s (model %s): %v", name, from, h.Model, err)})
	return nil // unreachable: throw panics
}

// throw raises a moduleError as a JS exception. A GoError keeps the Go value
// reachable via (*goja.Exception).Unwrap; the name makes it read like a
// normal JS error to hooks that catch it.
func (r *runner) throw(me *moduleError) {
	obj := r.vm.NewGoError(me)
	_ = obj.Set("name", me.name)
	panic(obj)
}

// syntaxModuleError converts goja's compile errors into a moduleError with
// the position of the error in the module file, or returns nil.
func syntaxModuleError(err error) *moduleError {
	if el, ok := errors.AsType[parser.ErrorList](err); ok && len(el) > 0 {
		pe := el[0]
		line, col := userPosition(pe.Position.Line, pe.Position.Column)
		return &moduleError{name: "SyntaxError", file: filepath.ToSlash(pe.Position.Filename), line: line, col: col,
			msg: "SyntaxError: " + pe.Message, cause: err}
	}
	if pe, ok := errors.AsType[*parser.Error](err); ok {
		line, col := userPosition(pe.Position.Line, pe.Position.Column)
		return &moduleError{name: "SyntaxError", file: filepath.ToSlash(pe.Position.Filename), line: line, col: col,
			msg: "SyntaxError: " + pe.Message, cause: err}
	}
	if ce, ok := errors.AsType[*goja.CompilerSyntaxError](err); ok {
		me := &moduleError{name: "SyntaxError", msg: "SyntaxError: " + ce.Message, cause: err}
		if ce.File != nil {
			pos := ce.File.Position(ce.Offset)
			me.file = filepath.ToSlash(pos.Filename)
			me.line, me.col = userPosition(pos.Line, pos.Column)
		}
		return me
	}
	if ce, ok := errors.AsType[*goja.CompilerReferenceError](err); ok {
		me := &moduleError{name: "SyntaxError", msg: "ReferenceError: " + ce.Message, cause: err}
		if ce.File != nil {
			pos := ce.File.Position(ce.Offset)
			me.file = filepath.ToSlash(pos.Filename)
			me.line, me.col = userPosition(pos.Line, pos.Column)
		}
		return me
	}
	return nil
}

// callerModule finds the innermost JS frame that belongs to a model file.
// Frames of native functions (require itself, Array.prototype.map, ...) are
// skipped, so require works when passed around as a callback too.
func (r *runner) callerModule() (*Hook, string) {
	for _, fr := range r.vm.CaptureCallStack(0, nil) {
		if h, rel, ok := r.splitModulePath(fr.SrcName()); ok {
			return h, rel
		}
	}
	return nil, ""
}

// isRelative reports whether a require() argument is a path relative to the
// requiring file, the only kind we resolve.
func isRelative(name string) bool {
	return name == "." || name == ".." || strings.HasPrefix(name, "./") || strings.HasPrefix(name, "../")
}
