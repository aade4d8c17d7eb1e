//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a log destination the test reads while the server writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServeSignals runs `ubgo serve` on the sample application as the binary would, and
// sends the process real signals: SIGHUP reloads into generation 2, SIGTERM stops it
// with exit code 0.
func TestServeSignals(t *testing.T) {
	db := filepath.Join(t.TempDir(), "serve.sqlite3")
	t.Setenv("UB_DB", db)
	t.Setenv("UBGO_ADMIN_PASSWORD", "signals")
	addr := freeAddr(t)
	var stdout, stderr syncBuffer
	code := make(chan exitCode, 1)
	go func() {
		code <- run(context.Background(), []string{"serve", "-cfg", "../../ubconfig.json", "-addr", addr, "-dev-anonymous-admin"}, &stdout, &stderr)
	}()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	generation := func() float64 {
		_, body := get("/stat")
		var s struct{ Generation float64 }
		json.Unmarshal([]byte(body), &s)
		return s.Generation
	}
	waitUntil(t, "the server to listen", func() bool { c, _ := get("/ready"); return c == 200 })
	if generation() != 1 {
		t.Fatalf("generation %v", generation())
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the reload", func() bool { return generation() == 2 })
	if c, body := get("/tasksSummary"); c != 200 {
		t.Fatalf("the sample endpoint after the reload: %d %s", c, body)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("exit code %d\n%s", c, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop on SIGTERM")
	}
	log := stderr.String()
	for _, want := range []string{"msg=listening", "startup=", `phases="config=`, "msg=reloaded gen=2 previous=1",
		`msg="generation closed" gen=1`, "signal=terminated", `msg="generation closed" gen=2`, "msg=stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(log)
	}
}

// TestServeStartFailure: a failing phase exits 1 and names the phase and the cause.
func TestServeStartFailure(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	t.Setenv("UB_DB", filepath.Join(t.TempDir(), "x.sqlite3"))
	t.Setenv("UBGO_ADMIN_PASSWORD", "x")
	_, errOut, code := ubgo(t, nil, "serve", "-cfg", "../../ubconfig.json", "-addr", busy.Addr().String())
	if code != 1 || !strings.Contains(errOut, "ubgo serve: the listen phase failed") || !strings.Contains(errOut, "address already in use") {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
}

func TestGCTuning(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name    string
		env     map[string]string
		minHeap uint64
		base    int
		why     string
		err     string
	}{
		{"default", nil, 64 * mib, 100, "", ""},
		{"own headroom", map[string]string{"UBGO_GC_MIN_HEAP": "256MiB"}, 256 * mib, 100, "", ""},
		{"off", map[string]string{"UBGO_GC_MIN_HEAP": "off"}, 0, 0, "UBGO_GC_MIN_HEAP=off", ""},
		{"GOGC of the operator wins", map[string]string{"GOGC": "200"}, 0, 0, "GOGC is set", ""},
		{"GOGC as the base", map[string]string{"GOGC": "200", "UBGO_GC_MIN_HEAP": "32MiB"}, 32 * mib, 200, "", ""},
		{"GOGC=off stays off", map[string]string{"GOGC": "off", "UBGO_GC_MIN_HEAP": "32MiB"}, 0, 0, "GOGC=off", ""},
		{"bad size", map[string]string{"UBGO_GC_MIN_HEAP": "lots"}, 0, 0, "", `UBGO_GC_MIN_HEAP: size "lots"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts, why, err := gcTuning(func(k string) (string, bool) { v, ok := c.env[k]; return v, ok })
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || opts.MinHeap != c.minHeap || (c.minHeap != 0 && opts.Base != c.base) || why != c.why {
				t.Errorf("gcTuning = %+v, %q, %v; want MinHeap %d, Base %d, why %q", opts, why, err, c.minHeap, c.base, c.why)
			}
		})
	}
}
