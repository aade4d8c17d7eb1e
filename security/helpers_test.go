package security_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ubgo/ubgo/config"
	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/security"
	"github.com/ubgo/ubgo/server"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/storetest"
	"github.com/ubgo/ubgo/ubql"
)

// clock is a settable test clock shared by the store and the security service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// logBuffer captures a logger's output, to check that no secret reaches it.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// env is the test application served by a real server.Server with a security.Service.
type env struct {
	t      testing.TB
	ctx    context.Context
	cfg    *config.Config
	st     *store.Store
	svc    *security.Service
	srv    *server.Server
	clk    *clock
	log    *logBuffer
	hooks  *hookCounts
	dbName string
}

// setup adjusts an env before it is built.
type setup struct {
	security func(*config.Security)
	custom   map[string]any // application.customSettings
	options  func(*security.Options)
	db       string // an existing database (the shared-PostgreSQL test); fresh when ""
	clk      *clock
	quiet    bool // discard the log (benchmarks)
}

// hookCounts records what the Hooks saw.
type hookCounts struct {
	mu                                 sync.Mutex
	logins, failures, violations, outs int
	locked                             int
	refuse                             error // OnLogin fails with it when set
}

func (h *hookCounts) hooks() security.Hooks {
	return security.Hooks{
		OnLogin: func(_ context.Context, ev *security.LoginEvent) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.refuse != nil {
				return h.refuse
			}
			h.logins++
			ev.Session.UData["hooked"] = ev.Method
			return nil
		},
		OnLoginFailed: func(_ context.Context, ev security.LoginFailure) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.failures++
			if ev.Locked {
				h.locked++
			}
		},
		OnSecurityViolation: func(context.Context, security.Violation) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.violations++
		},
		OnLogout: func(context.Context, *store.Session) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.outs++
		},
	}
}

func (h *hookCounts) get() (logins, failures, violations, outs, locked int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.logins, h.failures, h.violations, h.outs, h.locked
}

const adminPassword = "admin" // the password of the §6.5.1 test vectors

// newEnv boots testdata/app on dialect d, initializes the database (admin password
// "admin"), and serves it with a Service as Authorizer, AuthService and endpoint check,
// the store as Dispatcher, and extra endpoints that answer the request's session: whoami
// (authorization required, granted to Everyone), whoamiPublic (no authorization) and
// restricted (authorization required, granted to nobody but through allowedAppMethods),
// and ping / pingPublic, which answer "ok" with and without authorization (benchmarks).
func newEnv(t testing.TB, d string, su setup) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), log: &logBuffer{}, hooks: &hookCounts{}, clk: su.clk}
	if e.clk == nil {
		e.clk = &clock{t: time.Now().UTC().Truncate(time.Second)}
	}
	e.dbName = su.db
	if e.dbName == "" {
		e.dbName = storetest.Connection(t, d).DatabaseName
	}
	vars := map[string]string{"TST_DRIVER": d, "TST_DB": e.dbName}
	log := slog.New(slog.NewJSONHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if su.quiet {
		log = slog.New(slog.DiscardHandler)
	}
	app, err := boot.Load(e.ctx, boot.Options{ConfigFile: "testdata/app/ubconfig.json", Logger: log,
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	e.cfg = app.Config
	if su.security != nil {
		su.security(&e.cfg.Security)
	}
	if su.custom != nil {
		e.cfg.Application.CustomSettings = su.custom
	}
	e.st, err = store.Open(e.ctx, app.Config, app.Domain, store.Options{Create: true, Logger: log, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.st.Close() })
	if _, err := e.st.Init(e.ctx, store.InitOptions{AdminPassword: adminPassword}); err != nil {
		t.Fatal(err)
	}
	opt := security.Options{Config: app.Config, Domain: app.Domain, Store: e.st, Logger: log, Now: e.clk.Now,
		ClientIP: server.RemoteIP, Hooks: e.hooks.hooks(), EndpointGrants: map[string][]string{"whoami": {"Everyone"}, "ping": {"Everyone"}}}
	if su.options != nil {
		su.options(&opt)
	}
	e.svc, err = security.New(e.ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.svc.Close() })
	e.srv, err = server.NewWithOptions(app.Config, app.Domain, log, server.Options{Authorizer: e.svc, Auth: e.svc,
		EndpointAllowed: e.svc.EndpointAllowed, Dispatcher: e.st, Stats: e.svc.Stats})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.srv.Close() })
	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := server.Session(r)
		if s == nil {
			w.Write([]byte(`null`))
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"userID": s.UserID, "user": s.UserName, "sessionID": s.ID,
			"roles": s.RoleNames, "roleIDs": s.RoleIDs, "ip": s.RemoteIP, "lang": s.Lang, "uData": s.UData})
	})
	e.srv.Handle("whoami", whoami, true)
	e.srv.Handle("whoamiPublic", whoami, false)
	e.srv.Handle("restricted", whoami, true)
	ping := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	e.srv.Handle("ping", ping, true)
	e.srv.Handle("pingPublic", ping, false)
	return e
}

