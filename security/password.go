package security

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/ubql"
)

// MustChangeDate is the lastPasswordChangeDate that needChangePassword sets (UnityBase's
// marker): a password changed before it has expired whatever maxDurationDays says.
var MustChangeDate = time.Date(2000, 2, 1, 0, 0, 0, 0, time.UTC)

// passwordExpired reports whether a password last changed at changed must be changed now.
func passwordExpired(set *Settings, changed, now time.Time) bool {
	if !changed.IsZero() && !changed.After(MustChangeDate) {
		return true
	}
	return set.MaxDurationDays > 0 && now.Sub(changed) > time.Duration(set.MaxDurationDays)*24*time.Hour
}

// ChangePassword answers /changePassword (server.AuthService) for the session's user:
// oldPwd must be the current password (or, as older UnityBase clients send it, its
// stored hash), and newPwd must pass the password policy (Settings): minimum length,
// complexity, not the login, not one of the last checkPrevPwdNum passwords. A member of
// the Admin role may set another user's password with forUser, without the old one.
// needChange marks the new password as expired, so that the user must change it at the
// next login.
//
// The hash is written with plain SQL, not through the entity's update, so that neither
// the new nor the old hash reaches uba_auditTrail; the old hash goes to
// uba_prevPasswordsHash. The user's other sessions end. The change, or the refusal, is
// audited (UPDATE or SECURITY_VIOLATION). A wrong old password counts as a failed login
// for the lockout, of the login and of the client address; from a locked address the old
// password is refused without being checked.
func (s *Service) ChangePassword(ctx context.Context, sess *store.Session, forUser, oldPwd, newPwd string, needChange bool) error {
	if s.anonymousMode || sess == nil || sess.UserID == store.UserAnonymous || s.dom.Entity("uba_user") == nil {
		return &Error{Status: http.StatusForbidden, Code: CodeAccessDeny, Msg: msgAccessDeny, Err: ErrEndpointDenied,
			Reason: "changePassword needs a logged-in user"}
	}
	if newPwd == "" {
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidData, Msg: msgPasswordIsRequired, Err: ErrBadRequest,
			Reason: "newPwd is empty"}
	}
	var target *userRecord
	var err error
	own := forUser == "" || normalizeLogin(forUser) == sess.UserName
	if own {
		if target, err = s.userByID(ctx, sess.UserID); err != nil {
			return err
		}
	} else {
		if !sess.HasRole("Admin") {
			reason := "changePassword for another user needs the Admin role"
			s.violation(ctx, sess, sess.UserName, sess.RemoteIP, reason)
			return &Error{Status: http.StatusForbidden, Code: CodeAccessDeny, Msg: msgAccessDeny, Err: ErrEndpointDenied, Reason: reason}
		}
		if target, err = s.findUser(ctx, forUser); err != nil {
			return err
		}
	}
	if target == nil {
		return badRequest("user " + clip(forUser, 128) + " not found")
	}
	fail := func(e *Error) error {
		s.stats.violations.Add(1)
		s.audit(ctx, auditEvent{action: ActionSecurityViolation, userID: target.ID, actor: sess.UserName, target: target.Name,
			ip: sess.RemoteIP, details: map[string]any{"action": "changePassword", "reason": e.Reason}})
		if h := s.hooks.Load(); h.OnSecurityViolation != nil {
			h.OnSecurityViolation(ctx, Violation{Session: sess, UserName: sess.UserName, RemoteIP: sess.RemoteIP, Reason: e.Reason})
		}
		return e
	}
	if own {
		// The old password is a password check like a login's: refused unseen from a
		// locked address, and a wrong one counts for the address too.
		now := s.now()
		if locked, err := s.ipLocked(ctx, sess.RemoteIP, now); err != nil {
			return err
		} else if locked {
			s.stats.ipRefusals.Add(1)
			return fail(&Error{Status: http.StatusForbidden, Code: CodeInvalidUserOrPwd, Msg: msgIncorrectOldPwd,
				Err: ErrAddressLocked, Reason: "the client address is locked after failed logins"})
		}
		stored := strings.ToLower(target.Hash)
		okPlain := subtle.ConstantTimeCompare([]byte(store.PasswordHash(oldPwd)), []byte(stored)) == 1
		okHash := subtle.ConstantTimeCompare([]byte(strings.ToLower(oldPwd)), []byte(stored)) == 1
		if !isHash(stored) || !(okPlain || okHash) {
			s.countFailure(ctx, target.Name, target, now)
			s.countIPFailure(ctx, sess.UserName, sess.RemoteIP, now)
			return fail(&Error{Status: http.StatusForbidden, Code: CodeInvalidUserOrPwd, Msg: msgIncorrectOldPwd,
				Err: ErrIncorrectOldPassword, Reason: "incorrect old password"})
		}
	}
	set := s.settings.Load()
	if e := checkPolicy(set, target.Name, newPwd); e != nil {
		return fail(e)
	}
	newHash := store.PasswordHash(newPwd)
	if set.CheckPrevPwdNum > 0 {
		prev, err := s.previousHashes(ctx, target.ID, set.CheckPrevPwdNum)
		if err != nil {
			return err
		}
		for _, h := range append(prev, strings.ToLower(target.Hash)) {
			if subtle.ConstantTimeCompare([]byte(h), []byte(newHash)) == 1 {
				return fail(&Error{Status: http.StatusBadRequest, Code: CodeInvalidData, Msg: msgPreviousPassword,
					Err: ErrPasswordPolicy, Reason: "the new password is one of the previous ones"})
			}
		}
	}
	changed := s.now()
	if needChange {
		changed = MustChangeDate
	}
	if err := s.writePassword(ctx, sess, target, newHash, changed); err != nil {
		return err
	}
	except := int64(0)
	if own {
		except = sess.ID
	}
	ids, err := s.backend.DeleteUserSessions(ctx, target.ID, except)
	s.forget(ids...)
	s.basic.forgetUser(target.ID)
	if err != nil {
		s.log.Warn("end sessions after a password change", "userID", target.ID, "err", err)
	}
	s.audit(ctx, auditEvent{action: ActionUpdate, userID: target.ID, actor: sess.UserName, target: target.Name, ip: sess.RemoteIP,
		details: map[string]any{"action": "changePassword", "sessionsEnded": len(ids)}})
	return nil
}

