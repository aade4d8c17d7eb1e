package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ubgo/ubgo/lifecycle"
	"github.com/ubgo/ubgo/store"
)

// reqState is what the server knows about a request in flight. The front (ServeHTTP) fills
// it before routing; endpoints read it through RequestID, Rest, Session and Lang.
type reqState struct {
	srv      *Server
	id       string
	seq      int64
	ip       string
	endpoint string
	rest     string
	sess     *store.Session
	lang     string // set by route once the session is known
}

type stateKey struct{}

// fallbackState serves requests that did not pass through a Server (WriteErr called by a
// handler under test, say): production error policy, English texts, the default logger.
var fallbackState = &reqState{}

func stateOf(r *http.Request) *reqState {
	if st, ok := r.Context().Value(stateKey{}).(*reqState); ok {
		return st
	}
	return fallbackState
}

func (st *reqState) dev() bool { return st.srv != nil && st.srv.opt.Dev }

func (st *reqState) logger() *slog.Logger {
	if st.srv == nil {
		return slog.Default()
	}
	return st.srv.log
}

// text is a server message in the request's language.
func (st *reqState) text(r *http.Request, id string) string {
	if st.srv == nil {
		return fallbackCatalog.text("en", id)
	}
	return st.srv.msgs.text(st.language(r), id)
}

// language is the request's language; before routing has set it (an error in the front)
// it is worked out without a session.
func (st *reqState) language(r *http.Request) string {
	switch {
	case st.lang != "":
		return st.lang
	case st.srv != nil:
		return st.srv.requestLang(r, nil)
	}
	return "en"
}

// RequestID is the request's id: the X-Request-Id a trusted proxy sent, else one the server
// made up. It is in the response header and in every log line about the request. (Audit
// rows carry the request's sequence number instead: store.Session.RequestID.)
func RequestID(r *http.Request) string { return stateOf(r).id }

// Rest is the decoded path after the endpoint name: "UBA/forms/x.js" for /models/UBA/forms/x.js.
// For the default endpoint it is the whole path after httpServer.path.
func Rest(r *http.Request) string { return stateOf(r).rest }

// Session is the session of a request to an endpoint that requires authorization. Other
// endpoints get the caller's or the anonymous session when the Authorizer is a
// PublicAuthorizer, else nil.
func Session(r *http.Request) *store.Session { return stateOf(r).sess }

// Lang is the language of the request (see reference §7.1): ?lang=, the session's language,
// Accept-Language, the application's default.
func Lang(r *http.Request) string { return stateOf(r).language(r) }

// RemoteIP is the client address: the peer, or what a trusted proxy says the client is.
func RemoteIP(r *http.Request) string { return stateOf(r).ip }

// requestIDs makes request ids: a random prefix per process and a sequence number, so that
// ids are unique across restarts and cheap to make.
type requestIDs struct {
	prefix string
}

func newRequestIDs() requestIDs {
	var b [4]byte
	rand.Read(b[:])
	return requestIDs{prefix: hex.EncodeToString(b[:]) + "-"}
}

func (g requestIDs) make(seq int64) string { return g.prefix + strconv.FormatInt(seq, 10) }

// validRequestID accepts ids a proxy may set: short, printable, no separators that could
// break a log line or a header.
func validRequestID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// checkPath rejects paths that no file and no endpoint can have: invalid UTF-8 and control
// characters (NUL included). r.URL.Path is already percent-decoded, so "%00" and "%ff" are
// caught here.
func checkPath(p string) error {
	if !utf8.ValidString(p) {
		return errStatus(http.StatusBadRequest, "the path is not valid UTF-8")
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] == 0x7f {
			return errStatus(http.StatusBadRequest, "the path contains a control character")
		}
	}
	return nil
}

// recorder remembers the status and size of a response for the access log and the
// counters, and whether anything reached the client (after which an error can no longer
// be written).
type recorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader && code >= 200 {
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = http.StatusOK, true
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		if !r.wroteHeader {
			r.status, r.wroteHeader = http.StatusOK, true
		}
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// countingBody counts the request body bytes a handler reads.
type countingBody struct {
	io.ReadCloser
	n *int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	*c.n += int64(n)
	return n, err
}

// limitBody refuses a body that announces more than max bytes and caps the rest (chunked
// bodies included) while they are read: reading past the cap fails with
// *http.MaxBytesError, which WriteErr answers with 413.
func limitBody(w http.ResponseWriter, r *http.Request, max int64) error {
	if r.ContentLength > max {
		return errStatus(http.StatusRequestEntityTooLarge, fmt.Sprintf("Content-Length %d is over the limit of %d bytes", r.ContentLength, max))
	}
	r.Body = http.MaxBytesReader(w, r.Body, max)
	return nil
}

// sensitiveParams are query parameters whose values never reach the log.
var sensitiveParams = map[string]bool{"password": true, "pwd": true, "newpwd": true, "secret": true,
	"clientnonce": true, "connectionid": true, "session_signature": true, "apikey": true}

// redactQuery returns a raw query with the values of sensitive parameters replaced, for the
// access log. An unparsable query is dropped whole rather than risk logging a secret.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "[unparsable]"
	}
	for k := range q {
		if sensitiveParams[strings.ToLower(k)] {
			for i := range q[k] {
				q[k][i] = "REDACTED"
			}
		}
	}
	return q.Encode()
}

// finish writes the access log line and updates the counters. Bodies and the
// Authorization header are never logged.
func (s *Server) finish(r *http.Request, st *reqState, rec *recorder, in int64, start time.Time) {
	s.stats.record(rec.status, in, rec.bytes)
	if !s.log.Enabled(r.Context(), slog.LevelInfo) {
		return // the access log is off at this level: build none of its attributes
	}
	attrs := []slog.Attr{
		slog.String("requestId", st.id),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", rec.status),
		slog.Int64("bytesIn", in),
		slog.Int64("bytesOut", rec.bytes),
		slog.Duration("duration", time.Since(start)),
		slog.String("remote", st.ip),
	}
	if q := redactQuery(r.URL.RawQuery); q != "" {
		attrs = append(attrs, slog.String("query", q))
	}
	if st.endpoint != "" {
		attrs = append(attrs, slog.String("endpoint", st.endpoint))
	}
	if st.sess != nil {
		attrs = append(attrs, slog.String("user", st.sess.UserName))
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "http", attrs...)
}

// handlePanic turns a handler panic into a 500 when nothing has been sent yet; the panic
// value and the stack go to the log only.
func (s *Server) handlePanic(p any, w *recorder, r *http.Request, st *reqState) {
	stack := string(debug.Stack())
	s.log.Error("handler panic", "requestId", st.id, "panic", fmt.Sprint(p), "stack", stack)
	defer st.reportError(r, lifecycle.SourcePanic, http.StatusInternalServerError, &lifecycle.PanicError{Value: p, Stack: stack})
	if w.wroteHeader {
		return
	}
	// drop what the handler set (ETag, Content-Type...), keep what the front set
	h := w.Header()
	for k := range h {
		if k != "X-Request-Id" && k != "X-Content-Type-Options" && k != "Vary" && !strings.HasPrefix(k, "Access-Control-") {
			delete(h, k)
		}
	}
	writeError(w, http.StatusInternalServerError, CodeGeneric, st.text(r, msgInternal))
}

// withState stores st in the request's context.
func withState(r *http.Request, st *reqState) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
}
