package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/storetest"
	"github.com/ubgo/ubgo/ubql"
)

// BenchmarkWriteOneItem compares a one-item update and delete through Store.Run (one
// statement without a transaction, autocommit.go) and through a Tx without the one-item
// promise (BEGIN, statement, COMMIT) with the same statement prepared by hand.
func BenchmarkWriteOneItem(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(d, func(b *testing.B) {
			a := newDirectBenchApp(b, d)
			ctx := context.Background()
			ids := make([]int64, 0, 1)
			ins := func() int64 {
				out, err := a.Run(ctx, store.System, []*ubql.Request{{Entity: "tst_tag", Method: "insert", ExecParams: map[string]any{"name": fmt.Sprint("t", len(ids), "_", b.N)}}})
				if err != nil {
					b.Fatal(err)
				}
				id := out[0].Request.ExecParams["ID"].(int64)
				ids = append(ids, id)
				return id
			}
			id := ins()
			c := a.Default()
			raw, err := c.Write.PrepareContext(ctx, "UPDATE tst_tag SET name = "+c.Dialect.Placeholder(1)+" WHERE ID = "+c.Dialect.Placeholder(2))
			if err != nil {
				b.Fatal(err)
			}
			defer raw.Close()
			b.Run("raw_update", func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					if _, err := raw.ExecContext(ctx, fmt.Sprint("r", i), id); err != nil {
						b.Fatal(err)
					}
				}
			})
			for _, one := range []bool{true, false} {
				name := "run_update"
				if !one {
					name = "tx_update"
				}
				b.Run(name, func(b *testing.B) {
					b.ReportAllocs()
					for i := 0; b.Loop(); i++ {
						req := &ubql.Request{Entity: "tst_tag", Method: "update", ExecParams: map[string]any{"ID": id, "name": fmt.Sprint("u", i)}}
						tx := a.Begin(store.System)
						if one {
							tx.OneItem()
						}
						if _, err := tx.Do(ctx, req); err != nil {
							b.Fatal(err)
						}
						if err := tx.Commit(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
