package store

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStatements bounds the prepared statements kept per pool. The SQL texts come from
// the compiler's shape cache and the per-entity write statements, so in a running
// application the set is small; past the bound, statements are simply not cached.
const maxCachedStatements = 2000

// stmtCache keeps prepared statements of one SQLite pool. Parsing a statement is a large
// part of a small query's cost in SQLite, and the driver prepares every query anew; pgx
// caches prepared statements per connection by itself, so PostgreSQL needs none of this.
type stmtCache struct {
	db *sql.DB
	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{db: db, m: map[string]*sql.Stmt{}} }

// get returns the prepared statement for query, preparing it on first use; nil when the
// cache is full or preparing fails (the caller then runs the query unprepared and sees the
// error there).
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	c.mu.RLock()
	s := c.m[query]
	c.mu.RUnlock()
	if s != nil {
		return s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s = c.m[query]; s != nil || len(c.m) >= maxCachedStatements {
		return s
	}
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.m[query] = s
	return s
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, s := range c.m {
		s.Close()
		delete(c.m, k)
	}
}

// prepared wraps the read pool so that its queries use cached prepared statements. Only
// SQLite's read pool is wrapped: its write pool has a single connection, which a
// transaction holds while it runs, so preparing on that pool would wait for ever; and
// writes cost far more in commits than in parsing.
type prepared struct {
	q     querier
	cache *stmtCache
}

func (c *Conn) prepared(q querier) querier {
	if c.readStmts == nil || q != querier(c.Read) {
		return q
	}
	return prepared{q: q, cache: c.readStmts}
}

func (p prepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := p.cache.get(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return p.q.QueryContext(ctx, query, args...)
}

func (p prepared) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := p.cache.get(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return p.q.QueryRowContext(ctx, query, args...)
}

func (p prepared) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.q.ExecContext(ctx, query, args...)
}
