package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ubgo/ubgo/store/storetest"
)

// logBuffer is a log destination tests can read while the server writes to it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testApp is a copy of testdata/app with a database of one dialect.
type testApp struct {
	dir  string // the copy; models/lct/index.js may be edited
	env  map[string]string
	logs *logBuffer
}

// newTestApp copies testdata/app into a temporary folder. The database does not exist
// yet: the first Start creates and initializes it (a fresh SQLite file, or a PostgreSQL
// schema dropped when the test ends).
func newTestApp(t testing.TB, dialect string) *testApp {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/app")); err != nil {
		t.Fatal(err)
	}
	var db string
	switch dialect {
	case storetest.SQLite3:
		db = filepath.Join(dir, "app.sqlite3")
	case storetest.PostgreSQL:
		base := storetest.PGURL(t)
		var b [6]byte
		rand.Read(b[:])
		schema := "ubgo_t_app_" + hex.EncodeToString(b[:])
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		db = u.String()
		t.Cleanup(func() { storetest.DropSchema(t, base, schema) })
	}
	return &testApp{dir: dir, env: map[string]string{"TST_DRIVER": dialect, "TST_DB": db}, logs: &logBuffer{}}
}

// options are the Options of the test application; change them before start.
func (ta *testApp) options() Options {
	return Options{
		ConfigFile:        filepath.Join(ta.dir, "ubconfig.json"),
		LookupEnv:         func(k string) (string, bool) { v, ok := ta.env[k]; return v, ok },
		Logger:            slog.New(slog.NewTextHandler(ta.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Addr:              "127.0.0.1:0",
		DevAnonymousAdmin: true,
		AdminPassword:     "test",
		Stderr:            io.Discard,
	}
}

// edit rewrites a file of the copy, replacing old by new.
func (ta *testApp) edit(t *testing.T, rel, old, new string) {
	t.Helper()
	path := filepath.Join(ta.dir, rel)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %q", rel, old)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// start starts the application and fails the test when it does not start.
func (ta *testApp) start(t *testing.T, opts Options) *App {
	t.Helper()
	a, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("Start: %v\nlog:\n%s", err, ta.logs)
	}
	return a
}

// running is an App whose Run is in progress.
type running struct {
	*App
	cancel context.CancelFunc
	done   chan error
}

// run starts Run; the test's cleanup stops it if the test did not.
func run(t *testing.T, a *App) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{App: a, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		a.Abort()
		select {
		case <-r.done:
		case <-time.After(time.Minute):
			t.Error("Run did not return")
		}
	})
	return r
}

// stop cancels Run and returns its error.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	return r.wait(t)
}

func (r *running) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(time.Minute):
		t.Fatal("Run did not return")
		return nil
	}
}

func (r *running) url(path string) string { return "http://" + r.Addr().String() + path }

// get requests path and returns the status and the body.
func get(t *testing.T, r *running, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(r.url(path))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

// result is the outcome of a request made in the background.
type result struct {
	status int
	body   string
	err    error
}

// getAsync requests path on a goroutine of its own.
func getAsync(r *running, path string) <-chan result {
	c := make(chan result, 1)
	go func() {
		resp, err := http.Get(r.url(path))
		if err != nil {
			c <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		c <- result{status: resp.StatusCode, body: string(b), err: err}
	}()
	return c
}

// waitFor polls cond until it holds; the limit is generous because it is a failure
// detector, not a timing assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// cached reads the program's global cache, where the test model's listeners write.
func cached(g *Generation, key string) string {
	v, _ := g.Program.GlobalCacheGet(key)
	return v
}

// stat reads /stat.
func stat(t *testing.T, r *running) map[string]any {
	t.Helper()
	code, body := get(t, r, "/stat")
	if code != 200 {
		t.Fatalf("/stat: %d %s", code, body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// events selects the rows the test model's listeners wrote, as "kind: detail".
func events(t *testing.T, r *running) []string {
	t.Helper()
	req := `[{"entity":"lct_event","method":"select","fieldList":["kind","detail"],"orderList":[{"expression":"ID"}]}]`
	resp, err := http.Post(r.url("/ubql"), "application/json", strings.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []struct {
		ResultData struct {
			Data [][]string `json:"data"`
		} `json:"resultData"`
	}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil || len(out) != 1 {
		t.Fatalf("ubql: %d %s (%v)", resp.StatusCode, b, err)
	}
	var list []string
	for _, row := range out[0].ResultData.Data {
		list = append(list, row[0]+": "+row[1])
	}
	return list
}
