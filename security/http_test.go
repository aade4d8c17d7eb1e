package security_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ubgo/ubgo/config"
	"github.com/ubgo/ubgo/security"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/storetest"
	"github.com/ubgo/ubgo/ubql"
)

const insertNote = `[{"entity":"sec_note","method":"insert","fieldList":["ID","title"],"execParams":{"title":"signed"}}]`
const selectNotes = `[{"entity":"sec_note","method":"select","fieldList":["title"]}]`

// TestHandshakeAndSignedRequests logs in as admin the three ways clients send /auth and
// works with the sessions: a signed /ubql call, the signature in the query, the session
// the server hands to endpoints, the audit, /stat.
func TestHandshakeAndSignedRequests(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			e := newEnv(t, d, setup{})
			var clients []*client
			for _, via := range []string{"GET", "POST", "FORM"} {
				rec := e.handshake(via, "admin", adminPassword, "")
				if rec.Code != http.StatusOK {
					t.Fatalf("%s: %d %s", via, rec.Code, rec.Body)
				}
				if rec.Header().Get("Cache-Control") != "no-store" {
					t.Errorf("%s: the auth answer may be cached", via)
				}
				clients = append(clients, e.clientOf(rec, "admin", adminPassword, ""))
			}
			c := clients[1]
			ud := c.uData
			if ud["login"] != "admin" || ud["userID"] != float64(store.UserAdmin) || ud["lang"] != "en" ||
				ud["roles"] != "Everyone,User,Admin" || ud["hooked"] != "UB" {
				t.Fatalf("uData: %v", ud)
			}
			if ids, _ := ud["roleIDs"].([]any); len(ids) != 3 || ids[2] != float64(store.RoleAdmin) {
				t.Fatalf("roleIDs: %v", ud["roleIDs"])
			}
			if _, ok := ud["groupIDs"].([]any); !ok {
				t.Fatalf("groupIDs: %v", ud["groupIDs"])
			}
			if rec := c.call("POST", "/ubql", insertNote); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"signed"`) {
				t.Fatalf("signed ubql: %d %s", rec.Code, rec.Body)
			}
			// The signature in the query string, as getDocument links carry it.
			rec := e.do(req{method: "POST", url: "/ubql?session_signature=" + c.sign(), body: selectNotes,
				headers: map[string]string{"Content-Type": "application/json"}})
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `[["signed"]]`) {
				t.Fatalf("query signature: %d %s", rec.Code, rec.Body)
			}
			code, who := c.whoami()
			id, _ := strconv.ParseInt(strings.Split(c.result, "+")[0], 10, 64)
			if code != 200 || who["userID"] != float64(store.UserAdmin) || who["sessionID"] != float64(id) ||
				who["ip"] != "192.0.2.1" || who["lang"] != "en" {
				t.Fatalf("whoami: %d %v", code, who)
			}
			// Three sessions, three different session IDs and keys.
			if clients[0].result == clients[1].result || clients[1].result == clients[2].result {
				t.Fatal("two logins share a session")
			}
			wantErr(t, e.do(req{method: "POST", url: "/ubql", body: selectNotes,
				headers: map[string]string{"Content-Type": "application/json"}}), 401, security.CodeNeedAuth, "")
			logins := e.audits(security.ActionLogin)
			if len(logins) != 3 || logins[0]["actionUser"] != "admin" || logins[0]["remoteIP"] != "192.0.2.1" ||
				logins[0]["entityinfo_id"] != store.UserAdmin {
				t.Fatalf("LOGIN audit: %v", logins)
			}
			rec = c.call("GET", "/stat", "")
			var stat map[string]any
			json.Unmarshal(rec.Body.Bytes(), &stat)
			if rec.Code != 200 || stat["logins_total"] != float64(3) || stat["sessions_total"] != float64(3) {
				t.Fatalf("stat: %d %v", rec.Code, stat)
			}
		})
	}
}

// TestSignatures: what a signature must satisfy, request by request.
func TestSignatures(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			e := newEnv(t, d, setup{})
			e.addUser("bob", "bob-pass", "Supervisor")
			admin, bob := e.login("admin", adminPassword), e.login("bob", "bob-pass")
			now := func() time.Time { return e.clk.Now() }
			sig := admin.sign()
			flip := func(s string, i int) string {
				b := []byte(s)
				if b[i] == '0' {
					b[i] = '1'
				} else {
					b[i] = '0'
				}
				return string(b)
			}
			cases := []struct {
				name   string
				header string
				status int
			}{
				{"valid", "UB " + sig, 200},
				{"valid again in the same second", "UB " + sig, 200},
				{"lower-case scheme", "ub " + sig, 200},
				{"no signature", "", 401},
				{"malformed", "UB 1234", 401},
				{"not hex", "UB " + strings.Repeat("g", 24), 401},
				{"unknown scheme", "Bearer " + sig, 401},
				{"UBIP is not implemented", "UBIP admin", 401},
				{"tampered CRC", "UB " + flip(sig, 23), 401},
				{"tampered time", "UB " + flip(sig, 15), 401},
				{"tampered session", "UB " + flip(sig, 7), 401},
				{"another session's key", "UB " + security.Sign(admin.result, bob.secret, now()), 401},
				{"bob's session, admin's secret", "UB " + security.Sign(bob.result, admin.secret, now()), 401},
				{"no such session", "UB " + security.Sign("12345+00", admin.secret, now()), 401},
				{"bob's own", "UB " + bob.sign(), 200},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					h := map[string]string{}
					if tc.header != "" {
						h["Authorization"] = tc.header
					}
					rec := e.do(req{url: "/whoami", headers: h})
					if rec.Code != tc.status {
						t.Fatalf("%d, want %d: %s", rec.Code, tc.status, rec.Body)
					}
					if tc.status == 401 {
						wantErr(t, rec, 401, security.CodeNeedAuth, "")
					}
				})
			}
			// The clock window and the replay rule, in time order.
			t0 := now()
			at := func(t time.Time) string { return security.Sign(admin.result, admin.secret, t) }
			steps := []struct {
				name    string
				advance time.Duration
				signAt  func() time.Time
				status  int
			}{
				{"30 s later", 30 * time.Second, now, 200},
				{"3 s older than the last: in flight, tolerated", 0, func() time.Time { return now().Add(-3 * time.Second) }, 200},
				{"the first signature replayed 30 s later", 0, func() time.Time { return t0 }, 401},
				{"from the future beyond the window", 0, func() time.Time { return now().Add(10 * time.Minute) }, 401},
				{"stale beyond the window", 0, func() time.Time { return now().Add(-3 * time.Minute) }, 401},
				{"current again", time.Second, now, 200},
			}
			for _, s := range steps {
				e.clk.Add(s.advance)
				if rec := admin.callWith("GET", "/whoami", "", at(s.signAt())); rec.Code != s.status {
					t.Fatalf("%s: %d, want %d", s.name, rec.Code, s.status)
				}
			}
			// A session is bound to the address it was created from.
			admin.remote = "198.51.100.7:5555"
			if code, _ := admin.whoami(); code != 401 {
				t.Fatalf("from another address: %d", code)
			}
			if v := e.audits(security.ActionSecurityViolation); len(v) != 1 || v[0]["remoteIP"] != "198.51.100.7" {
				t.Fatalf("violation audit: %v", v)
			}
			if _, _, violations, _, _ := e.hooks.get(); violations != 1 {
				t.Fatalf("violation hook: %d", violations)
			}
		})
	}
}

// TestClientClockSkew: a client whose clock is off by a minute works; the delta is learned
// from its first request.
func TestClientClockSkew(t *testing.T) {
	e := newEnv(t, storetest.SQLite3, setup{})
	c := e.login("admin", adminPassword)
	skewed := func() string { return security.Sign(c.result, c.secret, e.clk.Now().Add(-100*time.Second)) }
	for i := 0; i < 3; i++ {
		if rec := c.callWith("GET", "/whoami", "", skewed()); rec.Code != 200 {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
		e.clk.Add(50 * time.Second)
	}
	// On the server's clock now: 100 s ahead of what the client's clock says, inside the
	// 120 s window.
	if rec := c.call("GET", "/whoami", ""); rec.Code != 200 {
		t.Fatalf("server time: %d", rec.Code)
	}
	other := e.login("admin", adminPassword)
	if rec := other.callWith("GET", "/whoami", "", security.Sign(other.result, other.secret, e.clk.Now().Add(-10*time.Minute))); rec.Code != 401 {
		t.Fatalf("first request 10 minutes off: %d", rec.Code)
	}
}

// TestLoginFailures: every failed login looks the same to the client; bad parameters are
// 400s; a nonce works once, for its user, for five minutes.
func TestLoginFailures(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			e := newEnv(t, d, setup{})
			unknown := e.handshake("POST", "nobody", "x", "")
			wrong := e.handshake("POST", "admin", "wrong", "")
			if unknown.Code != 403 || wrong.Code != 403 || unknown.Body.String() != wrong.Body.String() {
				t.Fatalf("unknown user %d %s, wrong password %d %s", unknown.Code, unknown.Body, wrong.Code, wrong.Body)
			}
			wantErr(t, wrong, 403, security.CodeInvalidUserOrPwd, "<<<Access deny>>>")
			if a := e.audits(security.ActionLoginFailed); len(a) != 2 || a[0]["actionUser"] != "nobody" || a[1]["entityinfo_id"] != store.UserAdmin {
				t.Fatalf("LOGIN_FAILED audit: %v", a)
			}
			// Built-in users without a password cannot log in, whatever they send.
			for _, u := range []string{"root", "anonymous"} {
				rec := e.do(req{url: "/auth?AUTHTYPE=UB&userName=" + u})
				var s1 struct{ Result string }
				json.Unmarshal(rec.Body.Bytes(), &s1)
				proof := security.PasswordProof("/", s1.Result, "cn", u, "-")
				wantErr(t, e.do(req{url: "/auth?" + url.Values{"AUTHTYPE": {"UB"}, "userName": {u}, "clientNonce": {"cn"},
					"password": {proof}, "connectionID": {s1.Result}}.Encode()}), 403, security.CodeInvalidUserOrPwd, "<<<Access deny>>>")
			}
			bad := []struct{ name, query string }{
				{"no userName", "AUTHTYPE=UB"},
				{"repeated userName", "AUTHTYPE=UB&userName=admin&userName=root"},
				{"unsupported AUTHTYPE", "AUTHTYPE=Negotiate&userName=admin"},
				{"half a second step", "AUTHTYPE=UB&userName=admin&clientNonce=x"},
				{"control character", "AUTHTYPE=UB&userName=ad%00min"},
				{"long userName", "AUTHTYPE=UB&userName=" + strings.Repeat("a", 200)},
				{"prefUData not JSON", "AUTHTYPE=UB&userName=admin&prefUData=%7Bx"},
			}
			for _, b := range bad {
				if rec := e.do(req{url: "/auth?" + b.query}); rec.Code != 400 {
					t.Errorf("%s: %d %s", b.name, rec.Code, rec.Body)
				}
			}
			wantErr(t, e.do(req{method: "DELETE", url: "/auth?AUTHTYPE=UB&userName=admin"}), 405, 1, "")

			// The nonce.
			step1 := func(user string) string {
				rec := e.do(req{url: "/auth?AUTHTYPE=UB&userName=" + user})
				var s struct{ Result, ConnectionID string }
				json.Unmarshal(rec.Body.Bytes(), &s)
				if rec.Code != 200 || s.Result == "" || s.Result != s.ConnectionID {
					t.Fatalf("step 1: %d %s", rec.Code, rec.Body)
				}
				return s.Result
			}
			step2 := func(user, nonce string, withConnID bool) url.Values {
				v := url.Values{"AUTHTYPE": {"UB"}, "userName": {user}, "clientNonce": {"c1"},
					"password": {security.PasswordProof("/", nonce, "c1", user, store.PasswordHash(adminPassword))}}
				if withConnID {
					v.Set("connectionID", nonce)
				}
				return v
			}
			// Unknown and known users get nonces alike.
			if n := step1("nobody"); len(n) != len(step1("admin")) {
				t.Fatal("nonces of unknown users differ")
			}
			n := step1("admin")
			first := e.do(req{method: "POST", url: "/auth?" + step2("admin", n, true).Encode()})
			if first.Code != 200 {
				t.Fatalf("login: %d %s", first.Code, first.Body)
			}
			wantErr(t, e.do(req{method: "POST", url: "/auth?" + step2("admin", n, true).Encode()}), 403,
				security.CodeInvalidUserOrPwd, "<<<Access deny>>>") // replayed
			e.addUser("carol", adminPassword)
			wantErr(t, e.do(req{method: "POST", url: "/auth?" + step2("carol", step1("admin"), true).Encode()}), 403,
				security.CodeInvalidUserOrPwd, "") // another user's nonce
			old := step1("admin")
			e.clk.Add(5*time.Minute + time.Second)
			wantErr(t, e.do(req{method: "POST", url: "/auth?" + step2("admin", old, true).Encode()}), 403,
				security.CodeInvalidUserOrPwd, "") // expired
			// A client that does not send connectionID back: the process remembers.
			if rec := e.do(req{method: "POST", url: "/auth?" + step2("admin", step1("admin"), false).Encode()}); rec.Code != 200 {
				t.Fatalf("without connectionID: %d %s", rec.Code, rec.Body)
			}
			if _, failures, _, _, _ := e.hooks.get(); failures != 7 {
				t.Fatalf("loginFailed hook ran %d times", failures)
			}
		})
	}
}

// TestLockout: maxInvalidAttempts failures lock the login for lockOutTimeoutSec (UB and
// Basic alike), or disable the user with lockOutInDB.
func TestLockout(t *testing.T) {
	custom := map[string]any{"UBA.passwordPolicy.maxInvalidAttempts": 3}
	for _, d := range storetest.Dialects {
		t.Run(d+"/temporary", func(t *testing.T) {
			e := newEnv(t, d, setup{custom: custom, security: func(s *config.Security) { s.LockOutTimeoutSec = 120 }})
			e.addUser("bob", "bob-pass", "Supervisor")
			for i := 0; i < 2; i++ {
				wantErr(t, e.handshake("POST", "bob", "wrong", ""), 403, security.CodeInvalidUserOrPwd, "<<<Access deny>>>")
			}
			// A success in between resets the count.
			e.login("bob", "bob-pass")
			for i := 0; i < 3; i++ {
				wantErr(t, e.handshake("POST", "bob", "wrong", ""), 403, security.CodeInvalidUserOrPwd, "<<<Access deny>>>")
			}
			if a := e.audits(security.ActionLoginLocked); len(a) != 1 || a[0]["targetUser"] != "bob" {
				t.Fatalf("LOGIN_LOCKED: %v", a)
			}
			// Locked: the right password is refused with the same answer.
			locked := e.handshake("POST", "bob", "bob-pass", "")
			wantErr(t, locked, 403, security.CodeInvalidUserOrPwd, "<<<Access deny>>>")
			// Basic too.
			rec := e.do(req{url: "/whoami", headers: map[string]string{"Authorization": basic("bob", "bob-pass")}})
			wantErr(t, rec, 401, security.CodeNeedAuth, "")
			e.clk.Add(119 * time.Second)
			wantErr(t, e.handshake("POST", "bob", "bob-pass", ""), 403, security.CodeInvalidUserOrPwd, "")
			e.clk.Add(2 * time.Second)
			e.login("bob", "bob-pass")
			// Unknown logins are locked alike, so locking tells nothing about existence.
			for i := 0; i < 4; i++ {
				e.handshake("POST", "ghost", "x", "")
			}
			if a := e.audits(security.ActionLoginLocked); len(a) != 2 || a[1]["targetUser"] != "ghost" {
				t.Fatalf("ghost lock: %v", a)
			}
			if _, _, _, _, locks := e.hooks.get(); locks != 2 {
				t.Fatalf("locked hooks %d", locks)
			}
		})
		t.Run(d+"/in database", func(t *testing.T) {
			e := newEnv(t, d, setup{custom: custom, security: func(s *config.Security) { s.LockOutInDB = true }})
			id := e.addUser("bob", "bob-pass", "Supervisor")
			bob := e.login("bob", "bob-pass")
			for i := 0; i < 3; i++ {
				e.do(req{url: "/whoami", headers: map[string]string{"Authorization": basic("bob", "wrong")}})
			}
			if u := e.rows("uba_user", []string{"disabled"}, eq("ID", id)); u[0]["disabled"] != int64(1) {
				t.Fatalf("not disabled: %v", u)
			}
			if code, _ := bob.whoami(); code != 401 {
				t.Fatalf("the session of a locked-out user: %d", code)
			}
			wantErr(t, e.handshake("POST", "bob", "bob-pass", ""), 403, security.CodeInvalidUserOrPwd, "<<<Access deny>>>")
			e.clk.Add(time.Hour) // a database lock does not end by itself
			wantErr(t, e.handshake("POST", "bob", "bob-pass", ""), 403, security.CodeInvalidUserOrPwd, "")
			e.update("uba_user", map[string]any{"ID": id, "disabled": int64(0)})
			e.login("bob", "bob-pass")
		})
	}
}

func basic(user, pwd string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pwd)
	return r.Header.Get("Authorization")
}

// TestSessionLifetime: the idle timeout is the largest sessionTimeout of the user's roles
// (Admin: 10 minutes; no role of one's own: 30) and slides; expired sessions are purged.
func TestSessionLifetime(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			e := newEnv(t, d, setup{})
			e.addUser("bob", "bob-pass")
			admin, bob := e.login("admin", adminPassword), e.login("bob", "bob-pass")
			for i := 0; i < 3; i++ { // 27 minutes of activity, 9 minutes apart
				e.clk.Add(9 * time.Minute)
				if code, _ := admin.whoami(); code != 200 {
					t.Fatalf("admin after %d×9 min: %d", i+1, code)
				}
			}
			e.clk.Add(10*time.Minute + time.Second)
			if code, _ := admin.whoami(); code != 401 {
				t.Fatalf("admin idle 10 min: %d", code)
			}
			// bob was idle 37 minutes: past 30.
			if code, _ := bob.whoami(); code != 401 {
				t.Fatalf("bob idle 37 min: %d", code)
			}
			bob = e.login("bob", "bob-pass")
			e.clk.Add(29 * time.Minute)
			if code, _ := bob.whoami(); code != 200 {
				t.Fatalf("bob idle 29 min: %d", code)
			}
			e.login("admin", adminPassword)
			e.clk.Add(11 * time.Minute)
			if n := e.svc.Stats()["sessions_total"]; n != 2 {
				t.Fatalf("sessions before purge: %v", n)
			}
			e.svc.Purge(e.ctx)
			if n := e.svc.Stats()["sessions_total"]; n != 1 {
				t.Fatalf("sessions after purge: %v", n)
			}
		})
	}
}

// TestSessionModes: Displacing ends the other sessions, Singleton refuses a second login.
func TestSessionModes(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			e := newEnv(t, d, setup{security: func(s *config.Security) { s.UserSessionMode = "Displacing" }})
			first := e.login("admin", adminPassword)
			second := e.login("admin", adminPassword)
			if code, _ := first.whoami(); code != 401 {
				t.Fatalf("displaced session: %d", code)
			}
			if code, _ := second.whoami(); code != 200 {
				t.Fatalf("new session: %d", code)
			}
			if a := e.audits(security.ActionLogout); len(a) != 1 || !strings.Contains(a[0]["toValue"].(string), "Displacing") {
				t.Fatalf("displacing audit: %v", a)
			}

			e = newEnv(t, d, setup{security: func(s *config.Security) { s.UserSessionMode = "Singleton" }})
			only := e.login("admin", adminPassword)
			wantErr(t, e.handshake("POST", "admin", adminPassword, ""), 403, security.CodeAnotherSession, "<<<ubErrAnotherSessionExists>>>")
			if logins, _, _, _, _ := e.hooks.get(); logins != 1 {
				t.Fatalf("login hook ran for a refused login: %d", logins)
			}
			if rec := only.call("POST", "/logout", ""); rec.Code != 200 {
				t.Fatalf("logout: %d", rec.Code)
			}
			e.login("admin", adminPassword)
		})
	}
	e := newEnv(t, storetest.SQLite3, setup{})
	if _, err := security.New(t.Context(), security.Options{Config: &config.Config{Security: config.Security{UserSessionMode: "Single"}},
		Domain: e.st.Domain, Store: e.st}); err == nil {
		t.Error("an invalid userSessionMode was accepted")
	}
}

// TestLogout: /logout ends the session everywhere; audited; POST only.
func TestLogout(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			e := newEnv(t, d, setup{})
			c := e.login("admin", adminPassword)
			wantErr(t, c.call("GET", "/logout", ""), 405, 1, "")
			if rec := c.call("POST", "/logout", ""); rec.Code != 200 {
				t.Fatalf("logout: %d %s", rec.Code, rec.Body)
			}
			if code, _ := c.whoami(); code != 401 {
				t.Fatalf("after logout: %d", code)
			}
			wantErr(t, c.call("POST", "/logout", ""), 401, security.CodeNeedAuth, "")
			if a := e.audits(security.ActionLogout); len(a) != 1 || a[0]["actionUser"] != "admin" {
				t.Fatalf("LOGOUT audit: %v", a)
			}
			if _, _, _, outs, _ := e.hooks.get(); outs != 1 {
				t.Fatalf("logout hook: %d", outs)
			}
		})
	}
}

// TestChangePassword: the old password, the policy, previous passwords, the audit, and
// what happens to sessions.
func TestChangePassword(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			e := newEnv(t, d, setup{custom: map[string]any{"UBA.passwordPolicy.minLength": 6}})
			id := e.addUser("bob", "bob-pass-1")
			bob, other := e.login("bob", "bob-pass-1"), e.login("bob", "bob-pass-1")
			change := func(c *client, body string) (int, int, string) {
				rec := c.call("POST", "/changePassword", body)
				if rec.Code == 200 {
					return 200, 0, ""
				}
				code, msg := errBody(t, rec)
				return rec.Code, code, msg
			}
			cases := []struct {
				name, body string
				status     int
				msg        string
			}{
				{"wrong old password", `{"pwd":"nope","newPwd":"brand-new-1"}`, 403, "<<<Incorrect old password>>>"},
				{"too short", `{"pwd":"bob-pass-1","newPwd":"abc"}`, 400, "<<<Password is too short>>>"},
				{"the current one", `{"pwd":"bob-pass-1","newPwd":"bob-pass-1"}`, 400, "<<<Previous password is not allowed>>>"},
				{"empty", `{"pwd":"bob-pass-1","newPwd":""}`, 400, "<<<New password is required>>>"},
				{"unknown field", `{"pwd":"bob-pass-1","newPwd":"x","oops":1}`, 400, ""},
				{"not JSON", `{"pwd":`, 400, ""},
				{"another user's, not an admin", `{"forUser":"admin","newPwd":"hijacked-1"}`, 403, "<<<Access deny>>>"},
			}
			for _, tc := range cases {
				status, _, msg := change(bob, tc.body)
				if status != tc.status || tc.msg != "" && msg != tc.msg {
					t.Errorf("%s: %d %q", tc.name, status, msg)
				}
			}
			// "BOBBOB" is bob in capitals: refused as the login (with a 6-letter login).
			e.addUser("bobbob", "bob-pass-1")
			bb := e.login("bobbob", "bob-pass-1")
			if _, _, msg := change(bb, `{"pwd":"bob-pass-1","newPwd":"BOBBOB"}`); msg != "<<<Password matches with login>>>" {
				t.Errorf("matches login: %q", msg)
			}
			if status, _, _ := change(bob, `{"pwd":"bob-pass-1","newPwd":"bob-pass-2"}`); status != 200 {
				t.Fatalf("change: %d", status)
			}
			// The session that changed it stays; the user's other sessions end.
			if code, _ := bob.whoami(); code != 200 {
				t.Fatalf("own session after the change: %d", code)
			}
			if code, _ := other.whoami(); code != 401 {
				t.Fatalf("other session after the change: %d", code)
			}
			wantErr(t, e.handshake("POST", "bob", "bob-pass-1", ""), 403, security.CodeInvalidUserOrPwd, "")
			bob = e.login("bob", "bob-pass-2")
			// The hash of the old one is kept; it cannot come back (checkPrevPwdNum 4).
			if prev := e.rows("uba_prevPasswordsHash", []string{"uPasswordHashHexa"}, eq("userID", id)); len(prev) != 1 ||
				prev[0]["uPasswordHashHexa"] != store.PasswordHash("bob-pass-1") {
				t.Fatalf("previous hashes: %v", prev)
			}
			if _, _, msg := change(bob, `{"pwd":"bob-pass-2","newPwd":"bob-pass-1"}`); msg != "<<<Previous password is not allowed>>>" {
				t.Fatalf("reuse: %q", msg)
			}
			// Older UnityBase clients send the stored hash as the old password.
			if status, _, _ := change(bob, `{"pwd":"`+store.PasswordHash("bob-pass-2")+`","newPwd":"bob-pass-3","needChangePassword":true}`); status != 200 {
				t.Fatalf("change with the old hash: %d", status)
			}
			// needChangePassword: the next session may only change it.
			bob = e.login("bob", "bob-pass-3")
			wantErr(t, bob.call("POST", "/ubql", selectNotes), 403, security.CodePasswordExpired, "")
			if status, _, _ := change(bob, `{"pwd":"bob-pass-3","newPwd":"bob-pass-4"}`); status != 200 {
				t.Fatal("change of an expired password")
			}
			if rec := e.login("bob", "bob-pass-4").call("POST", "/ubql", selectNotes); rec.Code != 200 {
				t.Fatalf("after the change: %d %s", rec.Code, rec.Body)
			}
			// An admin sets another user's password.
			admin := e.login("admin", adminPassword)
			if status, _, _ := change(admin, `{"forUser":"bob","newPwd":"set-by-admin"}`); status != 200 {
				t.Fatal("admin change for bob")
			}
			e.login("bob", "set-by-admin")
			// Audited, without a trace of the hashes anywhere in the audit tables.
			if a := e.audits(security.ActionUpdate); len(a) != 4 {
				t.Fatalf("UPDATE audits: %v", a)
			}
			if a := e.audits(security.ActionSecurityViolation); len(a) != 6 {
				t.Fatalf("SECURITY_VIOLATION audits: %d %v", len(a), a)
			}
			// (uba_auditTrail's INSERT rows are left out: the store's audit mixin records the
			// hash that addUser inserts, which is the store's business, not the password change's.)
			for _, entity := range []string{"uba_audit", "uba_auditTrail"} {
				for _, r := range e.rows(entity, []string{"actionType", "toValue", "fromValue"}) {
					if entity == "uba_auditTrail" && r["actionType"] == "INSERT" {
						continue
					}
					for _, v := range r {
						s, _ := v.(string)
						for _, p := range []string{"bob-pass-1", "bob-pass-2", "bob-pass-3", "bob-pass-4", "set-by-admin"} {
							if strings.Contains(s, p) || strings.Contains(s, store.PasswordHash(p)) {
								t.Fatalf("%s holds a password or its hash: %s", entity, s)
							}
						}
					}
				}
			}
		})
	}
}

// TestPasswordPolicySettings: the policy from ubs_settings, over customSettings; a bad
// value keeps the default.
func TestPasswordPolicySettings(t *testing.T) {
	e := newEnv(t, storetest.SQLite3, setup{custom: map[string]any{"UBA.passwordPolicy.minLength": 5,
		"UBA.passwordPolicy.checkPrevPwdNum": "nope", "ubgo.security.replayToleranceSec": 2}})
	if s := e.svc.Settings(); s.MinLength != 5 || s.CheckPrevPwdNum != 4 || s.ReplayTolerance != 2*time.Second {
		t.Fatalf("settings: %+v", s)
	}
	tx := e.st.Begin(store.System)
	for k, v := range map[string]string{"UBA.passwordPolicy.minLength": "8", "UBA.passwordPolicy.checkCmplexity": "true"} {
		if _, err := tx.Insert(e.ctx, ubqlInsert("ubs_settings", map[string]any{"settingKey": k, "settingValue": v})); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil { // the commit reloads the settings (store.OnCommit)
		t.Fatal(err)
	}
	if s := e.svc.Settings(); s.MinLength != 8 || !s.CheckComplexity {
		t.Fatalf("settings after ubs_settings: %+v", s)
	}
	c := e.login("admin", adminPassword)
	for body, msg := range map[string]string{
		`{"pwd":"admin","newPwd":"Abc1!x"}`:    "<<<Password is too short>>>",
		`{"pwd":"admin","newPwd":"abcdefgh1"}`: "<<<Password is too simple>>>",
	} {
		if _, m := errBody(t, c.call("POST", "/changePassword", body)); m != msg {
			t.Errorf("%s: %q", body, m)
		}
	}
	if rec := c.call("POST", "/changePassword", `{"pwd":"admin","newPwd":"Abcdefg1!"}`); rec.Code != 200 {
		t.Fatalf("complex password: %d %s", rec.Code, rec.Body)
	}
}

// TestPasswordExpiry: after maxDurationDays, only changePassword and logout (errCode 72).
func TestPasswordExpiry(t *testing.T) {
	e := newEnv(t, storetest.SQLite3, setup{custom: map[string]any{"UBA.passwordPolicy.maxDurationDays": 30}})
	e.clk.Add(31 * 24 * time.Hour)
	c := e.login("admin", adminPassword)
	wantErr(t, c.call("POST", "/ubql", selectNotes), 403, security.CodePasswordExpired, "<<<ubErrElsPwdIsExpired>>>")
	wantErr(t, c.call("GET", "/whoami", ""), 403, security.CodePasswordExpired, "")
	if rec := c.call("POST", "/changePassword", `{"pwd":"admin","newPwd":"renewed"}`); rec.Code != 200 {
		t.Fatalf("change: %d %s", rec.Code, rec.Body)
	}
	if rec := e.login("admin", "renewed").call("POST", "/ubql", selectNotes); rec.Code != 200 {
		t.Fatalf("renewed: %d", rec.Code)
	}
	if rec := c.call("POST", "/logout", ""); rec.Code != 200 {
		t.Fatalf("logout of an expired session: %d", rec.Code)
	}
}

// TestDisabledUser: a disabled user cannot log in, and their sessions end on the next
// request after the change commits (not after RevalidateEvery).
func TestDisabledUser(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			e := newEnv(t, d, setup{options: func(o *security.Options) { o.RevalidateEvery = time.Hour }})
			id := e.addUser("bob", "bob-pass")
			bob := e.login("bob", "bob-pass")
			e.update("uba_user", map[string]any{"ID": id, "disabled": int64(1)})
			if code, _ := bob.whoami(); code != 401 {
				t.Fatalf("session of a disabled user: %d", code)
			}
			wantErr(t, e.handshake("POST", "bob", "bob-pass", ""), 403, security.CodeInvalidUserOrPwd, "<<<Access deny>>>")
			e.update("uba_user", map[string]any{"ID": id, "disabled": int64(0), "isPending": int64(1)})
			wantErr(t, e.handshake("POST", "bob", "bob-pass", ""), 403, security.CodeInvalidUserOrPwd, "<<<Access deny>>>")
			e.update("uba_user", map[string]any{"ID": id, "isPending": int64(0)})
			bob = e.login("bob", "bob-pass")
			if n, err := e.svc.UserSessionCount(e.ctx, id); n != 1 || err != nil {
				t.Fatalf("UserSessionCount: %d %v", n, err)
			}
			if n, err := e.svc.EndUserSessions(e.ctx, id); n != 1 || err != nil {
				t.Fatalf("EndUserSessions: %d %v", n, err)
			}
			if code, _ := bob.whoami(); code != 401 {
				t.Fatalf("after EndUserSessions: %d", code)
			}
		})
	}
}

// TestDisabledAccounts: security.disabledAccounts refuses matching logins outright.
func TestDisabledAccounts(t *testing.T) {
	e := newEnv(t, storetest.SQLite3, setup{security: func(s *config.Security) { s.DisabledAccounts = `^(admin|svc_.*)$` }})
	e.addUser("svc_sync", "pw")
	for _, u := range []string{"admin", "svc_sync"} {
		wantErr(t, e.do(req{url: "/auth?AUTHTYPE=UB&userName=" + u}), 403, security.CodeInvalidUserOrPwd, "<<<Login disabled>>>")
		wantErr(t, e.do(req{url: "/whoami", headers: map[string]string{"Authorization": basic(u, "pw")}}), 403,
			security.CodeInvalidUserOrPwd, "<<<Login disabled>>>")
	}
	e.addUser("bob", "bob-pass")
	e.login("bob", "bob-pass")
	if _, err := security.New(e.ctx, security.Options{Config: &config.Config{Security: config.Security{DisabledAccounts: "("}},
		Domain: e.st.Domain, Store: e.st}); err == nil {
		t.Error("an invalid disabledAccounts was accepted")
	}
}

// TestEndpointGrants: allowedAppMethods of the session's roles (and
// App.grantEndpointToRole) decide which endpoints it may call.
func TestEndpointGrants(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			e := newEnv(t, d, setup{options: func(o *security.Options) {
				o.EndpointGrants = map[string][]string{"restricted": {"Supervisor"}}
			}})
			e.addUser("bob", "bob-pass")               // User only
			e.addUser("sue", "sue-pass", "Supervisor") // + restricted by EndpointGrants
			e.addUser("mon", "mon-pass", "Monitor")    // + stat
			bob, sue, mon := e.login("bob", "bob-pass"), e.login("sue", "sue-pass"), e.login("mon", "mon-pass")
			admin := e.login("admin", adminPassword)
			cases := []struct {
				who      *client
				endpoint string
				status   int
			}{
				{bob, "/ubql", 200}, {bob, "/runList", 200}, {bob, "/getDomainInfo?v=4&userName=bob", 200}, {bob, "/stat", 403}, {bob, "/restricted", 403},
				{sue, "/restricted", 200}, {sue, "/stat", 403},
				{mon, "/stat", 200}, {mon, "/restricted", 403},
				{admin, "/stat", 200}, {admin, "/restricted", 200},
			}
			for _, c := range cases {
				method, body := "GET", ""
				if c.endpoint == "/ubql" || c.endpoint == "/runList" {
					method, body = "POST", selectNotes
				}
				rec := c.who.call(method, c.endpoint, body)
				if rec.Code != c.status {
					t.Errorf("%s %s: %d, want %d: %s", c.who.user, c.endpoint, rec.Code, c.status, rec.Body)
				}
				if c.status == 403 {
					wantErr(t, rec, 403, security.CodeAccessDeny, "<<<Access deny>>>")
				}
			}
			v := e.audits(security.ActionSecurityViolation)
			if len(v) != 4 || v[0]["actionUser"] != "bob" || !strings.Contains(v[0]["toValue"].(string), "stat") {
				t.Fatalf("violations: %v", v)
			}
			if e.svc.Stats()["security_exception_count"] != int64(4) {
				t.Fatalf("stat: %v", e.svc.Stats())
			}
			// A grant added to a role applies once the roles are reloaded (the commit does it).
			e.update("uba_role", map[string]any{"ID": store.RoleUser, "allowedAppMethods": "ubql,logout,stat"})
			if rec := bob.call("GET", "/stat", ""); rec.Code != 200 {
				t.Fatalf("granted stat: %d", rec.Code)
			}
			// Public endpoints need no grant.
			if rec := bob.call("GET", "/getAppInfo", ""); rec.Code != 200 {
				t.Fatalf("getAppInfo: %d", rec.Code)
			}
		})
	}
}

// TestAnonymous: without authentication methods every request is anonymous; with them,
// public endpoints see anonymous or the signed caller.
func TestAnonymous(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			e := newEnv(t, d, setup{security: func(s *config.Security) { s.AuthenticationMethods = nil }})
			if !e.svc.AnonymousMode() {
				t.Fatal("not in anonymous mode")
			}
			rec := e.do(req{url: "/whoami", headers: map[string]string{"Authorization": "UB 0123456789abcdef01234567"}})
			var who map[string]any
			json.Unmarshal(rec.Body.Bytes(), &who)
			if rec.Code != 200 || who["userID"] != float64(store.UserAnonymous) ||
				!slices.Equal(anyStrings(who["roles"]), []string{"Everyone", "Anonymous"}) || who["lang"] != "en" {
				t.Fatalf("anonymous whoami: %d %v", rec.Code, who)
			}
			if rec := e.do(req{method: "POST", url: "/ubql", body: selectNotes, headers: map[string]string{"Content-Type": "application/json"}}); rec.Code != 200 {
				t.Fatalf("anonymous ubql: %d %s", rec.Code, rec.Body)
			}
			wantErr(t, e.do(req{url: "/stat"}), 403, security.CodeAccessDeny, "")
			rec = e.do(req{url: "/auth?AUTHTYPE=UB&userName=admin"})
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"result":"0+0"`) {
				t.Fatalf("auth in anonymous mode: %s", rec.Body)
			}
			wantErr(t, e.do(req{method: "POST", url: "/changePassword", body: `{"pwd":"a","newPwd":"bbbbbb"}`,
				headers: map[string]string{"Content-Type": "application/json"}}), 403, security.CodeAccessDeny, "")

			e = newEnv(t, d, setup{})
			rec = e.do(req{url: "/whoamiPublic"})
			json.Unmarshal(rec.Body.Bytes(), &who)
			if who["userID"] != float64(store.UserAnonymous) {
				t.Fatalf("public endpoint, no signature: %v", who)
			}
			c := e.login("admin", adminPassword)
			json.Unmarshal(c.call("GET", "/whoamiPublic", "").Body.Bytes(), &who)
			if who["userID"] != float64(store.UserAdmin) {
				t.Fatalf("public endpoint, signed: %v", who)
			}
			json.Unmarshal(c.callWith("GET", "/whoamiPublic", "", "ffffffff63458360ed721c49").Body.Bytes(), &who)
			if who["userID"] != float64(store.UserAnonymous) {
				t.Fatalf("public endpoint, bad signature: %v", who)
			}
			wantErr(t, e.do(req{url: "/whoami"}), 401, security.CodeNeedAuth, "")
		})
	}
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestBasic: HTTP Basic on each request, and AUTHTYPE=Basic on /auth.
func TestBasic(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			e := newEnv(t, d, setup{})
			h := map[string]string{"Authorization": basic("admin", adminPassword), "Content-Type": "application/json"}
			for i := 0; i < 10; i++ { // the first verifies, the others hit the cache
				if rec := e.do(req{method: "POST", url: "/ubql", body: insertNote, headers: h}); rec.Code != 200 {
					t.Fatalf("basic ubql: %d %s", rec.Code, rec.Body)
				}
			}
			// One login, or two when PostgreSQL's change listener connected meanwhile (it then
			// reports every entity as changed, which empties the cache once).
			if n := len(e.audits(security.ActionLogin)); n < 1 || n > 2 {
				t.Fatalf("LOGIN audits for cached Basic credentials: %d", n)
			}
			wantErr(t, e.do(req{url: "/whoami", headers: map[string]string{"Authorization": basic("admin", "wrong")}}), 401, security.CodeNeedAuth, "")
			rec := e.do(req{method: "POST", url: "/auth?AUTHTYPE=Basic", headers: map[string]string{"Authorization": basic("admin", adminPassword)}})
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"logonname":"admin"`) {
				t.Fatalf("AUTHTYPE=Basic: %d %s", rec.Code, rec.Body)
			}
			wantErr(t, e.do(req{method: "POST", url: "/auth?AUTHTYPE=Basic"}), 400, security.CodeInvalidData, "")

			e = newEnv(t, d, setup{security: func(s *config.Security) { s.AuthenticationMethods = []string{"UB"} }})
			wantErr(t, e.do(req{url: "/whoami", headers: map[string]string{"Authorization": basic("admin", adminPassword)}}), 401, security.CodeNeedAuth, "")
			wantErr(t, e.do(req{method: "POST", url: "/auth?AUTHTYPE=Basic", headers: map[string]string{"Authorization": basic("admin", adminPassword)}}),
				400, security.CodeInvalidData, "")
		})
	}
}

// TestLoginHooks: OnLogin may refuse a login; its <<<message>>> reaches the client.
func TestLoginHooks(t *testing.T) {
	e := newEnv(t, storetest.SQLite3, setup{})
	e.hooks.refuse = errorString("<<<Come back tomorrow>>>")
	wantErr(t, e.handshake("POST", "admin", adminPassword, ""), 403, security.CodeInvalidUserOrPwd, "<<<Come back tomorrow>>>")
	e.hooks.refuse = errorString("database on fire")
	wantErr(t, e.handshake("POST", "admin", adminPassword, ""), 403, security.CodeInvalidUserOrPwd, "<<<Access deny>>>")
	if n := e.svc.Stats()["sessions_total"]; n != 0 {
		t.Fatalf("a refused login left a session: %v", n)
	}
	if len(e.audits(security.ActionLogin)) != 0 || len(e.audits(security.ActionLoginFailed)) != 2 {
		t.Fatal("refused logins audited as logins")
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

// TestTrustedProxies: the client address (for the audit, the session binding, the
// lockout) comes from X-Forwarded-For only when the peer is a configured proxy.
func TestTrustedProxies(t *testing.T) {
	e := newEnv(t, storetest.SQLite3, setup{security: func(s *config.Security) { s.TrustedProxies = []string{"10.0.0.1"} }})
	xff := map[string]string{"X-Forwarded-For": "203.0.113.9"}
	e.do(req{url: "/auth?AUTHTYPE=UB&userName=admin&clientNonce=a&password=b", headers: xff, remote: "192.0.2.50:1000"})
	e.do(req{url: "/auth?AUTHTYPE=UB&userName=admin&clientNonce=a&password=b", headers: xff, remote: "10.0.0.1:1000"})
	a := e.audits(security.ActionLoginFailed)
	if len(a) != 2 || a[0]["remoteIP"] != "192.0.2.50" || a[1]["remoteIP"] != "203.0.113.9" {
		t.Fatalf("audited addresses: %v", a)
	}
	// A session created through the proxy is bound to the client's address, not the proxy's.
	c := e.loginFrom("admin", adminPassword, "10.0.0.1:1")
	rec := e.do(req{url: "/whoami", remote: "10.0.0.1:2", headers: map[string]string{"Authorization": "UB " + c.sign(),
		"X-Forwarded-For": "198.51.100.1"}})
	if rec.Code != 401 {
		t.Fatalf("proxied session used for another client: %d", rec.Code)
	}
}

// TestNoSecretsInLogs: passwords, proofs, nonces, signatures and hashes stay out of the log.
func TestNoSecretsInLogs(t *testing.T) {
	e := newEnv(t, storetest.SQLite3, setup{})
	rec := e.do(req{url: "/auth?AUTHTYPE=UB&userName=admin"})
	var s1 struct{ Result string }
	json.Unmarshal(rec.Body.Bytes(), &s1)
	proof := security.PasswordProof("/", s1.Result, "client-nonce-123", "admin", store.PasswordHash(adminPassword))
	rec = e.do(req{method: "POST", url: "/auth?" + url.Values{"AUTHTYPE": {"UB"}, "userName": {"admin"}, "clientNonce": {"client-nonce-123"},
		"password": {proof}, "connectionID": {s1.Result}}.Encode()})
	c := e.clientOf(rec, "admin", adminPassword, "")
	sig := c.sign()
	c.callWith("GET", "/whoami?session_signature="+sig, "", sig)
	e.handshake("GET", "admin", "wrong-secret-pw", "")
	e.do(req{url: "/whoami", headers: map[string]string{"Authorization": basic("admin", "basic-secret-pw")}})
	c.call("POST", "/changePassword", `{"pwd":"admin","newPwd":"new-secret-pw"}`)
	key := strings.Split(c.result, "+")[1]
	logText := e.log.String()
	for _, secret := range []string{proof, s1.Result, "client-nonce-123", sig, key, store.PasswordHash(adminPassword),
		"wrong-secret-pw", "basic-secret-pw", "new-secret-pw", store.PasswordHash("new-secret-pw"), basic("admin", "basic-secret-pw")} {
		if strings.Contains(logText, secret) {
			t.Errorf("the log contains a secret %.20s...", secret)
		}
	}
	if !strings.Contains(logText, "REDACTED") {
		t.Error("nothing was redacted: the test does not look at the access log")
	}
}

func ubqlInsert(entity string, params map[string]any) *ubql.Request {
	return &ubql.Request{Entity: entity, Method: "insert", ExecParams: params}
}

// TestIdentity: roles through groups (after limitGroupsTo / excludeGroups), uData from
// uba_user.uData, the session language, the timeout of group roles.
func TestIdentity(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			e := newEnv(t, d, setup{security: func(s *config.Security) { s.ExcludeGroups = []string{"contractors"} }})
			bob := e.addUser("bob", "bob-pass")
			e.update("uba_user", map[string]any{"ID": bob, "uData": `{"lang":"uk","orgUnitIDs":[7,8],"theme":"dark"}`})
			tx := e.st.Begin(store.System)
			group := func(code string, role int64) int64 {
				resp, err := tx.Insert(e.ctx, ubqlInsert("uba_group", map[string]any{"code": code, "name": code}))
				if err != nil {
					t.Fatal(err)
				}
				gid := resp.Request.ExecParams["ID"].(int64)
				for _, ins := range []*ubql.Request{ubqlInsert("uba_usergroup", map[string]any{"userID": bob, "groupID": gid}),
					ubqlInsert("uba_grouprole", map[string]any{"groupID": gid, "roleID": role})} {
					if _, err := tx.Insert(e.ctx, ins); err != nil {
						t.Fatal(err)
					}
				}
				return gid
			}
			staff := group("staff", store.RoleMonitor)
			group("contractors", store.RoleDeveloper)
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			c := e.login("bob", "bob-pass")
			ud := c.uData
			if ud["roles"] != "Everyone,User,Monitor" || ud["lang"] != "uk" || ud["theme"] != "dark" || ud["login"] != "bob" {
				t.Fatalf("uData: %v", ud)
			}
			if g, _ := ud["groupIDs"].([]any); len(g) != 1 || g[0] != float64(staff) {
				t.Fatalf("groupIDs: %v", ud["groupIDs"])
			}
			_, who := c.whoami()
			if who["lang"] != "uk" || !slices.Equal(anyStrings(who["roles"]), []string{"Everyone", "User", "Monitor"}) {
				t.Fatalf("session: %v", who)
			}
			// The session lives as long as Monitor's sessionTimeout (100 minutes).
			e.clk.Add(99 * time.Minute)
			if code, _ := c.whoami(); code != 200 {
				t.Fatalf("after 99 minutes: %d", code)
			}
			// prefUData chooses a supported language; an unsupported one is ignored.
			for pref, want := range map[string]string{`{"lang":"en"}`: "en", `{"lang":"xx"}`: "uk"} {
				rec := e.do(req{url: "/auth?AUTHTYPE=UB&userName=bob"})
				var s1 struct{ Result string }
				decode(t, rec.Body.Bytes(), &s1)
				rec = e.do(req{url: "/auth?" + url.Values{"AUTHTYPE": {"UB"}, "userName": {"bob"}, "clientNonce": {"c"},
					"connectionID": {s1.Result}, "prefUData": {pref},
					"password": {security.PasswordProof("/", s1.Result, "c", "bob", store.PasswordHash("bob-pass"))}}.Encode()})
				if got := e.clientOf(rec, "bob", "bob-pass", "").uData["lang"]; got != want {
					t.Errorf("prefUData %s: lang %v", pref, got)
				}
			}
			// Broken uData is logged and ignored, not fatal.
			e.update("uba_user", map[string]any{"ID": bob, "uData": `{not json`})
			if ud := e.login("bob", "bob-pass").uData; ud["login"] != "bob" || ud["lang"] != "en" {
				t.Fatalf("uData with broken JSON: %v", ud)
			}
			if !strings.Contains(e.log.String(), "uba_user.uData is not valid JSON") {
				t.Error("broken uData was not logged")
			}
		})
	}
}
