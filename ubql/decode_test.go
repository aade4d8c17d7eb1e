package ubql_test

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/ubgo/ubgo/ubql"
)

const minimal = `{"entity":"tst_person","method":"select","fieldList":["ID"]}`

// TestDecodeBatchErrors covers the malformed-input rows of the attack list: each body must
// be refused with a typed 400 naming the item and the path, before anything runs.
func TestDecodeBatchErrors(t *testing.T) {
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	big := "[" + strings.Repeat(minimal+",", ubql.MaxBatchItems) + minimal + "]"
	tests := []struct {
		name string
		body string
		item int
		path string
		code int
		msg  string
	}{
		{"empty body", ``, -1, "", ubql.CodeInvalidData, "unexpected end of input"},
		{"truncated", `[{"entity":"tst_person","method":"sel`, 0, "method", ubql.CodeInvalidData, "unterminated string"},
		{"truncated after a member", `[{"entity":"tst_person",`, 0, "", ubql.CodeInvalidData, "unexpected end of input"},
		{"two values", `[` + minimal + `][` + minimal + `]`, -1, "", ubql.CodeInvalidData, "unexpected data after the JSON value"},
		{"two objects", `{"a":1}{"b":2}`, -1, "", ubql.CodeInvalidData, "must be a JSON array"},
		{"trailing garbage", `[` + minimal + `]x`, -1, "", ubql.CodeInvalidData, "unexpected data after"},
		{"byte order mark", "\xEF\xBB\xBF[" + minimal + "]", -1, "", ubql.CodeInvalidData, "byte order mark"},
		{"comment", `[/* c */` + minimal + `]`, 0, "", ubql.CodeInvalidData, "unexpected '/'"},
		{"NaN", `[{"entity":"tst_person","method":"select","ID":NaN}]`, 0, "ID", ubql.CodeInvalidData, "unexpected 'N'"},
		{"Infinity", `[{"entity":"tst_person","method":"select","x":-Infinity}]`, 0, "x", ubql.CodeInvalidData, "expected a digit"},
		{"1e400", `[{"entity":"tst_person","method":"select","x":1e400}]`, 0, "x", ubql.CodeInvalidData, "out of range"},
		{"leading zero", `[{"entity":"tst_person","method":"select","x":01}]`, 0, "", ubql.CodeInvalidData, "expected ',' or '}'"},
		{"bare fraction", `[{"entity":"tst_person","method":"select","x":1.}]`, 0, "x", ubql.CodeInvalidData, "expected a digit"},
		{"duplicate key", `[{"entity":"a","entity":"b","method":"select"}]`, 0, "entity", ubql.CodeInvalidData, "duplicate member name"},
		{"duplicate extra key", `[{"entity":"a","method":"m","x":1,"x":2}]`, 0, "x", ubql.CodeInvalidData, "duplicate"},
		{"duplicate nested key", `[{"entity":"a","method":"insert","execParams":{"ID":1,"ID":2}}]`, 0, "execParams.ID", ubql.CodeInvalidData, "duplicate"},
		{"duplicate where name", `[{"entity":"a","method":"select","whereList":{"c1":{"expression":"ID","condition":"isNull"},"c1":{"expression":"ID","condition":"isNull"}}}]`, 0, "whereList.c1", ubql.CodeInvalidData, "duplicate"},
		{"duplicate where key", `[{"entity":"a","method":"select","whereList":{"c1":{"expression":"ID","condition":"isNull","condition":"in"}}}]`, 0, "whereList.c1.condition", ubql.CodeInvalidData, "duplicate"},
		{"duplicate escaped key", `[{"entity":"a","method":"m","e\u006etity":"b"}]`, 0, "entity", ubql.CodeInvalidData, "duplicate"},
		{"invalid UTF-8 in a value", "[{\"entity\":\"tst\xff\",\"method\":\"select\"}]", 0, "entity", ubql.CodeInvalidData, "invalid UTF-8"},
		{"invalid UTF-8 in a key", "[{\"entity\":\"a\",\"method\":\"m\",\"k\xc3\":1}]", 0, "", ubql.CodeInvalidData, "invalid UTF-8"},
		{"lone surrogate", `[{"entity":"a","method":"m","x":"\ud800"}]`, 0, "x", ubql.CodeInvalidData, "surrogate"},
		{"raw control character", "[{\"entity\":\"a\",\"method\":\"m\",\"x\":\"a\tb\"}]", 0, "x", ubql.CodeInvalidData, "control character"},
		{"invalid escape", `[{"entity":"a","method":"m","x":"\q"}]`, 0, "x", ubql.CodeInvalidData, "invalid escape"},
		{"deep nesting", `[{"entity":"a","method":"m","x":` + deep + `}]`, 0, "x.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0", ubql.CodeInvalidData, "nesting is deeper than"},
		{"batch too big", big, -1, "", ubql.CodeInvalidData, "MaxBatchItems"},
		{"empty batch", `[]`, -1, "", ubql.CodeInvalidData, "empty"},
		{"item not an object", `[` + minimal + `,[1]]`, 1, "", ubql.CodeInvalidData, "must be a JSON object"},
		{"missing entity", `[` + minimal + `,{"method":"select"}]`, 1, "entity", ubql.CodeNoEntityParameter, "entity is missing"},
		{"missing method", `[{"entity":"a"}]`, 0, "method", ubql.CodeNoMethodParameter, "method is missing"},
		{"entity is a number", `[{"entity":1,"method":"select"}]`, 0, "entity", ubql.CodeInvalidData, "must be a string"},
		{"fieldList item is a number", `[{"entity":"a","method":"select","fieldList":["ID",2]}]`, 0, "fieldList.1", ubql.CodeInvalidData, "must be a string"},
		{"fieldList is an object", `[{"entity":"a","method":"select","fieldList":{"a":1}}]`, 0, "fieldList", ubql.CodeInvalidData, "must be an array"},
		{"whereList is an array", `[{"entity":"a","method":"select","whereList":[]}]`, 0, "whereList", ubql.CodeInvalidData, "must be an object"},
		{"condition is a number", `[{"entity":"a","method":"select","whereList":{"c1":{"expression":"ID","condition":1}}}]`, 0, "whereList.c1.condition", ubql.CodeInvalidData, "must be a string"},
		{"unknown condition", `[{"entity":"a","method":"select","whereList":{"c1":{"expression":"ID","condition":"equals","value":1}}}]`, 0, "whereList.c1.condition", ubql.CodeInvalidWhereList, `unknown condition "equals"`},
		{"missing condition", `[{"entity":"a","method":"select","whereList":{"c1":{"expression":"ID","value":1}}}]`, 0, "whereList.c1.condition", ubql.CodeInvalidWhereList, "condition is missing"},
		{"unknown where key", `[{"entity":"a","method":"select","whereList":{"c1":{"expression":"ID","condition":"equal","valeu":1}}}]`, 0, "whereList.c1.valeu", ubql.CodeInvalidWhereList, "unknown key"},
		{"subquery value is a string", `[{"entity":"a","method":"select","whereList":{"c1":{"condition":"subquery","subQueryType":"exists","value":"x"}}}]`, 0, "whereList.c1.value", ubql.CodeInvalidWhereList, "UBQL object"},
		{"subquery without type", `[{"entity":"a","method":"select","whereList":{"c1":{"condition":"subquery","value":{"entity":"b"}}}}]`, 0, "whereList.c1.subQueryType", ubql.CodeInvalidWhereList, "missing"},
		{"bad subquery", `[{"entity":"a","method":"select","whereList":{"c1":{"condition":"subquery","subQueryType":"in","value":{"entity":"b","fieldList":[1]}}}}]`, 0, "whereList.c1.value.fieldList.0", ubql.CodeInvalidData, "must be a string"},
		{"bad subQueryType", `[{"entity":"a","method":"select","whereList":{"c1":{"condition":"subquery","subQueryType":"some","value":{"entity":"b"}}}}]`, 0, "whereList.c1.subQueryType", ubql.CodeInvalidWhereList, "must be in"},
		{"options.limit is a string", `[{"entity":"a","method":"select","options":{"limit":"10"}}]`, 0, "options.limit", ubql.CodeInvalidData, "must be an integer"},
		{"options.start negative", `[{"entity":"a","method":"select","options":{"start":-1}}]`, 0, "options.start", ubql.CodeInvalidData, "must not be negative"},
		{"options.limit too big", `[{"entity":"a","method":"select","options":{"limit":1000000000}}]`, 0, "options.limit", ubql.CodeInvalidData, "10000 rows (MaxPageSize)"},
		{"options.limit 1e9", `[{"entity":"a","method":"select","options":{"limit":1e9}}]`, 0, "options.limit", ubql.CodeInvalidData, "MaxPageSize"},
		{"options.limit fraction", `[{"entity":"a","method":"select","options":{"limit":1.5}}]`, 0, "options.limit", ubql.CodeInvalidData, "must be an integer"},
		{"unknown option", `[{"entity":"a","method":"select","options":{"pageSize":1}}]`, 0, "options.pageSize", ubql.CodeInvalidData, "unknown option"},
		{"ID is not a number", `[{"entity":"a","method":"select","ID":"abc"}]`, 0, "ID", ubql.CodeInvalidData, "integer"},
		{"ID is a fraction", `[{"entity":"a","method":"select","ID":1.5}]`, 0, "ID", ubql.CodeInvalidData, "integer"},
		{"flag is a string", `[{"entity":"a","method":"select","__allowSelectSafeDeleted":"yes"}]`, 0, "__allowSelectSafeDeleted", ubql.CodeInvalidData, "true or false"},
		{"orderList bad key", `[{"entity":"a","method":"select","orderList":{"first":{"expression":"ID"}}}]`, 0, "orderList.first", ubql.CodeInvalidData, "positions"},
		{"orderList bad direction", `[{"entity":"a","method":"select","orderList":[{"expression":"ID","order":"up"}]}]`, 0, "orderList.0.order", ubql.CodeInvalidData, `"asc" or "desc"`},
		{"execParams is an array", `[{"entity":"a","method":"insert","execParams":[1]}]`, 0, "execParams", ubql.CodeInvalidData, "must be an object"},
		{"too many where items", `[{"entity":"a","method":"select","whereList":{` + manyWhere(ubql.MaxWhereItems+1) + `}}]`, 0, "whereList.c200", ubql.CodeInvalidData, "MaxWhereItems"},
		{"too many fields", `[{"entity":"a","method":"select","fieldList":[` + strings.Repeat(`"ID",`, ubql.MaxFieldListItems) + `"ID"]}]`, 0, "fieldList.500", ubql.CodeInvalidData, "MaxFieldListItems"},
		{"error in the second item", `[` + minimal + `,{"entity":"a","method":"select","options":{"start":-5}}]`, 1, "options.start", ubql.CodeInvalidData, "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ubql.DecodeBatch([]byte(tc.body))
			var e *ubql.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *ubql.Error", err, err)
			}
			if e.Item != tc.item || e.Path != tc.path || e.Code != tc.code || e.Status != 400 || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("got item %d path %q code %d status %d msg %q\nwant item %d path %q code %d status 400 msg ~ %q",
					e.Item, e.Path, e.Code, e.Status, e.Msg, tc.item, tc.path, tc.code, tc.msg)
			}
			if s := e.Error(); strings.ContainsAny(s, "\n\r") || !strings.HasPrefix(s, "ubql") {
				t.Errorf("Error() = %q, want one line", s)
			}
		})
	}
}

