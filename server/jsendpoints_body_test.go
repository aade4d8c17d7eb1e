package server

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// readBody returns the whole body whatever the announced length says, and keeps the
// body limit's error.
func TestReadBody(t *testing.T) {
	long := strings.Repeat("x", 5000)
	for _, c := range []struct {
		name   string
		body   io.Reader
		length int64 // ContentLength to announce; 0 keeps httptest's
		want   string
	}{
		{name: "no body", want: ""},
		{name: "announced", body: strings.NewReader(`{"id":42}`), want: `{"id":42}`},
		{name: "longer than announced", body: strings.NewReader(long), length: 10, want: long},
		{name: "shorter than announced", body: strings.NewReader("abc"), length: 100, want: "abc"},
		{name: "unknown length", body: io.MultiReader(strings.NewReader("ab"), strings.NewReader("cd")), length: -1, want: "abcd"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/x", c.body)
			if c.length != 0 {
				r.ContentLength = c.length
			}
			got, err := readBody(r)
			if err != nil || string(got) != c.want {
				t.Errorf("readBody = %q, %v; want %q", got, err, c.want)
			}
		})
	}
	r := httptest.NewRequest("POST", "/x", strings.NewReader(long))
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 100)
	if _, err := readBody(r); !errors.As(err, new(*http.MaxBytesError)) {
		t.Errorf("over the limit: %v, want *http.MaxBytesError", err)
	}
}
