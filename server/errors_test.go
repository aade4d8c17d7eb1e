package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/ubql"
)

// failures are the errors the "fail" test endpoint answers with, by name.
var failures = map[string]error{
	"modified": &store.Error{Item: 0, Code: store.CodeRecordModified, Status: http.StatusConflict,
		Msg: "<<<Record was modified by another user>>>", Err: errors.New("UPDATE tst_doc SET ... WHERE mi_modifyDate = $3")},
	"badRequest":   &ubql.Error{Item: 2, Path: "whereList.c1.condition", Code: ubql.CodeInvalidWhereList, Status: 400, Msg: `unknown condition "equals"`},
	"dbFailure":    &store.Error{Item: 1, Code: 0, Status: 500, Msg: "Internal server error", Err: errors.New(`INSERT INTO "tst_doc" failed: disk I/O`)},
	"wrapped":      fmt.Errorf("dispatch: %w", &store.Error{Code: store.CodeValueMustBeUnique, Status: 409, Msg: `<<<Value must be unique>>>|["tst_doc"]`}),
	"abort":        &store.Error{Code: 1002, Status: 500, Msg: "<<<Cannot close a closed task>>>"},
	"plain":        errors.New("open /srv/app/secret.key: permission denied"),
	"tooLarge":     &http.MaxBytesError{Limit: 10},
	"needAuth":     &Error{Status: http.StatusUnauthorized, Code: CodeNeedAuth},
	"forbidden":    &Error{Status: http.StatusForbidden, Detail: "endpoint stat is not granted"},
	"notFound":     &Error{Status: http.StatusNotFound, Detail: `no file "x"`},
	"notImpl":      &Error{Status: http.StatusNotImplemented},
	"unavailable":  &Error{Status: http.StatusServiceUnavailable},
	"badStatus":    &store.Error{Code: 3, Status: 200, Msg: "odd"},
	"ownMessage":   &Error{Status: http.StatusBadRequest, Msg: "userName is required"},
	"passwordExp":  &store.Error{Code: 72, Status: 401, Msg: "<<<passwordExpired>>>"},
	"panicWrapped": fmt.Errorf("x: %w", errStatus(http.StatusMethodNotAllowed, "")),
}

func failServer(t *testing.T, dev bool) *Server {
	s := newFixtureServer(t, Options{Dev: dev}, nil)
	s.Handle("fail", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteErr(w, r, failures[Rest(r)])
	}), false)
	return s
}

