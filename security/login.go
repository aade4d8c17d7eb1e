package security

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/ubql"
)

// Limits of /auth parameters.
const (
	maxUserName  = 128
	maxNonce     = 256
	maxPrefUData = 4096
)

// Login answers /auth (server.AuthService). params are the query and form parameters,
// header the request's headers, remoteIP the client address.
//
// AUTHTYPE=UB (the default), step 1 (userName only): {"result": serverNonce,
// "connectionID": serverNonce}. Step 2 (userName, clientNonce, password =
// PasswordProof(...), optional prefUData and connectionID): {"result":
// "<sessionID>+<key>", "logonname": login, "uData": "<JSON>"}. An apiKey client proves
// the stored hash in the same way; nothing differs on the server.
//
// AUTHTYPE=Basic with "Authorization: Basic": checks the password and answers the user's
// logonname and uData with "result": "0+0" (Basic clients send their credentials on every
// request; no session is created).
//
// Every failed login is a 403 with "<<<Access deny>>>" — unknown user, wrong password,
// bad or reused nonce, locked or disabled account, locked client address alike, with the
// same work done for all but the last (the password hash is computed against a dummy for
// unknown users; a locked address is refused before any) — except a login matching
// security.disabledAccounts ("<<<Login disabled>>>") and Singleton refusals
// ("<<<ubErrAnotherSessionExists>>>").
func (s *Service) Login(ctx context.Context, params url.Values, header http.Header, remoteIP string) (map[string]any, error) {
	authType, err := single(params, "AUTHTYPE")
	if err != nil {
		return nil, err
	}
	if authType == "" {
		authType = "UB"
	}
	if s.anonymousMode {
		a := s.anonymous.Load()
		return authAnswer("0+0", a.UserName, a.UData)
	}
	switch authType {
	case "UB", "Basic":
		if !s.methods[authType] {
			return nil, &Error{Status: http.StatusBadRequest, Code: CodeInvalidData, Err: ErrMethodNotEnabled,
				Msg: "authentication method " + authType + " is not enabled", Reason: "AUTHTYPE " + authType + " is not in security.authenticationMethods"}
		}
	default:
		return nil, badRequest("AUTHTYPE " + strconv.Quote(clip(authType, 32)) + " is not supported")
	}
	prefUData, err := parsePrefUData(params)
	if err != nil {
		return nil, err
	}
	if authType == "Basic" {
		return s.loginBasic(ctx, header, prefUData, remoteIP)
	}
	userName, err := single(params, "userName")
	if err != nil {
		return nil, err
	}
	if err := checkUserName(userName); err != nil {
		return nil, err
	}
	clientNonce, err := single(params, "clientNonce")
	if err != nil {
		return nil, err
	}
	proof, err := single(params, "password")
	if err != nil {
		return nil, err
	}
	connID, err := single(params, "connectionID")
	if err != nil {
		return nil, err
	}
	if clientNonce == "" && proof == "" {
		return s.handshakeStart(ctx, userName, remoteIP)
	}
	if clientNonce == "" || proof == "" || len(clientNonce) > maxNonce || len(proof) > maxNonce || len(connID) > maxNonce {
		return nil, badRequest("the second /auth request needs clientNonce and password")
	}
	return s.handshakeFinish(ctx, userName, clientNonce, proof, connID, prefUData, remoteIP)
}

// single returns the only value of a parameter; a repeated parameter is refused (which
// of two values a component takes is how parameter pollution works).
func single(params url.Values, key string) (string, error) {
	v := params[key]
	switch len(v) {
	case 0:
		return "", nil
	case 1:
		return v[0], nil
	}
	return "", badRequest("parameter " + key + " is repeated")
}

func checkUserName(name string) error {
	switch {
	case name == "":
		return badRequest("userName is required")
	case len(name) > maxUserName:
		return badRequest("userName is too long")
	case !utf8.ValidString(name):
		return badRequest("userName is not valid UTF-8")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return badRequest("userName contains a control character")
		}
	}
	return nil
}

