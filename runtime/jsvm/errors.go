package jsvm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dop251/goja"
)

// UnityBase error codes this package produces (reference §7.4).
const (
	codeNone               = 0
	codeMethodNotExist     = 7  // MethodNotExist: an entity method nobody registered
	codeAccessDeny         = 8  // ElsAccessDeny: ESecurityException
	codeEntityNotExist     = 15 // EntityNotExist
	codeConnectionNotExist = 49 // ConnectionNotExist
	codeTooManyConnections = 67 // TooManyConnections: every worker is busy
	codeUserNotFound       = 73 // ELS_USER_NOT_FOUND: Session.runAsUser of an unknown user
)

// Texts clients see when the real message must stay in the log.
const (
	clientInternal   = "Internal server error"
	clientAccessDeny = "Access deny"
	clientTimeout    = "Request timeout"
	clientBusy       = "Too many concurrent requests, try again later"
	clientClosed     = "The server is shutting down"
)

// Error is a failure of JavaScript code or of the machinery that runs it: a thrown
// exception, a script that did not compile, an interrupted call, a Go panic in a binding.
//
// It carries what the server needs to answer a client (UBCode, HTTPStatus, ClientMessage)
// and what an operator needs to find the cause (Error: model, file, line and column, the
// JS message and stack).
//
// Client messages follow UnityBase: a message holding "<<<...>>>" (UB.UBAbort or any
// Error) reaches the client as is; an ESecurityException becomes 403 "Access deny"
// (errCode 8); every other message is replaced by "Internal server error". A storage or
// UBQL error thrown by a Go binding (Repository, DataStore) and not caught by the script
// keeps its own errCode, status and client message.
type Error struct {
	Code    int    // UnityBase errCode
	Status  int    // HTTP status
	Message string // the full message for logs: "TypeError: x is not a function", "<<<...>>>|[...]"
	Client  string // what a client may see
	Model   string // the model of the file the error points at ("" when unknown)
	File    string // the file as the user knows it: "/app/models/tsk/tsk_task.js" or "builtin:UB/x.js"
	Line    int    // 1-based; 0 when unknown
	Column  int
	Stack   string // JS stack, one "    at ..." line per frame

	cause error
}

// Error formats the error as "model M: file:line:col: message" followed by the JS stack.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("jsvm: ")
	if e.Model != "" {
		b.WriteString("model ")
		b.WriteString(e.Model)
		b.WriteString(": ")
	}
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.Stack != "" {
		b.WriteByte('\n')
		b.WriteString(e.Stack)
	}
	return b.String()
}

// Unwrap returns the Go error behind the failure: a store error thrown through a binding,
// context.DeadlineExceeded for a timeout, nil for a plain JS exception.
func (e *Error) Unwrap() error { return e.cause }

// UBCode is the UnityBase errCode of the failure.
func (e *Error) UBCode() int { return e.Code }

// HTTPStatus is the status a server answers with.
func (e *Error) HTTPStatus() int { return e.Status }

// ClientMessage is the text a client may see.
func (e *Error) ClientMessage() string { return e.Client }

// ErrBusy is returned by Pool.Acquire when no worker became free before the wait ended.
// Servers answer 503; errCode 67 is UnityBase's TooManyConnections.
var ErrBusy = &Error{Code: codeTooManyConnections, Status: http.StatusServiceUnavailable,
	Message: "no free JavaScript worker", Client: clientBusy}

// ErrClosed is returned by Pool.Acquire after Pool.Close.
var ErrClosed = &Error{Code: codeNone, Status: http.StatusServiceUnavailable,
	Message: "the JavaScript worker pool is closed", Client: clientClosed}

// ubError is what storage and UBQL errors implement; such errors keep their codes when
// they cross JavaScript.
type ubError interface {
	error
	UBCode() int
	HTTPStatus() int
	ClientMessage() string
}

// clientVisible reports whether a message is meant for the client: UnityBase shows text
// wrapped in <<<...>>> to users and hides everything else.
func clientVisible(msg string) bool {
	i := strings.Index(msg, "<<<")
	return i >= 0 && strings.Contains(msg[i+3:], ">>>")
}

// internalError is a failure that must not leak its text to clients.
func internalError(format string, args ...any) *Error {
	return &Error{Code: codeNone, Status: http.StatusInternalServerError, Message: fmt.Sprintf(format, args...), Client: clientInternal}
}

// interruptReason is the value a worker passes to Runtime.Interrupt, so that the
// resulting *goja.InterruptedError can be told apart from other interrupts.
type interruptReason struct{ cause error }

