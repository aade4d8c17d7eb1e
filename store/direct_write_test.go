package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/storetest"
	"github.com/ubgo/ubgo/ubql"
)

// newDirectApp is newApp with the audit mixin (which the test application's config adds to
// every entity) taken off tst_line, tst_subline and tst_tag, as an application does with
// "audit": {"enabled": false}: their updates and deletes need no stored values.
func newDirectApp(t *testing.T, d string) *app { return newDirectBenchApp(t, d) }

func newDirectBenchApp(t testing.TB, d string) *app {
	t.Helper()
	env := map[string]string{"TST_DRIVER": d, "TST_DB": storetest.Connection(t, d).DatabaseName}
	ctx := context.Background()
	b, err := boot.Load(ctx, boot.Options{ConfigFile: "testdata/app/ubconfig.json", Logger: quiet,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tst_line", "tst_subline", "tst_tag"} {
		e := b.Domain.Entity(name)
		if e.Mixins.Audit == nil {
			t.Fatalf("%s has no audit mixin to take off: the test no longer tests the change", name)
		}
		e.Mixins.Audit = nil
	}
	clk := &clock{t: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
	st, err := store.Open(ctx, b.Config, b.Domain, store.Options{Create: true, Logger: quiet, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := &app{Store: st, clock: clk}
	if _, err := a.Migrate(ctx, store.MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := a.Seed(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestDirectUpdate covers updates of entities that need no stored values (no audit mixin,
// no unity parent): tst_line has simpleAudit, so its lock token is checked by the UPDATE
// itself, and a row that did not change is looked up to tell 404 from 409.
func TestDirectUpdate(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newDirectApp(t, d)
		doc := a.rows(t, admin, `[{"entity":"tst_doc","method":"insert","fieldList":["ID"],"execParams":{"code":"L1"}}]`)[0]["ID"].(int64)
		doc2 := a.rows(t, admin, `[{"entity":"tst_doc","method":"insert","fieldList":["ID"],"execParams":{"code":"L2"}}]`)[0]["ID"].(int64)
		ins := a.rows(t, admin, fmt.Sprintf(`[{"entity":"tst_line","method":"insert","fieldList":["ID","mi_modifyDate"],"execParams":{"doc":%d,"note":"n0"}}]`, doc))[0]
		id, token := ins["ID"].(int64), ins["mi_modifyDate"].(time.Time)
		tok := func(t time.Time) string { return t.Format(time.RFC3339Nano) }
		upd := func(params string) ([]*ubql.Response, error) {
			return a.run(t, admin, `[{"entity":"tst_line","method":"update","fieldList":["ID","doc","note","mi_modifyDate","mi_modifyUser"],"execParams":`+params+`}]`)
		}
		read := func() map[string]any {
			return a.rows(t, admin, fmt.Sprintf(`[{"entity":"tst_line","method":"select","fieldList":["doc","note","mi_modifyDate"],"ID":%d}]`, id))[0]
		}

		// Same clock instant as the insert: the token still advances, by a millisecond.
		out, err := upd(fmt.Sprintf(`{"ID":%d,"note":"n1","mi_modifyDate":%q}`, id, tok(token)))
		if err != nil {
			t.Fatal(err)
		}
		row := out[0].ResultData.Data[0]
		next := row[3].(time.Time)
		if row[1] != doc || row[2] != "n1" || !next.Equal(token.Add(time.Millisecond)) || row[4] != store.UserAdmin {
			t.Fatalf("after update: %v (token %v)", row, token)
		}
		if echo := out[0].Request.ExecParams["mi_modifyDate"]; echo == nil || !echo.(time.Time).Equal(next) {
			t.Fatalf("echoed token %v, stored %v", echo, next)
		}

		// The stale token loses and changes nothing.
		_, err = upd(fmt.Sprintf(`{"ID":%d,"note":"stale","mi_modifyDate":%q}`, id, tok(token)))
		wantCode(t, err, store.CodeRecordModified)
		// A client must send the token; a token that is no date is bad data.
		_, err = upd(fmt.Sprintf(`{"ID":%d,"note":"x"}`, id))
		wantCode(t, err, store.CodeNecessaryFieldNotExist)
		_, err = upd(fmt.Sprintf(`{"ID":%d,"note":"x","mi_modifyDate":"soon"}`, id))
		wantCode(t, err, store.CodeInvalidData)
		// A missing row is a 404, whatever else is wrong with the request.
		_, err = upd(fmt.Sprintf(`{"ID":%d,"note":"x","mi_modifyDate":%q}`, id+1000, tok(next)))
		wantCode(t, err, store.CodeUpdateRecNotFound)
		_, err = upd(fmt.Sprintf(`{"ID":%d,"note":"x","mi_modifyDate":"soon"}`, id+1000))
		wantCode(t, err, store.CodeUpdateRecNotFound)
		_, err = upd(fmt.Sprintf(`{"ID":%d,"nope":"x","mi_modifyDate":%q}`, id+1000, tok(next)))
		wantCode(t, err, store.CodeUpdateRecNotFound)
		// Forged system attributes and unknown attributes of an existing row.
		_, err = upd(fmt.Sprintf(`{"ID":%d,"mi_createUser":1,"mi_modifyDate":%q}`, id, tok(next)))
		wantCode(t, err, store.CodeInvalidData)
		_, err = upd(fmt.Sprintf(`{"ID":%d,"nope":"x","mi_modifyDate":%q}`, id, tok(next)))
		wantCode(t, err, store.CodeAttributeNotExist)
		if got := read(); got["note"] != "n1" || !got["mi_modifyDate"].(time.Time).Equal(next) {
			t.Fatalf("failed updates changed the row: %v", got)
		}

		// Another set of columns (another statement text), later on the clock.
		a.clock.Add(time.Second)
		out, err = upd(fmt.Sprintf(`{"ID":%d,"doc":%d,"note":"n2","mi_modifyDate":%q}`, id, doc2, tok(next)))
		if err != nil {
			t.Fatal(err)
		}
		row = out[0].ResultData.Data[0]
		if row[1] != doc2 || row[2] != "n2" || !row[3].(time.Time).Equal(a.clock.Now().Truncate(time.Millisecond)) {
			t.Fatalf("after the second update: %v", row)
		}
		// A reference to a missing row is refused by the database, as before.
		_, err = upd(fmt.Sprintf(`{"ID":%d,"doc":%d,"mi_modifyDate":%q}`, id, doc2+1000, tok(row[3].(time.Time))))
		wantCode(t, err, store.CodeInvalidData)
	})
}

// TestDirectUpdateWithoutLock: an entity without simpleAudit has no token; its update is
// one UPDATE, a missing row a 404, a unique violation a 409.
func TestDirectUpdateWithoutLock(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newDirectApp(t, d)
		out := a.mustRun(t, admin, `[{"entity":"tst_tag","method":"insert","execParams":{"name":"a"}},{"entity":"tst_tag","method":"insert","execParams":{"name":"b"}}]`)
		ida, idb := out[0].Request.ExecParams["ID"].(int64), out[1].Request.ExecParams["ID"].(int64)
		a.mustRun(t, admin, fmt.Sprintf(`[{"entity":"tst_tag","method":"update","execParams":{"ID":%d,"name":"a2"}}]`, ida))
		_, err := a.run(t, admin, fmt.Sprintf(`[{"entity":"tst_tag","method":"update","execParams":{"ID":%d,"name":"a2"}}]`, idb))
		wantCode(t, err, store.CodeValueMustBeUnique)
		_, err = a.run(t, admin, fmt.Sprintf(`[{"entity":"tst_tag","method":"update","execParams":{"ID":%d,"name":"c"}}]`, idb+1000))
		wantCode(t, err, store.CodeUpdateRecNotFound)
		got := a.rows(t, admin, `[{"entity":"tst_tag","method":"select","fieldList":["ID","name"],"orderList":{"0":{"expression":"ID","order":"asc"}}}]`)
		if len(got) != 2 || got[0]["name"] != "a2" || got[1]["name"] != "b" {
			t.Fatalf("tags: %v", got)
		}
	})
}

// TestConcurrentDirectUpdates: writers that read the same token race on an entity whose
// lock is checked by the UPDATE alone; exactly one wins, the rest get errCode 25.
func TestConcurrentDirectUpdates(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newDirectApp(t, d)
		doc := a.rows(t, admin, `[{"entity":"tst_doc","method":"insert","fieldList":["ID"],"execParams":{"code":"C1"}}]`)[0]["ID"].(int64)
		ins := a.rows(t, admin, fmt.Sprintf(`[{"entity":"tst_line","method":"insert","fieldList":["ID","mi_modifyDate"],"execParams":{"doc":%d}}]`, doc))[0]
		id, token := ins["ID"].(int64), ins["mi_modifyDate"].(time.Time).Format(time.RFC3339Nano)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				reqs, _ := ubql.DecodeBatch(fmt.Appendf(nil, `[{"entity":"tst_line","method":"update","execParams":{"ID":%d,"note":"w%d","mi_modifyDate":%q}}]`, id, i, token))
				_, errs[i] = a.Run(context.Background(), admin, reqs)
			})
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			if err == nil {
				if won >= 0 {
					t.Fatalf("writers %d and %d both won", won, i)
				}
				won = i
				continue
			}
			wantCode(t, err, store.CodeRecordModified)
		}
		if won < 0 {
			t.Fatal("no writer won")
		}
		if got := a.rows(t, admin, fmt.Sprintf(`[{"entity":"tst_line","method":"select","fieldList":["note"],"ID":%d}]`, id))[0]["note"]; got != fmt.Sprintf("w%d", won) {
			t.Fatalf("note = %v, want the winner's w%d", got, won)
		}
	})
}