func parsePrefUData(params url.Values) (map[string]any, error) {
	raw, err := single(params, "prefUData")
	if err != nil || raw == "" {
		return nil, err
	}
	if len(raw) > maxPrefUData {
		return nil, badRequest("prefUData is too long")
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, badRequest("prefUData must be a JSON object")
	}
	return m, nil
}

// handshakeStart issues a server nonce. It does the same for every login, existing or
// not, so the answer tells nothing about users.
func (s *Service) handshakeStart(_ context.Context, userName, ip string) (map[string]any, error) {
	login := normalizeLogin(userName)
	if s.disabled != nil && s.disabled.MatchString(login) {
		return nil, loginDisabled()
	}
	now := s.now()
	exp := now.Add(s.nonceTTL)
	nonce := issueNonce(s.nonceKey, login, exp)
	s.pending.add(login, nonce, exp, now)
	return map[string]any{"result": nonce, "connectionID": nonce}, nil
}

func loginDisabled() *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeInvalidUserOrPwd, Msg: msgLoginDisabled, Err: ErrLoginDisabled,
		Reason: "the login matches security.disabledAccounts"}
}

// handshakeFinish checks the password proof of step 2 and opens a session.
func (s *Service) handshakeFinish(ctx context.Context, userName, clientNonce, proof, connID string,
	pref map[string]any, ip string) (map[string]any, error) {
	login := normalizeLogin(userName)
	now := s.now()
	// Which nonce: the one the client sent back, else those this process issued.
	candidates := s.pending.of(login)
	if connID != "" {
		candidates = []string{connID}
	}
	var usable []string
	for _, n := range candidates {
		if exp, ok := checkNonce(s.nonceKey, login, n); ok && !now.After(exp) {
			usable = append(usable, n)
		}
	}
	var matched string
	res, err := s.verifyPassword(ctx, userName, ip, func(u *userRecord) bool {
		ok := false
		want := []byte(strings.ToLower(proof))
		for _, n := range usable {
			if subtle.ConstantTimeCompare([]byte(PasswordProof(s.appForAuth, n, clientNonce, userName, strings.ToLower(u.Hash))), want) == 1 {
				ok, matched = true, n
			}
		}
		if len(usable) == 0 { // no valid nonce: do the hash work anyway
			PasswordProof(s.appForAuth, connID, clientNonce, userName, u.Hash)
		}
		return ok
	})
	if err != nil {
		return nil, err
	}
	// Single use, across every process sharing the backend.
	exp, _ := checkNonce(s.nonceKey, login, matched)
	fresh, err := s.backend.UseNonce(ctx, matched, exp.Add(time.Minute))
	s.pending.remove(login, matched)
	if err != nil || !fresh {
		if err != nil {
			s.log.Warn("record a used nonce", "err", err)
		}
		s.loginFailed(ctx, userName, res.user.ID, ip, false, "the server nonce was used already")
		return nil, accessDeny(ErrInvalidCredentials, "the server nonce was used already")
	}
	secret := strings.ToLower(res.user.Hash)
	sess, result, err := s.openUBSession(ctx, res, pref, ip, secret)
	if err != nil {
		return nil, err
	}
	return authAnswer(result, sess.UserName, sess.UData)
}

func authAnswer(result, login string, uData map[string]any) (map[string]any, error) {
	ud, err := json.Marshal(uData)
	if err != nil {
		return nil, fmt.Errorf("encode uData: %w", err)
	}
	return map[string]any{"result": result, "logonname": login, "uData": string(ud)}, nil
}

// loginBasic answers AUTHTYPE=Basic.
func (s *Service) loginBasic(ctx context.Context, header http.Header, pref map[string]any, ip string) (map[string]any, error) {
	r := &http.Request{Header: header}
	user, password, ok := r.BasicAuth()
	if !ok {
		return nil, badRequest("AUTHTYPE=Basic needs an Authorization: Basic header")
	}
	if err := checkUserName(user); err != nil {
		return nil, err
	}
	res, err := s.verifyPassword(ctx, user, ip, func(u *userRecord) bool {
		return subtle.ConstantTimeCompare([]byte(store.PasswordHash(password)), []byte(strings.ToLower(u.Hash))) == 1
	})
	if err != nil {
		return nil, err
	}
	sess, err := s.openSession(ctx, res, "Basic", pref, ip)
	if err != nil {
		return nil, err
	}
	s.loggedIn(ctx, sess, "Basic")
	return authAnswer("0+0", sess.UserName, sess.UData)
}

