package security

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/ubql"
)

// DefaultSessionTimeout is the idle timeout of a session whose user holds no role with a
// sessionTimeout (reference §6.5.3).
const DefaultSessionTimeout = 30 * time.Minute

// userRecord is what a login needs of a uba_user row.
type userRecord struct {
	ID             int64
	Name           string
	UData          string
	Disabled       bool
	Pending        bool
	Hash           string // uPasswordHashHexa
	PasswordChange time.Time
}

// canLogIn reports whether the user may authenticate with a password at all: enabled,
// confirmed, and with a real password hash (root and anonymous have "-", which anybody
// could "prove").
func (u *userRecord) canLogIn() bool {
	return !u.Disabled && !u.Pending && isHash(u.Hash) && u.ID != store.UserRoot && u.ID != store.UserAnonymous
}

// isHash reports whether s is a 64-digit lower- or upper-case hex string.
func isHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

var userFields = []string{"ID", "name", "uData", "disabled", "isPending", "uPasswordHashHexa", "lastPasswordChangeDate"}

// findUser reads the user whose login is name (compared lower-cased, as uba_user.name is
// stored); nil when there is none.
func (s *Service) findUser(ctx context.Context, name string) (*userRecord, error) {
	return s.readUser(ctx, ubql.WhereItem{Name: "byName", Expression: "[name]", Condition: ubql.Equal,
		Value: normalizeLogin(name), HasValue: true})
}

// userByID reads the user with this ID; nil when there is none.
func (s *Service) userByID(ctx context.Context, id int64) (*userRecord, error) {
	return s.readUser(ctx, ubql.WhereItem{Name: "byID", Expression: "[ID]", Condition: ubql.Equal, Value: id, HasValue: true})
}

func (s *Service) readUser(ctx context.Context, where ubql.WhereItem) (*userRecord, error) {
	rows, err := s.selectRows(ctx, "uba_user", userFields, []ubql.WhereItem{where}, nil, 2)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	r := rows[0]
	u := &userRecord{ID: asInt(r["ID"]), Name: asString(r["name"]), UData: asString(r["uData"]),
		Disabled: asInt(r["disabled"]) != 0, Pending: asInt(r["isPending"]) != 0, Hash: asString(r["uPasswordHashHexa"])}
	if t, ok := r["lastPasswordChangeDate"].(time.Time); ok {
		u.PasswordChange = t
	}
	return u, nil
}

// selectRows runs a select as the system (no ELS, no attribute restrictions: it reads
// password hashes) and returns the rows as maps. It never writes.
func (s *Service) selectRows(ctx context.Context, entity string, fields []string, where []ubql.WhereItem,
	order []ubql.OrderItem, limit int) ([]map[string]any, error) {
	if s.dom.Entity(entity) == nil {
		return nil, nil
	}
	tx := s.st.Begin(store.System)
	defer tx.Rollback()
	resp, err := tx.Select(ctx, &ubql.Request{Entity: entity, Method: "select", FieldList: fields, FieldListSet: true,
		WhereList: where, OrderList: order, Options: ubql.Options{Limit: limit}})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", entity, err)
	}
	if resp.ResultData == nil {
		return nil, nil
	}
	out := make([]map[string]any, 0, len(resp.ResultData.Data))
	for _, row := range resp.ResultData.Data {
		m := make(map[string]any, len(row))
		for i, f := range resp.ResultData.Fields {
			m[f] = row[i]
		}
		out = append(out, m)
	}
	return out, nil
}

func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case bool:
		if x {
			return 1
		}
	}
	return 0
}

func asString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

// identityOf is a user's roles and groups as Session._getRBACInfo computes them
// (reference §6.3 roles(user)): the runtime roles (Everyone, and User or Anonymous), the
// roles granted directly (uba_userrole), and the roles of the user's groups
// (uba_usergroup → uba_grouprole) after security.limitGroupsTo / excludeGroups.
type identityOf struct {
	RoleIDs   []int64
	RoleNames []string
	GroupIDs  []int64
	Timeout   time.Duration // the largest sessionTimeout of the non-runtime roles
}

