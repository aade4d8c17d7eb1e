package app

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ubgo/ubgo/store/storetest"
)

// BenchmarkGenerationFront measures what serving through the generation switch costs
// (an atomic load and two atomic adds per request) against calling the generation's
// server directly, on a cheap endpoint.
func BenchmarkGenerationFront(b *testing.B) {
	ta := newTestApp(b, storetest.SQLite3)
	opts := ta.options()
	opts.Logger = nil // the access log would dominate
	a, err := Start(b.Context(), opts)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { a.Current().close(b.Context()) }()
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"server", a.Current().Server}, {"app", a}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec := httptest.NewRecorder()
					bc.h.ServeHTTP(rec, httptest.NewRequest("GET", "/timeStamp", nil))
					if rec.Code != 200 {
						b.Fatal(rec.Code)
					}
				}
			})
		})
	}
}
