package ubql

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// UnityBase error codes (errCode of the error body, reference §7.4) this package returns.
const (
	CodeInvalidData       = 4  // InvalidDataForRunMethod: a malformed request item
	CodeNoMethodParameter = 6  // NoMethodParameter: "method" is missing
	CodeAccessDeny        = 8  // ElsAccessDeny: an expression a client may not use
	CodeNoEntityParameter = 11 // NoEntityParameter: "entity" is missing
	CodeEntityNotExist    = 15 // EntityNotExist
	CodeAttributeNotExist = 16 // AttributeNotExist
	CodeNoFieldList       = 27 // Notexistfieldlist: a select without fieldList
	CodeInvalidWhereList  = 43 // InvalidWhereListInParams
	CodeFtsDisabled       = 69 // FtsForAppDisabled: the match condition
)

// Error is a problem with a UBQL request: malformed JSON, a value of the wrong type, an
// unknown entity or attribute, an expression a client may not use, a broken limit.
// Messages name the offending part of the request and never contain SQL.
type Error struct {
	Item   int    // index of the item in the batch; -1 when not known
	Path   string // where inside the item, e.g. "whereList.c1.condition"; "" for the item itself
	Code   int    // UnityBase errCode (Code* constants)
	Status int    // HTTP status: 400 for malformed requests, 403 for denied expressions
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("ubql")
	if e.Item >= 0 {
		b.WriteString(" item ")
		b.WriteString(strconv.Itoa(e.Item))
	}
	if e.Path != "" {
		if e.Item >= 0 {
			b.WriteByte(',')
		}
		b.WriteByte(' ')
		b.WriteString(e.Path)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// UBCode is the UnityBase errCode of the error.
func (e *Error) UBCode() int { return e.Code }

// HTTPStatus is the status a server answers with.
func (e *Error) HTTPStatus() int { return e.Status }

// ClientMessage is the text a client may see: Error() without the "ubql" prefix.
func (e *Error) ClientMessage() string { return strings.TrimPrefix(e.Error(), "ubql ") }

// WithItem sets the batch index of err when it is an *Error, for callers that compile the
// items of a batch one by one; other errors are returned unchanged.
func WithItem(err error, item int) error {
	var e *Error
	if errors.As(err, &e) {
		c := *e
		c.Item = item
		return &c
	}
	return err
}

const maxPathLen = 200

func badRequest(code int, path, msg string) *Error {
	return &Error{Item: -1, Path: path, Code: code, Status: 400, Msg: msg}
}

// at prepends seg to the error's path ("whereList" + "c1.condition"). Paths through deeply
// nested values are shortened to keep messages small.
func (e *Error) at(seg string) *Error {
	if len(e.Path) > maxPathLen {
		e.Path = "…"
	}
	if e.Path == "" {
		e.Path = seg
	} else {
		e.Path = seg + "." + e.Path
	}
	return e
}

// quote renders client text for a message: quoted, escaped onto one line and shortened.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}
