package perfapp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ubgo/ubgo/internal/app"
	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/internal/perfapp"
	"github.com/ubgo/ubgo/store/storetest"
)

// openPerf opens the perf application of the repository (perf/ubconfig.<d>.json, the TST
// model) on a fresh database of dialect d, loaded, with the server built as serve builds it.
func openPerf(t testing.TB, d string) *perfapp.App { return openPerfSec(t, d, true) }

// openPerfSec is openPerf with the security layer off (devAdmin: every request runs as
// admin) or on (the perf config has no authentication methods: every request is the
// anonymous user, checked against the ELS matrix and the endpoint grants).
func openPerfSec(t testing.TB, d string, devAdmin bool) *perfapp.App {
	t.Helper()
	conn := storetest.Connection(t, d)
	cfg := "../../perf/ubconfig.sqlite.json"
	env := map[string]string{"UB_PERF_FILES": t.TempDir()}
	if d == storetest.PostgreSQL {
		cfg = "../../perf/ubconfig.pg.json"
		env["UB_PERF_PG"] = conn.DatabaseName
	} else {
		env["UB_PERF_DB"] = conn.DatabaseName
	}
	ctx := context.Background()
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	res, err := perfapp.LoadApp(ctx, boot.Options{ConfigFile: cfg, LookupEnv: lookup}, false, perfapp.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Worlds != perfapp.Worlds || res.Fortunes != len(perfapp.Fortunes) {
		t.Fatalf("Load = %+v, want every row written", res)
	}
	a, err := perfapp.Open(ctx, perfapp.OpenOptions{Local: true,
		App: app.Options{ConfigFile: cfg, LookupEnv: lookup, DevAnonymousAdmin: devAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return a
}

type call struct {
	method, url, body string
	remote            string
}

func (c call) do(h http.Handler) *httptest.ResponseRecorder {
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	var req *http.Request
	if c.body != "" {
		req = httptest.NewRequest(method, c.url, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = httptest.NewRequest(method, c.url, nil)
	}
	req.RemoteAddr = "127.0.0.1:5555"
	if c.remote != "" {
		req.RemoteAddr = c.remote
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func mustOK(t *testing.T, h http.Handler, c call) string {
	t.Helper()
	rec := c.do(h)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s %s %s: status %d, body %s", c.method, c.url, c.body, rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// TestScenarios checks that the three implementations of every read scenario — raw SQL,
// the Go twin through the store, the JS endpoint through UB.Repository — answer byte for
// byte the same, and that /ubql answers the same rows.
func TestScenarios(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			a := openPerf(t, d)
			h := a
			if got := mustOK(t, h, call{method: "GET", url: "/_perf/json"}); got != `{"message":"Hello, World!"}` {
				t.Errorf("json = %s", got)
			}
			if got := mustOK(t, h, call{method: "GET", url: "/perfjs/json"}); got != `{"message":"Hello, World!"}` {
				t.Errorf("js json = %s", got)
			}
			reads := []struct{ scenario, method, body string }{
				{"byid", "POST", `{"id":1}`},
				{"byid", "POST", `{"id":10000}`},
				{"list20", "POST", `{"from":42}`},
				{"list20", "POST", `{"from":9990}`},
				{"queries", "POST", `{"ids":[1,5000,10000,77,77]}`},
				{"queries", "POST", `{"ids":[3,20000]}`},
				{"fortunes", "GET", ""},
			}
			for _, r := range reads {
				raw := mustOK(t, h, call{method: r.method, url: "/_perf/raw/" + r.scenario, body: r.body})
				goTwin := mustOK(t, h, call{method: r.method, url: "/_perfgo/" + r.scenario, body: r.body})
				js := mustOK(t, h, call{method: r.method, url: "/perfjs/" + r.scenario, body: r.body})
				if raw != goTwin || raw != js {
					t.Errorf("%s %s:\nraw %s\ngo  %s\njs  %s", r.scenario, r.body, raw, goTwin, js)
				}
			}

			var list []map[string]int64
			if err := json.Unmarshal([]byte(mustOK(t, h, call{url: "/_perf/raw/list20", body: `{"from":42}`})), &list); err != nil || len(list) != 20 {
				t.Fatalf("list20: %v, %d rows", err, len(list))
			}
			for i, row := range list {
				if row["ID"] != int64(42+i) || row["randomNumber"] < 1 || row["randomNumber"] > 10000 {
					t.Errorf("list20 row %d = %v", i, row)
				}
			}
			one := mustOK(t, h, call{url: "/_perf/raw/byid", body: `{"id":77}`})
			ubql := mustOK(t, h, call{url: "/ubql", body: `[{"entity":"tst_world","method":"select","fieldList":["ID","randomNumber"],"ID":77}]`})
			var world map[string]int64
			json.Unmarshal([]byte(one), &world)
			if want := `"data":[[77,` + strconv.FormatInt(world["randomNumber"], 10) + `]]`; !strings.Contains(ubql, want) {
				t.Errorf("ubql byid = %s, want %s", ubql, want)
			}

			fortunes := mustOK(t, h, call{method: "GET", url: "/_perf/raw/fortunes"})
			for _, want := range []string{
				"<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr>",
				"<tr><td>11</td><td>&lt;script&gt;alert(&quot;This should not be displayed in a browser alert box.&quot;);&lt;&#x2F;script&gt;</td></tr>",
				"<tr><td>0</td><td>Additional fortune added at request time.</td></tr>",
				"<tr><td>12</td><td>フレームワークのベンチマーク</td></tr></table></body></html>",
				"aren&#39;t broken",
			} {
				if !strings.Contains(fortunes, want) {
					t.Errorf("fortunes lack %s:\n%s", want, fortunes)
				}
			}
			if n := strings.Count(fortunes, "<tr><td>"); n != 13 {
				t.Errorf("fortunes have %d rows, want 13", n)
			}
			// Sorted by message: "<script>" sorts first, the Japanese one last.
			if i, j := strings.Index(fortunes, "<td>11</td>"), strings.Index(fortunes, "<td>4</td>"); i < 0 || j < i {
				t.Errorf("fortunes are not sorted by message:\n%s", fortunes)
			}
		})
	}
}

// TestWrites runs the write scenarios, raw and through /ubql, and the prep endpoint.
func TestWrites(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			a := openPerf(t, d)
			h := a
			var ins struct{ ID int64 }
			json.Unmarshal([]byte(mustOK(t, h, call{url: "/_perf/raw/insert", body: `{"code":"R1","caption":"raw","qty":3}`})), &ins)
			if ins.ID < perfapp.RawIDBase {
				t.Fatalf("raw insert ID %d, want >= %d", ins.ID, perfapp.RawIDBase)
			}
			got := mustOK(t, h, call{url: "/ubql", body: `[{"entity":"tst_item","method":"select","fieldList":["ID","code","qty","mi_modifyUser"],"ID":` + strconv.FormatInt(ins.ID, 10) + `}]`})
			if want := `[` + strconv.FormatInt(ins.ID, 10) + `,"R1",3,10]`; !strings.Contains(got, want) {
				t.Errorf("raw insert stored %s, want %s", got, want)
			}
			got = mustOK(t, h, call{url: "/ubql", body: `[{"entity":"tst_item","method":"insert","execParams":{"code":"U1","caption":"ubql","qty":4}}]`})
			if !strings.Contains(got, `"ID":`) {
				t.Errorf("ubql insert = %s", got)
			}

			var prep struct {
				From, N int64
				Token   string
			}
			if err := json.Unmarshal([]byte(mustOK(t, h, call{url: "/_perf/prep", body: `{"n":10}`})), &prep); err != nil {
				t.Fatal(err)
			}
			if prep.From != perfapp.PrepIDBase || prep.N != 10 || prep.Token != perfapp.PrepTokenText {
				t.Fatalf("prep = %+v", prep)
			}
			json.Unmarshal([]byte(mustOK(t, h, call{url: "/_perf/prep", body: `{"n":5}`})), &prep)
			if prep.From != perfapp.PrepIDBase+10 {
				t.Fatalf("second prep starts at %d, want %d", prep.From, perfapp.PrepIDBase+10)
			}
			id := func(i int64) string { return strconv.FormatInt(perfapp.PrepIDBase+i, 10) }
			upd := `{"id":` + id(0) + `,"qty":9,"token":"` + perfapp.PrepTokenText + `"}`
			mustOK(t, h, call{url: "/_perf/raw/update", body: upd})
			if rec := (call{url: "/_perf/raw/update", body: upd}).do(h); rec.Code != http.StatusConflict {
				t.Errorf("update with a stale token: %d %s, want 409", rec.Code, rec.Body)
			}
			ubqlUpd := `[{"entity":"tst_item","method":"update","execParams":{"ID":` + id(1) + `,"qty":8,"mi_modifyDate":"` + perfapp.PrepTokenText + `"}}]`
			mustOK(t, h, call{url: "/ubql", body: ubqlUpd})
			if rec := (call{url: "/ubql", body: ubqlUpd}).do(h); rec.Code < 400 {
				t.Errorf("ubql update with a stale token: %d, want an error", rec.Code)
			}
			got = mustOK(t, h, call{url: "/ubql", body: `[{"entity":"tst_item","method":"select","fieldList":["ID","qty"],"whereList":{"c":{"expression":"[ID]","condition":"in","value":[` + id(0) + `,` + id(1) + `]}},"orderList":{"0":{"expression":"ID","order":"asc"}}}]`})
			if want := `"data":[[` + id(0) + `,9],[` + id(1) + `,8]]`; !strings.Contains(got, want) {
				t.Errorf("after the updates: %s, want %s", got, want)
			}
			mustOK(t, h, call{url: "/_perf/raw/delete", body: `{"id":` + id(2) + `}`})
			if rec := (call{url: "/_perf/raw/delete", body: `{"id":` + id(2) + `}`}).do(h); rec.Code != http.StatusNotFound {
				t.Errorf("second delete: %d, want 404", rec.Code)
			}
			mustOK(t, h, call{url: "/ubql", body: `[{"entity":"tst_item","method":"delete","execParams":{"ID":` + id(3) + `}}]`})
			got = mustOK(t, h, call{url: "/ubql", body: `[{"entity":"tst_item","method":"select","fieldList":["ID"],"whereList":{"c":{"expression":"[ID]","condition":"moreEqual","value":` + id(0) + `},"d":{"expression":"[ID]","condition":"less","value":` + strconv.FormatInt(perfapp.RawIDBase, 10) + `}}}]`})
			if n := strings.Count(got, "],["); n != 15-2-1 {
				t.Errorf("%d prepared rows left (%s), want 13", n+1, got)
			}

			// Load empties tst_item again and keeps World.
			res, err := perfapp.Load(context.Background(), a.Store, perfapp.LoadOptions{})
			if err != nil || res.Worlds != 0 || !res.ItemsDeleted {
				t.Fatalf("second Load = %+v, %v", res, err)
			}
		})
	}
}

// TestSecurityOn runs the scenarios through the security layer: UnityBase's
// "authentication not used" mode, where the anonymous session must pass the ELS rule and
// the endpoint grants that Load adds.
func TestSecurityOn(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			a := openPerfSec(t, d, false)
			for _, c := range []call{
				{method: "GET", url: "/_perf/json"},
				{url: "/_perf/raw/byid", body: `{"id":5}`},
				{url: "/ubql", body: `[{"entity":"tst_world","method":"select","fieldList":["ID","randomNumber"],"ID":5}]`},
				{url: "/_perfgo/byid", body: `{"id":5}`},
				{url: "/perfjs/byid", body: `{"id":5}`},
				{url: "/perfjs/list20", body: `{"from":5}`},
				{method: "GET", url: "/_perfgo/fortunes"},
				{url: "/ubql", body: `[{"entity":"tst_item","method":"insert","execParams":{"code":"S1","qty":1}}]`},
			} {
				mustOK(t, a, c)
			}
			// The rule covers the perf model only.
			if rec := (call{url: "/ubql", body: `[{"entity":"uba_user","method":"insert","execParams":{"name":"x"}}]`}).do(a); rec.Code != http.StatusForbidden {
				t.Errorf("anonymous insert into uba_user: %d %s, want 403", rec.Code, rec.Body)
			}
		})
	}
}

