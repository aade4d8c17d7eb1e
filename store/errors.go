package store

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/ubgo/ubgo/ubql"
)

// UnityBase error codes the store produces (reference §7.4).
const (
	CodeNoMethodParameter      = 6
	CodeMethodNotExist         = 7
	CodeNoSuchRecord           = 13
	CodeEntityNotExist         = 15
	CodeAttributeNotExist      = 16
	CodeNecessaryFieldNotExist = 24
	CodeRecordModified         = 25
	CodeUpdateRecNotFound      = 28
	CodeDeleteRecNotFound      = 34
	CodeConnectionNotExist     = 49
	CodeDirectUnityModify      = 50
	CodeValueUsedInAssociation = 51
	CodeValueMustBeUnique      = 74
	CodeInvalidData            = 4
)

// Error is a failure of one request item. Msg is safe to show to the client; Err, when set,
// is the underlying cause (a driver error, say) for the log only: it may contain SQL.
type Error struct {
	Item   int    // index of the failing item in the batch, -1 when unknown
	Entity string // the entity of the item, when known
	Code   int    // UnityBase errCode
	Status int    // HTTP status
	Msg    string
	Err    error
}

// Error is the message for logs and Go callers: the client message and, after it, the cause
// (which may contain SQL). Clients get ClientMessage.
func (e *Error) Error() string {
	var prefix string
	if e.Item >= 0 {
		prefix = fmt.Sprintf("item %d: ", e.Item)
	}
	if e.Entity != "" {
		prefix += e.Entity + ": "
	}
	switch {
	case e.Err == nil:
		return prefix + e.Msg
	case e.Msg == "":
		return prefix + e.Err.Error()
	}
	return prefix + e.Msg + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// UBCode is the UnityBase errCode of the failure.
func (e *Error) UBCode() int { return e.Code }

// HTTPStatus is the status a server answers with.
func (e *Error) HTTPStatus() int { return e.Status }

// ClientMessage is the text a client may see.
func (e *Error) ClientMessage() string { return e.Msg }

func badRequest(code int, format string, args ...any) *Error {
	return &Error{Item: -1, Code: code, Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

// ErrRecordModified is the cause of an optimistic lock failure (errCode 25).
var ErrRecordModified = errors.New("record was modified by another user")

func recordModified(entity string, id int64) *Error {
	return &Error{Item: -1, Entity: entity, Code: CodeRecordModified, Status: http.StatusConflict,
		Msg: "<<<Record was modified by another user>>>", Err: fmt.Errorf("%s ID %d: %w", entity, id, ErrRecordModified)}
}

// WithItem sets the batch index and entity of err when it is a store or request error that
// does not name its item yet; other errors are returned unchanged.
func WithItem(err error, item int, entity string) error { return withItem(err, item, entity) }

// withItem sets the batch index of err when it is a store or request error.
func withItem(err error, item int, entity string) error {
	var qe *ubql.Error
	if errors.As(err, &qe) && qe.Item < 0 {
		return ubql.WithItem(err, item)
	}
	var se *Error
	if errors.As(err, &se) {
		if se.Item < 0 {
			se.Item = item
		}
		if se.Entity == "" {
			se.Entity = entity
		}
		return err
	}
	return err
}
