package store

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/ubql"
)

// Attribute restrictions (reference §6.4): an attribute's "restrictions" name the roles
// that may set it on insert (I), read it (S) and change it (U) through a client request;
// the pseudo-role Nobody allows no one. They bind external calls only (a client's ubql
// item, Session.External), never server-side code, and never root. A client that sets a
// restricted attribute gets a security violation (403, errCode 8) and nothing is written;
// a client that reads one gets the attribute's replaceBy value in its place or, without a
// replaceBy, a security violation. A restricted attribute a client may not read cannot be
// used in a condition, an order, a grouping, a computed column or a subquery either:
// those would reveal the value row by row.
//
// replaceBy is an SQL expression in UnityBase; ubgo accepts the literals metadata uses
// (null, a number, a 'quoted string') and treats any other expression as if there were no
// replaceBy (a security violation), with a warning when the store opens.

// CodeAccessDeny is UnityBase's ElsAccessDeny: a security violation.
const CodeAccessDeny = 8

// ClientAccessDeny is what a client is told about a security violation; UnityBase clients
// recognise it (/Access deny/).
const ClientAccessDeny = "Access deny"

// SecurityViolation is the cause of an access denial (errCode 8): what was refused and
// why. The security layer reports it to the audit and Session "securityViolation"
// listeners; its text is for the log, never for the client.
type SecurityViolation struct {
	Entity, Method string
	Reason         string
}

func (v *SecurityViolation) Error() string {
	return fmt.Sprintf("security violation: %s.%s: %s", v.Entity, v.Method, v.Reason)
}

// ErrAccessDeny matches every security violation with errors.Is.
var ErrAccessDeny = errors.New("access deny")

// Is makes errors.Is(err, ErrAccessDeny) true for a *SecurityViolation.
func (v *SecurityViolation) Is(target error) bool { return target == ErrAccessDeny }

// AccessDenied is the error of a refused call: 403 with errCode 8 and the text
// "Access deny" for the client; reason (for the log and the security audit) says why.
func AccessDenied(entity, method, reason string) *Error {
	return &Error{Item: -1, Entity: entity, Code: CodeAccessDeny, Status: http.StatusForbidden, Msg: ClientAccessDeny,
		Err: &SecurityViolation{Entity: entity, Method: method, Reason: reason}}
}

// restrictions indexes the attribute restrictions of a domain.
type restrictions struct {
	// readNames are the names of attributes with an S restriction: an expression that
	// contains none of them as text cannot refer to one, and skips parsing.
	readNames []string
	// replaceBy holds the replacement of each S-restricted attribute that has a usable one.
	replaceBy map[*domain.Attribute]any
}

func buildRestrictions(dom *domain.Domain, log *slog.Logger) *restrictions {
	r := &restrictions{replaceBy: map[*domain.Attribute]any{}}
	seen := map[string]bool{}
	for _, e := range dom.Entities {
		for _, a := range e.Attributes {
			rs := a.Restrictions
			if rs == nil || len(rs.Select) == 0 {
				continue
			}
			if !seen[a.Name] {
				seen[a.Name] = true
				r.readNames = append(r.readNames, a.Name)
			}
			if strings.TrimSpace(rs.ReplaceBy) == "" {
				continue
			}
			v, ok := sqlLiteral(rs.ReplaceBy)
			if !ok {
				log.Warn("attribute restriction: replaceBy is not a literal; reading the attribute is refused instead",
					"entity", e.Name, "attribute", a.Name, "replaceBy", rs.ReplaceBy)
				continue
			}
			r.replaceBy[a] = v
		}
	}
	return r
}

// sqlLiteral reads null, an integer, a decimal number or a single-quoted string (a doubled
// quote stands for one) as the wire value a select would return for it.
func sqlLiteral(s string) (any, bool) {
	s = strings.TrimSpace(s)
	switch {
	case strings.EqualFold(s, "null"):
		return nil, true
	case len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'':
		body := s[1 : len(s)-1]
		if strings.Count(body, "'")%2 != 0 || strings.Contains(strings.ReplaceAll(body, "''", ""), "'") {
			return nil, false
		}
		return strings.ReplaceAll(body, "''", "'"), true
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "xXnNiI") {
		return f, true
	}
	return nil, false
}

// restricted reports whether sess may not use a with the given role list: the list is
// not empty and sess holds none of its roles (Nobody is a role nobody holds).
func restricted(sess *Session, roles []string) bool {
	if len(roles) == 0 {
		return false
	}
	for _, r := range roles {
		if r != "Nobody" && sess.HasRole(r) {
			return false
		}
	}
	return true
}

