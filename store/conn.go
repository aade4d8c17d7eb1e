package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/ubgo/ubgo/config"
	"github.com/ubgo/ubgo/store/dialect"
)

// Conn is one application connection: a database and the dialect spoken to it.
//
// SQLite gets two pools over one file: Write holds a single connection, so write
// transactions queue in Go instead of failing with SQLITE_BUSY, and Read is a pool of
// query-only connections that WAL lets run beside the writer. PostgreSQL has one pool, and
// Read and Write are the same *sql.DB.
type Conn struct {
	Name        string
	Dialect     dialect.Dialect
	IsDefault   bool
	Langs       []string // supportLang: languages with their own columns; the default language first
	DefaultLang string
	Schema      string // PostgreSQL schema; "" for SQLite
	Path        string // SQLite database file
	Write       *sql.DB
	Read        *sql.DB
	readStmts   *stmtCache // SQLite only
	readGate    gate       // first come, first served admission to Read (EnterRead)
	writeSQL    writeSQL   // statement texts of insertRow, updateRow, deleteRow (writesql.go)
	writeStmts  writeStmts // SQLite: prepared write statements (writesql.go)

	// Created reports that OpenConn created the database (the SQLite file or the PostgreSQL
	// schema): it is empty and needs "ubgo init".
	Created bool
}

// EnterRead waits, in arrival order, for a free connection of the read pool, for a query
// outside a transaction; LeaveRead gives it back once the query's rows are closed. Reads
// admitted this way never wait inside database/sql, which hands a freed connection to a
// random waiter (see gate). It fails only when ctx ends while waiting.
func (c *Conn) EnterRead(ctx context.Context) error {
	if c.readGate == nil {
		return nil
	}
	return c.readGate.enter(ctx)
}

// LeaveRead ends a read admitted by EnterRead.
func (c *Conn) LeaveRead() {
	if c.readGate != nil {
		c.readGate.leave()
	}
}

// Close closes the connection's pools.
func (c *Conn) Close() error {
	if c.readStmts != nil {
		c.readStmts.close()
	}
	c.writeStmts.close()
	err := c.Write.Close()
	if c.Read != c.Write {
		err = errors.Join(err, c.Read.Close())
	}
	return err
}

// ConnOptions adjust OpenConn.
type ConnOptions struct {
	// BaseDir resolves a relative SQLite databaseName (the folder of ubconfig.json).
	BaseDir string
	// DefaultLang of the application; it always has a column.
	DefaultLang string
	// Create allows creating a missing SQLite file or PostgreSQL schema; without it a
	// missing database is an error (ErrNoDatabase).
	Create bool
	Logger *slog.Logger
}

// ErrNoDatabase is returned by OpenConn when the database does not exist and Create is false.
var ErrNoDatabase = errors.New("database does not exist")

// SQLite durability, from the connection's "synchronous" setting (or advSettings
// "Synchronous=..."). FULL, the default, syncs the write-ahead log on every commit, so a
// committed transaction survives a power loss; NORMAL syncs only at checkpoints and may lose
// the last transactions on power loss (never on a process crash) but commits several times
// faster; OFF leaves syncing to the OS.
var sqliteSynchronous = map[string]bool{"OFF": true, "NORMAL": true, "FULL": true, "EXTRA": true}

// OpenConn opens the database of one ubconfig connection and checks that it answers.
func OpenConn(ctx context.Context, c config.Connection, opt ConnOptions) (*Conn, error) {
	name := c.Dialect
	if name == "" {
		name = c.Driver
	}
	d, err := dialect.ByName(name)
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", c.Name, err)
	}
	conn := &Conn{Name: c.Name, Dialect: d, IsDefault: c.IsDefault, DefaultLang: opt.DefaultLang}
	conn.Langs = connLangs(opt.DefaultLang, c.SupportLang)
	switch d.Name() {
	case dialect.SQLite3:
		err = openSQLite(ctx, conn, c, opt)
	case dialect.PostgreSQL:
		err = openPostgres(ctx, conn, c, opt)
	}
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", c.Name, err)
	}
	return conn, nil
}

func connLangs(def string, support []string) []string {
	langs := []string{}
	if def != "" {
		langs = append(langs, def)
	}
	for _, l := range support {
		if l != def && l != "" {
			langs = append(langs, l)
		}
	}
	return langs
}

