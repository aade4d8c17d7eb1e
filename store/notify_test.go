package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/storetest"
	"github.com/ubgo/ubgo/ubql"
)

// commits records what a CommitFunc was told.
type commits struct {
	mu    sync.Mutex
	calls [][]string
}

func (c *commits) fn(_ context.Context, entities []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, slices.Sorted(slices.Values(entities)))
}

func (c *commits) take() [][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func elsInsert(code string) string {
	return `[{"entity":"uba_els","method":"insert","execParams":{"code":"` + code + `","description":"d","entityMask":"*","methodMask":"select","ruleType":"A","ruleRole":3}}]`
}

func TestOnCommit(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			a := newApp(t, d)
			var got commits
			cancel := a.OnCommit([]string{"uba_els", "uba_userrole"}, got.fn)
			defer cancel()
			if d == storetest.PostgreSQL {
				// The listener's first connection tells every subscriber that anything may
				// have changed; wait for it so that it does not mix with what follows.
				waitFor(t, "the listener to connect", func() bool { return len(got.take()) > 0 })
			}
			internal := &store.Session{UserID: store.UserAdmin, UserName: "admin"}

			if _, err := a.run(t, internal, elsInsert("N1")); err != nil {
				t.Fatal(err)
			}
			if c := got.take(); len(c) != 1 || !slices.Equal(c[0], []string{"uba_els"}) {
				t.Fatalf("after a committed uba_els insert: %v", c)
			}
			// A write to an entity nobody watches tells nobody.
			if _, err := a.run(t, internal, `[{"entity":"uba_role","method":"insert","execParams":{"name":"R1","description":"r"}}]`); err != nil {
				t.Fatal(err)
			}
			if c := got.take(); len(c) != 0 {
				t.Fatalf("after an unwatched write: %v", c)
			}
			// A batch that fails commits nothing and tells nobody.
			if _, err := a.run(t, internal, elsInsert("N2")[:len(elsInsert("N2"))-1]+`,{"entity":"uba_els","method":"insert","execParams":{"code":"bad"}}]`); err == nil {
				t.Fatal("the batch with a bad item succeeded")
			}
			if c := got.take(); len(c) != 0 {
				t.Fatalf("after a failed batch: %v", c)
			}
			// A rolled back Tx tells nobody either.
			tx := a.Begin(internal)
			reqs, _ := ubql.DecodeBatch([]byte(elsInsert("N3")))
			if _, err := tx.Do(context.Background(), reqs[0]); err != nil {
				t.Fatal(err)
			}
			tx.Rollback()
			if c := got.take(); len(c) != 0 {
				t.Fatalf("after a rollback: %v", c)
			}
			// One transaction writing two watched entities: one call with both.
			if _, err := a.run(t, internal, `[
				{"entity":"uba_els","method":"insert","execParams":{"code":"N4","description":"d","entityMask":"*","methodMask":"*","ruleType":"D","ruleRole":3}},
				{"entity":"uba_userrole","method":"insert","execParams":{"userID":20,"roleID":3}}]`); err != nil {
				t.Fatal(err)
			}
			if c := got.take(); len(c) != 1 || !slices.Equal(c[0], []string{"uba_els", "uba_userrole"}) {
				t.Fatalf("after a two-entity transaction: %v", c)
			}
			cancel()
			if _, err := a.run(t, internal, elsInsert("N5")); err != nil {
				t.Fatal(err)
			}
			if c := got.take(); len(c) != 0 {
				t.Fatalf("after cancel: %v", c)
			}
		})
	}
}

// TestOnCommitAcrossProcesses: two stores on one PostgreSQL schema stand for two server
// processes; a write through one reaches the other's subscribers.
func TestOnCommitAcrossProcesses(t *testing.T) {
	first := newApp(t, storetest.PostgreSQL)
	second := loadApp(t, storetest.PostgreSQL, first.conn)
	// Each process publishes the writes of the entities it watches itself: in production
	// every server process runs the same subscriptions.
	var mine, got commits
	defer first.OnCommit([]string{"uba_els"}, mine.fn)()
	defer second.OnCommit([]string{"uba_els"}, got.fn)()
	waitFor(t, "the listener to connect", func() bool { return len(got.take()) > 0 })

	internal := &store.Session{UserID: store.UserAdmin, UserName: "admin"}
	if _, err := first.run(t, internal, elsInsert("X1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other store to hear of the write", func() bool {
		for _, c := range got.take() {
			if slices.Equal(c, []string{"uba_els"}) {
				return true
			}
		}
		return false
	})
	// The other store's own writes reach its subscribers once, locally.
	var own commits
	defer second.OnCommit([]string{"uba_userrole"}, own.fn)()
	if _, err := second.run(t, internal, `[{"entity":"uba_userrole","method":"insert","execParams":{"userID":20,"roleID":3}}]`); err != nil {
		t.Fatal(err)
	}
	if c := own.take(); len(c) != 1 {
		t.Fatalf("own write: %v", c)
	}
}
