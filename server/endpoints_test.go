package server

import (
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

func TestTimeStamp(t *testing.T) {
	s := newTestServer(t, nil)
	before := time.Now().UnixMilli()
	runScenarios(t, s, []scenario{
		{name: "milliseconds as text", url: "/timeStamp", wantStatus: 200,
			wantHeader: map[string]string{"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"},
			check: func(t *testing.T, _ *httptest.ResponseRecorder, body string) {
				ms, err := strconv.ParseInt(body, 10, 64)
				if err != nil || ms < before || ms > time.Now().UnixMilli() {
					t.Errorf("timeStamp %q is not the server time in ms", body)
				}
			}},
		{name: "no session needed", url: "/timeStamp", wantStatus: 200},
		{name: "POST is refused", method: "POST", url: "/timeStamp", wantStatus: 405},
	})
}

func TestStat(t *testing.T) {
	s := newFixtureServer(t, Options{DevAnonymousAdmin: true, Stats: func() map[string]any {
		return map[string]any{"pool_busy": 3}
	}}, nil)
	for range 3 {
		do(s, httptest.NewRequest("GET", "/ready", nil))
	}
	do(s, httptest.NewRequest("GET", "/nope", nil))
	runScenarios(t, s, []scenario{
		{name: "counters", url: "/stat", wantStatus: 200, wantBody: []string{`"pool_busy":3`, `"http_perning_request_count":1`},
			check: func(t *testing.T, _ *httptest.ResponseRecorder, body string) {
				var st struct {
					Requests  int64    `json:"requests_total"`
					Responses [6]int64 `json:"responses_total"`
					In        *int64   `json:"incoming_bytes"`
					Out       int64    `json:"outcoming_bytes"`
					Uptime    *int64   `json:"uptime_sec"`
				}
				if err := json.Unmarshal([]byte(body), &st); err != nil {
					t.Fatal(err)
				}
				if st.Requests != 4 || st.Responses[2] != 3 || st.Responses[4] != 1 || st.Out == 0 || st.In == nil || st.Uptime == nil {
					t.Errorf("stat %s", body)
				}
			}},
		{name: "POST is refused", method: "POST", url: "/stat", wantStatus: 405},
	})
}
