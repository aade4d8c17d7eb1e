package migrate_test

import (
	"testing"

	"github.com/ubgo/ubgo/store/storetest"
)

func TestCorpus(t *testing.T) {
	needCorpus(t)
	dom := loadApp(t, corpusConfig)
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			conn := openConn(t, d, "en", "uk")
			p := plan(t, conn, dom)
			for _, w := range p.Warnings {
				t.Log("warning:", w)
			}
			apply(t, conn, p, false)
			mustBeEmpty(t, plan(t, conn, dom))
		})
	}
}
