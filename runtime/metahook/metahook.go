// Package metahook runs UnityBase metadata transformation hooks.
//
// A UnityBase model may contain a file _hookMetadataTransformation.js in its
// root. It is a CommonJS module whose export is a function
//
//	module.exports = function (domainJSON, serverConfig) { ... }
//
// that mutates the merged domain JSON before the domain is built
// (reference: UnityBase loading & merge algorithm, step 5). Run calls all
// hooks in model order, in one fresh goja runtime, and returns the
// transformed domain JSON.
//
// The contract:
//
//   - Input and output are plain Go JSON values: map[string]any, []any,
//     string, float64, bool and nil. The input maps are never modified; the
//     returned map is a new value built from the JS objects after the last
//     hook, using JSON.stringify semantics (undefined and functions are
//     dropped from objects and become null in arrays, NaN and Infinity become
//     null, objects with toJSON such as Date are serialised through it), so a
//     JSON-schema validator can be run on it directly.
//   - Every hook receives the same domainJSON object, so a hook sees the
//     changes of the hooks before it. The return value of a hook is ignored.
//     serverConfig is a fresh copy for the run; a hook that mutates it only
//     changes what the following hooks see.
//   - Object keys are created in sorted order, so hooks that iterate with
//     Object.keys or for..in behave the same on every run (Go maps have no
//     order of their own).
//   - require() resolves only relative paths ('./x', '../lib/y', with or
//     without '.js', '.json' files, folders with index.js or package.json)
//     and only inside the requiring model's FS. Bare module names (lodash,
//     fs, ...) and paths that leave the model root fail with a JS Error.
//   - console.log/info/warn/error/debug are written to the slog logger with
//     the attribute model=<name>.
//   - Failures are reported as *Error with the model, the file (which may be
//     a required helper), the line and column and the JS stack. A cancelled
//     or expired ctx interrupts the running hook; infinite recursion is
//     stopped by a call stack limit; a Go panic is recovered and returned as
//     an error.
//
// The goja runtime never leaves the goroutine that called Run; only the
// interrupt triggered by ctx comes from another goroutine, which goja allows.
package metahook

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja_nodejs/require"
)

// Hook is one model's transformation hook.
type Hook struct {
	Model string // model name, e.g. "TST"
	FS    fs.FS  // the model's files (os.DirFS for a model on disk, an embed.FS sub-tree for built-in models)
	Dir   string // how the model root is shown to users in messages, e.g. "/app/models/tst" or "builtin:UB"
	File  string // slash path of the hook inside FS, normally "_hookMetadataTransformation.js"
}

// DefaultFile is the name UnityBase gives to a model's hook file.
const DefaultFile = "_hookMetadataTransformation.js"

// maxCallStackSize turns runaway recursion into a JS error long before the
// Go stack is exhausted (a Go stack overflow is fatal and cannot be
// recovered). Node's default limit is about 11,000 frames.
const maxCallStackSize = 10000

