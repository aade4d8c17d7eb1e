package store_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/storetest"
)

// TestSeveralConnections: entities pick their database by connectionName; one batch writes
// to both; each database gets only its own tables; the archive's IDs come from its own ID
// space.
func TestSeveralConnections(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		archive := filepath.Join(t.TempDir(), "archive.sqlite3")
		env := map[string]string{"TST_DRIVER": d, "TST_DB": storetest.Connection(t, d).DatabaseName, "TST_ARCHIVE": archive}
		b, err := boot.Load(ctx, boot.Options{ConfigFile: "testdata/multi/ubconfig.json", Logger: quiet,
			LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
		if err != nil {
			t.Fatal(err)
		}
		st, err := store.Open(ctx, b.Config, b.Domain, store.Options{Create: true, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if _, err := st.Init(ctx, store.InitOptions{AdminPassword: "x"}); err != nil {
			t.Fatal(err)
		}
		if c := st.ConnOf(b.Domain.Entity("arc_item")); c.Name != "archive" {
			t.Fatalf("arc_item is on %s", c.Name)
		}
		a := &app{Store: st}
		out := a.mustRun(t, admin, `[
			{"entity":"arc_item","method":"insert","fieldList":["ID","title","archivedBy"],"execParams":{"title":"old","archivedBy":10}},
			{"entity":"uba_user","method":"select","fieldList":["name"],"ID":10}]`)
		if out[0].ResultData.Data[0][1] != "old" || out[1].ResultData.Data[0][0] != "admin" {
			t.Fatalf("results %v / %v", out[0].ResultData.Data, out[1].ResultData.Data)
		}
		raw, err := sql.Open("sqlite", archive)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		var n int
		if err := raw.QueryRow("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('arc_item', 'uba_user')").Scan(&n); err != nil || n != 1 {
			t.Fatalf("archive tables: %d, %v (want arc_item only)", n, err)
		}
		main := st.Default()
		q := "SELECT COUNT(*) FROM " + main.Dialect.Ident("arc_item")
		if err := main.Read.QueryRow(q).Scan(&n); err == nil {
			t.Fatal("arc_item exists in the main database")
		}
		plans, err := st.Plan(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range plans {
			if !p.Plan.Empty() {
				t.Fatalf("%s: second plan not empty:\n%s", p.Conn.Name, p.Plan.Script(true))
			}
		}
	})
}
