package ubql_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ubgo/ubgo/store/dialect"
	"github.com/ubgo/ubgo/ubql"
)

// FuzzDecodeRequest: any input either fails with *ubql.Error or decodes into a request
// whose encoding decodes back to the same request.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range roundTripBodies {
		f.Add([]byte(s))
	}
	f.Add([]byte(gridRequest))
	f.Add([]byte(`{"entity":"a","method":"b","whereList":{"c":{"condition":"subquery","subQueryType":"in","values":{"x":{"entity":"b"}}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ubql.DecodeRequest(data)
		if err != nil {
			if _, ok := err.(*ubql.Error); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		out := r.AppendJSON(nil)
		r2, err := ubql.DecodeRequest(out)
		if err != nil {
			t.Fatalf("re-decode %s: %v", out, err)
		}
		if !reflect.DeepEqual(r, r2) {
			t.Fatalf("round trip differs for %s", out)
		}
	})
}

// FuzzExpression compiles arbitrary expressions in every place a client may write one.
// Compilation must not panic, errors must be *ubql.Error, and client text must never be
// copied into the SQL: the SQL may only hold what the compiler writes.
func FuzzExpression(f *testing.F) {
	for _, s := range []string{"[name]", "COUNT([ID])", "dept.country.caption", "[salary] * 2 + 1", "LOWER([name]) = 'x'",
		"[ID] IN (1, 2) OR NOT [active] = :(1):", "fullName_uk^", "-(-[salary])", "CAST([ID] AS VARCHAR(10))",
		"[name]) OR (1=1", "YEAR([birthday]) BETWEEN 1 AND 2", "[manager@tst_person.name] IS NOT NULL", "'a''b' || [name]"} {
		f.Add(s)
	}
	c := ubql.NewCompiler(testDomain(f))
	f.Fuzz(func(t *testing.T, expr string) {
		reqs := []*ubql.Request{
			{Entity: "tst_person", Method: "select", FieldList: []string{expr}},
			{Entity: "tst_person", Method: "select", FieldList: []string{"ID"}, OrderList: []ubql.OrderItem{{Expression: expr, Order: "asc"}}},
			{Entity: "tst_person", Method: "select", FieldList: []string{"ID"}, WhereList: []ubql.WhereItem{{Name: "c", Expression: expr, Condition: ubql.Custom}}},
			{Entity: "tst_person", Method: "select", FieldList: []string{"ID"}, WhereList: []ubql.WhereItem{{Name: "c", Expression: expr, Condition: ubql.Equal, Value: "v", HasValue: true}}},
			{Entity: "tst_person", Method: "select", FieldList: []string{"ID"}, WhereList: []ubql.WhereItem{{Name: "c", Expression: "[ID]", Condition: ubql.IsNull}}, LogicalPredicates: []string{expr}},
		}
		for _, r := range reqs {
			for _, ext := range []bool{true, false} {
				s, err := c.Select(r, ubql.CompileOptions{Dialect: dialect.Postgres{}, Langs: []string{"en", "uk"}, External: ext})
				if err != nil {
					if _, ok := err.(*ubql.Error); !ok {
						t.Fatalf("error of type %T: %v", err, err)
					}
					continue
				}
				if strings.ContainsAny(s.SQL, "';\x00\x01") && !strings.Contains(s.SQL, "ESCAPE '\\'") && !strings.Contains(s.SQL, "','") {
					t.Fatalf("suspicious SQL for %q: %s", expr, s.SQL)
				}
				if strings.Contains(s.SQL, "--") || strings.Contains(s.SQL, "/*") {
					t.Fatalf("comment in SQL for %q: %s", expr, s.SQL)
				}
			}
		}
	})
}
