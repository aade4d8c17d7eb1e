package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ubgo/ubgo/internal/boot"
)

func newTestServer(t testing.TB, env map[string]string) *Server {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	app, err := boot.Load(context.Background(), boot.Options{ConfigFile: "../ubconfig.json"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(app.Config, app.Domain, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestScenarios(t *testing.T) {
	s := newTestServer(t, nil)
	etag := s.appETag
	runScenarios(t, s, []scenario{
		{name: "getAppInfo", method: "GET", url: "/getAppInfo", wantStatus: 200,
			wantBody: []string{`"defaultLang":"en"`, `"authMethods":["UB"]`, `"supportedLanguages":["en","uk"]`, `"serverVersion":"5.23.15"`}},
		{name: "getAppInfo not modified", method: "GET", url: "/getAppInfo", headers: map[string]string{"If-None-Match": etag}, wantStatus: 304},
		{name: "getAppInfo with a stale etag", method: "GET", url: "/getAppInfo", headers: map[string]string{"If-None-Match": `"x"`}, wantStatus: 200},
		{name: "getAppInfo refuses POST", method: "POST", url: "/getAppInfo", wantStatus: 405, wantBody: []string{`"errCode":1`}},
		{name: "ready", method: "GET", url: "/ready", wantStatus: 200, wantBody: []string{`"ready"`}},
		{name: "unknown endpoint", method: "GET", url: "/nope", wantStatus: 404, wantBody: []string{`"errCode":15`, `"errMsg":"Not Found"`}},
		{name: "traversal is just an unknown endpoint", method: "GET", url: "/../../etc/passwd", wantStatus: 404, notBody: []string{"root:"}},
	})
}

func TestPathPrefix(t *testing.T) {
	s := newTestServer(t, nil)
	s.prefix = normalizePrefix("/app")
	for url, want := range map[string]int{"/app/getAppInfo": 200, "/getAppInfo": 404, "/application/getAppInfo": 404} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", url, nil))
		if rec.Code != want {
			t.Errorf("%s: status %d, want %d", url, rec.Code, want)
		}
	}
}

// TestRunDrains starts a real listener, checks readiness, cancels and expects a clean stop.
func TestRunDrains(t *testing.T) {
	s := newTestServer(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/ready")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("ready: %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(ShutdownTimeout + 5*time.Second):
		t.Fatal("server did not stop")
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/ready", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("ready after shutdown: %d, want 503", rec.Code)
	}
}
