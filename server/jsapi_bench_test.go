package server

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ubgo/ubgo/config"
	"github.com/ubgo/ubgo/store/storetest"
	"github.com/ubgo/ubgo/ubql"
)

// BenchmarkRestEndpoint is one GET /rest/jst_doc/restEcho through the whole handler:
// authentication, a worker, a transaction, the JS method, the response.
func BenchmarkRestEndpoint(b *testing.B) {
	a := newJSApp(b, storetest.SQLite3)
	for b.Loop() {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/rest/jst_doc/restEcho?a=1", nil)
		req.Header.Set("X-Test-User", "tester")
		a.srv.ServeHTTP(rec, req)
		if rec.Code != 202 {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkRenderFormats renders 1000 rows of six columns in each result format.
func BenchmarkRenderFormats(b *testing.B) {
	s := &Server{cfg: &config.Config{Raw: map[string]any{}}, log: slog.New(slog.DiscardHandler)}
	rd := &ubql.ResultData{Fields: []string{"ID", "code", "name", "qty", "price", "made"}}
	for i := range 1000 {
		rd.Data = append(rd.Data, []any{int64(i), fmt.Sprintf("c%d", i), strings.Repeat("name ", 5) + `"q";`, int64(-i), 1.5, time.Unix(int64(i), 0)})
	}
	for _, f := range resultFormats {
		b.Run(f.ext, func(b *testing.B) {
			for b.Loop() {
				if err := f.render(s, io.Discard, "bench", rd); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
