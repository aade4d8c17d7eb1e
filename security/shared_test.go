package security_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/ubgo/ubgo/config"
	"github.com/ubgo/ubgo/security"
	"github.com/ubgo/ubgo/server"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/storetest"
)

// TestTwoProcessesShareSessions runs two servers, each with its own store, pools and
// security service, on one PostgreSQL schema, as two ubgo processes behind a load
// balancer: a session made on one works on the other, a logout on either ends it for both,
// a handshake may finish on the other process, failures add up across them, and
// Singleton holds across them.
func TestTwoProcessesShareSessions(t *testing.T) {
	db := storetest.NewSchema(t)
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	custom := map[string]any{"UBA.passwordPolicy.maxInvalidAttempts": 3}
	a := newEnv(t, storetest.PostgreSQL, setup{db: db, clk: clk, custom: custom})
	b := newEnv(t, storetest.PostgreSQL, setup{db: db, clk: clk, custom: custom})
	on := func(e *env, c *client) *client { cp := *c; cp.e = e; return &cp }

	ca := a.login("admin", adminPassword)
	if code, who := on(b, ca).whoami(); code != 200 || who["userID"] != float64(store.UserAdmin) {
		t.Fatalf("A's session on B: %d %v", code, who)
	}
	if rec := on(b, ca).call("POST", "/ubql", insertNote); rec.Code != 200 {
		t.Fatalf("A's session, ubql on B: %d %s", rec.Code, rec.Body)
	}
	if rec := on(b, ca).call("POST", "/logout", ""); rec.Code != 200 {
		t.Fatalf("logout on B: %d", rec.Code)
	}
	if code, _ := ca.whoami(); code != 401 {
		t.Fatalf("A after the logout on B: %d", code)
	}

	// Step 1 on A, step 2 on B.
	rec := a.do(req{url: "/auth?AUTHTYPE=UB&userName=admin"})
	var s1 struct{ Result, ConnectionID string }
	decode(t, rec.Body.Bytes(), &s1)
	rec = b.do(req{method: "POST", url: "/auth?" + url.Values{"AUTHTYPE": {"UB"}, "userName": {"admin"}, "clientNonce": {"cn"},
		"connectionID": {s1.ConnectionID},
		"password":     {security.PasswordProof("/", s1.Result, "cn", "admin", store.PasswordHash(adminPassword))}}.Encode()})
	if rec.Code != 200 {
		t.Fatalf("handshake across processes: %d %s", rec.Code, rec.Body)
	}
	cb := b.clientOf(rec, "admin", adminPassword, "")
	if code, _ := on(a, cb).whoami(); code != 200 {
		t.Fatalf("B's session on A: %d", code)
	}
	// The nonce is spent for both.
	rec = a.do(req{method: "POST", url: "/auth?" + url.Values{"AUTHTYPE": {"UB"}, "userName": {"admin"}, "clientNonce": {"cn"},
		"connectionID": {s1.ConnectionID},
		"password":     {security.PasswordProof("/", s1.Result, "cn", "admin", store.PasswordHash(adminPassword))}}.Encode()})
	wantErr(t, rec, 403, security.CodeInvalidUserOrPwd, "")

	// Failed logins count across processes.
	a.addUser("bob", "bob-pass")
	a.handshake("POST", "bob", "x", "")
	b.handshake("POST", "bob", "x", "")
	a.handshake("POST", "bob", "x", "")
	wantErr(t, b.handshake("POST", "bob", "bob-pass", ""), 403, security.CodeInvalidUserOrPwd, "<<<Access deny>>>")

	// A user disabled through B loses the session made on A; the change reaches A through
	// PostgreSQL's notifications, so give it a moment.
	a.addUser("carol", "carol-pass")
	carol := a.login("carol", "carol-pass")
	id := a.rows("uba_user", []string{"ID"}, eq("name", "carol"))[0]["ID"]
	b.update("uba_user", map[string]any{"ID": id, "disabled": int64(1)})
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _ := carol.whoami()
		if code == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("A still serves a user disabled on B: %d", code)
		}
		time.Sleep(20 * time.Millisecond)
	}

	if n := a.svc.Stats()["sessions_total"]; n != b.svc.Stats()["sessions_total"] {
		t.Fatalf("the processes count sessions differently: %v", n)
	}
}

