package server

import (
	"mime"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCompressibleTypeFastPath: the exact values compressibleType answers without parsing
// get the answer the parsed media type gives.
func TestCompressibleTypeFastPath(t *testing.T) {
	parsed := func(ct string) bool {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			return false
		}
		return strings.HasPrefix(mt, "text/") || mt == "application/json" || mt == "application/javascript" ||
			mt == "application/xml" || mt == "image/svg+xml" || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml")
	}
	for _, ct := range []string{
		"application/json; charset=utf-8", "application/json", "text/html; charset=utf-8", "text/plain; charset=utf-8",
		"text/css; charset=utf-8", "text/javascript; charset=utf-8", "application/javascript", "text/xml; charset=utf-8",
		"text/csv; charset=utf-8", "", "application/octet-stream", "image/png", "image/jpeg", "image/gif", "font/woff2",
		"application/zip", "Application/JSON", "application/problem+json", "image/svg+xml", "text/", "application/json; charset",
	} {
		if got, want := compressibleType(ct), parsed(ct); got != want {
			t.Errorf("compressibleType(%q) = %v, want %v", ct, got, want)
		}
	}
}

// TestCheckJSONBodyFastPath: the usual spellings of JSON pass without parsing, and the
// rest still goes through the parser's verdict.
func TestCheckJSONBodyFastPath(t *testing.T) {
	for _, c := range []struct {
		ct string
		ok bool
	}{
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{"application/json;charset=UTF-8", true},
		{"APPLICATION/JSON; CHARSET=UTF-8", true},
		{"application/json ; charset=utf-8", true},
		{"application/json; charset=latin1", false},
		{"application/jsonx", false},
		{"text/plain", false},
		{"", false},
		{"application/json; charset=utf-8; x=", false},
	} {
		r := httptest.NewRequest("POST", "/ubql", nil)
		r.Header.Set("Content-Type", c.ct)
		if err := checkJSONBody(r); (err == nil) != c.ok {
			t.Errorf("checkJSONBody(%q) = %v, want ok=%v", c.ct, err, c.ok)
		}
	}
}
