package jsvm

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/dialect"
)

// Raw SQL from scripts (DataStore.runSQL / execSQL, App.dbConnections[x].*Parsed) uses
// UnityBase's parameter syntax: ":name:" takes params.name and ":(value):" an inline
// literal (a number or a 'string'). Both become bound parameters of the dialect, never
// text in the statement.

// bindSQL rewrites the placeholders of query for d and returns the arguments.
func bindSQL(d dialect.Dialect, query string, params map[string]any) (string, []any, error) {
	var b strings.Builder
	var args []any
	bind := func(v any) error {
		switch x := v.(type) {
		case time.Time:
			v = d.FormatTime(x)
		case []any, map[string]any:
			return fmt.Errorf("array and object parameters are not supported (got %T)", v)
		}
		args = append(args, v)
		b.WriteString(d.Placeholder(len(args)))
		return nil
	}
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			// Copy a quoted string or identifier untouched ('' and "" escape the quote).
			j := i + 1
			for j < len(query) {
				if query[j] == c {
					if j+1 < len(query) && query[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			end := min(j+1, len(query))
			b.WriteString(query[i:end])
			i = end - 1
		case c == ':' && i+1 < len(query) && query[i+1] == ':':
			b.WriteString("::") // a PostgreSQL cast
			i++
		case c == ':' && i+1 < len(query) && query[i+1] == '(':
			end := strings.Index(query[i+2:], "):")
			if end < 0 {
				return "", nil, fmt.Errorf("unterminated inline parameter at offset %d", i)
			}
			v, err := inlineValue(strings.TrimSpace(query[i+2 : i+2+end]))
			if err != nil {
				return "", nil, fmt.Errorf("inline parameter at offset %d: %w", i, err)
			}
			if err := bind(v); err != nil {
				return "", nil, err
			}
			i += 2 + end + 1
		case c == ':' && i+1 < len(query) && isIdentStart(query[i+1]):
			j := i + 1
			for j < len(query) && isIdentChar(query[j]) {
				j++
			}
			if j >= len(query) || query[j] != ':' {
				b.WriteString(query[i:j]) // ":name" without the closing colon is not ours
				i = j - 1
				continue
			}
			name := query[i+1 : j]
			v, ok := params[name]
			if !ok {
				return "", nil, fmt.Errorf("parameter %q is used in the SQL but not given", name)
			}
			if err := bind(v); err != nil {
				return "", nil, fmt.Errorf("parameter %q: %w", name, err)
			}
			i = j
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), args, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// inlineValue reads the literal of ":(value):": a number or a single-quoted string.
func inlineValue(s string) (any, error) {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'"), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f, nil
	}
	return nil, fmt.Errorf("%q is neither a number nor a quoted string", s)
}

// querier is what store.Tx.Reader and Writer return.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// maxSQLRows bounds what one runSQL may read into memory.
const maxSQLRows = 100_000

// queryRows runs a query and reads every row, with text as strings.
func queryRows(ctx context.Context, q querier, query string, args []any) ([]string, [][]any, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	fields, err := rows.Columns()
	if err != nil {
		return nil, nil, err
	}
	data := [][]any{}
	for rows.Next() {
		if len(data) == maxSQLRows {
			return nil, nil, fmt.Errorf("the statement returned more than %d rows", maxSQLRows)
		}
		row := make([]any, len(fields))
		dest := make([]any, len(fields))
		for i := range row {
			dest[i] = &row[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, err
		}
		for i, v := range row {
			if b, ok := v.([]byte); ok {
				row[i] = string(b)
			}
		}
		data = append(data, row)
	}
	return fields, data, rows.Err()
}

// sqlError reports a failed script SQL statement; the message names the statement's
// connection but clients only see "Internal server error".
func sqlError(conn string, err error) *Error {
	e := internalError("SQL on connection %s: %v", conn, err)
	e.cause = err
	return e
}

// connFor returns the store connection named name ("" for the default one).
func (w *Worker) connFor(tx *store.Tx, name string) *store.Conn {
	if name == "" {
		return tx.Store().Default()
	}
	c := tx.Store().Conn(name)
	if c == nil {
		msg := "connection " + name + " does not exist"
		w.throw(&Error{Code: codeConnectionNotExist, Status: http.StatusBadRequest, Message: msg, Client: msg})
	}
	return c
}

// runSQL runs a select on conn within the call's transaction.
func (w *Worker) runSQL(c *store.Conn, query string, params map[string]any) ([]string, [][]any) {
	tx := w.tx()
	q, args, err := bindSQL(c.Dialect, query, params)
	if err != nil {
		w.throw(sqlError(c.Name, err))
	}
	fields, data, err := w.gatedQuery(tx, c, q, args)
	if err != nil {
		w.throw(sqlError(c.Name, err))
	}
	return fields, data
}

// gatedQuery runs a select on c as the store runs its own: a read outside the Tx's
// transaction waits for its turn on the read pool (store.Tx.EnterRead). A wait that ends
// with the call's context throws the store's 503 error; the query's own error is returned.
func (w *Worker) gatedQuery(tx *store.Tx, c *store.Conn, q string, args []any) ([]string, [][]any, error) {
	gated, err := tx.EnterRead(w.ctx(), c)
	if err != nil {
		w.throw(err)
	}
	if gated {
		defer c.LeaveRead()
	}
	return queryRows(w.ctx(), tx.Reader(c), q, args)
}

// execSQL runs a statement on conn within the call's transaction and returns the number
// of rows affected.
func (w *Worker) execSQL(c *store.Conn, query string, params map[string]any) int64 {
	tx := w.tx()
	q, args, err := bindSQL(c.Dialect, query, params)
	if err != nil {
		w.throw(sqlError(c.Name, err))
	}
	wr, err := tx.Writer(w.ctx(), c)
	if err != nil {
		w.throw(err)
	}
	res, err := wr.ExecContext(w.ctx(), q, args...)
	if err != nil {
		w.throw(sqlError(c.Name, err))
	}
	n, _ := res.RowsAffected()
	return n
}

// sqlParams exports the params argument of a SQL binding.
func (w *Worker) sqlParams(v goja.Value) map[string]any {
	m, err := w.exportObject(v, "SQL params")
	if err != nil {
		panic(w.vm.NewTypeError(err.Error()))
	}
	return m
}

// newDBConnections builds App.dbConnections: one object per ubconfig connection with
// name, dialect, isDefault, supportLang and selectParsedAsObject(sql, params),
// execParsed(sql, params), genID(). Statements run in the call's transaction.
func (w *Worker) newDBConnections() goja.Value {
	vm := w.vm
	out := vm.NewObject()
	if w.prog.cfg == nil {
		return out
	}
	for _, cc := range w.prog.cfg.Application.Connections {
		name := cc.Name
		o := vm.NewObject()
		_ = o.Set("name", name)
		_ = o.Set("dialect", cc.Dialect)
		_ = o.Set("isDefault", cc.IsDefault)
		_ = o.Set("supportLang", w.toJS(toAnySlice(cc.SupportLang)))
		_ = o.Set("selectParsedAsObject", func(call goja.FunctionCall) goja.Value {
			c := w.connFor(w.tx(), name)
			fields, data := w.runSQL(c, w.safeString(call.Argument(0)), w.sqlParams(call.Argument(1)))
			return w.rowsAsObjects(fields, data, nil)
		})
		_ = o.Set("execParsed", func(call goja.FunctionCall) goja.Value {
			c := w.connFor(w.tx(), name)
			return vm.ToValue(w.execSQL(c, w.safeString(call.Argument(0)), w.sqlParams(call.Argument(1))))
		})
		_ = o.Set("genID", func(goja.FunctionCall) goja.Value {
			tx := w.tx()
			id, err := tx.NewID(w.ctx(), w.connFor(tx, name))
			if err != nil {
				w.throw(err)
			}
			return vm.ToValue(id)
		})
		_ = out.Set(name, o)
	}
	return out
}

func toAnySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// aliasedNames returns the property names of the fields: their aliases where given.
func aliasedNames(fields []string, aliases map[string]string) []string {
	if len(aliases) == 0 {
		return fields
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		if a, ok := aliases[f]; ok {
			names[i] = a
		} else {
			names[i] = f
		}
	}
	return names
}
