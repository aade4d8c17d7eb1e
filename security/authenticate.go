package security

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ubgo/ubgo/store"
)

// buildAnonymous is the session of requests without credentials: user anonymous (20) with
// the roles Everyone and Anonymous and whatever roles uba_userrole gives user 20.
func (s *Service) buildAnonymous(ctx context.Context) (*store.Session, error) {
	id, err := s.rbac(ctx, store.UserAnonymous, false)
	if err != nil {
		return nil, err
	}
	u := &userRecord{ID: store.UserAnonymous, Name: "anonymous"}
	return &store.Session{UserID: store.UserAnonymous, UserName: "anonymous", RoleIDs: id.RoleIDs,
		RoleNames: id.RoleNames, GroupIDs: id.GroupIDs, UData: s.userData(u, s.dom.DefaultLang, id)}, nil
}

// Anonymous returns a copy of the anonymous session with the request's address.
func (s *Service) Anonymous(r *http.Request) *store.Session {
	a := *s.anonymous.Load()
	a.RemoteIP = s.clientIP(r)
	return &a
}

// Authenticate returns the session of a request to an endpoint that requires
// authorization (server.Authorizer):
//
//   - in the anonymous mode, the anonymous session, whatever the request carries;
//   - "Authorization: UB <signature>" or ?session_signature=: the session the signature
//     names, after checking it (see verifySignature);
//   - "Authorization: Basic", when security.authenticationMethods lists Basic: the user,
//     after checking the password (lockout applies);
//   - otherwise a 401 (errCode 10).
//
// A session whose password has expired may only call changePassword and logout (403,
// errCode 72).
func (s *Service) Authenticate(r *http.Request) (*store.Session, error) {
	if s.anonymousMode {
		return s.Anonymous(r), nil
	}
	cr := credentialsOf(r)
	ip := s.clientIP(r)
	var (
		sess    *store.Session
		expired bool
		err     error
	)
	switch cr.kind {
	case credNone:
		return nil, needAuth(ErrNoCredentials, "the request carries no session signature")
	case credUB:
		sess, expired, err = s.bySignature(r.Context(), cr.signature, ip)
	case credBasic:
		if !s.methods["Basic"] {
			return nil, needAuth(ErrNoCredentials, "Basic authentication is not enabled")
		}
		sess, expired, err = s.byBasic(r.Context(), cr.user, cr.password, ip)
	default:
		return nil, needAuth(ErrBadSignature, "unknown or malformed Authorization header")
	}
	if err != nil {
		return nil, err
	}
	if expired {
		if ep := s.endpointOf(r); ep != "changePassword" && ep != "logout" {
			return nil, &Error{Status: http.StatusForbidden, Code: CodePasswordExpired, Msg: msgPasswordExpired,
				Err: ErrPasswordExpired, Reason: "the password has expired; only changePassword and logout are allowed"}
		}
	}
	return sess, nil
}

// AuthenticatePublic is the session of a request to an endpoint without authorization
// (server.PublicAuthorizer): the caller's when the request carries valid credentials
// (a model endpoint may then know who calls), the anonymous session otherwise. It never
// fails: bad credentials on a public endpoint just mean anonymous. /auth is anonymous
// here: Login checks its credentials, and checking them twice would count one failed
// AUTHTYPE=Basic login twice for the lockouts.
func (s *Service) AuthenticatePublic(r *http.Request) *store.Session {
	if s.anonymousMode || credentialsOf(r).kind == credNone || s.endpointOf(r) == "auth" {
		return s.Anonymous(r)
	}
	sess, err := s.Authenticate(r)
	if err != nil {
		return s.Anonymous(r)
	}
	return sess
}

