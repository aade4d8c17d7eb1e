package security

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ubgo/ubgo/config"
	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/store"
)

// Defaults of Options.
const (
	DefaultNonceTTL        = 5 * time.Minute
	DefaultRevalidateEvery = 30 * time.Second
	DefaultPurgeEvery      = time.Minute
	DefaultRefreshEvery    = time.Minute
	DefaultLockOut         = 300 * time.Second
	// BasicCacheSize bounds the cache of verified Basic credentials.
	BasicCacheSize = 10_000
)

// Options configure a Service. Config, Domain and Store are required.
type Options struct {
	Config *config.Config
	Domain *domain.Domain
	Store  *store.Store
	Logger *slog.Logger
	// Now is the clock; time.Now when nil. Lockout, nonce expiry, session expiry and the
	// signature window all read it.
	Now func() time.Time
	// Backend keeps sessions, used nonces and failure counters. nil means DefaultBackend,
	// which the Service then owns and closes. A Backend passed in belongs to the caller,
	// who may share it between Services (across configuration reloads, say: a memory
	// backend kept by the process keeps its sessions) and closes it after them.
	Backend Backend
	// ClientIP is the client address of a request; pass server.RemoteIP, which honours
	// security.trustedProxies. nil uses the peer address.
	ClientIP func(*http.Request) string
	// EndpointGrants are extra endpoint grants by role name (App.grantEndpointToRole,
	// jsvm.Program.EndpointGrants).
	EndpointGrants map[string][]string
	// Hooks are the login events; SetHooks replaces them later.
	Hooks Hooks
	// NonceTTL is how long a server nonce of the UB handshake is valid (5 minutes).
	NonceTTL time.Duration
	// RevalidateEvery is how often a session re-reads its user (uba_user.disabled, or the
	// user deleted) — the longest a disabled user's session outlives the change when it
	// is made by a plain update. 0 means DefaultRevalidateEvery; negative means every request.
	RevalidateEvery time.Duration
	// PurgeEvery is the period of the background purge of expired sessions, used nonces
	// and stale failure counters.
	PurgeEvery time.Duration
	// RefreshEvery is how often roles (allowedAppMethods, sessionTimeout) and Settings are
	// reloaded; Reload does it at once.
	RefreshEvery time.Duration
}

// Hooks let models take part in logins (the JS runtime binds them to Session.on('login'
// | 'loginFailed' | 'securityViolation' | 'logout')). They run on the request's
// goroutine; nil hooks are skipped.
type Hooks struct {
	// OnLogin runs after the credentials are verified and before the session exists; it
	// may add keys to ev.Session.UData (they reach the client). An error refuses the
	// login: the client gets it when it is a client error (*Error, or any error with a
	// <<<message>>>), "<<<Access deny>>>" otherwise.
	OnLogin func(ctx context.Context, ev *LoginEvent) error
	// OnLoginFailed runs after a failed login (Locked: the failure locked the account).
	OnLoginFailed func(ctx context.Context, ev LoginFailure)
	// OnSecurityViolation runs after a security violation.
	OnSecurityViolation func(ctx context.Context, ev Violation)
	// OnLogout runs after a session ended by /logout.
	OnLogout func(ctx context.Context, sess *store.Session)
}

// LoginEvent is a login about to succeed.
type LoginEvent struct {
	Session   *store.Session
	Method    string         // "UB" or "Basic"
	PrefUData map[string]any // the client's prefUData parameter, nil when absent
}

// LoginFailure is a refused login. UserName is what the client sent (it may not exist).
type LoginFailure struct {
	UserName string
	RemoteIP string
	Locked   bool
	Reason   string
}

// Violation is a security violation: a denied endpoint, a session used from another
// address, a wrong old password, ...
type Violation struct {
	Session  *store.Session // nil when there is no session
	UserName string
	RemoteIP string
	Reason   string
}

// Service authenticates requests and manages sessions, the UB handshake, lockout, the
// password policy and the security audit. It implements server.Authorizer (Authenticate),
// server.PublicAuthorizer (AuthenticatePublic), server.AuthService (Login, Logout,
// ChangePassword) and the server's EndpointAllowed hook. Safe for concurrent use.
type Service struct {
	cfg     *config.Config
	dom     *domain.Domain
	st      *store.Store
	log     *slog.Logger
	now     func() time.Time
	backend Backend
	// ownsBackend: New opened the backend, Close closes it.
	ownsBackend bool
	clientIP    func(*http.Request) string
	grants      map[string][]string
	hooks       atomic.Pointer[Hooks]

	nonceTTL, revalidateEvery, purgeEvery, refreshEvery, lockOut time.Duration
	lockOutInDB                                                  bool

	methods       map[string]bool // enabled authentication methods we implement
	anonymousMode bool            // no authentication methods, or no UBA model
	mode          SessionMode
	disabled      *regexp.Regexp
	appForAuth    string
	prefix        string // httpServer.path with slashes on both ends
	nonceKey      []byte
	dummyHash     string // the "stored hash" an unknown user is checked against

	roles     atomic.Pointer[roleSet]
	settings  atomic.Pointer[Settings]
	anonymous atomic.Pointer[store.Session]

	pending     *pendingNonces
	validatedMu sync.Mutex
	validated   map[int64]validation // session → when its user was last re-read
	userGen     uint64               // counts committed changes of uba_user
	basic       *basicCache
	ipLocks     *ipLockMemo

	stats struct {
		logins, failures, violations, logouts atomic.Int64
		ipLockouts, ipRefusals                atomic.Int64
	}

	stop    context.CancelFunc
	done    chan struct{}
	unwatch func()
}

