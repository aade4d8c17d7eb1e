package main

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ubgo/ubgo/store/storetest"
)

// TestInitThenMigrate runs "ubgo init" and then "ubgo migrate --dry-run", which must find
// nothing to do, on the sample application and on the real UnityBase models, on SQLite and
// on PostgreSQL.
func TestInitThenMigrate(t *testing.T) {
	type app struct {
		name string
		cfg  string
		env  func(t *testing.T) map[string]string
	}
	sqlite := func(t *testing.T) map[string]string {
		dir := t.TempDir()
		return map[string]string{"UB_DB": filepath.Join(dir, "app.sqlite3"), "UB_APPDATA": dir + "/", "UB_DB_DRIVER": ""}
	}
	pg := func(t *testing.T) map[string]string {
		u, err := url.Parse(storetest.NewSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		schema := u.Query().Get("search_path")
		return map[string]string{"UB_DB_DRIVER": "PostgreSQL", "UB_PG_URL": storetest.PGURL(t), "UB_PG_SCHEMA": schema}
	}
	apps := []app{
		{"sample on SQLite", "../../ubconfig.json", sqlite},
		{"ubjs corpus on SQLite", "corpus", sqlite},
		{"ubjs corpus on PostgreSQL", "corpus", pg},
	}
	for _, a := range apps {
		t.Run(a.name, func(t *testing.T) {
			cfg := a.cfg
			if cfg == "corpus" {
				cfg = filepath.Join(corpus(t), "ubConfig.json")
			}
			env := a.env(t)
			out, errOut, code := ubgo(t, env, "init", "-cfg", cfg, "-p", "secret")
			if code != 0 {
				t.Fatalf("init: exit %d\n%s%s", code, out, errOut)
			}
			if !strings.Contains(out, "built-in users created") {
				t.Fatalf("init output:\n%s", out)
			}
			out, errOut, code = ubgo(t, env, "migrate", "-cfg", cfg, "--dry-run")
			if code != 0 || !strings.Contains(out, ": 0 statements planned") || strings.Contains(out, "CREATE") {
				t.Fatalf("second migrate: exit %d\n%s%s", code, out, errOut)
			}
			out, _, code = ubgo(t, env, "init", "-cfg", cfg)
			if code != 0 || !strings.Contains(out, "exist already") {
				t.Fatalf("second init: exit %d\n%s", code, out)
			}
		})
	}
}

func TestMigrateNeedsADatabase(t *testing.T) {
	env := map[string]string{"UB_DB": filepath.Join(t.TempDir(), "missing.sqlite3")}
	_, errOut, code := ubgo(t, env, "migrate", "-cfg", "../../ubconfig.json")
	if code != 1 || !strings.Contains(errOut, "ubgo init") {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
}
