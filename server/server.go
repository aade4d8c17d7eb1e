// Package server is ubgo's HTTP front. It owns the listener, the HTTP limits and timeouts,
// UnityBase's one-level endpoint table (/<endpoint>/<rest> under httpServer.path), the
// mapping of errors to {errCode, errMsg} bodies, and graceful shutdown.
//
// Every request passes the same front (middleware.go): a request id (X-Request-Id, taken
// from a trusted proxy or made up), one access log line (never bodies, never the
// Authorization header, secrets in the query redacted), counters for /stat, panic recovery,
// a 400 for paths with invalid UTF-8 or control characters, CORS from
// httpServer.allowCORSFrom, a body limit (413 before parsing), gzip for text bodies over
// 1 KB, and X-Content-Type-Options: nosniff.
//
// Built-in endpoints:
//
//	getAppInfo     application info for clients before login (ETag)
//	ready          200 while serving, 503 while draining (for load balancers)
//	timeStamp      server time in milliseconds since the epoch, as text
//	models         files of a model's public folder (/models/<Model>/<path>)
//	statics        files of httpServer.inetPub; also the default endpoint
//	allLocales     the models' client locales as one script or, with json=1, one object
//	getDomainInfo  the domain in UnityBase's v4 shape, captions in the request's language   (auth)
//	ubql, runList  a batch of UBQL items in one transaction through the Dispatcher        (auth)
//	               (one select item as CSV, HTML, XML rowset or ODS by Content-Type: formats.go)
//	stat           request counters and, through Options.Stats, pool figures              (auth)
//
// Files on disk are served through os.Root, so neither "..", nor an absolute path, nor a
// symlink can reach outside the model's public folder or inetPub; built-in models serve the
// public folder of their embedded files.
//
// Endpoints marked auth need a session from Options.Authorizer. Until the security layer
// provides one, they answer 401 — unless Options.DevAnonymousAdmin is set, which runs them
// as the admin user: for local development and tests only.
//
// MountJS adds rest/<entity>/<method> (auth) and the models' endpoints; a model's isDefault
// endpoint replaces statics for unknown first segments. uiSettings.adminUI.endpoint is a
// placeholder (ubgo bundles no admin UI): 404 with an explanation, and UnityBase's
// trailing-slash redirect; a folder of inetPub requested without its slash redirects to
// it with the slash. Other packages add endpoints with Handle.
package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/ubgo/ubgo/config"
	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/lifecycle"
	"github.com/ubgo/ubgo/store"
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

// DefaultMaxBodyBytes is the request body limit when Options.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 10 << 20

// Options adjust a Server. The zero value is a production server without a data layer and
// without authentication: endpoints that need a session answer 401.
type Options struct {
	// Dev sends the text of unexpected errors to clients, as UnityBase's -dev mode does.
	// Never in production: error texts may contain SQL and file paths.
	Dev bool
	// DevAnonymousAdmin runs every request to an endpoint that requires authorization as
	// the admin user, when no Authorizer is set. It exists for local development and tests
	// until the security layer provides sessions; New logs a warning when it is on.
	DevAnonymousAdmin bool
	// Authorizer finds the session of a request; nil until the security layer exists.
	Authorizer Authorizer
	// Auth answers /auth, /logout and /changePassword (auth_http.go); nil leaves them
	// unregistered.
	Auth AuthService
	// EndpointAllowed is asked, after authentication, whether the session may call an
	// endpoint that requires authorization (uba_role.allowedAppMethods); its error is the
	// answer (403, errCode 8). nil allows every endpoint.
	EndpointAllowed func(ctx context.Context, sess *store.Session, endpoint string) error
	// Dispatcher runs /ubql batches (a *store.Store, later the JS runtime wrapping it); nil
	// makes /ubql answer 501.
	Dispatcher Dispatcher
	// MaxBodyBytes caps request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MethodAllowed filters getDomainInfo: an entity is listed with the methods the session
	// may call, and omitted when it may call none. nil allows everything. The security
	// layer sets it to the ELS check.
	MethodAllowed func(sess *store.Session, entity, method string) bool
	// EntityMethods lists the methods of an entity for getDomainInfo. nil means the
	// mStorage methods of stored entities; the JS runtime will add custom methods.
	EntityMethods func(e *domain.Entity) []string
	// Stats adds figures to /stat (worker pool, sessions...). Called on every /stat request.
	Stats func() map[string]any
	// OnError receives the unhandled failures of requests: a panic, or a 500 whose error
	// is not a deliberate <<<...>>> message. It is called on the request's goroutine
	// after the error response is written and must not block (lifecycle.Hooks.Report
	// queues).
	OnError func(lifecycle.ErrorEvent)
}

// endpoint is one entry of the endpoint table.
type endpoint struct {
	h    http.Handler
	auth bool
}