// Authentication methods ubgo implements; others in security.authenticationMethods are
// logged and ignored.
var implemented = []string{"UB", "Basic"}

// New builds the Service: it reads the roles and settings, prepares the backend (creating
// the PostgreSQL tables when needed) and starts the background purge, which Close stops.
func New(ctx context.Context, opt Options) (*Service, error) {
	if opt.Config == nil || opt.Domain == nil || opt.Store == nil {
		return nil, errors.New("security: Config, Domain and Store are required")
	}
	s := &Service{cfg: opt.Config, dom: opt.Domain, st: opt.Store, log: opt.Logger, now: opt.Now,
		clientIP: opt.ClientIP, grants: opt.EndpointGrants, nonceTTL: opt.NonceTTL,
		revalidateEvery: opt.RevalidateEvery, purgeEvery: opt.PurgeEvery, refreshEvery: opt.RefreshEvery,
		methods: map[string]bool{}, validated: map[int64]validation{}, basic: newBasicCache(BasicCacheSize), pending: newPendingNonces(),
		ipLocks: newIPLockMemo()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.clientIP == nil {
		s.clientIP = peerIP
	}
	if s.nonceTTL <= 0 {
		s.nonceTTL = DefaultNonceTTL
	}
	switch {
	case s.revalidateEvery == 0:
		s.revalidateEvery = DefaultRevalidateEvery
	case s.revalidateEvery < 0:
		s.revalidateEvery = 0
	}
	if s.purgeEvery <= 0 {
		s.purgeEvery = DefaultPurgeEvery
	}
	if s.refreshEvery <= 0 {
		s.refreshEvery = DefaultRefreshEvery
	}
	hooks := opt.Hooks
	s.hooks.Store(&hooks)
	sec := s.cfg.Security
	s.lockOut, s.lockOutInDB = time.Duration(sec.LockOutTimeoutSec)*time.Second, sec.LockOutInDB
	if s.lockOut <= 0 {
		s.lockOut = DefaultLockOut
	}
	var err error
	if s.mode, err = ParseSessionMode(sec.UserSessionMode); err != nil {
		return nil, err
	}
	if sec.DisabledAccounts != "" {
		if s.disabled, err = regexp.Compile(sec.DisabledAccounts); err != nil {
			return nil, fmt.Errorf("security.disabledAccounts: %w", err)
		}
	}
	for _, m := range sec.AuthenticationMethods {
		if slices.Contains(implemented, m) {
			s.methods[m] = true
		} else {
			s.log.Warn("authentication method not supported by ubgo; ignored", "method", m)
		}
	}
	s.anonymousMode = len(sec.AuthenticationMethods) == 0 || s.dom.Entity("uba_user") == nil
	if s.anonymousMode {
		s.log.Warn("authentication is not used (security.authenticationMethods is empty or the UBA model is absent): every request runs as anonymous")
	} else if len(s.methods) == 0 {
		s.log.Warn("none of security.authenticationMethods is supported by ubgo: nobody can log in", "methods", sec.AuthenticationMethods)
	}
	s.appForAuth = AppForAuth(s.cfg.HTTPServer.Path)
	s.prefix = "/" + strings.Trim(s.cfg.HTTPServer.Path, "/") + "/"
	if s.prefix == "//" {
		s.prefix = "/"
	}
	dummy := make([]byte, 32)
	rand.Read(dummy)
	s.dummyHash = hex.EncodeToString(dummy)

	s.backend = opt.Backend
	if s.backend == nil {
		if s.backend, err = DefaultBackend(ctx, s.st, PostgresOptions{Logger: s.log}); err != nil {
			return nil, err
		}
		s.ownsBackend = true
	}
	fail := func(err error) (*Service, error) {
		if s.ownsBackend {
			s.backend.Close()
		}
		return nil, err
	}
	if s.nonceKey, err = s.backend.NonceKey(ctx); err != nil {
		return fail(err)
	}
	if err := s.Reload(ctx); err != nil {
		return fail(err)
	}
	// Changes committed to these entities, in this process or (PostgreSQL) in another:
	// a user changed (disabled, deleted) is re-read by their sessions on their next
	// request; roles and settings are reloaded.
	s.unwatch = s.st.OnCommit([]string{"uba_user", "uba_role", "ubs_settings"}, s.changed)
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.stop, s.done = cancel, make(chan struct{})
	go s.loop(loopCtx)
	return s, nil
}

// DefaultBackend is the PostgreSQL backend on the store's default connection when it is
// PostgreSQL, so that several processes on one database share sessions, else a new
// memory backend.
func DefaultBackend(ctx context.Context, st *store.Store, opt PostgresOptions) (Backend, error) {
	if c := st.Default(); c != nil && c.Dialect.Name() == "PostgreSQL" {
		return NewPostgresBackend(ctx, c.Write, opt)
	}
	return NewMemoryBackend(), nil
}

// SetHooks replaces the login hooks.
func (s *Service) SetHooks(h Hooks) { s.hooks.Store(&h) }

// Reload re-reads roles (their grants and timeouts), the anonymous session and the
// settings. The background loop calls it every Options.RefreshEvery; call it after
// changing uba_role or ubs_settings to apply the change at once in this process.
// Sessions keep the roles they were created with until the user logs in again.
func (s *Service) Reload(ctx context.Context) error {
	rs, err := s.loadRoles(ctx)
	if err != nil {
		return fmt.Errorf("security: load roles: %w", err)
	}
	s.roles.Store(rs)
	st, err := s.loadSettings(ctx)
	if err != nil {
		return fmt.Errorf("security: load settings: %w", err)
	}
	s.settings.Store(st)
	anon, err := s.buildAnonymous(ctx)
	if err != nil {
		return fmt.Errorf("security: anonymous session: %w", err)
	}
	s.anonymous.Store(anon)
	return nil
}

// Settings are the settings in effect.
func (s *Service) Settings() Settings { return *s.settings.Load() }

// AnonymousMode reports whether authentication is not used: every request runs as
// anonymous.
func (s *Service) AnonymousMode() bool { return s.anonymousMode }

// Close stops the background work and closes the backend when the Service opened it.
func (s *Service) Close() error {
	if s.stop == nil {
		return nil
	}
	s.unwatch()
	s.stop()
	<-s.done
	s.stop = nil
	if !s.ownsBackend {
		return nil
	}
	return s.backend.Close()
}

// changed is told which watched entities a committed transaction wrote.
func (s *Service) changed(ctx context.Context, entities []string) {
	for _, e := range entities {
		if e == "uba_user" {
			s.validatedMu.Lock()
			s.userGen++
			s.validatedMu.Unlock()
			s.basic.clear()
			break
		}
	}
	for _, e := range entities {
		if e == "uba_role" || e == "ubs_settings" {
			if err := s.Reload(ctx); err != nil {
				s.log.Warn("reload roles and settings after a change", "err", err)
			}
			return
		}
	}
}

// loop purges expired state and reloads roles and settings until ctx ends.
func (s *Service) loop(ctx context.Context) {
	defer close(s.done)
	purge := time.NewTicker(s.purgeEvery)
	defer purge.Stop()
	refresh := time.NewTicker(s.refreshEvery)
	defer refresh.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-purge.C:
			s.Purge(ctx)
		case <-refresh.C:
			if err := s.Reload(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("reload roles and settings", "err", err)
			}
		}
	}
}

