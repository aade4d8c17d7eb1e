package ubql_test

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/ubgo/ubgo/domain"
)

var (
	domOnce sync.Once
	dom     *domain.Domain
	domErr  error
)

// testDomain loads the fixture model of testdata/model once: persons with departments,
// countries (a three-level chain), managers (a nullable self reference), tags (Many), a
// status (Enum), multi-language names and notes with safeDelete.
func testDomain(t testing.TB) *domain.Domain {
	t.Helper()
	domOnce.Do(func() {
		dom, domErr = domain.Load(context.Background(), domain.Input{
			Models:      []domain.ModelSource{{Name: "TST", Path: "testdata/model", FS: os.DirFS("testdata/model")}},
			DefaultLang: "en",
			Languages:   []string{"en", "uk"},
		})
	})
	if domErr != nil {
		t.Fatalf("load the fixture domain: %v", domErr)
	}
	return dom
}
