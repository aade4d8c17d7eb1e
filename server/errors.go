package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/ubgo/ubgo/lifecycle"
)

// UnityBase errCodes of the failures the server itself reports (reference §7.4). HTTP-level
// failures that UnityBase has no code for (405, 413, 500...) use CodeGeneric, which clients
// treat as "an error" without a special reaction.
const (
	CodeGeneric     = 1  // NotImplemented in UnityBase's list
	CodeInvalidData = 4  // InvalidDataForRunMethod: a malformed request
	CodeAccessDeny  = 8  // ElsAccessDeny
	CodeNeedAuth    = 10 // ElsNeedAuth: no or invalid session
	CodeNotFound    = 15 // EntityNotExist: what UnityBase answers for unknown things
)

// defaultCode is the errCode of a status when the error has none of its own.
var defaultCode = map[int]int{
	http.StatusBadRequest:            CodeInvalidData,
	http.StatusUnauthorized:          CodeNeedAuth,
	http.StatusForbidden:             CodeAccessDeny,
	http.StatusNotFound:              CodeNotFound,
	http.StatusUnsupportedMediaType:  CodeInvalidData,
	http.StatusRequestEntityTooLarge: CodeGeneric,
}

// UBError is what an error needs to reach a client with its own status, errCode and text.
// *store.Error, *ubql.Error and *Error implement it.
type UBError interface {
	error
	UBCode() int
	HTTPStatus() int
	ClientMessage() string
}

// Error is a failure the server reports itself: a bad path, a wrong method, a missing
// session. Without Msg the client gets the localized text of Status.
type Error struct {
	Status int
	Code   int    // UnityBase errCode; 0 means the usual code of Status
	Msg    string // client text; "" means the localized text of Status
	Detail string // why, for the log; clients see it only in dev mode
	Err    error  // the cause, for the log
}

func (e *Error) Error() string {
	s := strconv.Itoa(e.Status) + " " + http.StatusText(e.Status)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// UBCode is the UnityBase errCode.
func (e *Error) UBCode() int { return e.Code }

// HTTPStatus is the response status.
func (e *Error) HTTPStatus() int { return e.Status }

// ClientMessage is Msg; the server localizes an empty one.
func (e *Error) ClientMessage() string { return e.Msg }

// errStatus builds an *Error of status with a detail for the log.
func errStatus(status int, detail string) *Error { return &Error{Status: status, Detail: detail} }

// WriteErr answers a request with the error body {"success":false,"errCode":..,"errMsg":..}
// and the status the error asks for. Any error implementing UBError keeps its status and
// errCode; an oversized body (http.MaxBytesError) is 413; anything else is 500.
//
// Which text the client sees: a message in <<<...>>> (a client-side i18n key, reference
// §7.4) always passes as is; so do the messages of 4xx errors, whose types promise texts
// safe for clients (they name the offending part of the request, never SQL). Other 5xx
// texts are replaced by "Internal server error" unless the server runs in dev mode. The
// full error goes to the log, with the request id, never to the client.
func WriteErr(w http.ResponseWriter, r *http.Request, err error) {
	st := stateOf(r)
	status, code, msg := http.StatusInternalServerError, 0, ""
	var own *Error
	var ube UBError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &own):
		status, code, msg = own.Status, own.Code, own.Msg
	case errors.As(err, &ube):
		status, code, msg = ube.HTTPStatus(), ube.UBCode(), ube.ClientMessage()
	case errors.As(err, &mbe):
		status = http.StatusRequestEntityTooLarge
	}
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	if code == 0 {
		code = defaultCode[status]
		if code == 0 {
			code = CodeGeneric
		}
	}
	if status == http.StatusInternalServerError && !isClientI18nKey(msg) {
		defer st.reportError(r, lifecycle.SourceRequest, status, err) // after the response
	}
	switch {
	case isClientI18nKey(msg): // a client-side i18n key: always as is
	case status < 500 && msg != "": // 4xx texts are written for clients
	case st.dev() && own == nil: // dev mode: the original text of an unexpected error
		msg = err.Error()
	case st.dev() && msg == "" && own.Detail != "":
		msg = st.text(r, statusMessage(status)) + ": " + own.Detail
	case msg == "" || !st.dev(): // production 5xx, or nothing to say: the generic text
		msg = st.text(r, statusMessage(status))
	}
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelError
	}
	st.logger().Log(r.Context(), level, "request failed", "requestId", st.id, "status", status, "errCode", code, "err", err.Error())
	writeError(w, status, code, msg)
}

// isClientI18nKey reports whether msg is a UnityBase client message: "<<<key>>>" with
// optional "|[args]".
func isClientI18nKey(msg string) bool {
	return strings.HasPrefix(msg, "<<<") && strings.Contains(msg, ">>>")
}

// writeError writes UnityBase's error body. <, > and & stay as they are: clients look for
// "<<<" in the raw text (reference §7.4), and nosniff keeps browsers from reading it as HTML.
func writeError(w http.ResponseWriter, status, code int, msg string) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	enc.Encode(struct {
		Success bool   `json:"success"`
		ErrCode int    `json:"errCode"`
		ErrMsg  string `json:"errMsg"`
	}{false, code, msg})
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Del("Content-Length")
	h.Del("ETag")
	h.Del("Last-Modified")
	h.Del("Content-Encoding")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(bytes.TrimSuffix(body.Bytes(), []byte{'\n'}))
}