// Purge ends expired sessions and drops used nonces and stale counters now; the
// background loop calls it every Options.PurgeEvery.
func (s *Service) Purge(ctx context.Context) {
	now := s.now()
	if n, err := s.backend.PurgeSessions(ctx, now); err != nil {
		if ctx.Err() == nil {
			s.log.Warn("purge expired sessions", "err", err)
		}
	} else if n > 0 {
		s.log.Debug("expired sessions purged", "count", n)
	}
	if err := s.backend.PurgeState(ctx, now); err != nil && ctx.Err() == nil {
		s.log.Warn("purge nonces and failure counters", "err", err)
	}
	s.validatedMu.Lock()
	for id, v := range s.validated {
		if now.Sub(v.at) > 2*s.revalidateEvery+time.Minute {
			delete(s.validated, id)
		}
	}
	s.validatedMu.Unlock()
	s.basic.purge(now)
	s.ipLocks.purge(now)
}

// Stats are the security figures for /stat: sessions_total (as UnityBase names it),
// security_exception_count (violations), and, since start, logins, failed logins (refusals
// of locked addresses included), logouts, the client addresses this process locked
// (login_ip_lockouts_total) and the logins it refused because their address was locked
// (login_ip_refusals_total).
func (s *Service) Stats() map[string]any {
	out := map[string]any{
		"logins_total":             s.stats.logins.Load(),
		"login_failures_total":     s.stats.failures.Load(),
		"logouts_total":            s.stats.logouts.Load(),
		"security_exception_count": s.stats.violations.Load(),
		"login_ip_lockouts_total":  s.stats.ipLockouts.Load(),
		"login_ip_refusals_total":  s.stats.ipRefusals.Load(),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if n, err := s.backend.CountSessions(ctx); err == nil {
		out["sessions_total"] = n
	}
	return out
}

// validation is when a session last re-read its user, and the uba_user change count then.
type validation struct {
	at  time.Time
	gen uint64
}

// peerIP is the address of the connection's other end.
func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// endpointOf is the endpoint a request goes to: the first path segment under httpServer.path.
func (s *Service) endpointOf(r *http.Request) string {
	p := strings.TrimPrefix(r.URL.Path, s.prefix)
	if p == r.URL.Path && s.prefix != "/" {
		return ""
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return name
}
