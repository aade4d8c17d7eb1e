package server

import (
	"net/http"

	"github.com/ubgo/ubgo/store"
)

// Authorizer finds who sends a request. The security layer implements it (UB signature,
// sessions, lockout); the server calls it for every endpoint that requires authorization.
//
// Authenticate returns the caller's session, or an error: a UBError keeps its status and
// errCode (401 with CodeNeedAuth for a missing or expired session, 403 for a denied
// endpoint), any other error is a 500. The server works on a copy of the session, so the
// returned value may be shared.
type Authorizer interface {
	Authenticate(r *http.Request) (*store.Session, error)
}

// errNoAuthorizer answers endpoints that require authorization while nothing can
// authenticate a request.
var errNoAuthorizer = &Error{Status: http.StatusUnauthorized, Code: CodeNeedAuth, Detail: "no Authorizer is configured"}

// authenticate returns the session of a request: the Authorizer's, the development admin's
// (Options.DevAnonymousAdmin), or 401. The copy it returns is the request's own: it carries
// the request's sequence number (audit rows of one request share it) and is marked external,
// since it comes over HTTP.
func (s *Server) authenticate(r *http.Request, st *reqState) (*store.Session, error) {
	if s.opt.Authorizer == nil {
		if !s.opt.DevAnonymousAdmin {
			return nil, errNoAuthorizer
		}
		return &store.Session{UserID: store.UserAdmin, UserName: "admin", Lang: s.requestLang(r, nil),
			RemoteIP: st.ip, External: true, RequestID: st.seq}, nil
	}
	sess, err := s.opt.Authorizer.Authenticate(r)
	if err != nil {
		return nil, err
	}
	if sess == nil {
		return nil, &Error{Status: http.StatusUnauthorized, Code: CodeNeedAuth, Detail: "the Authorizer returned no session"}
	}
	c := *sess
	c.External, c.RequestID = true, st.seq
	if c.RemoteIP == "" {
		c.RemoteIP = st.ip
	}
	return &c, nil
}
