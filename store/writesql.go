package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/store/dialect"
)

// maxWriteStatements bounds the statement texts a connection keeps. A running application
// writes each entity with a few column sets, so the bound is only a guard against clients
// that send every possible combination of attributes; past it, texts are built per call.
const maxWriteStatements = 4096

// writeSQL caches the text of the INSERT, UPDATE and DELETE statements that insertRow,
// updateRow and deleteRow build, per (kind, table, column list). Building the text costs
// a dozen allocations per row; the cache turns that into one map lookup whose key is
// assembled in the Tx's scratch buffer (a map index by string(bytes) does not allocate).
// The zero value is ready to use.
type writeSQL struct {
	mu sync.RWMutex
	m  map[string]string
}

// lookup returns the statement cached under key, or "".
func (w *writeSQL) lookup(key []byte) string {
	w.mu.RLock()
	q := w.m[string(key)]
	w.mu.RUnlock()
	return q
}

// store remembers q under key (when there is room) and returns q.
func (w *writeSQL) store(key []byte, q string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[string]string{}
	}
	if len(w.m) < maxWriteStatements {
		w.m[string(key)] = q
	}
	return q
}

// Statement kinds, the first byte of a cache key.
const (
	kindInsert byte = 'I'
	kindUpdate byte = 'U'
	kindDelete byte = 'D'
)

// writeKey builds the cache key of a statement in tx's scratch buffer: kind, table, then
// every column, separated by NUL (which no identifier contains), and the lock column.
func (tx *Tx) writeKey(kind byte, table string, cols []colVal, col, lockCol string) []byte {
	b := append(tx.scratch[:0], kind)
	b = append(b, table...)
	for _, cv := range cols {
		b = append(b, 0)
		b = append(b, cv.col...)
	}
	b = append(b, 1)
	b = append(b, col...)
	b = append(b, 1)
	b = append(b, lockCol...)
	tx.scratch = b
	return b
}

// insertSQL is the INSERT of cols into e on c, from the cache when it is there.
func (tx *Tx) insertSQL(c *Conn, e *domain.Entity, cols []colVal) string {
	d := c.Dialect
	table := e.ExecName(d.Name())
	key := tx.writeKey(kindInsert, table, cols, "", "")
	if q := c.writeSQL.lookup(key); q != "" {
		return q
	}
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(d.Ident(table))
	b.WriteString(" (")
	for i, cv := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.Ident(cv.col))
	}
	b.WriteString(") VALUES (")
	for i := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.Placeholder(i + 1))
	}
	b.WriteString(")")
	return c.writeSQL.store(key, b.String())
}

// updateSQL is the UPDATE of cols of the row with a given ID of e on c, conditioned on
// lockCol when it is set. Its parameters are the values of cols, the ID, the lock value.
func (tx *Tx) updateSQL(c *Conn, e *domain.Entity, cols []colVal, lockCol string) string {
	d := c.Dialect
	table := e.ExecName(d.Name())
	key := tx.writeKey(kindUpdate, table, cols, "", lockCol)
	if q := c.writeSQL.lookup(key); q != "" {
		return q
	}
	var b strings.Builder
	b.WriteString("UPDATE ")
	b.WriteString(d.Ident(table))
	b.WriteString(" SET ")
	n := 0
	for i, cv := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		n++
		b.WriteString(d.Ident(cv.col))
		b.WriteString(" = ")
		b.WriteString(d.Placeholder(n))
	}
	n++
	b.WriteString(" WHERE ID = ")
	b.WriteString(d.Placeholder(n))
	if lockCol != "" {
		n++
		b.WriteString(" AND ")
		b.WriteString(d.Ident(lockCol))
		b.WriteString(" = ")
		b.WriteString(d.Placeholder(n))
	}
	return c.writeSQL.store(key, b.String())
}

// deleteSQL is the DELETE of the rows of e on c whose column col equals the parameter.
func (tx *Tx) deleteSQL(c *Conn, e *domain.Entity, col string) string {
	d := c.Dialect
	table := e.ExecName(d.Name())
	key := tx.writeKey(kindDelete, table, nil, col, "")
	if q := c.writeSQL.lookup(key); q != "" {
		return q
	}
	return c.writeSQL.store(key, "DELETE FROM "+d.Ident(table)+" WHERE "+d.Ident(col)+" = "+d.Placeholder(1))
}

// sortCols orders column assignments by column name, so that the same set of columns
// always makes the same statement text (for this cache and the drivers' statement caches).
func sortCols(cols []colVal) {
	slices.SortFunc(cols, func(a, b colVal) int { return strings.Compare(a.col, b.col) })
}

// writeStmts keeps prepared statements of a SQLite connection's write pool. That pool has
// one connection, which a transaction holds while it runs, so a statement cannot be
// prepared on the pool from within the transaction that wants it (it would wait for
// itself). Instead a statement run unprepared is noted, and prepared in the background once
// the connection is free; later transactions bind it to themselves (Tx.StmtContext reuses
// the statement already prepared on the connection), which saves SQLite the parse of
// every INSERT, UPDATE and DELETE. PostgreSQL needs none of this: pgx caches prepared
// statements per connection by itself. The zero value is ready to use.
type writeStmts struct {
	mu      sync.RWMutex
	m       map[string]*sql.Stmt
	pending map[string]bool // being prepared
	closed  bool
}

// lookup returns the prepared statement of query, or nil.
func (w *writeStmts) lookup(query string) *sql.Stmt {
	w.mu.RLock()
	s := w.m[query]
	w.mu.RUnlock()
	return s
}

// want asks for query to be prepared on db once db has a free connection.
func (w *writeStmts) want(db *sql.DB, query string) {
	w.mu.Lock()
	if w.closed || w.m[query] != nil || w.pending[query] || len(w.m)+len(w.pending) >= maxCachedStatements {
		w.mu.Unlock()
		return
	}
	if w.pending == nil {
		w.pending = map[string]bool{}
	}
	w.pending[query] = true
	w.mu.Unlock()
	go w.prepare(db, query)
}

func (w *writeStmts) prepare(db *sql.DB, query string) {
	ctx, cancel := context.WithTimeout(context.Background(), prepareTimeout)
	defer cancel()
	s, err := db.PrepareContext(ctx, query) // waits for the connection, never under w.mu
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.pending, query)
	if err != nil {
		return // the statement keeps running unprepared, where its error shows
	}
	if w.closed {
		s.Close()
		return
	}
	if w.m == nil {
		w.m = map[string]*sql.Stmt{}
	}
	w.m[query] = s
}

// close closes the prepared statements; statements prepared later are closed at once.
func (w *writeStmts) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	for k, s := range w.m {
		s.Close()
		delete(w.m, k)
	}
}

// prepareTimeout bounds how long a background prepare waits for the write connection.
const prepareTimeout = 10 * time.Second

// exec runs a write statement on connection c, in tx's transaction or as an autocommit
// statement (w is then c.Write): on SQLite through the prepared statement when there is
// one (and asking for one when there is not).
func (tx *Tx) exec(ctx context.Context, c *Conn, w querier, query string, args ...any) (sql.Result, error) {
	if c.Dialect.Name() == dialect.SQLite3 {
		if s := c.writeStmts.lookup(query); s != nil {
			if t, ok := w.(*sql.Tx); ok {
				return t.StmtContext(ctx, s).ExecContext(ctx, args...)
			}
			if w == querier(c.Write) { // an autocommit statement (autocommit.go)
				return s.ExecContext(ctx, args...)
			}
		} else {
			c.writeStmts.want(c.Write, query)
		}
	}
	return w.ExecContext(ctx, query, args...)
}
