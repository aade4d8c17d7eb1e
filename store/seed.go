package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
)

// PasswordHash is the stored form of a password, uba_user.uPasswordHashHexa: the lower-case
// hex SHA-256 of "salt" + password. It is what UnityBase stores, because the UB
// authentication handshake proves knowledge of exactly this value; it is unsalted per user
// and fast to compute, so the database must be protected like the passwords themselves.
func PasswordHash(password string) string {
	sum := sha256.Sum256([]byte("salt" + password))
	return hex.EncodeToString(sum[:])
}

// GeneratePassword returns a random password of 20 letters and digits.
func GeneratePassword() string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		b[i] = alphabet[n.Int64()]
	}
	return string(b)
}

// Built-in role IDs (reference §6.2).
const (
	RoleEveryone    int64 = 0
	RoleAdmin       int64 = 1
	RoleAnonymous   int64 = 2
	RoleUser        int64 = 3
	RoleSupervisor  int64 = 4
	RoleDeveloper   int64 = 5
	RoleMonitor     int64 = 6
	RoleSysOps      int64 = 8
	RoleDataManager int64 = 9
)

// BuiltinRole is a role every application has, with its endpoint grants and session timeout
// in minutes.
type BuiltinRole struct {
	ID             int64
	Name           string
	Description    string
	AllowedMethods string
	SessionTimeout int
}

// BuiltinRoles are the roles of reference §6.2 in ID order.
var BuiltinRoles = []BuiltinRole{
	{RoleEveryone, "Everyone", "Everyone, authenticated or not", "auth,timeStamp,statics,getAppInfo,models", 1000},
	{RoleAdmin, "Admin", "Administrators", "*", 10},
	{RoleAnonymous, "Anonymous", "Requests without a session", "", 1000},
	{RoleUser, "User", "Every authenticated user", "changePassword,checkDocument,getDocument,getDomainInfo,logout,rest,setDocument,ubql", 30},
	{RoleSupervisor, "Supervisor", "Security supervisors: manage users and groups", "", 30},
	{RoleDeveloper, "Developer", "Developers: metadata and reports", "", 30},
	{RoleMonitor, "Monitor", "Monitoring: server statistics", "stat", 100},
	{RoleSysOps, "SysOps", "System operators", "", 30},
	{RoleDataManager, "DataManager", "Data managers", "", 30},
}

// builtinELS are the entity-level security rules every application starts with: the fixed
// Admin rule of initDB, and the default rules of UBA for Everyone and User.
var builtinELS = []struct {
	ID                                int64
	Code, Entity, Method, Rule, Descr string
	Role                              int64
}{
	{200, "UBA_ADMIN_ALL", "*", "*", "A", "Admins may call every method", RoleAdmin},
	{0, "UBA_EVERYONE_AUDIT_DENY", "uba_audit", "[^s]*", "D", "The security audit is read only", RoleEveryone},
	{0, "UBA_EVERYONE_SUBJECT_DENY", "uba_subject", "[iuda]*", "D", "Subjects change only through users, roles and groups", RoleEveryone},
	{0, "UBA_EVERYONE_AUDITTRAIL_DENY", "uba_auditTrail", "[iuda]*", "D", "The audit trail is read only", RoleEveryone},
	{0, "UBA_USER_USER_SELECT", "uba_user", "select", "A", "Users may read the user list", RoleUser},
	{0, "UBA_USER_CHANGE_LANGUAGE", "uba_user", "changeLanguage", "A", "Users may change their language", RoleUser},
	{0, "UBA_USER_SET_UDATA_KEY", "uba_user", "setUDataKey", "A", "Users may change their settings", RoleUser},
	{0, "UBA_USER_GET_USER_DATA", "uba_user", "getUserData", "A", "Users may read their own data", RoleUser},
	{0, "UBA_USER_GROUP_SELECT", "uba_group", "select", "A", "Users may read the group list", RoleUser},
	{0, "UBA_SUPERVISOR_USERS", "uba_user", "*", "A", "Supervisors manage users", RoleSupervisor},
	{0, "UBA_SUPERVISOR_GROUPS", "uba_group", "*", "A", "Supervisors manage groups", RoleSupervisor},
	{0, "UBA_SUPERVISOR_USERROLES", "uba_userrole", "*", "A", "Supervisors grant roles", RoleSupervisor},
	{0, "UBA_SUPERVISOR_USERGROUPS", "uba_usergroup", "*", "A", "Supervisors manage group members", RoleSupervisor},
	{0, "UBA_SUPERVISOR_GROUPROLES", "uba_grouprole", "*", "A", "Supervisors grant roles to groups", RoleSupervisor},
	{0, "UBA_SUPERVISOR_ROLES_SELECT", "uba_role", "select", "A", "Supervisors read roles", RoleSupervisor},
	{0, "UBA_SUPERVISOR_AUDIT_SELECT", "uba_audit", "select", "A", "Supervisors read the security audit", RoleSupervisor},
	{0, "UBA_SUPERVISOR_ELS", "uba_els", "*", "A", "Supervisors manage access rules", RoleSupervisor},
	{0, "UBA_DEVELOPER_ROLES", "uba_role", "*", "A", "Developers manage roles", RoleDeveloper},
	{0, "UBA_DEVELOPER_ELS", "uba_els", "*", "A", "Developers manage access rules", RoleDeveloper},
}

