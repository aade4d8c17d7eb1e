package server

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/runtime/jsvm"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/storetest"
	"github.com/ubgo/ubgo/ubql"
)

// jsApp is the jsvm test application (runtime/jsvm/testdata/app: UB, UBA, TSK and the JST
// model) served through the real handler with its JavaScript mounted, on a fresh database.
type jsApp struct {
	srv    *Server
	pool   *jsvm.Pool
	st     *store.Store
	tester int64 // uba_user of the test user "tester" (roles Everyone, User, Supervisor)
}

// testAuth authenticates by the X-Test-User header: "tester" (a security session with
// uData in Ukrainian), "admin", "nolang" (a session that knows no language), "en" (a
// session whose Lang is English but has no uData). No header is 401.
type testAuth struct{ tester *int64 }

func (a testAuth) Authenticate(r *http.Request) (*store.Session, error) {
	switch r.Header.Get("X-Test-User") {
	case "tester":
		return &store.Session{ID: 4242, UserID: *a.tester, UserName: "tester", RoleIDs: []int64{0, 3}, RoleNames: []string{"Everyone", "User"},
			UData: map[string]any{"userID": *a.tester, "login": "tester", "lang": "uk", "roles": "Everyone,User", "custom": "<b>x</b>"}}, nil
	case "admin":
		return &store.Session{ID: 1, UserID: store.UserAdmin, UserName: "admin", RoleIDs: []int64{0, 1}, RoleNames: []string{"Everyone", "Admin"}}, nil
	case "nolang":
		return &store.Session{ID: 2, UserID: store.UserAdmin, UserName: "admin"}, nil
	case "en":
		return &store.Session{ID: 3, UserID: store.UserAdmin, UserName: "admin", Lang: "en"}, nil
	}
	return nil, &Error{Status: http.StatusUnauthorized, Code: CodeNeedAuth, Detail: "no X-Test-User"}
}

// testELS denies jst_doc.restDenied to everyone and allows the rest.
func testELS(_ *store.Session, entity, method string) bool {
	return !(entity == "jst_doc" && method == "restDenied")
}

