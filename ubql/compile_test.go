package ubql_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ubgo/ubgo/store/dialect"
	"github.com/ubgo/ubgo/ubql"
)

func external() ubql.CompileOptions {
	return ubql.CompileOptions{Dialect: dialect.SQLite{}, Langs: []string{"en", "uk"}, External: true}
}

func internal() ubql.CompileOptions {
	o := external()
	o.External = false
	return o
}

// TestCompileErrors: every request here must fail with the given code, status and path.
func TestCompileErrors(t *testing.T) {
	sel := func(fields string, rest ...string) string {
		s := `{"entity":"tst_person","method":"select","fieldList":[` + fields + `]`
		for _, r := range rest {
			s += "," + r
		}
		return s + "}"
	}
	wl := func(items string, rest ...string) string {
		return sel(`"ID"`, append([]string{`"whereList":{` + items + `}`}, rest...)...)
	}
	deepParens := strings.Repeat("(", ubql.MaxExpressionDepth+1) + "[ID]" + strings.Repeat(")", ubql.MaxExpressionDepth+1)
	longIn := "[" + strings.Repeat("1,", ubql.MaxInList) + "1]"
	nested := `{"entity":"tst_note","method":"select","fieldList":["person"]}`
	for range ubql.MaxNesting - 1 {
		nested = `{"entity":"tst_note","method":"select","fieldList":["person"],"whereList":{"s":{"expression":"[person]","condition":"subquery","subQueryType":"in","value":` + nested + `}}}`
	}
	tests := []struct {
		name   string
		req    string
		opt    ubql.CompileOptions
		code   int
		status int
		path   string
		msg    string
	}{
		{"unknown entity", `{"entity":"nope","method":"select","fieldList":["ID"]}`, external(), ubql.CodeEntityNotExist, 400, "entity", `entity "nope" does not exist`},
		{"empty fieldList", sel(``), external(), ubql.CodeNoFieldList, 400, "fieldList", "fieldList is empty"},
		{"no fieldList", `{"entity":"tst_person","method":"select"}`, external(), ubql.CodeNoFieldList, 400, "fieldList", "empty"},
		{"asterisk mixed", sel(`"*","ID"`), external(), ubql.CodeInvalidData, 400, "fieldList.0", `"*" cannot be combined`},
		{"unknown attribute", sel(`"ID","nope"`), external(), ubql.CodeAttributeNotExist, 400, "fieldList.1", `attribute "nope" does not exist in entity tst_person`},
		{"path through a String", sel(`"name.x"`), external(), ubql.CodeInvalidData, 400, "fieldList.0", "not an Entity or Enum attribute"},
		{"path through a Many", sel(`"tags.code"`), external(), ubql.CodeInvalidData, 400, "fieldList.0", "must end the path"},
		{"path too long", sel(`"manager.manager.manager.manager.manager.manager.manager.name"`), external(), ubql.CodeInvalidData, 400, "fieldList.0", "MaxJoinDepth"},
		{"expression too long", sel(`"` + strings.Repeat("[ID] + ", 600) + `1"`), external(), ubql.CodeInvalidData, 400, "fieldList.0", "MaxExpressionLength"},
		{"expression too deep", sel(`"` + deepParens + `"`), external(), ubql.CodeInvalidData, 400, "fieldList.0", "MaxExpressionDepth"},
		{"sort a Text", sel(`"ID"`, `"orderList":[{"expression":"bio"}]`), external(), ubql.CodeInvalidData, 400, "orderList.0.expression", "type Text cannot be sorted"},
		{"sort a Many", sel(`"ID"`, `"orderList":[{"expression":"[tags]"}]`), external(), ubql.CodeInvalidData, 400, "orderList.0.expression", "type Many cannot be sorted"},
		{"field not grouped", sel(`"dept","name","COUNT([ID])"`, `"groupList":["dept"]`), external(), ubql.CodeInvalidData, 400, "fieldList.1", "must be in groupList"},
		{"aggregate without group", sel(`"name","COUNT([ID])"`), external(), ubql.CodeInvalidData, 400, "fieldList.0", "must be in groupList"},
		{"order not grouped", sel(`"dept"`, `"groupList":["dept"]`, `"orderList":[{"expression":"name"}]`), external(), ubql.CodeInvalidData, 400, "orderList.0.expression", "must be in groupList"},
		{"nested aggregate", sel(`"SUM(COUNT([ID]))"`), external(), ubql.CodeInvalidData, 400, "fieldList.0", "cannot be nested"},
		{"aggregate in where", wl(`"c1":{"expression":"COUNT([ID])","condition":"more","value":1}`), external(), ubql.CodeInvalidWhereList, 400, "whereList.c1.expression", "not allowed in whereList"},
		{"parameter in fieldList", sel(`":a:"`), external(), ubql.CodeInvalidData, 400, "fieldList.0", "only allowed in custom"},
		{"master outside a subquery", wl(`"c1":{"expression":"[ID]=[{master}.ID]","condition":"custom"}`), external(), ubql.CodeInvalidWhereList, 400, "whereList.c1.expression", "only allowed inside a subquery"},
		{"match", wl(`"c1":{"expression":"","condition":"match","value":"x"}`), external(), ubql.CodeFtsDisabled, 400, "whereList.c1.condition", "full-text search"},
		{"missing value", wl(`"c1":{"expression":"[ID]","condition":"equal"}`), external(), ubql.CodeInvalidWhereList, 400, "whereList.c1.value", "value is missing"},
		{"missing expression", wl(`"c1":{"expression":"","condition":"equal","value":1}`), external(), ubql.CodeInvalidWhereList, 400, "whereList.c1.expression", "expression is missing"},
		{"number expected", wl(`"c1":{"expression":"[ID]","condition":"equal","value":"abc"}`), external(), ubql.CodeInvalidWhereList, 400, "whereList.c1.value", "must be a number"},
		{"date expected", wl(`"c1":{"expression":"[birthday]","condition":"more","value":"yesterday"}`), external(), ubql.CodeInvalidWhereList, 400, "whereList.c1.value", "ISO-8601"},
		{"boolean expected", wl(`"c1":{"expression":"[active]","condition":"equal","value":"maybe"}`), external(), ubql.CodeInvalidWhereList, 400, "whereList.c1.value", "true or false"},
		{"string expected", wl(`"c1":{"expression":"[name]","condition":"equal","value":{"a":1}}`), external(), ubql.CodeInvalidWhereList, 400, "whereList.c1.value", "must be a string"},
		{"NUL in a value", wl(`"c1":{"expression":"[name]","condition":"equal","value":"a\u0000"}`), external(), ubql.CodeInvalidWhereList, 400, "whereList.c1.value", "NUL"},
		{"like null", wl(`"c1":{"expression":"[name]","condition":"like","value":null}`), external(), ubql.CodeInvalidWhereList, 400, "whereList.c1.value", "must not be null"},
		{"more null", wl(`"c1":{"expression":"[ID]","condition":"more","value":null}`), external(), ubql.CodeInvalidWhereList, 400, "whereList.c1.value", "must not be null"},
		{"in list too long", wl(`"c1":{"expression":"[ID]","condition":"in","value":` + longIn + `}`), external(), ubql.CodeInvalidWhereList, 400, "whereList.c1.value", "MaxInList"},
		{"in list with null", wl(`"c1":{"expression":"[ID]","condition":"in","value":[1,null]}`), external(), ubql.CodeInvalidWhereList, 400, "whereList.c1.value", "item 1 must not be null"},
		{"in list of fractions", wl(`"c1":{"expression":"[ID]","condition":"in","value":[1.5]}`), external(), ubql.CodeInvalidWhereList, 400, "whereList.c1.value", "integer"},
		{"many more", wl(`"c1":{"expression":"[tags]","condition":"more","value":1}`), external(), ubql.CodeInvalidWhereList, 400, "whereList.c1.condition", "cannot be used with the Many"},
		{"custom parameter without value", wl(`"c1":{"expression":"[ID] = :x:","condition":"custom"}`), external(), ubql.CodeInvalidWhereList, 400, "whereList.c1.value", "parameter :x: has no value"},
		{"predicate names nothing", wl(`"c1":{"expression":"[ID]","condition":"isNull"}`, `"logicalPredicates":["[c1] OR [c9]"]`), external(), ubql.CodeInvalidWhereList, 400, "logicalPredicates.0", `no whereList condition named "c9"`},
		{"predicate with SQL", wl(`"c1":{"expression":"[ID]","condition":"isNull"}`, `"logicalPredicates":["[c1] OR ID = 1"]`), external(), ubql.CodeInvalidWhereList, 400, "logicalPredicates.0", "logical predicate"},
		{"joinAs names nothing", wl(`"c1":{"expression":"[ID]","condition":"isNull"}`, `"joinAs":["c2"]`), external(), ubql.CodeInvalidWhereList, 400, "joinAs.0", "no whereList condition"},
		{"joinAs without a join", wl(`"c1":{"expression":"[ID]","condition":"isNull"}`, `"joinAs":["c1"]`), external(), ubql.CodeInvalidWhereList, 400, "joinAs.0", "does not go through a join"},
		{"joinAs item in a predicate", wl(`"c1":{"expression":"[manager.name]","condition":"isNull"}`, `"joinAs":["c1"]`, `"logicalPredicates":["[c1]"]`), external(), ubql.CodeInvalidWhereList, 400, "logicalPredicates.0", "is in joinAs"},
		{"in subquery with two fields", wl(`"c1":{"expression":"[ID]","condition":"subquery","subQueryType":"in","value":{"entity":"tst_note","method":"select","fieldList":["ID","person"]}}`), external(), ubql.CodeInvalidWhereList, 400, "whereList.c1.value.fieldList", "exactly one field"},
		{"subquery unknown entity", wl(`"c1":{"expression":"","condition":"subquery","subQueryType":"exists","value":{"entity":"nope"}}`), external(), ubql.CodeEntityNotExist, 400, "whereList.c1.value.entity", "does not exist"},
		{"subquery unknown attribute", wl(`"c1":{"expression":"","condition":"subquery","subQueryType":"exists","value":{"entity":"tst_note","whereList":{"x":{"expression":"[nope]","condition":"isNull"}}}}`), external(), ubql.CodeAttributeNotExist, 400, "whereList.c1.value.whereList.x.expression", "nope"},
		{"subquery value error", wl(`"c1":{"expression":"","condition":"subquery","subQueryType":"exists","value":{"entity":"tst_note","whereList":{"x":{"expression":"[person]","condition":"equal","value":"p"}}}}`), external(), ubql.CodeInvalidWhereList, 400, "whereList.c1.value.whereList.x.value", "must be a number"},
		{"subqueries at the nesting limit", wl(`"c1":{"expression":"[ID]","condition":"subquery","subQueryType":"in","value":` + nested + `}`), external(), 0, 0, "", ""},
		{"language not supported", sel(`"fullName_de^"`), external(), ubql.CodeAttributeNotExist, 400, "fieldList.0", `language column "fullName_de^" does not exist`},
		{"language of a plain attribute", sel(`"name_uk^"`), external(), ubql.CodeAttributeNotExist, 400, "fieldList.0", "no language columns"},
		{"cast to an unknown type", sel(`"CAST([ID] AS BLOB)"`), external(), ubql.CodeAccessDeny, 403, "fieldList.0", "CAST to"},
		{"distinct outside an aggregate", sel(`"LOWER(DISTINCT [name])"`), external(), ubql.CodeInvalidData, 400, "fieldList.0", "DISTINCT"},
		{"wrong argument count", sel(`"LOWER([name], 1)"`), external(), ubql.CodeInvalidData, 400, "fieldList.0", "number of arguments"},
		{"limit over the maximum", sel(`"ID"`, `"options":{"limit":10000}`), external(), 0, 0, "", ""},
		{"internal: sub-select still refused", sel(`"(SELECT 1)"`), internal(), ubql.CodeAccessDeny, 403, "fieldList.0", "sub-selects"},
		{"internal: semicolon still refused", wl(`"c1":{"expression":"[ID] = 1; drop","condition":"custom"}`), internal(), ubql.CodeInvalidWhereList, 400, "whereList.c1.expression", "semicolons"},
		{"unity cast to an unknown entity", sel(`"manager@nope.name"`), external(), ubql.CodeAttributeNotExist, 400, "fieldList.0", `entity "nope"`},
		{"custom that is not a condition", wl(`"c1":{"expression":"[salary] + 1","condition":"custom"}`), external(), ubql.CodeInvalidWhereList, 400, "whereList.c1.expression", "must be a comparison"},
		{"string literal unterminated", wl(`"c1":{"expression":"[name] = 'x","condition":"custom"}`), external(), ubql.CodeInvalidWhereList, 400, "whereList.c1.expression", "unterminated string literal"},
	}
	c := ubql.NewCompiler(testDomain(t))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Select(mustDecode(t, tc.req), tc.opt)
			if tc.code == 0 {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			var e *ubql.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *ubql.Error", err, err)
			}
			if e.Code != tc.code || e.Status != tc.status || e.Path != tc.path || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("got code %d status %d path %q msg %q\nwant code %d status %d path %q msg ~ %q", e.Code, e.Status, e.Path, e.Msg, tc.code, tc.status, tc.path, tc.msg)
			}
		})
	}
}

