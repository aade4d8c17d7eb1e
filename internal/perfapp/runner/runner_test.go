package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ubgo/ubgo/ubql"
)

func TestParseWrk(t *testing.T) {
	out := []byte(`Running 3s test @ http://127.0.0.1:1/x
  2 threads and 64 connections
PERFJSON {"requests":3000,"duration_us":3000000,"bytes":1,"connect":0,"read":2,"write":0,"status":5,"timeout":1,"p50_us":400,"p90_us":800,"p99_us":4300,"max_us":9000}
Requests/sec:   1000.00
`)
	res, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if res.RPS() != 1000 || res.Status != 5 || res.SocketErrors() != 3 || res.P99US != 4300 {
		t.Errorf("parsed %+v (rps %v)", res, res.RPS())
	}
	for _, bad := range []string{"no summary here\n", "PERFJSON {not json}\n", `PERFJSON {"requests":1,"duration_us":0}` + "\n"} {
		if _, err := parseWrk([]byte(bad)); err == nil {
			t.Errorf("parseWrk(%q) succeeded", bad)
		}
	}
}

// writeProc builds a fake /proc with the machine line and some processes.
func writeProc(t *testing.T, root string, busy [10]int64, procs map[int][3]any) {
	t.Helper()
	var line strings.Builder
	line.WriteString("cpu ")
	for i, v := range busy {
		if i > 0 {
			line.WriteString(" ")
		}
		line.WriteString(strconv.FormatInt(v, 10))
	}
	os.WriteFile(filepath.Join(root, "stat"), []byte(line.String()+"\ncpu0 1 2 3\n"), 0o644)
	for pid, p := range procs {
		dir := filepath.Join(root, strconv.Itoa(pid))
		os.MkdirAll(dir, 0o755)
		// comm with a space and a parenthesis, as real ones can have
		stat := strconv.Itoa(pid) + " (" + p[0].(string) + ") S 1 1 1 0 -1 4194560 100 0 0 0 " +
			strconv.FormatInt(p[1].(int64), 10) + " " + strconv.FormatInt(p[2].(int64), 10) + " 0 0 20 0 4 0 100 1000 100"
		os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644)
		os.WriteFile(filepath.Join(dir, "cmdline"), []byte(strings.ReplaceAll(p[0].(string), " ", "\x00")), 0o644)
	}
}

func TestOutsiders(t *testing.T) {
	root := t.TempDir()
	p := procFS{root: root, ours: func(pid int, cmd string) bool { return pid == 10 || isPerfPostgres(cmd, "ubgo_perf") }}
	// user nice system idle iowait irq softirq steal guest guest_nice
	writeProc(t, root, [10]int64{1000, 0, 500, 9000, 0, 0, 100, 0, 0, 0}, map[int][3]any{
		10: {"ubgo (perf) x", int64(300), int64(100)},
		11: {"postgres: 15/main: postgres ubgo_perf 127.0.0.1(4000) idle", int64(50), int64(50)},
		12: {"postgres: 15/main: postgres test 127.0.0.1(4001) idle", int64(500), int64(0)},
		13: {"go build", int64(7), int64(0)},
	})
	a, err := p.sample()
	if err != nil {
		t.Fatal(err)
	}
	if len(a.procs) != 2 || a.procs[10] != 400 || a.procs[11] != 100 {
		t.Fatalf("ours = %v", a.procs)
	}
	// 2 s later: the machine used 300 more ticks; the server 150, our backend 50, and a
	// new backend of ours 20: 80 ticks (0.4 core) went elsewhere.
	writeProc(t, root, [10]int64{1200, 0, 580, 9100, 0, 0, 120, 0, 0, 0}, map[int][3]any{
		10: {"ubgo (perf) x", int64(420), int64(130)},
		11: {"postgres: 15/main: postgres ubgo_perf 127.0.0.1(4000) idle", int64(100), int64(50)},
		14: {"postgres: 15/main: postgres ubgo_perf 127.0.0.1(4002) SELECT", int64(20), int64(0)},
	})
	b, _ := p.sample()
	b.at = a.at.Add(2 * time.Second)
	if got := outsiderCores(a, b); got < 0.399 || got > 0.401 {
		t.Errorf("outsiders = %v cores, want 0.4", got)
	}
	if got := machineCores(a, b); got != 1.5 {
		t.Errorf("machine = %v cores, want 1.5", got)
	}
	if got := procSeconds(a, b, 10); got != 1.5 {
		t.Errorf("server = %v s, want 1.5", got)
	}
}

func TestIsPerfPostgres(t *testing.T) {
	for cmd, want := range map[string]bool{
		"postgres: 15/main: postgres ubgo_perf 127.0.0.1(5678) idle":  true,
		"postgres: 15/main: postgres test 127.0.0.1(5678) idle":       false,
		"postgres: 15/main: walwriter":                                true,
		"postgres: 15/main: checkpointer":                             true,
		"/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql":  true,
		"go test ./store/ -run ubgo_perf":                             false,
		"postgres: 15/main: postgres ubgo_perf_other 127.0.0.1(1) ab": false,
	} {
		if got := isPerfPostgres(cmd, "ubgo_perf"); got != want {
			t.Errorf("isPerfPostgres(%q) = %v", cmd, got)
		}
	}
}

