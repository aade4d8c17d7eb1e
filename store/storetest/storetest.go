// Package storetest gives tests a fresh, empty database of every dialect ubgo supports, so
// that one test body runs on SQLite and on PostgreSQL.
//
// PostgreSQL comes from the UBGO_TEST_PG connection URL (for example
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable); each call creates a schema of
// its own and drops it when the test ends. Without UBGO_TEST_PG the PostgreSQL half is
// skipped with a message, unless UBGO_REQUIRE_PG is set (CI sets it), in which case the test
// fails: CI must never pass with PostgreSQL silently skipped.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/ubgo/ubgo/config"
)

// Dialect names, as ubconfig.json spells them.
const (
	SQLite3    = "SQLite3"
	PostgreSQL = "PostgreSQL"
)

// Dialects are the dialects every storage test runs on.
var Dialects = []string{SQLite3, PostgreSQL}

// PGURL returns the PostgreSQL test server URL, skipping (or, under UBGO_REQUIRE_PG,
// failing) the test when there is none.
func PGURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("UBGO_TEST_PG")
	if u == "" {
		if os.Getenv("UBGO_REQUIRE_PG") != "" {
			t.Fatal("UBGO_REQUIRE_PG is set but UBGO_TEST_PG is empty: PostgreSQL tests must not be skipped")
		}
		t.Skip("PostgreSQL tests skipped: set UBGO_TEST_PG, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	return u
}

// Connection returns the ubconfig connection "main" of a new empty database of the given
// dialect, removed when the test ends. langs become supportLang.
func Connection(t testing.TB, dialectName string, langs ...string) config.Connection {
	t.Helper()
	c := config.Connection{Name: "main", Driver: dialectName, Dialect: dialectName, IsDefault: true, SupportLang: langs}
	switch dialectName {
	case SQLite3:
		c.DatabaseName = filepath.Join(t.TempDir(), "test.sqlite3")
	case PostgreSQL:
		c.DatabaseName = NewSchema(t)
	default:
		t.Fatalf("storetest: unknown dialect %q", dialectName)
	}
	return c
}

// NewSchema creates an empty PostgreSQL schema on the test server, drops it (with
// everything in it) when the test ends, and returns a connection URL whose search_path is
// that schema.
func NewSchema(t testing.TB) string {
	t.Helper()
	base := PGURL(t)
	var b [6]byte
	rand.Read(b[:])
	schema := "ubgo_t_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("storetest: create schema: %v", err)
	}
	t.Cleanup(func() { DropSchema(t, base, schema) })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storetest: UBGO_TEST_PG: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// DropSchema drops a schema created for a test; it also works for schemas that ubgo itself
// created (ubgo init on a userID schema).
func DropSchema(t testing.TB, base, schema string) {
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Errorf("storetest: %v", err)
		return
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
		t.Errorf("storetest: drop schema %s: %v", schema, err)
	}
}