// TestProgrammaticRequests checks requests built in Go (as the store and JavaScript build
// them), which skip the decoder's checks.
func TestProgrammaticRequests(t *testing.T) {
	c := ubql.NewCompiler(testDomain(t))
	base := func() *ubql.Request {
		return &ubql.Request{Entity: "tst_person", Method: "select", FieldList: []string{"ID"}}
	}
	for name, tc := range map[string]struct {
		mod  func(r *ubql.Request)
		path string
	}{
		"limit too big":  {func(r *ubql.Request) { r.Options.Limit = ubql.MaxPageSize + 1 }, "options.limit"},
		"negative start": {func(r *ubql.Request) { r.Options.Start = -1 }, "options.start"},
		"unknown condition": {func(r *ubql.Request) {
			r.WhereList = []ubql.WhereItem{{Name: "x", Expression: "ID", Condition: "nope"}}
		}, "whereList.x.condition"},
		"too many items": {func(r *ubql.Request) {
			r.WhereList = make([]ubql.WhereItem, ubql.MaxWhereItems+1)
		}, "whereList"},
		"duplicate names": {func(r *ubql.Request) {
			r.WhereList = []ubql.WhereItem{{Name: "a", Expression: "ID", Condition: ubql.IsNull}, {Name: "a", Expression: "ID", Condition: ubql.IsNull}}
		}, "whereList.a"},
		"subqueries too deep": {func(r *ubql.Request) {
			inner := r
			for range ubql.MaxNesting + 1 {
				sub := &ubql.Request{Entity: "tst_note", FieldList: []string{"person"}}
				inner.WhereList = []ubql.WhereItem{{Name: "s", Expression: "[ID]", Condition: ubql.SubQuery, SubQueryType: "in", SubQuery: sub, HasValue: true}}
				inner = sub
			}
		}, "whereList.s.value.whereList.s.value.whereList.s.value.whereList.s.value.whereList.s.value"},
		"subquery cycle": {func(r *ubql.Request) {
			r.WhereList = []ubql.WhereItem{{Name: "s", Expression: "[ID]", Condition: ubql.SubQuery, SubQueryType: "in", SubQuery: r, HasValue: true}}
		}, "whereList.s.value.whereList.s.value.whereList.s.value.whereList.s.value.whereList.s.value"},
		"subquery without request": {func(r *ubql.Request) {
			r.WhereList = []ubql.WhereItem{{Name: "s", Condition: ubql.SubQuery, SubQueryType: "exists"}}
		}, "whereList.s.value"},
	} {
		t.Run(name, func(t *testing.T) {
			r := base()
			tc.mod(r)
			_, err := c.Select(r, external())
			var e *ubql.Error
			if !errors.As(err, &e) || e.Path != tc.path || e.Status != 400 {
				t.Fatalf("err = %v, want a 400 at %s", err, tc.path)
			}
		})
	}
	// A server-added item with a system name, next to the client's, and Go value types.
	r := base()
	r.WhereList = []ubql.WhereItem{
		{Name: "c1", Expression: "[ID]", Condition: ubql.In, Value: []int{1, 2}, HasValue: true},
		{Name: "__sd", Expression: "[birthday]", Condition: ubql.Less, Value: "#maxdate", HasValue: true},
		{Name: "c2", Expression: "[salary]", Condition: ubql.More, Value: float32(1.5), HasValue: true},
	}
	s, err := c.Select(r, external())
	if err != nil {
		t.Fatal(err)
	}
	if want := `[]interface {}{"[1,2]", "9999-12-31T00:00:00.000Z", 1.5}`; fmt.Sprintf("%#v", s.Args) != want {
		t.Errorf("args %#v, want %s", s.Args, want)
	}
	if _, err := c.Select(r, ubql.CompileOptions{}); err == nil {
		t.Error("a missing dialect must be an error")
	}
}