// verified is a user whose credentials checked out.
type verified struct {
	user    *userRecord
	expired bool // the password is older than maxDurationDays
}

// verifyPassword runs the checks every password login shares: the lock of the client
// address (first: a locked address gets a wrong password's answer without a look at the
// credentials), security.disabledAccounts, the lockout of the login, the user lookup, the
// credential check (check, run against a random dummy hash for an unknown user so that
// both cost the same), and whether the account may log in. Failures are counted per login
// and per address (and may lock either), audited and reported to the hooks.
func (s *Service) verifyPassword(ctx context.Context, userName, ip string, check func(*userRecord) bool) (*verified, error) {
	if locked, err := s.ipLocked(ctx, ip, s.now()); err != nil {
		return nil, err
	} else if locked {
		return nil, s.refuseLockedIP()
	}
	login := normalizeLogin(userName)
	if s.disabled != nil && s.disabled.MatchString(login) {
		s.loginFailed(ctx, userName, 0, ip, false, "the login matches security.disabledAccounts")
		return nil, loginDisabled()
	}
	lockedUntil, err := s.backend.LockedUntil(ctx, login)
	if err != nil {
		return nil, err
	}
	u, err := s.findUser(ctx, login)
	if err != nil {
		return nil, err
	}
	probe := u
	if probe == nil || !isHash(probe.Hash) {
		probe = &userRecord{Hash: s.dummyHash}
	}
	ok := check(probe) && u != nil && isHash(u.Hash)
	now := s.now()
	var uid int64
	if u != nil {
		uid = u.ID
	}
	switch {
	case now.Before(lockedUntil):
		s.loginFailed(ctx, userName, uid, ip, false, "the login is locked after failed attempts")
		s.countIPFailure(ctx, userName, ip, now)
		return nil, accessDeny(ErrLocked, "locked")
	case !ok:
		reason := "wrong password"
		if u == nil {
			reason = "unknown user"
		}
		locked := s.countFailure(ctx, login, u, now)
		s.loginFailed(ctx, userName, uid, ip, locked, reason)
		s.countIPFailure(ctx, userName, ip, now)
		return nil, accessDeny(ErrInvalidCredentials, reason)
	case !u.canLogIn():
		s.loginFailed(ctx, userName, uid, ip, false, "the account is disabled, pending or has no password")
		s.countIPFailure(ctx, userName, ip, now)
		return nil, accessDeny(ErrDisabled, "disabled")
	}
	if err := s.backend.ClearFailures(ctx, login); err != nil {
		s.log.Warn("clear failed logins", "err", err)
	}
	return &verified{user: u, expired: passwordExpired(s.settings.Load(), u.PasswordChange, now)}, nil
}

// countFailure counts a failed login and locks the login when it reaches
// UBA.passwordPolicy.maxInvalidAttempts: for security.lockOutTimeoutSec, or, with
// security.lockOutInDB, by setting uba_user.disabled (an unknown login is locked
// temporarily either way). It reports whether this failure locked.
func (s *Service) countFailure(ctx context.Context, login string, u *userRecord, now time.Time) bool {
	max := s.settings.Load().MaxInvalidAttempts
	if max <= 0 {
		return false
	}
	n, err := s.backend.AddFailure(ctx, login, now, s.lockOut)
	if err != nil {
		s.log.Warn("count a failed login", "err", err)
		return false
	}
	if n < max {
		return false
	}
	if s.lockOutInDB && u != nil {
		if err := s.disableUser(ctx, u.ID); err != nil {
			s.log.Error("lock out: disable the user", "userID", u.ID, "err", err)
		}
		if _, err := s.EndUserSessions(ctx, u.ID); err != nil {
			s.log.Warn("lock out: end the user's sessions", "userID", u.ID, "err", err)
		}
		if err := s.backend.ClearFailures(ctx, login); err != nil {
			s.log.Warn("clear failed logins", "err", err)
		}
		return true
	}
	if err := s.backend.Lock(ctx, login, now.Add(s.lockOut)); err != nil {
		s.log.Warn("lock a login", "err", err)
	}
	if u != nil {
		s.basic.forgetUser(u.ID)
	}
	return true
}