func newJSApp(t testing.TB, dialect string) *jsApp {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	db := storetest.Connection(t, dialect).DatabaseName
	env := map[string]string{"TST_DRIVER": dialect, "TST_DB": db}
	app, err := boot.Load(ctx, boot.Options{ConfigFile: "../runtime/jsvm/testdata/app/ubconfig.json", Logger: log,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, app.Config, app.Domain, store.Options{Create: true, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx, store.MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := st.Seed(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	a := &jsApp{st: st}
	resp, err := st.Run(ctx, store.System, []*ubql.Request{
		mustReq(t, `{"entity": "uba_user", "method": "insert", "execParams": {"name": "tester", "fullName": "Tester", "uPasswordHashHexa": "-", "uData": "{\"lang\": \"uk\"}"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	a.tester = resp[0].Request.ExecParams["ID"].(int64)
	if _, err := st.Run(ctx, store.System, []*ubql.Request{mustReq(t, fmt.Sprintf(
		`{"entity": "uba_userrole", "method": "insert", "execParams": {"userID": %d, "roleID": %d}}`, a.tester, store.RoleSupervisor))}); err != nil {
		t.Fatal(err)
	}
	prog, err := jsvm.Load(ctx, app.Domain, app.Config, log)
	if err != nil {
		t.Fatal(err)
	}
	a.pool = jsvm.NewPool(prog, jsvm.PoolOptions{Size: 2, ELS: testELS, Store: st})
	t.Cleanup(a.pool.Close)
	a.srv, err = NewWithOptions(app.Config, app.Domain, log, Options{Dispatcher: &jsvm.Dispatcher{Store: st, Pool: a.pool},
		Authorizer: testAuth{&a.tester}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.srv.Close() })
	if err := a.srv.MountJS(a.pool, st); err != nil {
		t.Fatal(err)
	}
	return a
}

func mustReq(t testing.TB, js string) *ubql.Request {
	t.Helper()
	r, err := ubql.DecodeRequest([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rows selects jst_doc rows as System.
func (a *jsApp) docs(t *testing.T, code string) []map[string]any {
	t.Helper()
	resp, err := a.st.Run(context.Background(), store.System, []*ubql.Request{mustReq(t, `{"entity": "jst_doc", "method": "select",
		"fieldList": ["code", "name", "qty", "mi_createUser", "mi_modifyUser"],
		"whereList": {"c": {"expression": "[code]", "condition": "equal", "value": "`+code+`"}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, r := range resp[0].ResultData.Data {
		m := map[string]any{}
		for i, f := range resp[0].ResultData.Fields {
			m[f] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// jsonField reads a value at a dotted path of a JSON body (numbers as float64).
func jsonField(t *testing.T, body, path string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			var i int
			fmt.Sscan(k, &i)
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// wantJSON checks values at paths of a JSON body (compared as their JSON text).
func wantJSON(t *testing.T, body string, want map[string]string) {
	t.Helper()
	for path, w := range want {
		got, _ := json.Marshal(jsonField(t, body, path))
		if string(got) != w {
			t.Errorf("%s = %s, want %s", path, got, w)
		}
	}
}

func tester(extra ...string) map[string]string {
	h := map[string]string{"X-Test-User": "tester"}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	return h
}

var asAdmin = map[string]string{"X-Test-User": "admin", "Content-Type": "application/json"}

func TestJSAPIThroughHTTP(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			a := newJSApp(t, d)
			testRest(t, a)
			testDefaultAndAdminUI(t, a)
			testRunAs(t, a)
			testSessionAPI(t, a)
			testSessionEvents(t, a)
			testDatasets(t, a)
			testFormats(t, a)
			testRequestLang(t, a)
		})
	}
}

func testRest(t *testing.T, a *jsApp) {
	runScenarios(t, a.srv, []scenario{
		{name: "rest GET calls the method with null, req, resp", url: "/rest/jst_doc/restEcho?a=1&b=x%20y", headers: tester(), wantStatus: 202,
			check: func(t *testing.T, _ *httptest.ResponseRecorder, body string) {
				wantJSON(t, body, map[string]string{"ctxIsNull": "true", "thisIsNamespace": "true", "method": `"GET"`,
					"uri": `"jst_doc/restEcho"`, "url": `"rest/jst_doc/restEcho?a=1\u0026b=x%20y"`, "params.b": `"x y"`, "user": `"tester"`})
			}},
		{name: "rest POST with a body", method: "POST", url: "/rest/jst_doc/restEcho", body: `{"k": [1, 2]}`, headers: tester(), wantStatus: 202,
			wantBody: []string{`"body":{"k":[1,2]}`, `"method":"POST"`}},
		{name: "rest PUT is any verb", method: "PUT", url: "/rest/jst_doc/restEcho", headers: tester(), wantStatus: 202},
		{name: "rest needs a session", url: "/rest/jst_doc/restEcho", wantStatus: 401},
		{name: "rest unknown entity is 400", url: "/rest/nope/x", headers: tester(), wantStatus: 400, wantBody: []string{"REST: unknown entity nope"}},
		{name: "rest without entity is 400", url: "/rest/", headers: tester(), wantStatus: 400, wantBody: []string{"REST: parameters are invalid"}},
		{name: "rest without method is 501", url: "/rest/jst_doc", headers: tester(), wantStatus: 501},
		{name: "rest denied by ELS is 403 errCode 8", url: "/rest/jst_doc/restDenied", headers: tester(), wantStatus: 403,
			wantBody: []string{`"errCode":8`, `"errMsg":"REST: unknown method or access deny"`}, notBody: []string{"must not run"}},
		{name: "the violation reached Session securityViolation", url: "/jstCache?key=jstViolation", headers: tester(), wantStatus: 200,
			wantBody: []string{`REST: unknown method or access deny jst_doc.restDenied by tester`}},
		{name: "rest unknown method answers like a denied one", url: "/rest/jst_doc/nosuch", headers: tester(), wantStatus: 403,
			wantBody: []string{`"errMsg":"REST: unknown method or access deny"`}},
		{name: "rest registered method without JS is 501", url: "/rest/jst_doc/select", headers: tester(), wantStatus: 501,
			wantBody: []string{`"errCode":7`}},
		{name: "rest writes in a transaction that commits", url: "/rest/jst_doc/restInsert?code=rest1", headers: tester(), wantStatus: 200},
		{name: "rest that throws rolls back", url: "/rest/jst_doc/restInsert?code=rest2&fail=1", headers: tester(), wantStatus: 500,
			wantBody: []string{"<<<jstRestFailed>>>"}},
	})
	if rows := a.docs(t, "rest1"); len(rows) != 1 || rows[0]["mi_createUser"] != a.tester {
		t.Errorf("rest1 rows = %v, want one written by the tester %d", rows, a.tester)
	}
	if rows := a.docs(t, "rest2"); len(rows) != 0 {
		t.Errorf("rest2 was written although the method threw: %v", rows)
	}
}

func testDefaultAndAdminUI(t *testing.T, a *jsApp) {
	runScenarios(t, a.srv, []scenario{
		{name: "an unknown path reaches the isDefault endpoint", url: "/no/such/endpoint", headers: tester(), wantStatus: 200, wantBody: []string{"prevented"}},
		{name: "the isDefault endpoint keeps its authorization", url: "/no/such/endpoint", wantStatus: 401},
		{name: "statics stays reachable by name", url: "/statics/index.html", wantStatus: 200, wantBody: []string{"JST INDEX"}},
		{name: "an inetPub folder without its slash redirects", url: "/statics/docs?v=2", wantStatus: 301,
			wantHeader: map[string]string{"Location": "/statics/docs/?v=2"}},
		{name: "the folder with its slash", url: "/statics/docs/", wantStatus: 200, wantBody: []string{"JST DOCS"}},
		{name: "a file is not redirected", url: "/statics/index.html", wantStatus: 200},
		{name: "adminUI with a trailing slash redirects to the endpoint", url: "/ubadminui/?x=1", wantStatus: 301,
			wantHeader: map[string]string{"Location": "http://localhost:8881/ubadminui?x=1"}}, // App.serverURL (httpServer.externalURL) + name, as UnityBase
		{name: "adminUI without a bundle explains", url: "/ubadminui", wantStatus: 404, wantBody: []string{"admin UI is not available", "ubadminui"}},
		{name: "adminUI is GET only", method: "POST", url: "/ubadminui", wantStatus: 405},
		{name: "getAppInfo extended by App getAppInfo listeners", url: "/getAppInfo", wantStatus: 200,
			wantBody: []string{`"jstExtended":"by JST"`, `"jstLangs":2`, `"defaultLang":"en"`}},
	})
}

func testRunAs(t *testing.T, a *jsApp) {
	post := func(headers map[string]string, item string) string {
		t.Helper()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/ubql", strings.NewReader("["+item+"]"))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		a.srv.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", item, rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	body := post(tester(), `{"entity": "jst_doc", "method": "asAdmin", "execParams": {"code": "ra"}}`)
	id := fmt.Sprint(a.tester)
	wantJSON(t, body, map[string]string{"0.out.before": id, "0.out.inside.user": "10", "0.out.inside.name": `"admin"`,
		"0.out.inside.isAdmin": "true", "0.out.inside.lang": `"en"`, "0.out.after": id, "0.out.caught": `"inside"`,
		"0.out.afterThrow": id, "0.out.nested": `"third level refused"`})
	if rows := a.docs(t, "ra"); len(rows) != 1 || rows[0]["mi_modifyUser"] != store.UserAdmin || rows[0]["mi_createUser"] != store.UserAdmin {
		t.Errorf("row written in runAsAdmin = %v, want mi_createUser = mi_modifyUser = 10", rows)
	}
	if rows := a.docs(t, "ra-self"); len(rows) != 1 || rows[0]["mi_modifyUser"] != a.tester {
		t.Errorf("row written after runAsAdmin = %v, want mi_modifyUser = %d", rows, a.tester)
	}

	body = post(map[string]string{"X-Test-User": "admin"}, `{"entity": "jst_doc", "method": "asUser", "execParams": {"code": "ru", "userID": `+id+`}}`)
	wantJSON(t, body, map[string]string{"0.out.user": id, "0.out.name": `"tester"`, "0.out.roles": `"Everyone,User,Supervisor"`,
		"0.out.login": "true", "0.back": "10"})
	if rows := a.docs(t, "ru"); len(rows) != 1 || rows[0]["mi_createUser"] != a.tester {
		t.Errorf("row written in runAsUser = %v, want mi_createUser = %d", rows, a.tester)
	}

	rec := do(a.srv, withHeaders(httptest.NewRequest("POST", "/ubql", strings.NewReader(
		`[{"entity": "jst_doc", "method": "asUser", "execParams": {"code": "ru-ghost", "userID": 999999}}]`)), asAdmin))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"errCode":73`) || len(a.docs(t, "ru-ghost")) != 0 {
		t.Errorf("runAsUser of an unknown user: %d %s", rec.Code, rec.Body)
	}

	body = post(tester(), `{"entity": "jst_doc", "method": "switchLang", "lang": "en"}`)
	wantJSON(t, body, map[string]string{"0.out.before": `"uk"`, "0.out.after": `"en"`, "0.out.hello": `"Hello, X!"`})
}

func testSessionAPI(t *testing.T, a *jsApp) {
	runScenarios(t, a.srv, []scenario{
		{name: "Session from a security session with uData", url: "/jstSession", headers: tester(), remote: "198.51.100.9:5000", wantStatus: 200,
			check: func(t *testing.T, _ *httptest.ResponseRecorder, body string) {
				wantJSON(t, body, map[string]string{"id": "4242", "userID": fmt.Sprint(a.tester), "userName": `"tester"`,
					"userLang": `"uk"`, "userRoles": `"0,3"`, "userRoleNames": `"Everyone,User"`, "isAdmin": "false", "isUser": "true",
					"callerIP": `"198.51.100.9"`, "uData.custom": `"\u003cb\u003ex\u003c/b\u003e"`, "uData.lang": `"uk"`,
					"sameUData": "true", "i18n": `"Привіт, X!"`})
			}},
		{name: "Session without uData falls back to what the session knows", url: "/jstSession", headers: map[string]string{"X-Test-User": "admin"}, wantStatus: 200,
			check: func(t *testing.T, _ *httptest.ResponseRecorder, body string) {
				wantJSON(t, body, map[string]string{"uData.userID": "10", "uData.login": `"admin"`, "uData.lang": `"en"`,
					"uData.roles": `"Everyone,Admin"`, "uData.roleIDs": "[0,1]", "isAdmin": "true"})
			}},
	})
}

func testSessionEvents(t *testing.T, a *jsApp) {
	ctx := context.Background()
	// A throwing login listener refuses the login: the error comes back to Go.
	blocked := &store.Session{UserID: 99, UserName: "blocked"}
	err := a.pool.EmitSessionEvent(ctx, blocked, jsvm.EventLogin)
	var je *jsvm.Error
	if !errors.As(err, &je) || je.ClientMessage() != "<<<jstLoginBlocked>>>" {
		t.Fatalf("login of a blocked user: err = %v, want the listener's UBAbort", err)
	}
	// A login listener extends uData (kept in the session) and may write data, committed.
	sess := &store.Session{UserID: a.tester, UserName: "tester", UData: map[string]any{"lang": "uk"}}
	req := &jsvm.Request{Method: "POST", URL: "auth", Header: map[string][]string{"X-Jst": {"write"}}}
	if err := a.pool.EmitSessionEvent(ctx, sess, jsvm.EventLogin, req); err != nil {
		t.Fatal(err)
	}
	if sess.UData["jstLoginSeen"] != true || sess.UData["jstHeader"] != "write" || sess.UData["lang"] != "uk" {
		t.Errorf("uData after login = %v", sess.UData)
	}
	if rows := a.docs(t, fmt.Sprintf("login-%d", a.tester)); len(rows) != 1 {
		t.Errorf("the login listener's row was not committed: %v", rows)
	}
	// Inside the caller's transaction: rolled back with it.
	tx := a.st.Begin(&store.Session{UserID: store.UserAdmin, UserName: "admin"})
	if err := a.pool.EmitSessionEventTx(ctx, tx, jsvm.EventLogin, req); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	if rows := a.docs(t, "login-10"); len(rows) != 0 {
		t.Errorf("a rolled back login still wrote %v", rows)
	}
	if err := a.pool.EmitSessionEvent(ctx, sess, jsvm.EventLoginFailed, a.tester, true); err != nil {
		t.Fatal(err)
	}
	if err := a.pool.EmitSessionEvent(ctx, sess, jsvm.EventLogout, "changepwd"); err != nil {
		t.Fatal(err)
	}
	if a.pool.Program().HasSessionListeners(jsvm.EventRegistration) {
		t.Error("registration has no listener in JST")
	}
	if err := a.pool.EmitSessionEvent(ctx, sess, jsvm.EventRegistration, "x"); err != nil {
		t.Errorf("an event without listeners: %v", err)
	}
	runScenarios(t, a.srv, []scenario{
		{name: "loginFailed listener got its arguments", url: "/jstCache?key=jstLoginFailed", headers: tester(), wantStatus: 200,
			wantBody: []string{`"value":"` + fmt.Sprint(a.tester) + `:true"`}},
		{name: "logout listener ran as the session", url: "/jstCache?key=jstLogout", headers: tester(), wantStatus: 200,
			wantBody: []string{`"value":"tester:changepwd"`}},
	})
}

func testDatasets(t *testing.T, a *jsApp) {
	ubql := func(name, item string, check func(t *testing.T, rec *httptest.ResponseRecorder, body string)) scenario {
		return scenario{name: name, method: "POST", url: "/ubql", body: "[" + item + "]", headers: asAdmin, wantStatus: 200, check: check}
	}
	runScenarios(t, a.srv, []scenario{
		ubql("the default dataset is resultData, a named one stays on the server", `{"entity": "jst_doc", "method": "datasets"}`,
			func(t *testing.T, _ *httptest.ResponseRecorder, body string) {
				wantJSON(t, body, map[string]string{"0.resultData.fields": `["n","word"]`, "0.resultData.data": `[[1,"one"],[2,"two"]]`,
					"0.out.start": `""`, "0.out.initialized": "false", "0.out.sideRows": "1", "0.out.defaultEmpty": "true",
					"0.out.sideValue": `"SIDE_ONLY"`, "0.out.rowPos": "1", "0.out.dataNames": `"selectBeforeUpdate"`})
				if strings.Count(body, "SIDE_ONLY") != 1 || strings.Contains(body, `"secret"`) {
					t.Errorf("the side dataset leaked into the response: %s", body)
				}
			}),
		ubql("a dataset named after the method is the result", `{"entity": "jst_doc", "method": "namedResult"}`,
			func(t *testing.T, _ *httptest.ResponseRecorder, body string) {
				wantJSON(t, body, map[string]string{"0.resultData.fields": `["ID","theCode"]`, "0.resultData.data": `[[1,"x"]]`})
			}),
		ubql("DataStore insert, insertAsObject, update, updateAsObject", `{"entity": "jst_doc", "method": "writeHelpers"}`,
			func(t *testing.T, _ *httptest.ResponseRecorder, body string) {
				wantJSON(t, body, map[string]string{"0.out.noFields": "null", "0.out.pair": `["h3",3]`,
					"0.out.obj": `{"code":"h4","hasID":true,"madeIsDate":true}`, "0.out.updated": "[20]",
					"0.out.updatedObj": `{"code":"h2","qty":21}`, "0.out.updateNoFields": "null"})
				if id, _ := jsonField(t, body, "0.out.id").(float64); id <= 0 {
					t.Errorf("insert with fieldList ['ID'] = %v, want the new ID", id)
				}
			}),
	})
	rec := do(a.srv, withHeaders(httptest.NewRequest("POST", "/ubql", strings.NewReader(
		`[{"entity": "jst_doc", "method": "insert", "fieldList": ["mi_modifyDate"], "execParams": {"ID": 777001, "code": "u1", "name": "old", "qty": 1}}]`)), asAdmin))
	modified, _ := json.Marshal(jsonField(t, rec.Body.String(), "0.resultData.data.0.0"))
	runScenarios(t, a.srv, []scenario{
		ubql("update:after reads selectBeforeUpdate", `{"entity": "jst_doc", "method": "update", "execParams": {"ID": 777001, "name": "new", "qty": 2, "mi_modifyDate": `+string(modified)+`}}`,
			func(t *testing.T, _ *httptest.ResponseRecorder, body string) {
				wantJSON(t, body, map[string]string{"0.oldName": `"old"`, "0.oldQty": "1", "0.execParams.name": `"new"`})
			}),
	})
	if rows := a.docs(t, "h2"); len(rows) != 1 || rows[0]["qty"] != int64(22) {
		t.Errorf("h2 after the updates = %v, want qty 22", rows)
	}
}

// hostile are cell values that attack spreadsheets, HTML and XML readers.
var hostile = []string{
	`=HYPERLINK("http://evil.example","x")`,
	"<script>alert(1)</script>;\"quoted\"\nline2",
	"-2+3",
	"@SUM(A1:A2)",
	"tab\tand \x01 control",
}

func testFormats(t *testing.T, a *jsApp) {
	var items []string
	for i, h := range hostile {
		b, _ := json.Marshal(h)
		items = append(items, fmt.Sprintf(`{"entity": "jst_doc", "method": "insert", "execParams": {"code": "f%d", "name": %s, "qty": %d, "price": 1.5, "flag": %t, "made": "2026-01-02T03:04:05Z"}}`,
			i, b, -i, i%2 == 0))
	}
	rec := do(a.srv, withHeaders(httptest.NewRequest("POST", "/ubql", strings.NewReader("["+strings.Join(items, ",")+"]")), asAdmin))
	if rec.Code != 200 {
		t.Fatalf("insert hostile rows: %d %s", rec.Code, rec.Body)
	}
	sel := `[{"entity": "jst_doc", "method": "select", "fieldList": ["code", "name", "qty", "price", "flag", "made"],
		"whereList": {"f": {"expression": "[code]", "condition": "startWith", "value": "f"}}, "orderList": {"0": {"expression": "code", "order": "asc"}}}]`
	format := func(name, ct string, status int, check func(t *testing.T, rec *httptest.ResponseRecorder, body string)) scenario {
		return scenario{name: name, method: "POST", url: "/ubql", body: sel, headers: map[string]string{"X-Test-User": "admin", "Content-Type": ct},
			wantStatus: status, check: check}
	}
	runScenarios(t, a.srv, []scenario{
		format("CSV: separator and BOM from csvExport, formulas neutralized, quoting", "text/csv; charset=UTF-8", 200,
			func(t *testing.T, rec *httptest.ResponseRecorder, body string) {
				if rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" || rec.Header().Get("Content-Disposition") != "attachment; filename=jst_doc.csv" {
					t.Errorf("headers %v", rec.Header())
				}
				want := "\uFEFFcode;name;qty;price;flag;made\r\n" +
					"f0;\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\";0;1.5;1;2026-01-02T03:04:05.000Z\r\n" +
					"f1;\"<script>alert(1)</script>;\"\"quoted\"\"\nline2\";-1;1.5;0;2026-01-02T03:04:05.000Z\r\n" +
					"f2;'-2+3;-2;1.5;1;2026-01-02T03:04:05.000Z\r\n" +
					"f3;'@SUM(A1:A2);-3;1.5;0;2026-01-02T03:04:05.000Z\r\n" +
					"f4;tab\tand \x01 control;-4;1.5;1;2026-01-02T03:04:05.000Z\r\n"
				if body != want {
					t.Errorf("CSV\n got %q\nwant %q", body, want)
				}
			}),
		format("HTML: every cell escaped, no script can run", "text/html", 200,
			func(t *testing.T, rec *httptest.ResponseRecorder, body string) {
				if !strings.Contains(body, "<td>&lt;script&gt;alert(1)&lt;/script&gt;;&#34;quoted&#34;\nline2</td>") || strings.Contains(body, "<script>") {
					t.Errorf("HTML not escaped: %s", body)
				}
				if !strings.Contains(body, "<th>code</th><th>name</th>") || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" ||
					!strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'none'") {
					t.Errorf("HTML %v %s", rec.Header(), body)
				}
			}),
		format("XML: a well-formed ADO rowset with the values back", "text/xml; charset=utf-8", 200,
			func(t *testing.T, rec *httptest.ResponseRecorder, body string) {
				if rec.Header().Get("Content-Disposition") != "attachment; filename=jst_doc.xml" {
					t.Errorf("headers %v", rec.Header())
				}
				vals := rowsetValues(t, body)
				if len(vals) != len(hostile) || vals[1]["c1"] != hostile[1] || vals[0]["c1"] != hostile[0] || vals[2]["c2"] != "-2" || vals[2]["c5"] != "2026-01-02T03:04:05" {
					t.Errorf("rowset values %q", vals)
				}
				if !strings.Contains(body, `rs:name="name"`) || !strings.Contains(body, `dt:type="i8"`) || strings.Contains(body, "\x01") {
					t.Errorf("rowset schema or control character: %s", body)
				}
			}),
		format("ODS: a zip whose first entry is the stored mimetype, content typed and escaped", "application/vnd.oasis.opendocument.spreadsheet", 200,
			func(t *testing.T, rec *httptest.ResponseRecorder, _ string) {
				checkODS(t, rec.Body.Bytes())
			}),
		{name: "a format needs exactly one item", method: "POST", url: "/ubql", body: "[" + sel[1:len(sel)-1] + "," + sel[1:len(sel)-1] + "]",
			headers: map[string]string{"X-Test-User": "admin", "Content-Type": "text/csv"}, wantStatus: 400, wantBody: []string{"exactly one UBQL item"}},
		{name: "a format is refused for writes, before anything is written", method: "POST", url: "/ubql",
			body:    `[{"entity": "jst_doc", "method": "insert", "execParams": {"code": "fmt-insert"}}]`,
			headers: map[string]string{"X-Test-User": "admin", "Content-Type": "text/html"}, wantStatus: 400},
		format("a format in another charset is refused", "text/csv; charset=latin1", 415, nil),
		format("any other type is still JSON only", "text/plain", 415, nil),
		format("JSON stays the default", "application/json", 200, func(t *testing.T, _ *httptest.ResponseRecorder, body string) {
			if !strings.Contains(body, `"resultData"`) {
				t.Errorf("not JSON: %s", body)
			}
		}),
	})
	if rows := a.docs(t, "fmt-insert"); len(rows) != 0 {
		t.Errorf("a refused format request wrote %v", rows)
	}
}

func withHeaders(r *http.Request, h map[string]string) *http.Request {
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return r
}

// rowsetValues parses an ADO rowset and returns each z:row's attributes.
func rowsetValues(t *testing.T, body string) []map[string]string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(body))
	var rows []map[string]string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return rows
		}
		if err != nil {
			t.Fatalf("rowset is not well-formed XML: %v\n%s", err, body)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "row" && se.Name.Space == "#RowsetSchema" {
			m := map[string]string{}
			for _, at := range se.Attr {
				m[at.Name.Local] = at.Value
			}
			rows = append(rows, m)
		}
	}
}

func checkODS(t *testing.T, b []byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("ODS is not a zip: %v", err)
	}
	if len(zr.File) < 3 || zr.File[0].Name != "mimetype" || zr.File[0].Method != zip.Store {
		t.Fatalf("ODS entries %v: the first must be the stored mimetype", zr.File)
	}
	read := func(name string) string {
		f, err := zr.Open(name)
		if err != nil {
			t.Fatalf("ODS %s: %v", name, err)
		}
		defer f.Close()
		data, _ := io.ReadAll(f)
		return string(data)
	}
	if read("mimetype") != "application/vnd.oasis.opendocument.spreadsheet" {
		t.Error("wrong mimetype")
	}
	content := read("content.xml")
	dec := xml.NewDecoder(strings.NewReader(content))
	var texts []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("content.xml is not well-formed: %v", err)
		}
		if cd, ok := tok.(xml.CharData); ok {
			texts = append(texts, string(cd))
		}
	}
	all := strings.Join(texts, "|")
	if !strings.Contains(all, hostile[0]) || !strings.Contains(all, "<script>alert(1)</script>") {
		t.Errorf("ODS texts %q", all)
	}
	if !strings.Contains(content, `office:value-type="float" office:value="-2"`) ||
		!strings.Contains(content, `office:date-value="2026-01-02T03:04:05"`) || strings.Contains(content, "table:formula") {
		t.Errorf("ODS cells not typed: %s", content)
	}
	read("META-INF/manifest.xml")
}

func testRequestLang(t *testing.T, a *jsApp) {
	// GET /ubql is 405 with the server's localized text: the request's language shows.
	cases := []struct {
		name    string
		headers map[string]string
		url     string
		want    string
	}{
		{"the session's uData.lang wins over Accept-Language and ?lang", tester("Accept-Language", "en"), "/ubql?lang=en", "Метод не дозволено"},
		{"a session's Lang wins over Accept-Language", map[string]string{"X-Test-User": "en", "Accept-Language": "uk"}, "/ubql", "Method Not Allowed"},
		{"without a session language, Accept-Language", map[string]string{"X-Test-User": "nolang", "Accept-Language": "uk-UA,uk;q=0.9"}, "/ubql", "Метод не дозволено"},
		{"else the default language", map[string]string{"X-Test-User": "nolang", "Accept-Language": "de"}, "/ubql", "Method Not Allowed"},
	}
	var sc []scenario
	for _, c := range cases {
		sc = append(sc, scenario{name: c.name, url: c.url, headers: c.headers, wantStatus: 405, wantBody: []string{c.want}})
	}
	runScenarios(t, a.srv, sc)
}