func manyWhere(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"c` + strconv.Itoa(i) + `":{"expression":"ID","condition":"isNull"}`)
	}
	return b.String()
}

func TestErrorMessage(t *testing.T) {
	_, err := ubql.DecodeBatch([]byte(`[` + minimal + `,{"entity":"a","method":"select","whereList":{"c1":{"expression":"ID","condition":"equals"}}}]`))
	want := `ubql item 1, whereList.c1.condition: unknown condition "equals"`
	if err == nil || err.Error() != want {
		t.Fatalf("Error() = %v, want %s", err, want)
	}
	e := ubql.WithItem(&ubql.Error{Item: -1, Path: "fieldList.0", Code: 16, Status: 400, Msg: "x"}, 3)
	if e.Error() != "ubql item 3, fieldList.0: x" {
		t.Fatalf("WithItem: %v", e)
	}
	if e := (&ubql.Error{Item: -1, Msg: "m"}); e.Error() != "ubql: m" {
		t.Fatalf("no item or path: %q", e.Error())
	}
}

// TestDecodeValues checks how values are represented.
func TestDecodeValues(t *testing.T) {
	r, err := ubql.DecodeRequest([]byte(`{"entity":"tst_person","method":"select","fieldList":["ID","[name]"],
		"whereList":{"z":{"expression":"[ID]","condition":"equal","value":9007199254740993},
		             "a":{"expression":"[name]","condition":"startWith","values":{"second":"x","first":"y"}},
		             "m":{"expression":"[x]","condition":"in","value":[1,2.5,-0,"s",true,null,{"k":[]}]},
		             "n":{"expression":"[x]","condition":"equal","value":"a\u0000b\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"},
		             "big":{"expression":"[x]","condition":"equal","value":18446744073709551616},
		             "EQ":{"expression":"[x]","condition":"EQUAL","value":1}},
		"orderList":{"10":{"expression":"a"},"2":{"expression":"b","order":"DESC"}},
		"options":{"start":5,"limit":10,"totalRequired":true},
		"ID":"123", "__allowSelectSafeDeleted":true, "__mip_ondate":"2020-01-01", "version":-1, "custom":{"a":[1]},
		"execParams":{"x":1.0,"y":-12}}`))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range r.WhereList {
		names = append(names, w.Name)
	}
	if strings.Join(names, ",") != "z,a,m,n,big,EQ" {
		t.Errorf("whereList order %v, want the client's order", names)
	}
	if v := r.WhereList[0].Value; v != int64(9007199254740993) {
		t.Errorf("big integer = %#v, want int64 9007199254740993", v)
	}
	if w := r.WhereList[1]; w.Value != "x" || w.HasValue || len(w.Values) != 2 {
		t.Errorf("v1 operand = %#v (HasValue %v), want the first value \"x\"", w.Value, w.HasValue)
	}
	wantList := []any{int64(1), 2.5, int64(0), "s", true, nil, map[string]any{"k": []any{}}}
	if !reflect.DeepEqual(r.WhereList[2].Value, wantList) {
		t.Errorf("list = %#v", r.WhereList[2].Value)
	}
	if v := r.WhereList[3].Value; v != "a\x00b\"\\/\b\f\n\r\té😀" {
		t.Errorf("escapes = %q", v)
	}
	if v := r.WhereList[4].Value; v != 18446744073709551616.0 {
		t.Errorf("integer beyond int64 = %#v, want float64", v)
	}
	if c := r.WhereList[5].Condition; c != ubql.Equal {
		t.Errorf("condition EQUAL = %q, want equal", c)
	}
	if len(r.OrderList) != 2 || r.OrderList[0].Expression != "b" || r.OrderList[0].Order != "desc" || r.OrderList[1].Order != "asc" {
		t.Errorf("orderList = %+v, want by position: b desc, a asc", r.OrderList)
	}
	if r.Options != (ubql.Options{Start: 5, Limit: 10, TotalRequired: true, Set: true}) {
		t.Errorf("options = %+v", r.Options)
	}
	if r.ID == nil || *r.ID != 123 {
		t.Errorf("ID = %v", r.ID)
	}
	if !r.Misc.AllowSelectSafeDeleted || r.Misc.OnDate != "2020-01-01" || r.Misc.Version != "-1" {
		t.Errorf("misc = %+v", r.Misc)
	}
	if !reflect.DeepEqual(r.Extra, map[string]any{"custom": map[string]any{"a": []any{int64(1)}}}) {
		t.Errorf("extra = %#v", r.Extra)
	}
	if !reflect.DeepEqual(r.ExecParams, map[string]any{"x": 1.0, "y": int64(-12)}) {
		t.Errorf("execParams = %#v", r.ExecParams)
	}
	if !r.FieldListSet || len(r.FieldList) != 2 {
		t.Errorf("fieldList = %v", r.FieldList)
	}
}

// roundTripBodies are requests whose decode → encode → decode must be stable.
var roundTripBodies = []string{
	minimal,
	`{"entity":"tst_person","method":"select","fieldList":[]}`,
	`{"entity":"tst_person","method":"insert","execParams":{"name":"a\u0000b","n":1.5,"m":[true,null,{"x":"\u2028"}],"big":123456789012345678}}`,
	`{"entity":"tst_person","method":"select","fieldList":["ID","mi_owner.name","COUNT([ID])"],
		"whereList":{"c1":{"expression":"[name]","condition":"like","value":"adm"},"c2":{"expression":"[ID]","condition":"in","values":{"ids":[1,2]}},
		"c3":{"expression":"","condition":"subquery","subQueryType":"exists","value":{"entity":"tst_note","method":"select","fieldList":["ID"],
			"whereList":{"c1":{"expression":"[person]=[{master}.ID]","condition":"custom"}}}},
		"c4":{"expression":"[ID]","condition":"subquery","subQueryType":"notIn","values":{"q":{"entity":"tst_note","method":"select","fieldList":["person"]}}}},
		"logicalPredicates":["([c1]) OR ([c2])"],"joinAs":["c4"],"orderList":{"0":{"expression":"name","order":"asc"},"1":{"expression":"ID","order":"desc"}},
		"groupList":["name"],"options":{"start":0,"limit":101,"totalRequired":true},"ID":10,
		"__allowSelectSafeDeleted":true,"__skipRls":true,"lockType":"Temp","version":"12","alsNeed":true,"a":10,"b":{"c":"d"}}`,
}

func TestRoundTrip(t *testing.T) {
	for _, body := range roundTripBodies {
		r1, err := ubql.DecodeRequest([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		out, err := json.Marshal(r1)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON: %s", out)
		}
		r2, err := ubql.DecodeRequest(out)
		if err != nil {
			t.Fatalf("re-decode %s: %v", out, err)
		}
		if !reflect.DeepEqual(r1, r2) {
			t.Errorf("round trip differs:\n%#v\n%#v\n%s", r1, r2, out)
		}
		// FromValue, given the same object as plain values, agrees (where items of this
		// corpus are named in natural order).
		r3, err := ubql.FromValue(plainValue(t, body))
		if err != nil {
			t.Fatalf("FromValue: %v", err)
		}
		if !reflect.DeepEqual(r1, r3) {
			t.Errorf("FromValue differs:\n%#v\n%#v", r1, r3)
		}
	}
}

// plainValue decodes JSON into the values FromValue takes (int64 for integers).
func plainValue(t *testing.T, body string) map[string]any {
	d := json.NewDecoder(strings.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	var conv func(any) any
	conv = func(v any) any {
		switch x := v.(type) {
		case json.Number:
			if n, err := x.Int64(); err == nil {
				return n
			}
			f, _ := x.Float64()
			return f
		case []any:
			for i := range x {
				x[i] = conv(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = conv(x[k])
			}
		}
		return v
	}
	return conv(v).(map[string]any)
}

func TestFromValue(t *testing.T) {
	r, err := ubql.FromValue(map[string]any{
		"entity": "tst_person", "method": "select", "fieldList": []string{"ID"},
		"whereList": map[string]any{
			"c10": map[string]any{"expression": "[ID]", "condition": "equal", "value": 10},
			"c2":  map[string]any{"expression": "[ID]", "condition": "in", "values": map[string]any{"b": []any{2}, "a": []any{1}}},
			"c1": map[string]any{"expression": "", "condition": "subquery", "subQueryType": "exists",
				"value": &ubql.Request{Entity: "tst_note"}},
		},
		"orderList": []any{map[string]any{"expression": "ID", "order": "desc"}},
		"options":   map[string]any{"limit": 10.0},
		"ID":        float64(5),
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range r.WhereList {
		names = append(names, w.Name)
	}
	if strings.Join(names, ",") != "c1,c2,c10" {
		t.Errorf("names %v, want natural order", names)
	}
	if !reflect.DeepEqual(r.WhereList[1].Value, []any{1}) {
		t.Errorf("v1 operand %v, want the value of the first name", r.WhereList[1].Value)
	}
	if r.WhereList[0].SubQuery == nil || r.WhereList[0].SubQuery.Entity != "tst_note" {
		t.Errorf("subquery %+v", r.WhereList[0])
	}
	if r.Options.Limit != 10 || *r.ID != 5 || r.OrderList[0].Order != "desc" {
		t.Errorf("request %+v", r)
	}
	for _, bad := range []struct {
		v    map[string]any
		path string
	}{
		{map[string]any{"method": "select"}, "entity"},
		{map[string]any{"entity": "a", "method": "select", "fieldList": []any{"ID", 1}}, "fieldList.1"},
		{map[string]any{"entity": "a", "method": "select", "whereList": map[string]any{"c1": map[string]any{"condition": "nope"}}}, "whereList.c1.condition"},
		{map[string]any{"entity": "a", "method": "select", "ID": math.Pi}, "ID"},
		{map[string]any{"entity": "a", "method": "select", "options": map[string]any{"limit": -1}}, "options.limit"},
	} {
		_, err := ubql.FromValue(bad.v)
		var e *ubql.Error
		if !errors.As(err, &e) || e.Path != bad.path {
			t.Errorf("FromValue(%v) = %v, want an error at %s", bad.v, err, bad.path)
		}
	}
}
