package security_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ubgo/ubgo/security"
	"github.com/ubgo/ubgo/store/storetest"
)

// ipLockSettings: 5 failures per address within 60 s lock it for 60 s.
var ipLockSettings = map[string]any{"ubgo.security.maxFailuresPerIP": 5, "ubgo.security.ipLockOutSec": 60}

// sameAnswer fails unless two answers look alike to a client.
func sameAnswer(t *testing.T, what string, got, want *httptest.ResponseRecorder) {
	t.Helper()
	if got.Code != want.Code || got.Body.String() != want.Body.String() ||
		got.Header().Get("Content-Type") != want.Header().Get("Content-Type") {
		t.Fatalf("%s: %d %s, a wrong password gets %d %s", what, got.Code, got.Body, want.Code, want.Body)
	}
}

// ipLocks are the LOGIN_LOCKED rows of address locks (those of logins name no address).
func ipLocks(e *env) []map[string]any {
	var out []map[string]any
	for _, a := range e.audits(security.ActionLoginLocked) {
		if strings.Contains(fmt.Sprint(a["toValue"]), `"lockedIP":`) {
			out = append(out, a)
		}
	}
	return out
}

// TestIPLockout: credential stuffing from one address — many logins, one wrong password
// each, so that no login is locked — locks the address after maxFailuresPerIP failures
// (successes in between do not reset the count, loopback is not exempt). Then every
// password check from it gets a wrong password's answer without a look at the
// credentials (UB, Basic, cached Basic, /auth Basic, changePassword's old password),
// other addresses are unaffected, sessions made before keep working, the lock is audited
// once, /stat counts it, and it ends after ipLockOutSec.
func TestIPLockout(t *testing.T) {
	const (
		attacker = "127.0.0.1:4000" // loopback counts like any address
		other    = "198.51.100.7:1000"
		third    = "203.0.113.5:1000"
	)
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			custom := map[string]any{"UBA.passwordPolicy.maxInvalidAttempts": 3}
			for k, v := range ipLockSettings {
				custom[k] = v
			}
			e := newEnv(t, d, setup{custom: custom})
			e.addUser("bob", "bob-pass", "Supervisor")
			for i := range 4 {
				e.addUser(fmt.Sprintf("user%d", i), "secret-pass")
			}
			basicBob := map[string]string{"Authorization": basic("bob", "bob-pass")}

			// Before the lock: bob logs in from the attacker's address (UB and Basic, which
			// caches the credentials), and four logins fail once each.
			bob := e.loginFrom("bob", "bob-pass", attacker)
			if rec := e.do(req{url: "/whoami", headers: basicBob, remote: attacker}); rec.Code != 200 {
				t.Fatalf("basic before the lock: %d %s", rec.Code, rec.Body)
			}
			for i := range 4 {
				wantErr(t, e.handshake("POST", fmt.Sprintf("user%d", i), "guess", attacker), 403, security.CodeInvalidUserOrPwd, "<<<Access deny>>>")
			}
			// A success does not reset the address's count.
			e.loginFrom("user0", "secret-pass", attacker)
			if a := ipLocks(e); len(a) != 0 {
				t.Fatalf("locked early: %v", a)
			}
			// The fifth failure (an unknown login) locks the address.
			wantErr(t, e.handshake("POST", "nobody", "guess", attacker), 403, security.CodeInvalidUserOrPwd, "<<<Access deny>>>")
			locks := ipLocks(e)
			if len(locks) != 1 || locks[0]["remoteIP"] != "127.0.0.1" || locks[0]["targetUser"] != nil ||
				locks[0]["actionUser"] != "nobody" {
				t.Fatalf("LOGIN_LOCKED of the address: %v", locks)
			}
			failedBefore := len(e.audits(security.ActionLoginFailed))

			// Locked: the right password gets exactly a wrong password's answer.
			// The wrong-password answers to compare with come from a third address, for
			// other logins (bob's must stay unlocked to show that refusals do not count, and
			// none of these may reach maxInvalidAttempts, which audits LOGIN_LOCKED instead).
			wrongUB := e.handshake("POST", "user2", "wrong", third)
			wantErr(t, wrongUB, 403, security.CodeInvalidUserOrPwd, "<<<Access deny>>>")
			sameAnswer(t, "UB, right password, locked address", e.handshake("POST", "bob", "bob-pass", attacker), wrongUB)
			sameAnswer(t, "UB, unknown user, locked address", e.handshake("POST", "ghost", "x", attacker), wrongUB)
			wrongBasic := e.do(req{url: "/whoami", headers: map[string]string{"Authorization": basic("user3", "wrong")}, remote: third})
			wantErr(t, wrongBasic, 401, security.CodeNeedAuth, "")
			// Cached Basic credentials are not served to the locked address either.
			sameAnswer(t, "Basic, cached credentials, locked address", e.do(req{url: "/whoami", headers: basicBob, remote: attacker}), wrongBasic)
			wrongAuthBasic := e.do(req{method: "POST", url: "/auth?AUTHTYPE=Basic", headers: map[string]string{"Authorization": basic("user1", "wrong")}, remote: third})
			sameAnswer(t, "AUTHTYPE=Basic, locked address", e.do(req{method: "POST", url: "/auth?AUTHTYPE=Basic", headers: basicBob, remote: attacker}), wrongAuthBasic)
			// changePassword's old password is not checked from the locked address.
			wantErr(t, bob.call("POST", "/changePassword", `{"pwd":"bob-pass","newPwd":"bob-pass-2"}`), 403,
				security.CodeInvalidUserOrPwd, "<<<Incorrect old password>>>")

			// The credentials were not looked at: no LOGIN_FAILED rows for the refusals, no
			// second lock row, and bob's login is not locked by them (3 refusals of bob, with
			// maxInvalidAttempts 3: bob logs in below).
			if n := len(e.audits(security.ActionLoginFailed)); n != failedBefore+3 { // the three from the third address
				t.Fatalf("refusals of the locked address audited one by one: %d LOGIN_FAILED, want %d", n, failedBefore+3)
			}
			if n := len(ipLocks(e)); n != 1 {
				t.Fatalf("%d LOGIN_LOCKED rows for one lock", n)
			}
			st := e.svc.Stats()
			if st["login_ip_lockouts_total"] != int64(1) || st["login_ip_refusals_total"] != int64(5) {
				t.Fatalf("/stat: %v", st)
			}
			if rec := e.loginFrom("admin", adminPassword, other).call("GET", "/stat", ""); !strings.Contains(rec.Body.String(), `"login_ip_lockouts_total":1`) {
				t.Fatalf("/stat over HTTP: %d %s", rec.Code, rec.Body)
			}

			// Other addresses are unaffected, and so is a session made before the lock.
			e.loginFrom("bob", "bob-pass", other)
			if rec := e.do(req{url: "/whoami", headers: basicBob, remote: other}); rec.Code != 200 {
				t.Fatalf("basic from another address: %d", rec.Code)
			}
			if code, _ := bob.whoami(); code != 200 {
				t.Fatalf("a session made before the lock: %d", code)
			}

			// The lock ends after ipLockOutSec, and the count starts afresh.
			e.clk.Add(59 * time.Second)
			sameAnswer(t, "UB, one second before the end", e.handshake("POST", "bob", "bob-pass", attacker), wrongUB)
			e.clk.Add(2 * time.Second)
			e.loginFrom("bob", "bob-pass", attacker)
			if rec := e.do(req{url: "/whoami", headers: basicBob, remote: attacker}); rec.Code != 200 {
				t.Fatalf("basic after the lock: %d", rec.Code)
			}
			for i := range 4 {
				wantErr(t, e.handshake("POST", fmt.Sprintf("user%d", i), "guess", attacker), 403, security.CodeInvalidUserOrPwd, "")
			}
			e.loginFrom("user0", "secret-pass", attacker)
			if n := len(ipLocks(e)); n != 1 {
				t.Fatalf("the old failures still counted: %d LOGIN_LOCKED", n)
			}
		})
	}
}

