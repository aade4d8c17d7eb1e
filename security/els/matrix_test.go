package els

import (
	"errors"
	"slices"
	"testing"

	"github.com/ubgo/ubgo/store"
)

const (
	roleTest  int64 = 100
	roleOther int64 = 101
)

var testMethods = Methods{
	"uba_role":  {"select", "insert", "update", "delete", "addnew"},
	"uba_user":  {"select", "insert", "update", "delete", "addnew", "changeLanguage"},
	"uba_audit": {"select", "insert", "update", "delete", "addnew", "secureBrowserEvent"},
	"tsk_task":  {"select", "insert", "update", "delete", "addnew", "close"},
}

func rule(id int64, typ, entity, method string, role int64) Rule {
	return Rule{ID: id, Code: "R" + typ + entity + method, EntityMask: entity, MethodMask: method, Type: typ, RoleID: role}
}

// TestReferenceFacts are the facts of reference §6.3 (UnityBase's 010_testELS).
func TestReferenceFacts(t *testing.T) {
	rules := []Rule{rule(200, Allow, "*", "*", store.RoleAdmin)}
	user := []int64{store.RoleEveryone, store.RoleUser, roleTest}
	withAdmin := append(slices.Clone(user), store.RoleAdmin)
	sorted := func(s []string) []string { return slices.Sorted(slices.Values(s)) }

	m := Build(rules, testMethods)
	if got := m.AllowedMethods(user, "uba_role"); len(got) != 0 {
		t.Fatalf("no rule for the role, yet it may call %v", got)
	}
	rules = append(rules, rule(1, Allow, "uba_role", "select", roleTest), rule(2, Allow, "uba_role", "addnew", roleTest))
	m = Build(rules, testMethods)
	if got := m.AllowedMethods(user, "uba_role"); !slices.Equal(sorted(got), []string{"addnew", "select"}) {
		t.Fatalf("A select + A addnew: %v", got)
	}
	rules = append(rules, rule(3, Complement, "uba_role", "addnew", roleTest))
	m = Build(rules, testMethods)
	if got := m.AllowedMethods(user, "uba_role"); !slices.Equal(got, []string{"select"}) {
		t.Fatalf("A select, A addnew, C addnew: %v, want only select", got)
	}
	if got := m.AllowedMethods(withAdmin, "uba_role"); len(got) != 5 {
		t.Fatalf("with Admin the complement of another role must not apply: %v", got)
	}
	rules = append(rules, rule(4, Deny, "uba_role", "update", store.RoleAdmin))
	m = Build(rules, testMethods)
	if got := m.AllowedMethods(withAdmin, "uba_role"); !slices.Equal(sorted(got), []string{"addnew", "delete", "insert", "select"}) {
		t.Fatalf("D update on Admin, user with Admin: %v", got)
	}
	if got := m.AllowedMethods([]int64{store.RoleAdmin}, "uba_role"); slices.Contains(got, "update") {
		t.Fatalf("D update on Admin, admin: %v", got)
	}
}

func TestMatrix(t *testing.T) {
	rules := []Rule{
		rule(1, Allow, "*", "*", store.RoleAdmin),
		rule(2, Deny, "uba_audit", "[^s]*", store.RoleEveryone),
		rule(3, Allow, "uba_user", "select", store.RoleUser),
		rule(4, Allow, "tsk_*", "[^d]*", roleTest),
		rule(5, Allow, "tsk_task", "delete", roleOther),
		{ID: 6, Code: "OFF", EntityMask: "uba_role", MethodMask: "*", Type: Allow, RoleID: roleTest, Disabled: true},
		rule(7, "a", "uba_user", "changeLanguage", roleTest), // lower-case kind
	}
	m := Build(rules, testMethods)
	if p := m.Problems(); len(p) != 0 {
		t.Fatalf("problems: %v", p)
	}
	everyone := []int64{store.RoleEveryone, store.RoleUser}
	tests := []struct {
		roles          []int64
		entity, method string
		want           bool
	}{
		{everyone, "uba_user", "select", true},
		{everyone, "uba_user", "insert", false},
		{everyone, "uba_role", "select", false},
		{[]int64{store.RoleEveryone, store.RoleAdmin}, "uba_audit", "select", true},
		{[]int64{store.RoleEveryone, store.RoleAdmin}, "uba_audit", "secureBrowserEvent", true},
		{[]int64{store.RoleEveryone, store.RoleAdmin}, "uba_audit", "insert", false}, // Everyone's D wins over Admin's A
		{[]int64{store.RoleAdmin}, "uba_audit", "insert", true},
		{[]int64{roleTest}, "tsk_task", "close", true},
		{[]int64{roleTest}, "tsk_task", "delete", false},
		{[]int64{roleTest, roleOther}, "tsk_task", "delete", true},
		{[]int64{roleTest}, "uba_role", "select", false}, // disabled rule
		{[]int64{roleTest}, "uba_user", "changeLanguage", true},
		{[]int64{store.RoleAdmin}, "tsk_task", "noSuchMethod", false}, // not registered
		{[]int64{store.RoleAdmin}, "no_entity", "select", false},
		{nil, "uba_user", "select", false},
		{[]int64{999}, "uba_user", "select", false}, // a role with no rules
	}
	for _, tt := range tests {
		if got := m.Allowed(tt.roles, tt.entity, tt.method); got != tt.want {
			t.Errorf("Allowed(%v, %s, %s) = %v, want %v", tt.roles, tt.entity, tt.method, got, tt.want)
		}
	}
	var nilMatrix *Matrix
	if nilMatrix.Allowed([]int64{store.RoleAdmin}, "uba_user", "select") {
		t.Error("a nil matrix allows")
	}
}