// TestDirectDelete: entities without safeDelete, audit, unity or cascades are deleted by
// one DELETE; a missing row is a 404, and a cascading entity still takes its children
// with it.
func TestDirectDelete(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newDirectApp(t, d)
		doc := a.rows(t, admin, `[{"entity":"tst_doc","method":"insert","fieldList":["ID"],"execParams":{"code":"X1"}}]`)[0]["ID"].(int64)
		line := a.mustRun(t, admin, fmt.Sprintf(`[{"entity":"tst_line","method":"insert","execParams":{"doc":%d}}]`, doc))[0].Request.ExecParams["ID"].(int64)
		sub := func() int64 {
			return a.mustRun(t, admin, fmt.Sprintf(`[{"entity":"tst_subline","method":"insert","execParams":{"line":%d}}]`, line))[0].Request.ExecParams["ID"].(int64)
		}
		s1, s2 := sub(), sub()
		del := func(entity string, id int64) error {
			_, err := a.run(t, admin, fmt.Sprintf(`[{"entity":%q,"method":"delete","execParams":{"ID":%d}}]`, entity, id))
			return err
		}
		if err := del("tst_subline", s1); err != nil {
			t.Fatal(err)
		}
		wantCode(t, del("tst_subline", s1), store.CodeDeleteRecNotFound)
		count := func(entity string) int {
			return len(a.rows(t, admin, `[{"entity":"`+entity+`","method":"select","fieldList":["ID"]}]`))
		}
		if n := count("tst_subline"); n != 1 {
			t.Fatalf("%d sub-lines left, want 1", n)
		}
		// tst_line cascades to its sub-lines: that delete still reads and follows them.
		if err := del("tst_line", line); err != nil {
			t.Fatal(err)
		}
		if n := count("tst_subline"); n != 0 {
			t.Fatalf("sub-line %d survived its line", s2)
		}
		wantCode(t, del("tst_line", line), store.CodeDeleteRecNotFound)

		// A batch deleting a tag twice fails on the second item and rolls back as a whole.
		tag := a.mustRun(t, admin, `[{"entity":"tst_tag","method":"insert","execParams":{"name":"t"}}]`)[0].Request.ExecParams["ID"].(int64)
		_, err := a.run(t, admin, fmt.Sprintf(`[{"entity":"tst_tag","method":"delete","execParams":{"ID":%d}},{"entity":"tst_tag","method":"delete","execParams":{"ID":%d}}]`, tag, tag))
		wantCode(t, err, store.CodeDeleteRecNotFound)
		if n := count("tst_tag"); n != 1 {
			t.Fatalf("%d tags after a rolled back batch, want 1", n)
		}
	})
}