func TestMemStatus(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "42"), 0o755)
	os.WriteFile(filepath.Join(root, "42", "status"), []byte("Name:\tubgo\nVmPeak:\t 900 kB\nVmHWM:\t   30720 kB\nVmRSS:\t   20480 kB\n"), 0o644)
	hwm, rss, err := memStatus(root, 42)
	if err != nil || hwm != 30<<20 || rss != 20<<20 {
		t.Errorf("memStatus = %d, %d, %v", hwm, rss, err)
	}
	if _, _, err := memStatus(root, 43); err == nil {
		t.Error("memStatus of a missing process succeeded")
	}
}

func TestPairedRatioAndVerdict(t *testing.T) {
	rec := func(s string, round int, rps float64, clean bool) Record {
		return Record{Dialect: "pg", Scenario: s, Round: round, Kept: true, Clean: clean,
			Res: wrkResult{Requests: int64(rps * 10), DurationUS: 10_000_000}}
	}
	r := &runner{cfg: Config{Rounds: 3}, records: []Record{
		rec("raw_byid", 1, 1000, true), rec("ubql_byid", 1, 800, true),
		rec("raw_byid", 2, 1000, true), rec("ubql_byid", 2, 900, true),
		rec("raw_byid", 3, 2000, true), rec("ubql_byid", 3, 1400, false),
		{Dialect: "pg", Scenario: "ubql_byid", Round: 3, Kept: false, Res: wrkResult{Requests: 1, DurationUS: 1}},
	}}
	ratio, noisy, ok := r.pairedRatio("pg", "ubql_byid", "raw_byid")
	if !ok || ratio != 0.8 || !noisy {
		t.Errorf("pairedRatio = %v %v %v, want the median 0.8, noisy", ratio, noisy, ok)
	}
	if _, _, ok := r.pairedRatio("sqlite", "ubql_byid", "raw_byid"); ok {
		t.Error("a ratio of a dialect without runs")
	}
	for _, tt := range []struct {
		ratio float64
		noisy bool
		want  string
	}{{0.9, false, "PASS (stretch)"}, {0.7, false, "PASS"}, {0.69, true, "FAIL, noisy"}} {
		if got := verdict(tt.ratio, 0.7, 0.85, tt.noisy); got != tt.want {
			t.Errorf("verdict(%v) = %q, want %q", tt.ratio, got, tt.want)
		}
	}
	if median([]float64{3, 1, 2, 10}) != 2.5 || median([]float64{5}) != 5 {
		t.Error("median")
	}
}

func TestReport(t *testing.T) {
	dir := t.TempDir()
	rec := func(d, s string, rps float64, p99 int64) Record {
		return Record{Dialect: d, Scenario: s, Round: 1, Kept: true, Clean: true,
			Res: wrkResult{Requests: int64(rps * 10), DurationUS: 10_000_000, P99US: p99}, ServerCPU: 1}
	}
	r := &runner{cfg: Config{Out: dir, Rounds: 1, Dialects: []string{SQLite, Postgres}, Mode: "full", Threads: 2, Conns: 64,
		Duration: 10 * time.Second, DirtyLimit: 0.05}, server: map[string]string{SQLite: "ubgo serve"},
		records: []Record{
			rec(SQLite, "json", 100000, 5000), rec(SQLite, "js_json", 50000, 5000),
			rec(SQLite, "raw_byid", 60000, 4000), rec(SQLite, "ubql_byid", 50000, 5000),
			rec(Postgres, "raw_byid", 40000, 4000), rec(Postgres, "ubql_byid", 20000, 20000),
		},
		startups: []startupResult{{N: 1000, Starts: []time.Duration{400 * time.Millisecond}, PeakMB: 300}},
	}
	failed, err := r.report()
	if err != nil {
		t.Fatal(err)
	}
	// G5 50 % (fail), G2 83 % (pass), G1 50 % (fail), G8 pg 5× and 20 ms (fail), G10 300 MB (fail).
	if failed != 4 {
		t.Errorf("failed = %d, want 4", failed)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "ratios.md"))
	for _, want := range []string{"| G2 | sqlite | ubql select by ID / raw | **83 %** | ≥ 60 % | ≥ 80 % | PASS (stretch) |",
		"| G1 | pg | ubql select by ID / raw | **50 %** | ≥ 70 % | ≥ 85 % | FAIL |",
		"| G5 | sqlite | JS constant object / Go /json | **50 %**",
		"| G9 | sqlite | time to listening, N = 1000 entities (median of 1) | **400 ms** | ≤ 1500 ms | ≤ 500 ms | PASS (stretch) |",
		"| G10 | sqlite | peak RSS after load, N = 1,000 | **300 MB** | ≤ 250 MB | ≤ 120 MB | FAIL |",
		"| G11 | all | errors under load: non-2xx 0, socket errors 0, SQLITE_BUSY 0 | | 0 | | PASS |",
		"All 6 kept runs were clean"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("ratios.md lacks %q:\n%s", want, md)
		}
	}
	sum, _ := os.ReadFile(filepath.Join(dir, "summary.tsv"))
	if lines := bytes.Count(sum, []byte{'\n'}); lines != 7 {
		t.Errorf("summary.tsv has %d lines, want a header and 6 runs", lines)
	}
}

