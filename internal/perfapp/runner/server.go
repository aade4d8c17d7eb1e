package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// serverProc is a server process the runner started. It runs in a process group of its
// own, so that stop can always take it (and anything it started) down.
type serverProc struct {
	cmd     *exec.Cmd
	pid     int
	base    string // http://127.0.0.1:port
	done    chan struct{}
	waitErr error
	ready   time.Duration // from start to the first 200 of /ready
}

// freePort asks the kernel for a free TCP port on the loopback interface.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startServer starts bin with args and env (added to the runner's environment), output to
// logPath, and waits until GET /ready answers 200 (at most readyTimeout). The caller
// stops it.
func startServer(ctx context.Context, bin string, args, env []string, logPath string, port int, readyTimeout time.Duration) (*serverProc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &serverProc{cmd: cmd, pid: cmd.Process.Pid, base: "http://127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited before it was ready (%v); see %s", bin, p.waitErr, logPath)
		case <-ctx.Done():
			p.stop()
			return nil, context.Cause(ctx)
		default:
		}
		if resp, err := client.Get(p.base + "/ready"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				p.ready = time.Since(start)
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s was not ready within %s; see %s", bin, readyTimeout, logPath)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// stop asks the server to drain (SIGTERM) and kills its process group when it has not
// exited within 20 seconds. It is safe to call twice.
func (p *serverProc) stop() error {
	if p == nil {
		return nil
	}
	select {
	case <-p.done:
		return nil
	default:
	}
	syscall.Kill(p.pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		syscall.Kill(-p.pid, syscall.SIGKILL)
		<-p.done
		return errors.New("the server did not stop within 20s and was killed")
	}
	// Anything the server started in its group goes too.
	syscall.Kill(-p.pid, syscall.SIGKILL)
	return nil
}

// get fetches base+path and returns the status and body.
func get(ctx context.Context, url string, timeout time.Duration) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// post sends a JSON body to url and returns the body of a 200 answer.
func post(ctx context.Context, url, body string, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d: %s", resp.StatusCode, tail(out, 300))
	}
	return out, err
}
