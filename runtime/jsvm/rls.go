package jsvm

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/ubql"
)

// Row-level security, the rls mixin (reference §6.4). The store applies it to every
// select of the entity and to the select-before of its updates and deletes (see
// store.RowFilter); the conditions come from the models' JavaScript, evaluated here on
// the worker that runs the call:
//
//   - "func": "a.b.c" names a function, looked up from the global scope when the call
//     runs; it is called with this = the entity namespace and ctx = {mParams, dataStore,
//     externalCall} and adds items to ctx.mParams.whereList (and strings to
//     ctx.mParams.logicalPredicates), as RLS.allowForAdminOwnerAndAdmTable does.
//   - "expression" (deprecated in UnityBase) is JavaScript evaluated with this = the
//     entity namespace and ctxt, mParams in scope; its value must be a string, a UBQL
//     condition ("[mi_owner] = :(10):"), which becomes one custom where item. The
//     condition goes through the UBQL compiler like any other: it cannot inject SQL, and
//     the grammar of ubql (not raw SQL) is what it may use.
//
// Both are checked when the Program loads (checkRLS). UnityBase's standard function
// RLS.allowForAdminOwnerAndAdmTable is built in (rls_builtin.go), for metadata that names
// it without the UnityBase module that defines it.
//
// Row-level security applies to external and internal calls alike; server code skips it
// with __skipRls (ignored when a client sends it). The function sees the request without
// the client's conditions, and what it adds is kept apart from them (store.RowFilter).

// rlsMethod reports whether method of entity is filtered by row-level security.
func (p *Program) rlsMethod(entity, method string) bool {
	if method != "select" && method != "update" && method != "delete" {
		return false
	}
	e := p.dom.Entity(entity)
	return e != nil && e.Mixins.RLS != nil && hasMStorage(e)
}

// rlsContext gives the store calls of a request on entity this worker's row filter.
func (w *Worker) rlsContext(ctx context.Context, entity string) context.Context {
	if e := w.prog.dom.Entity(entity); e == nil || e.Mixins.RLS == nil {
		return ctx
	}
	return store.WithRowFilter(ctx, w.rowFilter)
}

// rowFilter is the store.RowFilter of the worker: it runs e's rls function or expression
// on a copy of req and returns the request it leaves.
func (w *Worker) rowFilter(_ context.Context, tx *store.Tx, e *domain.Entity, req *ubql.Request) (*ubql.Request, error) {
	if w.call == nil {
		return nil, internalError("row-level security of %s evaluated outside a call", e.Name)
	}
	if w.depth >= maxDispatchDepth {
		return nil, internalError("row-level security of %s: calls nested deeper than %d levels", e.Name, maxDispatchDepth)
	}
	w.depth++
	defer func() { w.depth-- }()
	rls := e.Mixins.RLS
	var fn goja.Callable
	var err error
	if rls.Func != "" {
		if fn, err = w.rlsFunc(e); err != nil {
			if builtin := builtinRLS[rls.Func]; builtin != nil {
				return builtin(w.prog, tx.Session(), e, req)
			}
			return nil, err
		}
	} else if fn, err = w.rlsExpression(e); err != nil {
		return nil, err
	}
	ns := w.namespaces[e.Name]
	mc := &methodCall{req: req, mParams: w.requestToJS(req).(*goja.Object), ds: &dataStore{entity: e.Name}}
	ctxObj := w.newMethodCtx(mc, tx.Session().External)
	if rls.Func != "" {
		if _, err := fn(ns, ctxObj); err != nil {
			return nil, err
		}
		return w.requestFromJS(mc.params(ctxObj), req)
	}
	v, err := fn(ns, ctxObj, mc.mParams)
	if err != nil {
		return nil, err
	}
	cond, ok := v.Export().(string)
	if !ok || strings.TrimSpace(cond) == "" {
		return nil, internalError("entity %s: mixins.rls.expression %q gave %s, not a UBQL condition", e.Name, rls.Expression, describe(v))
	}
	out, err := w.requestFromJS(mc.params(ctxObj), req)
	if err != nil {
		return nil, err
	}
	out.WhereList = append(out.WhereList, ubql.WhereItem{Name: "expression", Expression: cond, Condition: ubql.Custom})
	return out, nil
}

func describe(v goja.Value) string {
	if v == nil || goja.IsUndefined(v) {
		return "undefined"
	}
	if goja.IsNull(v) {
		return "null"
	}
	return fmt.Sprintf("a %T", v.Export())
}

// rlsFunc resolves mixins.rls.func from the global scope.
func (w *Worker) rlsFunc(e *domain.Entity) (goja.Callable, error) {
	path := e.Mixins.RLS.Func
	var v goja.Value = w.vm.GlobalObject()
	for _, seg := range strings.Split(path, ".") {
		o, ok := v.(*goja.Object)
		if !ok || seg == "" {
			v = nil
			break
		}
		v = o.Get(seg)
	}
	fn, ok := goja.AssertFunction(v)
	if !ok {
		return nil, internalError("entity %s: mixins.rls.func %q does not name a function", e.Name, path)
	}
	return fn, nil
}

// rlsPrograms caches compiled rls expressions by source (compiled programs are shared by
// every runtime).
var rlsPrograms sync.Map

func compileRLSExpression(e *domain.Entity) (*goja.Program, error) {
	src := e.Mixins.RLS.Expression
	if p, ok := rlsPrograms.Load(src); ok {
		return p.(*goja.Program), nil
	}
	p, err := goja.Compile("rls expression of "+e.Name, "(function (ctxt, mParams) {\nreturn (\n"+src+"\n);\n})", true)
	if err != nil {
		return nil, &Error{Code: codeNone, Status: 500, Client: clientInternal,
			Message: fmt.Sprintf("entity %s: mixins.rls.expression does not compile: %v", e.Name, err)}
	}
	rlsPrograms.Store(src, p)
	return p, nil
}

// rlsExpression returns the function of e's rls expression in this runtime.
func (w *Worker) rlsExpression(e *domain.Entity) (goja.Callable, error) {
	p, err := compileRLSExpression(e)
	if err != nil {
		return nil, err
	}
	v, err := w.vm.RunProgram(p)
	if err != nil {
		return nil, err
	}
	fn, ok := goja.AssertFunction(v)
	if !ok {
		return nil, internalError("entity %s: mixins.rls.expression did not compile to a function", e.Name)
	}
	return fn, nil
}

// checkRLS checks, in the init runtime once the models ran, every rls mixin: an
// expression that does not compile, or a mixin with neither func nor expression, fails
// Load; a func that names no function (and no built-in one) is logged as a warning, since
// metadata written for UnityBase may name functions of models ubgo does not run; the
// selects of that entity then fail.
func (w *Worker) checkRLS() error {
	for _, e := range w.prog.dom.Entities {
		rls := e.Mixins.RLS
		switch {
		case rls == nil:
		case rls.Func != "":
			if _, err := w.rlsFunc(e); err != nil && builtinRLS[rls.Func] == nil {
				w.prog.log.Warn("row-level security: mixins.rls.func names no function; selects of the entity will fail",
					"entity", e.Name, "func", rls.Func)
			}
		case rls.Expression != "":
			if _, err := compileRLSExpression(e); err != nil {
				return err
			}
		default:
			return internalError("entity %s: mixins.rls needs func (a function name) or expression", e.Name)
		}
	}
	return nil
}
