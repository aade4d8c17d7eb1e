package server

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/storetest"
)

// newStoreServer boots the store's test application on a fresh database of dialect d,
// initializes it (admin password "x") and serves it with the store as the dispatcher.
func newStoreServer(t *testing.T, d string, opt Options) *Server {
	t.Helper()
	env := map[string]string{"TST_DRIVER": d, "TST_DB": storetest.Connection(t, d).DatabaseName}
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	app, err := boot.Load(ctx, boot.Options{ConfigFile: "../store/testdata/app/ubconfig.json", Logger: quiet,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, app.Config, app.Domain, store.Options{Create: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Init(ctx, store.InitOptions{AdminPassword: "x"}); err != nil {
		t.Fatal(err)
	}
	opt.Dispatcher = st
	s, err := NewWithOptions(app.Config, app.Domain, quiet, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sqlLeaks are texts of SQL and driver messages that must never reach a client.
var sqlLeaks = []string{"INSERT", "SELECT", "UNIQUE constraint", "duplicate key", "SQLSTATE", "violates"}

func TestUBQL(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			s := newStoreServer(t, d, Options{DevAnonymousAdmin: true})
			jsonCT := map[string]string{"Content-Type": "application/json;charset=utf-8"}
			post := func(name, body string, status int, want, not []string) scenario {
				return scenario{name: name, method: "POST", url: "/ubql?rq=x", headers: jsonCT, body: body,
					wantStatus: status, wantBody: want, notBody: not}
			}
			runScenarios(t, s, []scenario{
				post("insert", `[{"entity":"tst_category","method":"insert","fieldList":["ID","name"],"execParams":{"name":"cat1"}}]`,
					200, []string{`"entity":"tst_category"`, `"resultData":{"fields":["ID","name"],"rowCount":1`, `"cat1"`}, nil),
				post("select what was inserted", `[{"entity":"tst_category","method":"select","fieldList":["name"],
					"whereList":{"c1":{"expression":"[name]","condition":"equal","value":"cat1"}}}]`,
					200, []string{`"rowCount":1`, `"data":[["cat1"]]`}, nil),
				post("a batch runs as the development admin", `[{"entity":"tst_doc","method":"insert","execParams":{"code":"D0"}},
					{"entity":"tst_doc","method":"select","fieldList":["mi_createUser"],"whereList":{"c":{"expression":"[code]","condition":"equal","value":"D0"}}}]`,
					200, []string{`"data":[[10]]`}, nil),
				post("a failing batch is rolled back", `[
					{"entity":"tst_category","method":"insert","execParams":{"name":"rolledback"}},
					{"entity":"tst_doc","method":"insert","execParams":{"code":"D1"}},
					{"entity":"tst_doc","method":"insert","execParams":{"code":"D1"}}]`,
					409, []string{`"errCode":74`, `"errMsg":"<<<Value must be unique>>>`}, sqlLeaks),
				post("nothing of the failed batch stays", `[{"entity":"tst_category","method":"select","fieldList":["ID"],
					"whereList":{"c1":{"expression":"[name]","condition":"equal","value":"rolledback"}}},
					{"entity":"tst_doc","method":"select","fieldList":["ID"],"whereList":{"c1":{"expression":"[code]","condition":"equal","value":"D1"}}}]`,
					200, []string{`"rowCount":0`}, []string{`"rowCount":1`}),
				post("a missing required attribute", `[{"entity":"tst_category","method":"insert","execParams":{}}]`,
					400, []string{`"errCode":24`}, sqlLeaks),
				post("unknown entity", `[{"entity":"nope","method":"select","fieldList":["ID"]}]`, 404, []string{`"errCode":15`}, nil),
				post("malformed JSON", `[{"entity":"tst_category","method":`, 400, []string{`"errCode":4`}, nil),
				post("trailing data", `[{"entity":"tst_category","method":"select","fieldList":["ID"]}]{}`, 400, []string{`"errCode":4`}, nil),
				post("an object instead of an array", `{"entity":"tst_category","method":"select"}`, 400, nil, nil),
				post("an empty batch", `[]`, 400, nil, nil),
				post("an empty body", ``, 400, nil, nil),
				{name: "GET is refused", url: "/ubql", wantStatus: 405, wantHeader: map[string]string{"Allow": "POST"}},
				{name: "a body that is not JSON", method: "POST", url: "/ubql", body: `[]`,
					headers: map[string]string{"Content-Type": "text/plain"}, wantStatus: 415},
				{name: "no Content-Type", method: "POST", url: "/ubql", body: `[]`, wantStatus: 415},
				{name: "another charset", method: "POST", url: "/ubql", body: `[]`,
					headers: map[string]string{"Content-Type": "application/json; charset=latin1"}, wantStatus: 415},
				{name: "a compressed body", method: "POST", url: "/ubql", body: `[]`,
					headers: map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}, wantStatus: 415},
				{name: "runList is ubql", method: "POST", url: "/runList", headers: jsonCT,
					body:       `[{"entity":"tst_category","method":"select","fieldList":["name"],"orderList":{"0":{"expression":"name","order":"asc"}}}]`,
					wantStatus: 200, wantBody: []string{`"data":[["cat1"]]`}},
			})
		})
	}
}

// TestUBQLWithoutSession: with a real store but no authentication, /ubql answers 401 and
// touches nothing.
func TestUBQLWithoutSession(t *testing.T) {
	s := newStoreServer(t, storetest.SQLite3, Options{})
	runScenarios(t, s, []scenario{
		{name: "no session", method: "POST", url: "/ubql", headers: map[string]string{"Content-Type": "application/json"},
			body: `[{"entity":"tst_category","method":"insert","execParams":{"name":"x"}}]`, wantStatus: 401, wantBody: []string{`"errCode":10`}},
	})
}

// TestUBQLWithoutDispatcher: a server without a data layer says so.
func TestUBQLWithoutDispatcher(t *testing.T) {
	s := newFixtureServer(t, Options{DevAnonymousAdmin: true}, nil)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/ubql", nil)
	req.Header.Set("Content-Type", "application/json")
	s.ServeHTTP(rec, req)
	if rec.Code != 501 {
		t.Fatalf("status %d, want 501", rec.Code)
	}
}