func openSQLite(ctx context.Context, conn *Conn, c config.Connection, opt ConnOptions) error {
	path := c.DatabaseName
	if path == "" {
		return errors.New(`SQLite3 needs "databaseName", the database file`)
	}
	if strings.HasPrefix(path, ":memory:") || strings.Contains(path, "mode=memory") {
		return errors.New("SQLite3 in-memory databases are not supported (the read pool would see another database); give a file name")
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(opt.BaseDir, path)
	}
	conn.Path = path
	sync, err := sqliteSync(c)
	if err != nil {
		return err
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if !opt.Create {
			return fmt.Errorf("%s: %w (run \"ubgo init\")", path, ErrNoDatabase)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("create the database folder: %w", err)
		}
		// The file holds password hashes: readable by the server's user only. SQLite gives its
		// -wal and -shm files the same permissions.
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("create the database file: %w", err)
		}
		f.Close()
		conn.Created = true
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(" + sync + ")"
	w, err := sql.Open("sqlite", base+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return fmt.Errorf("open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return err
	}
	n := c.MaxConnections
	if n <= 0 {
		n = max(4, runtime.GOMAXPROCS(0))
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	conn.Write, conn.Read = w, r
	conn.readGate = newGate(n)
	conn.readStmts = newStmtCache(r)
	for _, stmt := range c.ExecuteWhenConnected {
		if _, err := w.ExecContext(ctx, stmt); err != nil {
			conn.Close()
			return fmt.Errorf("executeWhenConnected %q: %w", stmt, err)
		}
	}
	return nil
}

func sqliteSync(c config.Connection) (string, error) {
	v := c.Synchronous
	if v == "" {
		for _, kv := range strings.Split(c.AdvSettings, ";") {
			if k, val, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && strings.EqualFold(strings.TrimSpace(k), "synchronous") {
				v = strings.TrimSpace(val)
			}
		}
	}
	if v == "" {
		return "FULL", nil
	}
	v = strings.ToUpper(v)
	if !sqliteSynchronous[v] {
		return "", fmt.Errorf("synchronous %q: want OFF, NORMAL, FULL or EXTRA", v)
	}
	return v, nil
}

// PostgresConfig builds the pgx configuration of a connection: databaseName is either a
// postgres:// URL (or key=value DSN) or a database name, with serverName as host[:port] and
// userID/password as the login. The schema is search_path from the URL, else userID
// lower-cased, else public.
func PostgresConfig(c config.Connection) (*pgx.ConnConfig, string, error) {
	dsn := c.DatabaseName
	if !strings.Contains(dsn, "://") && !strings.Contains(dsn, "=") {
		u := &url.URL{Scheme: "postgres", Host: c.ServerName, Path: "/" + dsn}
		if u.Host == "" {
			u.Host = "127.0.0.1:5432"
		}
		if c.UserID != "" {
			u.User = url.UserPassword(c.UserID, c.Password)
		}
		dsn = u.String()
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, "", fmt.Errorf("databaseName: %w", err)
	}
	if c.UserID != "" && cfg.User == "" {
		cfg.User = c.UserID
	}
	if c.Password != "" && cfg.Password == "" {
		cfg.Password = c.Password
	}
	schema := cfg.RuntimeParams["search_path"]
	if schema == "" {
		schema = strings.ToLower(c.UserID)
	}
	if schema == "" {
		schema = "public"
	}
	if !validSchema(schema) {
		return nil, "", fmt.Errorf("schema %q: want letters, digits and underscores", schema)
	}
	cfg.RuntimeParams["search_path"] = schema
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	return cfg, schema, nil
}

func validSchema(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c == '_' || c >= '0' && c <= '9' && i > 0) {
			return false
		}
	}
	return true
}

func openPostgres(ctx context.Context, conn *Conn, c config.Connection, opt ConnOptions) error {
	cfg, schema, err := PostgresConfig(c)
	if err != nil {
		return err
	}
	conn.Schema = schema
	after := func(ctx context.Context, pc *pgx.Conn) error {
		for _, stmt := range c.ExecuteWhenConnected {
			if _, err := pc.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("executeWhenConnected %q: %w", stmt, err)
			}
		}
		return nil
	}
	db := stdlib.OpenDB(*cfg, stdlib.OptionAfterConnect(after))
	n := c.MaxConnections
	if n <= 0 {
		n = max(4, 2*runtime.GOMAXPROCS(0))
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return fmt.Errorf("connect to PostgreSQL %s/%s: %w", cfg.Host, cfg.Database, err)
	}
	var exists bool
	if err := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
		db.Close()
		return fmt.Errorf("look up schema %s: %w", schema, err)
	}
	if !exists {
		if !opt.Create {
			db.Close()
			return fmt.Errorf("schema %s: %w (run \"ubgo init\")", schema, ErrNoDatabase)
		}
		if _, err := db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
			db.Close()
			return fmt.Errorf("create schema %s: %w", schema, err)
		}
		conn.Created = true
	}
	conn.Write, conn.Read = db, db
	// Reads share the pool with transactions here, so the gate orders the reads only: a
	// read may still wait inside database/sql while transactions hold connections.
	conn.readGate = newGate(n)
	return nil
}
