package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ubgo/ubgo/ubql"
)

// Tx is the unit of work of one request. Writes on a connection open a database
// transaction on it, lazily, the first time they are needed; reads on a connection that has
// one go through it (so a batch reads its own writes), other reads use the connection's read
// pool. Commit commits every connection's transaction; Rollback (safe to call after Commit,
// and meant to be deferred) rolls back what is left.
//
// A Tx spanning two databases commits them one after the other; it is not an atomic
// distributed commit.
//
// A Tx is used by one goroutine at a time.
type Tx struct {
	s       *Store
	sess    *Session
	now     time.Time
	txs     map[*Conn]*sql.Tx
	order   []*Conn
	private map[*Conn]*idBlock
	depth   int // nested cascade deletes
	done    bool
	touched []string // watched entities written (notify.go)
	scratch []byte   // statement cache keys (writesql.go)

	// One-statement items (autocommit.go): oneItem is the caller's promise, item the
	// current item's share of it, oneShot the next statement's, autocommitted whether a
	// statement ran outside a transaction.
	oneItem, item, oneShot, autocommitted bool
}

// Begin starts the unit of work of a request run as sess.
func (s *Store) Begin(sess *Session) *Tx {
	if sess == nil {
		sess = System
	}
	return &Tx{s: s, sess: sess, now: s.now()}
}

// Session is the session the Tx runs as.
func (tx *Tx) Session() *Session { return tx.sess }

// Store is the store the Tx belongs to.
func (tx *Tx) Store() *Store { return tx.s }

// Now is the request time: every mi_createDate / mi_modifyDate the Tx writes, truncated to
// what the databases keep.
func (tx *Tx) Now() time.Time { return tx.now }

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// reader returns where reads on c go.
func (tx *Tx) reader(c *Conn) querier {
	if t := tx.txs[c]; t != nil {
		return t
	}
	return c.prepared(c.Read)
}

// EnterRead admits a read on c through c's read gate (Conn.EnterRead) when it goes to the
// pool, that is when the Tx has no transaction on c; gated tells the caller to call
// c.LeaveRead once the rows are closed. The store's selects and the runtime's
// DataStore.runSQL go through it.
func (tx *Tx) EnterRead(ctx context.Context, c *Conn) (gated bool, err error) {
	if tx.txs[c] != nil {
		return false, nil
	}
	if err := c.EnterRead(ctx); err != nil {
		return false, &Error{Item: -1, Code: 3, Status: http.StatusServiceUnavailable, Msg: "the database is not available",
			Err: fmt.Errorf("wait for a read connection on %s: %w", c.Name, err)}
	}
	return true, nil
}

// writer returns c's transaction, beginning it if needed.
func (tx *Tx) writer(ctx context.Context, c *Conn) (querier, error) {
	if tx.done {
		return nil, errors.New("store: the transaction has ended")
	}
	if t := tx.txs[c]; t != nil {
		return t, nil
	}
	if tx.autocommitted { // by construction unreachable: the one statement was the item
		return nil, &Error{Item: -1, Code: 0, Status: http.StatusInternalServerError, Msg: "Internal server error",
			Err: errors.New("store: a write after a statement that ran without a transaction")}
	}
	// The transaction outlives the call that first writes (a JS handler's sub-call, say):
	// its end is Commit or Rollback, not that call's context. Statements still obey theirs.
	t, err := c.Write.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return nil, &Error{Item: -1, Code: 3, Status: http.StatusServiceUnavailable, Msg: "the database is not available",
			Err: fmt.Errorf("begin a transaction on %s: %w", c.Name, err)}
	}
	if tx.txs == nil {
		tx.txs = map[*Conn]*sql.Tx{}
	}
	tx.txs[c] = t
	tx.order = append(tx.order, c)
	return t, nil
}

// Writer returns the database transaction of connection c, beginning it if needed. The
// runtime uses it for DataStore.execSQL inside a request.
func (tx *Tx) Writer(ctx context.Context, c *Conn) (querier, error) { return tx.writer(ctx, c) }

// Reader returns where reads on connection c go within the Tx.
func (tx *Tx) Reader(c *Conn) querier { return tx.reader(c) }