// TestOneItemAutocommit: a Tx promised one item runs a one-statement update or delete
// without a transaction (so a Rollback after it, which the promise rules out, no longer
// undoes it), refuses a write after it, and keeps everything else transactional: an
// update that reads its row back, a batch, an entity an OnCommit subscriber watches.
func TestOneItemAutocommit(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newDirectApp(t, d)
		ctx := context.Background()
		tags := a.mustRun(t, admin, `[{"entity":"tst_tag","method":"insert","execParams":{"name":"a"}},{"entity":"tst_tag","method":"insert","execParams":{"name":"b"}}]`)
		ida, idb := tags[0].Request.ExecParams["ID"].(int64), tags[1].Request.ExecParams["ID"].(int64)
		name := func(id int64) any {
			rows := a.rows(t, admin, fmt.Sprintf(`[{"entity":"tst_tag","method":"select","fieldList":["name"],"ID":%d}]`, id))
			if len(rows) == 0 {
				return nil
			}
			return rows[0]["name"]
		}
		do := func(oneItem bool, body string) (*store.Tx, error) {
			reqs, err := ubql.DecodeBatch([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			tx := a.Begin(admin)
			if oneItem {
				tx.OneItem()
			}
			_, err = tx.Do(ctx, reqs[0])
			return tx, err
		}
		upd := func(id int64, v string) string {
			return fmt.Sprintf(`[{"entity":"tst_tag","method":"update","execParams":{"ID":%d,"name":%q}}]`, id, v)
		}

		// Without the promise the item is in the transaction: Rollback undoes it.
		tx, err := do(false, upd(ida, "a1"))
		if err != nil {
			t.Fatal(err)
		}
		tx.Rollback()
		if got := name(ida); got != "a" {
			t.Fatalf("name %v after a rolled back update, want a", got)
		}
		// With it, the one UPDATE committed by itself; a further write is refused.
		tx, err = do(true, upd(ida, "a2"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = tx.Do(ctx, &ubql.Request{Entity: "tst_tag", Method: "insert", ExecParams: map[string]any{"name": "c"}})
		wantCode(t, err, 0)
		tx.Rollback()
		if got := name(ida); got != "a2" {
			t.Fatalf("name %v after an autocommit update, want a2", got)
		}
		// Reading the row back could still fail the item: that update stays transactional.
		tx, err = do(true, fmt.Sprintf(`[{"entity":"tst_tag","method":"update","fieldList":["ID","name"],"execParams":{"ID":%d,"name":"a3"}}]`, ida))
		if err != nil {
			t.Fatal(err)
		}
		tx.Rollback()
		if got := name(ida); got != "a2" {
			t.Fatalf("name %v after a rolled back update with fieldList, want a2", got)
		}
		// A failed statement wrote nothing, and a missing row is still told apart.
		tx, err = do(true, upd(idb, "a2"))
		wantCode(t, err, store.CodeValueMustBeUnique)
		tx.Rollback()
		tx, err = do(true, upd(idb+1000, "z"))
		wantCode(t, err, store.CodeUpdateRecNotFound)
		tx.Rollback()
		// Delete: one DELETE, committed by itself.
		tx, err = do(true, fmt.Sprintf(`[{"entity":"tst_tag","method":"delete","execParams":{"ID":%d}}]`, idb))
		if err != nil {
			t.Fatal(err)
		}
		tx.Rollback()
		if got := name(idb); got != nil {
			t.Fatalf("tag %d survived an autocommit delete: %v", idb, got)
		}

		// A watched entity keeps its transaction, so the subscriber hears of the commit.
		var heard sync.WaitGroup
		heard.Add(1)
		var once sync.Once
		cancel := a.OnCommit([]string{"tst_tag"}, func(context.Context, []string) { once.Do(heard.Done) })
		defer cancel()
		tx, err = do(true, upd(ida, "a4"))
		if err != nil {
			t.Fatal(err)
		}
		tx.Rollback()
		if got := name(ida); got != "a2" {
			t.Fatalf("name %v after a rolled back update of a watched entity, want a2", got)
		}
		if _, err := a.run(t, admin, upd(ida, "a5")); err != nil {
			t.Fatal(err)
		}
		heard.Wait()
	})
}
