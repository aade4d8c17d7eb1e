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

// PublicAuthorizer is an Authorizer that also gives requests to endpoints without
// authorization a session: the caller's when the request carries valid credentials, the
// anonymous one otherwise (so that Session(r) is never nil there and model endpoints see
// user 20, as in UnityBase). It never fails.
type PublicAuthorizer interface {
	Authorizer
	AuthenticatePublic(r *http.Request) *store.Session
}

// errNoAuthorizer answers endpoints that require authorization while nothing can
// authenticate a request.
var errNoAuthorizer = &Error{Status: http.StatusUnauthorized, Code: CodeNeedAuth, Detail: "no Authorizer is configured"}

// authorize sets the request's session before its endpoint runs and reports whether the
// endpoint may run. An endpoint that requires authorization gets the Authorizer's session
// (or 401), then Options.EndpointAllowed decides (or 403); any other endpoint gets the
// public session of a PublicAuthorizer, or none.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, st *reqState, required bool) bool {
	if !required {
		if pa, ok := s.opt.Authorizer.(PublicAuthorizer); ok {
			st.sess = s.requestSession(r, st, pa.AuthenticatePublic(r))
		}
		return true
	}
	sess, err := s.authenticate(r, st)
	if err == nil && s.opt.EndpointAllowed != nil {
		err = s.opt.EndpointAllowed(r.Context(), sess, st.endpoint)
	}
	if err != nil {
		WriteErr(w, r, err)
		return false
	}
	st.sess = sess
	return true
}

// authenticate returns the session of a request: the Authorizer's, the development admin's
// (Options.DevAnonymousAdmin), or 401.
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
	return s.requestSession(r, st, sess), nil
}

// requestSession is the request's own copy of a session: it carries the request's
// sequence number (audit rows of one request share it), is marked external since it comes
// over HTTP, has the client's address, and a language (the request's when the session has
// none, as the anonymous session).
func (s *Server) requestSession(r *http.Request, st *reqState, sess *store.Session) *store.Session {
	if sess == nil {
		return nil
	}
	c := *sess
	c.External, c.RequestID = true, st.seq
	if c.RemoteIP == "" {
		c.RemoteIP = st.ip
	}
	if c.Lang == "" {
		c.Lang = s.requestLang(r, &c)
	}
	return &c
}
