package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/ubql"
)

// fakeDispatcher answers every batch with its items echoed and counts the calls, so that a
// test can assert that a rejected request reached no entity code.
type fakeDispatcher struct{ calls atomic.Int64 }

func (f *fakeDispatcher) Run(_ context.Context, _ *store.Session, reqs []*ubql.Request) ([]*ubql.Response, error) {
	f.calls.Add(1)
	out := make([]*ubql.Response, len(reqs))
	for i, r := range reqs {
		out[i] = &ubql.Response{Request: r}
	}
	return out, nil
}

func TestRequestID(t *testing.T) {
	s := newFixtureServer(t, Options{}, nil)
	tests := []scenario{
		{name: "made up when absent", url: "/ready", wantStatus: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ string) {
				if id := rec.Header().Get("X-Request-Id"); !strings.HasPrefix(id, s.ids.prefix) {
					t.Errorf("request id %q was not made by the server", id)
				}
			}},
		{name: "a client's id is not trusted", url: "/ready", headers: map[string]string{"X-Request-Id": "client-chosen"},
			wantStatus: 200, check: func(t *testing.T, rec *httptest.ResponseRecorder, _ string) {
				if id := rec.Header().Get("X-Request-Id"); id == "client-chosen" {
					t.Error("the id of an untrusted client was echoed")
				}
			}},
		{name: "a trusted proxy's id is echoed", url: "/ready", remote: "10.0.0.1:5000",
			headers: map[string]string{"X-Request-Id": "proxy-42.a"}, wantStatus: 200,
			wantHeader: map[string]string{"X-Request-Id": "proxy-42.a"}},
		{name: "a malformed id from a trusted proxy is replaced", url: "/ready", remote: "10.0.0.1:5000",
			headers: map[string]string{"X-Request-Id": "bad id\r\nx"}, wantStatus: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ string) {
				if id := rec.Header().Get("X-Request-Id"); !strings.HasPrefix(id, s.ids.prefix) {
					t.Errorf("request id %q", id)
				}
			}},
	}
	runScenarios(t, s, tests)
}

func TestRemoteIP(t *testing.T) {
	p, err := newProxies([]string{"10.0.0.0/8", "192.168.1.1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		remote, xff, want string
	}{
		{"192.0.2.9:1", "1.2.3.4", "192.0.2.9"},                 // untrusted peer: header ignored
		{"10.1.1.1:1", "1.2.3.4", "1.2.3.4"},                    // trusted proxy
		{"10.1.1.1:1", "6.6.6.6, 1.2.3.4, 10.2.2.2", "1.2.3.4"}, // forged first entry skipped
		{"192.168.1.1:1", "", "192.168.1.1"},                    // proxy without header
		{"10.1.1.1:1", "garbage", "10.1.1.1"},                   // unparsable: the peer
		{"[::ffff:10.1.1.1]:1", "2001:db8::1", "2001:db8::1"},   // mapped IPv4 peer
		{"10.1.1.1:1", "10.3.3.3, 10.4.4.4", "10.3.3.3"},        // only proxies: the first
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got, _ := p.clientIP(r); got != tt.want {
			t.Errorf("%s XFF %q: %s, want %s", tt.remote, tt.xff, got, tt.want)
		}
	}
	if _, err := newProxies([]string{"not-an-ip"}, ""); err == nil {
		t.Error("a bad trustedProxies entry was accepted")
	}
}

func TestPathChecks(t *testing.T) {
	s := newTestServer(t, nil)
	runScenarios(t, s, []scenario{
		{name: "NUL", url: "/getAppInfo%00", wantStatus: 400},
		{name: "control character", url: "/getAppInfo%0d%0a", wantStatus: 400},
		{name: "invalid UTF-8", url: "/%ff%fe", wantStatus: 400},
		{name: "valid UTF-8 is fine", url: "/%D0%BF", wantStatus: 404},
		{name: "trailing slash is the same endpoint", url: "/getAppInfo/", wantStatus: 200},
	})
}

func TestCORS(t *testing.T) {
	s := newFixtureServer(t, Options{DevAnonymousAdmin: true, Dispatcher: &fakeDispatcher{}}, nil)
	preflight := func(origin string) map[string]string {
		return map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "authorization, content-type"}
	}
	tests := []scenario{
		{name: "preflight from an allowed origin", method: "OPTIONS", url: "/ubql", headers: preflight("https://good.example"),
			wantStatus: 204, wantHeader: map[string]string{"Access-Control-Allow-Origin": "https://good.example",
				"Access-Control-Allow-Methods": corsAllowMethods, "Access-Control-Allow-Headers": corsAllowHeaders,
				"Vary": "Origin", "Access-Control-Allow-Credentials": ""}},
		{name: "preflight from the second allowed origin", method: "OPTIONS", url: "/ubql", headers: preflight("https://other.example"),
			wantStatus: 204, wantHeader: map[string]string{"Access-Control-Allow-Origin": "https://other.example"}},
		{name: "preflight from another origin", method: "OPTIONS", url: "/ubql", headers: preflight("https://evil.example"),
			wantStatus: 403, wantBody: []string{`"errCode":8`}, wantHeader: map[string]string{"Access-Control-Allow-Origin": ""}},
		{name: "prefix of an allowed origin is not allowed", method: "OPTIONS", url: "/ubql",
			headers: preflight("https://good.example.evil.com"), wantStatus: 403},
		{name: "simple request from an allowed origin", url: "/getAppInfo", headers: map[string]string{"Origin": "https://good.example"},
			wantStatus: 200, wantHeader: map[string]string{"Access-Control-Allow-Origin": "https://good.example",
				"Access-Control-Expose-Headers": corsExposeHeaders}},
		{name: "simple request from another origin gets no CORS header", url: "/getAppInfo",
			headers: map[string]string{"Origin": "https://evil.example"}, wantStatus: 200,
			wantHeader: map[string]string{"Access-Control-Allow-Origin": ""}},
		{name: "cross-site form post cannot reach ubql", method: "POST", url: "/ubql", body: `[{"entity":"pub_item","method":"select"}]`,
			headers: map[string]string{"Origin": "https://evil.example", "Content-Type": "text/plain"}, wantStatus: 415},
	}
	runScenarios(t, s, tests)

	noCORS := newTestServer(t, nil)
	runScenarios(t, noCORS, []scenario{
		{name: "CORS off: a preflight is an ordinary request", method: "OPTIONS", url: "/getAppInfo",
			headers: preflight("https://good.example"), wantStatus: 405,
			wantHeader: map[string]string{"Access-Control-Allow-Origin": ""}},
	})
}

