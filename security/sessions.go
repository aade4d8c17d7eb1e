package security

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// SessionMode is security.userSessionMode: what a new login does to the user's other
// sessions.
type SessionMode int

const (
	// Multiple allows any number of sessions per user (the default).
	Multiple SessionMode = iota
	// Displacing ends the user's other sessions when they log in again.
	Displacing
	// Singleton refuses a login while the user has a session
	// ("<<<ubErrAnotherSessionExists>>>").
	Singleton
)

// ParseSessionMode reads security.userSessionMode; "" is Multiple.
func ParseSessionMode(s string) (SessionMode, error) {
	switch s {
	case "", "Multiple":
		return Multiple, nil
	case "Displacing":
		return Displacing, nil
	case "Singleton":
		return Singleton, nil
	}
	return Multiple, fmt.Errorf("security.userSessionMode %q: want Multiple, Displacing or Singleton", s)
}

func (m SessionMode) String() string {
	return [...]string{"Multiple", "Displacing", "Singleton"}[m]
}

// StoredSession is a session as a SessionStore keeps it: who the user is (filled at login
// and not changed afterwards; role changes need a new login, as in UnityBase), how to
// verify its signatures, and its activity. It never holds the password, its hash or the
// session's private key.
type StoredSession struct {
	ID        int64 // 1..2^32-1: the signature carries it in 8 hex digits
	UserID    int64
	UserName  string
	Lang      string
	RoleIDs   []int64
	RoleNames []string
	GroupIDs  []int64
	UData     map[string]any

	// Key is the CRC-32 state after "<result><secret>" (see Sign): enough to verify a
	// signature, useless to log in.
	Key      uint32
	RemoteIP string // the address the session was created from

	CreatedAt  time.Time
	AccessedAt time.Time     // last accepted request; the session expires Timeout after it
	Timeout    time.Duration // idle timeout (sliding)

	// LastSign is the time (unix seconds, client clock) of the newest signature accepted;
	// 0 before the first signed request.
	LastSign int64
	// ClockDelta is the client's clock minus the server's in seconds, learned from the
	// first signed request.
	ClockDelta int64
	// PasswordExpired restricts the session to changePassword and logout.
	PasswordExpired bool
}

// Expired reports whether the session was idle longer than its timeout at now.
func (s *StoredSession) Expired(now time.Time) bool {
	return now.Sub(s.AccessedAt) > s.Timeout
}

// ErrDuplicateSessionID is returned by CreateSession when the ID is taken; the caller
// draws another.
var ErrDuplicateSessionID = errors.New("session ID is taken")

// SessionStore keeps sessions. Implementations are safe for concurrent use; several
// processes may share one (the PostgreSQL store), so every method reads the current state.
type SessionStore interface {
	// CreateSession adds s. With Singleton it fails with ErrAnotherSession when the user
	// has a session; with Displacing it ends the user's other sessions and returns their
	// IDs. The check and the insert are atomic.
	CreateSession(ctx context.Context, s *StoredSession, mode SessionMode) (ended []int64, err error)
	// Session returns the session id, or ErrNoSession.
	Session(ctx context.Context, id int64) (*StoredSession, error)
	// TouchSession records activity: the access time and the newest signature time and
	// clock delta. A touch of a session that no longer exists is not an error.
	TouchSession(ctx context.Context, id int64, accessed time.Time, lastSign, clockDelta int64) error
	// DeleteSession ends a session and reports whether it existed.
	DeleteSession(ctx context.Context, id int64) (bool, error)
	// DeleteUserSessions ends every session of a user except one (0: none) and returns the
	// IDs it ended.
	DeleteUserSessions(ctx context.Context, userID, except int64) ([]int64, error)
	// PurgeSessions ends the sessions expired at now and returns how many.
	PurgeSessions(ctx context.Context, now time.Time) (int, error)
	// CountSessions is the number of sessions (expired ones not yet purged included).
	CountSessions(ctx context.Context) (int, error)
	// CountUserSessions is the number of a user's sessions not expired at now.
	CountUserSessions(ctx context.Context, userID int64, now time.Time) (int, error)
}

// NonceStore supports the UB handshake: server nonces are stateless (an HMAC under a key
// shared by every process of the application), but each may be used once.
type NonceStore interface {
	// NonceKey returns the application's nonce key, creating it on first use. Every
	// process sharing the store gets the same key.
	NonceKey(ctx context.Context) ([]byte, error)
	// UseNonce marks nonce as used until expires and reports whether it was fresh.
	UseNonce(ctx context.Context, nonce string, expires time.Time) (bool, error)
}

