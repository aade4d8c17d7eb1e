package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ubgo/ubgo/store"
)

// fakeAuth records what the server hands to the security layer and answers as told.
type fakeAuth struct {
	mu        sync.Mutex
	params    url.Values
	header    http.Header
	remoteIP  string
	loggedOut *store.Session
	change    []string
	needDo    bool
	err       error

	public    bool // AuthenticatePublic gives a session
	endpoints []string
}

func (f *fakeAuth) Login(_ context.Context, params url.Values, header http.Header, remoteIP string) (map[string]any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.params, f.header, f.remoteIP = params, header, remoteIP
	if f.err != nil {
		return nil, f.err
	}
	return map[string]any{"result": "1+abc", "logonname": "admin", "uData": "{}"}, nil
}

func (f *fakeAuth) Logout(_ context.Context, sess *store.Session) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loggedOut = sess
	return f.err
}

func (f *fakeAuth) ChangePassword(_ context.Context, sess *store.Session, forUser, oldPwd, newPwd string, needChange bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.change, f.needDo = []string{sess.UserName, forUser, oldPwd, newPwd}, needChange
	return f.err
}

// Authenticate accepts "Authorization: UB good" as admin.
func (f *fakeAuth) Authenticate(r *http.Request) (*store.Session, error) {
	if r.Header.Get("Authorization") == "UB good" {
		return &store.Session{ID: 5, UserID: store.UserAdmin, UserName: "admin"}, nil
	}
	return nil, &Error{Status: http.StatusUnauthorized, Code: CodeNeedAuth}
}

// publicAuth is a fakeAuth that is also a PublicAuthorizer.
type publicAuth struct{ *fakeAuth }

func (p publicAuth) AuthenticatePublic(r *http.Request) *store.Session {
	if s, err := p.Authenticate(r); err == nil {
		return s
	}
	return &store.Session{UserID: store.UserAnonymous, UserName: "anonymous"}
}

func (f *fakeAuth) allowed(_ context.Context, sess *store.Session, endpoint string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.endpoints = append(f.endpoints, endpoint)
	if endpoint == "stat" {
		return &Error{Status: http.StatusForbidden, Code: CodeAccessDeny, Msg: "<<<Access deny>>>"}
	}
	return nil
}