// checkPolicy applies the password policy to a new password.
func checkPolicy(set *Settings, login, pwd string) *Error {
	policy := func(msg, reason string) *Error {
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidData, Msg: msg, Err: ErrPasswordPolicy, Reason: reason}
	}
	if set.MinLength > 0 && len([]rune(pwd)) < set.MinLength {
		return policy(msgPasswordTooShort, fmt.Sprintf("shorter than %d characters", set.MinLength))
	}
	if set.CheckComplexity && !complexEnough(pwd) {
		return policy(msgPasswordTooSimple, "needs upper and lower case letters, a digit and a symbol")
	}
	if !set.AllowMatchWithLogin && strings.EqualFold(pwd, login) {
		return policy(msgPasswordIsLogin, "equal to the login")
	}
	return nil
}

// complexEnough: an upper-case letter, a lower-case letter, a digit and anything else.
func complexEnough(pwd string) bool {
	var upper, lower, digit, other bool
	for _, r := range pwd {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	return upper && lower && digit && other
}

// previousHashes are the user's last n password hashes (uba_prevPasswordsHash).
func (s *Service) previousHashes(ctx context.Context, userID int64, n int) ([]string, error) {
	e := s.dom.Entity("uba_prevPasswordsHash")
	if e == nil {
		return nil, nil
	}
	order := []ubql.OrderItem{{Expression: "[ID]", Order: "desc"}}
	if e.Attribute("mi_createDate") != nil {
		order = append([]ubql.OrderItem{{Expression: "[mi_createDate]", Order: "desc"}}, order...)
	}
	rows, err := s.selectRows(ctx, e.Name, []string{"uPasswordHashHexa"},
		[]ubql.WhereItem{{Name: "byUser", Expression: "[userID]", Condition: ubql.Equal, Value: userID, HasValue: true}}, order, n)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, strings.ToLower(asString(r["uPasswordHashHexa"])))
	}
	return out, nil
}