// bound reports whether restrictions apply to sess: a client call by anyone but root.
func bound(sess *Session) bool {
	return sess != nil && sess.External && sess.UserID != UserRoot
}

// keyAttribute is the attribute an execParams key writes: "name", or "name_uk^".
func keyAttribute(e *domain.Entity, key string) *domain.Attribute {
	if a := e.Attribute(key); a != nil {
		return a
	}
	if base, ok := strings.CutSuffix(key, "^"); ok {
		if i := strings.LastIndexByte(base, '_'); i > 0 {
			return e.Attribute(base[:i])
		}
	}
	return nil
}

// checkWrite refuses an insert (update false) or update whose values set an attribute
// the session may not set.
func checkWrite(sess *Session, e *domain.Entity, method string, params map[string]any) error {
	if !bound(sess) {
		return nil
	}
	for key := range params {
		a := keyAttribute(e, key)
		if a == nil || a.Restrictions == nil {
			continue
		}
		roles, what := a.Restrictions.Insert, "set on insert"
		if method == "update" {
			roles, what = a.Restrictions.Update, "changed"
		}
		if restricted(sess, roles) {
			return AccessDenied(e.Name, method, fmt.Sprintf("attribute %s.%s may not be %s by user %s (restrictions: %s)",
				e.Name, a.Name, what, sess.UserName, strings.Join(roles, ",")))
		}
	}
	return nil
}

// readMask replaces the values of result columns the client may not read.
type readMask struct {
	cols    []int // result column indexes
	vals    []any
	columns int // the number of result columns the request produces
}

func (m *readMask) apply(rd *ubql.ResultData) {
	if m == nil || rd == nil {
		return
	}
	for _, row := range rd.Data {
		for k, c := range m.cols {
			row[c] = m.vals[k]
		}
	}
}

// readPlan checks which restricted attributes a select of e reads for sess. A plain
// column (the fieldList item is the attribute's path) with a replaceBy is masked; any
// other use of an attribute the session may not read is a security violation.
func (s *Store) readPlan(sess *Session, e *domain.Entity, req *ubql.Request) (*readMask, error) {
	if !bound(sess) || len(s.restrict.readNames) == 0 {
		return nil, nil
	}
	rc := &readCheck{s: s, sess: sess}
	var m *readMask
	col := 0
	for _, f := range req.FieldList {
		if strings.TrimSpace(f) == "*" {
			for _, a := range e.Attributes {
				if rc.denied(a) {
					v, ok := s.restrict.replaceBy[a]
					if !ok {
						return nil, rc.violation(e, a)
					}
					m = m.add(col, v)
				}
				col++
			}
			continue
		}
		a, plain, err := rc.expr(e, nil, f)
		if err != nil {
			return nil, err
		}
		if a != nil { // a plain column of a restricted attribute
			v, ok := s.restrict.replaceBy[a]
			if !ok || !plain {
				return nil, rc.violation(e, a)
			}
			m = m.add(col, v)
		}
		col++
	}
	if err := rc.conditions(e, nil, req); err != nil {
		return nil, err
	}
	if m != nil {
		m.columns = col
	}
	return m, nil
}

func (m *readMask) add(col int, v any) *readMask {
	if m == nil {
		m = &readMask{}
	}
	m.cols = append(m.cols, col)
	m.vals = append(m.vals, v)
	return m
}

// readCheck walks the expressions of a request for attributes a session may not read.
type readCheck struct {
	s    *Store
	sess *Session
}

func (rc *readCheck) denied(a *domain.Attribute) bool {
	return a.Restrictions != nil && restricted(rc.sess, a.Restrictions.Select)
}

func (rc *readCheck) violation(e *domain.Entity, a *domain.Attribute) error {
	return AccessDenied(e.Name, "select", fmt.Sprintf("attribute %s.%s may not be read by user %s (restrictions.S: %s)",
		a.Entity.Name, a.Name, rc.sess.UserName, strings.Join(a.Restrictions.Select, ",")))
}

// mentions reports whether expr may refer to an S-restricted attribute.
func (rc *readCheck) mentions(expr string) bool {
	for _, n := range rc.s.restrict.readNames {
		if strings.Contains(expr, n) {
			return true
		}
	}
	return false
}

