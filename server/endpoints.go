package server

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

func (s *Server) getAppInfo(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	writeCached(w, r, s.appInfo, s.appETag, "application/json; charset=utf-8")
}

// ready answers load balancers: 200 while the server accepts work, 503 once it drains.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"status":"draining"}`))
		return
	}
	w.Write([]byte(`{"status":"ready"}`))
}

// timeStamp answers the server's clock in milliseconds since the Unix epoch, as text.
// UnityBase's exact shape is unknown (reference §3.4); a number is what clients that sync a
// clock can use.
func (s *Server) timeStamp(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.Write([]byte(strconv.FormatInt(time.Now().UnixMilli(), 10)))
}

// allowMethods answers 405 with an Allow header unless the request's method is one of
// methods, and reports whether the handler may go on.
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	WriteErr(w, r, errStatus(http.StatusMethodNotAllowed, r.Method+" is not allowed here"))
	return false
}

// writeCached writes a body that clients revalidate: with its ETag, 304 when If-None-Match
// names it.
func writeCached(w http.ResponseWriter, r *http.Request, body []byte, etag, contentType string) {
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "no-cache")
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// etagMatch is If-None-Match's weak comparison: any listed tag equal to etag, ignoring W/
// (gzip weakens the tags it sends), or "*".
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	etag = strings.TrimPrefix(etag, "W/")
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
