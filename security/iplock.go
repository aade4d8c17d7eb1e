package security

import (
	"context"
	"sync"
	"time"
)

// The per-address lockout complements the per-login one against credential stuffing: one
// client trying many logins, a few passwords each, never locks any of them, but its
// failures add up on its address. ubgo.security.maxFailuresPerIP failed logins from one
// address (as Options.ClientIP resolves it) within ubgo.security.ipLockOutSec lock the
// address for ipLockOutSec. While it is locked, every password check from it (UB step 2,
// Basic, the old password of /changePassword) is refused with the answer of a wrong
// password, before the credentials are looked at, so that a locked client learns nothing
// from its guesses.

// ipLockMemoSize bounds the per-process memory of locked addresses.
const ipLockMemoSize = 10_000

// ipLockMemo remembers, per process, the addresses known to be locked and until when, so
// that a flood from a locked address is refused without a database round trip each, and
// so that cached Basic credentials (which skip the backend) are not served to one. Locks
// are only ever set, never lifted early, so a remembered lock is never wrong; a lock set
// by another process is learnt on the first attempt that reads the backend.
type ipLockMemo struct {
	mu    sync.Mutex
	until map[string]time.Time
}

func newIPLockMemo() *ipLockMemo { return &ipLockMemo{until: map[string]time.Time{}} }

// locked reports whether ip is remembered as locked at now.
func (m *ipLockMemo) locked(ip string, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return now.Before(m.until[ip])
}

// remember records that ip is locked until the given time.
func (m *ipLockMemo) remember(ip string, until time.Time, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.until[ip]; !ok && len(m.until) >= ipLockMemoSize {
		m.purgeLocked(now)
		if len(m.until) >= ipLockMemoSize {
			return // the backend still knows; this process asks it
		}
	}
	if until.After(m.until[ip]) {
		m.until[ip] = until
	}
}

func (m *ipLockMemo) purge(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.purgeLocked(now)
}

func (m *ipLockMemo) purgeLocked(now time.Time) {
	for ip, until := range m.until {
		if !now.Before(until) {
			delete(m.until, ip)
		}
	}
}

// ipLocked reports whether logins from ip are refused at now: the per-address lockout is
// on and the address is locked.
func (s *Service) ipLocked(ctx context.Context, ip string, now time.Time) (bool, error) {
	if !s.settings.Load().ipLockout() {
		return false, nil
	}
	if s.ipLocks.locked(ip, now) {
		return true, nil
	}
	until, err := s.backend.IPLockedUntil(ctx, ip)
	if err != nil {
		return false, err
	}
	if !now.Before(until) {
		return false, nil
	}
	s.ipLocks.remember(ip, until, now)
	return true, nil
}

// refuseLockedIP is the answer to a login from a locked address: a wrong password's. It
// is counted for /stat but neither audited nor reported to the hooks one by one (the
// lock itself was), so that a flood does not turn into a flood of audit rows.
func (s *Service) refuseLockedIP() *Error {
	s.stats.failures.Add(1)
	s.stats.ipRefusals.Add(1)
	return accessDeny(ErrAddressLocked, "the client address is locked after failed logins")
}

// countIPFailure counts a failed login from ip; the failure that reaches
// ubgo.security.maxFailuresPerIP locks the address, which is logged, counted and audited
// (LOGIN_LOCKED naming the address) once per lock, whichever process locked it. A
// successful login does not reset the count: stuffing finds valid passwords too, and
// its successes must not buy it more guesses. userName is the login that failed last.
func (s *Service) countIPFailure(ctx context.Context, userName, ip string, now time.Time) {
	set := s.settings.Load()
	if !set.ipLockout() {
		return
	}
	locked, err := s.backend.AddIPFailure(ctx, ip, now, set.MaxFailuresPerIP, set.IPLockOut)
	if err != nil {
		s.log.Warn("count a failed login of a client address", "err", err)
		return
	}
	if !locked {
		return
	}
	until := now.Add(set.IPLockOut)
	s.ipLocks.remember(ip, until, now)
	s.stats.ipLockouts.Add(1)
	s.log.Warn("client address locked after failed logins", "ip", ip, "failures", set.MaxFailuresPerIP,
		"lockedFor", set.IPLockOut.String())
	s.audit(ctx, auditEvent{action: ActionLoginLocked, actor: userName, ip: ip,
		details: map[string]any{"reason": "too many failed logins from the client address", "lockedIP": ip,
			"failures": set.MaxFailuresPerIP, "lockedUntil": until.UTC().Format(time.RFC3339)}})
}