// ErrNotSeeded means the database has no built-in users yet ("ubgo init" was not run).
var ErrNotSeeded = errors.New("the database has no built-in users")

// Seeded reports whether the built-in rows exist (the admin user is there).
func (s *Store) Seeded(ctx context.Context) (bool, error) {
	users := s.Domain.Entity("uba_user")
	if users == nil {
		return true, nil // no UBA model: nothing to seed
	}
	c := s.ConnOf(users)
	var n int
	q := "SELECT COUNT(*) FROM " + c.Dialect.Ident(users.ExecName(c.Dialect.Name())) + " WHERE ID = " + c.Dialect.Placeholder(1)
	if err := c.Read.QueryRowContext(ctx, q, UserAdmin).Scan(&n); err != nil {
		return false, fmt.Errorf("look for the admin user: %w", err)
	}
	return n > 0, nil
}

// Seed inserts the built-in roles, users (root, admin with adminPassword, anonymous), their
// role memberships and the default access rules with the fixed IDs of reference §6.2, in
// one transaction. It does nothing when the admin user exists already, and nothing when
// the application has no UBA model.
func (s *Store) Seed(ctx context.Context, adminPassword string) error {
	if s.Domain.Entity("uba_user") == nil || s.Domain.Entity("uba_role") == nil {
		return nil
	}
	if ok, err := s.Seeded(ctx); err != nil || ok {
		return err
	}
	if adminPassword == "" {
		return errors.New("seed: the admin password is empty")
	}
	tx := s.Begin(System)
	defer tx.Rollback()
	// Roles and users are owned by root (mi_owner), who is inserted among them.
	for _, c := range s.Conns {
		if err := tx.DeferConstraints(ctx, c); err != nil {
			return err
		}
	}
	ins := func(entity string, params map[string]any) error {
		e := s.Domain.Entity(entity)
		if e == nil {
			return nil
		}
		_, err := tx.insert(ctx, e, params, false)
		if err != nil {
			return fmt.Errorf("seed %s: %w", entity, err)
		}
		return nil
	}
	for _, r := range BuiltinRoles {
		if err := ins("uba_role", map[string]any{"ID": r.ID, "name": r.Name, "description": r.Description,
			"allowedAppMethods": r.AllowedMethods, "sessionTimeout": int64(r.SessionTimeout)}); err != nil {
			return err
		}
	}
	for _, u := range []struct {
		id         int64
		name, hash string
	}{{UserRoot, "root", "-"}, {UserAdmin, "admin", PasswordHash(adminPassword)}, {UserAnonymous, "anonymous", "-"}} {
		if err := ins("uba_user", map[string]any{"ID": u.id, "name": u.name, "fullName": u.name, "uPasswordHashHexa": u.hash}); err != nil {
			return err
		}
	}
	for _, ur := range []struct{ id, user, role int64 }{{800, UserAdmin, RoleAdmin}, {900, UserAnonymous, RoleAnonymous}} {
		if err := ins("uba_userrole", map[string]any{"ID": ur.id, "userID": ur.user, "roleID": ur.role}); err != nil {
			return err
		}
	}
	for _, r := range builtinELS {
		p := map[string]any{"code": r.Code, "entityMask": r.Entity, "methodMask": r.Method, "ruleType": r.Rule,
			"ruleRole": r.Role, "description": r.Descr}
		if r.ID != 0 {
			p["ID"] = r.ID
		}
		if err := ins("uba_els", p); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// InitOptions adjust Init.
type InitOptions struct {
	// AdminPassword of the admin user; a random one is generated when empty (and returned).
	AdminPassword    string
	ClientNum        int
	AllowDestructive bool
}

// InitResult reports what Init did.
type InitResult struct {
	Plans []ConnPlan
	// Seeded is false when the database had its built-in users already.
	Seeded bool
	// AdminPassword is the admin password set by this run, GeneratedPassword whether Init
	// made it up; show a generated password to the operator once.
	AdminPassword     string
	GeneratedPassword bool
}

// Init prepares the application's databases: it migrates every connection and seeds the
// built-in users, roles and access rules. Running it on an initialized database migrates and
// leaves the users alone. "ubgo init" and the first start of "ubgo serve" call it.
func (s *Store) Init(ctx context.Context, opt InitOptions) (*InitResult, error) {
	res := &InitResult{}
	plans, err := s.Migrate(ctx, MigrateOptions{AllowDestructive: opt.AllowDestructive, ClientNum: opt.ClientNum})
	res.Plans = plans
	if err != nil {
		return res, err
	}
	seeded, err := s.Seeded(ctx)
	if err != nil || seeded {
		return res, err
	}
	res.AdminPassword = opt.AdminPassword
	if res.AdminPassword == "" {
		res.AdminPassword, res.GeneratedPassword = GeneratePassword(), true
	}
	if err := s.Seed(ctx, res.AdminPassword); err != nil {
		return res, err
	}
	res.Seeded = true
	return res, nil
}
