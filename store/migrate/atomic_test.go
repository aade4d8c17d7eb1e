package migrate_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ubgo/ubgo/store/migrate"
	"github.com/ubgo/ubgo/store/storetest"
)

// TestApplyIsAtomic: when a statement fails (tst_item.mainCategory becomes NOT NULL but
// there is no category to point at), Apply reports the statement and nothing changes.
func TestApplyIsAtomic(t *testing.T) {
	v1, v2 := loadFixture(t, "v1"), loadFixture(t, "v2")
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			conn := openConn(t, d, "en", "uk")
			apply(t, conn, plan(t, conn, v1), false)
			mustExec(t, conn.Write, `INSERT INTO tst_item (ID, code, title) VALUES (1, 'A1', 'One')`)
			p := plan(t, conn, v2)
			before := p.Script(true)
			err := migrate.Apply(context.Background(), conn.Write, p, true)
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), "maincategory") {
				t.Fatalf("Apply: err = %v, want a failure naming mainCategory", err)
			}
			if after := plan(t, conn, v2).Script(true); after != before {
				t.Fatalf("a failed Apply left changes behind; plan before:\n%s\nafter:\n%s", before, after)
			}
			if got := queryStrings(t, conn.Write, `SELECT code FROM tst_item`); strings.Join(got, ",") != "A1" {
				t.Fatalf("rows after a failed Apply: %v", got)
			}
			if d == storetest.SQLite3 {
				if got := queryStrings(t, conn.Write, `PRAGMA foreign_keys`); got[0] != "1" {
					t.Fatalf("foreign keys are %s after a failed Apply, want them back on", got[0])
				}
			}
		})
	}
}

func TestNewPlanNeedsDomainAndDialect(t *testing.T) {
	conn := openConn(t, storetest.SQLite3, "en")
	for _, tgt := range []migrate.Target{{Dialect: conn.Dialect}, {Domain: loadFixture(t, "golden")}} {
		if _, err := migrate.NewPlan(context.Background(), conn.Write, tgt); err == nil {
			t.Errorf("NewPlan(%+v) succeeded", tgt)
		}
	}
}