func TestInternalRequests(t *testing.T) {
	c := ubql.NewCompiler(testDomain(t))
	r := mustDecode(t, `{"entity":"tst_person","method":"select","fieldList":["ABS([salary])","[active] = 1","manager@tst_person.name"]}`)
	if _, err := c.Select(r, external()); err == nil {
		t.Fatal("an external request may not call ABS")
	}
	s, err := c.Select(r, internal())
	if err != nil {
		t.Fatal(err)
	}
	want := "SELECT ABS(A01.salary), A01.active = 1, A02.name FROM tst_person A01 LEFT JOIN tst_person A02 ON A02.ID = A01.manager"
	if s.SQL != want {
		t.Errorf("SQL\n got %s\nwant %s", s.SQL, want)
	}
	if s.Columns[0].Attr != nil || s.Columns[2].Attr == nil || s.Columns[2].Attr.Name != "name" {
		t.Errorf("columns %+v", s.Columns)
	}
}

func TestCacheByShape(t *testing.T) {
	c := ubql.NewCompiler(testDomain(t))
	opt := external()
	sel := func(wl string) *ubql.Request {
		return mustDecode(t, `{"entity":"tst_person","method":"select","fieldList":["ID","manager.name"],"whereList":{`+wl+`}}`)
	}
	first, err := c.Select(sel(`"c1":{"expression":"[ID]","condition":"in","value":[1,2,3]},"c2":{"expression":"[name]","condition":"equal","value":"a"}`), opt)
	if err != nil {
		t.Fatal(err)
	}
	// Other values, another list length, other item names: the same shape.
	second, err := c.Select(sel(`"x":{"expression":"[ID]","condition":"in","value":[7]},"y":{"expression":"[name]","condition":"equal","values":{"v":"b"}}`), opt)
	if err != nil {
		t.Fatal(err)
	}
	if st := c.CacheStats(); st.Hits != 1 || st.Misses != 1 || st.Plans != 1 {
		t.Errorf("stats %+v, want one miss then one hit", st)
	}
	if first.SQL != second.SQL || fmt.Sprint(second.Args) != "[[7] b]" {
		t.Errorf("second: %s %v", second.SQL, second.Args)
	}
	// What changes the SQL is a new shape.
	for _, wl := range []string{
		`"c1":{"expression":"[ID]","condition":"in","value":[]},"c2":{"expression":"[name]","condition":"equal","value":"a"}`,
		`"c1":{"expression":"[ID]","condition":"in","value":[1]},"c2":{"expression":"[name]","condition":"equal","value":null}`,
		`"c1":{"expression":"[ID]","condition":"notIn","value":[1]},"c2":{"expression":"[name]","condition":"equal","value":"a"}`,
		`"c1":{"expression":"[ID]","condition":"in","value":[1]},"c2":{"expression":"name","condition":"equal","value":"a"}`,
	} {
		s, err := c.Select(sel(wl), opt)
		if err != nil {
			t.Fatal(err)
		}
		if s.SQL == first.SQL && !strings.Contains(wl, `"name"`) {
			t.Errorf("%s compiled to the cached SQL", wl)
		}
	}
	if st := c.CacheStats(); st.Misses != 5 {
		t.Errorf("stats %+v, want 5 misses", st)
	}
	uk := opt
	uk.Lang = "uk"
	if _, err := c.Select(sel(`"c1":{"expression":"[ID]","condition":"in","value":[1]},"c2":{"expression":"[name]","condition":"equal","value":"a"}`), uk); err != nil {
		t.Fatal(err)
	}
	if st := c.CacheStats(); st.Misses != 6 {
		t.Errorf("a language is part of the shape: %+v", st)
	}
}