// TestIPLockoutSettings: 0 in either setting turns the address lockout off; a Basic
// failure counts like a UB one; a wrong old password of changePassword counts too.
func TestIPLockoutSettings(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			for _, off := range []map[string]any{
				{"ubgo.security.maxFailuresPerIP": 0},
				{"ubgo.security.ipLockOutSec": 0},
			} {
				e := newEnv(t, d, setup{custom: off})
				for i := range 60 {
					e.handshake("POST", fmt.Sprintf("user%d", i), "guess", "")
				}
				e.login("admin", adminPassword)
				if n := len(ipLocks(e)); n != 0 {
					t.Fatalf("%v: %d locks", off, n)
				}
			}
			if set := security.DefaultSettings; set.MaxFailuresPerIP != 50 || set.IPLockOut != 300*time.Second {
				t.Fatalf("defaults: %+v", set)
			}

			e := newEnv(t, d, setup{custom: ipLockSettings})
			e.addUser("bob", "bob-pass-1")
			bob := e.login("bob", "bob-pass-1")
			for range 2 {
				wantErr(t, e.do(req{url: "/whoami", headers: map[string]string{"Authorization": basic("x", "y")}}), 401, security.CodeNeedAuth, "")
			}
			for range 3 {
				wantErr(t, bob.call("POST", "/changePassword", `{"pwd":"nope","newPwd":"brand-new-1"}`), 403,
					security.CodeInvalidUserOrPwd, "<<<Incorrect old password>>>")
			}
			wantErr(t, e.handshake("POST", "bob", "bob-pass-1", ""), 403, security.CodeInvalidUserOrPwd, "<<<Access deny>>>")
			if n := len(ipLocks(e)); n != 1 {
				t.Fatalf("%d LOGIN_LOCKED", n)
			}
		})
	}
}

