package migrate_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/ubgo/ubgo/store/migrate"
	"github.com/ubgo/ubgo/store/storetest"
)

// TestUpgrade applies testdata/v1, fills it, and migrates to testdata/v2, whose changes
// are listed at the top of v2/tst/tst_item.meta.
func TestUpgrade(t *testing.T) {
	v1, v2 := loadFixture(t, "v1"), loadFixture(t, "v2")
	ctx := context.Background()
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			conn := openConn(t, d, "en", "uk")
			apply(t, conn, plan(t, conn, v1), false)
			mustBeEmpty(t, plan(t, conn, v1))
			mustExec(t, conn.Write,
				`CREATE TABLE foreign_stuff (x INTEGER)`,
				`INSERT INTO tst_category (ID, code, name) VALUES (100, 'C1', 'First'), (200, 'C2', NULL)`,
				`INSERT INTO tst_item (ID, code, title, shortName, oldNote, category, price)
					VALUES (1, 'A1', 'Title one', 'A very long short name', 'note', 100, 1.5)`,
				`INSERT INTO tst_item (ID, code, title, shortName, category) VALUES (2, 'B2', 'Title two', 'short', NULL)`,
				`INSERT INTO tst_box (ID, code) VALUES (1, 'box')`,
			)

			p := plan(t, conn, v2)
			t.Log(p.Script(true))
			if !hasWarning(p, "foreign_stuff") {
				t.Errorf("no warning about the unknown table foreign_stuff: %q", p.Warnings)
			}
			why := strings.ToLower(whys(p.Destructive())) // PostgreSQL reports column names in lower case
			for _, want := range []string{"tst_item.oldnote is not in the domain", "tst_item.shortname", "truncated"} {
				if !strings.Contains(why, want) {
					t.Errorf("destructive statements do not mention %q:\n%s", want, why)
				}
			}
			for _, s := range p.Statements {
				if s.Destructive && s.Why == "" {
					t.Errorf("destructive statement without a reason: %s", s.SQL)
				}
			}

			script := strings.ToLower(p.Script(true))
			if strings.Contains(script, "tst_box__") || !strings.Contains(script, "drop index idx_tstbox_old") {
				t.Errorf("tst_box needs only new columns and a new index, but the plan rebuilds it or keeps the old index:\n%s", script)
			}

			checkSafeScript(t, p)

			before := p.Script(true)
			err := migrate.Apply(ctx, conn.Write, p, false)
			var de *migrate.DestructiveError
			if !errors.Is(err, migrate.ErrDestructive) || !errors.As(err, &de) || !strings.Contains(strings.ToLower(err.Error()), "oldnote") {
				t.Fatalf("Apply without allowDestructive: err = %v, want a DestructiveError naming oldNote", err)
			}
			if after := plan(t, conn, v2).Script(true); after != before {
				t.Fatalf("a refused Apply changed the database; plan before:\n%s\nafter:\n%s", before, after)
			}

			apply(t, conn, p, true)
			mustBeEmpty(t, plan(t, conn, v2))

			got := queryStrings(t, conn.Write, `SELECT code, title, coalesce(shortName, '-'), coalesce(status, '-'),
				CAST(qty AS VARCHAR(10)), CAST(weight AS VARCHAR(20)), CAST(mainCategory AS VARCHAR(20)),
				CAST(active AS VARCHAR(1)), coalesce(caption, '-'), coalesce(caption_uk, '-'), coalesce(ext, '-'),
				coalesce(description, '-'), CAST(coalesce(category, 0) AS VARCHAR(20))
				FROM tst_item ORDER BY ID`)
			want := []string{
				"A1|Title one|A very lon|new|1|1|100|0|-|-|-|-|100",
				"B2|Title two|short|new|1|2|100|0|-|-|-|-|0",
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("rows after the upgrade:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if got := queryStrings(t, conn.Write, `SELECT name FROM tst_category ORDER BY ID`); strings.Join(got, ",") != "First,200" {
				t.Errorf("tst_category.name after becoming NOT NULL: %v, want the NULL filled with the ID", got)
			}
			if cols := columnSet(t, conn, "tst_item"); cols["oldnote"] || !cols["caption_uk"] {
				t.Errorf("tst_item columns %v: want oldNote gone and caption_uk present", cols)
			}
			if idx := indexSet(t, conn, "tst_item"); !idx["uidx_tstitm_code"] || !idx["uidx_tstitm_ext"] {
				t.Errorf("tst_item indexes %v: want UIDX_TSTITM_CODE and UIDX_TSTITM_EXT", idx)
			}
			// The new defaults and constraints work on the migrated table.
			mustExec(t, conn.Write, `INSERT INTO tst_item (ID, code, title, weight, mainCategory) VALUES (3, 'C3', 'Three', 3, 200)`)
			if got := queryStrings(t, conn.Write, `SELECT coalesce(status, '-') FROM tst_item WHERE ID = 3`); got[0] != "open" {
				t.Errorf("default of status = %q, want open", got[0])
			}
			if _, err := conn.Write.ExecContext(ctx, `INSERT INTO tst_item (ID, code, title, weight, mainCategory) VALUES (4, 'C4', 'Four', 4, 999)`); err == nil {
				t.Error("a row referencing a missing category was accepted: the foreign key of mainCategory is missing")
			}
			if _, err := conn.Write.ExecContext(ctx, `INSERT INTO tst_item (ID, code, title, weight, mainCategory) VALUES (5, 'A1', 'Dup', 5, 100)`); err == nil {
				t.Error("a duplicate code was accepted: the unique index of code is missing")
			}
			if got := queryStrings(t, conn.Write, `SELECT code, CAST(flag AS VARCHAR(1)), CAST(size AS VARCHAR(2)) FROM tst_box`); got[0] != "box|1|7" {
				t.Errorf("tst_box row %v, want box|1|7 (new columns take their defaults)", got)
			}
			if fks := fkSet(t, conn, "tst_box"); !fks["holder>tst_category"] {
				t.Errorf("tst_box foreign keys %v: want holder>tst_category", fks)
			}
			if idx := indexSet(t, conn, "tst_box"); idx["idx_tstbox_old"] || !idx["idx_tstbox_new"] || !idx["idx_tstbox_holder"] {
				t.Errorf("tst_box indexes %v: want IDX_TSTBOX_NEW and IDX_TSTBOX_HOLDER, not IDX_TSTBOX_OLD", idx)
			}
			if _, err := conn.Write.ExecContext(ctx, `UPDATE tst_box SET flag = 2`); err == nil {
				t.Error("tst_box.flag accepted 2: the Boolean check is missing")
			}
			if cols := columnSet(t, conn, "foreign_stuff"); !cols["x"] {
				t.Error("the unknown table foreign_stuff was changed")
			}
		})
	}
}