// Server serves one application.
type Server struct {
	cfg      *config.Config
	dom      *domain.Domain
	log      *slog.Logger
	opt      Options
	prefix   string // httpServer.path with a trailing slash, e.g. "/" or "/app/"
	appInfo  []byte
	appETag  string
	draining atomic.Bool
	reqSeq   atomic.Int64
	ids      requestIDs
	proxies  proxies
	cors     corsPolicy
	msgs     *catalog
	stats    *stats

	mu        sync.RWMutex
	endpoints map[string]endpoint
	fallback  http.Handler // the default endpoint (statics, or a model's isDefault one), nil when there is none
	// fallbackName is the default endpoint's name (for the log); fallbackAuth whether it
	// requires authorization.
	fallbackName string
	fallbackAuth bool
	adminUIName  string // uiSettings.adminUI.endpoint while ubgo's placeholder serves it

	models  map[string]*publicFiles
	statics *publicFiles
	locales *locales
	// domainInfo is built on the first getDomainInfo request, not at startup: at 1,000
	// entities it costs ~0.2 s of CPU and 40 MB of garbage that a start (and every
	// reload) need not wait for.
	domainInfoOnce sync.Once
	domainInfo     *domainInfo
	domainInfoErr  error
	closers        []io.Closer
}

// New builds the server of a loaded application with the zero Options.
func New(cfg *config.Config, dom *domain.Domain, log *slog.Logger) (*Server, error) {
	return NewWithOptions(cfg, dom, log, Options{})
}

// NewWithOptions builds the server of a loaded application. It opens the models' public
// folders and inetPub; Close releases them.
func NewWithOptions(cfg *config.Config, dom *domain.Domain, log *slog.Logger, opt Options) (s *Server, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = DefaultMaxBodyBytes
	}
	s = &Server{cfg: cfg, dom: dom, log: log, opt: opt, prefix: normalizePrefix(cfg.HTTPServer.Path),
		ids: newRequestIDs(), stats: newStats(), endpoints: map[string]endpoint{}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.msgs, err = newCatalog(dom.Languages, dom.DefaultLang); err != nil {
		return nil, err
	}
	if s.proxies, err = newProxies(cfg.Security.TrustedProxies, cfg.HTTPServer.ReverseProxy.RemoteIPHeader); err != nil {
		return nil, err
	}
	s.cors = newCORS(cfg.HTTPServer.AllowCORSFrom)
	if err = s.buildAppInfo(); err != nil {
		return nil, err
	}
	if err = s.openModels(); err != nil {
		return nil, err
	}
	if err = s.openStatics(); err != nil {
		return nil, err
	}
	if s.locales, err = s.loadLocales(); err != nil {
		return nil, err
	}
	s.registerBuiltins()
	s.registerAuth()
	s.warnDev()
	return s, nil
}

func (s *Server) registerBuiltins() {
	s.Handle("getAppInfo", http.HandlerFunc(s.getAppInfo), false)
	s.Handle("ready", http.HandlerFunc(s.ready), false)
	s.Handle("timeStamp", http.HandlerFunc(s.timeStamp), false)
	s.Handle("models", http.HandlerFunc(s.serveModels), false)
	s.Handle("allLocales", http.HandlerFunc(s.serveLocales), false)
	s.Handle("getDomainInfo", http.HandlerFunc(s.serveDomainInfo), true)
	s.Handle("ubql", http.HandlerFunc(s.serveUBQLAnyFormat), true)
	s.Handle("runList", http.HandlerFunc(s.serveUBQLAnyFormat), true)
	s.Handle("stat", http.HandlerFunc(s.serveStat), true)
	if s.statics != nil {
		s.Handle("statics", http.HandlerFunc(s.serveStaticsDirs), false)
		s.fallback, s.fallbackName = http.HandlerFunc(s.serveStaticsDirs), "statics"
	}
	s.registerAdminUI()
}

// warnDev says loudly that the server runs with development shortcuts.
func (s *Server) warnDev() {
	if s.opt.Dev {
		s.log.Warn("DEV MODE: clients receive the text of internal errors; never run production like this")
	}
	switch {
	case s.opt.DevAnonymousAdmin && s.opt.Authorizer != nil:
		s.log.Warn("DevAnonymousAdmin is ignored: an Authorizer is configured")
	case s.opt.DevAnonymousAdmin:
		s.log.Warn("DEV ONLY: every request that needs authorization runs as the admin user (DevAnonymousAdmin); anyone who can reach this port owns the application")
		if s.cors.any {
			s.log.Warn("DEV ONLY: allowCORSFrom is \"*\" with DevAnonymousAdmin: any web page can act as admin")
		}
	}
}

func (s *Server) buildAppInfo() error {
	info := map[string]any{
		"appVersion":           version.Version,
		"serverVersion":        version.UBCompat,
		"defaultLang":          s.dom.DefaultLang,
		"simpleCertAuth":       s.cfg.Security.SimpleCertAuth,
		"authMethods":          nonNil(s.cfg.Security.AuthenticationMethods),
		"supportedLanguages":   s.dom.Languages,
		"supportedWSProtocols": []string{},
		"uiSettings":           s.cfg.Raw["uiSettings"],
	}
	body, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("encode getAppInfo: %w", err)
	}
	s.appInfo, s.appETag = body, etagOf(body)
	return nil
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