func TestCacheIsBounded(t *testing.T) {
	c := ubql.NewCompiler(testDomain(t))
	for i := range ubql.MaxCachedPlans + 100 {
		r := mustDecode(t, `{"entity":"tst_tag","method":"select","fieldList":["ID"],"whereList":{"c":{"expression":"[ID] = `+strconv.Itoa(i)+`","condition":"custom"}}}`)
		if _, err := c.Select(r, external()); err != nil {
			t.Fatal(err)
		}
	}
	if st := c.CacheStats(); st.Plans > ubql.MaxCachedPlans {
		t.Errorf("%d plans cached, want at most %d", st.Plans, ubql.MaxCachedPlans)
	}
}

// TestSubqueryArgsOnCacheHit checks that arguments of nested requests are bound in
// placeholder order on a cache hit too.
func TestSubqueryArgsOnCacheHit(t *testing.T) {
	c := ubql.NewCompiler(testDomain(t))
	body := func(a, b, x string) string {
		return `{"entity":"tst_person","method":"select","fieldList":["ID","status.name"],"whereList":{
			"c1":{"expression":"[ID]","condition":"subquery","subQueryType":"in","value":{"entity":"tst_note","method":"select","fieldList":["person"],
				"whereList":{"n":{"expression":"[text]","condition":"equal","value":"` + a + `"},
					"m":{"expression":"","condition":"subquery","subQueryType":"exists","value":{"entity":"tst_tag","whereList":{"t":{"expression":"[code]","condition":"equal","value":"` + b + `"}}}}}}},
			"c2":{"expression":"[name]","condition":"equal","value":"` + x + `"}},"options":{"limit":3,"totalRequired":true}}`
	}
	for _, d := range []dialect.Dialect{dialect.SQLite{}, dialect.Postgres{}} {
		opt := external()
		opt.Dialect = d
		for i, vals := range [][3]string{{"a", "b", "x"}, {"A", "B", "X"}} {
			s, err := c.Select(mustDecode(t, body(vals[0], vals[1], vals[2])), opt)
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("[PERSON_STATUS %s %s %s]", vals[0], vals[1], vals[2]) // the limit is in the SQL
			if got := fmt.Sprint(s.Args); got != want {
				t.Errorf("%s run %d: args %s, want %s", d.Name(), i, got, want)
			}
			if got := fmt.Sprint(s.CountArgs); got != fmt.Sprintf("[PERSON_STATUS %s %s %s]", vals[0], vals[1], vals[2]) {
				t.Errorf("%s run %d: count args %s", d.Name(), i, got)
			}
		}
	}
	if st := c.CacheStats(); st.Hits != 2 {
		t.Errorf("stats %+v, want a hit per dialect", st)
	}
}

