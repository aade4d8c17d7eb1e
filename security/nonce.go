package security

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"
)

// Server nonces of the UB handshake.
//
// A nonce is self-describing: hex(random[16] || expiry[8] || HMAC-SHA256(key, random ||
// expiry || login)[:16]), 80 hex digits. The first /auth answers it as "result" (the
// client hashes it into its password proof) and as "connectionID", which UnityBase
// clients (ub-pub, SyncConnection) send back with the second request. So issuing a nonce
// stores nothing: a flood of first requests costs neither memory nor database writes, and
// any process sharing the key (NonceStore.NonceKey) can finish a handshake another began.
// A nonce is bound to the login it was issued for and expires after Options.NonceTTL; the
// second request marks it used (NonceStore.UseNonce), so it works once.
//
// For clients that do not send connectionID back, each process also remembers the nonces
// it issued per login, in a bounded table (MaxPendingNonces, MaxPendingPerLogin; the
// oldest give way): such a client must finish its handshake on the process that began it.

const (
	nonceRandLen = 16
	nonceMACLen  = 16
	nonceLen     = 2 * (nonceRandLen + 8 + nonceMACLen)
	// MaxPendingNonces bounds the per-process table of issued nonces.
	MaxPendingNonces = 10_000
	// MaxPendingPerLogin bounds the nonces remembered per login.
	MaxPendingPerLogin = 8
)

// issueNonce makes a nonce for login valid until expires.
func issueNonce(key []byte, login string, expires time.Time) string {
	var b [nonceRandLen + 8 + nonceMACLen]byte
	rand.Read(b[:nonceRandLen])
	binary.BigEndian.PutUint64(b[nonceRandLen:], uint64(expires.Unix()))
	copy(b[nonceRandLen+8:], nonceMAC(key, b[:nonceRandLen+8], login))
	return hex.EncodeToString(b[:])
}

func nonceMAC(key, body []byte, login string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	m.Write([]byte(login))
	return m.Sum(nil)[:nonceMACLen]
}

// checkNonce reports whether nonce was issued under key for login, and when it expires.
func checkNonce(key []byte, login, nonce string) (time.Time, bool) {
	if len(nonce) != nonceLen {
		return time.Time{}, false
	}
	b, err := hex.DecodeString(nonce)
	if err != nil {
		return time.Time{}, false
	}
	body, mac := b[:nonceRandLen+8], b[nonceRandLen+8:]
	if !hmac.Equal(mac, nonceMAC(key, body, login)) {
		return time.Time{}, false
	}
	return time.Unix(int64(binary.BigEndian.Uint64(body[nonceRandLen:])), 0), true
}

// pendingNonces remembers issued nonces per login for clients that do not echo
// connectionID. Insertion order is expiry order (the TTL is fixed), so the queue's head
// is always the oldest.
type pendingNonces struct {
	mu      sync.Mutex
	byLogin map[string][]string
	queue   []pendingEntry
}

type pendingEntry struct {
	login, nonce string
	expires      time.Time
}

func newPendingNonces() *pendingNonces { return &pendingNonces{byLogin: map[string][]string{}} }

func (p *pendingNonces) add(login, nonce string, expires, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.queue) > 0 && (now.After(p.queue[0].expires) || len(p.queue) >= MaxPendingNonces) {
		p.removeLocked(p.queue[0].login, p.queue[0].nonce)
		p.queue = p.queue[1:]
	}
	list := p.byLogin[login]
	if len(list) >= MaxPendingPerLogin {
		list = list[1:]
	}
	p.byLogin[login] = append(list, nonce)
	p.queue = append(p.queue, pendingEntry{login, nonce, expires})
}

func (p *pendingNonces) removeLocked(login, nonce string) {
	list := p.byLogin[login]
	for i, n := range list {
		if n == nonce {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(p.byLogin, login)
	} else {
		p.byLogin[login] = list
	}
}

// of returns the nonces remembered for login, newest first.
func (p *pendingNonces) of(login string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.byLogin[login]
	out := make([]string, len(list))
	for i, n := range list {
		out[len(list)-1-i] = n
	}
	return out
}

func (p *pendingNonces) remove(login, nonce string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.removeLocked(login, nonce)
}