func TestCORSPolicy(t *testing.T) {
	c := newCORS("*")
	if !c.any || !c.enabled() {
		t.Error(`"*" does not allow every origin`)
	}
	c = newCORS("https://a.example/; https://b.example")
	if !c.origins["https://a.example"] || !c.origins["https://b.example"] || c.any {
		t.Errorf("origins %v", c.origins)
	}
	if newCORS("").enabled() {
		t.Error("empty allowCORSFrom enables CORS")
	}
}

func TestCompression(t *testing.T) {
	s := newFixtureServer(t, Options{DevAnonymousAdmin: true}, nil)
	gz := map[string]string{"Accept-Encoding": "gzip, deflate, br"}
	tests := []scenario{
		{name: "large JS is gzipped", url: "/models/PUB/app.js", headers: gz, wantStatus: 200, wantBody: []string{"PUBLIC_APP"},
			wantHeader: map[string]string{"Content-Encoding": "gzip", "Vary": "Accept-Encoding", "Content-Length": ""},
			check: func(t *testing.T, rec *httptest.ResponseRecorder, body string) {
				if rec.Body.Len() >= len(body) {
					t.Errorf("gzipped %d bytes, plain %d", rec.Body.Len(), len(body))
				}
				if et := rec.Header().Get("ETag"); !strings.HasPrefix(et, "W/") {
					t.Errorf("ETag %q of a gzipped body is not weak", et)
				}
			}},
		{name: "without Accept-Encoding", url: "/models/PUB/app.js", wantStatus: 200, wantBody: []string{"PUBLIC_APP"},
			wantHeader: map[string]string{"Content-Encoding": "", "Content-Length": "2600"}},
		{name: "gzip refused with q=0", url: "/models/PUB/app.js", headers: map[string]string{"Accept-Encoding": "gzip;q=0, *"},
			wantStatus: 200, wantHeader: map[string]string{"Content-Encoding": ""}},
		{name: "any encoding", url: "/models/PUB/app.js", headers: map[string]string{"Accept-Encoding": "*"},
			wantStatus: 200, wantHeader: map[string]string{"Content-Encoding": "gzip"}},
		{name: "small bodies are not gzipped", url: "/models/PUB/forms/f.html", headers: gz, wantStatus: 200,
			wantHeader: map[string]string{"Content-Encoding": "", "Content-Length": "11"}},
		{name: "HEAD is not gzipped", method: "HEAD", url: "/models/PUB/app.js", headers: gz, wantStatus: 200,
			wantHeader: map[string]string{"Content-Encoding": ""}},
		{name: "domain info is gzipped", url: "/getDomainInfo?v=4&userName=admin", headers: gz, wantStatus: 200,
			wantBody: []string{`"pub_item"`}, wantHeader: map[string]string{"Content-Encoding": "gzip"}},
		{name: "errors are not gzipped", url: "/models/PUB/nope.js", headers: gz, wantStatus: 404,
			wantHeader: map[string]string{"Content-Encoding": ""}},
	}
	runScenarios(t, s, tests)

	req := httptest.NewRequest("GET", "/models/PUB/app.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("Range", "bytes=0-1499")
	if rec := do(s, req); rec.Code != http.StatusPartialContent || rec.Header().Get("Content-Encoding") != "" || rec.Body.Len() != 1500 {
		t.Errorf("range: status %d, encoding %q, %d bytes; want 206, identity, 1500", rec.Code, rec.Header().Get("Content-Encoding"), rec.Body.Len())
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{"": false, "gzip": true, "GZIP": true, "deflate, gzip;q=0.5": true,
		"gzip;q=0": false, "gzip; q=0.0": false, "br": false, "*": true, "*;q=0": false, "gzip;q=0, *": false, "identity": false} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v", h, got)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	d := &fakeDispatcher{}
	s := newFixtureServer(t, Options{DevAnonymousAdmin: true, Dispatcher: d, MaxBodyBytes: 1024}, nil)
	json := map[string]string{"Content-Type": "application/json"}
	small := `[{"entity":"pub_item","method":"select","fieldList":["ID"]}]`
	big := `[{"entity":"pub_item","method":"select","fieldList":["ID"],"x":"` + strings.Repeat("a", 2000) + `"}]`
	runScenarios(t, s, []scenario{
		{name: "under the limit", method: "POST", url: "/ubql", headers: json, body: small, wantStatus: 200},
		{name: "Content-Length over the limit", method: "POST", url: "/ubql", headers: json, body: big, wantStatus: 413,
			wantBody: []string{`"errMsg":"Request Entity Too Large"`}},
		{name: "over the limit, even without a session", method: "POST", url: "/getDomainInfo", headers: json, body: big, wantStatus: 413},
	})
	calls := d.calls.Load()

	// chunked: no Content-Length, the limit applies while reading
	req := httptest.NewRequest("POST", "/ubql", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	req.TransferEncoding = []string{"chunked"}
	req.Header.Set("Content-Type", "application/json")
	rec := do(s, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked body over the limit: status %d, body %s", rec.Code, rec.Body)
	}
	wantErrorBody(t, rec.Body.String())
	if d.calls.Load() != calls {
		t.Error("an oversized batch reached the dispatcher")
	}
}

func TestPanicRecovery(t *testing.T) {
	var logs logBuffer
	s := newFixtureServer(t, Options{}, logs.logger())
	s.Handle("boom", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"x"`)
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("partial")) // held back: the client accepts gzip and the body is small
		panic("boom-secret-value")
	}), false)
	s.Handle("boom2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"x"`)
		panic(fmt.Errorf("wrapped: %w", errors.New("boom-secret-value")))
	}), false)
	runScenarios(t, s, []scenario{
		{name: "panic before writing", url: "/boom2", wantStatus: 500,
			wantBody: []string{`"errCode":1`, `"errMsg":"Internal server error"`}, notBody: []string{"boom-secret-value"},
			wantHeader: map[string]string{"ETag": "", "Content-Type": "application/json; charset=utf-8"}},
		{name: "panic before writing, gzip accepted", url: "/boom", headers: map[string]string{"Accept-Encoding": "gzip"},
			wantStatus: 500, notBody: []string{"boom-secret-value", "partial"}},
		{name: "the server goes on", url: "/ready", wantStatus: 200},
	})
	if !strings.Contains(logs.String(), "boom-secret-value") || !strings.Contains(logs.String(), `"stack":"goroutine`) {
		t.Errorf("the panic and its stack are not in the log: %s", logs.String())
	}
}

