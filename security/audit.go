package security

import (
	"context"
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/ubql"
)

// Security audit actions (uba_audit.actionType, enum AUDIT_ACTION).
const (
	ActionLogin             = "LOGIN"
	ActionLoginFailed       = "LOGIN_FAILED"
	ActionLoginLocked       = "LOGIN_LOCKED"
	ActionLogout            = "LOGOUT"
	ActionSecurityViolation = "SECURITY_VIOLATION"
	ActionUpdate            = "UPDATE"
)

// auditTimeout bounds an audit write; it runs even when the client has gone away.
const auditTimeout = 10 * time.Second

// auditEvent is one uba_audit row. Details go to toValue as JSON; they never contain
// passwords, hashes, nonces or signatures.
type auditEvent struct {
	action  string
	userID  int64  // entityinfo_id: the user concerned, 0 when unknown
	actor   string // actionUser: who caused it (the login, or what was typed as one)
	target  string // targetUser
	ip      string
	details map[string]any
}

// audit writes a uba_audit row in a transaction of its own, so that it stays even when
// the request fails. A failure to write it is logged, not returned: the login or the
// refusal it records has happened either way.
func (s *Service) audit(ctx context.Context, ev auditEvent) {
	e := s.dom.Entity("uba_audit")
	if e == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	sess := *store.System
	sess.RemoteIP = ev.ip
	tx := s.st.Begin(&sess)
	defer tx.Rollback()
	params := map[string]any{
		"entity":        "uba_user",
		"entityinfo_id": ev.userID,
		"actionType":    ev.action,
		"actionUser":    clip(ev.actor, 128),
		"actionTime":    s.now().UTC(),
	}
	if ev.ip != "" && e.Attribute("remoteIP") != nil {
		params["remoteIP"] = clip(ev.ip, 40)
	}
	if ev.target != "" && e.Attribute("targetUser") != nil {
		params["targetUser"] = clip(ev.target, 128)
	}
	if len(ev.details) > 0 && e.Attribute("toValue") != nil {
		b, _ := json.Marshal(ev.details)
		params["toValue"] = string(b)
	}
	if params["actionUser"] == "" {
		params["actionUser"] = "?"
	}
	_, err := tx.Insert(ctx, &ubql.Request{Entity: "uba_audit", Method: "insert", ExecParams: params})
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		s.log.Error("write the security audit", "action", ev.action, "userID", ev.userID, "err", err)
	}
}

// clip cuts s to at most n bytes on a rune boundary (audit columns have sizes).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// violation records a security violation: counted for /stat, audited, and reported to
// Hooks.OnSecurityViolation.
func (s *Service) violation(ctx context.Context, sess *store.Session, userName, ip, reason string) {
	s.stats.violations.Add(1)
	ev := auditEvent{action: ActionSecurityViolation, ip: ip, actor: userName, target: userName,
		details: map[string]any{"reason": reason}}
	if sess != nil {
		ev.userID, ev.actor, ev.target = sess.UserID, sess.UserName, sess.UserName
		if ev.ip == "" {
			ev.ip = sess.RemoteIP
		}
	}
	s.audit(ctx, ev)
	if h := s.hooks.Load(); h.OnSecurityViolation != nil {
		h.OnSecurityViolation(ctx, Violation{Session: sess, UserName: ev.actor, RemoteIP: ev.ip, Reason: reason})
	}
}

// RecordViolation records a security violation found outside the service — an entity
// method the access matrix denied, a restricted attribute — as the service's own: counted
// for /stat, written to uba_audit and reported to Hooks.OnSecurityViolation.
func (s *Service) RecordViolation(ctx context.Context, sess *store.Session, reason string) {
	name, ip := "", ""
	if sess != nil {
		name, ip = sess.UserName, sess.RemoteIP
	}
	s.violation(ctx, sess, name, ip, reason)
}
