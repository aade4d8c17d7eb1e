package server_test

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ubgo/ubgo/internal/app"
	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/internal/perfapp"
	"github.com/ubgo/ubgo/store/storetest"
)

// BenchmarkPerfHTTP runs the scenarios of scripts/perf.sh through the real handler
// (Server.ServeHTTP: the front, routing, the endpoint) without the network, on the perf
// application (perf/) loaded as the loader loads it. Every scenario has its raw baseline
// beside it, so `benchstat` of two runs shows where a change moved the µs and the allocs
// of one request; docs/performance.md says how to read them.
func BenchmarkPerfHTTP(b *testing.B) { benchPerfHTTP(b, false, nil) }

// BenchmarkPerfHTTPSecure is the same with the security layer on (the anonymous user of
// "authentication not used", checked against the ELS matrix and the endpoint grants), for
// the scenarios that pass it.
func BenchmarkPerfHTTPSecure(b *testing.B) {
	benchPerfHTTP(b, true, []string{"raw_byid", "ubql_byid", "go_byid", "js_byid", "raw_list20", "ubql_list20", "go_list20", "js_list20"})
}

func benchPerfHTTP(b *testing.B, security bool, only []string) {
	for _, d := range storetest.Dialects {
		b.Run(d, func(b *testing.B) {
			a := openPerfApp(b, d, security)
			rng := rand.New(rand.NewPCG(1, 2))
			id := func() string { return strconv.Itoa(rng.IntN(perfapp.Worlds) + 1) }
			from := func() string { return strconv.Itoa(rng.IntN(perfapp.Worlds-19) + 1) }
			ids := func() string {
				s := make([]string, 20)
				for i := range s {
					s[i] = id()
				}
				return strings.Join(s, ",")
			}
			world := `{"entity":"tst_world","method":"select","fieldList":["ID","randomNumber"]`
			seq := 0
			// prepped hands out fresh tst_item rows (each once) for the update and delete
			// scenarios, asking /_perf/prep for a new chunk outside the timed section.
			var prepB *testing.B
			var prepNext, prepEnd int64
			prepped := func() string {
				if prepNext == prepEnd {
					prepB.StopTimer()
					prepNext, prepEnd = prepRows(prepB, a, 4096)
					prepB.StartTimer()
				}
				prepNext++
				return strconv.FormatInt(prepNext-1, 10)
			}
			for _, c := range []struct {
				name, method, path string
				body               func() string
			}{
				{"json", "GET", "/_perf/json", nil},
				{"js_json", "GET", "/perfjs/json", nil},
				{"raw_byid", "POST", "/_perf/raw/byid", func() string { return `{"id":` + id() + `}` }},
				{"ubql_byid", "POST", "/ubql", func() string { return `[` + world + `,"ID":` + id() + `}]` }},
				{"go_byid", "POST", "/_perfgo/byid", func() string { return `{"id":` + id() + `}` }},
				{"js_byid", "POST", "/perfjs/byid", func() string { return `{"id":` + id() + `}` }},
				{"raw_list20", "POST", "/_perf/raw/list20", func() string { return `{"from":` + from() + `}` }},
				{"ubql_list20", "POST", "/ubql", func() string {
					return `[` + world + `,"whereList":{"c1":{"expression":"[ID]","condition":"moreEqual","value":` + from() +
						`}},"orderList":{"0":{"expression":"ID","order":"asc"}},"options":{"start":0,"limit":20}}]`
				}},
				{"go_list20", "POST", "/_perfgo/list20", func() string { return `{"from":` + from() + `}` }},
				{"js_list20", "POST", "/perfjs/list20", func() string { return `{"from":` + from() + `}` }},
				{"raw_queries20", "POST", "/_perf/raw/queries", func() string { return `{"ids":[` + ids() + `]}` }},
				{"ubql_queries20", "POST", "/ubql", func() string {
					s := make([]string, 20)
					for i := range s {
						s[i] = world + `,"ID":` + id() + `}`
					}
					return "[" + strings.Join(s, ",") + "]"
				}},
				{"go_queries20", "POST", "/_perfgo/queries", func() string { return `{"ids":[` + ids() + `]}` }},
				{"js_queries20", "POST", "/perfjs/queries", func() string { return `{"ids":[` + ids() + `]}` }},
				{"raw_fortunes", "GET", "/_perf/raw/fortunes", nil},
				{"go_fortunes", "GET", "/_perfgo/fortunes", nil},
				{"js_fortunes", "GET", "/perfjs/fortunes", nil},
				{"raw_insert", "POST", "/_perf/raw/insert", func() string { seq++; return `{"code":"B` + strconv.Itoa(seq) + `","caption":"perf","qty":7}` }},
				{"ubql_insert", "POST", "/ubql", func() string {
					seq++
					return `[{"entity":"tst_item","method":"insert","execParams":{"code":"B` + strconv.Itoa(seq) + `","caption":"perf","qty":7}}]`
				}},
				{"raw_update", "POST", "/_perf/raw/update", func() string {
					return `{"id":` + prepped() + `,"qty":` + strconv.Itoa(rng.IntN(1000)+1) + `,"token":"` + perfapp.PrepTokenText + `"}`
				}},
				{"ubql_update", "POST", "/ubql", func() string {
					return `[{"entity":"tst_item","method":"update","execParams":{"ID":` + prepped() + `,"qty":` + strconv.Itoa(rng.IntN(1000)+1) +
						`,"mi_modifyDate":"` + perfapp.PrepTokenText + `"}}]`
				}},
				{"raw_delete", "POST", "/_perf/raw/delete", func() string { return `{"id":` + prepped() + `}` }},
				{"ubql_delete", "POST", "/ubql", func() string {
					return `[{"entity":"tst_item","method":"delete","execParams":{"ID":` + prepped() + `}}]`
				}},
			} {
				if only != nil && !slices.Contains(only, c.name) {
					continue
				}
				b.Run(c.name, func(b *testing.B) {
					prepB = b
					// One request outside the timing: the first JS call creates the pool's
					// worker, which would otherwise dominate small -benchtime Nx runs.
					if rec := perfRequest(a, c.method, c.path, c.body); rec.Code != http.StatusOK {
						b.Fatalf("%s %s: %d %s", c.method, c.path, rec.Code, rec.Body)
					}
					b.ReportAllocs()
					for b.Loop() {
						if rec := perfRequest(a, c.method, c.path, c.body); rec.Code != http.StatusOK {
							b.Fatalf("%s %s: %d %s", c.method, c.path, rec.Code, rec.Body)
						}
					}
				})
			}
		})
	}
}

