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
	d := c.Dialect
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(d.Ident(e.ExecName(d.Name())))
	b.WriteString(" (")
	args := make([]any, len(cols))
	for i, cv := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.Ident(cv.col))
		args[i] = cv.val
	}
	b.WriteString(") VALUES (")
	for i := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.Placeholder(i + 1))
	}
	b.WriteString(")")
	w, err := tx.writer(ctx, c)
	if err != nil {
		return err
	}
	if _, err := w.ExecContext(ctx, b.String(), args...); err != nil {
		return dbError(err, e, "insert")
	}
	return nil
}

// updateRow updates the row id of e; with lockCol set, only while lockCol still holds
// lockVal. It returns the number of rows changed.
func (tx *Tx) updateRow(ctx context.Context, c *Conn, e *domain.Entity, id int64, cols []colVal, lockCol string, lockVal any) (int64, error) {
	tx.touch(e.Name)
	d := c.Dialect
	var b strings.Builder
	b.WriteString("UPDATE ")
	b.WriteString(d.Ident(e.ExecName(d.Name())))
	b.WriteString(" SET ")
	args := make([]any, 0, len(cols)+2)
	for i, cv := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		args = append(args, cv.val)
		b.WriteString(d.Ident(cv.col))
		b.WriteString(" = ")
		b.WriteString(d.Placeholder(len(args)))
	}
	args = append(args, id)
	b.WriteString(" WHERE ID = ")
	b.WriteString(d.Placeholder(len(args)))
	if lockCol != "" {
		args = append(args, lockVal)
		b.WriteString(" AND ")
		b.WriteString(d.Ident(lockCol))
		b.WriteString(" = ")
		b.WriteString(d.Placeholder(len(args)))
	}
	w, err := tx.writer(ctx, c)
	if err != nil {
		return 0, err
	}
	res, err := w.ExecContext(ctx, b.String(), args...)
	if err != nil {
		return 0, dbError(err, e, "update")
	}
	return res.RowsAffected()
}

func (tx *Tx) deleteRow(ctx context.Context, c *Conn, e *domain.Entity, col string, id int64) error {
	tx.touch(e.Name)
	d := c.Dialect
	w, err := tx.writer(ctx, c)
	if err != nil {
		return err
	}
	q := "DELETE FROM " + d.Ident(e.ExecName(d.Name())) + " WHERE " + d.Ident(col) + " = " + d.Placeholder(1)
	if _, err := w.ExecContext(ctx, q, id); err != nil {
		return dbError(err, e, "delete")
	}
	return nil
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