// TestTwoProcessesShareIPLockout: two processes on one PostgreSQL schema count an
// address's failures together; the lock set by one is enforced by the other and audited
// once.
func TestTwoProcessesShareIPLockout(t *testing.T) {
	db := storetest.NewSchema(t)
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	a := newEnv(t, storetest.PostgreSQL, setup{db: db, clk: clk, custom: ipLockSettings})
	b := newEnv(t, storetest.PostgreSQL, setup{db: db, clk: clk, custom: ipLockSettings})
	const stuffer = "198.51.100.66:5000"
	for i := range 4 {
		e := []*env{a, b}[i%2]
		wantErr(t, e.handshake("POST", fmt.Sprintf("victim%d", i), "guess", stuffer), 403, security.CodeInvalidUserOrPwd, "<<<Access deny>>>")
	}
	if n := len(ipLocks(a)); n != 0 {
		t.Fatalf("locked after 4 failures: %d", n)
	}
	b.handshake("POST", "victim4", "guess", stuffer) // the fifth, on B, locks
	wrong := a.handshake("POST", "admin", "wrong", "")
	sameAnswer(t, "A, right password from the address B locked", a.handshake("POST", "admin", adminPassword, stuffer), wrong)
	sameAnswer(t, "B, right password", b.handshake("POST", "admin", adminPassword, stuffer), wrong)
	if n := len(ipLocks(a)); n != 1 {
		t.Fatalf("%d LOGIN_LOCKED rows for one lock", n)
	}
	sa, sb := a.svc.Stats(), b.svc.Stats()
	if sa["login_ip_lockouts_total"] != int64(0) || sb["login_ip_lockouts_total"] != int64(1) ||
		sa["login_ip_refusals_total"] != int64(1) || sb["login_ip_refusals_total"] != int64(1) {
		t.Fatalf("/stat: A %v, B %v", sa, sb)
	}
	a.login("admin", adminPassword) // another address
	clk.Add(61 * time.Second)
	a.loginFrom("admin", adminPassword, stuffer)
	b.loginFrom("admin", adminPassword, stuffer)
}
