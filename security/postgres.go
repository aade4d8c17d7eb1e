package security

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// postgresDDL creates the backend's tables in the connection's schema (its search_path).
// They belong to ubgo, not to the domain: migrations never see them, and the virtual
// uba_session entity is not involved. Idempotent; run under an advisory lock so that two
// processes starting at once do not race on CREATE TABLE IF NOT EXISTS.
var postgresDDL = []string{
	`CREATE TABLE IF NOT EXISTS ubgo_session (
		id          BIGINT PRIMARY KEY,
		user_id     BIGINT NOT NULL,
		user_name   TEXT NOT NULL,
		lang        TEXT NOT NULL,
		identity    TEXT NOT NULL,
		sig_key     BIGINT NOT NULL,
		remote_ip   TEXT NOT NULL,
		created_at  TIMESTAMPTZ NOT NULL,
		accessed_at TIMESTAMPTZ NOT NULL,
		expires_at  TIMESTAMPTZ NOT NULL,
		timeout_ms  BIGINT NOT NULL,
		last_sign   BIGINT NOT NULL DEFAULT 0,
		clock_delta BIGINT NOT NULL DEFAULT 0,
		pwd_expired BOOLEAN NOT NULL DEFAULT FALSE)`,
	`CREATE INDEX IF NOT EXISTS ubgo_session_user ON ubgo_session (user_id)`,
	`CREATE INDEX IF NOT EXISTS ubgo_session_expires ON ubgo_session (expires_at)`,
	`CREATE TABLE IF NOT EXISTS ubgo_auth_nonce (
		nonce      TEXT PRIMARY KEY,
		expires_at TIMESTAMPTZ NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS ubgo_login_failure (
		login        TEXT PRIMARY KEY,
		failures     INTEGER NOT NULL,
		last_failure TIMESTAMPTZ NOT NULL,
		locked_until TIMESTAMPTZ)`,
	`CREATE TABLE IF NOT EXISTS ubgo_ip_failure (
		ip           TEXT PRIMARY KEY,
		failures     INTEGER NOT NULL,
		window_end   TIMESTAMPTZ NOT NULL,
		locked_until TIMESTAMPTZ)`,
	`CREATE TABLE IF NOT EXISTS ubgo_auth_key (
		id  INTEGER PRIMARY KEY,
		key BYTEA NOT NULL)`,
}

// ddlLockKey is the advisory lock key of the DDL above ("ubgosec" in ASCII).
const ddlLockKey = 0x7562676f736563

// sessionLockClass is the first key of the per-user advisory locks of CreateSession.
const sessionLockClass = 0x75627373 // "ubss"

// postgresBackend is the Backend on a PostgreSQL database. Without a cache every read
// goes to the database, so a logout or a lock in one process is seen by the next request
// in any other.
type postgresBackend struct {
	db    *sql.DB
	cache *sessionCache // nil without PostgresOptions.CacheFor
}

// PostgresOptions adjust NewPostgresBackend.
type PostgresOptions struct {
	// CacheFor lets a process reuse a session row it read, for at most this long, instead
	// of reading it on every signed request (one round trip to the database). A session
	// ended anywhere (logout, displacement, lockout, password change, purge) is announced
	// with NOTIFY and dropped from every process's cache when the notification arrives —
	// normally well within a millisecond of the commit, but a request that reaches another
	// process before its notification does is still served. While the listener is not
	// connected nothing is cached. The activity a process records reaches the others'
	// caches only when they re-read (a row about to expire is always re-read). 0, the
	// default, reads every time: correct first.
	CacheFor time.Duration
	Logger   *slog.Logger
}

// NewPostgresBackend returns a Backend in db's current schema, creating its tables when
// they are missing. db is typically the application's default connection
// (store.Conn.Write); the backend does not close it. With opt.CacheFor it keeps one
// connection of db for LISTEN until Close.
func NewPostgresBackend(ctx context.Context, db *sql.DB, opt PostgresOptions) (Backend, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("session tables: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(ddlLockKey)); err != nil {
		return nil, fmt.Errorf("session tables: %w", err)
	}
	for _, q := range postgresDDL {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("session tables: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("session tables: %w", err)
	}
	p := &postgresBackend{db: db}
	if opt.CacheFor > 0 {
		var schema string
		if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return nil, fmt.Errorf("session cache: %w", err)
		}
		if opt.Logger == nil {
			opt.Logger = slog.New(slog.DiscardHandler)
		}
		p.cache = newSessionCache(db, sessionChannel(schema), opt.CacheFor, opt.Logger)
	}
	return p, nil
}

