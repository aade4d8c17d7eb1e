// Package server is ubgo's HTTP front: it owns the listener, the HTTP limits and timeouts,
// the one-level endpoint table of UnityBase (/<endpoint>/<rest> under httpServer.path), the
// mapping of errors to {errCode, errMsg} bodies, and graceful shutdown.
//
// This first version serves the endpoints that need neither storage nor sessions:
// getAppInfo and a readiness probe for load balancers. Every other first path segment is an
// unknown endpoint (404). The endpoint table is where ubql, auth and model endpoints attach.
package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ubgo/ubgo/config"
	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/version"
)

// Limits applied to every connection; slow or oversized clients are cut off before they can
// hold a worker.
const (
	MaxHeaderBytes    = 64 << 10
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 60 * time.Second
	WriteTimeout      = 120 * time.Second
	IdleTimeout       = 120 * time.Second
	ShutdownTimeout   = 15 * time.Second
)

// Server serves one application.
type Server struct {
	cfg      *config.Config
	dom      *domain.Domain
	log      *slog.Logger
	prefix   string // httpServer.path with a trailing slash, e.g. "/" or "/app/"
	appInfo  []byte
	appETag  string
	draining atomic.Bool
	reqSeq   atomic.Uint64
	mux      map[string]http.HandlerFunc
}

// New builds the server of a loaded application.
func New(cfg *config.Config, dom *domain.Domain, log *slog.Logger) (*Server, error) {
	s := &Server{cfg: cfg, dom: dom, log: log, prefix: normalizePrefix(cfg.HTTPServer.Path)}
	info := map[string]any{
		"appVersion":           version.Version,
		"serverVersion":        version.UBCompat,
		"defaultLang":          dom.DefaultLang,
		"simpleCertAuth":       cfg.Security.SimpleCertAuth,
		"authMethods":          nonNil(cfg.Security.AuthenticationMethods),
		"supportedLanguages":   dom.Languages,
		"supportedWSProtocols": []string{},
		"uiSettings":           cfg.Raw["uiSettings"],
	}
	body, err := json.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("encode getAppInfo: %w", err)
	}
	sum := sha256.Sum256(body)
	s.appInfo, s.appETag = body, `"`+hex.EncodeToString(sum[:8])+`"`
	s.mux = map[string]http.HandlerFunc{
		"getAppInfo": s.getAppInfo,
		"ready":      s.ready,
	}
	return s, nil
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

func normalizePrefix(p string) string {
	p = "/" + strings.Trim(p, "/")
	if p != "/" {
		p += "/"
	}
	return p
}

// Addr is the listen address from httpServer.host and port ("+" and "*" mean every interface).
func Addr(hs config.HTTPServer) string {
	host := hs.Host
	if host == "+" || host == "*" {
		host = ""
	}
	port := string(hs.Port)
	if port == "" {
		port = "8881"
	}
	return net.JoinHostPort(host, port)
}

// ServeHTTP routes by the first path segment after httpServer.path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := fmt.Sprintf("%x-%d", start.UnixNano()&0xffffff, s.reqSeq.Add(1))
	w.Header().Set("X-Request-Id", id)
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("handler panic", "requestId", id, "panic", p)
			writeError(rec, http.StatusInternalServerError, 1, "Internal Server Error")
		}
		s.log.Info("http", "requestId", id, "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"bytes", rec.bytes, "duration", time.Since(start), "remote", r.RemoteAddr)
	}()
	if !strings.HasPrefix(r.URL.Path+"/", s.prefix) {
		writeError(rec, http.StatusNotFound, 15, "Not Found")
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, strings.TrimSuffix(s.prefix, "/"))
	rest = strings.TrimPrefix(rest, "/")
	endpoint, _, _ := strings.Cut(rest, "/")
	h, ok := s.mux[endpoint]
	if !ok {
		writeError(rec, http.StatusNotFound, 15, "Not Found")
		return
	}
	h(rec, r)
}

func (s *Server) getAppInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, 1, "Method Not Allowed")
		return
	}
	w.Header().Set("ETag", s.appETag)
	if r.Header.Get("If-None-Match") == s.appETag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(s.appInfo)
}

// ready answers load balancers: 200 while the server accepts work, 503 once it drains.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"status":"draining"}`))
		return
	}
	w.Write([]byte(`{"status":"ready"}`))
}

// writeError writes UnityBase's error body. Messages are fixed texts, never internals.
func writeError(w http.ResponseWriter, status, code int, msg string) {
	body, _ := json.Marshal(map[string]any{"success": false, "errCode": code, "errMsg": msg})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// Run listens on ln and serves until ctx is cancelled, then drains: /ready turns 503, new
// connections are refused, and in-flight requests get up to ShutdownTimeout to finish.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		MaxHeaderBytes:    MaxHeaderBytes,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.log.Info("shutting down", "timeout", ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
