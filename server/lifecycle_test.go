package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ubgo/ubgo/config"
)

func TestLimitsOf(t *testing.T) {
	tests := []struct {
		name string
		t    config.HTTPTimeouts
		want Limits
	}{
		{"defaults", config.HTTPTimeouts{}, DefaultLimits},
		{"all", config.HTTPTimeouts{HeaderWait: 5, EntityBody: 30, IdleConnection: 90, MinSendRate: 150, DrainEntityBody: 2, RequestQueue: 7},
			Limits{MaxHeaderBytes: MaxHeaderBytes, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 35 * time.Second,
				WriteTimeout: WriteTimeout, IdleTimeout: 90 * time.Second}},
		{"header wait only keeps the body default", config.HTTPTimeouts{HeaderWait: 0.5},
			Limits{MaxHeaderBytes: MaxHeaderBytes, ReadHeaderTimeout: 500 * time.Millisecond, ReadTimeout: ReadTimeout,
				WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout}},
		{"header wait beyond the read timeout", config.HTTPTimeouts{HeaderWait: 100},
			Limits{MaxHeaderBytes: MaxHeaderBytes, ReadHeaderTimeout: 100 * time.Second, ReadTimeout: 100 * time.Second,
				WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LimitsOf(config.HTTPServer{Timeouts: tt.t}); got != tt.want {
				t.Fatalf("LimitsOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// serveScenario runs Serve with a handler that holds the request until release closes
// or its context ends, cancels Serve while the request runs, and returns what happened.
type serveScenario struct {
	opts     ServeOptions
	release  bool // release the request after the shutdown began
	force    bool // close Force after the shutdown began
	wantErr  error
	wantBody string // "" expects the request to fail
}

func TestServeShutdown(t *testing.T) {
	tests := map[string]serveScenario{
		"in-flight request completes": {release: true, wantBody: "done"},
		"deadline cuts off":           {opts: ServeOptions{ShutdownTimeout: 20 * time.Millisecond}, wantErr: ErrShutdownTimeout},
		"forced":                      {force: true, wantErr: ErrForced},
	}
	for name, sc := range tests {
		t.Run(name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			started, release, force := make(chan struct{}), make(chan struct{}), make(chan struct{})
			var cancelledCtx atomic.Bool
			handled := make(chan struct{})
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(handled)
				close(started)
				select {
				case <-release:
					io.WriteString(w, "done")
				case <-r.Context().Done():
					cancelledCtx.Store(true)
				}
			})
			var drained atomic.Bool
			sc.opts.OnDrain = func() { drained.Store(true) }
			sc.opts.Force = force
			ctx, cancel := context.WithCancel(context.Background())
			served := make(chan error, 1)
			go func() { served <- Serve(ctx, ln, h, sc.opts) }()
			body := make(chan string, 1)
			go func() {
				resp, err := http.Get("http://" + ln.Addr().String() + "/")
				if err != nil {
					body <- ""
					return
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				body <- string(b)
			}()
			<-started
			cancel()
			// The listener closes before the wait for in-flight requests begins.
			for deadline := time.Now().Add(time.Minute); ; {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					break
				}
				c.Close()
				if time.Now().After(deadline) {
					t.Fatal("the listener stayed open")
				}
				time.Sleep(time.Millisecond)
			}
			if sc.release {
				close(release)
			}
			if sc.force {
				close(force)
			}
			err = <-served
			if !errors.Is(err, sc.wantErr) || (sc.wantErr == nil && err != nil) {
				t.Fatalf("Serve = %v, want %v", err, sc.wantErr)
			}
			if got := <-body; got != sc.wantBody {
				t.Fatalf("response %q, want %q", got, sc.wantBody)
			}
			if !drained.Load() {
				t.Error("OnDrain was not called")
			}
			<-handled
			if sc.wantErr != nil && !cancelledCtx.Load() {
				t.Error("the cut-off request's context was not cancelled")
			}
		})
	}
}
