package jsvm

import (
	"context"
	"net/http"
	"strings"

	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/store"
)

// Client texts of the rest endpoint (UnityBase's own wording).
const (
	restInvalidParams = "REST: parameters are invalid"
	restDenied        = "REST: unknown method or access deny"
)

// CallRest runs GET|POST|PUT|... /rest/<entity>/<method> (reference §3.4) as UnityBase's
// restEp does: req.URI is "<entity>/<method>[/...]"; the method must be one of the
// entity's methods that the session may call (ELS, PoolOptions.ELS), and the model must
// have assigned it a function, which is called as entity[method](null, req, resp) with the
// request and response objects of endpoints. No :before/:after events fire (UnityBase
// fires none for REST calls). The call runs as tx's session, inside tx.
//
// Failures: no entity segment or an unknown entity is 400, no method segment is 501, a
// method that is not registered or that ELS denies is 403 errCode 8 "REST: unknown method
// or access deny" (the same answer for both, so a caller cannot probe for methods) and
// fires Session "securityViolation"; a registered method without a JS function (an
// mStorage method, say) is 501.
func (w *Worker) CallRest(ctx context.Context, req *Request, resp *Response, tx *store.Tx) error {
	if tx == nil {
		return internalError("CallRest needs a transaction")
	}
	if resp.Header == nil {
		resp.Header = map[string][]string{}
	}
	if resp.StatusCode == 0 {
		resp.StatusCode = http.StatusOK
	}
	parts := strings.Split(req.URI, "/")
	entityName := parts[0]
	if entityName == "" {
		return &Error{Status: http.StatusBadRequest, Code: codeNone, Message: restInvalidParams, Client: restInvalidParams}
	}
	e := w.prog.dom.Entity(entityName)
	if e == nil {
		msg := "REST: unknown entity " + entityName
		return &Error{Status: http.StatusBadRequest, Code: codeEntityNotExist, Message: msg, Client: msg}
	}
	method := ""
	if len(parts) > 1 {
		method = parts[1]
	}
	if method == "" {
		msg := `REST: await "entity/method" in url`
		return &Error{Status: http.StatusNotImplemented, Code: codeNone, Message: msg, Client: msg}
	}
	return w.guard(ctx, tx.Session(), tx, func() error {
		if !w.prog.HasMethod(e.Name, method) || !w.els(e.Name, method) {
			reason := restDenied + " " + e.Name + "." + method
			w.emitSecurityViolation(reason)
			return &Error{Status: http.StatusForbidden, Code: codeAccessDeny, Message: "ESecurityException: " + reason, Client: restDenied}
		}
		ns := w.namespaces[e.Name]
		fn := w.jsImplementation(ns, method)
		if fn == nil {
			msg := "REST: entity " + e.Name + " has no JavaScript implementation of method " + method
			return &Error{Status: http.StatusNotImplemented, Code: codeMethodNotExist, Message: msg, Client: msg}
		}
		jsReq := w.newHTTPRequest(req)
		jsResp := w.newHTTPResponse(req, resp)
		if _, err := fn(ns, goja.Null(), jsReq, jsResp); err != nil {
			return err
		}
		return nil
	})
}
