package jsvm

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/ubql"
)

// maxDispatchDepth bounds entity method calls nested through DataStore.run and
// Repository (an insert:before listener that inserts into its own entity would otherwise
// recurse until the stack limit, holding a transaction).
const maxDispatchDepth = 32

// CallMethod runs one UBQL item as a call of an entity method (reference §5.1) inside tx:
// the "<method>:before" listeners of the entity namespace in registration order, then the
// implementation (a function the model assigned to the namespace, else the Go mStorage
// method through tx.Do), then the "<method>:after" listeners.
//
// Listeners and the implementation receive ctx = {mParams, dataStore, originalParams,
// externalCall, preventDefault()}. mParams is the request item as a JS object; whatever a
// script writes into it is what the Go implementation runs (an insert:before listener
// may change execParams) and what the response echoes. ctx.dataStore, when a script or
// the Go implementation filled it, becomes the response's resultData. preventDefault()
// in a :before listener skips the implementation; the :after listeners still run.
//
// A throw anywhere aborts the call with an *Error (or the store's error, when a storage
// call failed and the script did not catch it); the caller rolls tx back. ELS is the
// caller's business: CallMethod does not check it (scripts can ask App.els).
// ExternalCall is tx.Session().External.
func (w *Worker) CallMethod(ctx context.Context, tx *store.Tx, req *ubql.Request) (*ubql.Response, error) {
	if tx == nil {
		return nil, internalError("CallMethod needs a transaction")
	}
	var resp *ubql.Response
	err := w.guard(ctx, tx.Session(), tx, func() error {
		var err error
		resp, err = w.dispatch(req, tx.Session().External)
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// methodCall is the Go side of one ctx object.
type methodCall struct {
	req       *ubql.Request
	mParams   *goja.Object
	ds        *dataStore
	dsObj     *goja.Object // ctx.dataStore, once read
	original  goja.Value   // ctx.originalParams, once read
	prevented bool
}

// params is ctx.mParams as the scripts left it (a listener may assign a new object).
func (mc *methodCall) params(ctxObj *goja.Object) *goja.Object {
	if o, ok := ctxObj.Get("mParams").(*goja.Object); ok {
		mc.mParams = o
	}
	return mc.mParams
}

// dispatch runs an entity method inside the running call. Scripts reach it through
// DataStore.run and Repository (external false), CallMethod through the worker.
func (w *Worker) dispatch(req *ubql.Request, external bool) (*ubql.Response, error) {
	if w.call == nil || w.call.tx == nil {
		return nil, errNoTx
	}
	e := w.prog.dom.Entity(req.Entity)
	if e == nil {
		return nil, &Error{Code: codeEntityNotExist, Status: http.StatusNotFound,
			Message: fmt.Sprintf("entity %q does not exist", req.Entity), Client: fmt.Sprintf("entity %q does not exist", req.Entity)}
	}
	if !w.prog.HasMethod(e.Name, req.Method) {
		msg := fmt.Sprintf("entity %s has no method %q", e.Name, req.Method)
		return nil, &Error{Code: codeMethodNotExist, Status: http.StatusNotFound, Message: msg, Client: msg}
	}
	storage := slices.Contains(mStorageMethods, req.Method) && hasMStorage(e)
	if !w.prog.HasJS(e.Name, req.Method) {
		if storage {
			return w.doStore(req, external)
		}
		msg := fmt.Sprintf("entity %s has no implementation of method %q", e.Name, req.Method)
		return nil, &Error{Code: codeMethodNotExist, Status: http.StatusNotImplemented, Message: msg, Client: msg}
	}
	if w.depth >= maxDispatchDepth {
		return nil, internalError("entity method calls are nested deeper than %d levels (%s.%s)", maxDispatchDepth, e.Name, req.Method)
	}
	w.depth++
	defer func() { w.depth-- }()

	vm := w.vm
	ns := w.namespaces[e.Name]
	mc := &methodCall{req: req, mParams: w.requestToJS(req).(*goja.Object), ds: &dataStore{entity: e.Name}}
	ctxObj := w.newMethodCtx(mc, external)

	if _, err := w.api.emit(ns, vm.ToValue(req.Method+":before"), ctxObj); err != nil {
		return nil, err
	}
	var goResp *ubql.Response
	if !mc.prevented {
		switch fn := w.jsImplementation(ns, req.Method); {
		case fn != nil:
			if _, err := fn(ns, ctxObj); err != nil {
				return nil, err
			}
		case storage:
			r, err := w.requestFromJS(mc.params(ctxObj), req)
			if err != nil {
				return nil, err
			}
			if err := w.selectBefore(mc.ds, e, r); err != nil {
				return nil, err
			}
			goResp, err = w.doStore(r, external)
			if err != nil {
				return nil, err
			}
			// :after listeners see what the store did: the generated ID, the new
			// mi_modifyDate, the selected rows.
			if goResp.Request != nil && goResp.Request.ExecParams != nil {
				_ = mc.mParams.Set("execParams", w.toJS(goResp.Request.ExecParams))
			}
			if goResp.ResultData != nil {
				mc.ds.storeResult(req.Method, goResp.ResultData, goResp.TotalRecCount)
			}
		default:
			msg := fmt.Sprintf("entity %s has no implementation of method %q", e.Name, req.Method)
			return nil, &Error{Code: codeMethodNotExist, Status: http.StatusNotImplemented, Message: msg, Client: msg}
		}
	}
	if _, err := w.api.emit(ns, vm.ToValue(req.Method+":after"), ctxObj); err != nil {
		return nil, err
	}

	final, err := w.requestFromJS(mc.params(ctxObj), req)
	if err != nil {
		return nil, err
	}
	resp := &ubql.Response{Request: final}
	if goResp != nil {
		resp.ResultData, resp.TotalRecCount, resp.Result = goResp.ResultData, goResp.TotalRecCount, goResp.Result
	}
	if rd, total, ok := mc.ds.result(); ok {
		resp.ResultData, resp.TotalRecCount = rd, total
	}
	return resp, nil
}

// newMethodCtx builds the ctx object of a method call: own properties mParams and
// externalCall; preventDefault, dataStore and originalParams come from a prototype
// shared by all calls of the worker (creating three Go functions per call cost a sixth
// of a small method call). dataStore and originalParams are built on first read.
func (w *Worker) newMethodCtx(mc *methodCall, external bool) *goja.Object {
	if w.api.ctxProto == nil {
		w.api.ctxProto = w.newMethodCtxProto()
	}
	obj := w.vm.CreateObject(w.api.ctxProto)
	_ = obj.Set("mParams", mc.mParams)
	_ = obj.Set("externalCall", external)
	w.bind(obj, mc)
	return obj
}

func (w *Worker) newMethodCtxProto() *goja.Object {
	vm := w.vm
	proto := vm.NewObject()
	this := func(v goja.Value) *methodCall {
		mc, ok := w.bound(v).(*methodCall)
		if !ok {
			panic(vm.NewTypeError("not a method call context"))
		}
		return mc
	}
	_ = proto.Set("preventDefault", func(call goja.FunctionCall) goja.Value {
		this(call.This).prevented = true
		return goja.Undefined()
	})
	getter := func(name string, get func(mc *methodCall) goja.Value) {
		g := vm.ToValue(func(call goja.FunctionCall) goja.Value { return get(this(call.This)) })
		_ = proto.DefineAccessorProperty(name, g, nil, goja.FLAG_FALSE, goja.FLAG_TRUE)
	}
	getter("dataStore", func(mc *methodCall) goja.Value {
		if mc.dsObj == nil {
			mc.dsObj = w.newDataStore(mc.ds)
		}
		return mc.dsObj
	})
	getter("originalParams", func(mc *methodCall) goja.Value {
		if mc.original == nil {
			mc.original = w.requestToJS(mc.req)
		}
		return mc.original
	})
	return proto
}

// requestFromJS reads mParams back into a request. A script may not change which
// method of which entity runs: entity and method are those of the call.
func (w *Worker) requestFromJS(mParams *goja.Object, orig *ubql.Request) (*ubql.Request, error) {
	m, err := w.exportObject(mParams, "ctx.mParams")
	if err != nil {
		return nil, internalError("%s.%s: %v", orig.Entity, orig.Method, err)
	}
	if m == nil {
		m = map[string]any{}
	}
	m["entity"], m["method"] = orig.Entity, orig.Method
	r, err := ubql.FromValue(m)
	if err != nil {
		return nil, fmt.Errorf("%s.%s: ctx.mParams is not a valid request any more: %w", orig.Entity, orig.Method, err)
	}
	return r, nil
}

// doStore runs an mStorage method with the store. Requests that scripts make on the
// server's behalf run as internal calls (store.Tx.DoInternal: same transaction, no client
// restrictions, __skipOptimisticLock honoured), as UnityBase runs server-side calls.
func (w *Worker) doStore(req *ubql.Request, external bool) (*ubql.Response, error) {
	ctx := w.rlsContext(w.call.ctx, req.Entity) // row-level security (rls.go)
	if !external {
		return w.call.tx.DoInternal(ctx, req)
	}
	return w.call.tx.Do(ctx, req)
}
