package els

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/ubql"
)

// RuleEntities are the entities the matrix is computed from: a committed write to one of
// them makes Watch rebuild it.
var RuleEntities = []string{"uba_els", "uba_role"}

// SecurityEntities are every entity whose change alters what a session may do: the
// rules, roles, users and memberships. Caches of sessions' roles subscribe to them with
// store.OnCommit.
var SecurityEntities = []string{"uba_els", "uba_role", "uba_user", "uba_userrole", "uba_group", "uba_usergroup", "uba_grouprole"}

// ErrNoRules means the domain has no uba_els entity (an application without the UBA
// model): there is nothing to build a matrix from.
var ErrNoRules = errors.New("els: the domain has no uba_els entity")

// LoadRules reads every uba_els rule, as root.
func LoadRules(ctx context.Context, st *store.Store) ([]Rule, error) {
	if st.Domain.Entity("uba_els") == nil {
		return nil, ErrNoRules
	}
	req := &ubql.Request{Entity: "uba_els", Method: "select",
		FieldList: []string{"ID", "code", "entityMask", "methodMask", "ruleType", "ruleRole", "disabled"}}
	resp, err := st.Run(ctx, store.System, []*ubql.Request{req})
	if err != nil {
		return nil, fmt.Errorf("els: read uba_els: %w", err)
	}
	rd := resp[0].ResultData
	rules := make([]Rule, 0, len(rd.Data))
	for _, row := range rd.Data {
		rules = append(rules, Rule{ID: asInt(row[0]), Code: asString(row[1]), EntityMask: asString(row[2]),
			MethodMask: asString(row[3]), Type: asString(row[4]), RoleID: asInt(row[5]), Disabled: asInt(row[6]) != 0})
	}
	return rules, nil
}

// Load reads the rules of uba_els and builds the matrix over methods. Rules it cannot
// apply as written are returned by Matrix.Problems.
func Load(ctx context.Context, st *store.Store, methods Methods) (*Matrix, error) {
	rules, err := LoadRules(ctx, st)
	if err != nil {
		return nil, err
	}
	return Build(rules, methods), nil
}

func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case float64:
		return int64(x)
	case bool:
		if x {
			return 1
		}
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

func asString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// Holder is the current matrix, read by every request and replaced whole by a rebuild.
// The zero Holder denies everything until a matrix is set.
type Holder struct {
	m atomic.Pointer[Matrix]
}

// NewHolder returns a holder of m.
func NewHolder(m *Matrix) *Holder {
	h := &Holder{}
	h.m.Store(m)
	return h
}

// Matrix is the current matrix (nil before the first Set).
func (h *Holder) Matrix() *Matrix { return h.m.Load() }

// Set replaces the matrix.
func (h *Holder) Set(m *Matrix) { h.m.Store(m) }

// Allow reports whether sess may call method of entity: root may call everything, any
// other session what the current matrix allows its roles. It has the signature of
// jsvm.Dispatcher.Allow, jsvm.PoolOptions.ELS and server.Options.MethodAllowed.
func (h *Holder) Allow(sess *store.Session, entity, method string) bool {
	if sess == nil {
		return false
	}
	if sess.UserID == store.UserRoot {
		return true
	}
	return h.m.Load().Allowed(sess.RoleIDs, entity, method)
}

// Watcher keeps a Holder current.
type Watcher struct {
	st      *store.Store
	h       *Holder
	methods Methods
	log     *slog.Logger

	mu     sync.Mutex // one rebuild at a time: the last one to run reads the newest rules
	cancel func()
	builds atomic.Int64
}

// Watch rebuilds h's matrix from st after every committed write to RuleEntities (in this
// process synchronously, before the writing request returns; on PostgreSQL also after
// writes of other processes). A rebuild that fails keeps the previous matrix and logs the
// error; rules that cannot be applied as written are logged too.
func Watch(st *store.Store, h *Holder, methods Methods, log *slog.Logger) *Watcher {
	if log == nil {
		log = slog.Default()
	}
	w := &Watcher{st: st, h: h, methods: methods, log: log}
	w.cancel = st.OnCommit(RuleEntities, func(ctx context.Context, entities []string) {
		if err := w.Rebuild(ctx); err != nil {
			log.Error("entity-level security: rebuilding the access matrix failed; the previous one stays in force",
				"changed", entities, "err", err)
		}
	})
	return w
}

// Rebuild reads the rules again and replaces the matrix.
func (w *Watcher) Rebuild(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	m, err := Load(ctx, w.st, w.methods)
	if err != nil {
		return err
	}
	for _, p := range m.Problems() {
		w.log.Error("entity-level security: a rule cannot be applied as written", "err", p)
	}
	w.h.Set(m)
	w.builds.Add(1)
	return nil
}

// Builds counts the rebuilds that succeeded.
func (w *Watcher) Builds() int64 { return w.builds.Load() }

// Stop ends the subscription.
func (w *Watcher) Stop() { w.cancel() }

// Start builds the matrix of st's rules over methods and keeps it current: it subscribes
// first and loads second, so no change can fall between the two. Stop the Watcher before
// closing the store.
func Start(ctx context.Context, st *store.Store, methods Methods, log *slog.Logger) (*Holder, *Watcher, error) {
	h := &Holder{}
	w := Watch(st, h, methods, log)
	if err := w.Rebuild(ctx); err != nil {
		w.Stop()
		return nil, nil, err
	}
	return h, w, nil
}
