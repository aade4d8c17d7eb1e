//go:build perf

package main

import "github.com/ubgo/ubgo/internal/perfapp"

// The perf build (go build -tags perf ./cmd/ubgo) serves the baselines of scripts/perf.sh
// and /debug/pprof; see docs/performance.md.
func init() { mountPerf = perfapp.Mount }
