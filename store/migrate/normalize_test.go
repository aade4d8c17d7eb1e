package migrate

import (
	"strings"
	"testing"
)

func TestSameType(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"VARCHAR(32)", "character varying(32)", true},
		{"VARCHAR(32)", "character varying(64)", false},
		{"NUMERIC(19, 2)", "numeric(19,2)", true},
		{"FLOAT(19, 6)", "FLOAT(19,6)", true},
		{"TIMESTAMP", "timestamp without time zone", true},
		{"BIGINT", "int8", true},
		{"INTEGER", "int4", true},
		{"SMALLINT", "integer", false},
		{"JSONB", "jsonb", true},
		{"JSON", "JSONB", false},
	}
	for _, tc := range tests {
		if got := sameType(tc.a, tc.b); got != tc.same {
			t.Errorf("sameType(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}

func TestClassifyTypeChange(t *testing.T) {
	tests := []struct {
		from, to string
		lossy    bool
		truncate int
	}{
		{"VARCHAR(50)", "VARCHAR(200)", false, 0},
		{"character varying(100)", "VARCHAR(10)", true, 10},
		{"VARCHAR(100)", "TEXT", false, 0},
		{"TEXT", "VARCHAR(4000)", true, 4000},
		{"INTEGER", "BIGINT", false, 0},
		{"BIGINT", "INTEGER", true, 0},
		{"NUMERIC(19, 2)", "NUMERIC(21, 4)", false, 0},
		{"NUMERIC(19, 2)", "NUMERIC(19, 6)", true, 0}, // fewer integer digits
		{"NUMERIC(19, 6)", "NUMERIC(19, 2)", true, 0},
		{"INTEGER", "NUMERIC(19, 2)", false, 0},
		{"BIGINT", "NUMERIC(19, 2)", true, 0},
		{"VARCHAR(32)", "BIGINT", true, 0},
		{"DATETIME", "TIMESTAMP", false, 0},
	}
	for _, tc := range tests {
		ch := classifyTypeChange(parseType(tc.from), parseType(tc.to))
		if sameType(tc.from, tc.to) {
			continue
		}
		if ch.Lossy != tc.lossy || ch.Truncate != tc.truncate || ch.Lossy && ch.Why == "" {
			t.Errorf("%s → %s: %+v, want lossy=%v truncate=%d", tc.from, tc.to, ch, tc.lossy, tc.truncate)
		}
	}
}

func TestNormDefault(t *testing.T) {
	same := [][2]string{
		{"3", "3"},
		{"-1", "'-1'::integer"},
		{"1.5", "1.50"},
		{"'NEW'", "'NEW'::character varying"},
		{"'it''s'", "'it''s'::character varying"},
		{"timezone('utc'::text, now())", "timezone('utc'::text, now())"},
		{"'9999-12-31 00:00:00'::timestamp without time zone", "'9999-12-31 00:00:00'::timestamp without time zone"},
		{"'2020-01-01'", "'2020-01-01 00:00:00'::timestamp without time zone"},
		{"strftime('%Y-%m-%dT%H:%M:%fZ','now')", "(strftime('%Y-%m-%dT%H:%M:%fZ','now'))"},
		{"'{}'", "'{}'::jsonb"},
		{"", "NULL"},
	}
	for _, p := range same {
		if a, b := normDefault(p[0]), normDefault(p[1]); a != b {
			t.Errorf("normDefault(%q) = %q, normDefault(%q) = %q; want equal", p[0], a, p[1], b)
		}
	}
	different := [][2]string{{"'new'", "'open'"}, {"0", "1"}, {"'1'", "'01'"}, {"", "0"}}
	for _, p := range different {
		if normDefault(p[0]) == normDefault(p[1]) {
			t.Errorf("normDefault(%q) == normDefault(%q); want different", p[0], p[1])
		}
	}
}

func TestNormExpr(t *testing.T) {
	if a, b := normExpr("upper(code)"), normExpr(`upper((code)::text)`); a != b {
		t.Errorf("%q != %q", a, b)
	}
	if a, b := normExpr(`"order"`), normExpr("order"); a != b {
		t.Errorf("%q != %q", a, b)
	}
}

func TestFitName(t *testing.T) {
	long := "FK_" + strings.Repeat("A", 40) + "_" + strings.Repeat("B", 40)
	a, b := fitName(long, 63), fitName(long+"X", 63)
	if len(a) != 63 || len(b) != 63 || a == b || !strings.HasPrefix(a, "FK_AAA") {
		t.Errorf("fitName: %q and %q", a, b)
	}
	if fitName(long, 63) != a {
		t.Error("fitName is not deterministic")
	}
	if got := fitName("PK_X", 63); got != "PK_X" {
		t.Errorf("short name changed: %q", got)
	}
	if got := fkName("TSKTASK", "project", "TSKPRJ", 63); got != "FK_TSKTASK_PROJECT_REF_TSKPRJ" {
		t.Errorf("fkName = %q", got)
	}
	if got := fkName("ABCDEFGH", "someLongColumnName", "IJKLMNOP", 40); got != "FK_ABCDEFGH_SOMELONGCOLUMNNAME_IJKLMNOP" {
		t.Errorf("fkName without _REF = %q", got)
	}
}

func TestIndexTerms(t *testing.T) {
	got := indexTerms(`CREATE UNIQUE INDEX x ON "t" (code DESC, upper(name) ASC, coalesce(a, 'x,y'), b COLLATE NOCASE)`)
	want := []string{"code", "upper(name)", "coalesce(a, 'x,y')", "b"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("indexTerms = %q, want %q", got, want)
	}
}

func TestParseChecks(t *testing.T) {
	sql := `CREATE TABLE t (a SMALLINT NOT NULL CONSTRAINT CHK_A CHECK (a IN (0,1)), b INT, ` +
		`CONSTRAINT "CHK B" CHECK ((b > 0) AND (b < 10)), CHECK (b <> 5))`
	got := parseChecks(sql)
	if len(got) != 2 || got[0].Name != "CHK_A" || got[0].Expr != "a IN (0,1)" || got[1].Name != "CHK B" || got[1].Expr != "(b > 0) AND (b < 10)" {
		t.Errorf("parseChecks = %+v %+v", got[0], got[1])
	}
}
