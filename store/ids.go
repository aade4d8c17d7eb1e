package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/ubgo/ubgo/store/dialect"
)

// IDBlock is how many IDs one sequence value stands for: a value v issues the IDs v*100 to
// v*100+99 (reference §5.6), so the database is asked once per 100 inserts.
const IDBlock = 100

// idGen hands out IDs of one connection's global ID space.
//
// PostgreSQL: a block comes from nextval('seq_ubmain'), which is never rolled back, so a
// block can be cached as soon as it is fetched, and processes sharing the database never get
// the same block.
//
// SQLite: a block comes from an UPDATE of seq_ubmain inside the caller's write transaction
// (the only writer connection is busy with it, so the block cannot be fetched elsewhere).
// If that transaction rolls back, the counter rolls back too and the same block would be
// fetched again; so a block fetched inside a transaction stays private to it and joins the
// shared cache only after commit (Tx.Commit calls adopt). The guarantee on SQLite is thus
// that committed IDs never repeat: an ID handed out inside a transaction that rolled back
// may be handed out again, which is harmless because nothing stored it. On PostgreSQL no ID
// is ever handed out twice.
type idGen struct {
	dialect dialect.Dialect
	mu      sync.Mutex
	next    int64 // next free ID of the shared block
	end     int64 // first ID after it
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (g *idGen) fetch(ctx context.Context, q queryer) (int64, error) {
	var v int64
	var err error
	if g.dialect.Name() == dialect.PostgreSQL {
		err = q.QueryRowContext(ctx, "SELECT nextval('seq_ubmain')").Scan(&v)
	} else {
		err = q.QueryRowContext(ctx, "UPDATE seq_ubmain SET client_num = client_num + 1 RETURNING client_num").Scan(&v)
	}
	if err != nil {
		return 0, fmt.Errorf("generate an ID (is the database migrated? run \"ubgo migrate\"): %w", err)
	}
	return v * IDBlock, nil
}

// idBlock is a block private to one transaction.
type idBlock struct{ next, end int64 }

// nextID returns a new ID, fetching through q (the caller's transaction) when needed.
func (g *idGen) nextID(ctx context.Context, q queryer, private *idBlock) (int64, error) {
	g.mu.Lock()
	if g.next < g.end {
		id := g.next
		g.next++
		g.mu.Unlock()
		return id, nil
	}
	g.mu.Unlock()
	if private.next < private.end {
		id := private.next
		private.next++
		return id, nil
	}
	start, err := g.fetch(ctx, q)
	if err != nil {
		return 0, err
	}
	if g.dialect.Name() == dialect.PostgreSQL {
		g.mu.Lock()
		if g.next >= g.end { // keep what another goroutine may have fetched meanwhile
			g.next, g.end = start+1, start+IDBlock
			g.mu.Unlock()
			return start, nil
		}
		g.mu.Unlock()
		// Someone else refilled the cache; this block still belongs to us only.
	}
	*private = idBlock{next: start + 1, end: start + IDBlock}
	return start, nil
}

// adopt moves the unused rest of a committed transaction's private block into the shared
// cache, if the cache is empty.
func (g *idGen) adopt(b *idBlock) {
	if b.next >= b.end {
		return
	}
	g.mu.Lock()
	if g.next >= g.end {
		g.next, g.end = b.next, b.end
	}
	g.mu.Unlock()
	*b = idBlock{}
}
