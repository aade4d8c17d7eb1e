package ubql_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/dialect"
	"github.com/ubgo/ubgo/store/storetest"
	"github.com/ubgo/ubgo/ubql"
)

// The fixture tables, written by hand (the migration package is not used here). {DT},
// {FLOAT} and {JSON} are the dialect's column types. tst_dept.country has no foreign key
// on purpose: department 12 points to a country that does not exist, which makes INNER
// joins visible.
var fixtureDDL = []string{
	`CREATE TABLE ubm_enum (ID BIGINT NOT NULL PRIMARY KEY, eGroup VARCHAR(32) NOT NULL, code VARCHAR(32) NOT NULL,
		name VARCHAR(255), name_uk VARCHAR(255), sortOrder INTEGER)`,
	`CREATE TABLE tst_country (ID BIGINT NOT NULL PRIMARY KEY, code VARCHAR(10) NOT NULL, caption VARCHAR(100), caption_uk VARCHAR(100))`,
	`CREATE TABLE tst_dept (ID BIGINT NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL, country BIGINT NOT NULL)`,
	`CREATE TABLE tst_tag (ID BIGINT NOT NULL PRIMARY KEY, code VARCHAR(20) NOT NULL)`,
	`CREATE TABLE tst_person (ID BIGINT NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL, fullName VARCHAR(200),
		fullName_uk VARCHAR(200), dept BIGINT NOT NULL REFERENCES tst_dept(ID), manager BIGINT REFERENCES tst_person(ID),
		active SMALLINT NOT NULL DEFAULT 0, birthday {DT}, salary {FLOAT}, bio TEXT, props {JSON}, status VARCHAR(32))`,
	`CREATE TABLE tst_person_tags (sourceID BIGINT NOT NULL REFERENCES tst_person(ID), destID BIGINT NOT NULL REFERENCES tst_tag(ID),
		PRIMARY KEY (sourceID, destID))`,
	`CREATE TABLE tst_note (ID BIGINT NOT NULL PRIMARY KEY, person BIGINT NOT NULL REFERENCES tst_person(ID), text VARCHAR(200),
		noteDate {DT}, mi_deleteDate {DT} NOT NULL, mi_deleteUser BIGINT)`,
}

var ddlTypes = map[string]*strings.Replacer{
	dialect.SQLite3:    strings.NewReplacer("{DT}", "DATETIME", "{FLOAT}", "FLOAT(19, 6)", "{JSON}", "JSON"),
	dialect.PostgreSQL: strings.NewReplacer("{DT}", "TIMESTAMP", "{FLOAT}", "NUMERIC(19, 6)", "{JSON}", "JSONB"),
}

// fixtureRows are the rows of the fixture; "T:" marks a time, bound with FormatTime.
var fixtureRows = []struct {
	table string
	rows  [][]any
}{
	{"ubm_enum (ID, eGroup, code, name, name_uk, sortOrder)", [][]any{
		{1, "PERSON_STATUS", "A", "Active", "Активний", 1},
		{2, "PERSON_STATUS", "F", "Fired", "Звільнений", 2},
		{3, "OTHER", "A", "Other A", "Інше", 1}, // same code, other group: must not match
	}},
	{"tst_country (ID, code, caption, caption_uk)", [][]any{{1, "UA", "Ukraine", "Україна"}, {2, "PL", "Poland", nil}}},
	{"tst_dept (ID, name, country)", [][]any{{10, "Dev", 1}, {11, "Sales", 2}, {12, "Empty", 99}}},
	{"tst_tag (ID, code)", [][]any{{100, "go"}, {101, "sql"}, {102, "js"}}},
	{"tst_person (ID, name, fullName, fullName_uk, dept, manager, active, birthday, salary, bio, props, status)", [][]any{
		{1, "admin", "Admin User", "Адмін", 10, nil, 1, "T:1980-01-15T10:00:00.000Z", 1000.5, "likes go", `{"a":1}`, "A"},
		{2, "alice", "Alice Smith", "Аліса", 10, 1, 1, "T:1990-06-30T00:00:00.000Z", 2000.0, nil, nil, "A"},
		{3, "bob", "Bob O'Brien", nil, 11, 1, 0, nil, nil, "sql fan", `{"b":[1,2]}`, "F"},
		{4, "Carol_100%", "Carol", "Кароль", 11, 2, 1, "T:2000-02-29T23:59:59.999Z", 1500.25, nil, nil, nil},
		{5, "' OR 1=1 --", "injection", nil, 12, 3, 0, nil, 10.0, nil, nil, "X"},
	}},
	{"tst_person_tags (sourceID, destID)", [][]any{{1, 100}, {1, 101}, {2, 101}, {4, 102}, {4, 100}}},
	{"tst_note (ID, person, text, noteDate, mi_deleteDate, mi_deleteUser)", [][]any{
		{1, 1, "note a", "T:2024-01-01T00:00:00.000Z", "T:9999-12-31T00:00:00.000Z", nil},
		{2, 3, "note b", "T:2024-01-02T00:00:00.000Z", "T:2024-02-01T00:00:00.000Z", 1},
		{3, 2, "note c", "T:2024-01-03T00:00:00.000Z", "T:9999-12-31T00:00:00.000Z", nil},
	}},
}