// TestBadRules: a rule that cannot be read never widens access and is reported by code.
func TestBadRules(t *testing.T) {
	rules := []Rule{
		rule(1, Allow, "tsk_task", "*", roleTest),
		{ID: 2, Code: "BAD_ALLOW", EntityMask: "uba_[", MethodMask: "*", Type: Allow, RoleID: roleTest},
		{ID: 3, Code: "BAD_DENY", EntityMask: "tsk_task", MethodMask: "[d", Type: Deny, RoleID: roleOther},
		{ID: 4, Code: "BAD_COMPL", EntityMask: "[", MethodMask: "close", Type: Complement, RoleID: roleTest},
		{ID: 5, Code: "BAD_KIND", EntityMask: "*", MethodMask: "*", Type: "X", RoleID: roleTest},
	}
	m := Build(rules, testMethods)
	probs := m.Problems()
	if len(probs) != 4 {
		t.Fatalf("problems %v, want 4", probs)
	}
	for i, code := range []string{"BAD_ALLOW", "BAD_DENY", "BAD_COMPL", "BAD_KIND"} {
		var re *RuleError
		if !errors.As(probs[i], &re) || re.Rule.Code != code {
			t.Errorf("problem %d = %v, want rule %s", i, probs[i], code)
		}
		if i < 3 && !errors.Is(probs[i], ErrBadMask) {
			t.Errorf("problem %d does not wrap ErrBadMask: %v", i, probs[i])
		}
	}
	if m.Allowed([]int64{roleTest}, "uba_user", "select") || m.Allowed([]int64{roleTest}, "uba_role", "select") {
		t.Error("a malformed A rule granted something")
	}
	if m.Allowed([]int64{roleTest, roleOther}, "tsk_task", "select") {
		t.Error("a D rule with a bad method mask must deny every method of its entity")
	}
	if m.Allowed([]int64{roleTest}, "tsk_task", "close") || !m.Allowed([]int64{roleTest}, "tsk_task", "select") {
		t.Error("a C rule with a bad entity mask must take its method away on every entity, and only that")
	}
	if m.Allowed([]int64{roleTest}, "uba_audit", "select") {
		t.Error("a rule of unknown kind granted something")
	}
}

func TestHolderAllow(t *testing.T) {
	var h Holder
	if h.Allow(&store.Session{UserID: 10, RoleIDs: []int64{store.RoleAdmin}}, "uba_user", "select") {
		t.Error("an empty holder allows")
	}
	if !h.Allow(store.System, "uba_user", "select") {
		t.Error("root is refused")
	}
	if h.Allow(nil, "uba_user", "select") {
		t.Error("a nil session is allowed")
	}
	h.Set(Build([]Rule{rule(1, Allow, "*", "*", store.RoleAdmin)}, testMethods))
	if !h.Allow(&store.Session{UserID: 10, RoleIDs: []int64{store.RoleAdmin}}, "uba_user", "select") {
		t.Error("Admin is refused")
	}
}

func BenchmarkAllowed(b *testing.B) {
	methods := Methods{}
	for i := range 300 {
		methods["ent_"+string(rune('a'+i%26))+string(rune('a'+i/26))] = []string{"select", "insert", "update", "delete", "addnew", "custom"}
	}
	methods["uba_user"] = testMethods["uba_user"]
	rules := []Rule{rule(1, Allow, "*", "*", store.RoleAdmin), rule(2, Deny, "uba_audit", "[^s]*", store.RoleEveryone),
		rule(3, Allow, "uba_user", "select", store.RoleUser), rule(4, Allow, "ent_*", "[^d]*", roleTest)}
	m := Build(rules, methods)
	roles := []int64{store.RoleEveryone, store.RoleUser, roleTest, roleOther}
	entity, method := "uba_user", "select"
	b.ReportAllocs()
	for b.Loop() {
		if !m.Allowed(roles, entity, method) {
			b.Fatal("denied")
		}
	}
}

func TestAllowedDoesNotAllocate(t *testing.T) {
	m := Build([]Rule{rule(1, Allow, "*", "*", store.RoleAdmin), rule(3, Allow, "uba_user", "select", store.RoleUser)}, testMethods)
	roles := []int64{store.RoleEveryone, store.RoleUser, store.RoleAdmin}
	h := NewHolder(m)
	sess := &store.Session{UserID: 42, RoleIDs: roles}
	if n := testing.AllocsPerRun(100, func() { h.Allow(sess, "uba_user", "select") }); n != 0 {
		t.Fatalf("Allow allocates %v times", n)
	}
}
