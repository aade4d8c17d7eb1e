package jsvm

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"

	"github.com/dop251/goja"
)

// CommonJS as models expect it: every file is wrapped in a function that receives
// (exports, require, module, __filename, __dirname), evaluated once per runtime and
// cached by its module path. Each module gets a require of its own, so names resolve
// against the module's folder even when require is passed around. Resolution and
// compilation are shared by all runtimes (Program.resolve, Program.compile); only the
// evaluation happens per runtime.

// requireFunc returns the require function of the module rel of model m.
func (w *Worker) requireFunc(m *jsModel, rel string) goja.Value {
	dir := path.Dir(rel)
	return w.vm.ToValue(func(call goja.FunctionCall) goja.Value {
		arg := call.Argument(0)
		if !goja.IsString(arg) {
			panic(w.vm.NewTypeError("require: the module name must be a string, got %s", w.safeString(arg)))
		}
		name := arg.String()
		t, err := w.prog.resolve(m, dir, name)
		if err != nil {
			what := "Cannot find module"
			if errors.Is(err, errEscape) {
				what = "Cannot require"
			}
			panic(w.jsError("Error", fmt.Sprintf("%s '%s' from %s (model %s): %v", what, name, m.display(rel), m.name, err)))
		}
		v, err := w.use(t)
		if err != nil {
			rethrow(w.vm, err)
		}
		return v
	})
}

// globalRequire is the global require, for code that is not a module file (eval'd
// strings, say): it resolves everything but relative paths, which need a module to be
// relative to.
func (w *Worker) globalRequire(call goja.FunctionCall) goja.Value {
	arg := call.Argument(0)
	if !goja.IsString(arg) {
		panic(w.vm.NewTypeError("require: the module name must be a string, got %s", w.safeString(arg)))
	}
	name := arg.String()
	if isRelative(name) || len(w.prog.models) == 0 {
		panic(w.jsError("Error", fmt.Sprintf("Cannot find module '%s': a relative path needs the require of a module file", name)))
	}
	t, err := w.prog.resolve(w.prog.models[0], ".", name)
	if err != nil {
		panic(w.jsError("Error", fmt.Sprintf("Cannot find module '%s': %v", name, err)))
	}
	v, err := w.use(t)
	if err != nil {
		rethrow(w.vm, err)
	}
	return v
}

// use returns the value a resolved require() gives.
func (w *Worker) use(t target) (goja.Value, error) {
	switch {
	case t.builtin != "":
		return w.builtinModule(t.builtin), nil
	case t.entity != "":
		return w.namespaces[t.entity], nil
	}
	return w.evalModule(t.file)
}

// evalModule evaluates a model file in this runtime (once) and returns module.exports.
func (w *Worker) evalModule(c *compiled) (goja.Value, error) {
	key := c.path()
	if mod := w.modules[key]; mod != nil {
		return mod.Get("exports"), nil
	}
	if c.err != nil {
		return nil, c.err
	}
	vm := w.vm
	module := vm.NewObject()
	exports := vm.NewObject()
	filename := c.model.display(c.rel)
	_ = module.Set("exports", exports)
	_ = module.Set("id", filename)
	_ = module.Set("filename", filename)
	_ = module.Set("loaded", false)
	// Cached before it runs: a circular require sees the exports as they are so far, as in
	// Node.
	w.modules[key] = module
	if c.json != "" {
		v, err := w.api.jsonParse(goja.Undefined(), vm.ToValue(c.json))
		if err != nil {
			delete(w.modules, key)
			return nil, err
		}
		_ = module.Set("exports", v)
	} else {
		fnv, err := vm.RunProgram(c.prog)
		if err != nil {
			delete(w.modules, key)
			return nil, err
		}
		fn, _ := goja.AssertFunction(fnv)
		dirname := c.model.display(path.Dir(c.rel))
		if c.model.osPath != "" {
			filename = filepath.Join(c.model.osPath, filepath.FromSlash(c.rel))
			dirname = filepath.Dir(filename)
		}
		if _, err := fn(exports, exports, w.requireFunc(c.model, c.rel), module, vm.ToValue(filename), vm.ToValue(dirname)); err != nil {
			// Node forgets a module that failed, so a later require tries again.
			delete(w.modules, key)
			return nil, err
		}
	}
	_ = module.Set("loaded", true)
	return module.Get("exports"), nil
}

// rethrow raises err inside JavaScript: JS exceptions and uncatchable errors (interrupts,
// stack overflows) as they are, Go errors as GoError objects whose Go value survives the
// trip (see Worker.exceptionError).
func rethrow(vm *goja.Runtime, err error) {
	var ex *goja.Exception
	switch {
	case errors.As(err, &ex):
		panic(ex)
	case isUncatchable(err):
		panic(err)
	}
	panic(vm.NewGoError(err))
}

func isUncatchable(err error) bool {
	var ie *goja.InterruptedError
	var so *goja.StackOverflowError
	return errors.As(err, &ie) || errors.As(err, &so)
}

// jsError creates a JS error object of the given constructor name ("Error", "TypeError")
// whose stack is the current JS stack.
func (w *Worker) jsError(ctor, msg string) *goja.Object {
	c, _ := w.vm.GlobalObject().Get(ctor).(*goja.Object)
	if c == nil {
		c = w.api.errorCtor
	}
	obj, err := w.vm.New(c, w.vm.ToValue(msg))
	if err != nil {
		return w.vm.NewGoError(errors.New(msg))
	}
	return obj
}
