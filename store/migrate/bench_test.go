package migrate_test

import (
	"context"
	"testing"

	"github.com/ubgo/ubgo/store/migrate"
	"github.com/ubgo/ubgo/store/storetest"
)

// BenchmarkPlanCorpus measures NewPlan (desired schema, inspection and diff) for the
// UnityBase corpus domain against a database that is already up to date, the common case
// at server start.
func BenchmarkPlanCorpus(b *testing.B) {
	needCorpus(b)
	dom := loadApp(b, corpusConfig)
	for _, d := range storetest.Dialects {
		b.Run(d, func(b *testing.B) {
			conn := openConn(b, d, "en", "uk")
			apply(b, conn, plan(b, conn, dom), false)
			tgt := targetOf(conn, dom)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				p, err := migrate.NewPlan(ctx, conn.Write, tgt)
				if err != nil {
					b.Fatal(err)
				}
				if !p.Empty() {
					b.Fatal("the plan is not empty")
				}
			}
		})
	}
}
