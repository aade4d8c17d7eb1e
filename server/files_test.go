package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestModelsEndpoint(t *testing.T) {
	s := newFixtureServer(t, Options{}, nil)
	long := "/models/PUB/" + strings.Repeat("a", MaxFilePathLen) + ".js"
	tests := []scenario{
		{name: "a public file", url: "/models/PUB/app.js", wantStatus: 200, wantBody: []string{"PUBLIC_APP"},
			wantHeader: map[string]string{"Content-Type": "application/javascript; charset=utf-8", "Cache-Control": "no-cache"},
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ string) {
				if rec.Header().Get("ETag") == "" {
					t.Error("no ETag")
				}
			}},
		{name: "a file in a subfolder", url: "/models/PUB/forms/f.html", wantStatus: 200, wantBody: []string{"FORM"},
			wantHeader: map[string]string{"Content-Type": "text/html; charset=utf-8"}},
		{name: "HEAD has no body", method: "HEAD", url: "/models/PUB/forms/f.html", wantStatus: 200, notBody: []string{"FORM"}},
		{name: "a symlink inside the folder", url: "/models/PUB/link-in", wantStatus: 200, wantBody: []string{"// init"}},
		{name: "POST is refused", method: "POST", url: "/models/PUB/app.js", wantStatus: 405,
			wantHeader: map[string]string{"Allow": "GET, HEAD"}},
		{name: "missing file", url: "/models/PUB/nope.js", wantStatus: 404, wantBody: []string{`"errCode":15`}},
		{name: "unknown model", url: "/models/NOPE/app.js", wantStatus: 404},
		{name: "built-in model without public files", url: "/models/UBA/package.json", wantStatus: 404},
		{name: "no model", url: "/models/", wantStatus: 400},
		{name: "no file", url: "/models/PUB", wantStatus: 400},
		{name: "a folder", url: "/models/PUB/dir", wantStatus: 400},
		{name: "path too long", url: long, wantStatus: 400},
		{name: "hidden file", url: "/models/PUB/.env", wantStatus: 404, notBody: secrets},

		// traversal attempts: never a byte of a file outside the public folder
		{name: "dot-dot", url: "/models/PUB/../pub_item.js", wantStatus: 400, notBody: secrets},
		{name: "dot-dot twice", url: "/models/PUB/../../outside.txt", wantStatus: 400, notBody: secrets},
		{name: "encoded slash", url: "/models/PUB/..%2fpub_item.js", wantStatus: 400, notBody: secrets},
		{name: "encoded dots", url: "/models/PUB/%2e%2e/pub_item.js", wantStatus: 400, notBody: secrets},
		{name: "encoded dots and slash", url: "/models/PUB/%2e%2e%2f%2e%2e%2foutside.txt", wantStatus: 400, notBody: secrets},
		{name: "four dots and double slash", url: "/models/PUB/....//pub_item.js", wantStatus: 400, notBody: secrets},
		{name: "backslash", url: "/models/PUB/..%5cpub_item.js", wantStatus: 400, notBody: secrets},
		{name: "absolute path", url: "/models/PUB//etc/passwd", wantStatus: 400, notBody: secrets},
		{name: "encoded absolute path", url: "/models/PUB/%2fetc%2fpasswd", wantStatus: 400, notBody: secrets},
		{name: "NUL", url: "/models/PUB/app.js%00.png", wantStatus: 400, notBody: secrets},
		{name: "symlink to the model folder", url: "/models/PUB/link-out", wantStatus: 400, notBody: secrets},
		{name: "symlink to an absolute path", url: "/models/PUB/abs-out", wantStatus: 400, notBody: secrets},
		{name: "through a symlinked folder", url: "/models/PUB/dir-out/outside.txt", wantStatus: 400, notBody: secrets},
		{name: "model name traversal", url: "/models/..%2f..%2foutside.txt", wantStatus: 404, notBody: secrets},
	}
	runScenarios(t, s, tests)
}