func TestSelectScenarios(t *testing.T) {
	all := selectScenarios(nil, true)
	if len(all) != len(Scenarios) {
		t.Errorf("all: %d of %d", len(all), len(Scenarios))
	}
	for _, s := range selectScenarios(nil, false) {
		if s.Once {
			t.Errorf("%s runs in a later dialect", s.Name)
		}
	}
	got := selectScenarios([]string{"byid", "raw_insert"}, true)
	var names []string
	for _, s := range got {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "raw_byid,ubql_byid,go_byid,js_byid,raw_insert" {
		t.Errorf("only byid,raw_insert: %v", names)
	}
	if g := Groups(Scenarios); strings.Join(g, ",") != "json,byid,list20,queries20,fortunes,insert,update,delete" {
		t.Errorf("groups %v", g)
	}
}

// TestScripts runs wrk with every generated script against a recorder and checks that the
// bodies are what the endpoints accept: valid JSON, UBQL that decodes, prepared IDs handed
// out once each. Skipped without wrk.
func TestScripts(t *testing.T) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		t.Skip("wrk is not installed")
	}
	var mu sync.Mutex
	bodies := map[string][]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		if len(bodies[r.URL.Path]) < 5000 {
			bodies[r.URL.Path] = append(bodies[r.URL.Path], r.Method+" "+string(b))
		}
		mu.Unlock()
		w.Write([]byte("{}"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	for _, s := range Scenarios {
		t.Run(s.Name, func(t *testing.T) {
			mu.Lock()
			clear(bodies)
			mu.Unlock()
			script := filepath.Join(dir, s.Name+".lua")
			os.WriteFile(script, []byte(luaScript(s, 500_000_000_000_000, 2, 42)), 0o644)
			res, err := wrkRun{bin: wrk, threads: 2, conns: 4, duration: time.Second, url: srv.URL + s.Path, script: script}.run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.Requests == 0 || res.Status != 0 {
				t.Fatalf("wrk: %+v", res)
			}
			mu.Lock()
			got := bodies[s.Path]
			mu.Unlock()
			if len(got) == 0 {
				t.Fatalf("no request reached %s", s.Path)
			}
			seen := map[int64]bool{}
			for _, b := range got {
				method, body, _ := strings.Cut(b, " ")
				if method != s.Method {
					t.Fatalf("method %s, want %s", method, s.Method)
				}
				if s.Method == "GET" {
					continue
				}
				if !json.Valid([]byte(body)) {
					t.Fatalf("invalid JSON body %s", body)
				}
				if s.Kind == KindUBQL {
					reqs, err := ubql.DecodeBatch([]byte(body))
					if err != nil {
						t.Fatalf("UBQL %s: %v", body, err)
					}
					if s.Group == "queries20" && len(reqs) != 20 {
						t.Fatalf("%d items in %s", len(reqs), body)
					}
				}
				if s.Prep {
					var v struct {
						ID         int64
						ExecParams struct{ ID int64 }
					}
					if strings.HasPrefix(body, "[") {
						var items []json.RawMessage
						json.Unmarshal([]byte(body), &items)
						json.Unmarshal(items[0], &v)
						v.ID = v.ExecParams.ID
					} else {
						json.Unmarshal([]byte(body), &v)
					}
					if v.ID < 500_000_000_000_000 || seen[v.ID] {
						t.Fatalf("prepared ID %d out of range or used twice (%s)", v.ID, body)
					}
					seen[v.ID] = true
				}
			}
		})
	}
}

func TestPhasesOf(t *testing.T) {
	dir := t.TempDir()
	serve := filepath.Join(dir, "serve.log")
	os.WriteFile(serve, []byte(`time=x level=INFO msg="worker pool" gen=1 size=8
time=x level=INFO msg=listening url=http://127.0.0.1:1/ gen=1 entities=22 startup=41.5ms phases="config=1.2ms domain=30ms store=5ms listen=10µs"
time=x level=INFO msg=http method=GET duration=1ms
`), 0o644)
	if got := phasesOf(serve); got != "total 41.5ms: config=1.2ms domain=30ms store=5ms listen=10µs" {
		t.Errorf("phasesOf(serve) = %q", got)
	}
	old := filepath.Join(dir, "old.log")
	os.WriteFile(old, []byte(`time=x level=INFO msg="configuration loaded" file=a duration=3ms
time=x level=INFO msg=http path=/ready duration=1ms
time=x level=INFO msg="model JavaScript loaded" endpoints=1 duration=12ms
`), 0o644)
	if got := phasesOf(old); got != "configuration loaded 3ms; model JavaScript loaded 12ms" {
		t.Errorf("phasesOf(old) = %q", got)
	}
}
