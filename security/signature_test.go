package security

import (
	"hash/crc32"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ubgo/ubgo/store"
)

// The test vectors of reference §6.5.1: login admin, password admin, application "/".
const (
	vecPwdHash     = "2bb7998496899acdd8137fad3a44faf96a84a03d7f230ce42e97cd17c7ae429e"
	vecServerNonce = "c0a94994a9baaf5f6f071a13c6b5f7c4f8219e1ba514d9f0b81df57cc4b4b81f"
	vecClientNonce = "ffac6401331cce72e82ecfa8dd40c8cb4456098000392da2bac8c41d19b57467"
	vecProof       = "5f2fe9671054e57908ac06983764308c8e28709a0fe4936bdba8c4580d7d9fc4"
	vecResult      = "537445910+634e82b0aa70c0ec67395d59935f1cec36c14cedc4cc824049e175109987d1c6"
	vecUnixTime    = 1665500000
	vecSignature   = "2008c61663458360ed721c49"
)

func TestUBVectors(t *testing.T) {
	if got := store.PasswordHash("admin"); got != vecPwdHash {
		t.Errorf("password hash %s, want %s", got, vecPwdHash)
	}
	if got := PasswordProof(AppForAuth("/"), vecServerNonce, vecClientNonce, "admin", vecPwdHash); got != vecProof {
		t.Errorf("password proof %s, want %s", got, vecProof)
	}
	at := time.Unix(vecUnixTime, 0)
	if got := Sign(vecResult, vecPwdHash, at); got != vecSignature {
		t.Errorf("signature %s, want %s", got, vecSignature)
	}
	// The server verifies it with the key it keeps instead of the secret.
	sig, ok := parseSignature(vecSignature)
	if !ok || sig.session != 537445910 || sig.time != vecUnixTime || sig.hexTime != "63458360" {
		t.Fatalf("parse: %+v %v", sig, ok)
	}
	if !sig.verify(signingKey(vecResult, vecPwdHash)) {
		t.Error("the vector signature does not verify")
	}
	if sig.verify(signingKey(vecResult, store.PasswordHash("other"))) {
		t.Error("a signature verifies with another secret")
	}
	// crc32('тест') from UnityBase's tutorial: the CRC is the IEEE one over UTF-8 bytes.
	if crc32.ChecksumIEEE([]byte("тест")) != 2676977762 {
		t.Error("crc32 is not UnityBase's")
	}
}

func TestAppForAuth(t *testing.T) {
	for in, want := range map[string]string{"": "/", "/": "/", "/App/": "app", "app": "app", "/a/b/": "ab"} {
		if got := AppForAuth(in); got != want {
			t.Errorf("AppForAuth(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseSignature(t *testing.T) {
	for _, bad := range []string{"", "2008c616", vecSignature + "0", "2008c61663458360ed721c4g", "0000000063458360ed721c49",
		"2008c61663458360ed721c4 ", "+008c61663458360ed721c49"} {
		if _, ok := parseSignature(bad); ok {
			t.Errorf("parseSignature(%q) accepted", bad)
		}
	}
	if _, ok := parseSignature(strings.ToUpper(vecSignature)); !ok {
		t.Error("upper-case hex refused")
	}
	for _, n := range []uint32{0, 1, 0xabc, 0xffffffff} {
		if h := hexa8(n); len(h) != 8 {
			t.Errorf("hexa8(%d) = %q", n, h)
		}
	}
}

func TestCredentialsOf(t *testing.T) {
	cases := []struct {
		header, query string
		kind          int
		sig           string
	}{
		{"", "", credNone, ""},
		{"UB " + vecSignature, "", credUB, vecSignature},
		{"ub  " + vecSignature + " ", "", credUB, vecSignature},
		{"", "session_signature=" + vecSignature, credUB, vecSignature},
		{"", "SESSION_SIGNATURE=" + vecSignature + "&rq=x", credUB, vecSignature},
		{"", "session_signature=a&session_signature=b", credMalformed, ""},
		{"Basic YWRtaW46YWRtaW4=", "", credBasic, ""},
		{"Basic !!!", "", credMalformed, ""},
		{"Bearer x", "", credMalformed, ""},
		{"", "rq=uba_user.select", credNone, ""},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/ubql?"+c.query, nil)
		if c.header != "" {
			r.Header.Set("Authorization", c.header)
		}
		cr := credentialsOf(r)
		if cr.kind != c.kind || cr.signature != c.sig {
			t.Errorf("%q %q: %+v", c.header, c.query, cr)
		}
		if c.kind == credBasic && (cr.user != "admin" || cr.password != "admin") {
			t.Errorf("basic: %+v", cr)
		}
	}
}

func TestNonce(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	exp := time.Unix(1700000000, 0)
	n := issueNonce(key, "admin", exp)
	if len(n) != nonceLen {
		t.Fatalf("nonce length %d", len(n))
	}
	if got, ok := checkNonce(key, "admin", n); !ok || !got.Equal(exp) {
		t.Fatalf("check: %v %v", got, ok)
	}
	if n2 := issueNonce(key, "admin", exp); n2 == n {
		t.Error("two nonces are equal")
	}
	for name, c := range map[string]struct{ key, login, nonce string }{
		"other user":  {string(key), "bob", n},
		"other key":   {"x" + string(key[1:]), "admin", n},
		"tampered":    {string(key), "admin", n[:40] + "ffff" + n[44:]},
		"not hex":     {string(key), "admin", strings.Repeat("z", nonceLen)},
		"short":       {string(key), "admin", n[:20]},
		"expiry bump": {string(key), "admin", n[:32] + "00000000ffffffff" + n[48:]},
	} {
		if _, ok := checkNonce([]byte(c.key), c.login, c.nonce); ok {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestPendingNoncesBounded(t *testing.T) {
	p := newPendingNonces()
	now := time.Unix(1700000000, 0)
	for i := 0; i < MaxPendingPerLogin+3; i++ {
		p.add("admin", string(rune('a'+i)), now.Add(time.Minute), now)
	}
	got := p.of("admin")
	if len(got) != MaxPendingPerLogin || got[0] != string(rune('a'+MaxPendingPerLogin+2)) {
		t.Fatalf("per login: %v", got)
	}
	for i := 0; i < MaxPendingNonces+50; i++ {
		p.add("u"+string(rune(i)), "n", now.Add(time.Minute), now)
	}
	if len(p.queue) > MaxPendingNonces || len(p.byLogin) > MaxPendingNonces {
		t.Fatalf("table grew to %d/%d", len(p.queue), len(p.byLogin))
	}
	// Expired entries leave on the next add.
	p.add("late", "n", now.Add(2*time.Hour), now.Add(time.Hour))
	if len(p.queue) != 1 || len(p.of("admin")) != 0 {
		t.Fatalf("expired entries stayed: %d", len(p.queue))
	}
	p.remove("late", "n")
	if len(p.of("late")) != 0 {
		t.Fatal("remove")
	}
}

// BenchmarkVerifySignature is the server's per-request signature work: parse the 24 hex
// digits and continue the CRC-32 with the time part.
func BenchmarkVerifySignature(b *testing.B) {
	key := signingKey(vecResult, vecPwdHash)
	b.ReportAllocs()
	for b.Loop() {
		sig, ok := parseSignature(vecSignature)
		if !ok || !sig.verify(key) {
			b.Fatal("does not verify")
		}
	}
}