// bySignature checks a UB signature and returns its session:
//
//   - the signature has the right form and names an existing session;
//   - the session is not idle longer than its timeout (sliding: every accepted request
//     restarts it);
//   - the CRC-32 verifies with the session's key (a signature of another session, or
//     tampered with, does not);
//   - the request comes from the address the session was created from, unless
//     security.skipCheckingCallerAndSessionIpEquality;
//   - the signature's time: on the session's first signed request within
//     Settings.ClockSkew of the server clock, which fixes the session's clock delta (the
//     client's clock minus the server's); afterwards within Settings.SignatureWindow of
//     the server clock shifted by that delta, and not older than the newest time the
//     session accepted by more than Settings.ReplayTolerance. Requests in flight may
//     overtake each other and several requests share a second, so equal and slightly
//     older times are legal: a signature replayed within the tolerance is accepted,
//     anything older is refused.
//   - the user is still enabled (re-read every Options.RevalidateEvery).
//
// The CRC-32 of UnityBase's protocol is not a cryptographic MAC: anyone who sees one
// signature and its time can compute others for the same session. Serve over TLS.
func (s *Service) bySignature(ctx context.Context, raw string, ip string) (*store.Session, bool, error) {
	sig, ok := parseSignature(raw)
	if !ok {
		return nil, false, needAuth(ErrBadSignature, "malformed signature")
	}
	rec, err := s.backend.Session(ctx, int64(sig.session))
	if errors.Is(err, ErrNoSession) {
		return nil, false, needAuth(ErrNoSession, "no such session")
	}
	if err != nil {
		return nil, false, err
	}
	now := s.now()
	if rec.Expired(now) {
		s.endSession(ctx, rec.ID)
		return nil, false, needAuth(ErrSessionExpired, "the session expired")
	}
	if !sig.verify(rec.Key) {
		return nil, false, needAuth(ErrBadSignature, "the signature does not verify")
	}
	if !s.cfg.Security.SkipCheckingCallerAndSessionIPEquality && rec.RemoteIP != ip {
		sess := rec.session(ip)
		s.violation(ctx, sess, rec.UserName, ip, "session created from "+rec.RemoteIP+" used from "+ip)
		return nil, false, needAuth(ErrForeignAddress, "the session is bound to another address")
	}
	set := s.settings.Load()
	nowSec := now.Unix()
	delta := rec.ClockDelta
	if rec.LastSign == 0 {
		delta = sig.time - nowSec
		if abs(delta) > int64(set.ClockSkew/time.Second) {
			return nil, false, needAuth(ErrStaleSignature, "the client clock is too far from the server's")
		}
	} else {
		if abs(sig.time-(nowSec+delta)) > int64(set.SignatureWindow/time.Second) {
			return nil, false, needAuth(ErrStaleSignature, "the signature is outside the time window")
		}
		if sig.time < rec.LastSign-int64(set.ReplayTolerance/time.Second) {
			return nil, false, needAuth(ErrStaleSignature, "the signature is older than the session's last request")
		}
	}
	if err := s.revalidate(ctx, rec, now); err != nil {
		return nil, false, err
	}
	if sig.time > rec.LastSign || now.Sub(rec.AccessedAt) >= time.Second {
		if err := s.backend.TouchSession(ctx, rec.ID, now, max(sig.time, rec.LastSign), delta); err != nil {
			return nil, false, err
		}
	}
	return rec.session(ip), rec.PasswordExpired, nil
}