// etagOf is a strong ETag of a body: a short hash of its bytes.
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
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

// Handle adds an endpoint: requests whose first path segment under httpServer.path is name
// go to h, after authentication when authRequired. Inside h, Rest is the rest of the path
// and Session the caller. Like http.ServeMux.Handle it panics on a name that cannot be a
// path segment and on a name registered twice: both are programming errors.
func (s *Server) Handle(name string, h http.Handler, authRequired bool) {
	if !validEndpointName(name) {
		panic("server: invalid endpoint name " + strconv.Quote(name))
	}
	if h == nil {
		panic("server: nil handler for endpoint " + name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.endpoints[name]; dup {
		panic("server: endpoint " + name + " is registered twice")
	}
	s.endpoints[name] = endpoint{h: h, auth: authRequired}
}

func validEndpointName(name string) bool {
	if name == "" || name == "." || name == ".." || !utf8.ValidString(name) {
		return false
	}
	return strings.IndexFunc(name, func(r rune) bool { return r == '/' || r == '\\' || r < 0x20 || r == 0x7f }) < 0
}

func (s *Server) lookup(name string) (endpoint, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ep, ok := s.endpoints[name]
	return ep, ok
}

// ServeHTTP runs the front (see the package doc) and routes by the first path segment after
// httpServer.path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	seq := s.reqSeq.Add(1)
	ip, trusted := s.proxies.clientIP(r)
	st := &reqState{srv: s, seq: seq, ip: ip}
	if id := r.Header.Get("X-Request-Id"); trusted && validRequestID(id) {
		st.id = id
	} else {
		st.id = s.ids.make(seq)
	}
	h := w.Header()
	h.Set("X-Request-Id", st.id)
	h.Set("X-Content-Type-Options", "nosniff")
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	var in int64
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = countingBody{ReadCloser: r.Body, n: &in}
	}
	r = withState(r, st)
	s.stats.begin()
	defer func() {
		p := recover()
		if p != nil && p != http.ErrAbortHandler {
			s.handlePanic(p, rec, r, st)
		}
		s.stats.end()
		s.finish(r, st, rec, in, start)
		if p == http.ErrAbortHandler {
			panic(p)
		}
	}()
	if err := checkPath(r.URL.Path); err != nil {
		WriteErr(rec, r, err)
		return
	}
	if s.cors.handle(rec, r) {
		return
	}
	if err := limitBody(rec, r, s.opt.MaxBodyBytes); err != nil {
		WriteErr(rec, r, err)
		return
	}
	cw := newCompressWriter(rec, r)
	s.route(cw, r, st)
	if err := cw.Close(); err != nil {
		s.log.Debug("write response", "requestId", st.id, "err", err)
	}
}

// route finds the endpoint, authenticates when it requires it, and calls it. The empty
// path goes to application.rootHandler (an endpoint name or a file of inetPub); an unknown
// first segment goes to the default endpoint (statics) with the whole path.
func (s *Server) route(w http.ResponseWriter, r *http.Request, st *reqState) {
	p := r.URL.Path
	if !strings.HasPrefix(p+"/", s.prefix) {
		WriteErr(w, r, errStatus(http.StatusNotFound, "outside httpServer.path"))
		return
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(p, strings.TrimSuffix(s.prefix, "/")), "/")
	name, sub, _ := strings.Cut(rest, "/")
	if name == "" {
		name, sub, rest = s.cfg.Application.RootHandler, "", s.cfg.Application.RootHandler
	}
	ep, ok := s.lookup(name)
	switch {
	case ok:
		st.endpoint, st.rest = name, sub
	case s.fallback != nil:
		ep = endpoint{h: s.fallback, auth: s.fallbackAuth}
		st.endpoint, st.rest = s.fallbackName, rest
	default:
		WriteErr(w, r, errStatus(http.StatusNotFound, "no endpoint "+strconv.Quote(name)))
		return
	}
	if !s.authorize(w, r, st, ep.auth) {
		return
	}
	st.lang = s.requestLang(r, st.sess)
	ep.h.ServeHTTP(w, r)
}

// Run listens on ln and serves until ctx is cancelled, then drains: /ready turns 503, new
// connections are refused, and in-flight requests get up to ShutdownTimeout to finish (see
// Serve). The limits come from httpServer.timeouts (LimitsOf).
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	return Serve(ctx, ln, s, ServeOptions{Limits: LimitsOf(s.cfg.HTTPServer), Log: s.log, OnDrain: s.Drain})
}

// Close releases the folders New opened. Call it after Run returns; file endpoints fail
// afterwards.
func (s *Server) Close() error {
	var errs []error
	for _, c := range s.closers {
		errs = append(errs, c.Close())
	}
	s.closers = nil
	return errors.Join(errs...)
}