// writePassword stores the new hash and the change date, and keeps the old hash in
// uba_prevPasswordsHash, in one transaction.
func (s *Service) writePassword(ctx context.Context, sess *store.Session, u *userRecord, newHash string, changed time.Time) error {
	users := s.dom.Entity("uba_user")
	tx := s.st.Begin(store.System)
	defer tx.Rollback()
	c := s.st.ConnOf(users)
	d := c.Dialect
	cols, err := columns(users, d.Name(), "uPasswordHashHexa", "lastPasswordChangeDate", "ID")
	if err != nil {
		return err
	}
	w, err := tx.Writer(ctx, c)
	if err != nil {
		return err
	}
	q := "UPDATE " + d.Ident(users.ExecName(d.Name())) + " SET " + d.Ident(cols[0]) + " = " + d.Placeholder(1) + ", " +
		d.Ident(cols[1]) + " = " + d.Placeholder(2) + " WHERE " + d.Ident(cols[2]) + " = " + d.Placeholder(3)
	if _, err := w.ExecContext(ctx, q, newHash, d.FormatTime(changed), u.ID); err != nil {
		return fmt.Errorf("change the password of user %d: %w", u.ID, err)
	}
	if prev := s.dom.Entity("uba_prevPasswordsHash"); prev != nil && isHash(u.Hash) {
		if err := s.insertPrevious(ctx, tx, prev, sess.UserID, u.ID, strings.ToLower(u.Hash)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// insertPrevious writes a uba_prevPasswordsHash row with plain SQL (see ChangePassword).
func (s *Service) insertPrevious(ctx context.Context, tx *store.Tx, e *domain.Entity, actor, userID int64, hash string) error {
	c := s.st.ConnOf(e)
	d := c.Dialect
	id, err := tx.NewID(ctx, c)
	if err != nil {
		return err
	}
	now := d.FormatTime(tx.Now())
	values := map[string]any{"ID": id, "userID": userID, "uPasswordHashHexa": hash, "mi_owner": actor,
		"mi_createDate": now, "mi_createUser": actor, "mi_modifyDate": now, "mi_modifyUser": actor}
	var names, marks []string
	var args []any
	for _, a := range e.Attributes {
		v, ok := values[a.Name]
		if !ok {
			continue
		}
		col, isExpr := a.Column(d.Name())
		if isExpr || col == "" {
			continue
		}
		names = append(names, d.Ident(col))
		args = append(args, v)
		marks = append(marks, d.Placeholder(len(args)))
	}
	w, err := tx.Writer(ctx, c)
	if err != nil {
		return err
	}
	q := "INSERT INTO " + d.Ident(e.ExecName(d.Name())) + " (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	if _, err := w.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("keep the previous password hash: %w", err)
	}
	return nil
}

// columns are the stored columns of attrs.
func columns(e *domain.Entity, dialect string, attrs ...string) ([]string, error) {
	out := make([]string, len(attrs))
	for i, name := range attrs {
		a := e.Attribute(name)
		if a == nil {
			return nil, fmt.Errorf("entity %s has no attribute %s", e.Name, name)
		}
		col, isExpr := a.Column(dialect)
		if isExpr || col == "" {
			return nil, errors.New("entity " + e.Name + " attribute " + name + " is not a stored column")
		}
		out[i] = col
	}
	return out, nil
}