// openPerfApp opens the perf application on a fresh database of dialect d and loads it.
func openPerfApp(b testing.TB, d string, security bool) *perfapp.App {
	b.Helper()
	conn := storetest.Connection(b, d)
	cfg := "../perf/ubconfig.sqlite.json"
	env := map[string]string{"UB_PERF_FILES": b.TempDir(), "UB_PERF_DB": conn.DatabaseName}
	if t := os.Getenv("UB_THREADS"); t != "" {
		env["UB_THREADS"] = t // to measure other pool sizes
	}
	if d == storetest.PostgreSQL {
		cfg = "../perf/ubconfig.pg.json"
		env["UB_PERF_PG"] = conn.DatabaseName
	}
	ctx := context.Background()
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if _, err := perfapp.LoadApp(ctx, boot.Options{ConfigFile: cfg, LookupEnv: lookup}, false, perfapp.LoadOptions{}); err != nil {
		b.Fatal(err)
	}
	a, err := perfapp.Open(ctx, perfapp.OpenOptions{Local: true, App: app.Options{ConfigFile: cfg, LookupEnv: lookup, DevAnonymousAdmin: !security}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	return a
}

// prepRows asks the perf application for n fresh tst_item rows and returns their ID range
// [from, from+n).
func prepRows(b *testing.B, a *perfapp.App, n int64) (from, end int64) {
	b.Helper()
	rec := perfRequest(a, "POST", "/_perf/prep", func() string { return `{"n":` + strconv.FormatInt(n, 10) + `}` })
	var out struct {
		From int64 `json:"from"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.From == 0 {
		b.Fatalf("prep: %d %s", rec.Code, rec.Body)
	}
	return out.From, out.From + n
}

// BenchmarkPerfHTTPParallel runs the read-only scenarios as wrk does: 64 requests in
// flight (GOMAXPROCS × 32 goroutines) through the real handler, security on. It shows
// what a single-goroutine benchmark hides: waiting for a worker or a connection, and the
// cache misses of rotating through the pool's runtimes.
func BenchmarkPerfHTTPParallel(b *testing.B) {
	world := `{"entity":"tst_world","method":"select","fieldList":["ID","randomNumber"]`
	id := func(r *rand.Rand) string { return strconv.Itoa(r.IntN(perfapp.Worlds) + 1) }
	ids := func(r *rand.Rand) string {
		s := make([]string, 20)
		for i := range s {
			s[i] = id(r)
		}
		return `{"ids":[` + strings.Join(s, ",") + `]}`
	}
	byID := func(r *rand.Rand) string { return `{"id":` + id(r) + `}` }
	for _, d := range storetest.Dialects {
		b.Run(d, func(b *testing.B) {
			a := openPerfApp(b, d, true)
			for _, c := range []struct {
				name, method, path string
				body               func(*rand.Rand) string
			}{
				{"json", "GET", "/_perf/json", nil},
				{"js_json", "GET", "/perfjs/json", nil},
				{"raw_byid", "POST", "/_perf/raw/byid", byID},
				{"ubql_byid", "POST", "/ubql", func(r *rand.Rand) string { return `[` + world + `,"ID":` + id(r) + `}]` }},
				{"go_byid", "POST", "/_perfgo/byid", byID},
				{"js_byid", "POST", "/perfjs/byid", byID},
				{"go_queries20", "POST", "/_perfgo/queries", ids},
				{"js_queries20", "POST", "/perfjs/queries", ids},
			} {
				b.Run(c.name, func(b *testing.B) {
					b.ReportAllocs()
					b.SetParallelism(32)
					var seed atomic.Uint64
					b.RunParallel(func(pb *testing.PB) {
						rng := rand.New(rand.NewPCG(seed.Add(1), 2))
						var body func() string
						if c.body != nil {
							body = func() string { return c.body(rng) }
						}
						for pb.Next() {
							if rec := perfRequest(a, c.method, c.path, body); rec.Code != http.StatusOK {
								b.Errorf("%s %s: %d %s", c.method, c.path, rec.Code, rec.Body)
								return
							}
						}
					})
				})
			}
		})
	}
}

// perfRequest serves one request through a's handler, as from a local client: a JSON
// body when body is not nil.
func perfRequest(a http.Handler, method, path string, body func() string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != nil {
		r = strings.NewReader(body())
	}
	req := httptest.NewRequest(method, path, r)
	req.RemoteAddr = "127.0.0.1:40000"
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	return rec
}
