package migrate_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/ubgo/ubgo/store/storetest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the current output")

// TestScriptGolden pins the DDL of a small entity (testdata/golden) on an empty database.
func TestScriptGolden(t *testing.T) {
	dom := loadFixture(t, "golden")
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			conn := openConn(t, d, "en", "uk")
			p := plan(t, conn, dom)
			got := p.Script(true)
			file := filepath.Join("testdata", "script_"+d+".golden")
			if *update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("script differs from %s (go test -update rewrites it):\n%s", file, got)
			}
			apply(t, conn, p, false)
			mustBeEmpty(t, plan(t, conn, dom))
		})
	}
}