func TestWriteErr(t *testing.T) {
	s := failServer(t, false)
	runScenarios(t, s, []scenario{
		{name: "client message of a conflict", url: "/fail/modified", wantStatus: 409,
			wantBody: []string{`"errCode":25`, `"errMsg":"<<<Record was modified by another user>>>"`}, notBody: []string{"UPDATE"}},
		{name: "request error names the item", url: "/fail/badRequest", wantStatus: 400,
			wantBody: []string{`"errCode":43`, `item 2, whereList.c1.condition: unknown condition \"equals\"`}},
		{name: "database failure hides SQL", url: "/fail/dbFailure", wantStatus: 500,
			wantBody: []string{`"errCode":1`, `"errMsg":"Internal server error"`}, notBody: []string{"INSERT", "disk"}},
		{name: "wrapped errors keep their code", url: "/fail/wrapped", wantStatus: 409,
			wantBody: []string{`"errCode":74`, `"errMsg":"<<<Value must be unique>>>|[\"tst_doc\"]"`}},
		{name: "a <<<>>> message of a 500 passes", url: "/fail/abort", wantStatus: 500,
			wantBody: []string{`"errCode":1002`, `"errMsg":"<<<Cannot close a closed task>>>"`}},
		{name: "a plain error is a 500 without text", url: "/fail/plain", wantStatus: 500,
			wantBody: []string{`"errMsg":"Internal server error"`}, notBody: []string{"secret.key"}},
		{name: "oversized body", url: "/fail/tooLarge", wantStatus: 413, wantBody: []string{`"errMsg":"Request Entity Too Large"`}},
		{name: "need auth", url: "/fail/needAuth", wantStatus: 401, wantBody: []string{`"errCode":10`}},
		{name: "forbidden", url: "/fail/forbidden", wantStatus: 403, wantBody: []string{`"errCode":8`, `"errMsg":"Access deny"`},
			notBody: []string{"granted"}},
		{name: "not found", url: "/fail/notFound", wantStatus: 404, wantBody: []string{`"errCode":15`, `"errMsg":"Not Found"`}},
		{name: "not implemented", url: "/fail/notImpl", wantStatus: 501, wantBody: []string{`"errMsg":"Not Implemented"`}},
		{name: "unavailable", url: "/fail/unavailable", wantStatus: 503, wantBody: []string{`"errMsg":"Service Unavailable"`}},
		{name: "a non-error status becomes 500", url: "/fail/badStatus", wantStatus: 500, wantBody: []string{`"errCode":3`}},
		{name: "the server's own message", url: "/fail/ownMessage", wantStatus: 400, wantBody: []string{`"errMsg":"userName is required"`}},
		{name: "password expired keeps errCode 72", url: "/fail/passwordExp", wantStatus: 401, wantBody: []string{`"errCode":72`}},
		{name: "method not allowed", url: "/fail/panicWrapped", wantStatus: 405, wantBody: []string{`"errCode":1`}},
		{name: "in Ukrainian", url: "/fail/notFound", headers: map[string]string{"Accept-Language": "uk-UA,uk;q=0.9,en;q=0.5"},
			wantStatus: 404, wantBody: []string{`"errMsg":"Не знайдено"`}},
		{name: "?lang wins over Accept-Language", url: "/fail/dbFailure?lang=uk", headers: map[string]string{"Accept-Language": "en"},
			wantStatus: 500, wantBody: []string{`"errMsg":"Внутрішня помилка сервера"`}},
		{name: "an unsupported language falls back", url: "/fail/notFound", headers: map[string]string{"Accept-Language": "de-DE"},
			wantStatus: 404, wantBody: []string{`"errMsg":"Not Found"`}},
	})
}

// TestWriteErrDev: in dev mode clients see the text of unexpected errors.
func TestWriteErrDev(t *testing.T) {
	s := failServer(t, true)
	runScenarios(t, s, []scenario{
		{name: "database failure", url: "/fail/dbFailure", wantStatus: 500, wantBody: []string{"INSERT", "disk I/O"}},
		{name: "plain error", url: "/fail/plain", wantStatus: 500, wantBody: []string{"secret.key"}},
		{name: "the server's detail", url: "/fail/forbidden", wantStatus: 403, wantBody: []string{"Access deny: endpoint stat is not granted"}},
		{name: "client messages are unchanged", url: "/fail/modified", wantStatus: 409,
			wantBody: []string{`"errMsg":"<<<Record was modified by another user>>>"`}},
	})
}

// TestWriteErrOutsideServer: a handler under test may call WriteErr on a bare request.
func TestWriteErrOutsideServer(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteErr(rec, httptest.NewRequest("GET", "/", nil), errors.New("SELECT 1"))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"errMsg":"Internal server error"`) {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
}

func TestMatchLang(t *testing.T) {
	langs := []string{"en", "uk"}
	for h, want := range map[string]string{
		"uk": "uk", "uk-UA": "uk", "de, uk;q=0.5": "uk", "de": "", "en-US,en;q=0.9": "en",
		"uk;q=0, en": "en", "*": "", "garbage;;;": "", "UK": "uk",
	} {
		if got := matchLang(h, langs); got != want {
			t.Errorf("matchLang(%q) = %q, want %q", h, got, want)
		}
	}
}

func TestCatalog(t *testing.T) {
	c, err := newCatalog([]string{"en", "uk", "de"}, "en")
	if err != nil {
		t.Fatal(err)
	}
	for id := range c.texts["en"] {
		if c.texts["uk"][id] == c.texts["en"][id] {
			t.Errorf("message %s is not translated to uk", id)
		}
		if c.texts["de"][id] != c.texts["en"][id] {
			t.Errorf("message %s in de does not fall back to en", id)
		}
	}
	for _, id := range statusMessages {
		if c.texts["en"][id] == "" {
			t.Errorf("message %s has no text", id)
		}
	}
	if got := c.text("xx", msgNotFound); got != "Not Found" {
		t.Errorf("unknown language: %q", got)
	}
}
