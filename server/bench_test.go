package server

import (
	"net/http/httptest"
	"testing"
)

// BenchmarkFront measures the front (request id, state, counters, access log, routing) on
// the cheapest endpoint.
func BenchmarkFront(b *testing.B) {
	s := newTestServer(b, nil)
	req := httptest.NewRequest("GET", "/ready", nil)
	b.ReportAllocs()
	for b.Loop() {
		s.ServeHTTP(httptest.NewRecorder(), req)
	}
}