// AttemptStore counts failed logins per login name and per client address for the
// lockout.
type AttemptStore interface {
	// AddFailure records a failed login at now and returns the number of consecutive
	// failures, this one included. Failures older than resetAfter no longer count.
	AddFailure(ctx context.Context, login string, now time.Time, resetAfter time.Duration) (int, error)
	// ClearFailures forgets the failures and any lock of a login (after a successful login).
	ClearFailures(ctx context.Context, login string) error
	// Lock locks a login until the given time.
	Lock(ctx context.Context, login string, until time.Time) error
	// LockedUntil is the end of a login's lock; the zero time when it is not locked.
	LockedUntil(ctx context.Context, login string) (time.Time, error)

	// AddIPFailure records a failed login from a client address at now. Failures count in
	// fixed windows of length period, each starting at its first failure; the limit-th
	// failure of a window locks the address until now+period and reports locked. Exactly
	// one call per lock reports it, also among processes sharing the store.
	AddIPFailure(ctx context.Context, ip string, now time.Time, limit int, period time.Duration) (locked bool, err error)
	// IPLockedUntil is the end of an address's lock; the zero time when it is not locked.
	IPLockedUntil(ctx context.Context, ip string) (time.Time, error)
}

// Backend is where the security state lives: sessions, used nonces and failed-login
// counters. NewMemoryBackend keeps them in the process; NewPostgresBackend in the
// application's PostgreSQL schema, shared by every process on that database.
type Backend interface {
	SessionStore
	NonceStore
	AttemptStore
	// PurgeState drops used nonces and failure counters that no longer matter at now.
	PurgeState(ctx context.Context, now time.Time) error
	io.Closer
}

// Limits of the in-memory backend: a flood of logins cannot grow it without bound.
const (
	// MaxMemoryNonces is how many used nonces the memory backend remembers; a nonce it
	// cannot remember is refused rather than risk accepting it twice.
	MaxMemoryNonces = 100_000
	// MaxMemoryFailures is how many logins with failures it tracks; beyond it, failures of
	// new logins are not counted (existing locks stay).
	MaxMemoryFailures = 100_000
	// MaxMemoryIPs is how many client addresses with failures it tracks; beyond it,
	// failures from new addresses are not counted (existing locks stay).
	MaxMemoryIPs = 100_000
)

// memoryBackend is the in-process Backend.
type memoryBackend struct {
	key []byte

	mu       sync.RWMutex
	sessions map[int64]*StoredSession
	byUser   map[int64]map[int64]struct{}

	stateMu  sync.Mutex
	nonces   map[string]time.Time
	failures map[string]*failure
	ips      map[string]*ipFailure
}

type failure struct {
	count  int
	last   time.Time
	locked time.Time
}

// ipFailure is the failure window of a client address.
type ipFailure struct {
	count  int
	start  time.Time // of the window
	period time.Duration
	locked time.Time
}

// stale reports whether the entry neither counts nor locks at now.
func (f *ipFailure) stale(now time.Time) bool {
	return !now.Before(f.start.Add(f.period)) && !now.Before(f.locked)
}

// NewMemoryBackend returns a Backend that keeps everything in this process: sessions end
// when it stops, and other processes do not see them.
func NewMemoryBackend() Backend {
	key := make([]byte, 32)
	rand.Read(key)
	return &memoryBackend{key: key, sessions: map[int64]*StoredSession{}, byUser: map[int64]map[int64]struct{}{},
		nonces: map[string]time.Time{}, failures: map[string]*failure{}, ips: map[string]*ipFailure{}}
}

func (m *memoryBackend) Close() error { return nil }

func (m *memoryBackend) CreateSession(_ context.Context, s *StoredSession, mode SessionMode) ([]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, taken := m.sessions[s.ID]; taken {
		return nil, ErrDuplicateSessionID
	}
	var ended []int64
	switch mode {
	case Singleton:
		for id := range m.byUser[s.UserID] {
			if !m.sessions[id].Expired(s.CreatedAt) {
				return nil, ErrAnotherSession
			}
		}
	case Displacing:
		for id := range m.byUser[s.UserID] {
			ended = append(ended, id)
			m.deleteLocked(id)
		}
		slices.Sort(ended)
	}
	cp := *s
	m.sessions[s.ID] = &cp
	if m.byUser[s.UserID] == nil {
		m.byUser[s.UserID] = map[int64]struct{}{}
	}
	m.byUser[s.UserID][s.ID] = struct{}{}
	return ended, nil
}

func (m *memoryBackend) Session(_ context.Context, id int64) (*StoredSession, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := m.sessions[id]
	if s == nil {
		return nil, ErrNoSession
	}
	cp := *s
	return &cp, nil
}

func (m *memoryBackend) TouchSession(_ context.Context, id int64, accessed time.Time, lastSign, clockDelta int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.sessions[id]; s != nil {
		if accessed.After(s.AccessedAt) {
			s.AccessedAt = accessed
		}
		if lastSign > s.LastSign {
			if s.LastSign == 0 {
				s.ClockDelta = clockDelta
			}
			s.LastSign = lastSign
		}
	}
	return nil
}

func (m *memoryBackend) DeleteSession(_ context.Context, id int64) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.deleteLocked(id), nil
}

func (m *memoryBackend) deleteLocked(id int64) bool {
	s := m.sessions[id]
	if s == nil {
		return false
	}
	delete(m.sessions, id)
	if u := m.byUser[s.UserID]; u != nil {
		delete(u, id)
		if len(u) == 0 {
			delete(m.byUser, s.UserID)
		}
	}
	return true
}