func TestAuthEndpoints(t *testing.T) {
	f := &fakeAuth{}
	var logs logBuffer
	s := newFixtureServer(t, Options{Authorizer: f, Auth: f, EndpointAllowed: f.allowed}, logs.logger())
	good := map[string]string{"Authorization": "UB good"}
	jsonGood := map[string]string{"Authorization": "UB good", "Content-Type": "application/json"}
	runScenarios(t, s, []scenario{
		{name: "auth GET", url: "/auth?AUTHTYPE=UB&userName=admin&clientNonce=cn1&password=pw1", wantStatus: 200,
			wantBody: []string{`"result":"1+abc"`}, wantHeader: map[string]string{"Cache-Control": "no-store"},
			check: func(t *testing.T, _ *httptest.ResponseRecorder, _ string) {
				if f.params.Get("clientNonce") != "cn1" || f.params.Get("password") != "pw1" || f.remoteIP != "192.0.2.1" {
					t.Errorf("params %v from %s", f.params, f.remoteIP)
				}
			}},
		{name: "auth POST with a form body", method: "POST", url: "/auth?AUTHTYPE=UB",
			headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: "userName=admin&userName=x",
			wantStatus: 200, check: func(t *testing.T, _ *httptest.ResponseRecorder, _ string) {
				if len(f.params["userName"]) != 2 || f.params.Get("AUTHTYPE") != "UB" {
					t.Errorf("form params %v", f.params)
				}
			}},
		{name: "auth with a broken form", method: "POST", url: "/auth", headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			body: "a=%zz", wantStatus: 400},
		{name: "auth DELETE", method: "DELETE", url: "/auth", wantStatus: 405},
		{name: "logout needs a session", method: "POST", url: "/logout", wantStatus: 401},
		{name: "logout", method: "POST", url: "/logout", headers: good, wantStatus: 200, wantBody: []string{`"success":true`},
			check: func(t *testing.T, _ *httptest.ResponseRecorder, _ string) {
				if f.loggedOut == nil || f.loggedOut.ID != 5 || !f.loggedOut.External {
					t.Errorf("logged out %+v", f.loggedOut)
				}
			}},
		{name: "logout GET", url: "/logout", headers: good, wantStatus: 405},
		{name: "changePassword", method: "POST", url: "/changePassword", headers: jsonGood,
			body: `{"pwd":"old","newPwd":"new","needChangePassword":true}`, wantStatus: 200,
			check: func(t *testing.T, _ *httptest.ResponseRecorder, _ string) {
				if strings.Join(f.change, ",") != "admin,,old,new" || !f.needDo {
					t.Errorf("change %v %v", f.change, f.needDo)
				}
			}},
		{name: "changePassword not JSON", method: "POST", url: "/changePassword", headers: good, body: `pwd=x`, wantStatus: 415},
		{name: "changePassword unknown key", method: "POST", url: "/changePassword", headers: jsonGood, body: `{"pwd":"a","x":1}`, wantStatus: 400},
		{name: "changePassword two values", method: "POST", url: "/changePassword", headers: jsonGood, body: `{"pwd":"a"}{"pwd":"b"}`, wantStatus: 400},
		{name: "changePassword too large", method: "POST", url: "/changePassword", headers: jsonGood,
			body: `{"pwd":"` + strings.Repeat("a", maxChangePasswordBody) + `"}`, wantStatus: 413},
		{name: "an endpoint the hook denies", url: "/stat", headers: good, wantStatus: 403, wantBody: []string{"<<<Access deny>>>"}},
		{name: "a public endpoint without a PublicAuthorizer", url: "/getAppInfo", wantStatus: 200},
	})
	if !strings.Contains(strings.Join(f.endpoints, ","), "logout") || strings.Contains(strings.Join(f.endpoints, ","), "getAppInfo") {
		t.Errorf("EndpointAllowed was asked about %v", f.endpoints)
	}
	f.err = errors.New("boom")
	if rec := do(s, httptest.NewRequest("GET", "/auth?userName=a", nil)); rec.Code != 500 || strings.Contains(rec.Body.String(), "boom") {
		t.Errorf("a plain error: %d %s", rec.Code, rec.Body)
	}
	// The access log shows none of the secrets of /auth.
	for _, secret := range []string{"cn1", "pw1", "sig123", "conn123"} {
		do(s, httptest.NewRequest("GET", "/auth?AUTHTYPE=UB&userName=admin&clientNonce=cn1&password=pw1&session_signature=sig123&connectionID=conn123&apiKey=k", nil))
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log contains %s", secret)
		}
	}
}

func TestPublicAuthorizer(t *testing.T) {
	f := &fakeAuth{}
	s := newFixtureServer(t, Options{Authorizer: publicAuth{f}}, nil)
	var seen *store.Session
	s.Handle("pub", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = Session(r) }), false)
	do(s, httptest.NewRequest("GET", "/pub?lang=uk", nil))
	if seen == nil || seen.UserID != store.UserAnonymous || seen.Lang != "uk" || seen.RemoteIP != "192.0.2.1" || !seen.External {
		t.Fatalf("anonymous public session: %+v", seen)
	}
	r := httptest.NewRequest("GET", "/pub", nil)
	r.Header.Set("Authorization", "UB good")
	do(s, r)
	if seen == nil || seen.UserID != store.UserAdmin {
		t.Fatalf("signed public session: %+v", seen)
	}
	// Without Auth the auth endpoints do not exist.
	if rec := do(s, httptest.NewRequest("GET", "/logout", nil)); rec.Code != 404 {
		t.Fatalf("logout without an AuthService: %d", rec.Code)
	}
}