// req is one request through the handler.
type req struct {
	method  string
	url     string
	body    string
	headers map[string]string
	remote  string // RemoteAddr; 192.0.2.1:1234 (httptest's) when empty
}

func (e *env) do(r req) *httptest.ResponseRecorder {
	e.t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequest(r.method, r.url, body)
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, hr)
	return rec
}

// errBody decodes an error answer.
func errBody(t testing.TB, rec *httptest.ResponseRecorder) (code int, msg string) {
	t.Helper()
	var b struct {
		ErrCode int    `json:"errCode"`
		ErrMsg  string `json:"errMsg"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil || b.ErrCode == 0 {
		t.Fatalf("not an error body (%d): %s", rec.Code, rec.Body)
	}
	return b.ErrCode, b.ErrMsg
}

// wantErr checks an error answer's status, errCode and (when msg is not "") text.
func wantErr(t testing.TB, rec *httptest.ResponseRecorder, status, code int, msg string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
	c, m := errBody(t, rec)
	if c != code || msg != "" && m != msg {
		t.Fatalf("errCode %d %q, want %d %q", c, m, code, msg)
	}
}

// client is a logged-in UB client.
type client struct {
	e      *env
	user   string
	secret string // the password hash
	result string // "<sessionID>+<key>"
	uData  map[string]any
	remote string
}

// handshake runs both /auth steps as a UnityBase client does and returns the second
// answer. via is "GET", "POST" (parameters in the query, empty body: ub-pub) or "FORM"
// (a form-encoded body).
func (e *env) handshake(via, user, password, remote string) *httptest.ResponseRecorder {
	e.t.Helper()
	rec := e.authRequest(via, url.Values{"AUTHTYPE": {"UB"}, "userName": {user}}, remote)
	if rec.Code != http.StatusOK {
		return rec
	}
	var step1 struct{ Result, ConnectionID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &step1); err != nil || step1.Result == "" {
		e.t.Fatalf("step 1: %s", rec.Body)
	}
	clientNonce := "ffac6401331cce72e82ecfa8dd40c8cb4456098000392da2bac8c41d19b57467"
	proof := security.PasswordProof("/", step1.Result, clientNonce, user, store.PasswordHash(password))
	return e.authRequest(via, url.Values{"AUTHTYPE": {"UB"}, "userName": {user}, "clientNonce": {clientNonce},
		"password": {proof}, "connectionID": {step1.ConnectionID}}, remote)
}

func (e *env) authRequest(via string, params url.Values, remote string) *httptest.ResponseRecorder {
	switch via {
	case "FORM":
		return e.do(req{method: "POST", url: "/auth", body: params.Encode(), remote: remote,
			headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	case "GET":
		return e.do(req{url: "/auth?" + params.Encode(), remote: remote})
	}
	return e.do(req{method: "POST", url: "/auth?" + params.Encode(), remote: remote})
}

// login logs in over POST as ub-pub does and fails the test unless it works.
func (e *env) login(user, password string) *client {
	e.t.Helper()
	return e.loginFrom(user, password, "")
}

func (e *env) loginFrom(user, password, remote string) *client {
	e.t.Helper()
	rec := e.handshake("POST", user, password, remote)
	if rec.Code != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", user, rec.Code, rec.Body)
	}
	return e.clientOf(rec, user, password, remote)
}

func (e *env) clientOf(rec *httptest.ResponseRecorder, user, password, remote string) *client {
	e.t.Helper()
	var ans struct {
		Result, Logonname, UData string
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil || !strings.Contains(ans.Result, "+") {
		e.t.Fatalf("auth answer: %s", rec.Body)
	}
	c := &client{e: e, user: user, secret: store.PasswordHash(password), result: ans.Result, remote: remote}
	if err := json.Unmarshal([]byte(ans.UData), &c.uData); err != nil {
		e.t.Fatalf("uData is not a JSON string of an object: %q", ans.UData)
	}
	return c
}

// sign is the signature of a request at the env's current time.
func (c *client) sign() string { return security.Sign(c.result, c.secret, c.e.clk.Now()) }

// call sends a request signed at the current time.
func (c *client) call(method, url, body string) *httptest.ResponseRecorder {
	c.e.t.Helper()
	return c.callWith(method, url, body, c.sign())
}

func (c *client) callWith(method, url, body, sig string) *httptest.ResponseRecorder {
	c.e.t.Helper()
	h := map[string]string{"Authorization": "UB " + sig}
	if body != "" {
		h["Content-Type"] = "application/json"
	}
	return c.e.do(req{method: method, url: url, body: body, headers: h, remote: c.remote})
}

// whoami is the session the server gives a signed request.
func (c *client) whoami() (int, map[string]any) {
	c.e.t.Helper()
	rec := c.call("GET", "/whoami", "")
	var m map[string]any
	if rec.Code == http.StatusOK {
		json.Unmarshal(rec.Body.Bytes(), &m)
	}
	return rec.Code, m
}

// addUser creates an enabled user with a password and roles (by name).
func (e *env) addUser(name, password string, roles ...string) int64 {
	e.t.Helper()
	tx := e.st.Begin(store.System)
	defer tx.Rollback()
	resp, err := tx.Insert(e.ctx, &ubql.Request{Entity: "uba_user", Method: "insert",
		ExecParams: map[string]any{"name": name, "fullName": name, "uPasswordHashHexa": store.PasswordHash(password)}})
	if err != nil {
		e.t.Fatal(err)
	}
	id := resp.Request.ExecParams["ID"].(int64)
	for _, role := range roles {
		sel, err := tx.Select(e.ctx, &ubql.Request{Entity: "uba_role", Method: "select", FieldList: []string{"ID"},
			WhereList: []ubql.WhereItem{{Name: "n", Expression: "[name]", Condition: ubql.Equal, Value: role, HasValue: true}}})
		if err != nil || len(sel.ResultData.Data) != 1 {
			e.t.Fatalf("role %s: %v", role, err)
		}
		if _, err := tx.Insert(e.ctx, &ubql.Request{Entity: "uba_userrole", Method: "insert",
			ExecParams: map[string]any{"userID": id, "roleID": sel.ResultData.Data[0][0]}}); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// update changes a row as server code does.
func (e *env) update(entity string, params map[string]any) {
	e.t.Helper()
	tx := e.st.Begin(store.System)
	defer tx.Rollback()
	if _, err := tx.Update(e.ctx, &ubql.Request{Entity: entity, Method: "update", ExecParams: params,
		Misc: ubql.Misc{SkipOptimisticLock: true}}); err != nil {
		e.t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		e.t.Fatal(err)
	}
}

// rows selects as the system and returns the rows as maps.
func (e *env) rows(entity string, fields []string, where ...ubql.WhereItem) []map[string]any {
	e.t.Helper()
	tx := e.st.Begin(store.System)
	defer tx.Rollback()
	resp, err := tx.Select(e.ctx, &ubql.Request{Entity: entity, Method: "select", FieldList: fields, WhereList: where,
		OrderList: []ubql.OrderItem{{Expression: "[ID]", Order: "asc"}}})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []map[string]any
	for _, r := range resp.ResultData.Data {
		m := map[string]any{}
		for i, f := range resp.ResultData.Fields {
			m[f] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// audits are the uba_audit rows of an action, oldest first.
func (e *env) audits(action string) []map[string]any {
	e.t.Helper()
	return e.rows("uba_audit", []string{"actionType", "actionUser", "targetUser", "remoteIP", "entityinfo_id", "toValue"},
		ubql.WhereItem{Name: "a", Expression: "[actionType]", Condition: ubql.Equal, Value: action, HasValue: true})
}

func eq(field string, v any) ubql.WhereItem {
	return ubql.WhereItem{Name: field, Expression: "[" + field + "]", Condition: ubql.Equal, Value: v, HasValue: true}
}
