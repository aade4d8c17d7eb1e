package ubql_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ubgo/ubgo/store/dialect"
	"github.com/ubgo/ubgo/ubql"
)

// gridRequest is what the admin UI sends to open a grid (reference §4.4).
const gridRequest = `{"entity":"tst_person","method":"select","fieldList":["ID","name","fullName","dept.name","manager.name","birthday"],
"whereList":{"c1":{"expression":"[name]","condition":"startWith","value":"adm"},"c2":{"expression":"[active]","condition":"equal","value":1}},
"orderList":{"0":{"expression":"name","order":"asc"}},"options":{"start":0,"limit":101,"totalRequired":true}}`

const byIDRequest = `{"entity":"tst_person","method":"select","fieldList":["ID","name","salary"],"ID":42}`

func BenchmarkDecodeBatch(b *testing.B) {
	for _, n := range []int{1, 10} {
		body := []byte("[" + strings.TrimSuffix(strings.Repeat(gridRequest+",", n), ",") + "]")
		b.Run(strconv.Itoa(n), func(b *testing.B) {
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

func benchSelect(b *testing.B, body string, cold bool) {
	dom := testDomain(b)
	req := mustDecode(b, body)
	opt := ubql.CompileOptions{Dialect: dialect.Postgres{}, Lang: "uk", Langs: []string{"en", "uk"}, External: true}
	c := ubql.NewCompiler(dom)
	b.ReportAllocs()
	for b.Loop() {
		if cold {
			c = ubql.NewCompiler(dom)
		}
		if _, err := c.Select(req, opt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSelectCold(b *testing.B) {
	b.Run("grid", func(b *testing.B) { benchSelect(b, gridRequest, true) })
	b.Run("byID", func(b *testing.B) { benchSelect(b, byIDRequest, true) })
}

func BenchmarkSelectCached(b *testing.B) {
	b.Run("grid", func(b *testing.B) { benchSelect(b, gridRequest, false) })
	b.Run("byID", func(b *testing.B) { benchSelect(b, byIDRequest, false) })
}

func benchEncode(b *testing.B, rows int) {
	req := mustDecode(b, gridRequest)
	data := make([][]any, rows)
	t0 := time.Date(2022, 10, 11, 14, 32, 51, 0, time.UTC)
	for i := range data {
		data[i] = []any{int64(332462711046145 + i), "user" + strconv.Itoa(i), "Full \"Name\" " + strconv.Itoa(i), "Dev", nil, t0.Add(time.Duration(i) * time.Hour)}
	}
	total := int64(rows)
	resp := []*ubql.Response{{Request: req, TotalRecCount: &total,
		ResultData: &ubql.ResultData{Fields: req.FieldList, Data: data}}}
	buf := ubql.AppendResponses(nil, resp)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf = ubql.AppendResponses(buf[:0], resp)
	}
}

func BenchmarkEncode1row(b *testing.B)     { benchEncode(b, 1) }
func BenchmarkEncode20rows(b *testing.B)   { benchEncode(b, 20) }
func BenchmarkEncode1000rows(b *testing.B) { benchEncode(b, 1000) }

// BenchmarkChain is the ubql part of a request: decode, compile (cached), encode.
func BenchmarkChain(b *testing.B) {
	c := ubql.NewCompiler(testDomain(b))
	opt := ubql.CompileOptions{Dialect: dialect.SQLite{}, Langs: []string{"en"}, External: true}
	body := []byte("[" + byIDRequest + "]")
	row := [][]any{{int64(42), "admin", 1000.5}}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		reqs, err := ubql.DecodeBatch(body)
		if err != nil {
			b.Fatal(err)
		}
		s, err := c.Select(reqs[0], opt)
		if err != nil {
			b.Fatal(err)
		}
		resp := &ubql.Response{Request: reqs[0], ResultData: &ubql.ResultData{Fields: reqs[0].FieldList, Data: row}}
		_ = s
		buf = ubql.AppendResponses(buf[:0], []*ubql.Response{resp})
	}
}
