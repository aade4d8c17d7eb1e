package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ubgo/ubgo/config"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/dialect"
	"github.com/ubgo/ubgo/store/storetest"
)

func TestOpenConn(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			c := storetest.Connection(t, d, "en", "uk")
			c.ExecuteWhenConnected = []string{"SELECT 1"}
			conn, err := store.OpenConn(ctx, c, store.ConnOptions{DefaultLang: "en", Create: true})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if conn.Dialect.Name() != d {
				t.Fatalf("dialect %s, want %s", conn.Dialect.Name(), d)
			}
			if strings.Join(conn.Langs, ",") != "en,uk" {
				t.Fatalf("langs %v", conn.Langs)
			}
			if _, err := conn.Write.ExecContext(ctx, "CREATE TABLE t1 (ID BIGINT NOT NULL PRIMARY KEY)"); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := conn.Read.QueryRowContext(ctx, "SELECT count(*) FROM t1").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if d == dialect.SQLite3 {
				if _, err := conn.Read.ExecContext(ctx, "INSERT INTO t1 VALUES (1)"); err == nil {
					t.Fatal("the SQLite read pool accepted a write")
				}
			}
		})
	}
}

func TestOpenConnErrors(t *testing.T) {
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "no", "db.sqlite3")
	cases := []struct {
		name string
		conn config.Connection
		want string
	}{
		{"unsupported dialect", config.Connection{Name: "m", Dialect: "MSSQL"}, "not supported yet"},
		{"no file", config.Connection{Name: "m", Dialect: "SQLite3", DatabaseName: missing}, "database does not exist"},
		{"memory", config.Connection{Name: "m", Dialect: "SQLite3", DatabaseName: ":memory:"}, "in-memory"},
		{"no name", config.Connection{Name: "m", Dialect: "SQLite3"}, "databaseName"},
		{"bad synchronous", config.Connection{Name: "m", Dialect: "SQLite3", DatabaseName: filepath.Join(t.TempDir(), "x.db"), Synchronous: "sometimes"}, "synchronous"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := store.OpenConn(ctx, tc.conn, store.ConnOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"m"`) {
				t.Fatalf("err = %v, want it to name the connection and say %q", err, tc.want)
			}
		})
	}
	_, err := store.OpenConn(ctx, config.Connection{Name: "m", Dialect: "SQLite3", DatabaseName: missing}, store.ConnOptions{})
	if !errors.Is(err, store.ErrNoDatabase) {
		t.Fatalf("missing file: %v is not ErrNoDatabase", err)
	}
}

func TestOpenConnPostgresMissingSchema(t *testing.T) {
	base := storetest.PGURL(t)
	c := config.Connection{Name: "pg", Dialect: "PostgreSQL", DatabaseName: base, UserID: "ubgo_nosuchschema"}
	_, err := store.OpenConn(context.Background(), c, store.ConnOptions{})
	if !errors.Is(err, store.ErrNoDatabase) {
		t.Fatalf("err = %v, want ErrNoDatabase", err)
	}
}
