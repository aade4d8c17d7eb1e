package security

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ubgo/ubgo/store"
)

// roleInfo is one uba_role row as the security layer uses it.
type roleInfo struct {
	ID        int64
	Name      string
	Timeout   int // minutes
	All       bool
	Endpoints map[string]bool
}

// roleSet is a snapshot of uba_role; it is replaced whole, never changed.
type roleSet struct {
	byID     map[int64]*roleInfo
	byName   map[string]*roleInfo
	loadedAt time.Time
}

// loadRoles reads uba_role. Without a uba_role entity the built-in roles stand in, with
// their built-in grants.
func (s *Service) loadRoles(ctx context.Context) (*roleSet, error) {
	rs := &roleSet{byID: map[int64]*roleInfo{}, byName: map[string]*roleInfo{}, loadedAt: s.now()}
	add := func(id int64, name string, timeout int, methods string) {
		ri := &roleInfo{ID: id, Name: name, Timeout: timeout, Endpoints: map[string]bool{}}
		for _, m := range strings.Split(methods, ",") {
			switch m = strings.TrimSpace(m); m {
			case "":
			case "*":
				ri.All = true
			default:
				ri.Endpoints[m] = true
			}
		}
		rs.byID[id], rs.byName[name] = ri, ri
	}
	if s.dom.Entity("uba_role") == nil {
		for _, r := range store.BuiltinRoles {
			add(r.ID, r.Name, r.SessionTimeout, r.AllowedMethods)
		}
		return rs, nil
	}
	rows, err := s.selectRows(ctx, "uba_role", []string{"ID", "name", "sessionTimeout", "allowedAppMethods"}, nil, nil, 0)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		add(asInt(r["ID"]), asString(r["name"]), int(asInt(r["sessionTimeout"])), asString(r["allowedAppMethods"]))
	}
	return rs, nil
}

// rolesWith returns the role snapshot, reloading it first when it lacks one of ids (a role
// created since the last load).
func (s *Service) rolesWith(ctx context.Context, ids []int64) (*roleSet, error) {
	rs := s.roles.Load()
	for _, id := range ids {
		if rs.byID[id] == nil && rs.loadedAt.Before(s.now().Add(-time.Second)) {
			fresh, err := s.loadRoles(ctx)
			if err != nil {
				return nil, err
			}
			s.roles.Store(fresh)
			return fresh, nil
		}
	}
	return rs, nil
}

// EndpointAllowed is the endpoint grant check the server runs after authentication
// (server.Options.EndpointAllowed): the endpoint must be in uba_role.allowedAppMethods
// ("*" is every endpoint) of one of the session's roles, or granted to one of them with
// App.grantEndpointToRole (Options.EndpointGrants). root may call everything. In the
// anonymous mode (no authentication methods) the anonymous session also has the grants of
// the User role: there is nobody to log in as.
//
// A denied call is a security violation: it is audited (SECURITY_VIOLATION), counted and
// reported to Hooks.OnSecurityViolation, and answered 403 with errCode 8 and
// "<<<Access deny>>>".
func (s *Service) EndpointAllowed(ctx context.Context, sess *store.Session, endpoint string) error {
	if sess != nil && s.endpointGranted(sess, endpoint) {
		return nil
	}
	reason := "endpoint " + endpoint + " is not granted to the session's roles"
	s.violation(ctx, sess, "", remoteIPOf(sess), reason)
	return &Error{Status: http.StatusForbidden, Code: CodeAccessDeny, Msg: msgAccessDeny, Err: ErrEndpointDenied, Reason: reason}
}

// endpointAliases are endpoints granted with another's name: runList is the legacy name
// of ubql, and roles grant "ubql".
var endpointAliases = map[string]string{"runList": "ubql"}

func (s *Service) endpointGranted(sess *store.Session, endpoint string) bool {
	if sess.UserID == store.UserRoot {
		return true
	}
	if alias, ok := endpointAliases[endpoint]; ok && s.endpointGranted(sess, alias) {
		return true
	}
	rs := s.roles.Load()
	ok := func(ids []int64) bool {
		for _, id := range ids {
			if ri := rs.byID[id]; ri != nil && (ri.All || ri.Endpoints[endpoint]) {
				return true
			}
		}
		return false
	}
	if ok(sess.RoleIDs) {
		return true
	}
	for _, role := range s.grants[endpoint] {
		if slices.Contains(sess.RoleNames, role) {
			return true
		}
	}
	return s.anonymousMode && sess.UserID == store.UserAnonymous && ok([]int64{store.RoleUser})
}

func remoteIPOf(sess *store.Session) string {
	if sess == nil {
		return ""
	}
	return sess.RemoteIP
}
