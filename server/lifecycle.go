package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ubgo/ubgo/config"
	"github.com/ubgo/ubgo/lifecycle"
)

// Limits are the limits and timeouts of the HTTP connections.
type Limits struct {
	MaxHeaderBytes    int
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
}

// DefaultLimits are the limits without configuration.
var DefaultLimits = Limits{MaxHeaderBytes: MaxHeaderBytes, ReadHeaderTimeout: ReadHeaderTimeout,
	ReadTimeout: ReadTimeout, WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout}

// LimitsOf returns DefaultLimits adjusted by httpServer.timeouts (seconds; a missing or
// zero key keeps the default). UnityBase's keys are those of the Windows HTTP server API;
// ubgo maps what net/http can honour:
//
//	headerWait      the time to receive the request headers (ReadHeaderTimeout)
//	entityBody      the time to receive the body once the headers are in: ReadTimeout
//	                is headerWait + entityBody
//	idleConnection  how long a keep-alive connection may stay idle (IdleTimeout)
//
// requestQueue (how long a request may wait for a worker) is the worker pool's wait, set
// by whoever builds the pool. drainEntityBody and minSendRate have no net/http
// counterpart and are ignored; the write timeout stays WriteTimeout.
func LimitsOf(hs config.HTTPServer) Limits {
	l := DefaultLimits
	t := hs.Timeouts
	if t.HeaderWait > 0 {
		l.ReadHeaderTimeout = seconds(t.HeaderWait)
	}
	if t.EntityBody > 0 {
		l.ReadTimeout = l.ReadHeaderTimeout + seconds(t.EntityBody)
	} else if l.ReadTimeout < l.ReadHeaderTimeout {
		l.ReadTimeout = l.ReadHeaderTimeout
	}
	if t.IdleConnection > 0 {
		l.IdleTimeout = seconds(t.IdleConnection)
	}
	return l
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// ServeOptions adjust Serve.
type ServeOptions struct {
	Limits Limits // zero value: DefaultLimits
	Log    *slog.Logger
	// ShutdownTimeout bounds the wait for in-flight requests once ctx ends; 0 means
	// ShutdownTimeout.
	ShutdownTimeout time.Duration
	// DrainDelay keeps accepting connections this long after ctx ends, while /ready
	// answers 503, so that a load balancer stops sending traffic before the listener
	// closes. 0 closes the listener at once.
	DrainDelay time.Duration
	// OnDrain is called once when ctx ends, before the listener closes: the place to make
	// /ready answer 503 (Server.Drain).
	OnDrain func()
	// Force, when it is closed, cuts the shutdown short: the connections still open are
	// closed at once and the contexts of their requests are cancelled.
	Force <-chan struct{}
}

// Errors of Serve's shutdown.
var (
	// ErrShutdownTimeout: requests were still running at the shutdown deadline; their
	// connections were closed and their contexts cancelled.
	ErrShutdownTimeout = errors.New("in-flight requests did not finish before the shutdown deadline")
	// ErrForced: the shutdown was forced (ServeOptions.Force) before in-flight requests
	// finished.
	ErrForced = errors.New("shutdown forced before in-flight requests finished")
)

// Serve serves h on ln until ctx ends, then shuts down gracefully: OnDrain, DrainDelay,
// the listener closes (new connections are refused), idle keep-alive connections close,
// and in-flight requests get up to ShutdownTimeout to finish. Requests still running at
// the deadline, or when Force closes, have their connections closed and their contexts
// cancelled (which interrupts their JavaScript and their database calls); Serve then
// returns ErrShutdownTimeout or ErrForced. It returns nil after a clean shutdown.
//
// Serve returns when the HTTP connections are done; handlers cut off by the deadline may
// still be unwinding, and the caller that owns their resources waits for them.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, o ServeOptions) error {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lim := o.Limits
	if lim == (Limits{}) {
		lim = DefaultLimits
	}
	// Request contexts derive from base: cancelling it reaches every handler still
	// running when the shutdown gives up on them.
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	hs := &http.Server{
		Handler:           h,
		MaxHeaderBytes:    lim.MaxHeaderBytes,
		ReadHeaderTimeout: lim.ReadHeaderTimeout,
		ReadTimeout:       lim.ReadTimeout,
		WriteTimeout:      lim.WriteTimeout,
		IdleTimeout:       lim.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if o.OnDrain != nil {
		o.OnDrain()
	}
	forced := func() bool {
		select {
		case <-o.Force: // a nil channel never fires
			return true
		default:
			return false
		}
	}
	if o.DrainDelay > 0 {
		log.Info("draining: /ready answers 503; still accepting connections", "delay", o.DrainDelay)
		t := time.NewTimer(o.DrainDelay)
		select {
		case <-t.C:
		case <-o.Force:
		}
		t.Stop()
	}
	timeout := o.ShutdownTimeout
	if timeout <= 0 {
		timeout = ShutdownTimeout
	}
	log.Info("shutting down: no new connections; waiting for in-flight requests", "timeout", timeout)
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if o.Force != nil {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			select {
			case <-o.Force:
				cancel()
			case <-stop:
			}
		}()
	}
	var result error
	if err := hs.Shutdown(sctx); err != nil {
		cancelBase()
		hs.Close()
		if forced() {
			result = ErrForced
		} else {
			result = fmt.Errorf("%w (%s)", ErrShutdownTimeout, timeout)
		}
		log.Warn("requests cut off by the shutdown", "err", result)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return errors.Join(result, err)
	}
	return result
}

// Drain makes /ready answer 503 from now on: the server is going away (a shutdown, or a
// newer generation of the application replaced it).
func (s *Server) Drain() { s.draining.Store(true) }

// reportError hands an unhandled failure of a request to Options.OnError.
func (st *reqState) reportError(r *http.Request, source string, status int, err error) {
	if st.srv == nil || st.srv.opt.OnError == nil {
		return
	}
	req := &lifecycle.Request{ID: st.id, Method: r.Method, Path: r.URL.Path, RemoteIP: st.ip, Status: status}
	if st.sess != nil {
		req.User = st.sess.UserName
	}
	st.srv.opt.OnError(lifecycle.ErrorEvent{Source: source, Err: err, Request: req, Time: time.Now()})
}
