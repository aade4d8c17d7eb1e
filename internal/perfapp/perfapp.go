// Package perfapp holds the performance baselines of ubgo and their "Go twins".
//
// The perf application (perf/ubconfig.*.json and the TST model in perf/models/tst) has the
// TechEmpower tables World (10,000 rows) and Fortune, and tst_item, an mStorage entity with
// generated IDs and the simpleAudit mi_* fields that the write scenarios insert, update and
// delete. Mount adds three endpoints to a server of that application:
//
//	/_perf/json             GET  {"message":"Hello, World!"} written by Go
//	/_perf/raw/<scenario>   the scenario as a hand-written handler: plain SQL, prepared once,
//	                        on the store's own pools (store.Conn Read and Write)
//	/_perf/prep             POST {"n":N}: add N tst_item rows for the update and delete runs
//	/_perfgo/<scenario>     the scenario in Go through the store's UBQL path (store.Tx), the
//	                        twin of the JavaScript endpoint /perfjs/<scenario> of the model
//	/debug/pprof/...        the runtime profiles
//
// Scenarios and their bodies (the same for raw, Go twin and JS; /ubql sends the UBQL items
// that do the same, see docs/performance.md):
//
//	byid      POST {"id":N}                              one World row
//	list20    POST {"from":N}                            20 World rows with ID >= N, by ID
//	queries   POST {"ids":[N,...]}                       one select per ID (at most 500)
//	fortunes  GET                                        TechEmpower Fortunes as HTML
//	insert    POST {"code":"..","caption":"..","qty":N}  raw only: a new tst_item row
//	update    POST {"id":N,"qty":N,"token":"<mi_modifyDate>"}  raw only: optimistic-lock update
//	delete    POST {"id":N}                              raw only: delete one tst_item row
//
// Every ratio scripts/perf.sh reports compares two endpoints of one server process, with
// the same pools, settings and GOMAXPROCS. The raw handlers go through the server's front
// (request id, counters, access log, routing) like every other endpoint, so the ratio
// measures what the UBQL stack adds, not what net/http costs.
//
// The raw endpoints need no session; /_perfgo, like the model's /perfjs and /ubql, goes
// through the server's security layer, which Load prepares for (an access rule for tst_*
// and the endpoints granted to Everyone). prep and the profiles answer loopback clients
// only. The package is linked into the server only by the perf build (go build -tags
// perf ./cmd/ubgo, which passes Mount to internal/app as Options.Mount): a production
// binary has none of these endpoints.
package perfapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/server"
	"github.com/ubgo/ubgo/store"
)

// Entities of the perf model.
const (
	WorldEntity   = "tst_world"
	FortuneEntity = "tst_fortune"
	ItemEntity    = "tst_item"
)

// Worlds is the number of rows of tst_world (IDs 1..Worlds), as in TechEmpower.
const Worlds = 10_000

// MaxQueries caps the IDs of one queries request (TechEmpower asks for 1 to 500).
const MaxQueries = 500

// Mount adds the perf endpoints to srv. The baselines need the perf model: with a domain
// that lacks it (the sample application, say), Mount adds only /_perf/json and the
// profiles. It fails when the endpoints are already taken or a statement cannot be
// prepared (the database is not migrated).
func Mount(srv *server.Server, st *store.Store) (err error) {
	defer func() {
		// Handle panics on a name registered twice; a model endpoint may have taken one.
		if p := recover(); p != nil {
			err = fmt.Errorf("perfapp: %v", p)
		}
	}()
	raw := &rawHandlers{}
	if hasModel(st.Domain) {
		if raw, err = newRaw(st); err != nil {
			return err
		}
		srv.Handle("_perfgo", &twins{st: st}, true)
	}
	srv.Handle("_perf", raw, false)
	srv.Handle("debug", http.HandlerFunc(servePprof), false)
	return nil
}

func hasModel(dom *domain.Domain) bool {
	return dom.Entity(WorldEntity) != nil && dom.Entity(FortuneEntity) != nil && dom.Entity(ItemEntity) != nil
}

// servePprof serves net/http/pprof under /debug/pprof/ to loopback clients.
func servePprof(w http.ResponseWriter, r *http.Request) {
	if !loopback(r) {
		server.WriteErr(w, r, &server.Error{Status: http.StatusForbidden, Detail: "profiles are served to loopback clients only"})
		return
	}
	switch strings.TrimPrefix(r.URL.Path, "/debug/pprof/") {
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		pprof.Index(w, r) // the index and the named profiles (heap, allocs, goroutine...)
	}
}

// loopback reports whether the client (as the server's front determined it) is on this
// machine.
func loopback(r *http.Request) bool {
	ip := net.ParseIP(server.RemoteIP(r))
	return ip != nil && ip.IsLoopback()
}

// maxBody bounds the perf request bodies (the server's own limit is larger).
const maxBody = 64 << 10

// readJSON decodes a POST body into v.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		server.WriteErr(w, r, &server.Error{Status: http.StatusMethodNotAllowed, Detail: r.Method + " instead of POST"})
		return false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err == nil && len(body) > maxBody {
		err = errors.New("body over 64 KiB")
	}
	if err == nil {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		server.WriteErr(w, r, badRequest("invalid body: "+err.Error()))
		return false
	}
	return true
}

func requireGET(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	server.WriteErr(w, r, &server.Error{Status: http.StatusMethodNotAllowed, Detail: r.Method + " instead of GET"})
	return false
}

func badRequest(msg string) error {
	return &server.Error{Status: http.StatusBadRequest, Code: server.CodeInvalidData, Msg: msg}
}

func notFound(msg string) error {
	return &server.Error{Status: http.StatusNotFound, Code: server.CodeNotFound, Msg: msg}
}

// dbError hides a database error from the client (it may contain SQL) and keeps it for the log.
func dbError(what string, err error) error {
	return &server.Error{Status: http.StatusInternalServerError, Detail: what, Err: err}
}

// checkIDs validates the ids of a queries request.
func checkIDs(ids []int64) error {
	if len(ids) == 0 || len(ids) > MaxQueries {
		return badRequest(fmt.Sprintf("ids must hold 1 to %d IDs", MaxQueries))
	}
	return nil
}

func writeJSON(w http.ResponseWriter, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.Write(body)
}

func writeHTML(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(body)
}