// session is the store.Session of a stored session for a request from ip.
func (rec *StoredSession) session(ip string) *store.Session {
	return &store.Session{ID: rec.ID, UserID: rec.UserID, UserName: rec.UserName, Lang: rec.Lang, RemoteIP: ip,
		RoleIDs: rec.RoleIDs, RoleNames: rec.RoleNames, GroupIDs: rec.GroupIDs, UData: rec.UData}
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// revalidate re-reads the session's user when this process has not yet, when it was last
// read more than RevalidateEvery ago, or before uba_user last changed (store.OnCommit tells, also about
// other processes on PostgreSQL), and ends the session when the user is gone or disabled.
func (s *Service) revalidate(ctx context.Context, rec *StoredSession, now time.Time) error {
	s.validatedMu.Lock()
	// A session this process has not checked yet (made by another process, or before a
	// restart) is checked now.
	v, seen := s.validated[rec.ID]
	due := !seen || now.Sub(v.at) >= s.revalidateEvery || v.gen != s.userGen
	if due {
		s.validated[rec.ID] = validation{at: now, gen: s.userGen}
	}
	s.validatedMu.Unlock()
	if !due {
		return nil
	}
	u, err := s.userByID(ctx, rec.UserID)
	if err != nil {
		return err
	}
	if u == nil || u.Disabled {
		s.endSession(ctx, rec.ID)
		return needAuth(ErrDisabled, "the user was disabled or deleted")
	}
	return nil
}

// endSession deletes a session from the store and the caches.
func (s *Service) endSession(ctx context.Context, id int64) {
	if _, err := s.backend.DeleteSession(ctx, id); err != nil {
		s.log.Warn("end session", "session", id, "err", err)
	}
	s.forget(id)
}

func (s *Service) forget(ids ...int64) {
	s.validatedMu.Lock()
	for _, id := range ids {
		delete(s.validated, id)
	}
	s.validatedMu.Unlock()
}

// EndUserSessions ends every session of a user (App.removeUserSessions) and returns how
// many it ended. Disabling a user through the lockout calls it; a user disabled by an
// update loses their sessions within Options.RevalidateEvery, or at once when the code
// that disables calls this.
func (s *Service) EndUserSessions(ctx context.Context, userID int64) (int, error) {
	ids, err := s.backend.DeleteUserSessions(ctx, userID, 0)
	s.forget(ids...)
	s.basic.forgetUser(userID)
	return len(ids), err
}

// UserSessionCount is the number of a user's live sessions (App.getUserSessionsCount).
func (s *Service) UserSessionCount(ctx context.Context, userID int64) (int, error) {
	return s.backend.CountUserSessions(ctx, userID, s.now())
}

// byBasic authenticates "Authorization: Basic". Verified credentials are remembered for
// RevalidateEvery (keyed by a hash of login and password, never the password), so that a
// client sending them on every request costs a map lookup, not a login.
func (s *Service) byBasic(ctx context.Context, user, password, ip string) (*store.Session, bool, error) {
	key := basicKey(user, password)
	now := s.now()
	// Remembered credentials are not served to a locked address: it goes through
	// verifyPassword, which refuses it.
	if e := s.basic.get(key, now); e != nil && !s.ipLocks.locked(ip, now) {
		sess := *e.sess
		sess.RemoteIP = ip
		return &sess, e.expired, nil
	}
	res, err := s.verifyPassword(ctx, user, ip, func(u *userRecord) bool {
		return subtle.ConstantTimeCompare([]byte(store.PasswordHash(password)), []byte(strings.ToLower(u.Hash))) == 1
	})
	var se *Error
	if errors.As(err, &se) && se.Msg == msgAccessDeny {
		// Per-request credentials that do not check out are HTTP's 401, as for a bad
		// signature; the cause (and the audit) are those of a failed login.
		return nil, false, needAuth(se.Err, se.Reason)
	}
	if err != nil {
		return nil, false, err
	}
	sess, err := s.openSession(ctx, res, "Basic", nil, ip)
	if err != nil {
		return nil, false, err
	}
	s.loggedIn(ctx, sess, "Basic")
	s.basic.put(key, &basicEntry{sess: sess, expired: res.expired, until: now.Add(max(s.revalidateEvery, time.Second))})
	return sess, res.expired, nil
}

func basicKey(user, password string) string {
	h := sha256.Sum256([]byte(normalizeLogin(user) + "\x00" + password))
	return hex.EncodeToString(h[:])
}

// basicCache remembers verified Basic credentials for a short time.
type basicCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]*basicEntry
}

type basicEntry struct {
	sess    *store.Session
	expired bool
	until   time.Time
}

func newBasicCache(n int) *basicCache { return &basicCache{max: n, entries: map[string]*basicEntry{}} }

func (c *basicCache) get(key string, now time.Time) *basicEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	if e == nil || now.After(e.until) {
		return nil
	}
	return e
}

func (c *basicCache) put(key string, e *basicEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		clear(c.entries) // rare; the next requests verify again
	}
	c.entries[key] = e
}

func (c *basicCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
}

func (c *basicCache) purge(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if now.After(e.until) {
			delete(c.entries, k)
		}
	}
}

func (c *basicCache) forgetUser(userID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.sess.UserID == userID {
			delete(c.entries, k)
		}
	}
}
