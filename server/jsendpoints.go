package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/ubgo/ubgo/runtime/jsvm"
	"github.com/ubgo/ubgo/store"
)

// anonymous is the session of endpoints that need no authorization, called without one.
var anonymous = store.Session{UserID: store.UserAnonymous, UserName: "anonymous", External: true}

// MountJS adds the endpoints that need the models' JavaScript: rest/<entity>/<method>,
// and the endpoints that models registered with App.registerEndpoint. An endpoint of the
// same name as a built-in one is refused (a model cannot replace ubql or auth), except
// the admin UI placeholder, which a model's endpoint replaces. The endpoint a model
// registered with isDefault serves paths whose first segment is no endpoint, instead of
// statics. App "getAppInfo" listeners extend the getAppInfo answer (once, here). Call it
// before the server serves requests.
func (s *Server) MountJS(pool *jsvm.Pool, st *store.Store) error {
	if err := s.mountRest(pool, st); err != nil {
		return err
	}
	for _, ep := range pool.Program().Endpoints() {
		if !validEndpointName(ep.Name) {
			return fmt.Errorf("model %s registers endpoint %q, which cannot be a path segment", ep.Model, ep.Name)
		}
		h := &jsEndpoint{name: ep.Name, pool: pool, store: st}
		if _, taken := s.lookup(ep.Name); taken {
			if ep.Name != s.adminUIName {
				return fmt.Errorf("model %s registers endpoint %q, which the server already has", ep.Model, ep.Name)
			}
			s.replaceAdminUI(h, ep.AuthorizationRequired)
			continue
		}
		s.Handle(ep.Name, h, ep.AuthorizationRequired)
	}
	s.mountDefault(pool, st)
	return s.extendAppInfo(pool)
}

// jsEndpoint runs one model endpoint on a worker, inside a transaction committed when the
// handler returns and rolled back when it throws.
type jsEndpoint struct {
	name      string
	pool      *jsvm.Pool
	store     *store.Store
	rest      bool // the rest endpoint: Worker.CallRest instead of a registered handler
	asDefault bool // serving as the default endpoint: Rest(r) is the whole path
}

func (h *jsEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		WriteErr(w, r, err) // the body limit's error carries 413
		return
	}
	sess := Session(r)
	if sess == nil {
		a := anonymous
		a.RemoteIP, a.Lang = RemoteIP(r), Lang(r)
		sess = &a
	}
	rest := Rest(r)
	req := &jsvm.Request{Method: r.Method, URL: h.name, URI: rest,
		Parameters: r.URL.RawQuery, Header: r.Header, Body: body, RequestID: RequestID(r)}
	switch {
	case h.asDefault:
		req.URL = rest
	case rest != "":
		req.URL = strings.TrimPrefix(h.name+"/"+rest, "/")
	}
	if r.URL.RawQuery != "" {
		req.URL += "?" + r.URL.RawQuery
	}
	if d, err := url.PathUnescape(rest); err == nil {
		req.DecodedURI = d
	}
	resp := &jsvm.Response{}
	if err := h.call(r.Context(), sess, req, resp); err != nil {
		WriteErr(w, r, err)
		return
	}
	hdr := w.Header()
	for k, vs := range resp.Header {
		ck := http.CanonicalHeaderKey(k)
		if ck == "Content-Type" && len(vs) == 1 && vs[0] == "!STATICFILE" {
			continue
		}
		if have := hdr[ck]; len(have) > 0 {
			hdr[ck] = append(have, vs...)
		} else {
			// The handler's slice as it is: jsvm hands out full slices, so a later
			// append (a middleware adding Vary) copies instead of writing into it.
			hdr[ck] = slices.Clip(vs)
		}
	}
	if ct := resp.Header["Content-Type"]; len(ct) == 1 && ct[0] == "!STATICFILE" {
		// A handler may only point at files it can name; serve them as they are, no listing.
		f, err := os.Open(string(resp.Body))
		if err != nil {
			WriteErr(w, r, &Error{Status: http.StatusNotFound, Code: CodeGeneric, Msg: "Not Found"})
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil || st.IsDir() {
			WriteErr(w, r, &Error{Status: http.StatusNotFound, Code: CodeGeneric, Msg: "Not Found"})
			return
		}
		http.ServeContent(w, r, st.Name(), st.ModTime(), f)
		return
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	w.Write(resp.Body)
}

// readBody reads the whole request body (the server bounds it), without allocating for
// the common bodiless GET and sized at once when the length is announced.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if n := r.ContentLength; n > 0 && n <= 1<<20 {
		// One allocation of the announced size (+1 to see EOF without growing); a body
		// longer than announced is still read whole.
		buf := make([]byte, 0, n+1)
		for {
			m, err := r.Body.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+m]
			switch {
			case err == io.EOF:
				return buf, nil
			case err != nil:
				return buf, err
			case len(buf) == cap(buf):
				rest, err := io.ReadAll(r.Body)
				return append(buf, rest...), err
			}
		}
	}
	return io.ReadAll(r.Body)
}

func (h *jsEndpoint) call(ctx context.Context, sess *store.Session, req *jsvm.Request, resp *jsvm.Response) error {
	worker, err := h.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer h.pool.Release(worker)
	tx := h.store.Begin(sess)
	defer tx.Rollback()
	call := worker.CallEndpoint
	if h.rest {
		call = func(ctx context.Context, _ string, req *jsvm.Request, resp *jsvm.Response, tx *store.Tx) error {
			return worker.CallRest(ctx, req, resp, tx)
		}
	}
	if err := call(ctx, h.name, req, resp, tx); err != nil {
		return err
	}
	return tx.Commit()
}
