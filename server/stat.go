package server

import (
	"encoding/json"
	"maps"
	"net/http"
	"sync/atomic"
	"time"
)

// stats are the server's counters for /stat. Updating them is a few atomic adds per request.
type stats struct {
	start    time.Time
	requests atomic.Int64
	inFlight atomic.Int64
	bytesIn  atomic.Int64
	bytesOut atomic.Int64
	// byClass counts responses by status class: index 1 for 1xx ... 5 for 5xx, 0 for
	// anything else (UnityBase's responses_total has the same six cells).
	byClass [6]atomic.Int64
}

func newStats() *stats { return &stats{start: time.Now()} }

func (s *stats) begin() { s.inFlight.Add(1) }
func (s *stats) end()   { s.inFlight.Add(-1) }

func (s *stats) record(status int, in, out int64) {
	s.requests.Add(1)
	s.bytesIn.Add(in)
	s.bytesOut.Add(out)
	class := status / 100
	if class < 1 || class > 5 {
		class = 0
	}
	s.byClass[class].Add(1)
}

// serveStat answers GET /stat with the counters, named as UnityBase names them where it has
// a name (reference §3.4: incoming_bytes, outcoming_bytes, responses_total,
// http_perning_request_count — sic, monitoring tools parse that spelling), plus what
// Options.Stats adds.
func (s *Server) serveStat(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	var classes [6]int64
	for i := range classes {
		classes[i] = s.stats.byClass[i].Load()
	}
	out := map[string]any{
		"requests_total":             s.stats.requests.Load(),
		"responses_total":            classes,
		"incoming_bytes":             s.stats.bytesIn.Load(),
		"outcoming_bytes":            s.stats.bytesOut.Load(),
		"http_perning_request_count": s.stats.inFlight.Load(),
		"threads_total":              s.cfg.HTTPServer.ThreadPoolSize,
		"uptime_sec":                 int64(time.Since(s.stats.start).Seconds()),
		"started":                    s.stats.start.UTC().Format(time.RFC3339),
	}
	if s.opt.Stats != nil {
		maps.Copy(out, s.opt.Stats())
	}
	body, err := json.Marshal(out)
	if err != nil {
		WriteErr(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.Write(body)
}
