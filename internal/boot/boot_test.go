package boot

import (
	"context"
	"fmt"
	"testing"

	"github.com/ubgo/ubgo/internal/synth"
)

func loadSynth(tb testing.TB, n int) (dir string) {
	tb.Helper()
	dir = tb.TempDir()
	if _, _, err := synth.Generate(dir, synth.Options{Entities: n, Hook: true}); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// TestSynthApplicationLoads checks that generated applications (which the benchmarks and the
// performance scripts use) are valid and that every phase sees all of it.
func TestSynthApplicationLoads(t *testing.T) {
	dir := loadSynth(t, 50)
	app, err := Load(context.Background(), Options{ConfigFile: dir + "/ubconfig.json"})
	if err != nil {
		t.Fatal(err)
	}
	// 50 generated entities plus UB, UBA and the link entities of Many attributes.
	if got := len(app.Domain.Entities); got < 50+19 {
		t.Fatalf("%d entities", got)
	}
	if len(app.Phases) != 2 || app.Phases[0].Name != "config" || app.Phases[1].Name != "metadata" {
		t.Fatalf("phases = %+v", app.Phases)
	}
	if n := len(app.Domain.Warnings) + len(app.Config.Warnings); n != 0 {
		t.Fatalf("%d warnings on a generated application: %v %v", n, app.Config.Warnings, app.Domain.Warnings)
	}
}

// BenchmarkLoad measures the whole load of a generated application: config, read, parse,
// merge, hooks, schema, build and checks. The target for 1,000 entities is < 300 ms.
func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("entities=%d", n), func(b *testing.B) {
			dir := loadSynth(b, n)
			b.ResetTimer()
			for b.Loop() {
				if _, err := Load(context.Background(), Options{ConfigFile: dir + "/ubconfig.json"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