func (p *postgresBackend) Close() error {
	if p.cache != nil {
		p.cache.close()
	}
	return nil
}

// identity is the JSON column of what a session knows about its user.
type identity struct {
	RoleIDs   []int64        `json:"roleIDs"`
	RoleNames []string       `json:"roleNames"`
	GroupIDs  []int64        `json:"groupIDs"`
	UData     map[string]any `json:"uData"`
}

func (p *postgresBackend) CreateSession(ctx context.Context, s *StoredSession, mode SessionMode) ([]int64, error) {
	ident, err := json.Marshal(identity{s.RoleIDs, s.RoleNames, s.GroupIDs, s.UData})
	if err != nil {
		return nil, fmt.Errorf("encode session: %w", err)
	}
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var ended []int64
	if mode != Multiple {
		// One login of a user at a time, across processes, so that two concurrent
		// Singleton logins cannot both find no session.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1, $2)", int32(sessionLockClass), int32(s.UserID^s.UserID>>32)); err != nil {
			return nil, err
		}
		rows, err := tx.QueryContext(ctx, "SELECT id FROM ubgo_session WHERE user_id = $1 AND expires_at >= $2 ORDER BY id", s.UserID, s.CreatedAt)
		if err != nil {
			return nil, err
		}
		ids, err := scanIDs(rows)
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 && mode == Singleton {
			return nil, ErrAnotherSession
		}
		if mode == Displacing {
			rows, err := tx.QueryContext(ctx, "DELETE FROM ubgo_session WHERE user_id = $1 RETURNING id", s.UserID)
			if err != nil {
				return nil, err
			}
			all, err := scanIDs(rows)
			if err != nil {
				return nil, err
			}
			if p.cache != nil && len(all) > 0 {
				if err := p.cache.announce(ctx, tx, all); err != nil {
					return nil, err
				}
				defer p.cache.evict(all...)
			}
			ended = ids
		}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO ubgo_session (id, user_id, user_name, lang, identity, sig_key, remote_ip,
		created_at, accessed_at, expires_at, timeout_ms, last_sign, clock_delta, pwd_expired)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (id) DO NOTHING`,
		s.ID, s.UserID, s.UserName, s.Lang, string(ident), int64(s.Key), s.RemoteIP,
		s.CreatedAt.UTC(), s.AccessedAt.UTC(), s.AccessedAt.Add(s.Timeout).UTC(), s.Timeout.Milliseconds(),
		s.LastSign, s.ClockDelta, s.PasswordExpired)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, ErrDuplicateSessionID
	}
	return ended, tx.Commit()
}

func scanIDs(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func (p *postgresBackend) Session(ctx context.Context, id int64) (*StoredSession, error) {
	if p.cache == nil {
		return p.readSession(ctx, id)
	}
	if s := p.cache.get(id); s != nil {
		return s, nil
	}
	gen := p.cache.generation()
	s, err := p.readSession(ctx, id)
	if err == nil {
		p.cache.put(s, gen)
	}
	return s, err
}

func (p *postgresBackend) readSession(ctx context.Context, id int64) (*StoredSession, error) {
	s := &StoredSession{ID: id}
	var ident string
	var key, timeoutMS int64
	err := p.db.QueryRowContext(ctx, `SELECT user_id, user_name, lang, identity, sig_key, remote_ip, created_at,
		accessed_at, timeout_ms, last_sign, clock_delta, pwd_expired FROM ubgo_session WHERE id = $1`, id).
		Scan(&s.UserID, &s.UserName, &s.Lang, &ident, &key, &s.RemoteIP, &s.CreatedAt, &s.AccessedAt, &timeoutMS,
			&s.LastSign, &s.ClockDelta, &s.PasswordExpired)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	var idn identity
	dec := json.NewDecoder(bytes.NewReader([]byte(ident)))
	dec.UseNumber()
	if err := dec.Decode(&idn); err != nil {
		return nil, fmt.Errorf("session %d: decode: %w", id, err)
	}
	s.RoleIDs, s.RoleNames, s.GroupIDs = idn.RoleIDs, idn.RoleNames, idn.GroupIDs
	s.UData, _ = normalizeJSON(idn.UData).(map[string]any)
	s.Key, s.Timeout = uint32(key), time.Duration(timeoutMS)*time.Millisecond
	return s, nil
}

func (p *postgresBackend) TouchSession(ctx context.Context, id int64, accessed time.Time, lastSign, clockDelta int64) error {
	_, err := p.db.ExecContext(ctx, `UPDATE ubgo_session SET
		accessed_at = GREATEST(accessed_at, $2::timestamptz),
		expires_at = GREATEST(accessed_at, $2::timestamptz) + timeout_ms * INTERVAL '1 millisecond',
		clock_delta = CASE WHEN last_sign = 0 AND $3::bigint > 0 THEN $4::bigint ELSE clock_delta END,
		last_sign = GREATEST(last_sign, $3::bigint)
		WHERE id = $1`, id, accessed.UTC(), lastSign, clockDelta)
	if err == nil && p.cache != nil {
		p.cache.touch(id, accessed, lastSign, clockDelta)
	}
	return err
}

func (p *postgresBackend) DeleteSession(ctx context.Context, id int64) (bool, error) {
	ids, err := p.deleteSessions(ctx, "DELETE FROM ubgo_session WHERE id = $1 RETURNING id", id)
	return len(ids) > 0, err
}

func (p *postgresBackend) DeleteUserSessions(ctx context.Context, userID, except int64) ([]int64, error) {
	return p.deleteSessions(ctx, "DELETE FROM ubgo_session WHERE user_id = $1 AND id <> $2 RETURNING id", userID, except)
}

func (p *postgresBackend) PurgeSessions(ctx context.Context, now time.Time) (int, error) {
	ids, err := p.deleteSessions(ctx, "DELETE FROM ubgo_session WHERE expires_at < $1 RETURNING id", now.UTC())
	return len(ids), err
}

// deleteSessions runs a DELETE ... RETURNING id and, with a cache, announces the ended
// sessions to every process in the same transaction (NOTIFY is delivered on commit).
func (p *postgresBackend) deleteSessions(ctx context.Context, q string, args ...any) ([]int64, error) {
	if p.cache == nil {
		rows, err := p.db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		return scanIDs(rows)
	}
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	ids, err := scanIDs(rows)
	if err != nil || len(ids) == 0 {
		return ids, err
	}
	if err := p.cache.announce(ctx, tx, ids); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	p.cache.evict(ids...)
	return ids, nil
}

func (p *postgresBackend) CountSessions(ctx context.Context) (int, error) {
	var n int
	err := p.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM ubgo_session").Scan(&n)
	return n, err
}

func (p *postgresBackend) CountUserSessions(ctx context.Context, userID int64, now time.Time) (int, error) {
	var n int
	err := p.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM ubgo_session WHERE user_id = $1 AND expires_at >= $2", userID, now.UTC()).Scan(&n)
	return n, err
}

func (p *postgresBackend) NonceKey(ctx context.Context) ([]byte, error) {
	key := make([]byte, 32)
	rand.Read(key)
	// The first process to get here sets the key; everybody reads the winner's.
	if _, err := p.db.ExecContext(ctx, "INSERT INTO ubgo_auth_key (id, key) VALUES (1, $1) ON CONFLICT (id) DO NOTHING", key); err != nil {
		return nil, fmt.Errorf("nonce key: %w", err)
	}
	var out []byte
	if err := p.db.QueryRowContext(ctx, "SELECT key FROM ubgo_auth_key WHERE id = 1").Scan(&out); err != nil {
		return nil, fmt.Errorf("nonce key: %w", err)
	}
	return out, nil
}

func (p *postgresBackend) UseNonce(ctx context.Context, nonce string, expires time.Time) (bool, error) {
	res, err := p.db.ExecContext(ctx, "INSERT INTO ubgo_auth_nonce (nonce, expires_at) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING",
		nonce, expires.UTC())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (p *postgresBackend) AddFailure(ctx context.Context, login string, now time.Time, resetAfter time.Duration) (int, error) {
	var n int
	err := p.db.QueryRowContext(ctx, `INSERT INTO ubgo_login_failure AS f (login, failures, last_failure) VALUES ($1, 1, $2::timestamptz)
		ON CONFLICT (login) DO UPDATE SET
			failures = CASE WHEN $3::bigint > 0 AND f.last_failure < $2::timestamptz - $3::bigint * INTERVAL '1 millisecond'
				THEN 1 ELSE f.failures + 1 END,
			last_failure = $2::timestamptz
		RETURNING failures`, login, now.UTC(), resetAfter.Milliseconds()).Scan(&n)
	return n, err
}

func (p *postgresBackend) ClearFailures(ctx context.Context, login string) error {
	_, err := p.db.ExecContext(ctx, "DELETE FROM ubgo_login_failure WHERE login = $1", login)
	return err
}

func (p *postgresBackend) Lock(ctx context.Context, login string, until time.Time) error {
	_, err := p.db.ExecContext(ctx, `INSERT INTO ubgo_login_failure (login, failures, last_failure, locked_until) VALUES ($1, 0, $2, $2)
		ON CONFLICT (login) DO UPDATE SET locked_until = $2`, login, until.UTC())
	return err
}

func (p *postgresBackend) LockedUntil(ctx context.Context, login string) (time.Time, error) {
	var t sql.NullTime
	err := p.db.QueryRowContext(ctx, "SELECT locked_until FROM ubgo_login_failure WHERE login = $1", login).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) || !t.Valid {
		return time.Time{}, nil
	}
	return t.Time, err
}

// AddIPFailure counts in one statement: the row lock of the upsert orders concurrent
// failures from every process, so exactly one of them is the limit-th of its window.
func (p *postgresBackend) AddIPFailure(ctx context.Context, ip string, now time.Time, limit int, period time.Duration) (bool, error) {
	var locked bool
	err := p.db.QueryRowContext(ctx, `INSERT INTO ubgo_ip_failure AS f (ip, failures, window_end, locked_until)
		VALUES ($1, 1, $2::timestamptz + $4::bigint * INTERVAL '1 millisecond',
			CASE WHEN $3::int = 1 THEN $2::timestamptz + $4::bigint * INTERVAL '1 millisecond' END)
		ON CONFLICT (ip) DO UPDATE SET
			failures = CASE WHEN f.window_end <= $2::timestamptz THEN 1 ELSE f.failures + 1 END,
			window_end = CASE WHEN f.window_end <= $2::timestamptz THEN EXCLUDED.window_end ELSE f.window_end END,
			locked_until = CASE WHEN (CASE WHEN f.window_end <= $2::timestamptz THEN 1 ELSE f.failures + 1 END) = $3::int
				THEN EXCLUDED.window_end ELSE f.locked_until END
		RETURNING failures = $3::int`, ip, now.UTC(), limit, period.Milliseconds()).Scan(&locked)
	return locked, err
}

func (p *postgresBackend) IPLockedUntil(ctx context.Context, ip string) (time.Time, error) {
	var t sql.NullTime
	err := p.db.QueryRowContext(ctx, "SELECT locked_until FROM ubgo_ip_failure WHERE ip = $1", ip).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) || !t.Valid {
		return time.Time{}, nil
	}
	return t.Time, err
}

func (p *postgresBackend) PurgeState(ctx context.Context, now time.Time) error {
	if _, err := p.db.ExecContext(ctx, "DELETE FROM ubgo_auth_nonce WHERE expires_at < $1", now.UTC()); err != nil {
		return err
	}
	_, err := p.db.ExecContext(ctx, `DELETE FROM ubgo_login_failure
		WHERE last_failure < $1 AND (locked_until IS NULL OR locked_until < $2)`, now.Add(-24*time.Hour).UTC(), now.UTC())
	if err != nil {
		return err
	}
	_, err = p.db.ExecContext(ctx, `DELETE FROM ubgo_ip_failure
		WHERE window_end <= $1 AND (locked_until IS NULL OR locked_until <= $1)`, now.UTC())
	return err
}

// normalizeJSON turns json.Number into int64 (or float64 when it is not an integer), so
// that a session read back from PostgreSQL carries the same Go types as one built at login.
func normalizeJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case float64:
		if x == float64(int64(x)) && x >= -1<<53 && x <= 1<<53 {
			return int64(x)
		}
		return x
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeJSON(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalizeJSON(e)
		}
		return x
	}
	return v
}

// sessionChannel is the NOTIFY channel of ended sessions of a schema.
func sessionChannel(schema string) string {
	name := "ubgo_sessions_" + schema
	if len(name) > 63 {
		name = name[:63]
	}
	return name
}

// sessionCache keeps session rows this process read, for a short time, and drops them
// when any process announces their end. It is used only while its listener is connected.
type sessionCache struct {
	db      *sql.DB
	channel string
	ttl     time.Duration
	log     *slog.Logger

	mu        sync.Mutex
	entries   map[int64]cachedSession
	gen       uint64 // bumped by every eviction: a read that raced one is not cached
	listening atomic.Bool

	cancel context.CancelFunc
	done   chan struct{}
}

type cachedSession struct {
	s  *StoredSession
	at time.Time // when it was read (wall clock)
}

// maxCachedSessions bounds the cache; beyond it, it starts over.
const maxCachedSessions = 100_000

func newSessionCache(db *sql.DB, channel string, ttl time.Duration, log *slog.Logger) *sessionCache {
	c := &sessionCache{db: db, channel: channel, ttl: ttl, log: log, entries: map[int64]cachedSession{}, done: make(chan struct{})}
	var ctx context.Context
	ctx, c.cancel = context.WithCancel(context.Background())
	go c.listen(ctx)
	return c
}

func (c *sessionCache) close() {
	c.cancel()
	<-c.done
}

func (c *sessionCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// get returns a copy of a cached row read less than ttl ago and not about to expire.
func (c *sessionCache) get(id int64) *StoredSession {
	if !c.listening.Load() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	now := time.Now()
	if !ok || now.Sub(e.at) > c.ttl {
		return nil
	}
	// Another process may have kept the session alive since: what looks close to
	// expiring is read again.
	if e.s.AccessedAt.Add(e.s.Timeout).Before(now.Add(c.ttl)) {
		delete(c.entries, id)
		return nil
	}
	cp := *e.s
	return &cp
}

func (c *sessionCache) put(s *StoredSession, gen uint64) {
	if !c.listening.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.entries) >= maxCachedSessions {
		clear(c.entries)
	}
	cp := *s
	c.entries[s.ID] = cachedSession{s: &cp, at: time.Now()}
}

// touch applies this process's own activity to its cached copy.
func (c *sessionCache) touch(id int64, accessed time.Time, lastSign, clockDelta int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok {
		return
	}
	s := *e.s
	if accessed.After(s.AccessedAt) {
		s.AccessedAt = accessed
	}
	if lastSign > s.LastSign {
		if s.LastSign == 0 {
			s.ClockDelta = clockDelta
		}
		s.LastSign = lastSign
	}
	e.s = &s
	c.entries[id] = e
}

func (c *sessionCache) evict(ids ...int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, id := range ids {
		delete(c.entries, id)
	}
}

func (c *sessionCache) evictAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}

// announce sends the IDs of ended sessions on the channel, inside tx. A payload has room
// for about a thousand IDs; beyond, "*" tells everybody to drop everything.
func (c *sessionCache) announce(ctx context.Context, tx *sql.Tx, ids []int64) error {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	payload := strings.Join(parts, ",")
	if len(payload) > 7000 {
		payload = "*"
	}
	_, err := tx.ExecContext(ctx, "SELECT pg_notify($1, $2)", c.channel, payload)
	return err
}

// listen holds a connection with LISTEN on the channel and evicts what it hears, until
// closed; it reconnects with a growing delay, and nothing is cached while it is not
// connected.
func (c *sessionCache) listen(ctx context.Context) {
	defer close(c.done)
	delay := time.Second
	for {
		err := c.listenOnce(ctx, func() { delay = time.Second })
		c.listening.Store(false)
		c.evictAll()
		if ctx.Err() != nil {
			return
		}
		c.log.Warn("session cache listener lost its connection; caching paused", "err", err, "retry", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Minute)
	}
}

func (c *sessionCache) listenOnce(ctx context.Context, connected func()) error {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("session cache: not a pgx connection")
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{c.channel}.Sanitize()); err != nil {
			return err
		}
		connected()
		c.evictAll() // what ended while nobody listened
		c.listening.Store(true)
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				// The connection is in an unknown state: do not return it to the pool.
				return errors.Join(err, driver.ErrBadConn)
			}
			if n.Payload == "*" {
				c.evictAll()
				continue
			}
			var ids []int64
			for _, f := range strings.Split(n.Payload, ",") {
				if id, err := strconv.ParseInt(f, 10, 64); err == nil {
					ids = append(ids, id)
				}
			}
			c.evict(ids...)
		}
	})
}
