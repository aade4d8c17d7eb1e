package jsvm

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"hash/crc32"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

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
		nameV := vm.ToValue(name)
		app := w.api.app
		if _, err := w.api.emit(app, vm.ToValue("launchEndpoint:before"), jsReq, jsResp, nameV); err != nil {
			return err
		}
		if _, err := w.api.emit(app, vm.ToValue(name+":before"), jsReq, jsResp); err != nil {
			return err
		}
		prevented := w.call.prevented
		if !prevented {
			if _, err := handler(goja.Undefined(), jsReq, jsResp); err != nil {
				return err
			}
		}
		if _, err := w.api.emit(app, vm.ToValue(name+":after"), jsReq, jsResp); err != nil {
			return err
		}
		if _, err := w.api.emit(app, vm.ToValue("launchEndpoint:after"), jsReq, jsResp, nameV, vm.ToValue(prevented)); err != nil {
			return err
		}
		if sc := jsResp.Get("statusCode"); sc != nil && goja.IsNumber(sc) {
			resp.StatusCode = int(sc.ToInteger())
		}
		return nil
	})
}

// newHTTPRequest builds the THTTPRequest object of a call.
func (w *Worker) newHTTPRequest(r *Request) *goja.Object {
	vm := w.vm
	obj := vm.NewObject()
	decoded := r.DecodedURI
	if decoded == "" && r.URI != "" {
		if d, err := url.PathUnescape(r.URI); err == nil {
			decoded = d
		} else {
			decoded = r.URI
		}
	}
	_ = obj.Set("method", r.Method)
	_ = obj.Set("url", r.URL)
	_ = obj.Set("uri", r.URI)
	_ = obj.Set("decodedUri", decoded)
	_ = obj.Set("parameters", r.Parameters)
	_ = obj.Set("requestId", r.RequestID)
	w.lazy(obj, "parsedParameters", func() goja.Value {
		q, _ := url.ParseQuery(r.Parameters)
		p := vm.NewObject()
		for _, k := range sortedNames(q) {
			if vs := q[k]; len(vs) == 1 {
				_ = p.Set(k, vs[0])
			} else {
				_ = p.Set(k, w.toJS(toAnySlice(vs)))
			}
		}
		return p
	})
	w.lazy(obj, "headers", func() goja.Value {
		var b strings.Builder
		for _, k := range sortedNames(r.Header) {
			for _, v := range r.Header[k] {
				b.WriteString(k + ": " + v + "\r\n")
			}
		}
		return vm.ToValue(b.String())
	})
	_ = obj.Set("getHeader", func(call goja.FunctionCall) goja.Value {
		vs := r.Header[textproto.CanonicalMIMEHeaderKey(w.safeString(call.Argument(0)))]
		if len(vs) == 0 {
			return goja.Undefined()
		}
		return vm.ToValue(vs[0])
	})
	_ = obj.Set("read", func(call goja.FunctionCall) goja.Value {
		switch strings.ToLower(w.safeString(call.Argument(0))) {
		case "base64":
			return vm.ToValue(base64.StdEncoding.EncodeToString(r.Body))
		case "bin":
			return vm.ToValue(vm.NewArrayBuffer(bytes.Clone(r.Body)))
		}
		return vm.ToValue(string(r.Body))
	})
	_ = obj.Set("json", func(goja.FunctionCall) goja.Value {
		v, err := w.api.jsonParse(goja.Undefined(), vm.ToValue(string(r.Body)))
		if err != nil {
			w.throw(err)
		}
		return v
	})
	return obj
}

// newHTTPResponse builds the THTTPResponse object of a call; the body and headers go
// straight into resp, statusCode is read back when the handler is done.
func (w *Worker) newHTTPResponse(req *Request, resp *Response) *goja.Object {
	vm := w.vm
	obj := vm.NewObject()
	_ = obj.Set("statusCode", resp.StatusCode)
	write := func(data goja.Value, encoding string) {
		switch {
		case data == nil || goja.IsUndefined(data) || goja.IsNull(data):
		case goja.IsString(data):
			if strings.EqualFold(encoding, "base64") {
				b, err := base64.StdEncoding.DecodeString(data.String())
				if err != nil {
					panic(vm.NewTypeError("write: invalid base64 data"))
				}
				resp.Body = append(resp.Body, b...)
			} else {
				resp.Body = append(resp.Body, data.String()...)
			}
		default:
			switch x := data.Export().(type) {
			case goja.ArrayBuffer:
				resp.Body = append(resp.Body, x.Bytes()...)
				return
			case []byte: // typed arrays
				resp.Body = append(resp.Body, x...)
				return
			}
			s, err := w.api.jsonStringify(goja.Undefined(), data)
			if err != nil {
				w.throw(err)
			}
			resp.Body = append(resp.Body, w.safeString(s)...)
		}
	}
	_ = obj.Set("writeHead", func(call goja.FunctionCall) goja.Value {
		for _, line := range strings.Split(w.safeString(call.Argument(0)), "\n") {
			k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), ":")
			if !ok || strings.TrimSpace(k) == "" {
				continue
			}
			key := textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(k))
			resp.Header[key] = append(resp.Header[key], strings.TrimSpace(v))
		}
		return goja.Undefined()
	})
	_ = obj.Set("write", func(call goja.FunctionCall) goja.Value {
		write(call.Argument(0), w.safeString(call.Argument(1)))
		return goja.Undefined()
	})
	_ = obj.Set("writeEnd", func(call goja.FunctionCall) goja.Value {
		write(call.Argument(0), w.safeString(call.Argument(1)))
		return goja.Undefined()
	})
	_ = obj.Set("writeBinaryBase64", func(call goja.FunctionCall) goja.Value {
		write(call.Argument(0), "base64")
		return goja.Undefined()
	})
	plain := func(status int, text string) func(goja.FunctionCall) goja.Value {
		return func(call goja.FunctionCall) goja.Value {
			if reason := w.safeString(call.Argument(0)); reason != "" {
				w.prog.log.Debug("endpoint answered "+text, "reason", reason, "url", req.URL)
			}
			_ = obj.Set("statusCode", status)
			resp.Header["Content-Type"] = []string{"text/plain; charset=UTF-8"}
			resp.Body = append(resp.Body[:0], text...)
			return vm.ToValue(false)
		}
	}
	_ = obj.Set("badRequest", plain(http.StatusBadRequest, "Bad Request"))
	_ = obj.Set("notFound", plain(http.StatusNotFound, "Not Found"))
	_ = obj.Set("notImplemented", plain(http.StatusNotImplemented, "Not Implemented"))
	_ = obj.Set("validateETag", func(goja.FunctionCall) goja.Value {
		status := int(obj.Get("statusCode").ToInteger())
		if status != http.StatusOK || len(resp.Body) <= 64 {
			return vm.ToValue(false)
		}
		var sum [4]byte
		crc := crc32.ChecksumIEEE(resp.Body)
		sum[0], sum[1], sum[2], sum[3] = byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc)
		etag := hex.EncodeToString(sum[:])
		resp.Header["Etag"] = []string{etag}
		for _, v := range req.Header["If-None-Match"] {
			if strings.Trim(strings.TrimPrefix(v, "W/"), `"`) == etag {
				_ = obj.Set("statusCode", http.StatusNotModified)
				resp.Body = resp.Body[:0]
				return vm.ToValue(true)
			}
		}
		return vm.ToValue(false)
	})
	return obj
}