// expr checks one expression of a request on e (outer is the entity of the enclosing
// request of a subquery). It returns the denied attribute the expression reads when that
// is the last attribute of a path and nothing else of the expression is denied, with
// plain set when the expression is only that path; any other denied use is a violation.
func (rc *readCheck) expr(e, outer *domain.Entity, src string) (*domain.Attribute, bool, error) {
	if !rc.mentions(src) {
		return nil, false, nil
	}
	paths, plain, err := ubql.Paths(src)
	if err != nil {
		return nil, false, nil // the compiler refuses the expression before any SQL runs
	}
	var last *domain.Attribute
	for _, p := range paths {
		from := e
		if p.Master {
			from = outer
		}
		attrs := rc.s.pathAttributes(from, p.Segments)
		for i, a := range attrs {
			if !rc.denied(a) {
				continue
			}
			if !plain || i != len(attrs)-1 || len(paths) != 1 {
				return nil, false, rc.violation(e, a)
			}
			last = a
		}
	}
	return last, plain, nil
}

// conditions checks the where, order and group expressions of req (and its subqueries,
// whose every use of a denied attribute is a violation).
func (rc *readCheck) conditions(e, outer *domain.Entity, req *ubql.Request) error {
	strict := func(src string) error {
		if a, _, err := rc.expr(e, outer, src); err != nil || a != nil {
			if err == nil {
				err = rc.violation(e, a)
			}
			return err
		}
		return nil
	}
	for i := range req.WhereList {
		w := &req.WhereList[i]
		if err := strict(w.Expression); err != nil {
			return err
		}
		if w.SubQuery != nil {
			sub := rc.s.Domain.Entity(w.SubQuery.Entity)
			if sub == nil {
				continue // the compiler reports the unknown entity
			}
			for _, f := range w.SubQuery.FieldList {
				if err := (&readCheck{s: rc.s, sess: rc.sess}).subField(sub, e, f); err != nil {
					return err
				}
			}
			if err := rc.conditions(sub, e, w.SubQuery); err != nil {
				return err
			}
		}
	}
	for _, o := range req.OrderList {
		if err := strict(o.Expression); err != nil {
			return err
		}
	}
	for _, g := range req.GroupList {
		if err := strict(g); err != nil {
			return err
		}
	}
	return nil
}

// subField checks a subquery's fieldList item: its value is compared, never shown, so
// any denied attribute in it is a violation.
func (rc *readCheck) subField(e, outer *domain.Entity, f string) error {
	if strings.TrimSpace(f) == "*" {
		for _, a := range e.Attributes {
			if rc.denied(a) {
				return rc.violation(e, a)
			}
		}
		return nil
	}
	a, _, err := rc.expr(e, outer, f)
	if err == nil && a != nil {
		err = rc.violation(e, a)
	}
	return err
}

// pathAttributes lists the attributes a path goes through from e, as far as it resolves
// (the compiler reports the rest).
func (s *Store) pathAttributes(e *domain.Entity, segs []string) []*domain.Attribute {
	var out []*domain.Attribute
	for i, seg := range segs {
		if e == nil {
			return out
		}
		name, cast, _ := strings.Cut(seg, "@")
		a := e.Attribute(name)
		if a == nil {
			return out
		}
		out = append(out, a)
		if i == len(segs)-1 {
			break
		}
		switch {
		case cast != "":
			e = s.Domain.Entity(cast)
		case a.DataType == domain.EntityT:
			e = a.Association
			if e == nil {
				e = s.Domain.Entity(a.AssociatedEntity)
			}
		case a.DataType == domain.Enum:
			e = s.Domain.Entity("ubm_enum")
		default:
			return out
		}
	}
	return out
}

// CheckRestrictions checks a client's request item against the attribute restrictions
// before anything runs: the values an insert or update sets, and what a select reads.
// The store checks the same again when it executes the item; the dispatcher calls this
// first so that a refused item fires no entity event. Requests of server-side code and
// of root always pass.
func (s *Store) CheckRestrictions(sess *Session, req *ubql.Request) error {
	if !bound(sess) {
		return nil
	}
	e := s.Domain.Entity(req.Entity)
	if e == nil || e.Mixins.MStorage == nil {
		return nil
	}
	switch req.Method {
	case "insert", "update":
		if err := checkWrite(sess, e, req.Method, req.ExecParams); err != nil {
			return err
		}
		if len(req.FieldList) == 0 {
			return nil
		}
		fallthrough // the written row is read back with the fieldList
	case "select":
		_, err := s.readPlan(sess, e, req)
		return err
	}
	return nil
}
