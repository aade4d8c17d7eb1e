package jsvm

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"hash/crc32"
	"net/http"
	"net/textproto"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/dop251/goja"
)

// The THTTPRequest and THTTPResponse objects of endpoint calls. Their methods and the
// request's fields and the response's statusCode live on two prototypes built once per
// worker; a call creates only two empty objects inheriting from them, so a call that
// reads nothing pays for nothing. The methods find the Go state of their object in the
// worker's table of the running call (httpObjs): an object used after its call ended
// (kept by a script in a module variable) no longer answers, its methods and fields throw
// a TypeError, as UnityBase's native objects are gone after the call.

var (
	typeArrayBuffer = reflect.TypeFor[goja.ArrayBuffer]()
	typeBytes       = reflect.TypeFor[[]byte]()
)

// httpObj ties a request or response object of the running call to its Go state.
type httpObj struct {
	obj  *goja.Object
	req  *Request
	resp *Response // nil for request objects
	// The request's string fields as JS values, made on first read: scripts read
	// req.uri or req.method more than once (a dispatch on req.uri, say).
	strs [requestStrFields]goja.Value
}

// requestStrFields is the number of string fields of THTTPRequest memoized in httpObj.
const requestStrFields = 6

// httpProtos returns the request and response prototypes, built on first use.
func (w *Worker) httpProtos() (req, resp *goja.Object) {
	if w.api.reqProto == nil {
		w.api.reqProto = w.newRequestProto()
		w.api.respProto = w.newResponseProto()
	}
	return w.api.reqProto, w.api.respProto
}

// newHTTPRequest creates the THTTPRequest object of r for the running call.
func (w *Worker) newHTTPRequest(r *Request) *goja.Object {
	proto, _ := w.httpProtos()
	obj := w.vm.CreateObject(proto)
	w.httpObjs = append(w.httpObjs, httpObj{obj: obj, req: r})
	return obj
}

// newHTTPResponse creates the THTTPResponse object of a call; the body, the headers and
// statusCode (an accessor of the prototype) go straight into resp.
func (w *Worker) newHTTPResponse(req *Request, resp *Response) *goja.Object {
	_, proto := w.httpProtos()
	obj := w.vm.CreateObject(proto)
	w.httpObjs = append(w.httpObjs, httpObj{obj: obj, req: req, resp: resp})
	return obj
}

// releaseHTTPObjs forgets the objects of the call that ended.
func (w *Worker) releaseHTTPObjs() {
	clear(w.httpObjs)
	w.httpObjs = w.httpObjs[:0]
}

// httpState finds the Go state of this, a request (wantResp false) or response object of
// the running call, or throws a TypeError naming what.
func (w *Worker) httpState(this goja.Value, wantResp bool, what string) (*goja.Object, *httpObj) {
	if obj, ok := this.(*goja.Object); ok {
		for i := len(w.httpObjs) - 1; i >= 0; i-- {
			if h := &w.httpObjs[i]; h.obj == obj && (h.resp != nil) == wantResp {
				return obj, h
			}
		}
	}
	kind := "THTTPRequest"
	if wantResp {
		kind = "THTTPResponse"
	}
	panic(w.vm.NewTypeError("%s.%s: called on an object that is not the %s of the running call", kind, what, kind))
}