// TestBadRequests: every mistake is a typed error with the UB body, and the loopback-only
// endpoints refuse other clients.
func TestBadRequests(t *testing.T) {
	a := openPerf(t, storetest.SQLite3)
	tests := []struct {
		name   string
		c      call
		status int
	}{
		{"GET on a POST scenario", call{method: "GET", url: "/_perf/raw/byid"}, http.StatusMethodNotAllowed},
		{"POST on fortunes", call{url: "/_perf/raw/fortunes", body: `{}`}, http.StatusMethodNotAllowed},
		{"not JSON", call{url: "/_perf/raw/byid", body: `{"id":`}, http.StatusBadRequest},
		{"wrong type", call{url: "/_perfgo/byid", body: `{"id":"x"}`}, http.StatusBadRequest},
		{"missing world", call{url: "/_perf/raw/byid", body: `{"id":123456}`}, http.StatusNotFound},
		{"missing world, twin", call{url: "/_perfgo/byid", body: `{"id":123456}`}, http.StatusNotFound},
		{"no ids", call{url: "/_perf/raw/queries", body: `{"ids":[]}`}, http.StatusBadRequest},
		{"too many ids", call{url: "/_perfgo/queries", body: `{"ids":[` + strings.Repeat("1,", perfapp.MaxQueries) + `1]}`}, http.StatusBadRequest},
		{"insert without code", call{url: "/_perf/raw/insert", body: `{"qty":1}`}, http.StatusBadRequest},
		{"insert qty out of range", call{url: "/_perf/raw/insert", body: `{"code":"x","qty":9999999999}`}, http.StatusBadRequest},
		{"update with a bad token", call{url: "/_perf/raw/update", body: `{"id":1,"qty":1,"token":"yesterday"}`}, http.StatusBadRequest},
		{"update of a missing row", call{url: "/_perf/raw/update", body: `{"id":1,"qty":1,"token":"2020-01-01T00:00:00Z"}`}, http.StatusConflict},
		{"unknown scenario", call{url: "/_perf/raw/nothing", body: `{}`}, http.StatusNotFound},
		{"unknown twin", call{url: "/_perfgo/nothing", body: `{}`}, http.StatusNotFound},
		{"unknown JS scenario", call{method: "GET", url: "/perfjs/constructor"}, http.StatusNotFound},
		{"prep of nothing", call{url: "/_perf/prep", body: `{"n":0}`}, http.StatusBadRequest},
		{"prep from afar", call{url: "/_perf/prep", body: `{"n":1}`, remote: "192.0.2.1:1234"}, http.StatusForbidden},
		{"profiles from afar", call{method: "GET", url: "/debug/pprof/", remote: "192.0.2.1:1234"}, http.StatusForbidden},
		{"huge body", call{url: "/_perf/raw/byid", body: `{"id":1,"pad":"` + strings.Repeat("x", 70<<10) + `"}`}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tt.c.do(a)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			var e struct {
				ErrCode int    `json:"errCode"`
				ErrMsg  string `json:"errMsg"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil && !strings.HasPrefix(tt.c.url, "/perfjs") {
				t.Fatalf("error body %s: %v", rec.Body, err)
			}
			if strings.HasPrefix(tt.c.url, "/perfjs") {
				return // the JS endpoint answers with resp.notFound's plain text
			}
			if e.ErrCode == 0 || e.ErrMsg == "" || strings.Contains(e.ErrMsg, "SELECT") {
				t.Errorf("error body %s", rec.Body)
			}
		})
	}
	if got := mustOK(t, a, call{method: "GET", url: "/debug/pprof/"}); !strings.Contains(got, "goroutine") {
		t.Errorf("pprof index: %.200s", got)
	}
}

// TestMountWithoutModel: an application without the perf model gets only the JSON baseline
// and the profiles.
func TestMountWithoutModel(t *testing.T) {
	env := map[string]string{"UB_DB": filepath.Join(t.TempDir(), "sample.sqlite3")}
	a, err := perfapp.Open(context.Background(), perfapp.OpenOptions{Local: true, App: app.Options{ConfigFile: "../../ubconfig.json",
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, DevAnonymousAdmin: true, AdminPassword: "admin"}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	mustOK(t, a, call{method: "GET", url: "/_perf/json"})
	if rec := (call{url: "/_perf/raw/byid", body: `{"id":1}`}).do(a); rec.Code != http.StatusNotFound {
		t.Errorf("raw byid without the model: %d", rec.Code)
	}
	if _, err := perfapp.Load(context.Background(), a.Store, perfapp.LoadOptions{}); err == nil {
		t.Error("Load without the perf model succeeded")
	}
}
