package security_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ubgo/ubgo/security"
	"github.com/ubgo/ubgo/store/storetest"
)

// BenchmarkRequest compares the same trivial handler behind a signed, authenticated
// endpoint (ping) and behind a public one called without credentials (pingPublic), with
// the session in memory (SQLite application), in PostgreSQL, and in PostgreSQL with the
// session cache.
func BenchmarkRequest(b *testing.B) {
	for _, variant := range []struct {
		name, dialect string
		su            setup
	}{
		{"memory", storetest.SQLite3, setup{quiet: true}},
		{"postgres", storetest.PostgreSQL, setup{quiet: true}},
		{"postgres cached", storetest.PostgreSQL, setup{quiet: true, options: cachedPG(b)}},
	} {
		b.Run(variant.name, func(b *testing.B) {
			e := newEnv(b, variant.dialect, variant.su)
			c := e.login("admin", adminPassword)
			signed := httptest.NewRequest("GET", "/ping", nil)
			signed.Header.Set("Authorization", "UB "+c.sign())
			public := httptest.NewRequest("GET", "/pingPublic", nil)
			for _, bc := range []struct {
				name string
				r    *http.Request
			}{{"public", public}, {"signed", signed}} {
				b.Run(bc.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						rec := httptest.NewRecorder()
						e.srv.ServeHTTP(rec, bc.r)
						if rec.Code != 200 {
							b.Fatalf("%d %s", rec.Code, rec.Body)
						}
					}
				})
			}
		})
	}
}

// BenchmarkSign is the client side: a signature per request.
func BenchmarkSign(b *testing.B) {
	e := newEnv(b, storetest.SQLite3, setup{quiet: true})
	c := e.login("admin", adminPassword)
	now := e.clk.Now()
	b.ReportAllocs()
	for b.Loop() {
		security.Sign(c.result, c.secret, now)
	}
}

// BenchmarkFailedLogin compares a wrong password (AUTHTYPE=Basic: one request) with the
// refusal of a locked client address, which neither looks at the credentials nor writes
// the audit, on SQLite (memory backend) and PostgreSQL.
func BenchmarkFailedLogin(b *testing.B) {
	for _, d := range []string{storetest.SQLite3, storetest.PostgreSQL} {
		for _, locked := range []bool{false, true} {
			name := d + "/wrong password"
			custom := map[string]any{"ubgo.security.maxFailuresPerIP": 0}
			if locked {
				name = d + "/locked address"
				custom = map[string]any{"ubgo.security.maxFailuresPerIP": 1}
			}
			b.Run(name, func(b *testing.B) {
				e := newEnv(b, d, setup{quiet: true, custom: custom})
				r := httptest.NewRequest("POST", "/auth?AUTHTYPE=Basic", nil)
				r.Header.Set("Authorization", basic("admin", "wrong"))
				e.srv.ServeHTTP(httptest.NewRecorder(), r) // locks when the limit is 1
				b.ReportAllocs()
				for b.Loop() {
					rec := httptest.NewRecorder()
					e.srv.ServeHTTP(rec, r)
					if rec.Code != 403 {
						b.Fatalf("%d %s", rec.Code, rec.Body)
					}
				}
			})
		}
	}
}