// newRequestProto builds the prototype of THTTPRequest objects.
func (w *Worker) newRequestProto() *goja.Object {
	vm := w.vm
	proto := vm.NewObject()
	// Request fields are read accessors of the prototype. Assigning one gives the object
	// an own data property, as a plain data field would behave.
	accessor := func(name string, get func(call goja.FunctionCall) goja.Value) {
		setter := func(call goja.FunctionCall) goja.Value {
			if obj, ok := call.This.(*goja.Object); ok {
				_ = obj.DefineDataProperty(name, call.Argument(0), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
			}
			return goja.Undefined()
		}
		_ = proto.DefineAccessorProperty(name, vm.ToValue(get), vm.ToValue(setter), goja.FLAG_TRUE, goja.FLAG_TRUE)
	}
	// strField is a string field, made a JS value once per call: scripts read req.uri or
	// req.method more than once, and the value cannot change during the call.
	strField := func(name string, i int, get func(r *Request) string) {
		accessor(name, func(call goja.FunctionCall) goja.Value {
			_, h := w.httpState(call.This, false, name)
			if h.strs[i] == nil {
				h.strs[i] = vm.ToValue(get(h.req))
			}
			return h.strs[i]
		})
	}
	// builtField is a value built from the request (parsed parameters, the header
	// text): its first read defines it as an own property, which later reads find.
	builtField := func(name string, build func(r *Request) goja.Value) {
		accessor(name, func(call goja.FunctionCall) goja.Value {
			obj, h := w.httpState(call.This, false, name)
			v := build(h.req)
			_ = obj.DefineDataProperty(name, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
			return v
		})
	}
	strField("method", 0, func(r *Request) string { return r.Method })
	strField("url", 1, func(r *Request) string { return r.URL })
	strField("uri", 2, func(r *Request) string { return r.URI })
	strField("decodedUri", 3, func(r *Request) string {
		decoded := r.DecodedURI
		if decoded == "" && r.URI != "" {
			if d, err := url.PathUnescape(r.URI); err == nil {
				decoded = d
			} else {
				decoded = r.URI
			}
		}
		return decoded
	})
	strField("parameters", 4, func(r *Request) string { return r.Parameters })
	strField("requestId", requestStrFields-1, func(r *Request) string { return r.RequestID })
	builtField("parsedParameters", func(r *Request) goja.Value {
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
	builtField("headers", func(r *Request) goja.Value {
		var b strings.Builder
		for _, k := range sortedNames(r.Header) {
			for _, v := range r.Header[k] {
				b.WriteString(k + ": " + v + "\r\n")
			}
		}
		return vm.ToValue(b.String())
	})
	_ = proto.Set("getHeader", func(call goja.FunctionCall) goja.Value {
		_, h := w.httpState(call.This, false, "getHeader")
		vs := h.req.Header[textproto.CanonicalMIMEHeaderKey(w.safeString(call.Argument(0)))]
		if len(vs) == 0 {
			return goja.Undefined()
		}
		return vm.ToValue(vs[0])
	})
	_ = proto.Set("read", func(call goja.FunctionCall) goja.Value {
		_, h := w.httpState(call.This, false, "read")
		switch strings.ToLower(w.safeString(call.Argument(0))) {
		case "base64":
			return vm.ToValue(base64.StdEncoding.EncodeToString(h.req.Body))
		case "bin":
			return vm.ToValue(vm.NewArrayBuffer(bytes.Clone(h.req.Body)))
		}
		return vm.ToValue(string(h.req.Body))
	})
	_ = proto.Set("json", func(call goja.FunctionCall) goja.Value {
		_, h := w.httpState(call.This, false, "json")
		if v, ok := w.parseJSONFast(h.req.Body); ok {
			return v
		}
		v, err := w.api.jsonParse(goja.Undefined(), vm.ToValue(string(h.req.Body)))
		if err != nil {
			w.throw(err)
		}
		return v
	})
	return proto
}

// newResponseProto builds the prototype of THTTPResponse objects.
func (w *Worker) newResponseProto() *goja.Object {
	vm := w.vm
	proto := vm.NewObject()
	write := func(resp *Response, data goja.Value, encoding string) {
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
			// ExportType first: exporting a plain object would copy it into a Go map.
			if t := data.ExportType(); t == typeArrayBuffer || t == typeBytes {
				switch x := data.Export().(type) {
				case goja.ArrayBuffer:
					resp.Body = append(resp.Body, x.Bytes()...)
					return
				case []byte: // Uint8Array
					resp.Body = append(resp.Body, x...)
					return
				}
			}
			// JSON.stringify(data), written straight into the body; undefined (a
			// function, say) writes nothing.
			resp.Body, _ = w.appendJSON(resp.Body, data)
		}
	}
	method := func(name string, fn func(obj *goja.Object, h *httpObj, call goja.FunctionCall) goja.Value) {
		_ = proto.Set(name, func(call goja.FunctionCall) goja.Value {
			obj, h := w.httpState(call.This, true, name)
			return fn(obj, h, call)
		})
	}
	method("writeHead", func(_ *goja.Object, h *httpObj, call goja.FunctionCall) goja.Value {
		for _, f := range w.headerLines(w.safeString(call.Argument(0))) {
			if have := h.resp.Header[f.key]; len(have) > 0 {
				h.resp.Header[f.key] = append(have, f.vals...)
			} else {
				h.resp.Header[f.key] = f.vals // shared, but full: an append copies it
			}
		}
		return goja.Undefined()
	})
	statusGetter := vm.ToValue(func(call goja.FunctionCall) goja.Value {
		_, h := w.httpState(call.This, true, "statusCode")
		return vm.ToValue(h.resp.StatusCode)
	})
	statusSetter := vm.ToValue(func(call goja.FunctionCall) goja.Value {
		_, h := w.httpState(call.This, true, "statusCode")
		if v := call.Argument(0); goja.IsNumber(v) {
			h.resp.StatusCode = int(v.ToInteger())
		}
		return goja.Undefined()
	})
	_ = proto.DefineAccessorProperty("statusCode", statusGetter, statusSetter, goja.FLAG_FALSE, goja.FLAG_TRUE)
	for _, name := range []string{"write", "writeEnd"} {
		method(name, func(_ *goja.Object, h *httpObj, call goja.FunctionCall) goja.Value {
			write(h.resp, call.Argument(0), w.safeString(call.Argument(1)))
			return goja.Undefined()
		})
	}
	method("writeBinaryBase64", func(_ *goja.Object, h *httpObj, call goja.FunctionCall) goja.Value {
		write(h.resp, call.Argument(0), "base64")
		return goja.Undefined()
	})
	plain := func(status int, text string) func(*goja.Object, *httpObj, goja.FunctionCall) goja.Value {
		return func(obj *goja.Object, h *httpObj, call goja.FunctionCall) goja.Value {
			if reason := w.safeString(call.Argument(0)); reason != "" {
				w.prog.log.Debug("endpoint answered "+text, "reason", reason, "url", h.req.URL)
			}
			h.resp.StatusCode = status
			h.resp.Header["Content-Type"] = []string{"text/plain; charset=UTF-8"}
			h.resp.Body = append(h.resp.Body[:0], text...)
			return vm.ToValue(false)
		}
	}
	method("badRequest", plain(http.StatusBadRequest, "Bad Request"))
	method("notFound", plain(http.StatusNotFound, "Not Found"))
	method("notImplemented", plain(http.StatusNotImplemented, "Not Implemented"))
	method("validateETag", func(_ *goja.Object, h *httpObj, _ goja.FunctionCall) goja.Value {
		resp := h.resp
		if resp.StatusCode != http.StatusOK || len(resp.Body) <= 64 {
			return vm.ToValue(false)
		}
		var sum [4]byte
		crc := crc32.ChecksumIEEE(resp.Body)
		sum[0], sum[1], sum[2], sum[3] = byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc)
		etag := hex.EncodeToString(sum[:])
		resp.Header["Etag"] = []string{etag}
		for _, v := range h.req.Header["If-None-Match"] {
			if strings.Trim(strings.TrimPrefix(v, "W/"), `"`) == etag {
				resp.StatusCode = http.StatusNotModified
				resp.Body = resp.Body[:0]
				return vm.ToValue(true)
			}
		}
		return vm.ToValue(false)
	})
	return proto
}

// headerField is one header of a writeHead argument, parsed.
type headerField struct {
	key  string   // canonical
	vals []string // full (len == cap): appending to it copies
}

// maxHeaderCache bounds the writeHead strings a worker keeps parsed.
const maxHeaderCache = 64

// headerLines parses a writeHead argument ("Name: value" lines), keeping the result per
// worker: endpoints pass the same few constant strings on every call.
func (w *Worker) headerLines(text string) []headerField {
	if fs, ok := w.headerCache[text]; ok {
		return fs
	}
	var fs []headerField
	for line := range strings.SplitSeq(text, "\n") {
		k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), ":")
		if !ok || strings.TrimSpace(k) == "" {
			continue
		}
		key := textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(k))
		if i := slices.IndexFunc(fs, func(f headerField) bool { return f.key == key }); i >= 0 {
			fs[i].vals = slices.Clip(append(fs[i].vals, strings.TrimSpace(v)))
			continue
		}
		fs = append(fs, headerField{key: key, vals: []string{strings.TrimSpace(v)}})
	}
	if w.headerCache == nil || len(w.headerCache) >= maxHeaderCache {
		w.headerCache = map[string][]headerField{}
	}
	w.headerCache[strings.Clone(text)] = fs
	return fs
}