// disableUser sets uba_user.disabled = 1.
func (s *Service) disableUser(ctx context.Context, userID int64) error {
	tx := s.st.Begin(store.System)
	defer tx.Rollback()
	_, err := tx.Update(ctx, &ubql.Request{Entity: "uba_user", Method: "update",
		ExecParams: map[string]any{"ID": userID, "disabled": int64(1)}, Misc: ubql.Misc{SkipOptimisticLock: true}})
	if err != nil {
		return err
	}
	return tx.Commit()
}

// loginFailed counts, audits (LOGIN_FAILED, or LOGIN_LOCKED when this failure locked the
// account) and reports a refused login.
func (s *Service) loginFailed(ctx context.Context, userName string, userID int64, ip string, locked bool, reason string) {
	s.stats.failures.Add(1)
	action := ActionLoginFailed
	if locked {
		action = ActionLoginLocked
	}
	s.audit(ctx, auditEvent{action: action, userID: userID, actor: userName, target: normalizeLogin(userName), ip: ip,
		details: map[string]any{"reason": reason}})
	if h := s.hooks.Load(); h.OnLoginFailed != nil {
		h.OnLoginFailed(ctx, LoginFailure{UserName: userName, RemoteIP: ip, Locked: locked, Reason: reason})
	}
}

// openSession builds the session of a verified user (roles, groups, uData, language) and
// runs the login hooks; it neither stores nor audits it (loggedIn does, once it exists).
func (s *Service) openSession(ctx context.Context, v *verified, method string, pref map[string]any, ip string) (*store.Session, error) {
	u := v.user
	lang := s.userLang(u, pref)
	id, err := s.rbac(ctx, u.ID, true)
	if err != nil {
		return nil, err
	}
	sess := &store.Session{UserID: u.ID, UserName: u.Name, Lang: lang, RemoteIP: ip, RoleIDs: id.RoleIDs,
		RoleNames: id.RoleNames, GroupIDs: id.GroupIDs, UData: s.userData(u, lang, id)}
	if h := s.hooks.Load(); h.OnLogin != nil {
		if err := h.OnLogin(ctx, &LoginEvent{Session: sess, Method: method, PrefUData: pref}); err != nil {
			s.loginFailed(ctx, u.Name, u.ID, ip, false, "refused by a login hook")
			return nil, hookError(err)
		}
	}
	return sess, nil
}

// loggedIn counts and audits a successful login.
func (s *Service) loggedIn(ctx context.Context, sess *store.Session, method string) {
	s.stats.logins.Add(1)
	s.audit(ctx, auditEvent{action: ActionLogin, userID: sess.UserID, actor: sess.UserName, target: sess.UserName,
		ip: sess.RemoteIP, details: map[string]any{"method": method}})
}

// hookError is what the client sees of a login hook's refusal: its own client error, or
// a plain "Access deny".
func hookError(err error) error {
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	var ce interface {
		UBCode() int
		HTTPStatus() int
		ClientMessage() string
	}
	if errors.As(err, &ce) && ce.HTTPStatus() < 500 {
		return err
	}
	if msg := err.Error(); strings.HasPrefix(msg, "<<<") && strings.Contains(msg, ">>>") {
		return &Error{Status: http.StatusForbidden, Code: CodeInvalidUserOrPwd, Msg: msg, Err: ErrAborted, Reason: msg}
	}
	return &Error{Status: http.StatusForbidden, Code: CodeInvalidUserOrPwd, Msg: msgAccessDeny, Err: fmt.Errorf("%w: %w", ErrAborted, err)}
}

