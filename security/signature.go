package security

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/crc32"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The UB protocol in formulas (reference §6.5.1). These helpers are what a Go client (or a
// test) needs to log in to ubgo or to UnityBase; the server uses the same code.

// AppForAuth is the application name that goes into the UB password proof: "/" when
// httpServer.path is "/" (or empty), else the path without its slashes, lower-cased.
func AppForAuth(httpPath string) string {
	s := strings.ToLower(strings.ReplaceAll(httpPath, "/", ""))
	if s == "" {
		return "/"
	}
	return s
}

// PasswordProof is the password parameter of the second /auth request:
// hex(SHA-256(appForAuth + serverNonce + clientNonce + userName + pwdHash)), where pwdHash
// is uba_user.uPasswordHashHexa (store.PasswordHash of the password; an apiKey client
// sends the stored hash itself).
func PasswordProof(appForAuth, serverNonce, clientNonce, userName, pwdHash string) string {
	h := sha256.New()
	for _, s := range [...]string{appForAuth, serverNonce, clientNonce, userName, pwdHash} {
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Sign is the signature of a request made at t in the session whose /auth result is result
// ("<sessionID>+<key>") with the client's secret word (the password hash for UB):
// hexa8(sessionID) + hexa8(unix seconds) + hexa8(crc32(result + secret + hexaTime)).
// It is sent as "Authorization: UB <signature>" or as ?session_signature=.
func Sign(result, secret string, t time.Time) string {
	id, _, _ := strings.Cut(result, "+")
	n, _ := strconv.ParseUint(id, 10, 32)
	ht := hexa8(uint32(t.Unix()))
	return hexa8(uint32(n)) + ht + hexa8(crc32.ChecksumIEEE([]byte(result+secret+ht)))
}

// signingKey is what the server keeps to verify a session's signatures: the CRC-32 state
// after result + secret. CRC-32 can be continued, so crc32(result + secret + hexaTime) is
// crc32.Update(key, hexaTime) and the session store never holds the secret, which for UB
// is the password hash.
func signingKey(result, secret string) uint32 {
	return crc32.ChecksumIEEE([]byte(result + secret))
}

// hexa8 is n in lower-case hex, left-padded with zeros to 8 characters.
func hexa8(n uint32) string {
	const digits = "0123456789abcdef"
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = digits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}

// signature is a parsed request signature.
type signature struct {
	session uint32
	time    int64  // unix seconds
	hexTime string // the time part as sent, which the CRC covers
	crc     uint32
}

// parseSignature parses the 24 hex digits of a signature.
func parseSignature(s string) (signature, bool) {
	if len(s) != 24 {
		return signature{}, false
	}
	var parts [3]uint32
	for i := range parts {
		v, err := strconv.ParseUint(s[i*8:i*8+8], 16, 32)
		if err != nil {
			return signature{}, false
		}
		parts[i] = uint32(v)
	}
	if parts[0] == 0 {
		return signature{}, false
	}
	return signature{session: parts[0], time: int64(parts[1]), hexTime: s[8:16], crc: parts[2]}, true
}

// verify reports whether the signature was made with key.
func (sig signature) verify(key uint32) bool {
	return crc32.Update(key, crc32.IEEETable, []byte(sig.hexTime)) == sig.crc
}

// credentials are what a request presents.
type credentials struct {
	kind      int // credNone, credUB, credBasic, credMalformed
	signature string
	user      string
	password  string
}

const (
	credNone = iota
	credUB
	credBasic
	credMalformed
)

// credentialsOf reads the credentials of a request: "Authorization: UB <signature>",
// "Authorization: Basic ...", or ?session_signature= (any case of the name, as
// WebSocket clients send SESSION_SIGNATURE). The query is parsed only without a header.
func credentialsOf(r *http.Request) credentials {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
		rest = strings.TrimSpace(rest)
		switch {
		case strings.EqualFold(scheme, "UB"):
			return credentials{kind: credUB, signature: rest}
		case strings.EqualFold(scheme, "Basic"):
			if u, p, ok := r.BasicAuth(); ok {
				return credentials{kind: credBasic, user: u, password: p}
			}
			return credentials{kind: credMalformed}
		}
		return credentials{kind: credMalformed}
	}
	if raw := r.URL.RawQuery; raw != "" && strings.Contains(strings.ToLower(raw), "session_signature=") {
		for k, v := range r.URL.Query() {
			if strings.EqualFold(k, "session_signature") && len(v) == 1 {
				return credentials{kind: credUB, signature: v[0]}
			}
		}
		return credentials{kind: credMalformed}
	}
	return credentials{kind: credNone}
}
