package jsvm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/runtime/jsvm"
	"github.com/ubgo/ubgo/security/els"
	"github.com/ubgo/ubgo/server"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/storetest"
	"github.com/ubgo/ubgo/ubql"
)

// The permission scenarios: one JSON file per case under testdata/perm/cases, each run on
// SQLite and PostgreSQL against a fresh database of testdata/perm, through the real
// HTTP handler with a session of the case's user (see permCase).

// permCase is one scenario file.
type permCase struct {
	Description string `json:"description"`
	// Roles are created in uba_role (as "<name>"); Users in uba_user, holding Roles (custom
	// or built-in, by name) through uba_userrole. Sessions hold Everyone and User as well.
	Roles []string `json:"roles"`
	Users []struct {
		Name  string   `json:"name"`
		Roles []string `json:"roles"`
	} `json:"users"`
	// ELS rules to add to uba_els.
	ELS []struct {
		Code     string `json:"code"`
		Entity   string `json:"entity"`
		Method   string `json:"method"`
		Type     string `json:"type"`
		Role     string `json:"role"`
		Disabled bool   `json:"disabled"`
	} `json:"els"`
	// Fixtures run before the request, as server-side code of the named user ("" is
	// root): they fire events but pass no security check.
	Fixtures []struct {
		As      string          `json:"as"`
		Request json.RawMessage `json:"request"`
	} `json:"fixtures"`
	// As sends Request (a /ubql batch) as the named user.
	As      string          `json:"as"`
	Request json.RawMessage `json:"request"`
	Status  int             `json:"status"`
	ErrCode int             `json:"errCode"`
	// Rows: the IDs item Item returned (all of them, in any order) and IDs it must not.
	Rows []struct {
		Item   int     `json:"item"`
		IDs    []int64 `json:"ids"`
		Absent []int64 `json:"absent"`
	} `json:"rows"`
	// Values: the value of Field in the row ID of item Item.
	Values []struct {
		Item  int    `json:"item"`
		ID    int64  `json:"id"`
		Field string `json:"field"`
		Value any    `json:"value"`
	} `json:"values"`
	// Echo: top-level keys of response item Item (what a method wrote into ctx.mParams).
	Echo []struct {
		Item  int    `json:"item"`
		Key   string `json:"key"`
		Value any    `json:"value"`
	} `json:"echo"`
	// BodyNot are texts the response body must not contain.
	BodyNot []string `json:"bodyNot"`
	// Events are exactly the entity events the request fired, in order.
	Events []string `json:"events"`
	// Denied are the "entity.method" security violations reported to OnDenied.
	Denied []string `json:"denied"`
	// Check runs selects as root afterwards: the IDs each must return.
	Check []struct {
		Request json.RawMessage `json:"request"`
		IDs     []int64         `json:"ids"`
	} `json:"check"`
	// DomainInfo: the methods getDomainInfo lists for the user per entity (none: absent).
	DomainInfo map[string][]string `json:"domainInfo"`
	// AppEls: App.els("entity.method") for the user, from a model endpoint.
	AppEls map[string]bool `json:"appEls"`
}

// eventLog collects the "prm-event" lines the PRM model logs and every other record.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *eventLog) Handle(_ context.Context, r slog.Record) error {
	if ev, ok := strings.CutPrefix(r.Message, "prm-event "); ok {
		l.mu.Lock()
		l.events = append(l.events, ev)
		l.mu.Unlock()
	}
	return nil
}
func (l *eventLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *eventLog) WithGroup(string) slog.Handler      { return l }

func (l *eventLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	return out
}

// permApp is testdata/perm served as in cmd/ubgo serve, with a stub authorizer whose
// sessions the test names.
type permApp struct {
	st      *store.Store
	prog    *jsvm.Program
	disp    *jsvm.Dispatcher
	holder  *els.Holder
	watcher *els.Watcher
	seedMax int64 // the largest ID of the seeded UBA rows
	srv     *server.Server
	log     *eventLog
	users   map[string]*store.Session
	roleIDs map[string]int64

	mu     sync.Mutex
	denied []string
}