// openUBSession opens and stores a UB session; result is the /auth "result".
func (s *Service) openUBSession(ctx context.Context, v *verified, pref map[string]any, ip, secret string) (*store.Session, string, error) {
	if s.mode == Singleton {
		// Refuse before the hooks run and the login is audited as successful; the
		// store checks again atomically.
		if n, err := s.backend.CountUserSessions(ctx, v.user.ID, s.now()); err == nil && n > 0 {
			s.loginFailed(ctx, v.user.Name, v.user.ID, ip, false, "another session exists (userSessionMode Singleton)")
			return nil, "", anotherSession()
		}
	}
	sess, err := s.openSession(ctx, v, "UB", pref, ip)
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	for attempt := 0; ; attempt++ {
		id := randomSessionID()
		var key [32]byte
		rand.Read(key[:])
		result := strconv.FormatInt(id, 10) + "+" + hex.EncodeToString(key[:])
		rec := &StoredSession{ID: id, UserID: sess.UserID, UserName: sess.UserName, Lang: sess.Lang,
			RoleIDs: sess.RoleIDs, RoleNames: sess.RoleNames, GroupIDs: sess.GroupIDs, UData: sess.UData,
			Key: signingKey(result, secret), RemoteIP: ip, CreatedAt: now, AccessedAt: now,
			Timeout: s.timeoutOf(sess.RoleIDs), PasswordExpired: v.expired}
		ended, err := s.backend.CreateSession(ctx, rec, s.mode)
		switch {
		case errors.Is(err, ErrDuplicateSessionID) && attempt < 5:
			continue
		case errors.Is(err, ErrAnotherSession):
			return nil, "", anotherSession()
		case err != nil:
			return nil, "", fmt.Errorf("store the session: %w", err)
		}
		if len(ended) > 0 {
			s.forget(ended...)
			s.audit(ctx, auditEvent{action: ActionLogout, userID: sess.UserID, actor: sess.UserName, target: sess.UserName,
				ip: ip, details: map[string]any{"reason": "displaced by a new login (userSessionMode Displacing)", "sessions": len(ended)}})
		}
		s.validatedMu.Lock()
		s.validated[id] = validation{at: now, gen: s.userGen}
		s.validatedMu.Unlock()
		sess.ID = id
		s.loggedIn(ctx, sess, "UB")
		return sess, result, nil
	}
}

func anotherSession() *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeAnotherSession, Msg: msgAnotherSession, Err: ErrAnotherSession,
		Reason: "userSessionMode Singleton: the user has a session"}
}

// timeoutOf is the session timeout of a set of roles: the largest sessionTimeout of the
// non-runtime roles, DefaultSessionTimeout when none has one.
func (s *Service) timeoutOf(roleIDs []int64) time.Duration {
	rs := s.roles.Load()
	var t time.Duration
	for _, id := range roleIDs {
		if ri := rs.byID[id]; ri != nil && !isRuntimeRole(id) && ri.Timeout > 0 {
			t = max(t, time.Duration(ri.Timeout)*time.Minute)
		}
	}
	if t == 0 {
		return DefaultSessionTimeout
	}
	return t
}

// randomSessionID draws a session ID in 1..2^32-1: the signature carries it as 8 hex digits.
func randomSessionID() int64 {
	var b [4]byte
	for {
		rand.Read(b[:])
		if id := binary.BigEndian.Uint32(b[:]); id != 0 {
			return int64(id)
		}
	}
}

// Logout ends the session of a request (server.AuthService): /logout. A request without a
// stored session (anonymous, Basic) has nothing to end.
func (s *Service) Logout(ctx context.Context, sess *store.Session) error {
	if sess == nil || sess.ID == 0 {
		return nil
	}
	existed, err := s.backend.DeleteSession(ctx, sess.ID)
	s.forget(sess.ID)
	if err != nil {
		return err
	}
	if !existed {
		return nil
	}
	s.stats.logouts.Add(1)
	s.audit(ctx, auditEvent{action: ActionLogout, userID: sess.UserID, actor: sess.UserName, target: sess.UserName, ip: sess.RemoteIP})
	if h := s.hooks.Load(); h.OnLogout != nil {
		h.OnLogout(ctx, sess)
	}
	return nil
}
