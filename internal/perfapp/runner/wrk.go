package runner

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// wrkResult is what the done() function of a scenario script reports.
type wrkResult struct {
	Requests   int64 `json:"requests"`
	DurationUS int64 `json:"duration_us"`
	Bytes      int64 `json:"bytes"`
	Connect    int64 `json:"connect"`
	Read       int64 `json:"read"`
	Write      int64 `json:"write"`
	Status     int64 `json:"status"` // responses with a status other than 2xx or 3xx
	Timeout    int64 `json:"timeout"`
	P50US      int64 `json:"p50_us"`
	P90US      int64 `json:"p90_us"`
	P99US      int64 `json:"p99_us"`
	MaxUS      int64 `json:"max_us"`
}

// RPS is the throughput of the run.
func (r wrkResult) RPS() float64 {
	if r.DurationUS <= 0 {
		return 0
	}
	return float64(r.Requests) / (float64(r.DurationUS) / 1e6)
}

// SocketErrors counts connect, read, write errors and timeouts.
func (r wrkResult) SocketErrors() int64 { return r.Connect + r.Read + r.Write + r.Timeout }

// parseWrk finds the PERFJSON line in wrk's output.
func parseWrk(out []byte) (wrkResult, error) {
	var res wrkResult
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "PERFJSON "); ok {
			if err := json.Unmarshal([]byte(rest), &res); err != nil {
				return res, fmt.Errorf("wrk summary %q: %w", rest, err)
			}
			if res.DurationUS <= 0 {
				return res, fmt.Errorf("wrk summary %q: no duration", rest)
			}
			return res, nil
		}
	}
	return res, fmt.Errorf("wrk printed no summary line:\n%s", tail(out, 2000))
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// wrkRun is one invocation of wrk.
type wrkRun struct {
	bin             string
	threads, conns  int
	duration        time.Duration
	url             string // base URL + path
	script          string // file
	log             string // where wrk's own output goes (appended)
	onStart         func(pid int)
	onExit          func(user, sys time.Duration) // wrk's CPU time, from its rusage
	timeoutOverhead time.Duration
}

// run runs wrk and parses its summary. wrk gets a deadline of its duration plus a margin
// and is killed (with its process group) when ctx ends.
func (w wrkRun) run(ctx context.Context) (wrkResult, error) {
	margin := w.timeoutOverhead
	if margin == 0 {
		margin = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, w.duration+margin)
	defer cancel()
	secs := max(1, int(w.duration.Round(time.Second)/time.Second))
	cmd := exec.CommandContext(ctx, w.bin, "-t"+strconv.Itoa(w.threads), "-c"+strconv.Itoa(w.conns),
		"-d"+strconv.Itoa(secs)+"s", "--latency", "--timeout", "10s", "-s", w.script, w.url)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return wrkResult{}, fmt.Errorf("start wrk: %w", err)
	}
	if w.onStart != nil {
		w.onStart(cmd.Process.Pid)
	}
	err := cmd.Wait()
	if w.onExit != nil && cmd.ProcessState != nil {
		w.onExit(cmd.ProcessState.UserTime(), cmd.ProcessState.SystemTime())
	}
	if w.log != "" {
		appendFile(w.log, fmt.Sprintf("=== %s %s\n%s\n", time.Now().Format(time.RFC3339), w.script, out.Bytes()))
	}
	if err != nil {
		if ctx.Err() != nil {
			return wrkResult{}, fmt.Errorf("wrk did not finish: %w", context.Cause(ctx))
		}
		return wrkResult{}, fmt.Errorf("wrk: %w: %s", err, tail(out.Bytes(), 1000))
	}
	return parseWrk(out.Bytes())
}

func appendFile(path, text string) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	f.WriteString(text)
}

// errNoWrk explains how to get wrk.
var errNoWrk = errors.New("wrk is not installed (scripts/perf.sh installs it: apt-get install -y wrk)")
