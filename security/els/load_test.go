package els_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/security/els"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/storetest"
	"github.com/ubgo/ubgo/ubql"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// openStore opens testdata/app on the database db of dialect d, initializing it when init.
func openStore(t *testing.T, d, db string, init bool) *store.Store {
	t.Helper()
	env := map[string]string{"TST_DRIVER": d, "TST_DB": db}
	ctx := context.Background()
	a, err := boot.Load(ctx, boot.Options{ConfigFile: "testdata/app/ubconfig.json", Logger: quiet,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, a.Config, a.Domain, store.Options{Create: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if init {
		if _, err := st.Init(ctx, store.InitOptions{AdminPassword: "admin"}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// methods are the mStorage methods of every stored entity, as jsvm.AllMethods gives them
// for an application without JavaScript.
func methods(st *store.Store) els.Methods {
	m := els.Methods{}
	for _, e := range st.Domain.Entities {
		if e.Mixins.MStorage != nil {
			m[e.Name] = []string{"select", "insert", "update", "delete", "addnew"}
		}
	}
	return m
}

func run(t *testing.T, st *store.Store, body string) []*ubql.Response {
	t.Helper()
	reqs, err := ubql.DecodeBatch([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := st.Run(context.Background(), store.System, reqs)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func addRule(t *testing.T, st *store.Store, code, entity, method, kind string, role int64) int64 {
	t.Helper()
	resp := run(t, st, fmt.Sprintf(`[{"entity":"uba_els","method":"insert","execParams":{"code":%q,"description":"test","entityMask":%q,"methodMask":%q,"ruleType":%q,"ruleRole":%d}}]`,
		code, entity, method, kind, role))
	return resp[0].Request.ExecParams["ID"].(int64)
}

var (
	admin = &store.Session{UserID: store.UserAdmin, UserName: "admin", RoleIDs: []int64{store.RoleEveryone, store.RoleUser, store.RoleAdmin}}
	user  = &store.Session{UserID: 42, UserName: "u", RoleIDs: []int64{store.RoleEveryone, store.RoleUser}}
)

func TestLoadAndWatch(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			st := openStore(t, d, storetest.Connection(t, d).DatabaseName, true)
			ctx := context.Background()
			h, w, err := els.Start(ctx, st, methods(st), quiet)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Stop()
			// The seeded rules (reference §6.2).
			for _, c := range []struct {
				sess           *store.Session
				entity, method string
				want           bool
			}{
				{admin, "uba_role", "update", true},
				{admin, "uba_audit", "select", true},
				{admin, "uba_audit", "insert", false}, // Everyone: D uba_audit [^s]*
				{admin, "uba_subject", "update", false},
				{user, "uba_user", "select", true},
				{user, "uba_user", "update", false},
				{user, "uba_role", "select", false},
				{store.System, "uba_subject", "delete", true}, // root
			} {
				if got := h.Allow(c.sess, c.entity, c.method); got != c.want {
					t.Errorf("%s %s.%s = %v, want %v", c.sess.UserName, c.entity, c.method, got, c.want)
				}
			}
			// A committed rule is in force when the write returns.
			id := addRule(t, st, "T_DENY_ADMIN_ROLE_UPDATE", "uba_role", "update", "D", store.RoleAdmin)
			if h.Allow(admin, "uba_role", "update") {
				t.Fatal("the new D rule is not in force after the commit")
			}
			run(t, st, fmt.Sprintf(`[{"entity":"uba_els","method":"update","execParams":{"ID":%d,"disabled":1},"__skipOptimisticLock":true}]`, id))
			if !h.Allow(admin, "uba_role", "update") {
				t.Fatal("disabling the rule did not restore update")
			}
			builds := w.Builds()
			// A failed batch changes nothing and rebuilds nothing.
			reqs, _ := ubql.DecodeBatch([]byte(`[{"entity":"uba_els","method":"insert","execParams":{"code":"T2","description":"d","entityMask":"*","methodMask":"*","ruleType":"D","ruleRole":1}},
				{"entity":"uba_els","method":"insert","execParams":{"code":"broken"}}]`))
			if _, err := st.Run(ctx, store.System, reqs); err == nil {
				t.Fatal("the broken batch succeeded")
			}
			if w.Builds() != builds || !h.Allow(admin, "uba_role", "select") {
				t.Fatal("a rolled back write rebuilt the matrix")
			}
			// A new role's rule applies at once; deleting the rule takes the grant away.
			resp := run(t, st, `[{"entity":"uba_role","method":"insert","execParams":{"name":"Temp","description":"t"}}]`)
			temp := resp[0].Request.ExecParams["ID"].(int64)
			ruleID := addRule(t, st, "T_TEMP", "uba_group", "select", "A", temp)
			tempUser := &store.Session{UserID: 43, RoleIDs: []int64{store.RoleEveryone, temp}}
			if !h.Allow(tempUser, "uba_group", "select") {
				t.Fatal("the Temp rule is not in force")
			}
			run(t, st, fmt.Sprintf(`[{"entity":"uba_els","method":"delete","execParams":{"ID":%d}},{"entity":"uba_role","method":"delete","execParams":{"ID":%d}}]`, ruleID, temp))
			if h.Allow(tempUser, "uba_group", "select") {
				t.Fatal("the deleted rule still applies")
			}
			// A malformed rule is reported and grants nothing.
			addRule(t, st, "T_BAD", "uba_group", "[sel", "A", store.RoleUser)
			if p := h.Matrix().Problems(); len(p) != 1 || !errors.Is(p[0], els.ErrBadMask) {
				t.Fatalf("problems: %v", p)
			}
			if h.Allow(user, "uba_group", "insert") {
				t.Fatal("the malformed rule granted something")
			}
		})
	}
}

// TestMatrixAcrossProcesses: two stores and matrices on one PostgreSQL schema stand for
// two server processes; a deny rule added through one is in force in the other.
func TestMatrixAcrossProcesses(t *testing.T) {
	db := storetest.Connection(t, storetest.PostgreSQL).DatabaseName
	first := openStore(t, storetest.PostgreSQL, db, true)
	second := openStore(t, storetest.PostgreSQL, db, false)
	ctx := context.Background()
	_, w1, err := els.Start(ctx, first, methods(first), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer w1.Stop()
	h2, w2, err := els.Start(ctx, second, methods(second), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Stop()
	if !h2.Allow(admin, "uba_group", "insert") {
		t.Fatal("admin may not insert groups to begin with")
	}
	addRule(t, first, "T_REMOTE_DENY", "uba_group", "insert", "D", store.RoleAdmin)
	deadline := time.Now().Add(20 * time.Second)
	for h2.Allow(admin, "uba_group", "insert") {
		if time.Now().After(deadline) {
			t.Fatal("the other process never saw the deny rule")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !h2.Allow(admin, "uba_group", "select") {
		t.Fatal("the other process lost unrelated grants")
	}
}
