package ubql_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/store/dialect"
	"github.com/ubgo/ubgo/ubql"
)

// Benchmarks of the UBQL half of the perf application's scenarios (perf/, see
// docs/performance.md): the requests scripts/perf.sh sends, decoded, compiled for each
// dialect and their results encoded. Compare runs with benchstat; allocs/op is stable
// enough to gate on.

const (
	perfByID   = `[{"entity":"tst_world","method":"select","fieldList":["ID","randomNumber"],"ID":4242}]`
	perfList20 = `[{"entity":"tst_world","method":"select","fieldList":["ID","randomNumber"],"whereList":{"c1":{"expression":"[ID]","condition":"moreEqual","value":4242}},"orderList":{"0":{"expression":"ID","order":"asc"}},"options":{"start":0,"limit":20}}]`
	perfInsert = `[{"entity":"tst_item","method":"insert","execParams":{"code":"C1000000001","caption":"perf","qty":17}}]`
)

var (
	perfDomOnce sync.Once
	perfDom     *domain.Domain
	perfDomErr  error
)

// perfDomain is the domain of the perf application (UB, UBA and TST), loaded once.
func perfDomain(b testing.TB) *domain.Domain {
	b.Helper()
	perfDomOnce.Do(func() {
		var app *boot.App
		app, perfDomErr = boot.Load(context.Background(), boot.Options{ConfigFile: "../perf/ubconfig.sqlite.json",
			LookupEnv: func(string) (string, bool) { return "", false }})
		if perfDomErr == nil {
			perfDom = app.Domain
		}
	})
	if perfDomErr != nil {
		b.Fatalf("load the perf domain: %v", perfDomErr)
	}
	return perfDom
}

func perfQueries20() string {
	items := make([]string, 20)
	for i := range items {
		items[i] = `{"entity":"tst_world","method":"select","fieldList":["ID","randomNumber"],"ID":` + strconv.Itoa(100+i*397) + `}`
	}
	return "[" + strings.Join(items, ",") + "]"
}

func BenchmarkPerfDecode(b *testing.B) {
	for _, c := range []struct{ name, body string }{
		{"byid", perfByID}, {"list20", perfList20}, {"queries20", perfQueries20()}, {"insert", perfInsert},
	} {
		body := []byte(c.body)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := ubql.DecodeBatch(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPerfCompile is the SQL build of the select scenarios per dialect: cold (a new
// compiler, so nothing is cached) and cached (the same request shape again, other values).
func BenchmarkPerfCompile(b *testing.B) {
	dom := perfDomain(b)
	for _, d := range []dialect.Dialect{dialect.SQLite{}, dialect.Postgres{}} {
		for _, c := range []struct{ name, body string }{{"byid", perfByID}, {"list20", perfList20}} {
			reqs, err := ubql.DecodeBatch([]byte(c.body))
			if err != nil {
				b.Fatal(err)
			}
			opt := ubql.CompileOptions{Dialect: d, Langs: []string{"en"}, External: true}
			for _, cold := range []bool{true, false} {
				name := d.Name() + "/" + c.name + "/cached"
				if cold {
					name = d.Name() + "/" + c.name + "/cold"
				}
				b.Run(name, func(b *testing.B) {
					comp := ubql.NewCompiler(dom)
					b.ReportAllocs()
					for b.Loop() {
						if cold {
							comp = ubql.NewCompiler(dom)
						}
						if _, err := comp.Select(reqs[0], opt); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// BenchmarkPerfAttributeLookup is the metadata lookup every compiled request starts with.
func BenchmarkPerfAttributeLookup(b *testing.B) {
	dom := perfDomain(b)
	b.ReportAllocs()
	for b.Loop() {
		e := dom.Entity("tst_world")
		if e == nil || e.Attribute("randomNumber") == nil || e.Attribute("ID") == nil {
			b.Fatal("tst_world.randomNumber not found")
		}
	}
}

// BenchmarkPerfEncode is the UB response of a World select of 1, 20 and 1,000 rows.
func BenchmarkPerfEncode(b *testing.B) {
	reqs, err := ubql.DecodeBatch([]byte(perfList20))
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 20, 1000} {
		data := make([][]any, n)
		for i := range data {
			data[i] = []any{int64(4242 + i), int64(i*7919%10000 + 1)}
		}
		resp := []*ubql.Response{{Request: reqs[0], ResultData: &ubql.ResultData{Fields: reqs[0].FieldList, Data: data}}}
		buf := ubql.AppendResponses(nil, resp)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				buf = ubql.AppendResponses(buf[:0], resp)
			}
		})
	}
}