func (s *Service) rbac(ctx context.Context, userID int64, authenticated bool) (*identityOf, error) {
	ids := []int64{store.RoleEveryone}
	if authenticated {
		ids = append(ids, store.RoleUser)
	} else {
		ids = append(ids, store.RoleAnonymous)
	}
	byUser := []ubql.WhereItem{{Name: "byUser", Expression: "[userID]", Condition: ubql.Equal, Value: userID, HasValue: true}}
	rows, err := s.selectRows(ctx, "uba_userrole", []string{"roleID"}, byUser, nil, 0)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		ids = append(ids, asInt(r["roleID"]))
	}
	var groups []int64
	if s.dom.Entity("uba_usergroup") != nil && s.dom.Entity("uba_group") != nil {
		rows, err := s.selectRows(ctx, "uba_usergroup", []string{"groupID", "groupID.code"}, byUser, nil, 0)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if s.groupAllowed(asString(r["groupID.code"])) {
				groups = append(groups, asInt(r["groupID"]))
			}
		}
		slices.Sort(groups)
		groups = slices.Compact(groups)
	}
	if len(groups) > 0 && s.dom.Entity("uba_grouprole") != nil {
		vals := make([]any, len(groups))
		for i, g := range groups {
			vals[i] = g
		}
		rows, err := s.selectRows(ctx, "uba_grouprole", []string{"roleID"},
			[]ubql.WhereItem{{Name: "byGroup", Expression: "[groupID]", Condition: ubql.In, Value: vals, HasValue: true}}, nil, 0)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			ids = append(ids, asInt(r["roleID"]))
		}
	}
	// Keep the runtime roles first and the others in ID order, each once.
	head, rest := ids[:2], slices.Clone(ids[2:])
	slices.Sort(rest)
	rest = slices.Compact(rest)
	rest = slices.DeleteFunc(rest, func(id int64) bool { return slices.Contains(head, id) })
	ids = append(slices.Clone(head), rest...)
	// The Anonymous role cannot be held by an authenticated user, nor User by anonymous.
	if authenticated {
		ids = slices.DeleteFunc(ids, func(id int64) bool { return id == store.RoleAnonymous })
	} else {
		ids = slices.DeleteFunc(ids, func(id int64) bool { return id == store.RoleUser })
	}
	roles, err := s.rolesWith(ctx, ids)
	if err != nil {
		return nil, err
	}
	id := &identityOf{RoleIDs: ids, GroupIDs: groups}
	for _, rid := range ids {
		ri := roles.byID[rid]
		if ri == nil {
			continue // a role deleted since it was granted
		}
		id.RoleNames = append(id.RoleNames, ri.Name)
		if !isRuntimeRole(rid) && ri.Timeout > 0 {
			id.Timeout = max(id.Timeout, time.Duration(ri.Timeout)*time.Minute)
		}
	}
	if id.Timeout == 0 {
		id.Timeout = DefaultSessionTimeout
	}
	return id, nil
}

func isRuntimeRole(id int64) bool {
	return id == store.RoleEveryone || id == store.RoleUser || id == store.RoleAnonymous
}

// groupAllowed applies security.limitGroupsTo and excludeGroups to a group code.
func (s *Service) groupAllowed(code string) bool {
	sec := s.cfg.Security
	if len(sec.LimitGroupsTo) > 0 && !slices.Contains(sec.LimitGroupsTo, code) {
		return false
	}
	return !slices.Contains(sec.ExcludeGroups, code)
}

// userData is Session.uData (reference §6.5.3): the user's uba_user.uData object (invalid
// JSON is logged and ignored) and the keys the server maintains.
func (s *Service) userData(u *userRecord, lang string, id *identityOf) map[string]any {
	ud := map[string]any{}
	if strings.TrimSpace(u.UData) != "" {
		var v any
		if err := json.Unmarshal([]byte(u.UData), &v); err != nil {
			s.log.Warn("uba_user.uData is not valid JSON; ignored", "userID", u.ID, "err", err)
		} else if m, ok := normalizeJSON(v).(map[string]any); ok {
			ud = m
		} else {
			s.log.Warn("uba_user.uData is not a JSON object; ignored", "userID", u.ID)
		}
	}
	ud["userID"] = u.ID
	ud["login"] = u.Name
	ud["lang"] = lang
	ud["roles"] = strings.Join(id.RoleNames, ",")
	ud["roleIDs"] = anySlice(id.RoleIDs)
	ud["groupIDs"] = anySlice(id.GroupIDs)
	return ud
}

// anySlice makes the IDs a JSON array value as uData holds it ([]any of int64), so that
// a session read back from a store looks the same.
func anySlice(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// userLang is the language of a new session: prefUData.lang, then uba_user.uData.lang,
// when the application supports them, else application.defaultLang.
func (s *Service) userLang(u *userRecord, pref map[string]any) string {
	if l, _ := pref["lang"].(string); l != "" && s.dom.SupportsLang(l) {
		return l
	}
	if strings.TrimSpace(u.UData) != "" {
		var m map[string]any
		if json.Unmarshal([]byte(u.UData), &m) == nil {
			if l, _ := m["lang"].(string); l != "" && s.dom.SupportsLang(l) {
				return l
			}
		}
	}
	return s.dom.DefaultLang
}
