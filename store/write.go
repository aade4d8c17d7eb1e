package store

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/store/dialect"
)

// colVal is one column assignment of an INSERT or UPDATE.
type colVal struct {
	col  string
	attr *domain.Attribute
	val  any
}

// assignment resolves an execParams key: an attribute name, or "<attr>_<lang>^" for one
// language column of a multi-language attribute. It returns the attribute and the column
// the value goes to.
func (s *Store) assignment(c *Conn, e *domain.Entity, key, lang string) (*domain.Attribute, string, error) {
	name, explicitLang := key, ""
	if base, ok := strings.CutSuffix(key, "^"); ok {
		if i := strings.LastIndexByte(base, '_'); i > 0 {
			name, explicitLang = base[:i], base[i+1:]
		}
	}
	a := e.Attribute(name)
	if a == nil {
		return nil, "", &Error{Item: -1, Entity: e.Name, Code: CodeAttributeNotExist, Status: http.StatusBadRequest,
			Msg: fmt.Sprintf("entity %s has no attribute %q", e.Name, key)}
	}
	if a.DataType == domain.Many {
		return a, "", nil
	}
	col, isExpr := a.Column(c.Dialect.Name())
	if isExpr || col == "" {
		return nil, "", &Error{Item: -1, Entity: e.Name, Code: CodeInvalidData, Status: http.StatusBadRequest,
			Msg: fmt.Sprintf("attribute %s.%s is computed and cannot be written", e.Name, name)}
	}
	if explicitLang != "" {
		if !a.IsMultiLang || !c.hasLang(explicitLang) {
			return nil, "", &Error{Item: -1, Entity: e.Name, Code: CodeAttributeNotExist, Status: http.StatusBadRequest,
				Msg: fmt.Sprintf("attribute %s.%s has no %q language column", e.Name, name, explicitLang)}
		}
		return a, langColumn(c, col, explicitLang), nil
	}
	if a.IsMultiLang {
		return a, langColumn(c, col, lang), nil
	}
	return a, col, nil
}

// langColumn is the column of language lang of a multi-language attribute stored in col.
func langColumn(c *Conn, col, lang string) string {
	if lang == "" || lang == c.DefaultLang || !c.hasLang(lang) {
		return col
	}
	return col + "_" + lang
}

func (c *Conn) hasLang(lang string) bool {
	for _, l := range c.Langs {
		if l == lang {
			return true
		}
	}
	return false
}

// convert converts the wire value of a for storage, with an error naming the attribute.
func convert(d dialect.Dialect, e *domain.Entity, a *domain.Attribute, key string, v any) (any, error) {
	out, err := toDB(d, a, v)
	if err != nil {
		return nil, &Error{Item: -1, Entity: e.Name, Code: CodeInvalidData, Status: http.StatusBadRequest,
			Msg: fmt.Sprintf("execParams.%s: %v", key, err)}
	}
	return out, nil
}

func (tx *Tx) insertRow(ctx context.Context, c *Conn, e *domain.Entity, cols []colVal) error {
	tx.touch(e.Name)
	q := tx.insertSQL(c, e, cols)
	args := make([]any, len(cols))
	for i, cv := range cols {
		args[i] = cv.val
	}
	w, err := tx.writer(ctx, c)
	if err != nil {
		return err
	}
	if _, err := tx.exec(ctx, c, w, q, args...); err != nil {
		return dbError(err, e, "insert")
	}
	return nil
}

// updateRow updates the row id of e; with lockCol set, only while lockCol still holds
// lockVal. It returns the number of rows changed.
func (tx *Tx) updateRow(ctx context.Context, c *Conn, e *domain.Entity, id int64, cols []colVal, lockCol string, lockVal any) (int64, error) {
	tx.touch(e.Name)
	q := tx.updateSQL(c, e, cols, lockCol)
	args := make([]any, len(cols), len(cols)+2)
	for i, cv := range cols {
		args[i] = cv.val
	}
	args = append(args, id)
	if lockCol != "" {
		args = append(args, lockVal)
	}
	w, err := tx.target(ctx, c)
	if err != nil {
		return 0, err
	}
	res, err := tx.exec(ctx, c, w, q, args...)
	if err != nil {
		return 0, dbError(err, e, "update")
	}
	return res.RowsAffected()
}

// deleteRow deletes the rows of e whose column col equals id and returns how many it
// deleted.
func (tx *Tx) deleteRow(ctx context.Context, c *Conn, e *domain.Entity, col string, id int64) (int64, error) {
	tx.touch(e.Name)
	q := tx.deleteSQL(c, e, col)
	w, err := tx.target(ctx, c)
	if err != nil {
		return 0, err
	}
	res, err := tx.exec(ctx, c, w, q, id)
	if err != nil {
		return 0, dbError(err, e, "delete")
	}
	return res.RowsAffected()
}

// dbError turns a driver error into a *Error a client can read: constraint violations get
// their UnityBase codes, anything else is an internal error whose text stays in the log.
func dbError(err error, e *domain.Entity, op string) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Item: -1, Entity: e.Name, Code: 3, Status: http.StatusServiceUnavailable,
			Msg: "the request was cancelled or timed out", Err: err}
	}
	code := ""
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		code = pg.Code
	} else {
		msg := err.Error()
		switch {
		case strings.Contains(msg, "UNIQUE constraint failed"):
			code = "23505"
		case strings.Contains(msg, "FOREIGN KEY constraint failed"):
			code = "23503"
		case strings.Contains(msg, "NOT NULL constraint failed"):
			code = "23502"
		case strings.Contains(msg, "CHECK constraint failed"):
			code = "23514"
		}
	}
	wrapped := fmt.Errorf("%s %s: %w", op, e.Name, err)
	switch code {
	case "23505":
		return &Error{Item: -1, Entity: e.Name, Code: CodeValueMustBeUnique, Status: http.StatusConflict,
			Msg: "<<<Value must be unique>>>|" + quoteArgs(e.Name), Err: wrapped}
	case "23503":
		if op == "delete" {
			return &Error{Item: -1, Entity: e.Name, Code: CodeValueUsedInAssociation, Status: http.StatusConflict,
				Msg: "<<<The record is referenced by other records and cannot be deleted>>>", Err: wrapped}
		}
		return &Error{Item: -1, Entity: e.Name, Code: CodeInvalidData, Status: http.StatusBadRequest,
			Msg: "a referenced record does not exist", Err: wrapped}
	case "23502":
		return &Error{Item: -1, Entity: e.Name, Code: CodeNecessaryFieldNotExist, Status: http.StatusBadRequest,
			Msg: "a required attribute has no value", Err: wrapped}
	case "23514", "22001", "22003", "22P02", "22007", "22008":
		return &Error{Item: -1, Entity: e.Name, Code: CodeInvalidData, Status: http.StatusBadRequest,
			Msg: "a value does not satisfy the attribute's type or constraint", Err: wrapped}
	}
	return &Error{Item: -1, Entity: e.Name, Code: 0, Status: http.StatusInternalServerError,
		Msg: "Internal server error", Err: wrapped}
}

func quoteArgs(args ...string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, a := range args {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(fmt.Sprintf("%q", a))
	}
	b.WriteByte(']')
	return b.String()
}
