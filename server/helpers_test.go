package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ubgo/ubgo/internal/boot"
)

// scenario is one request through the real handler and what must come back.
type scenario struct {
	name       string
	method     string // GET when empty
	url        string
	body       string
	headers    map[string]string
	remote     string // RemoteAddr; httptest's 192.0.2.1:1234 when empty
	wantStatus int
	wantBody   []string
	notBody    []string          // checked on the decompressed body
	wantHeader map[string]string // "" means the header must be absent
	check      func(t *testing.T, rec *httptest.ResponseRecorder, body string)
}

// secrets are texts of files the file endpoints must never serve.
var secrets = []string{"SERVER_SECRET", "OUTSIDE_SECRET", "root:x:"}

func (sc scenario) request() *http.Request {
	method := sc.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if sc.body != "" {
		body = strings.NewReader(sc.body)
	}
	req := httptest.NewRequest(method, sc.url, body)
	for k, v := range sc.headers {
		req.Header.Set(k, v)
	}
	if sc.remote != "" {
		req.RemoteAddr = sc.remote
	}
	return req
}

func runScenarios(t *testing.T, h http.Handler, tests []scenario) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.request())
			body := responseBody(t, rec)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.wantStatus, body)
			}
			for _, w := range tt.wantBody {
				if !strings.Contains(body, w) {
					t.Errorf("body %.600s does not contain %s", body, w)
				}
			}
			for _, w := range tt.notBody {
				if strings.Contains(body, w) {
					t.Errorf("body contains %s: %.600s", w, body)
				}
			}
			for k, v := range tt.wantHeader {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if rec.Header().Get("X-Request-Id") == "" {
				t.Error("no request id")
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
			if rec.Code >= 400 && tt.method != http.MethodHead {
				wantErrorBody(t, body)
			}
			if tt.check != nil {
				tt.check(t, rec, body)
			}
		})
	}
}

// responseBody is the body, gunzipped when the response is gzipped.
func responseBody(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if rec.Header().Get("Content-Encoding") != "gzip" {
		return rec.Body.String()
	}
	zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatalf("gzip body: %v", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip body: %v", err)
	}
	return string(b)
}

// wantErrorBody checks UnityBase's error shape: {errCode (not 0), errMsg (not empty)}.
func wantErrorBody(t *testing.T, body string) (code int, msg string) {
	t.Helper()
	var e struct {
		ErrCode *int   `json:"errCode"`
		ErrMsg  string `json:"errMsg"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.ErrCode == nil || *e.ErrCode == 0 || e.ErrMsg == "" {
		t.Errorf("error body is not {errCode, errMsg}: %s", body)
		return 0, ""
	}
	return *e.ErrCode, e.ErrMsg
}

// logBuffer captures a logger's output for assertions.
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

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// writeFixtureApp writes an application with a model on disk whose public folder holds
// the files the file endpoints serve and the traps they must not fall into (symlinks out,
// hidden files), an inetPub folder, and secrets outside both. It returns the config file.
func writeFixtureApp(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"ubconfig.json": `{
  "httpServer": {"port": "8881", "inetPub": "./www", "allowCORSFrom": "https://good.example, https://other.example"},
  "security": {"authenticationMethods": ["UB"], "trustedProxies": ["10.0.0.1"], "localIPs": "203.0.113.7"},
  "application": {
    "defaultLang": "en",
    "domain": {"models": [{"name": "UB"}, {"name": "UBA"}, {"path": "./models/pub"}]},
    "connections": [{"name": "main", "driver": "SQLite3", "dialect": "SQLite3", "isDefault": true,
                     "databaseName": "./db.sqlite3", "supportLang": ["en", "uk"]}]
  }
}`,
		"models/pub/package.json": `{"name": "pub", "version": "1.2.3", "config": {"ubmodel": {"name": "PUB"}}}`,
		"models/pub/pub_item.meta": `{"caption": "Item", "captionSingular": "Item", "sqlAlias": "pitm",
  "attributes": [{"name": "code", "dataType": "String", "size": 32, "caption": "Code", "allowNull": false,
    "mapping": [{"name": "SQLite3", "expressionType": "Field", "expression": "CODE_MAPPED"}],
    "privateSettings": {"token": "PRIVATE_ATTR_SETTING"}}],
  "mixins": {"mStorage": {"simpleAudit": false}}}`,
		"models/pub/meta_locale/pub_item.meta.uk": `{"caption": "Елемент", "attributes": [{"name": "code", "caption": "Код"}]}`,
		"models/pub/pub_item.js":                  "// SERVER_SECRET: server-side code",
		"models/pub/public/app.js":                strings.Repeat("console.log('PUBLIC_APP')\n", 100),
		"models/pub/public/initModel.js":          "// init",
		"models/pub/public/forms/f.html":          "<p>FORM</p>",
		"models/pub/public/.env":                  "SERVER_SECRET=1",
		"models/pub/public/dir/a.txt":             "a",
		"models/pub/public/locale/lang-en.json":   `{"pubHello": "Hello", "nested": {"a": "A"},}`,
		"models/pub/public/locale/lang-uk.json":   `{"pubHello": "Привіт"}`,
		"models/pub/_data/locale/lang-en.json":    `{"pubData": "DATA_TEXT"}`,
		"www/index.html":                          "<h1>INDEX</h1>",
		"www/sub/index.html":                      "<h1>SUB</h1>",
		"www/robots.txt":                          "User-agent: *",
		"outside.txt":                             "OUTSIDE_SECRET",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"models/pub/public/link-out": "../pub_item.js", // out of the public folder, into the model
		"models/pub/public/abs-out":  filepath.Join(dir, "outside.txt"),
		"models/pub/public/link-in":  "initModel.js",
		"models/pub/public/dir-out":  "../..",
		"www/escape":                 "../outside.txt",
		"www/passwd":                 "/etc/passwd",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Skipf("symlinks unavailable: %v", err)
		}
	}
	return filepath.Join(dir, "ubconfig.json")
}

// newFixtureServer boots the fixture application and builds its server.
func newFixtureServer(t *testing.T, opt Options, log *slog.Logger) *Server {
	t.Helper()
	app, err := boot.Load(context.Background(), boot.Options{ConfigFile: writeFixtureApp(t),
		LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s, err := NewWithOptions(app.Config, app.Domain, log, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// do sends one request through the handler.
func do(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
