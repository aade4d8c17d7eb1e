package migrate_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	_ "modernc.org/sqlite"             // the "sqlite" driver

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/store/dialect"
	"github.com/ubgo/ubgo/store/migrate"
	"github.com/ubgo/ubgo/store/storetest"
)

// conn is a test database. The tests open it themselves, with the settings store.OpenConn
// uses (SQLite: one writer connection, foreign keys on, BEGIN IMMEDIATE; PostgreSQL:
// search_path set to a schema of its own), so that migrate's tests do not depend on the
// rest of package store.
type conn struct {
	Name      string
	Dialect   dialect.Dialect
	IsDefault bool
	Langs     []string
	Schema    string
	Write     *sql.DB
}

// openConn opens a fresh, empty database of the dialect with the given languages (the
// first is the default).
func openConn(t testing.TB, dialectName string, langs ...string) *conn {
	t.Helper()
	c := storetest.Connection(t, dialectName, langs...)
	d, err := dialect.ByName(dialectName)
	if err != nil {
		t.Fatal(err)
	}
	out := &conn{Name: c.Name, Dialect: d, IsDefault: c.IsDefault, Langs: langs}
	switch dialectName {
	case storetest.SQLite3:
		out.Write, err = sql.Open("sqlite", "file:"+c.DatabaseName+
			"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_txlock=immediate")
		if err == nil {
			out.Write.SetMaxOpenConns(1)
		}
	case storetest.PostgreSQL:
		u, perr := url.Parse(c.DatabaseName)
		if perr != nil {
			t.Fatal(perr)
		}
		out.Schema = u.Query().Get("search_path")
		out.Write, err = sql.Open("pgx", c.DatabaseName)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Write.Close() })
	return out
}

func targetOf(c *conn, dom *domain.Domain) migrate.Target {
	return migrate.Target{Domain: dom, Dialect: c.Dialect, Connection: c.Name, IsDefault: c.IsDefault,
		DefaultLang: c.Langs[0], Langs: c.Langs, Schema: c.Schema}
}

// loadApp builds the domain of an ubconfig.json.
func loadApp(t testing.TB, cfg string) *domain.Domain {
	t.Helper()
	app, err := boot.Load(context.Background(), boot.Options{ConfigFile: cfg, LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatalf("load %s: %v", cfg, err)
	}
	return app.Domain
}

// corpusConfig is the real UnityBase models' application, shared by the workspace.
const corpusConfig = "../../../shared/corpus/ubjs/ubConfig.json"

func needCorpus(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(corpusConfig); err != nil {
		t.Skipf("the UnityBase corpus %s is absent (it lives in the shared workspace): %v", corpusConfig, err)
	}
}

// loadFixture builds the domain of the models in testdata/<dir>: each subfolder is a model.
func loadFixture(t testing.TB, dir string) *domain.Domain {
	t.Helper()
	root := filepath.Join("testdata", dir)
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	in := domain.Input{DefaultLang: "en", Languages: []string{"en", "uk"}, ImplicitMixins: []string{"audit"},
		BlobStores: []string{"files"}, DefaultBlobStore: "files", Connections: []string{"main"}}
	for _, e := range entries {
		if e.IsDir() {
			p := filepath.Join(root, e.Name())
			in.Models = append(in.Models, domain.ModelSource{Name: strings.ToUpper(e.Name()), Path: p, FS: os.DirFS(p)})
		}
	}
	dom, err := domain.Load(context.Background(), in)
	if err != nil {
		t.Fatalf("load fixture %s: %v", dir, err)
	}
	return dom
}

func plan(t testing.TB, conn *conn, dom *domain.Domain) *migrate.Plan {
	t.Helper()
	p, err := migrate.NewPlan(context.Background(), conn.Write, targetOf(conn, dom))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func apply(t testing.TB, conn *conn, p *migrate.Plan, allowDestructive bool) {
	t.Helper()
	if err := migrate.Apply(context.Background(), conn.Write, p, allowDestructive); err != nil {
		t.Fatalf("%v\nscript:\n%s", err, p.Script(true))
	}
}

// mustBeEmpty fails when the plan has statements: the database should match the domain.
func mustBeEmpty(t testing.TB, p *migrate.Plan) {
	t.Helper()
	if !p.Empty() {
		t.Fatalf("the plan after Apply is not empty:\n%s", p.Script(true))
	}
}
