package migrate_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ubgo/ubgo/store/migrate"
	"github.com/ubgo/ubgo/store/storetest"
)

// TestStamp: Apply records the fingerprint of the schema it reached; Stamped matches it
// against the current domain without reading the catalog, and the stamp table is never
// planned nor reported as a foreign table.
func TestStamp(t *testing.T) {
	v1, v2 := loadFixture(t, "v1"), loadFixture(t, "v2")
	ctx := context.Background()
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			conn := openConn(t, d, "en", "uk")
			stamped := func(dom string) bool {
				t.Helper()
				tgt := targetOf(conn, v1)
				if dom == "v2" {
					tgt = targetOf(conn, v2)
				}
				ok, err := migrate.Stamped(ctx, conn.Write, tgt)
				if err != nil {
					t.Fatal(err)
				}
				return ok
			}
			if stamped("v1") {
				t.Fatal("an empty database is stamped")
			}
			apply(t, conn, plan(t, conn, v1), false)
			if !stamped("v1") {
				t.Error("Apply did not stamp the database with the schema it applied")
			}
			if stamped("v2") {
				t.Error("a database at v1 is stamped as v2")
			}
			p := plan(t, conn, v1)
			mustBeEmpty(t, p)
			for _, w := range p.Warnings {
				if strings.Contains(w, migrate.StampTable) {
					t.Errorf("the stamp table is reported: %s", w)
				}
			}

			// A plan that fails changes nothing, the stamp included.
			up := plan(t, conn, v2)
			if err := migrate.Apply(ctx, conn.Write, up, false); err == nil && len(up.Destructive()) > 0 {
				t.Fatal("a destructive plan was applied without permission")
			}
			if len(up.Destructive()) > 0 && (!stamped("v1") || stamped("v2")) {
				t.Error("a refused plan changed the stamp")
			}
			apply(t, conn, up, true)
			if !stamped("v2") || stamped("v1") {
				t.Error("after migrating to v2 the stamp is not v2's")
			}

			// A change made by hand is invisible to the stamp but not to NewPlan.
			mustExec(t, conn.Write, "DELETE FROM "+migrate.StampTable)
			if stamped("v2") {
				t.Error("stamped without a stamp row")
			}
			p = plan(t, conn, v2)
			mustBeEmpty(t, p)
			if err := migrate.Stamp(ctx, conn.Write, p); err != nil {
				t.Fatal(err)
			}
			if !stamped("v2") {
				t.Error("Stamp of an empty plan did not record it")
			}
		})
	}
}

// TestFingerprint: the fingerprint depends on the domain's schema and on the dialect.
func TestFingerprint(t *testing.T) {
	v1, v2 := loadFixture(t, "v1"), loadFixture(t, "v2")
	conn := openConn(t, storetest.SQLite3, "en", "uk")
	a1, err := migrate.Fingerprint(targetOf(conn, v1))
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := migrate.Fingerprint(targetOf(conn, loadFixture(t, "v1")))
	a2, _ := migrate.Fingerprint(targetOf(conn, v2))
	if a1 != b1 {
		t.Error("the fingerprint of one domain changes from one load to the next")
	}
	if a1 == a2 || len(a1) != 64 {
		t.Errorf("fingerprints v1 %q, v2 %q: want two different SHA-256 digests", a1, a2)
	}
	if _, err := migrate.Fingerprint(migrate.Target{}); err == nil {
		t.Error("an empty target has a fingerprint")
	}
}