func TestLogRedaction(t *testing.T) {
	var logs logBuffer
	s := newFixtureServer(t, Options{DevAnonymousAdmin: true, Dispatcher: &fakeDispatcher{}}, logs.logger())
	runScenarios(t, s, []scenario{
		{name: "secrets in the query", url: "/getAppInfo?password=hunter2x&pwd=pwdValue9&newPwd=newPwdValue7&Secret=sec55&lang=uk",
			headers: map[string]string{"Authorization": "UB authTokenValue123"}, wantStatus: 200},
		{name: "a body with a password", method: "POST", url: "/ubql",
			headers: map[string]string{"Content-Type": "application/json", "Authorization": "UB authTokenValue123"},
			body:    `[{"entity":"uba_user","method":"insert","execParams":{"name":"x","password":"bodySecret123"}}]`, wantStatus: 200},
		{name: "a failing body with a password", method: "POST", url: "/ubql",
			headers: map[string]string{"Content-Type": "application/json"},
			body:    `[{"entity":"uba_user","method":"insert","execParams":{"password":"bodySecret123"}`, wantStatus: 400},
		{name: "a query that cannot be parsed", url: "/getAppInfo?password=%zzhunter2x", wantStatus: 200},
	})
	out := logs.String()
	for _, secret := range []string{"hunter2x", "pwdValue9", "newPwdValue7", "sec55", "authTokenValue123", "bodySecret123"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log contains %s:\n%s", secret, out)
		}
	}
	for _, want := range []string{"password=REDACTED", "lang=uk", `"requestId"`, `"status":400`, `"bytesIn"`, `"remote":"192.0.2.1"`, `"user":"admin"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s:\n%s", want, out)
		}
	}
}

func TestHandle(t *testing.T) {
	s := newFixtureServer(t, Options{DevAnonymousAdmin: true}, nil)
	s.Handle("echo", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "rest=%s user=%s lang=%s id=%s", Rest(r), Session(r).UserName, Lang(r), RequestID(r))
	}), true)
	s.Handle("open", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "rest=%s session=%v", Rest(r), Session(r) != nil)
	}), false)
	runScenarios(t, s, []scenario{
		{name: "an endpoint that requires a session", url: "/echo/a/b%2Fc?lang=uk", wantStatus: 200,
			wantBody: []string{"rest=a/b/c", "user=admin", "lang=uk", "id="}},
		{name: "an open endpoint has no session", url: "/open/x", wantStatus: 200, wantBody: []string{"rest=x", "session=false"}},
	})
	for _, name := range []string{"", "a/b", "..", "getAppInfo", "echo", "bad\x00"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Handle(%q) did not panic", name)
				}
			}()
			s.Handle(name, http.NotFoundHandler(), false)
		}()
	}
}

// TestNoAuthorizer: without an Authorizer and without DevAnonymousAdmin, every endpoint
// that requires authorization answers 401 with errCode 10, and the others work.
func TestNoAuthorizer(t *testing.T) {
	d := &fakeDispatcher{}
	s := newFixtureServer(t, Options{Dispatcher: d}, nil)
	json := map[string]string{"Content-Type": "application/json"}
	var tests []scenario
	for _, u := range []string{"/getDomainInfo?v=4&userName=admin", "/stat"} {
		tests = append(tests, scenario{name: u, url: u, wantStatus: 401, wantBody: []string{`"errCode":10`}})
	}
	for _, u := range []string{"/ubql", "/runList"} {
		tests = append(tests, scenario{name: u, method: "POST", url: u, headers: json, body: `[{"entity":"pub_item","method":"select"}]`,
			wantStatus: 401, wantBody: []string{`"errCode":10`, `"errMsg":"Authorization required"`}})
	}
	tests = append(tests,
		scenario{name: "open endpoints work", url: "/getAppInfo", wantStatus: 200},
		scenario{name: "in Ukrainian", url: "/stat", headers: map[string]string{"Accept-Language": "uk"}, wantStatus: 401,
			wantBody: []string{`"errMsg":"Потрібна авторизація"`}},
	)
	runScenarios(t, s, tests)
	if d.calls.Load() != 0 {
		t.Error("an unauthenticated batch reached the dispatcher")
	}
}

// stubAuthorizer authenticates by a header, as the security layer will by signature.
type stubAuthorizer struct{}

func (stubAuthorizer) Authenticate(r *http.Request) (*store.Session, error) {
	switch r.Header.Get("X-Test-User") {
	case "bob":
		return &store.Session{UserID: 100, UserName: "bob", Lang: "uk"}, nil
	case "admin":
		return &store.Session{UserID: store.UserAdmin, UserName: "admin"}, nil
	case "blocked":
		return nil, &Error{Status: http.StatusForbidden, Msg: "<<<Access deny>>>"}
	case "broken":
		return nil, errors.New("session store unreachable: dial tcp 10.9.9.9")
	}
	return nil, &Error{Status: http.StatusUnauthorized, Code: CodeNeedAuth}
}

func TestAuthorizer(t *testing.T) {
	s := newFixtureServer(t, Options{Authorizer: stubAuthorizer{}, DevAnonymousAdmin: true}, nil)
	user := func(u string) map[string]string { return map[string]string{"X-Test-User": u} }
	runScenarios(t, s, []scenario{
		{name: "no session", url: "/stat", wantStatus: 401, wantBody: []string{`"errCode":10`}},
		{name: "DevAnonymousAdmin is ignored with an Authorizer", url: "/getDomainInfo?userName=admin", wantStatus: 401},
		{name: "a user", url: "/getDomainInfo?userName=bob", headers: user("bob"), wantStatus: 200,
			wantBody: []string{`"caption":"Елемент"`}}, // the session's language
		{name: "a denied user", url: "/stat", headers: user("blocked"), wantStatus: 403,
			wantBody: []string{`"errMsg":"<<<Access deny>>>"`}},
		{name: "an Authorizer failure is a 500 without details", url: "/stat", headers: user("broken"), wantStatus: 500,
			notBody: []string{"10.9.9.9"}},
	})
}
