package migrate_test

import (
	"strings"
	"testing"

	"github.com/ubgo/ubgo/store/storetest"
)

// TestAdoptExistingTables migrates tables made by hand in another shape: tst_category has
// its primary key on code and a nullable ID, and tst_box references tst_category.code. The
// foreign key must go before the primary key it depends on, and the rows must survive.
func TestAdoptExistingTables(t *testing.T) {
	dom := loadFixture(t, "v1")
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			conn := openConn(t, d, "en", "uk")
			mustExec(t, conn.Write,
				`CREATE TABLE tst_category (ID BIGINT, code VARCHAR(32) NOT NULL, name VARCHAR(128), CONSTRAINT PK_OLD PRIMARY KEY (code))`,
				`CREATE TABLE tst_box (ID BIGINT NOT NULL, code VARCHAR(32) NOT NULL CONSTRAINT FK_BOX_CAT REFERENCES tst_category (code),
					CONSTRAINT PK_TSTBOX PRIMARY KEY (ID))`,
				`INSERT INTO tst_category (ID, code, name) VALUES (5, 'C1', 'One')`,
				`INSERT INTO tst_box (ID, code) VALUES (1, 'C1')`,
			)
			p := plan(t, conn, dom)
			if len(p.Destructive()) > 0 {
				t.Errorf("nothing is lost, yet the plan is destructive:\n%s", whys(p.Destructive()))
			}
			apply(t, conn, p, false)
			mustBeEmpty(t, plan(t, conn, dom))
			if got := queryStrings(t, conn.Write, `SELECT CAST(c.ID AS VARCHAR(5)), c.code, b.code FROM tst_category c, tst_box b`); strings.Join(got, ",") != "5|C1|C1" {
				t.Errorf("rows after the migration: %v", got)
			}
			if fks := fkSet(t, conn, "tst_box"); len(fks) != 0 {
				t.Errorf("tst_box still has foreign keys %v", fks)
			}
			if _, err := conn.Write.Exec(`INSERT INTO tst_category (ID, code) VALUES (5, 'C2')`); err == nil {
				t.Error("a second row with ID 5 was accepted: the primary key is not on ID")
			}
		})
	}
}
