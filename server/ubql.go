package server

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/ubql"
)

// Dispatcher runs a batch of UBQL items for a session, all or nothing (reference §4.1).
// *store.Store implements it; the JS runtime will wrap it to add entity events and custom
// methods. Errors should implement UBError; WriteErr maps them to the response.
type Dispatcher interface {
	Run(ctx context.Context, sess *store.Session, reqs []*ubql.Request) ([]*ubql.Response, error)
}

var _ Dispatcher = (*store.Store)(nil)

// serveUBQL answers POST /ubql (and its legacy name /runList): a JSON array of UBQL items
// in, the array of responses out, in one transaction. The body is checked before it is
// parsed (method, JSON content type, no content encoding, size) and decoded strictly, so a
// malformed batch is a 400 that reaches no entity code.
func (s *Server) serveUBQL(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	if err := checkJSONBody(r); err != nil {
		WriteErr(w, r, err)
		return
	}
	if s.opt.Dispatcher == nil {
		WriteErr(w, r, errStatus(http.StatusNotImplemented, "no Dispatcher is configured"))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		WriteErr(w, r, err)
		return
	}
	reqs, err := ubql.DecodeBatch(body)
	if err != nil {
		WriteErr(w, r, err)
		return
	}
	resps, err := s.opt.Dispatcher.Run(r.Context(), Session(r), reqs)
	if err != nil {
		WriteErr(w, r, err)
		return
	}
	out := ubql.AppendResponses(make([]byte, 0, 256*len(resps)), resps)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.Write(out)
}

// checkJSONBody accepts a request body that is JSON in UTF-8 and not compressed. Requiring
// the JSON type also makes cross-site form posts impossible: a browser sends
// application/json cross-origin only after a CORS preflight the server must allow.
func checkJSONBody(r *http.Request) error {
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return errStatus(http.StatusUnsupportedMediaType, "Content-Encoding "+ce+" is not accepted")
	}
	ct := r.Header.Get("Content-Type")
	if plainJSON(ct) {
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return errStatus(http.StatusUnsupportedMediaType, "the body must be application/json")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return errStatus(http.StatusUnsupportedMediaType, "the body must be UTF-8")
	}
	return nil
}

// plainJSON reports whether a Content-Type is one of the usual spellings of JSON in UTF-8,
// which need no parsing (media types and the charset are case-insensitive).
func plainJSON(ct string) bool {
	return strings.EqualFold(ct, "application/json") ||
		strings.EqualFold(ct, "application/json; charset=utf-8") ||
		strings.EqualFold(ct, "application/json;charset=utf-8")
}