func TestStaticsEndpoint(t *testing.T) {
	s := newFixtureServer(t, Options{}, nil)
	tests := []scenario{
		{name: "root is the rootHandler file", url: "/", wantStatus: 200, wantBody: []string{"INDEX"}},
		{name: "a file as the default endpoint", url: "/robots.txt", wantStatus: 200, wantBody: []string{"User-agent"},
			wantHeader: map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
		{name: "a file through statics", url: "/statics/robots.txt", wantStatus: 200, wantBody: []string{"User-agent"}},
		{name: "folder index", url: "/sub/", wantStatus: 200, wantBody: []string{"SUB"}},
		{name: "folder without slash redirects", url: "/sub?x=1", wantStatus: 301, wantHeader: map[string]string{"Location": "/sub/?x=1"}},
		{name: "folder through statics without slash redirects", url: "/statics/sub", wantStatus: 301, wantHeader: map[string]string{"Location": "/statics/sub/"}},
		{name: "statics root", url: "/statics/", wantStatus: 200, wantBody: []string{"INDEX"}},
		{name: "missing", url: "/nope.html", wantStatus: 404},
		{name: "built-in endpoints win", url: "/getAppInfo", wantStatus: 200, wantBody: []string{"defaultLang"}},
		{name: "dot-dot", url: "/../outside.txt", wantStatus: 400, notBody: secrets},
		{name: "dot-dot through statics", url: "/statics/../outside.txt", wantStatus: 400, notBody: secrets},
		{name: "encoded dot-dot", url: "/%2e%2e/outside.txt", wantStatus: 400, notBody: secrets},
		{name: "backslash", url: "/..%5Coutside.txt", wantStatus: 400, notBody: secrets},
		{name: "symlink out", url: "/escape", wantStatus: 400, notBody: secrets},
		{name: "symlink to /etc/passwd", url: "/passwd", wantStatus: 400, notBody: secrets},
		{name: "NUL", url: "/index.html%00", wantStatus: 400},
		{name: "invalid UTF-8", url: "/%ff.html", wantStatus: 400},
		{name: "DELETE is refused", method: "DELETE", url: "/index.html", wantStatus: 405},
	}
	runScenarios(t, s, tests)
}

func TestFileETag(t *testing.T) {
	s := newFixtureServer(t, Options{}, nil)
	for _, url := range []string{"/models/PUB/forms/f.html", "/index.html"} {
		first := do(s, httptest.NewRequest("GET", url, nil))
		etag := first.Header().Get("ETag")
		if first.Code != 200 || etag == "" {
			t.Fatalf("%s: status %d, ETag %q", url, first.Code, etag)
		}
		req := httptest.NewRequest("GET", url, nil)
		req.Header.Set("If-None-Match", etag)
		if rec := do(s, req); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
			t.Errorf("%s with If-None-Match: status %d, body %q; want 304", url, rec.Code, rec.Body)
		}
	}
}

// TestNoInetPub: without httpServer.inetPub there is no default endpoint.
func TestNoInetPub(t *testing.T) {
	s := newTestServer(t, nil)
	runScenarios(t, s, []scenario{
		{name: "unknown endpoint", url: "/index.html", wantStatus: 404, wantBody: []string{`"errMsg":"Not Found"`}},
		{name: "root", url: "/", wantStatus: 404},
		{name: "statics is not an endpoint", url: "/statics/x", wantStatus: 404},
		{name: "sample model file", url: "/models/TSK/locale/lang-en.json", wantStatus: 200, wantBody: []string{"tskCloseTask"},
			wantHeader: map[string]string{"Content-Type": "application/json; charset=utf-8"}},
	})
}

// TestTraversalOverTheWire sends raw request lines through a real listener, so that no
// client library cleans the path before the server sees it.
func TestTraversalOverTheWire(t *testing.T) {
	s := newFixtureServer(t, Options{}, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln) }()
	defer func() {
		cancel()
		<-done
	}()
	for _, target := range []string{
		"/models/PUB/../pub_item.js", "/models/PUB/%2e%2e/pub_item.js", "/models/PUB/..%2f..%2foutside.txt",
		"/models/PUB/....//pub_item.js", "/models/PUB/..\\pub_item.js", "/models/PUB//etc/passwd",
		"/../outside.txt", "/%2e%2e/%2e%2e/outside.txt", "/escape", "/passwd", "/models/PUB/link-out",
	} {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", target)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		body, _ := io.ReadAll(resp.Body)
		conn.Close()
		if resp.StatusCode != 400 && resp.StatusCode != 404 {
			t.Errorf("%s: status %d", target, resp.StatusCode)
		}
		for _, secret := range secrets {
			if strings.Contains(string(body), secret) {
				t.Errorf("%s: the body leaks %s", target, secret)
			}
		}
	}
}