type fixture struct {
	conn *store.Conn
	comp *ubql.Compiler
}

func openFixture(t *testing.T, dialectName string) *fixture {
	t.Helper()
	ctx := context.Background()
	conn, err := store.OpenConn(ctx, storetest.Connection(t, dialectName, "en", "uk"), store.ConnOptions{DefaultLang: "en", Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	for _, ddl := range fixtureDDL {
		if _, err := conn.Write.ExecContext(ctx, ddlTypes[dialectName].Replace(ddl)); err != nil {
			t.Fatalf("%s: %v", ddl, err)
		}
	}
	for _, tr := range fixtureRows {
		for _, row := range tr.rows {
			ph := make([]string, len(row))
			args := make([]any, len(row))
			for i, v := range row {
				ph[i] = conn.Dialect.Placeholder(i + 1)
				args[i] = v
				if s, ok := v.(string); ok && strings.HasPrefix(s, "T:") {
					tm, err := time.Parse(dialect.TimeFormat, s[2:])
					if err != nil {
						t.Fatal(err)
					}
					args[i] = conn.Dialect.FormatTime(tm)
				}
			}
			q := "INSERT INTO " + tr.table + " VALUES (" + strings.Join(ph, ", ") + ")"
			if _, err := conn.Write.ExecContext(ctx, q, args...); err != nil {
				t.Fatalf("%s %v: %v", q, row, err)
			}
		}
	}
	return &fixture{conn: conn, comp: ubql.NewCompiler(testDomain(t))}
}

func (f *fixture) options(lang string) ubql.CompileOptions {
	return ubql.CompileOptions{Dialect: f.conn.Dialect, Lang: lang, DefaultLang: "en", Langs: f.conn.Langs, External: true}
}

// run compiles and executes req and returns the rows, normalized by column type, and the
// total (-1 without totalRequired).
func (f *fixture) run(t *testing.T, req *ubql.Request, lang string) ([][]any, int64, error) {
	t.Helper()
	s, err := f.comp.Select(req, f.options(lang))
	if err != nil {
		return nil, -1, err
	}
	ctx := context.Background()
	rows, err := f.conn.Read.QueryContext(ctx, s.SQL, s.Args...)
	if err != nil {
		t.Fatalf("query failed: %v\nSQL: %s\nargs: %#v", err, s.SQL, s.Args)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		cells := make([]any, len(s.Columns))
		ptrs := make([]any, len(cells))
		for i := range cells {
			ptrs[i] = &cells[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, c := range s.Columns {
			cells[i] = normalizeCell(t, cells[i], c.Type)
		}
		out = append(out, cells)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%v\nSQL: %s", err, s.SQL)
	}
	total := int64(-1)
	if s.CountSQL != "" {
		if err := f.conn.Read.QueryRowContext(ctx, s.CountSQL, s.CountArgs...).Scan(&total); err != nil {
			t.Fatalf("count failed: %v\nSQL: %s\nargs: %#v", err, s.CountSQL, s.CountArgs)
		}
	}
	return out, total, nil
}

// normalizeCell brings a scanned value to the form a response would carry, the way the
// store reads a column of type typ.
func normalizeCell(t *testing.T, v any, typ domain.DataType) any {
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	if v == nil {
		return nil
	}
	switch typ {
	case domain.Float, domain.Currency:
		switch x := v.(type) {
		case string:
			f, err := strconv.ParseFloat(x, 64)
			if err != nil {
				t.Fatalf("float column holds %q", x)
			}
			return f
		case int64:
			return float64(x)
		}
	case domain.DateTime, domain.Date:
		switch x := v.(type) {
		case time.Time:
			return x.UTC().Format(dialect.TimeFormat)
		case string:
			tm, err := dialect.ParseTime(x)
			if err != nil {
				t.Fatalf("time column holds %q", x)
			}
			return tm.Format(dialect.TimeFormat)
		}
	case domain.JSON:
		var x any
		if err := json.Unmarshal([]byte(fmt.Sprint(v)), &x); err != nil {
			t.Fatalf("Json column holds %v", v)
		}
		b, _ := json.Marshal(x)
		return string(b)
	case domain.BigInt, domain.Int, domain.ID, domain.EntityT, domain.Boolean:
		if s, ok := v.(string); ok {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				t.Fatalf("integer column holds %q", s)
			}
			return n
		}
	}
	return v
}

func ids(rows [][]any) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, r := range rows {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, r[0])
	}
	b.WriteByte(']')
	return b.String()
}

func mustDecode(t testing.TB, s string) *ubql.Request {
	t.Helper()
	r, err := ubql.DecodeRequest([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return r
}

// where builds a select of ID from tst_person ordered by ID with the given whereList
// (JSON object text) and extra top-level members.
func where(wl string, extra ...string) string {
	s := `{"entity":"tst_person","method":"select","fieldList":["ID"]`
	if !strings.Contains(strings.Join(extra, ""), `"orderList"`) {
		s += `,"orderList":[{"expression":"ID","order":"asc"}]`
	}
	if wl != "" {
		s += `,"whereList":` + wl
	}
	for _, e := range extra {
		s += "," + e
	}
	return s + "}"
}

type execCase struct {
	name  string
	req   string
	lang  string
	want  string // fmt.Sprint of the rows, or of their first column with idsOnly
	ids   bool
	total int64 // expected __totalRecCount; 0: not checked
}

func execCases() []execCase {
	w := func(name, wl, want string, extra ...string) execCase {
		return execCase{name: name, req: where(wl, extra...), want: want, ids: true}
	}
	return []execCase{
		// conditions, v2 and v1 value forms
		w("equal", `{"c1":{"expression":"[name]","condition":"equal","value":"alice"}}`, "[2]"),
		w("equal v1", `{"c1":{"expression":"[name]","condition":"equal","values":{"name":"alice"}}}`, "[2]"),
		w("notEqual boolean", `{"c1":{"expression":"[active]","condition":"notEqual","value":"true"}}`, "[3 5]"),
		w("equal boolean true", `{"c1":{"expression":"[active]","condition":"equal","value":true}}`, "[1 2 4]"),
		w("equal boolean 0 v1", `{"c1":{"expression":"active","condition":"equal","values":{"a":0}}}`, "[3 5]"),
		w("more float", `{"c1":{"expression":"[salary]","condition":"more","value":1000.5}}`, "[2 4]"),
		w("moreEqual float", `{"c1":{"expression":"[salary]","condition":"moreEqual","value":1000.5}}`, "[1 2 4]"),
		w("less", `{"c1":{"expression":"[salary]","condition":"less","values":{"s":1000.5}}}`, "[5]"),
		w("lessEqual id from string", `{"c1":{"expression":"[ID]","condition":"lessEqual","value":"2"}}`, "[1 2]"),
		w("moreEqual date", `{"c1":{"expression":"[birthday]","condition":"moreEqual","value":"1990-06-30T00:00:00Z"}}`, "[2 4]"),
		w("less maxdate", `{"c1":{"expression":"[birthday]","condition":"less","value":"#maxdate"}}`, "[1 2 4]"),
		w("equal date with ms", `{"c1":{"expression":"[birthday]","condition":"equal","value":"2000-02-29T23:59:59.999Z"}}`, "[4]"),
		w("more date by a ms", `{"c1":{"expression":"[birthday]","condition":"more","value":"2000-02-29T23:59:59.998Z"}}`, "[4]"),
		w("like is case-insensitive", `{"c1":{"expression":"[fullName]","condition":"like","value":"SMITH"}}`, "[2]"),
		w("like a", `{"c1":{"expression":"[name]","condition":"like","value":"a"}}`, "[1 2 4]"),
		w("like escapes %", `{"c1":{"expression":"[name]","condition":"like","value":"%"}}`, "[4]"),
		w("like escapes _", `{"c1":{"expression":"[name]","condition":"like","value":"_"}}`, "[4]"),
		w("notLike v1", `{"c1":{"expression":"[name]","condition":"notLike","values":{"v":"a"}}}`, "[3 5]"),
		w("startWith", `{"c1":{"expression":"[name]","condition":"startWith","value":"A"}}`, "[1 2]"),
		w("notStartWith", `{"c1":{"expression":"[name]","condition":"notStartWith","value":"a"}}`, "[3 4 5]"),
		w("like on Text", `{"c1":{"expression":"[bio]","condition":"like","value":"GO"}}`, "[1]"),
		w("like on Json", `{"c1":{"expression":"[props]","condition":"like","value":"b"}}`, "[3]"),
		w("isNull", `{"c1":{"expression":"[manager]","condition":"isNull"}}`, "[1]"),
		w("notIsNull", `{"c1":{"expression":"[status]","condition":"notIsNull"}}`, "[1 2 3 5]"),
		w("equal null is isNull", `{"c1":{"expression":"[manager]","condition":"equal","value":null}}`, "[1]"),
		w("notEqual null is notIsNull", `{"c1":{"expression":"[status]","condition":"notEqual","value":null}}`, "[1 2 3 5]"),
		w("in numbers", `{"c1":{"expression":"[ID]","condition":"in","value":[1,3]}}`, "[1 3]"),
		w("in numeric strings", `{"c1":{"expression":"[ID]","condition":"in","value":["1","3"]}}`, "[1 3]"),
		w("in strings", `{"c1":{"expression":"[name]","condition":"in","value":["bob","alice"]}}`, "[2 3]"),
		w("in v1", `{"c1":{"expression":"[ID]","condition":"in","values":{"ids":[2,4]}}}`, "[2 4]"),
		w("in scalar", `{"c1":{"expression":"[ID]","condition":"in","value":3}}`, "[3]"),
		w("in dates", `{"c1":{"expression":"[birthday]","condition":"in","value":["1980-01-15T10:00:00Z","1990-06-30"]}}`, "[1 2]"),
		w("notIn", `{"c1":{"expression":"[ID]","condition":"notIn","value":[1,3]}}`, "[2 4 5]"),
		w("in empty", `{"c1":{"expression":"[ID]","condition":"in","value":[]}}`, "[]"),
		w("notIn empty", `{"c1":{"expression":"[ID]","condition":"notIn","value":[]}}`, "[1 2 3 4 5]"),
		w("top-level ID", "", "[3]", `"ID":3`),
		w("top-level ID and where", `{"c1":{"expression":"[active]","condition":"equal","value":1}}`, "[]", `"ID":"3"`),
		w("mapped attribute", `{"c1":{"expression":"[nameLen]","condition":"equal","value":3}}`, "[3]"),
		// joins
		{name: "LEFT join keeps a null FK", req: `{"entity":"tst_person","method":"select","fieldList":["ID","manager.name"],"orderList":[{"expression":"ID"}]}`,
			want: "[[1 <nil>] [2 admin] [3 admin] [4 alice] [5 bob]]"},
		{name: "INNER join drops a dangling FK", req: `{"entity":"tst_person","method":"select","fieldList":["ID","dept.country.code"],"orderList":[{"expression":"ID"}]}`,
			want: "[[1 UA] [2 UA] [3 PL] [4 PL]]"},
		w("two-level LEFT chain", `{"c1":{"expression":"[manager.manager.name]","condition":"equal","value":"admin"}}`, "[4 5]"),
		{name: "enum join", req: `{"entity":"tst_person","method":"select","fieldList":["ID","status","status.name"],"orderList":[{"expression":"ID"}]}`,
			want: "[[1 A Active] [2 A Active] [3 F Fired] [4 <nil> <nil>] [5 X <nil>]]"},
		{name: "enum join uk", lang: "uk", req: `{"entity":"tst_person","method":"select","fieldList":["ID","status.name"],"orderList":[{"expression":"ID"}]}`,
			want: "[[1 Активний] [2 Активний] [3 Звільнений] [4 <nil>] [5 <nil>]]"},
		w("where on enum name", `{"c1":{"expression":"[status.name]","condition":"equal","value":"Fired"}}`, "[3]"),
		// Many
		{name: "many value", req: `{"entity":"tst_person","method":"select","fieldList":["ID","tags"],"orderList":[{"expression":"ID"}]}`,
			want: "[[1 100,101] [2 101] [3 <nil>] [4 100,102] [5 <nil>]]"},
		w("many in", `{"c1":{"expression":"[tags]","condition":"in","value":[100]}}`, "[1 4]"),
		w("many notIn", `{"c1":{"expression":"[tags]","condition":"notIn","value":[100]}}`, "[2 3 5]"),
		w("many isNull", `{"c1":{"expression":"[tags]","condition":"isNull"}}`, "[3 5]"),
		w("many notIsNull", `{"c1":{"expression":"[tags]","condition":"notIsNull"}}`, "[1 2 4]"),
		w("many equal", `{"c1":{"expression":"[tags]","condition":"equal","value":"102"}}`, "[4]"),
		w("many like", `{"c1":{"expression":"[tags]","condition":"like","value":"101"}}`, "[1 2]"),
		// languages
		{name: "multi-lang default", req: `{"entity":"tst_person","method":"select","fieldList":["ID","fullName"],"orderList":[{"expression":"ID"}]}`,
			want: "[[1 Admin User] [2 Alice Smith] [3 Bob O'Brien] [4 Carol] [5 injection]]"},
		{name: "multi-lang uk", lang: "uk", req: `{"entity":"tst_person","method":"select","fieldList":["ID","fullName","fullName_en^"],"orderList":[{"expression":"ID"}]}`,
			want: "[[1 Адмін Admin User] [2 Аліса Alice Smith] [3 <nil> Bob O'Brien] [4 Кароль Carol] [5 <nil> injection]]"},
		{name: "explicit uk column in en", req: `{"entity":"tst_person","method":"select","fieldList":["ID","[fullName_uk^]"],"whereList":{"c1":{"expression":"[fullName_uk^]","condition":"notIsNull"}},"orderList":[{"expression":"ID"}]}`,
			want: "[[1 Адмін] [2 Аліса] [4 Кароль]]"},
		{name: "joined multi-lang uk", lang: "uk", req: `{"entity":"tst_person","method":"select","fieldList":["ID","dept.country.caption"],"orderList":[{"expression":"ID"}]}`,
			want: "[[1 Україна] [2 Україна] [3 <nil>] [4 <nil>]]"},
		{name: "unsupported language falls back", lang: "de", req: `{"entity":"tst_person","method":"select","fieldList":["ID","fullName"],"whereList":{"c1":{"expression":"[ID]","condition":"equal","value":1}}}`,
			want: "[[1 Admin User]]"},
		{name: "where in uk", lang: "uk", req: where(`{"c1":{"expression":"[fullName]","condition":"like","value":"Аліс"}}`), want: "[2]", ids: true},
		// paging and totals
		w("page", "", "[2 3]", `"options":{"start":1,"limit":2,"totalRequired":true}`),
		w("offset only", "", "[4 5]", `"options":{"start":3}`),
		w("limit only", "", "[1 2]", `"options":{"limit":2}`),
		{name: "total with paging", req: where(`{"c1":{"expression":"[active]","condition":"equal","value":1}}`, `"options":{"start":0,"limit":1,"totalRequired":true}`),
			want: "[1]", ids: true, total: 3},
		{name: "total without paging", req: where("", `"options":{"totalRequired":true}`), want: "[1 2 3 4 5]", ids: true, total: 5},
		{name: "total with groupList", req: `{"entity":"tst_person","method":"select","fieldList":["dept","COUNT([ID])"],"groupList":["dept"],
			"orderList":[{"expression":"dept"}],"options":{"limit":2,"totalRequired":true}}`, want: "[[10 2] [11 2]]", total: 3},
		{name: "aggregates", req: `{"entity":"tst_person","method":"select","fieldList":["dept.name","COUNT([ID])","SUM([salary])","MAX([birthday])","MIN([ID])","AVG([salary])"],
			"groupList":["dept.name"],"orderList":[{"expression":"dept.name"}]}`,
			want: "[[Dev 2 3000.5 1990-06-30T00:00:00.000Z 1 1500.25] [Empty 1 10 <nil> 5 10] [Sales 2 1500.25 2000-02-29T23:59:59.999Z 3 1500.25]]"},
		{name: "aggregate without group with total", req: `{"entity":"tst_person","method":"select","fieldList":["COUNT([ID])"],"options":{"totalRequired":true}}`,
			want: "[[5]]", total: 1},
		// ordering
		w("order desc by salary", `{"c1":{"expression":"[salary]","condition":"notIsNull"}}`, "[2 4 1 5]", `"orderList":{"0":{"expression":"salary","order":"desc"}}`),
		{name: "order by expression then ID", req: `{"entity":"tst_person","method":"select","fieldList":["ID"],"orderList":{"1":{"expression":"ID","order":"asc"},"0":{"expression":"LENGTH([name])","order":"desc"}}}`,
			want: "[5 4 1 2 3]", ids: true},
		// logical predicates, joinAs
		w("logicalPredicates OR", `{"c1":{"expression":"[name]","condition":"equal","value":"alice"},"c2":{"expression":"[name]","condition":"equal","value":"bob"}}`,
			"[2 3]", `"logicalPredicates":["([c1]) OR ([c2])"]`),
		w("logicalPredicates with a plain item", `{"c1":{"expression":"[name]","condition":"equal","value":"alice"},"c2":{"expression":"[name]","condition":"equal","value":"bob"},"c3":{"expression":"[active]","condition":"equal","value":1}}`,
			"[2]", `"logicalPredicates":["[c1] OR [c2]"]`),
		w("logicalPredicates NOT", `{"c1":{"expression":"[ID]","condition":"in","value":[1,2]},"c2":{"expression":"[ID]","condition":"equal","value":5}}`,
			"[3 4]", `"logicalPredicates":["NOT ([c1] OR [c2])"]`),
		{name: "joinAs keeps rows of a LEFT join", req: `{"entity":"tst_person","method":"select","fieldList":["ID","manager.name"],"orderList":[{"expression":"ID"}],
			"whereList":{"c1":{"expression":"[manager.name]","condition":"equal","value":"admin"}},"joinAs":["c1"]}`,
			want: "[[1 <nil>] [2 admin] [3 admin] [4 <nil>] [5 <nil>]]"},
		{name: "the same without joinAs filters", req: `{"entity":"tst_person","method":"select","fieldList":["ID","manager.name"],"orderList":[{"expression":"ID"}],
			"whereList":{"c1":{"expression":"[manager.name]","condition":"equal","value":"admin"}}}`,
			want: "[[2 admin] [3 admin]]"},
		// subqueries
		w("exists with correlation", `{"c1":{"expression":"","condition":"subquery","subQueryType":"exists","value":{"entity":"tst_note","method":"select",
			"whereList":{"c1":{"expression":"[person]=[{master}.ID]","condition":"custom"}}}}}`, "[1 2 3]"),
		w("exists over alive notes", `{"c1":{"expression":"","condition":"subquery","subQueryType":"exists","value":{"entity":"tst_note","method":"select",
			"whereList":{"c1":{"expression":"[person]=[{master}.ID]","condition":"custom"},"__sd":{"expression":"[mi_deleteDate]","condition":"equal","value":"#maxdate"}}}}}`, "[1 2]"),
		w("notExists", `{"c1":{"expression":"","condition":"subquery","subQueryType":"notExists","value":{"entity":"tst_note","method":"select",
			"whereList":{"c1":{"expression":"[person]=[{master}.ID]","condition":"custom"},"c2":{"expression":"[mi_deleteDate]","condition":"equal","value":"#maxdate"}}}}}`, "[3 4 5]"),
		w("in subquery", `{"c1":{"expression":"[ID]","condition":"subquery","subQueryType":"in","value":{"entity":"tst_note","method":"select","fieldList":["person"],
			"whereList":{"c1":{"expression":"[text]","condition":"like","value":"c"}}}}}`, "[2]"),
		w("notIn subquery v1", `{"c1":{"expression":"[ID]","condition":"subquery","subQueryType":"notIn","values":{"q":{"entity":"tst_note","method":"select","fieldList":["person"]}}}}`, "[4 5]"),
		w("subquery on a joined master attribute", `{"c1":{"expression":"","condition":"subquery","subQueryType":"exists","value":{"entity":"tst_person","method":"select",
			"whereList":{"c1":{"expression":"[ID]=[{master}.manager.manager]","condition":"custom"},"c2":{"expression":"[name]","condition":"equal","value":"admin"}}}}}`, "[4 5]"),
		// custom
		w("custom with named and inline params", `{"c1":{"expression":"[salary] > :min: AND [active] = :(1):","condition":"custom","value":{"min":1000}}}`, "[1 2 4]"),
		w("custom v1", `{"c1":{"expression":"[salary] > :min:","condition":"custom","values":{"min":1500}}}`, "[2 4]"),
		w("custom with a literal", `{"c1":{"expression":"LOWER([name]) = 'bob'","condition":"custom"}}`, "[3]"),
		w("custom IN list", `{"c1":{"expression":"[ID] IN (1, 2) OR [ID] = 5","condition":"custom"},"c2":{"expression":"[active]","condition":"equal","value":0}}`, "[5]"),
		w("custom YEAR", `{"c1":{"expression":"YEAR([birthday]) = :y:","condition":"custom","value":{"y":2000}}}`, "[4]"),
		// functions
		{name: "date parts", req: `{"entity":"tst_person","method":"select","fieldList":["ID","YEAR([birthday])","MONTH([birthday])","DAY([birthday])"],"ID":4}`,
			want: "[[4 2000 2 29]]"},
		{name: "functions", req: `{"entity":"tst_person","method":"select","fieldList":["ID","COALESCE([salary], 0)","UPPER([name])","LENGTH([name])","ROUND([salary], 0)",
			"FLOOR([salary])","CEILING([salary])","CAST([ID] AS VARCHAR(10))","[name] || '!'","[salary] * 2 + 1","nameLen"],"ID":4}`,
			want: "[[4 1500.25 CAROL_100% 10 1500 1500 1501 4 Carol_100%! 3001.5 10]]"},
		{name: "coalesce of null", req: `{"entity":"tst_person","method":"select","fieldList":["ID","COALESCE([salary], 0)"],"ID":3}`, want: "[[3 0]]"},
		{name: "json and text", req: `{"entity":"tst_person","method":"select","fieldList":["ID","props","bio"],"whereList":{"c1":{"expression":"[props]","condition":"notIsNull"}},"orderList":[{"expression":"ID"}]}`,
			want: `[[1 {"a":1} likes go] [3 {"b":[1,2]} sql fan]]`},
		{name: "asterisk", req: `{"entity":"tst_tag","method":"select","fieldList":["*"],"orderList":[{"expression":"ID"}]}`, want: "[[100 go] [101 sql] [102 js]]"},
		{name: "asterisk with Many", req: `{"entity":"tst_person","method":"select","fieldList":["*"],"ID":1}`,
			want: `[[1 admin Admin User 10 <nil> 1 1980-01-15T10:00:00.000Z 1000.5 likes go {"a":1} A 100,101 5]]`},
		// the store's safeDelete item
		{name: "safeDelete item", req: `{"entity":"tst_note","method":"select","fieldList":["ID","text"],"orderList":[{"expression":"ID"}],
			"whereList":{"__sd":{"expression":"[mi_deleteDate]","condition":"equal","value":"#maxdate"}}}`, want: "[[1 note a] [3 note c]]"},
		// injection attempts in values: bound, verbatim, matching nothing extra
		{name: "injection value equal", req: `{"entity":"tst_person","method":"select","fieldList":["ID","name"],"whereList":{"c1":{"expression":"[name]","condition":"equal","value":"' OR 1=1 --"}}}`,
			want: "[[5 ' OR 1=1 --]]"},
		w("injection value like", `{"c1":{"expression":"[name]","condition":"like","value":"1=1 --"}}`, "[5]"),
		w("injection value drop", `{"c1":{"expression":"[name]","condition":"equal","value":"'; DROP TABLE tst_person;--"}}`, "[]"),
		w("injection value in custom param", `{"c1":{"expression":"[name] = :n:","condition":"custom","value":{"n":"x' OR '1'='1"}}}`, "[]"),
		w("injection value in list", `{"c1":{"expression":"[name]","condition":"in","value":["') OR 1=1 --","\"]) OR 1=1 --"]}}`, "[]"),
	}
}

func TestExecConformance(t *testing.T) {
	for _, dn := range storetest.Dialects {
		t.Run(dn, func(t *testing.T) {
			f := openFixture(t, dn)
			for _, tc := range execCases() {
				t.Run(tc.name, func(t *testing.T) {
					rows, total, err := f.run(t, mustDecode(t, tc.req), tc.lang)
					if err != nil {
						t.Fatal(err)
					}
					got := fmt.Sprint(rows)
					if tc.ids {
						got = ids(rows)
					}
					if rows == nil && !tc.ids {
						got = "[]"
					}
					if got != tc.want {
						t.Errorf("rows\n got %s\nwant %s", got, tc.want)
					}
					if tc.total != 0 && total != tc.total {
						t.Errorf("total = %d, want %d", total, tc.total)
					}
					// The same request in the v1 form ("values": {name: operand}) gives the
					// same rows.
					if v1, ok := toV1(mustDecode(t, tc.req)); ok {
						rows1, _, err := f.run(t, v1, tc.lang)
						if err != nil {
							t.Fatalf("v1 form: %v", err)
						}
						if fmt.Sprint(rows1) != fmt.Sprint(rows) {
							t.Errorf("v1 form gives %v, v2 gives %v", rows1, rows)
						}
					}
				})
			}
			t.Run("golden requests run", func(t *testing.T) {
				for _, g := range goldens {
					if _, _, err := f.run(t, mustDecode(t, g.req), g.lang); err != nil {
						t.Errorf("%s: %v", g.name, err)
					}
				}
			})
			t.Run("injection in identifiers", func(t *testing.T) { testIdentifierInjection(t, f) })
		})
	}
}

// toV1 rewrites the v2 operands of r's where items into the v1 form.
func toV1(r *ubql.Request) (*ubql.Request, bool) {
	changed := false
	for i := range r.WhereList {
		w := &r.WhereList[i]
		if !w.HasValue || w.SubQuery != nil {
			continue
		}
		if params, ok := w.Value.(map[string]any); ok && w.Condition == ubql.Custom {
			w.Values = params // custom: "values" holds the named parameters
		} else {
			w.Values = map[string]any{"v": w.Value}
		}
		w.HasValue, changed = false, true
	}
	return r, changed
}

// testIdentifierInjection sends SQL where only identifiers may stand; every attempt must be
// a typed error, and the tables must be intact afterwards.
func testIdentifierInjection(t *testing.T, f *fixture) {
	cases := []struct {
		name, req string
		code      int
		status    int
	}{
		{"semicolon in where expression", where(`{"c1":{"expression":"name; drop table tst_note","condition":"equal","value":"x"}}`), ubql.CodeInvalidWhereList, 400},
		{"breaking out of brackets", where(`{"c1":{"expression":"[name]) OR (1=1","condition":"equal","value":"x"}}`), ubql.CodeInvalidWhereList, 400},
		{"sub-select in orderList", where("", `"orderList":[{"expression":"ID desc, (select 1)","order":"asc"}]`), ubql.CodeAccessDeny, 403},
		{"logic in fieldList", `{"entity":"tst_person","method":"select","fieldList":["beta and 1=1"]}`, ubql.CodeAccessDeny, 403},
		{"unknown attribute in fieldList", `{"entity":"tst_person","method":"select","fieldList":["beta"]}`, ubql.CodeAttributeNotExist, 400},
		{"unknown attribute in a path", `{"entity":"tst_person","method":"select","fieldList":["dept.beta"]}`, ubql.CodeAttributeNotExist, 400},
		{"unknown attribute in where", where(`{"c1":{"expression":"[beta]","condition":"equal","value":1}}`), ubql.CodeAttributeNotExist, 400},
		{"logic on a real attribute in fieldList", `{"entity":"tst_person","method":"select","fieldList":["name and 1=1"]}`, ubql.CodeAccessDeny, 403},
		{"sub-select in fieldList", `{"entity":"tst_person","method":"select","fieldList":["(select name from tst_person)"]}`, ubql.CodeAccessDeny, 403},
		{"sub-select in custom", where(`{"c1":{"expression":"[ID] IN (SELECT ID FROM tst_person)","condition":"custom"}}`), ubql.CodeInvalidWhereList, 400},
		{"comment in custom", where(`{"c1":{"expression":"[ID] = 1 -- ","condition":"custom"}}`), ubql.CodeInvalidWhereList, 400},
		{"block comment in fieldList", `{"entity":"tst_person","method":"select","fieldList":["ID /* x */"]}`, ubql.CodeAccessDeny, 403},
		{"unknown function in fieldList", `{"entity":"tst_person","method":"select","fieldList":["pg_sleep(10)"]}`, ubql.CodeAccessDeny, 403},
		{"unknown function in where", where(`{"c1":{"expression":"sqlite_version()","condition":"equal","value":"x"}}`), ubql.CodeInvalidWhereList, 400},
		{"comma in an attribute name", `{"entity":"tst_person","method":"select","fieldList":["name,ID"]}`, ubql.CodeInvalidData, 400},
		{"quoted identifier", `{"entity":"tst_person","method":"select","fieldList":["\"name\""]}`, ubql.CodeInvalidData, 400},
		{"groupList expression", `{"entity":"tst_person","method":"select","fieldList":["COUNT([ID])"],"groupList":["name; delete from tst_person"]}`, ubql.CodeAccessDeny, 403},
		{"predicate injection", where(`{"c1":{"expression":"[ID]","condition":"equal","value":1}}`, `"logicalPredicates":["[c1] OR 1=1"]`), ubql.CodeInvalidWhereList, 400},
		{"entity name", `{"entity":"tst_person; drop table tst_note","method":"select","fieldList":["ID"]}`, ubql.CodeEntityNotExist, 400},
		{"order direction", where("", `"orderList":[{"expression":"ID","order":"desc; drop table tst_note"}]`), ubql.CodeInvalidData, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			req, derr := ubql.DecodeRequest([]byte(tc.req))
			if derr != nil {
				err = derr
			} else {
				_, _, err = f.run(t, req, "")
			}
			e, ok := err.(*ubql.Error)
			if !ok {
				t.Fatalf("err = %v (%T), want *ubql.Error", err, err)
			}
			if e.Code != tc.code || e.Status != tc.status {
				t.Errorf("code %d status %d, want %d %d: %v", e.Code, e.Status, tc.code, tc.status, e)
			}
			if strings.Contains(strings.ToUpper(e.Error()), " FROM ") {
				t.Errorf("the message shows SQL: %v", e)
			}
		})
	}
	for table, want := range map[string]int{"tst_person": 5, "tst_note": 3, "tst_person_tags": 5} {
		var n int
		if err := f.conn.Read.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil || n != want {
			t.Errorf("%s: %d rows (%v), want %d", table, n, err, want)
		}
	}
}
