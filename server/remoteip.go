package server

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// proxies decides whose word the server takes about the client's address and request id.
// Only peers listed in security.trustedProxies (addresses or CIDRs) may set them: anyone
// else could forge X-Forwarded-For to dodge a lockout or an IP rule.
type proxies struct {
	trusted []netip.Prefix
	header  string // httpServer.reverseProxy.remoteIPHeader, else X-Forwarded-For
}

func newProxies(list []string, header string) (proxies, error) {
	p := proxies{header: header}
	if p.header == "" {
		p.header = "X-Forwarded-For"
	}
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if pfx, err := netip.ParsePrefix(s); err == nil {
			p.trusted = append(p.trusted, pfx.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return p, fmt.Errorf("security.trustedProxies: %q is neither an address nor a CIDR", s)
		}
		p.trusted = append(p.trusted, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return p, nil
}

func (p proxies) isTrusted(a netip.Addr) bool {
	for _, pfx := range p.trusted {
		if pfx.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr is the address of the connection's other end.
func peerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

// clientIP is the client address and whether the peer is a trusted proxy. Behind a trusted
// proxy, X-Forwarded-For is read from the right, skipping the trusted hops, so that a
// client cannot put its own entry first.
func (p proxies) clientIP(r *http.Request) (string, bool) {
	peer := peerAddr(r)
	if !peer.IsValid() {
		return r.RemoteAddr, false
	}
	if !p.isTrusted(peer) {
		return peer.String(), false
	}
	vals := r.Header.Values(p.header)
	if len(vals) == 0 {
		return peer.String(), true
	}
	hops := strings.Split(strings.Join(vals, ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if i == 0 || !p.isTrusted(a) {
			return a.String(), true
		}
	}
	return peer.String(), true
}
