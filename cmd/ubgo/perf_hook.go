package main

import (
	"github.com/ubgo/ubgo/server"
	"github.com/ubgo/ubgo/store"
)

// mountPerf adds the performance baselines and profiles of internal/perfapp to the server.
// It is nil unless the binary is built with the perf tag (perf_on.go): a production build
// has none of those endpoints. serve calls it after the model endpoints are mounted.
var mountPerf func(srv *server.Server, st *store.Store) error