// DeferConstraints moves foreign key checks on connection c to commit, for a transaction
// that inserts rows referring to each other in an order no single statement can satisfy.
func (tx *Tx) DeferConstraints(ctx context.Context, c *Conn) error {
	w, err := tx.writer(ctx, c)
	if err != nil {
		return err
	}
	q := "PRAGMA defer_foreign_keys = ON"
	if c.Dialect.Name() == "PostgreSQL" {
		q = "SET CONSTRAINTS ALL DEFERRED"
	}
	if _, err := w.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("defer constraints on %s: %w", c.Name, err)
	}
	return nil
}

// NewID issues an ID from c's ID space.
func (tx *Tx) NewID(ctx context.Context, c *Conn) (int64, error) {
	w, err := tx.writer(ctx, c)
	if err != nil {
		return 0, err
	}
	if tx.private == nil {
		tx.private = map[*Conn]*idBlock{}
	}
	b := tx.private[c]
	if b == nil {
		b = &idBlock{}
		tx.private[c] = b
	}
	return tx.s.ids[c].nextID(ctx, w, b)
}

// Commit commits the transaction of every connection written to.
func (tx *Tx) Commit() error {
	if tx.done {
		return errors.New("store: the transaction has ended")
	}
	tx.done = true
	if len(tx.touched) > 0 {
		if err := tx.s.notify.publish(tx); err != nil {
			for _, c := range tx.order {
				tx.txs[c].Rollback()
			}
			return &Error{Item: -1, Code: 2, Status: http.StatusInternalServerError, Msg: "the transaction was rolled back", Err: err}
		}
	}
	for i, c := range tx.order {
		if err := tx.txs[c].Commit(); err != nil {
			for _, rest := range tx.order[i+1:] {
				tx.txs[rest].Rollback()
			}
			return &Error{Item: -1, Code: 2, Status: http.StatusInternalServerError, Msg: "the transaction was rolled back",
				Err: fmt.Errorf("commit on %s: %w", c.Name, err)}
		}
	}
	for c, b := range tx.private {
		tx.s.ids[c].adopt(b)
	}
	if len(tx.touched) > 0 {
		tx.s.notify.deliver(context.Background(), tx.touched)
	}
	return nil
}

// Rollback undoes everything not yet committed. It does nothing after Commit.
func (tx *Tx) Rollback() {
	if tx.done {
		return
	}
	tx.done = true
	for _, c := range tx.order {
		tx.txs[c].Rollback()
	}
	for c, b := range tx.private {
		if c.Dialect.Name() != "SQLite3" { // nextval is never rolled back: the block is still ours
			tx.s.ids[c].adopt(b)
		}
	}
}

// DoInternal runs one item as server-side code does: like Do, but as an internal call even
// when the request came from a client, so the item may use what only the server may (skip
// the optimistic lock, set system attributes, write link tables). Scripts' Repository and
// DataStore calls use it; the client's own items go through Do.
func (tx *Tx) DoInternal(ctx context.Context, req *ubql.Request) (*ubql.Response, error) {
	if !tx.sess.External {
		return tx.Do(ctx, req)
	}
	outer := tx.sess
	inner := *outer
	inner.External = false
	tx.sess = &inner
	defer func() { tx.sess = outer }()
	return tx.Do(ctx, req)
}

// Do runs one UBQL item with the mStorage method it names.
func (tx *Tx) Do(ctx context.Context, req *ubql.Request) (*ubql.Response, error) {
	tx.item, tx.oneItem = tx.oneItem, false // the promise covers the first item only
	defer func() { tx.item = false }()
	switch req.Method {
	case "select":
		return tx.Select(ctx, req)
	case "insert":
		return tx.Insert(ctx, req)
	case "update":
		return tx.Update(ctx, req)
	case "delete":
		return tx.Delete(ctx, req)
	case "addnew":
		return tx.AddNew(ctx, req)
	case "":
		return nil, badRequest(CodeNoMethodParameter, "the method parameter is missing")
	}
	if _, err := tx.s.entity(req); err != nil {
		return nil, err
	}
	return nil, &Error{Item: -1, Entity: req.Entity, Code: CodeMethodNotExist, Status: http.StatusNotFound,
		Msg: fmt.Sprintf("entity %s has no method %q", req.Entity, req.Method)}
}