func (m *memoryBackend) DeleteUserSessions(_ context.Context, userID, except int64) ([]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ended []int64
	for id := range maps.Clone(m.byUser[userID]) {
		if id != except {
			m.deleteLocked(id)
			ended = append(ended, id)
		}
	}
	slices.Sort(ended)
	return ended, nil
}

func (m *memoryBackend) PurgeSessions(_ context.Context, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id, s := range m.sessions {
		if s.Expired(now) {
			m.deleteLocked(id)
			n++
		}
	}
	return n, nil
}

func (m *memoryBackend) CountSessions(context.Context) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.sessions), nil
}

func (m *memoryBackend) CountUserSessions(_ context.Context, userID int64, now time.Time) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n := 0
	for id := range m.byUser[userID] {
		if !m.sessions[id].Expired(now) {
			n++
		}
	}
	return n, nil
}

func (m *memoryBackend) NonceKey(context.Context) ([]byte, error) { return m.key, nil }

func (m *memoryBackend) UseNonce(_ context.Context, nonce string, expires time.Time) (bool, error) {
	m.stateMu.Lock()
	defer m.stateMu.Unlock()
	if _, used := m.nonces[nonce]; used {
		return false, nil
	}
	if len(m.nonces) >= MaxMemoryNonces {
		return false, errors.New("too many nonces in use")
	}
	m.nonces[nonce] = expires
	return true, nil
}

func (m *memoryBackend) AddFailure(_ context.Context, login string, now time.Time, resetAfter time.Duration) (int, error) {
	m.stateMu.Lock()
	defer m.stateMu.Unlock()
	f := m.failures[login]
	if f == nil {
		if len(m.failures) >= MaxMemoryFailures {
			m.dropStaleFailuresLocked(now, resetAfter)
			if len(m.failures) >= MaxMemoryFailures {
				return 1, nil
			}
		}
		f = &failure{}
		m.failures[login] = f
	}
	if resetAfter > 0 && now.Sub(f.last) > resetAfter {
		f.count = 0
	}
	f.count++
	f.last = now
	return f.count, nil
}

func (m *memoryBackend) dropStaleFailuresLocked(now time.Time, resetAfter time.Duration) {
	for k, f := range m.failures {
		if now.After(f.locked) && now.Sub(f.last) > resetAfter {
			delete(m.failures, k)
		}
	}
}

func (m *memoryBackend) ClearFailures(_ context.Context, login string) error {
	m.stateMu.Lock()
	defer m.stateMu.Unlock()
	delete(m.failures, login)
	return nil
}

func (m *memoryBackend) Lock(_ context.Context, login string, until time.Time) error {
	m.stateMu.Lock()
	defer m.stateMu.Unlock()
	f := m.failures[login]
	if f == nil {
		f = &failure{last: until}
		m.failures[login] = f
	}
	f.locked = until
	return nil
}

func (m *memoryBackend) LockedUntil(_ context.Context, login string) (time.Time, error) {
	m.stateMu.Lock()
	defer m.stateMu.Unlock()
	if f := m.failures[login]; f != nil {
		return f.locked, nil
	}
	return time.Time{}, nil
}

func (m *memoryBackend) AddIPFailure(_ context.Context, ip string, now time.Time, limit int, period time.Duration) (bool, error) {
	m.stateMu.Lock()
	defer m.stateMu.Unlock()
	f := m.ips[ip]
	if f == nil {
		if len(m.ips) >= MaxMemoryIPs {
			for k, f := range m.ips {
				if f.stale(now) {
					delete(m.ips, k)
				}
			}
			if len(m.ips) >= MaxMemoryIPs {
				return false, nil
			}
		}
		f = &ipFailure{}
		m.ips[ip] = f
	}
	if !now.Before(f.start.Add(f.period)) {
		f.count, f.start, f.period = 0, now, period
	}
	f.count++
	if f.count != limit {
		return false, nil
	}
	f.locked = now.Add(period)
	return true, nil
}

func (m *memoryBackend) IPLockedUntil(_ context.Context, ip string) (time.Time, error) {
	m.stateMu.Lock()
	defer m.stateMu.Unlock()
	if f := m.ips[ip]; f != nil {
		return f.locked, nil
	}
	return time.Time{}, nil
}

func (m *memoryBackend) PurgeState(_ context.Context, now time.Time) error {
	m.stateMu.Lock()
	defer m.stateMu.Unlock()
	for k, exp := range m.nonces {
		if now.After(exp) {
			delete(m.nonces, k)
		}
	}
	// A counter whose last failure is a day old has no effect on any lockout window
	// ubgo supports (lockOutTimeoutSec is far shorter); a lock stays until it ends.
	for k, f := range m.failures {
		if now.After(f.locked) && now.Sub(f.last) > 24*time.Hour {
			delete(m.failures, k)
		}
	}
	for k, f := range m.ips {
		if f.stale(now) {
			delete(m.ips, k)
		}
	}
	return nil
}

// normalizeLogin is the key of a login name everywhere: uba_user.name is lower case.
func normalizeLogin(s string) string { return strings.ToLower(s) }
