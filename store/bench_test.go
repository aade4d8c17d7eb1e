package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/dialect"
	"github.com/ubgo/ubgo/ubql"
)

// The benchmarks below measure the whole storage path of a client request — decode the
// UBQL body, compile (cached), query, read rows, encode the response — next to a raw
// baseline that runs the equivalent hand-written SQL as a prepared statement on the same
// pool and encodes the same JSON by hand. Compare the pairs of one run (benchstat), not absolute figures.

const benchRows = 1000

func benchApp(b *testing.B, d string) (*app, []int64) {
	b.Helper()
	a := newApp(b, d)
	ctx := context.Background()
	ids := make([]int64, 0, benchRows)
	tx := a.Begin(store.System)
	for i := range benchRows {
		r, err := tx.Insert(ctx, &ubql.Request{Entity: "tst_doc", Method: "insert",
			ExecParams: map[string]any{"code": fmt.Sprintf("B%05d", i), "caption": "Caption " + strconv.Itoa(i), "qty": int64(i)}})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, r.Request.ExecParams["ID"].(int64))
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return a, ids
}

func BenchmarkSelectByID(b *testing.B) {
	for _, d := range []string{"SQLite3", "PostgreSQL"} {
		b.Run(d, func(b *testing.B) {
			a, ids := benchApp(b, d)
			ctx := context.Background()
			b.Run("ubql", func(b *testing.B) {
				b.ReportAllocs()
				var buf []byte
				for b.Loop() {
					id := ids[rand.IntN(len(ids))]
					body := `[{"entity":"tst_doc","method":"select","fieldList":["ID","code","caption","qty"],"whereList":{"c1":{"expression":"[ID]","condition":"equal","value":` + strconv.FormatInt(id, 10) + `}}}]`
					reqs, err := ubql.DecodeBatch([]byte(body))
					if err != nil {
						b.Fatal(err)
					}
					out, err := a.Run(ctx, admin, reqs)
					if err != nil {
						b.Fatal(err)
					}
					buf = ubql.AppendResponses(buf[:0], out)
				}
			})
			b.Run("raw", func(b *testing.B) {
				b.ReportAllocs()
				c := a.Default()
				q := "SELECT ID, code, caption, qty FROM tst_doc WHERE ID = " + c.Dialect.Placeholder(1) + " AND mi_deleteDate = " + c.Dialect.Placeholder(2)
				maxDate := c.Dialect.FormatTime(dialect.MaxDate)
				stmt := prepare(b, c, q)
				var buf []byte
				for b.Loop() {
					id := ids[rand.IntN(len(ids))]
					var (
						rid, qty      int64
						code, caption string
					)
					if err := stmt.QueryRowContext(ctx, id, maxDate).Scan(&rid, &code, &caption, &qty); err != nil {
						b.Fatal(err)
					}
					buf = appendRawRow(buf[:0], rid, code, caption, qty)
				}
			})
		})
	}
}

func BenchmarkList20(b *testing.B) {
	for _, d := range []string{"SQLite3", "PostgreSQL"} {
		b.Run(d, func(b *testing.B) {
			a, _ := benchApp(b, d)
			ctx := context.Background()
			b.Run("ubql", func(b *testing.B) {
				b.ReportAllocs()
				var buf []byte
				for b.Loop() {
					start := rand.IntN(benchRows - 20)
					body := `[{"entity":"tst_doc","method":"select","fieldList":["ID","code","caption","qty"],"orderList":{"0":{"expression":"code","order":"asc"}},"options":{"start":` + strconv.Itoa(start) + `,"limit":20}}]`
					reqs, err := ubql.DecodeBatch([]byte(body))
					if err != nil {
						b.Fatal(err)
					}
					out, err := a.Run(ctx, admin, reqs)
					if err != nil {
						b.Fatal(err)
					}
					if len(out[0].ResultData.Data) != 20 {
						b.Fatalf("%d rows", len(out[0].ResultData.Data))
					}
					buf = ubql.AppendResponses(buf[:0], out)
				}
			})
			b.Run("raw", func(b *testing.B) {
				b.ReportAllocs()
				c := a.Default()
				q := "SELECT ID, code, caption, qty FROM tst_doc WHERE mi_deleteDate = " + c.Dialect.Placeholder(1) +
					" ORDER BY code LIMIT 20 OFFSET " + c.Dialect.Placeholder(2)
				maxDate := c.Dialect.FormatTime(dialect.MaxDate)
				stmt := prepare(b, c, q)
				var buf []byte
				for b.Loop() {
					rows, err := stmt.QueryContext(ctx, maxDate, rand.IntN(benchRows-20))
					if err != nil {
						b.Fatal(err)
					}
					buf = buf[:0]
					n := 0
					for rows.Next() {
						var (
							rid, qty      int64
							code, caption string
						)
						if err := rows.Scan(&rid, &code, &caption, &qty); err != nil {
							b.Fatal(err)
						}
						buf = appendRawRow(buf, rid, code, caption, qty)
						n++
					}
					rows.Close()
					if n != 20 {
						b.Fatalf("%d rows", n)
					}
				}
			})
		})
	}
}

// prepare prepares the raw query once, as a hand-written data layer would.
func prepare(b *testing.B, c *store.Conn, q string) *sql.Stmt {
	stmt, err := c.Read.PrepareContext(context.Background(), q)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stmt.Close() })
	return stmt
}

func appendRawRow(buf []byte, id int64, code, caption string, qty int64) []byte {
	buf = append(buf, '[')
	buf = strconv.AppendInt(buf, id, 10)
	buf = append(buf, ',')
	buf = strconv.AppendQuote(buf, code)
	buf = append(buf, ',')
	buf = strconv.AppendQuote(buf, caption)
	buf = append(buf, ',')
	buf = strconv.AppendInt(buf, qty, 10)
	return append(buf, ']')
}
