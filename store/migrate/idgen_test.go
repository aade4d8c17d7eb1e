package migrate_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ubgo/ubgo/store/migrate"
	"github.com/ubgo/ubgo/store/storetest"
)

// TestIDGenerator checks seq_ubmain: on SQLite a one-row table holding clientNum×10^10,
// on PostgreSQL a sequence from clientNum×10^10 to clientNum×10^10+4999999999 that does
// not cycle.
func TestIDGenerator(t *testing.T) {
	dom := loadFixture(t, "golden")
	ctx := context.Background()
	for _, d := range storetest.Dialects {
		for _, tc := range []struct {
			clientNum  int
			start, max string
		}{{0, "30000000000", "34999999999"}, {5, "50000000000", "54999999999"}} {
			t.Run(d+"/clientNum="+tc.start[:1], func(t *testing.T) {
				conn := openConn(t, d, "en")
				tgt := targetOf(conn, dom)
				tgt.ClientNum = tc.clientNum
				p, err := migrate.NewPlan(ctx, conn.Write, tgt)
				if err != nil {
					t.Fatal(err)
				}
				apply(t, conn, p, false)
				if d == storetest.SQLite3 {
					got := queryStrings(t, conn.Write, `SELECT CAST(client_num AS TEXT) FROM seq_ubmain`)
					if strings.Join(got, ",") != tc.start {
						t.Fatalf("seq_ubmain rows %v, want one row %s", got, tc.start)
					}
				} else {
					got := queryStrings(t, conn.Write, `SELECT start_value::text, max_value::text, cycle::text, increment_by::text
						FROM pg_sequences WHERE schemaname = current_schema() AND sequencename = 'seq_ubmain'`)
					if want := tc.start + "|" + tc.max + "|false|1"; strings.Join(got, ",") != want {
						t.Fatalf("seq_ubmain %v, want %s", got, want)
					}
					if got := queryStrings(t, conn.Write, `SELECT nextval('seq_ubmain')::text`); got[0] != tc.start {
						t.Fatalf("first value %s, want %s", got[0], tc.start)
					}
				}
				p, err = migrate.NewPlan(ctx, conn.Write, tgt)
				if err != nil {
					t.Fatal(err)
				}
				mustBeEmpty(t, p)
			})
		}
	}
}

// TestIDGeneratorRepair: a UnityBase-made generator (a nullable INTEGER column on SQLite,
// a cycling sequence on PostgreSQL) is brought in line without losing its position.
func TestIDGeneratorRepair(t *testing.T) {
	dom := loadFixture(t, "golden")
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			conn := openConn(t, d, "en")
			if d == storetest.SQLite3 {
				mustExec(t, conn.Write, `CREATE TABLE seq_ubmain (client_num INTEGER)`, `INSERT INTO seq_ubmain VALUES (30000012345)`)
			} else {
				mustExec(t, conn.Write, `CREATE SEQUENCE seq_ubmain INCREMENT 1 MAXVALUE 34999999999 START 30000000000 CYCLE CACHE 1`,
					`SELECT setval('seq_ubmain', 30000012345)`)
			}
			p := plan(t, conn, dom)
			apply(t, conn, p, false)
			mustBeEmpty(t, plan(t, conn, dom))
			if d == storetest.SQLite3 {
				if got := queryStrings(t, conn.Write, `SELECT CAST(client_num AS TEXT) FROM seq_ubmain`); strings.Join(got, ",") != "30000012345" {
					t.Fatalf("seq_ubmain rows %v after the repair, want the old value kept", got)
				}
			} else {
				got := queryStrings(t, conn.Write, `SELECT cycle::text, last_value::text FROM pg_sequences
					WHERE schemaname = current_schema() AND sequencename = 'seq_ubmain'`)
				if strings.Join(got, ",") != "false|30000012345" {
					t.Fatalf("seq_ubmain (cycle, last value) = %v after the repair", got)
				}
			}
		})
	}
}