// Run calls every hook in order in one fresh goja runtime and returns the transformed domain JSON.
// It returns the input unchanged (no runtime created) when hooks is empty.
func Run(ctx context.Context, log *slog.Logger, hooks []Hook, domainJSON map[string]any, serverConfig map[string]any) (result map[string]any, err error) {
	if len(hooks) == 0 {
		return domainJSON, nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := checkHooks(hooks); err != nil {
		return nil, err
	}

	r := &runner{
		ctx:    ctx,
		log:    log,
		models: make(map[string]*Hook, len(hooks)),
	}
	for i := range hooks {
		r.models[hooks[i].Model] = &hooks[i]
	}

	// A panic inside goja or inside our bindings must not take the caller
	// (the server start-up) down with it; the runtime is discarded anyway.
	defer func() {
		if x := recover(); x != nil {
			model := "?"
			if r.cur != nil {
				model = r.cur.Model
			}
			result = nil
			err = fmt.Errorf("metahook: model %s: panic while running metadata hooks: %v\n%s", model, x, debug.Stack())
		}
	}()

	r.vm = goja.New()
	r.vm.SetMaxCallStackSize(maxCallStackSize)

	// Interrupt is the only runtime method that is safe to call from another
	// goroutine. AfterFunc runs it in its own goroutine once ctx is done; the
	// stop function detaches it when Run returns.
	stop := context.AfterFunc(ctx, func() {
		r.vm.Interrupt(context.Cause(ctx))
	})
	defer stop()

	registry := require.NewRegistry(require.WithLoader(r.loadSource), require.WithPathResolver(r.resolvePath))
	r.req = registry.Enable(r.vm)
	// Replace the generic require with one that understands model
	// namespaces; module wrappers pick up the global, so helpers get it too.
	if err := r.vm.Set("require", r.require); err != nil {
		return nil, fmt.Errorf("metahook: install require: %w", err)
	}
	if err := r.vm.Set("console", r.newConsole()); err != nil {
		return nil, fmt.Errorf("metahook: install console: %w", err)
	}

	domain, err := toJS(r.vm, domainJSON)
	if err != nil {
		return nil, fmt.Errorf("metahook: domainJSON: %w", err)
	}
	config, err := toJS(r.vm, serverConfig)
	if err != nil {
		return nil, fmt.Errorf("metahook: serverConfig: %w", err)
	}

	for i := range hooks {
		if err := r.runHook(&hooks[i], domain, config); err != nil {
			return nil, err
		}
	}

	out, err := fromJSRoot(r.vm, domain)
	if err != nil {
		return nil, fmt.Errorf("metahook: convert transformed domainJSON: %w", err)
	}
	return out, nil
}

// checkHooks rejects hook lists that would make model namespaces ambiguous.
// The model name is the first segment of every module path in the runtime.
func checkHooks(hooks []Hook) error {
	seen := make(map[string]bool, len(hooks))
	for i, h := range hooks {
		switch {
		case h.Model == "", h.Model == ".", h.Model == "..", strings.ContainsAny(h.Model, "/\\\x00"):
			return fmt.Errorf("metahook: hook %d: invalid model name %q", i, h.Model)
		case seen[h.Model]:
			return fmt.Errorf("metahook: model %s: more than one hook for the model", h.Model)
		case h.FS == nil:
			return fmt.Errorf("metahook: model %s: hook has no FS", h.Model)
		case !fs.ValidPath(h.File) || h.File == ".":
			return fmt.Errorf("metahook: model %s: invalid hook file path %q", h.Model, h.File)
		}
		seen[h.Model] = true
	}
	return nil
}

// runner holds the state of one Run. It is used only on the calling goroutine.
type runner struct {
	ctx    context.Context
	log    *slog.Logger
	vm     *goja.Runtime
	req    *require.RequireModule
	models map[string]*Hook // model name -> hook, i.e. module namespace -> FS
	cur    *Hook            // the hook being run, for console attributes and panics
}

func (r *runner) runHook(h *Hook, domain, config goja.Value) error {
	r.cur = h
	// The interrupt set by AfterFunc may not have landed yet when ctx is
	// already done; checking here makes a dead ctx fail deterministically.
	if err := r.ctx.Err(); err != nil {
		return &Error{
			Model:   h.Model,
			File:    h.displayPath(h.File),
			Message: "hook interrupted before start: " + context.Cause(r.ctx).Error(),
			cause:   context.Cause(r.ctx),
		}
	}

	start := time.Now()
	exports, err := r.req.Require(modulePath(h.Model, h.File))
	if err != nil {
		if errors.Is(err, require.InvalidModuleError) {
			return &Error{Model: h.Model, File: h.displayPath(h.File), Message: "hook file not found", cause: err}
		}
		return r.newError(h, h.File, err)
	}
	fn, ok := goja.AssertFunction(exports)
	if !ok {
		return &Error{
			Model:   h.Model,
			File:    h.displayPath(h.File),
			Message: fmt.Sprintf("module.exports must be a function (domainJSON, serverConfig), got %s", describeValue(exports)),
		}
	}
	ret, err := fn(goja.Undefined(), domain, config)
	if err != nil {
		return r.newError(h, h.File, err)
	}
	// An async hook returns a Promise. goja runs promise jobs before fn
	// returns, so one that only awaits synchronous work is settled by now;
	// a rejection must not be lost, and a pending one would never finish
	// because there is no event loop.
	if p, ok := ret.Export().(*goja.Promise); ok {
		switch p.State() {
		case goja.PromiseStateRejected:
			// Re-throwing the reason yields an exception with the stack
			// captured when the Error was created, i.e. the real position.
			if ex := r.vm.Try(func() { panic(p.Result()) }); ex != nil {
				return r.newError(h, h.File, ex)
			}
		case goja.PromiseStatePending:
			return &Error{
				Model:   h.Model,
				File:    h.displayPath(h.File),
				Message: "the hook returned a pending Promise: asynchronous work (timers, I/O) is not supported in metadata hooks",
			}
		}
	}
	r.log.DebugContext(r.ctx, "metadata transformation hook done",
		slog.String("model", h.Model), slog.String("file", h.displayPath(h.File)), slog.Duration("duration", time.Since(start)))
	return nil
}

// displayPath shows a file inside the model the way users know the model.
func (h *Hook) displayPath(rel string) string {
	dir := strings.TrimSuffix(h.Dir, "/")
	if dir == "" {
		return rel
	}
	return dir + "/" + rel
}

// describeValue names the type of a JS value for error messages.
func describeValue(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	}
	if o, ok := v.(*goja.Object); ok {
		if o.ClassName() == "Array" {
			return "an array"
		}
		return "an object"
	}
	switch v.Export().(type) {
	case string:
		return "a string"
	case int64, float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return v.String()
}
