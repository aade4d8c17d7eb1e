package jsvm

import (
	"context"
	"net/http"
	"slices"

	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/store"
)

// Request is an HTTP request as an endpoint handler sees it (reference §3.3). The server
// fills it from its own request; this package does not depend on net/http's types.
type Request struct {
	Method     string              // "GET", "POST", ...
	URL        string              // the request path under httpServer.path with its query, without the leading "/": "rest/doc/report?id=1"
	URI        string              // the rest of the path after the endpoint name, not decoded: "doc/report"
	DecodedURI string              // URI percent-decoded; computed from URI when empty
	Parameters string              // the raw query string, without "?"
	Header     map[string][]string // canonical keys (an http.Header converts as is)
	Body       []byte              // the whole body, already bounded by the server
	RequestID  string
}

// anonymous is the session of endpoint calls made without a transaction.
var anonymous = &store.Session{UserID: store.UserAnonymous, UserName: "anonymous"}

// Response is what an endpoint handler produced.
type Response struct {
	StatusCode int                 // 200 unless the handler set another
	Header     map[string][]string // canonical keys; "Content-Type: !STATICFILE" means Body is a file path to stream
	Body       []byte
}

// CallEndpoint runs the handler registered as name with App.registerEndpoint, with the
// events UnityBase emits around it: App "launchEndpoint:before" (req, resp, name),
// "<name>:before" (req, resp), the handler unless a :before listener called
// App.preventDefault(), "<name>:after" (req, resp) and "launchEndpoint:after" (req,
// resp, name, defaultPrevented). The call runs as tx's session. tx may be nil for endpoints
// that touch no data: Session is then the anonymous user and Repository or DataStore
// calls fail. (A store.Tx starts no database work until it is used, so passing one is
// cheap.) On error the caller rolls tx
// back and answers with the error (resp is left as the handler left it).
func (w *Worker) CallEndpoint(ctx context.Context, name string, req *Request, resp *Response, tx *store.Tx) error {
	handler := w.endpoints[name]
	if handler == nil {
		msg := "endpoint " + name + " is not registered"
		return &Error{Code: codeNone, Status: http.StatusNotFound, Message: msg, Client: "Not Found"}
	}
	if resp.Header == nil {
		resp.Header = map[string][]string{}
	}
	if resp.StatusCode == 0 {
		resp.StatusCode = http.StatusOK
	}
	// Without a transaction the call has no session of its own: scripts see the anonymous
	// user, never a privileged one.
	sess := anonymous
	if tx != nil {
		sess = tx.Session()
	}
	return w.guard(ctx, sess, tx, func() error {
		vm := w.vm
		jsReq := w.newHTTPRequest(req)
		jsResp := w.newHTTPResponse(req, resp)
		app := w.api.app
		// The events go through the EventEmitter only when something listens: most
		// applications listen to none of them, and an emit costs more than a bare call.
		var nameV goja.Value
		nameValue := func() goja.Value {
			if nameV == nil {
				nameV = vm.ToValue(name)
			}
			return nameV
		}
		before, after := w.endpointEvents(name)
		if w.appListens(evLaunchBefore) {
			if _, err := w.api.emit(app, vm.ToValue(evLaunchBefore), jsReq, jsResp, nameValue()); err != nil {
				return err
			}
		}
		if w.appListens(before) {
			if _, err := w.api.emit(app, vm.ToValue(before), jsReq, jsResp); err != nil {
				return err
			}
		}
		prevented := w.call.prevented
		if !prevented {
			// A JS handler gets the arguments copied onto goja's stack. The buffer is
			// cleared afterwards, so that it keeps nothing of this call alive and a Go
			// function registered as a handler, which sees the buffer itself, cannot read
			// the next call's objects through a slice it kept.
			args := w.handlerArgs[:]
			args[0], args[1] = jsReq, jsResp
			_, err := handler(goja.Undefined(), args...)
			clear(args)
			if err != nil {
				return err
			}
		}
		if w.appListens(after) {
			if _, err := w.api.emit(app, vm.ToValue(after), jsReq, jsResp); err != nil {
				return err
			}
		}
		if w.appListens(evLaunchAfter) {
			if _, err := w.api.emit(app, vm.ToValue(evLaunchAfter), jsReq, jsResp, nameValue(), vm.ToValue(prevented)); err != nil {
				return err
			}
		}
		return nil
	})
}

const (
	evLaunchBefore = "launchEndpoint:before"
	evLaunchAfter  = "launchEndpoint:after"
)

// endpointEvents returns the names of the App events around endpoint name,
// "<name>:before" and "<name>:after", built once per worker and endpoint.
func (w *Worker) endpointEvents(name string) (before, after string) {
	ev, ok := w.epEvents[name]
	if !ok {
		if w.epEvents == nil {
			w.epEvents = map[string][2]string{}
		}
		ev = [2]string{name + ":before", name + ":after"}
		w.epEvents[name] = ev
	}
	return ev[0], ev[1]
}

// appListeners is App's "_events": the listener lists of the prelude's EventEmitter, held
// in a Go map behind a goja.DynamicObject. Every endpoint call asks whether App has
// listeners for four events, and a map lookup answers that without reading JS properties.
// Scripts see an ordinary registry object, except that Object.keys lists its names in the
// order they were added (a plain object puts integer-like names first) and that it
// cannot hold Symbol keys (the prelude keeps Symbol-named events in "_symEvents").
type appListeners struct {
	lists map[string]goja.Value
	names []string // in the order they were added
}

func newAppListeners() *appListeners { return &appListeners{lists: map[string]goja.Value{}} }

func (a *appListeners) Get(name string) goja.Value { return a.lists[name] }

func (a *appListeners) Has(name string) bool {
	_, ok := a.lists[name]
	return ok
}

func (a *appListeners) Set(name string, list goja.Value) bool {
	if _, ok := a.lists[name]; !ok {
		a.names = append(a.names, name)
	}
	a.lists[name] = list
	return true
}

func (a *appListeners) Delete(name string) bool {
	if i := slices.Index(a.names, name); i >= 0 {
		a.names = slices.Delete(a.names, i, i+1)
	}
	delete(a.lists, name)
	return true
}

func (a *appListeners) Keys() []string { return slices.Clone(a.names) }

// appListens reports whether App may have listeners for event. It answers false only when
// an emit would certainly find none; anything unexpected in the registry (a script may
// assign App._events[event] itself) counts as a listener, and the emit decides.
func (w *Worker) appListens(event string) bool {
	list := w.appEvents.lists[event]
	if list == nil || goja.IsUndefined(list) || goja.IsNull(list) {
		return false
	}
	if arr, ok := list.(*goja.Object); ok && arr.ClassName() == "Array" {
		if n := arr.Get("length"); n != nil && n.ToInteger() == 0 {
			return false
		}
	}
	return true
}