func TestConcurrentSelect(t *testing.T) {
	c := ubql.NewCompiler(testDomain(t))
	bodies := []string{
		`{"entity":"tst_person","method":"select","fieldList":["ID","dept.name"],"whereList":{"c1":{"expression":"[ID]","condition":"equal","value":%d}}}`,
		`{"entity":"tst_person","method":"select","fieldList":["ID","tags"],"whereList":{"c1":{"expression":"[tags]","condition":"in","value":[%d]}},"options":{"limit":5}}`,
		`{"entity":"tst_note","method":"select","fieldList":["ID"],"whereList":{"c1":{"expression":"[person.manager.name]","condition":"like","value":"%d"}}}`,
	}
	want := make([]string, len(bodies))
	for i, b := range bodies {
		s, err := c.Select(mustDecode(t, fmt.Sprintf(b, 0)), external())
		if err != nil {
			t.Fatal(err)
		}
		want[i] = s.SQL
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				k := (g + i) % len(bodies)
				s, err := c.Select(mustDecode(t, fmt.Sprintf(bodies[k], i)), external())
				if err != nil {
					errs <- err
					return
				}
				if s.SQL != want[k] || !strings.Contains(fmt.Sprint(s.Args), strconv.Itoa(i)) {
					errs <- fmt.Errorf("goroutine %d: %s %v", g, s.SQL, s.Args)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestBindErrorNamesTheBoundRequest: a cached plan reports value errors with the item
// names of the request being bound, not of the one it was compiled from.
func TestBindErrorNamesTheBoundRequest(t *testing.T) {
	c := ubql.NewCompiler(testDomain(t))
	body := func(outer, inner, v string) string {
		return `{"entity":"tst_person","method":"select","fieldList":["ID"],"whereList":{"` + outer + `":{"expression":"[ID]","condition":"subquery","subQueryType":"in",
			"value":{"entity":"tst_note","fieldList":["person"],"whereList":{"` + inner + `":{"expression":"[person]","condition":"equal","value":` + v + `}}}}}}`
	}
	if _, err := c.Select(mustDecode(t, body("a", "b", "1")), external()); err != nil {
		t.Fatal(err)
	}
	_, err := c.Select(mustDecode(t, body("x", "y", `"nan"`)), external())
	var e *ubql.Error
	if !errors.As(err, &e) || e.Path != "whereList.x.value.whereList.y.value" {
		t.Fatalf("err = %v, want the path of the second request", err)
	}
	if st := c.CacheStats(); st.Hits != 1 {
		t.Errorf("stats %+v, want the second request to hit the cache", st)
	}
}

// The limit is written into the SQL, so it is part of the plan's cache key: two requests
// that differ only in their limit never share SQL.
func TestLimitInSQLAndCacheKey(t *testing.T) {
	c := ubql.NewCompiler(testDomain(t))
	body := func(limit int) string {
		return fmt.Sprintf(`{"entity":"tst_tag","method":"select","fieldList":["code"],"options":{"start":4,"limit":%d}}`, limit)
	}
	for _, d := range []dialect.Dialect{dialect.SQLite{}, dialect.Postgres{}} {
		opt := external()
		opt.Dialect = d
		for _, limit := range []int{20, 50, 20, 1} {
			s, err := c.Select(mustDecode(t, body(limit)), opt)
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf(" LIMIT %d OFFSET ", limit); !strings.Contains(s.SQL, want) || fmt.Sprint(s.Args) != "[4]" {
				t.Errorf("%s limit %d: %s %v", d.Name(), limit, s.SQL, s.Args)
			}
		}
	}
}
