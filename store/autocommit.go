package store

import (
	"context"

	"github.com/ubgo/ubgo/domain"
)

// OneItem tells the Tx that its caller runs exactly one item in it (the next Do) and then
// commits, with nothing between the item and Commit that could fail. An item that then
// turns out to be a single write statement, with nothing after it that could fail (an
// update or delete that needs no stored values, writes no Many links, no unity parent, no
// audit record, no fieldList to read back, on an entity no OnCommit subscriber watches),
// runs that statement without a transaction: one autocommit statement instead of BEGIN,
// the statement and COMMIT. The database makes one statement atomic by itself, so the
// item is still all or nothing; PostgreSQL saves two round trips, SQLite two statements.
//
// A Tx given OneItem refuses, as an internal error, a write after such a statement.
func (tx *Tx) OneItem() { tx.oneItem = true }

// autocommitOn decides whether the next write statement of the current item, on entity e,
// may run without a transaction, and arms it when so. last says that
// the caller runs nothing after the statement that could fail.
func (tx *Tx) autocommitOn(e *domain.Entity, last bool) {
	tx.oneShot = last && tx.item && tx.depth <= 1 && len(tx.txs) == 0 && !tx.autocommitted && !tx.done &&
		!tx.s.notify.watches(e.Name)
}

// target returns where the next write statement on c goes: c's transaction, or the write
// pool itself once, when autocommitOn armed it.
func (tx *Tx) target(ctx context.Context, c *Conn) (querier, error) {
	if tx.oneShot {
		tx.oneShot = false
		tx.autocommitted = true
		return c.Write, nil
	}
	return tx.writer(ctx, c)
}
