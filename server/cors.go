package server

import (
	"net/http"
	"strings"
)

// Preflight answers: what a browser may send cross-origin, and for how long it may cache
// the answer.
const (
	corsAllowMethods  = "GET, HEAD, POST, PUT, DELETE, OPTIONS"
	corsAllowHeaders  = "Authorization, Content-Type, Accept-Language, If-None-Match, X-Request-Id"
	corsExposeHeaders = "X-Request-Id, ETag"
	corsMaxAge        = "600"
)

// corsPolicy is httpServer.allowCORSFrom: origins compared exactly (scheme, host and port,
// as browsers send them), separated by commas or spaces; "*" allows any origin. Cookies are
// never allowed cross-origin: UnityBase clients authenticate with the Authorization header.
type corsPolicy struct {
	any     bool
	origins map[string]bool
}

func newCORS(allow string) corsPolicy {
	c := corsPolicy{origins: map[string]bool{}}
	for _, o := range strings.FieldsFunc(allow, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		if o == "*" {
			c.any = true
		} else {
			c.origins[strings.TrimSuffix(o, "/")] = true
		}
	}
	return c
}

func (c corsPolicy) enabled() bool { return c.any || len(c.origins) > 0 }

// handle adds the CORS headers of an allowed origin and answers preflight requests: 204 for
// an allowed origin, 403 for another. It reports whether the request has been answered.
func (c corsPolicy) handle(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || !c.enabled() {
		return false
	}
	h := w.Header()
	allow := "*"
	if !c.any {
		h.Add("Vary", "Origin")
		allow = origin
	}
	ok := c.any || c.origins[origin]
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		if !ok {
			WriteErr(w, r, errStatus(http.StatusForbidden, "CORS: origin "+origin+" is not in allowCORSFrom"))
			return true
		}
		h.Set("Access-Control-Allow-Origin", allow)
		h.Set("Access-Control-Allow-Methods", corsAllowMethods)
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", corsMaxAge)
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	if ok {
		h.Set("Access-Control-Allow-Origin", allow)
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
	}
	return false
}