// TestTwoProcessesSingleton: Singleton is enforced across processes.
func TestTwoProcessesSingleton(t *testing.T) {
	db := storetest.NewSchema(t)
	mode := func(s *setup) { s.security = func(sec *config.Security) { sec.UserSessionMode = "Singleton" } }
	sa, sb := setup{db: db}, setup{db: db}
	mode(&sa)
	mode(&sb)
	a := newEnv(t, storetest.PostgreSQL, sa)
	sb.clk = a.clk
	b := newEnv(t, storetest.PostgreSQL, sb)
	a.login("admin", adminPassword)
	wantErr(t, b.handshake("POST", "admin", adminPassword, ""), 403, security.CodeAnotherSession, "<<<ubErrAnotherSessionExists>>>")
}

func decode(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// cachedPG gives an env the PostgreSQL backend with a session cache; the test closes it
// (before the store, whose connection its listener holds).
func cachedPG(t testing.TB) func(*security.Options) {
	return func(o *security.Options) {
		b, err := security.NewPostgresBackend(context.Background(), o.Store.Default().Write, security.PostgresOptions{CacheFor: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		o.Backend = b
	}
}

// TestTwoProcessesCachedSessions: with PostgresOptions.CacheFor, a session ended on one
// process stops working on the other once the notification arrives (it is not asserted
// how soon: a moment is allowed).
func TestTwoProcessesCachedSessions(t *testing.T) {
	db := storetest.NewSchema(t)
	a := newEnv(t, storetest.PostgreSQL, setup{db: db, options: cachedPG(t)})
	b := newEnv(t, storetest.PostgreSQL, setup{db: db, clk: a.clk, options: cachedPG(t)})
	on := func(e *env, c *client) *client { cp := *c; cp.e = e; return &cp }
	eventually := func(what string, c *client, want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			code, _ := c.whoami()
			if code == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d, want %d", what, code, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	c := a.login("admin", adminPassword)
	for i := 0; i < 3; i++ {
		if code, _ := on(b, c).whoami(); code != 200 {
			t.Fatalf("A's session on B: %d", code)
		}
		if code, _ := c.whoami(); code != 200 {
			t.Fatalf("A's session on A: %d", code)
		}
	}
	if rec := c.call("POST", "/logout", ""); rec.Code != 200 {
		t.Fatalf("logout on A: %d", rec.Code)
	}
	if code, _ := c.whoami(); code != 401 {
		t.Fatalf("A after its own logout: %d", code)
	}
	eventually("B after the logout on A", on(b, c), 401)
	// Displacement and the end of a user's sessions travel the same way.
	a.addUser("bob", "bob-pass")
	bob := a.login("bob", "bob-pass")
	eventually("bob on B", on(b, bob), 200)
	id := a.rows("uba_user", []string{"ID"}, eq("name", "bob"))[0]["ID"].(int64)
	if n, err := b.svc.EndUserSessions(b.ctx, id); n != 1 || err != nil {
		t.Fatalf("EndUserSessions on B: %d %v", n, err)
	}
	eventually("bob on A after B ended his sessions", bob, 401)
}

// TestBackendOutlivesService: a memory backend kept by the process serves the sessions of
// the Service built after a configuration reload; closing the old Service leaves it open.
func TestBackendOutlivesService(t *testing.T) {
	mem := security.NewMemoryBackend()
	defer mem.Close()
	e := newEnv(t, storetest.SQLite3, setup{options: func(o *security.Options) { o.Backend = mem }})
	c := e.login("admin", adminPassword)
	next, err := security.New(e.ctx, security.Options{Config: e.cfg, Domain: e.st.Domain, Store: e.st, Backend: mem,
		Now: e.clk.Now, ClientIP: server.RemoteIP})
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	if err := e.svc.Close(); err != nil {
		t.Fatal(err)
	}
	srv, err := server.NewWithOptions(e.cfg, e.st.Domain, nil, server.Options{Authorizer: next, Auth: next, EndpointAllowed: next.EndpointAllowed})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	e.srv = srv
	if rec := c.call("POST", "/logout", ""); rec.Code != 200 {
		t.Fatalf("the old session on the new service: %d %s", rec.Code, rec.Body)
	}
	if n, _ := mem.CountSessions(e.ctx); n != 0 {
		t.Fatalf("sessions left: %d", n)
	}
}