func (r interruptReason) Error() string { return "interrupted: " + r.cause.Error() }
func (r interruptReason) Unwrap() error { return r.cause }

// errorFrom converts what goja returned for a failed call into an *Error. It must be
// called on the worker's goroutine (it reads properties of the thrown value).
func (w *Worker) errorFrom(err error) *Error {
	if err == nil {
		return nil
	}
	if e, ok := err.(*Error); ok {
		return e
	}
	var frames []goja.StackFrame
	var e *Error
	switch x := err.(type) {
	case *goja.InterruptedError:
		frames = x.Stack()
		e = interruptedError(x.Value())
	case *goja.StackOverflowError:
		frames = x.Stack()
		e = internalError("RangeError: Maximum call stack size exceeded")
	case *goja.Exception:
		frames = x.Stack()
		e = w.exceptionError(x)
	default:
		if se := w.prog.syntaxError(err); se != nil {
			return se
		}
		if ue, ok := errors.AsType[ubError](err); ok {
			return &Error{Code: ue.UBCode(), Status: ue.HTTPStatus(), Message: err.Error(), Client: ue.ClientMessage(), cause: err}
		}
		return internalError("%v", err)
	}
	if e.File == "" {
		w.prog.locate(e, frames)
	}
	if e.Stack == "" {
		e.Stack = w.prog.formatStack(frames)
	}
	return e
}

func interruptedError(v any) *Error {
	e := &Error{Code: codeNone, Status: http.StatusServiceUnavailable, Client: clientTimeout}
	cause, _ := v.(error)
	if r, ok := v.(interruptReason); ok {
		cause = r.cause
	}
	e.cause = cause
	switch {
	case errors.Is(cause, context.DeadlineExceeded):
		e.Message = "the script was interrupted: the call took too long (" + cause.Error() + ")"
	case errors.Is(cause, context.Canceled):
		e.Message = "the script was interrupted: the request was cancelled"
		e.Client = "Request cancelled"
	case cause != nil:
		e.Message = "the script was interrupted: " + cause.Error()
	default:
		e.Message = fmt.Sprintf("the script was interrupted: %v", v)
	}
	return e
}

// exceptionError classifies a thrown JS value (reference §7.4).
func (w *Worker) exceptionError(ex *goja.Exception) *Error {
	// A Go error thrown by a binding: a nested call's *Error keeps its own position, a
	// store or UBQL error keeps its codes.
	if inner := ex.Unwrap(); inner != nil {
		if e, ok := errors.AsType[*Error](inner); ok {
			return e
		}
		if ue, ok := errors.AsType[ubError](inner); ok {
			return &Error{Code: ue.UBCode(), Status: ue.HTTPStatus(), Message: inner.Error(), Client: ue.ClientMessage(), cause: inner}
		}
		e := internalError("%v", inner)
		e.cause = inner
		return e
	}
	val := ex.Value()
	obj, isObj := val.(*goja.Object)
	if !isObj {
		msg := w.safeString(val)
		if clientVisible(msg) {
			return &Error{Code: codeNone, Status: http.StatusInternalServerError, Message: msg, Client: msg}
		}
		return internalError("Uncaught %s", msg)
	}
	name := w.safeString(obj.Get("name"))
	message := w.safeString(obj.Get("message"))
	e := &Error{Code: codeNone, Status: http.StatusInternalServerError}
	switch {
	case name == "ESecurityException":
		e.Code, e.Status, e.Client = codeAccessDeny, http.StatusForbidden, clientAccessDeny
		e.Message = "ESecurityException: " + message
	case name == "UBAbort":
		e.Message = message
		if c := obj.Get("errCode"); c != nil && goja.IsNumber(c) {
			e.Code = int(c.ToInteger())
		}
		e.Client = message
		if !clientVisible(message) {
			// UBAbort('wrongParameters') is for API callers; UnityBase still hides
			// texts without <<<>>> from clients outside dev mode.
			e.Client = clientInternal
		}
	default:
		e.Message = name + ": " + message
		if name == "" || name == "undefined" {
			e.Message = w.safeString(obj)
		}
		e.Client = clientInternal
		if clientVisible(message) {
			e.Client = message
		}
	}
	return e
}

// safeString renders a JS value for a message without letting a throwing toString
// escape.
func (w *Worker) safeString(v goja.Value) (s string) {
	if v == nil || goja.IsUndefined(v) {
		return ""
	}
	if ex := w.vm.Try(func() { s = v.String() }); ex != nil {
		return "[value that cannot be converted to a string]"
	}
	return s
}
