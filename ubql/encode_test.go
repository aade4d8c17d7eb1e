package ubql_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/ubgo/ubgo/ubql"
)

func TestEncodeResponse(t *testing.T) {
	req := mustDecode(t, `{"entity":"uba_user","method":"select","fieldList":["ID","name"],
		"whereList":{"c1":{"expression":"[name]","condition":"startWith","value":"adm"},"c2":{"expression":"[ID]","condition":"in","values":{"a":[1]}}},
		"orderList":[{"expression":"name","order":"asc"}],"options":{"start":0,"limit":101,"totalRequired":true},"version":"-1","x":{"b":1,"a":[true]}}`)
	total := int64(1)
	resp := &ubql.Response{
		Request: req,
		ResultData: &ubql.ResultData{Fields: []string{"ID", "name"}, Data: [][]any{
			{int64(10), "admin"},
			{nil, true, false, 5.0, 0.1, 1e21, 1e-7, -0.0, math.NaN(), int64(-3), 2.5e-300},
			{"q\"b\\s/\x00\x1f\n\r\t\u2028\u2029é😀\xff", time.Date(2022, 10, 11, 16, 32, 51, 123e6, time.FixedZone("x", 7200))},
			{json.RawMessage(`{"a":[1,2]}`), json.RawMessage(nil), []byte("hi\x00"), int(7), float32(1.5), []any{int64(1), "a"}},
		}},
		TotalRecCount: &total,
		Result:        map[string]any{"version": "123", "resultLock": map[string]any{"success": true}},
	}
	got := string(ubql.AppendResponses(nil, []*ubql.Response{resp}))
	want := `[{"entity":"uba_user","method":"select","fieldList":["ID","name"],` +
		`"whereList":{"c1":{"expression":"[name]","condition":"startWith","value":"adm"},"c2":{"expression":"[ID]","condition":"in","values":{"a":[1]}}},` +
		`"orderList":{"0":{"expression":"name","order":"asc"}},"options":{"start":0,"limit":101,"totalRequired":true},"x":{"a":[true],"b":1},` +
		`"resultData":{"fields":["ID","name"],"rowCount":4,"data":[[10,"admin"],` +
		`[null,true,false,5,0.1,1e+21,1e-7,0,null,-3,2.5e-300],` +
		`["q\"b\\s/\u0000\u001f\n\r\t\u2028\u2029é😀\ufffd","2022-10-11T14:32:51.123Z"],` +
		`[{"a":[1,2]},null,"aGkA",7,1.5,[1,"a"]]]},` +
		`"__totalRecCount":1,"resultLock":{"success":true},"version":"123"}]`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Error("not valid JSON")
	}
	// encoding/json reads the same strings back.
	var back []map[string]any
	if err := json.Unmarshal([]byte(got), &back); err != nil {
		t.Fatal(err)
	}
	row := back[0]["resultData"].(map[string]any)["data"].([]any)[2].([]any)
	if row[0] != "q\"b\\s/\x00\x1f\n\r\t\u2028\u2029é😀\uFFFD" {
		t.Errorf("string read back as %q", row[0])
	}
}

func TestEncodeSpecialResponses(t *testing.T) {
	cases := []struct {
		resp *ubql.Response
		want string
	}{
		{&ubql.Response{Request: &ubql.Request{Entity: "e", Method: "select", Misc: ubql.Misc{Version: "-1"}},
			ResultData: &ubql.ResultData{NotModified: true}, Result: map[string]any{"version": "7"}},
			`{"entity":"e","method":"select","resultData":{"notModified":true},"version":"7"}`},
		{&ubql.Response{Request: &ubql.Request{Entity: "e", Method: "insert", FieldListSet: true, ExecParams: map[string]any{"ID": int64(332463256010753)}}},
			`{"entity":"e","method":"insert","fieldList":[],"execParams":{"ID":332463256010753}}`},
		{&ubql.Response{Request: &ubql.Request{Entity: "tst_service", Method: "multiply", Extra: map[string]any{"a": int64(10), "b": int64(20)}},
			Result: map[string]any{"multiplyResult": int64(200)}},
			`{"entity":"tst_service","method":"multiply","a":10,"b":20,"multiplyResult":200}`},
		{&ubql.Response{Request: &ubql.Request{Entity: "e", Method: "select", FieldList: []string{"ID"}},
			ResultData: &ubql.ResultData{Fields: []string{"ID"}, Data: [][]any{}}},
			`{"entity":"e","method":"select","fieldList":["ID"],"resultData":{"fields":["ID"],"rowCount":0,"data":[]}}`},
	}
	for _, c := range cases {
		got, err := json.Marshal(c.resp)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
	if got := string(ubql.AppendResponses([]byte("x"), nil)); got != "x[]" {
		t.Errorf("empty answer %q", got)
	}
}
