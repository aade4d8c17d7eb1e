package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/ubgo/ubgo/store"
)

// AuthService is the security layer behind /auth, /logout and /changePassword. The server
// only moves parameters and answers; what they mean (the UB handshake, sessions, lockout,
// the password policy, the audit) is the service's. Errors should implement UBError: a
// failed login is a 403 "<<<Access deny>>>", a bad request a 400.
type AuthService interface {
	// Login runs one step of /auth. params are the query and form parameters, header the
	// request headers (Authorization for AUTHTYPE=Basic), remoteIP the client address
	// (trusted proxies honoured). The map is the JSON answer.
	Login(ctx context.Context, params url.Values, header http.Header, remoteIP string) (map[string]any, error)
	// Logout ends the session of the request.
	Logout(ctx context.Context, sess *store.Session) error
	// ChangePassword sets the password of the session's user (or of forUser, for those
	// allowed to) after checking the old one and the policy.
	ChangePassword(ctx context.Context, sess *store.Session, forUser, oldPwd, newPwd string, needChange bool) error
}

// maxChangePasswordBody caps the /changePassword body: three short fields.
const maxChangePasswordBody = 16 << 10

// registerAuth adds the endpoints of Options.Auth: auth (no authorization: it is how one
// gets it), logout and changePassword (authorization required).
func (s *Server) registerAuth() {
	if s.opt.Auth == nil {
		return
	}
	s.Handle("auth", http.HandlerFunc(s.serveAuth), false)
	s.Handle("logout", http.HandlerFunc(s.serveLogout), true)
	s.Handle("changePassword", http.HandlerFunc(s.serveChangePassword), true)
}

// serveAuth answers GET or POST /auth. UnityBase clients put the parameters in the query
// string (ub-pub POSTs with an empty body); a form-encoded body is read too. A parameter
// given twice (in the query and the body, say) is refused by the service.
func (s *Server) serveAuth(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			WriteErr(w, r, err)
			return
		}
		WriteErr(w, r, errStatus(http.StatusBadRequest, "the /auth parameters cannot be parsed"))
		return
	}
	out, err := s.opt.Auth.Login(r.Context(), r.Form, r.Header, RemoteIP(r))
	if err != nil {
		WriteErr(w, r, err)
		return
	}
	writeJSON(w, r, out)
}

// serveLogout answers POST /logout: the session ends; the client forgets it.
func (s *Server) serveLogout(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	if err := s.opt.Auth.Logout(r.Context(), Session(r)); err != nil {
		WriteErr(w, r, err)
		return
	}
	writeJSON(w, r, map[string]any{"success": true})
}

// changePasswordBody is the body of /changePassword. Never logged.
type changePasswordBody struct {
	Pwd                string `json:"pwd"`
	NewPwd             string `json:"newPwd"`
	NeedChangePassword bool   `json:"needChangePassword"`
	ForUser            string `json:"forUser"`
}

// serveChangePassword answers POST /changePassword with a JSON body {"pwd", "newPwd",
// "needChangePassword", "forUser"}.
func (s *Server) serveChangePassword(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	if err := checkJSONBody(r); err != nil {
		WriteErr(w, r, err)
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxChangePasswordBody+1))
	if err != nil {
		WriteErr(w, r, err)
		return
	}
	if len(raw) > maxChangePasswordBody {
		WriteErr(w, r, errStatus(http.StatusRequestEntityTooLarge, "the changePassword body is too large"))
		return
	}
	var body changePasswordBody
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || dec.More() {
		WriteErr(w, r, &Error{Status: http.StatusBadRequest, Code: CodeInvalidData,
			Msg: `the body must be {"pwd": "...", "newPwd": "...", "needChangePassword": false}`})
		return
	}
	if err := s.opt.Auth.ChangePassword(r.Context(), Session(r), body.ForUser, body.Pwd, body.NewPwd, body.NeedChangePassword); err != nil {
		WriteErr(w, r, err)
		return
	}
	writeJSON(w, r, map[string]any{"success": true})
}

// writeJSON answers 200 with v as JSON, never cached.
func writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		WriteErr(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.Write(body)
}
