package server

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAllLocales(t *testing.T) {
	s := newFixtureServer(t, Options{}, nil)
	jsonOf := func(t *testing.T, body string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatalf("not JSON: %v: %s", err, body)
		}
		return m
	}
	tests := []scenario{
		{name: "script bundle", url: "/allLocales?lang=en", wantStatus: 200,
			wantBody:   []string{"// PUB localization\nUB.i18nExtend(\n", `"pubHello":"Hello"`, `"nested":{"a":"A"}`},
			notBody:    []string{"Привіт", "DATA_TEXT"},
			wantHeader: map[string]string{"Content-Type": "application/javascript; charset=utf-8", "Cache-Control": "no-cache"}},
		{name: "script bundle in Ukrainian", url: "/allLocales?lang=uk", wantStatus: 200, wantBody: []string{`"pubHello":"Привіт"`}},
		{name: "merged JSON", url: "/allLocales?lang=en&json=1", wantStatus: 200,
			wantHeader: map[string]string{"Content-Type": "application/json; charset=utf-8"},
			check: func(t *testing.T, _ *httptest.ResponseRecorder, body string) {
				m := jsonOf(t, body)
				if m["pubHello"] != "Hello" || m["pubData"] != nil || m["pub_item"] != nil {
					t.Errorf("json=1: %s", body)
				}
			}},
		{name: "with the models' data locales", url: "/allLocales?lang=en&json=1&includeData=1", wantStatus: 200,
			wantBody: []string{`"pubData":"DATA_TEXT"`, `"pubHello":"Hello"`}},
		{name: "domain captions for a local caller", url: "/allLocales?lang=uk&json=1&includeDomain=1", remote: "127.0.0.1:4000",
			wantStatus: 200, wantBody: []string{`"pub_item":"Елемент"`, `"pub_item.code":"Код"`, `"pubHello":"Привіт"`}},
		{name: "domain captions for a configured local IP", url: "/allLocales?lang=en&json=1&includeDomain=1", remote: "203.0.113.7:4000",
			wantStatus: 200, wantBody: []string{`"pub_item":"Item"`}},
		{name: "domain captions for a remote caller", url: "/allLocales?lang=en&json=1&includeDomain=1", wantStatus: 403},
		{name: "json=0 is the script", url: "/allLocales?lang=en&json=0", wantStatus: 200, wantBody: []string{"UB.i18nExtend"}},
		{name: "no lang", url: "/allLocales", wantStatus: 400},
		{name: "unsupported lang", url: "/allLocales?lang=de", wantStatus: 400},
		{name: "too long lang", url: "/allLocales?lang=english", wantStatus: 400},
		{name: "POST is refused", method: "POST", url: "/allLocales?lang=en", wantStatus: 405},
	}
	runScenarios(t, s, tests)

	first := do(s, httptest.NewRequest("GET", "/allLocales?lang=en", nil))
	req := httptest.NewRequest("GET", "/allLocales?lang=en", nil)
	req.Header.Set("If-None-Match", first.Header().Get("ETag"))
	if rec := do(s, req); rec.Code != 304 {
		t.Errorf("If-None-Match: %d, want 304", rec.Code)
	}
	uk := do(s, httptest.NewRequest("GET", "/allLocales?lang=uk", nil))
	if uk.Header().Get("ETag") == first.Header().Get("ETag") {
		t.Error("languages share an ETag")
	}
}

// TestAllLocalesSample: the sample application's TSK model, loaded from disk like a real app.
func TestAllLocalesSample(t *testing.T) {
	s := newTestServer(t, nil)
	rec := do(s, httptest.NewRequest("GET", "/allLocales?lang=uk", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "// TSK localization") || !strings.Contains(rec.Body.String(), "Закрити завдання") {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
}