type stubAuth struct{ a *permApp }

func (s stubAuth) Authenticate(r *http.Request) (*store.Session, error) {
	sess := s.a.users[r.Header.Get("X-Test-User")]
	if sess == nil {
		return nil, &server.Error{Status: http.StatusUnauthorized, Code: server.CodeNeedAuth, Detail: "unknown test user"}
	}
	return sess, nil
}

func newPermApp(t testing.TB, dialect string) *permApp {
	t.Helper()
	ctx := context.Background()
	db := storetest.Connection(t, dialect).DatabaseName
	env := map[string]string{"TST_DRIVER": dialect, "TST_DB": db}
	evlog := &eventLog{}
	log := slog.New(evlog)
	app, err := boot.Load(ctx, boot.Options{ConfigFile: "testdata/perm/ubconfig.json", Logger: slog.New(slog.DiscardHandler),
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, app.Config, app.Domain, store.Options{Create: true, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Init(ctx, store.InitOptions{AdminPassword: "admin"}); err != nil {
		t.Fatal(err)
	}
	prog, err := jsvm.Load(ctx, app.Domain, app.Config, log)
	if err != nil {
		t.Fatal(err)
	}
	holder, watcher, err := els.Start(ctx, st, jsvm.AllMethods(prog), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(watcher.Stop)
	a := &permApp{st: st, prog: prog, holder: holder, watcher: watcher, log: evlog}
	pool := jsvm.NewPool(prog, jsvm.PoolOptions{Size: 2, ELS: holder.Allow})
	t.Cleanup(pool.Close)
	a.disp = &jsvm.Dispatcher{Store: st, Pool: pool, Allow: holder.Allow,
		OnDenied: func(_ context.Context, sess *store.Session, entity, method, reason string) {
			if reason == "" || sess == nil {
				t.Errorf("OnDenied without a reason or session")
			}
			a.mu.Lock()
			a.denied = append(a.denied, entity+"."+method)
			a.mu.Unlock()
		}}
	srv, err := server.NewWithOptions(app.Config, app.Domain, slog.New(slog.DiscardHandler), server.Options{
		Authorizer: stubAuth{a}, Dispatcher: a.disp, MethodAllowed: holder.Allow,
		EntityMethods: jsvm.EntityMethods(prog)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.MountJS(pool, st); err != nil {
		t.Fatal(err)
	}
	a.srv = srv
	c := st.Default()
	for _, e := range []string{"uba_els", "uba_subject", "uba_userrole"} {
		var n int64
		q := "SELECT MAX(ID) FROM " + c.Dialect.Ident(app.Domain.Entity(e).ExecName(c.Dialect.Name()))
		if err := c.Read.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		a.seedMax = max(a.seedMax, n)
	}
	a.reset(t)
	return a
}

// permTables are PRM's tables, in an order that deletes referring rows first.
var permTables = []string{"prm_desk_adm", "prm_desk", "prm_secret", "prm_doc", "prm_row", "prm_note", "prm_lost"}

// reset brings the database back to its seeded state (the scenarios of a dialect share
// one database: migrating a fresh one per scenario is slow on PostgreSQL) and rebuilds
// the matrix, which raw SQL does not notify.
func (a *permApp) reset(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	c := a.st.Default()
	d := c.Dialect
	table := func(name string) string { return d.Ident(a.st.Domain.Entity(name).ExecName(d.Name())) }
	var stmts []string
	for _, name := range permTables {
		stmts = append(stmts, "DELETE FROM "+table(name))
	}
	for _, name := range []string{"uba_els", "uba_userrole", "uba_user", "uba_role", "uba_subject"} {
		stmts = append(stmts, fmt.Sprintf("DELETE FROM %s WHERE ID > %d", table(name), a.seedMax))
	}
	for _, q := range stmts {
		if _, err := c.Write.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := a.watcher.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	a.users, a.roleIDs = map[string]*store.Session{}, map[string]int64{}
	for _, r := range store.BuiltinRoles {
		a.roleIDs[r.Name] = r.ID
	}
	a.log.take()
	a.mu.Lock()
	a.denied = nil
	a.mu.Unlock()
}

// root runs a batch as root, server-side (no security check), and returns the responses.
func (a *permApp) root(t testing.TB, as string, body []byte) []*ubql.Response {
	t.Helper()
	reqs, err := ubql.DecodeBatch(body)
	if err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	sess := store.System
	if as != "" {
		u := *a.users[as]
		u.External = false
		sess = &u
	}
	resp, err := a.disp.Run(context.Background(), sess, reqs)
	if err != nil {
		t.Fatalf("as %q: %s: %v", as, body, err)
	}
	return resp
}

func (a *permApp) insert(t testing.TB, entity string, params map[string]any) int64 {
	t.Helper()
	body, _ := json.Marshal([]map[string]any{{"entity": entity, "method": "insert", "execParams": params}})
	resp := a.root(t, "", body)
	id, _ := resp[0].Request.ExecParams["ID"].(int64)
	return id
}

// setup creates the case's roles, users and rules.
func (a *permApp) setup(t testing.TB, c *permCase) {
	t.Helper()
	for _, r := range c.Roles {
		a.roleIDs[r] = a.insert(t, "uba_role", map[string]any{"name": r, "description": r, "allowedAppMethods": "ubql", "sessionTimeout": 30})
	}
	for i, u := range c.Users {
		id := a.insert(t, "uba_user", map[string]any{"name": u.Name, "fullName": u.Name, "uPasswordHashHexa": store.PasswordHash(u.Name + "-secret")})
		sess := &store.Session{UserID: id, UserName: u.Name, Lang: "en", ID: int64(1000 + i),
			RoleIDs: []int64{store.RoleEveryone, store.RoleUser}, RoleNames: []string{"Everyone", "User"}}
		for _, rn := range u.Roles {
			rid, ok := a.roleIDs[rn]
			if !ok {
				t.Fatalf("user %s: unknown role %q", u.Name, rn)
			}
			if rid != store.RoleEveryone && rid != store.RoleUser {
				a.insert(t, "uba_userrole", map[string]any{"userID": id, "roleID": rid})
				sess.RoleIDs = append(sess.RoleIDs, rid)
				sess.RoleNames = append(sess.RoleNames, rn)
			}
		}
		a.users[u.Name] = sess
	}
	for _, r := range c.ELS {
		rid, ok := a.roleIDs[r.Role]
		if !ok {
			t.Fatalf("rule %s: unknown role %q", r.Code, r.Role)
		}
		a.insert(t, "uba_els", map[string]any{"code": r.Code, "entityMask": r.Entity, "methodMask": r.Method,
			"ruleType": r.Type, "ruleRole": rid, "disabled": r.Disabled, "description": "test rule " + r.Code})
	}
	for _, f := range c.Fixtures {
		a.root(t, f.As, f.Request)
	}
}

func (a *permApp) do(t testing.TB, method, url, user string, body []byte) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Test-User", user)
	rec := httptest.NewRecorder()
	a.srv.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

func TestPermissionScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/perm/cases/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			a := newPermApp(t, d)
			for _, f := range files {
				t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
					raw, err := os.ReadFile(f)
					if err != nil {
						t.Fatal(err)
					}
					var c permCase
					dec := json.NewDecoder(bytes.NewReader(raw))
					dec.DisallowUnknownFields()
					if err := dec.Decode(&c); err != nil {
						t.Fatalf("%s: %v", f, err)
					}
					a.reset(t)
					runPermCase(t, a, &c)
				})
			}
		})
	}
}

func runPermCase(t *testing.T, a *permApp, c *permCase) {
	a.setup(t, c)
	a.log.take()
	a.mu.Lock()
	a.denied = nil
	a.mu.Unlock()

	if c.Request != nil {
		status, body := a.do(t, http.MethodPost, "/ubql", c.As, c.Request)
		if status != c.Status {
			t.Fatalf("status %d, want %d: %s", status, c.Status, body)
		}
		events := a.log.take()
		if !slices.Equal(events, c.Events) && !(len(events) == 0 && len(c.Events) == 0) {
			t.Errorf("events %q, want %q", events, c.Events)
		}
		a.mu.Lock()
		denied := a.denied
		a.mu.Unlock()
		if !slices.Equal(denied, c.Denied) && !(len(denied) == 0 && len(c.Denied) == 0) {
			t.Errorf("security violations reported %q, want %q", denied, c.Denied)
		}
		for _, s := range c.BodyNot {
			if bytes.Contains(body, []byte(s)) {
				t.Errorf("the response contains %q: %s", s, body)
			}
		}
		if c.Status != http.StatusOK {
			var e struct {
				ErrCode int    `json:"errCode"`
				ErrMsg  string `json:"errMsg"`
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("error body %s: %v", body, err)
			}
			if e.ErrCode != c.ErrCode {
				t.Errorf("errCode %d, want %d: %s", e.ErrCode, c.ErrCode, body)
			}
			if c.ErrCode == store.CodeAccessDeny && !strings.Contains(e.ErrMsg, "Access deny") {
				t.Errorf("errMsg %q does not say Access deny", e.ErrMsg)
			}
		} else {
			checkRows(t, c, body)
		}
	}
	for i, ch := range c.Check {
		resp := a.root(t, "", ch.Request)
		got := ids(resp[0].ResultData)
		if !sameIDs(got, ch.IDs) {
			t.Errorf("check %d: IDs %v, want %v", i, got, ch.IDs)
		}
	}
	for entity, want := range c.DomainInfo {
		status, body := a.do(t, http.MethodGet, "/getDomainInfo?v=2&userName="+a.users[c.As].UserName, c.As, nil)
		if status != http.StatusOK {
			t.Fatalf("getDomainInfo: %d %s", status, body)
		}
		var di struct {
			Domain map[string]struct {
				EntityMethods map[string]int `json:"entityMethods"`
			} `json:"domain"`
		}
		if err := json.Unmarshal(body, &di); err != nil {
			t.Fatal(err)
		}
		ent, ok := di.Domain[entity]
		var got []string
		for m := range ent.EntityMethods {
			got = append(got, m)
		}
		sort.Strings(got)
		w := slices.Sorted(slices.Values(want))
		if len(want) == 0 && ok {
			t.Errorf("getDomainInfo lists %s with %v, want it absent", entity, got)
		} else if !slices.Equal(got, w) {
			t.Errorf("getDomainInfo %s methods %v, want %v", entity, got, w)
		}
	}
	for call, want := range c.AppEls {
		status, body := a.do(t, http.MethodGet, "/prmEls?"+call, c.As, nil)
		if status != http.StatusOK {
			t.Fatalf("prmEls: %d %s", status, body)
		}
		var got struct{ Allowed, ViaEntity bool }
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if got.Allowed != want || got.ViaEntity != want {
			t.Errorf("App.els(%s) = %v, haveAccessToMethod %v, want %v", call, got.Allowed, got.ViaEntity, want)
		}
	}
}

// response is a /ubql response item as JSON.
type response struct {
	ResultData struct {
		Fields []string `json:"fields"`
		Data   [][]any  `json:"data"`
	} `json:"resultData"`
}

func checkRows(t *testing.T, c *permCase, body []byte) {
	t.Helper()
	var resp []response
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	row := func(item int, id int64) map[string]any {
		rd := resp[item].ResultData
		for _, r := range rd.Data {
			m := map[string]any{}
			for i, f := range rd.Fields {
				m[f] = r[i]
			}
			if fmt.Sprint(m["ID"]) == fmt.Sprint(id) {
				return m
			}
		}
		return nil
	}
	for _, r := range c.Rows {
		rd := resp[r.Item].ResultData
		var got []int64
		for _, row := range rd.Data {
			m := map[string]any{}
			for i, f := range rd.Fields {
				m[f] = row[i]
			}
			if id, ok := m["ID"].(float64); ok {
				got = append(got, int64(id))
			}
		}
		if r.IDs != nil && !sameIDs(got, r.IDs) {
			t.Errorf("item %d: IDs %v, want %v", r.Item, got, r.IDs)
		}
		for _, id := range r.Absent {
			if slices.Contains(got, id) {
				t.Errorf("item %d: row %d is visible: %v", r.Item, id, got)
			}
		}
	}
	var echo []map[string]any
	if err := json.Unmarshal(body, &echo); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	for _, e := range c.Echo {
		if fmt.Sprint(echo[e.Item][e.Key]) != fmt.Sprint(e.Value) {
			t.Errorf("item %d: %s = %v, want %v", e.Item, e.Key, echo[e.Item][e.Key], e.Value)
		}
	}
	for _, v := range c.Values {
		m := row(v.Item, v.ID)
		if m == nil {
			t.Errorf("item %d: no row %d", v.Item, v.ID)
			continue
		}
		if fmt.Sprint(m[v.Field]) != fmt.Sprint(v.Value) {
			t.Errorf("item %d row %d: %s = %v, want %v", v.Item, v.ID, v.Field, m[v.Field], v.Value)
		}
	}
}

func ids(rd *ubql.ResultData) []int64 {
	var out []int64
	if rd == nil {
		return out
	}
	col := slices.Index(rd.Fields, "ID")
	for _, r := range rd.Data {
		if id, ok := r[col].(int64); ok {
			out = append(out, id)
		}
	}
	return out
}

func sameIDs(a, b []int64) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// TestDispatcherChecks: what the dispatcher checks and for whom.
func TestDispatcherChecks(t *testing.T) {
	a := newPermApp(t, storetest.SQLite3)
	a.setup(t, &permCase{})
	ctx := context.Background()
	reqs := func(js string) []*ubql.Request {
		r, err := ubql.DecodeBatch([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	noRoles := &store.Session{UserID: store.UserAdmin, UserName: "admin", External: true}
	sel := `[{"entity":"prm_doc","method":"select","fieldList":["ID"]}]`
	if _, err := a.disp.Run(ctx, noRoles, reqs(sel)); err == nil {
		t.Fatal("a client session without roles may select")
	}
	internal := *noRoles
	internal.External = false
	if _, err := a.disp.Run(ctx, &internal, reqs(sel)); err != nil {
		t.Fatalf("server-side calls are not checked: %v", err)
	}
	root := &store.Session{UserID: store.UserRoot, UserName: "root", External: true}
	if _, err := a.disp.Run(ctx, root, reqs(`[{"entity":"uba_user","method":"select","fieldList":["ID","uPasswordHashHexa"]}]`)); err != nil {
		t.Fatalf("root is refused: %v", err)
	}
	open := *a.disp
	open.Allow = nil // an application without authentication
	if _, err := open.Run(ctx, noRoles, reqs(sel)); err != nil {
		t.Fatalf("Allow nil refuses: %v", err)
	}
	if _, err := open.Run(ctx, noRoles, reqs(`[{"entity":"prm_secret","method":"select","fieldList":["ID","pin"]}]`)); err == nil {
		t.Fatal("attribute restrictions do not apply without Allow")
	}
	open.OnDenied = nil
	if _, err := open.Run(ctx, noRoles, reqs(`[{"entity":"prm_secret","method":"select","fieldList":["ID","pin"]}]`)); err == nil {
		t.Fatal("attribute restrictions do not apply without OnDenied")
	}
}

// BenchmarkDispatchELS is the cost of the ELS check on the dispatch path: a one-row
// select on the Go path with the check off (Allow nil) and on.
func BenchmarkDispatchELS(b *testing.B) {
	a := newPermApp(b, storetest.SQLite3)
	ctx := context.Background()
	sess := &store.Session{UserID: store.UserAdmin, UserName: "admin", External: true,
		RoleIDs: []int64{store.RoleEveryone, store.RoleUser, store.RoleAdmin}, RoleNames: []string{"Everyone", "User", "Admin"}}
	reqs, err := ubql.DecodeBatch([]byte(`[{"entity":"uba_role","method":"select","fieldList":["ID","name"],"ID":1}]`))
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"off", "on"} {
		b.Run(mode, func(b *testing.B) {
			d := *a.disp
			if mode == "off" {
				d.Allow = nil
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Run(ctx, sess, reqs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