// checkSafeScript: Script(false) shows the destructive statements only as comments.
func checkSafeScript(t *testing.T, p *migrate.Plan) {
	t.Helper()
	lossy := map[string]bool{} // the first line of every destructive statement
	for _, s := range p.Destructive() {
		first, _, _ := strings.Cut(s.SQL, "\n")
		lossy[strings.TrimSuffix(first, ";")] = true
	}
	safe := p.Script(false)
	if !strings.Contains(safe, "-- DESTRUCTIVE, left out: ") {
		t.Errorf("Script(false) does not mark the destructive statements:\n%s", safe)
	}
	for _, line := range strings.Split(safe, "\n") {
		if !strings.HasPrefix(line, "--") && lossy[strings.TrimSuffix(line, ";")] {
			t.Errorf("Script(false) runs destructive SQL: %s", line)
		}
	}
}

func hasWarning(p *migrate.Plan, sub string) bool {
	for _, w := range p.Warnings {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}

func whys(ss []migrate.Statement) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString(s.Why + "\n")
	}
	return b.String()
}

func mustExec(t testing.TB, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// queryStrings returns each row as its columns joined with "|".
func queryStrings(t testing.TB, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = v.String
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// columnSet, indexSet and fkSet read the catalogue directly, independently of migrate's
// own inspection; names are lower case.
func columnSet(t testing.TB, c *conn, table string) map[string]bool {
	q := `SELECT lower(name) FROM pragma_table_info(?)`
	if c.Dialect.Name() == storetest.PostgreSQL {
		q = `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = lower($1)`
	}
	return set(queryStrings(t, c.Write, q, table))
}

func indexSet(t testing.TB, c *conn, table string) map[string]bool {
	q := `SELECT lower(name) FROM pragma_index_list(?)`
	if c.Dialect.Name() == storetest.PostgreSQL {
		q = `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = lower($1)`
	}
	return set(queryStrings(t, c.Write, q, table))
}

// fkSet lists foreign keys as "column>table".
func fkSet(t testing.TB, c *conn, table string) map[string]bool {
	q := `SELECT lower("from") || '>' || lower("table") FROM pragma_foreign_key_list(?)`
	if c.Dialect.Name() == storetest.PostgreSQL {
		q = `SELECT a.attname || '>' || r.relname FROM pg_constraint con
			JOIN pg_class t ON t.oid = con.conrelid JOIN pg_class r ON r.oid = con.confrelid
			JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
			WHERE con.contype = 'f' AND t.relname = lower($1) AND t.relnamespace = current_schema()::regnamespace`
	}
	return set(queryStrings(t, c.Write, q, table))
}

func set(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}
