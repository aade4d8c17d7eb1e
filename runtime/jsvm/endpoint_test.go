package jsvm

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/storetest"
)

// callEndpoint runs an endpoint on a worker of p; tx may be nil.
func callEndpoint(t testing.TB, p *Pool, name string, req *Request, tx *store.Tx) (*Response, error) {
	t.Helper()
	w, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release(w)
	resp := &Response{}
	err = w.CallEndpoint(context.Background(), name, req, resp, tx)
	return resp, err
}

func jsonBody(t testing.TB, resp *Response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(resp.Body, &m); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	return m
}

func TestEndpointRequestResponse(t *testing.T) {
	p := NewPool(loadProgram(t), PoolOptions{Size: 1})

	resp, err := callEndpoint(t, p, "jstEcho", &Request{
		Method: "POST", URL: "jstEcho/a%20b/c?x=1&y=2&y=3", URI: "a%20b/c", Parameters: "x=1&y=2&y=3",
		Header: map[string][]string{"X-Test": {"hello"}}, Body: []byte(`{"k": [1, 2]}`),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 || resp.Header["X-Jst"][0] != "yes" || resp.Header["Content-Type"][0] != "application/json" {
		t.Errorf("status %d, header %v", resp.StatusCode, resp.Header)
	}
	got := jsonBody(t, resp)
	want := map[string]any{
		"method": "POST", "url": "jstEcho/a%20b/c?x=1&y=2&y=3", "uri": "a%20b/c", "decodedUri": "a b/c",
		"parameters": "x=1&y=2&y=3", "header": "hello", "tasksModule": "tasks", "extended": "extended",
		"isSuper": false, "serverConfigFrozen": true, "defaultLang": "en", "hasTask": true,
		"taskCaption": "Tasks", "titleType": "String",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	if p := got["parsed"].(map[string]any); p["x"] != "1" || len(p["y"].([]any)) != 2 {
		t.Errorf("parsedParameters = %v", p)
	}
	if b := got["body"].(map[string]any); len(b["k"].([]any)) != 2 {
		t.Errorf("json() = %v", b)
	}
	if l := got["loaded"].([]any); len(l) != 1 || l[0] != "domainIsLoaded" {
		t.Errorf("domainIsLoaded fired %v", l)
	}

	cases := []struct {
		name, body string
		status     int
	}{
		{"jstPrevented", "prevented", 200}, // App.preventDefault in jstPrevented:before
		{"jstBad", "Bad Request", 400},
		{"jstETag", strings.Repeat("x", 100), 200},
		{"jstBinary", "hihi!", 200}, // ArrayBuffer, base64 text, typed array
	}
	for _, c := range cases {
		resp, err := callEndpoint(t, p, c.name, &Request{Method: "GET"}, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if resp.StatusCode != c.status || string(resp.Body) != c.body {
			t.Errorf("%s: %d %q, want %d %q", c.name, resp.StatusCode, resp.Body, c.status, c.body)
		}
	}

	etag := ""
	if resp, _ := callEndpoint(t, p, "jstETag", &Request{Method: "GET"}, nil); len(resp.Header["Etag"]) == 1 {
		etag = resp.Header["Etag"][0]
	}
	if len(etag) != 8 {
		t.Fatalf("ETag = %q, want 8 hex digits of crc32", etag)
	}
	resp, err = callEndpoint(t, p, "jstETag", &Request{Method: "GET", Header: map[string][]string{"If-None-Match": {`"` + etag + `"`}}}, nil)
	if err != nil || resp.StatusCode != http.StatusNotModified || len(resp.Body) != 0 {
		t.Errorf("If-None-Match: %v %d %q, want 304 and no body", err, resp.StatusCode, resp.Body)
	}

	_, err = callEndpoint(t, p, "jstThrow", &Request{Method: "GET"}, nil)
	if e := asError(t, err); e.Client != "<<<jstEndpointFailed>>>" || e.Status != 500 || !strings.HasSuffix(e.File, "models/jst/index.js") {
		t.Errorf("jstThrow: %+v", e)
	}
	_, err = callEndpoint(t, p, "nosuch", &Request{Method: "GET"}, nil)
	if e := asError(t, err); e.Status != 404 {
		t.Errorf("unknown endpoint: %+v", e)
	}
}

func TestRequire(t *testing.T) {
	p := NewPool(loadProgram(t), PoolOptions{Size: 1})
	cases := []struct {
		name    string
		keys    []string // want these keys (a subset) of the module
		errPart string   // or an error containing this
	}{
		{name: "./modules/helper", keys: []string{"normalize"}},
		{name: "./modules/helper.js", keys: []string{"normalize"}},
		{name: "./modules/limits", keys: []string{"maxQty"}},
		{name: "./modules/limits.json", keys: []string{"maxQty"}},
		{name: "./lib", keys: []string{"add"}},
		{name: "./modules/cycleA", keys: []string{"fromB", "name"}},
		{name: "./jst_item.meta", keys: []string{"calc", "entity"}},
		{name: "@unitybase/ub", keys: []string{"App", "DataStore", "Repository", "Session", "UBAbort", "i18n"}},
		{name: "@unitybase/base", keys: []string{"ServerRepository", "uba_common"}},
		{name: "@unitybase/cs-shared", keys: []string{"LocalDataStore"}},
		{name: "@unitybase/uba", keys: []string{"uba_common"}},
		{name: "events", keys: []string{"EventEmitter"}},
		{name: "@ubgo-model/TSK/modules/hookHelpers", keys: []string{"addCalculatedAttribute"}},
		{name: "tasks/modules/hookHelpers", keys: []string{"addCalculatedAttribute"}},
		{name: "../../../../../../models/tasks/modules/hookHelpers", keys: []string{"addCalculatedAttribute"}},
		{name: "./modules/escape", errPart: "Cannot require '../../../../../../../go.mod' from "},
		{name: "../../../../../../go.mod", errPart: "the path leads outside the model folders"},
		{name: "/etc/passwd", errPart: "the path leads outside the model folders"},
		{name: "./modules/broken", errPart: "broken.js:3:14: SyntaxError: Unexpected token ;"},
		{name: "./nosuch", errPart: "Cannot find module './nosuch' from "},
		{name: "lodash", errPart: "Cannot find module 'lodash'"},
		{name: "@unitybase/adminui-vue", errPart: "not available in ubgo"},
		{name: "@ubgo-model/NOPE/x", errPart: `there is no model "NOPE"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := callEndpoint(t, p, "jstRequire", &Request{Method: "GET", Parameters: "name=" + c.name}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := jsonBody(t, resp)
			if c.errPart != "" {
				msg, _ := got["error"].(string)
				if !strings.Contains(msg, c.errPart) {
					t.Fatalf("error = %q, want it to contain %q", msg, c.errPart)
				}
				return
			}
			if got["ok"] != true {
				t.Fatalf("require failed: %v", got["error"])
			}
			var keys []string
			for _, k := range got["keys"].([]any) {
				keys = append(keys, k.(string))
			}
			for _, k := range c.keys {
				if !slices.Contains(keys, k) {
					t.Errorf("keys %v lack %q", keys, k)
				}
			}
		})
	}
}

func TestConsole(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := bootApp(t, "testdata/app/ubconfig.json", storetest.SQLite3, "")
	prog, err := Load(context.Background(), a.Domain, a.Config, log)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPool(prog, PoolOptions{Size: 1})
	if _, err := callEndpoint(t, p, "jstEcho", &Request{Method: "GET"}, nil); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`level=INFO msg="echo GET {\"a\":1}" model=JST file=`, `models/jst/index.js:`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
