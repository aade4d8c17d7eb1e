package jsvm

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/storetest"
)

// TestSessionAndDataStoreScripts checks the Session API and the DataStore additions from
// scripts: each case must evaluate to true in a call without a transaction (anonymous).
func TestSessionAndDataStoreScripts(t *testing.T) {
	p := NewPool(loadProgram(t), PoolOptions{Size: 1})
	cases := []string{
		// Session of the anonymous call.
		`Session.id === 0 && Session.userRoles === '' && Session.userRoleNames === '' && !Session.hasRole('Admin')`,
		`Session.uData === Session.uData && (Session.uData.x = 1, Session.uData.x === 1)`,
		// runAsAdmin swaps the session and restores it, also after a throw.
		`Session.runAsAdmin(() => Session.userID) === 10 && Session.userID === 20`,
		`Session.runAsAdmin(() => Session.hasRole('Admin') && Session.uData.login === 'admin' && Session.userRoleNames === 'Everyone,User,Admin')`,
		`(() => { try { Session.runAsAdmin(() => { throw new Error('x') }) } catch (e) { return e.message === 'x' && Session.userID === 20 } })()`,
		`(() => { try { Session.runAsAdmin(() => Session.runAsAdmin(() => Session.runAsAdmin(() => 1))) } catch (e) { return e.message.includes('nested deeper than 2') && Session.userID === 20 } })()`,
		`(() => { try { Session.runAsAdmin(42) } catch (e) { return e instanceof TypeError } })()`,
		// runAsUser reads the user: it needs a transaction.
		`(() => { try { Session.runAsUser(10, () => 1) } catch (e) { return e.message.includes('no transaction') } })()`,
		`(() => { try { Session.runAsUser(-1, () => 1) } catch (e) { return e instanceof TypeError } })()`,
		// switchLangForContext: for the rest of the call.
		`(Session.switchLangForContext('uk'), Session.userLang === 'uk' && UB.i18n('jstHello', 'X') === 'Привіт, X!')`,
		`(() => { try { Session.switchLangForContext('xx') } catch (e) { return e.message.includes('not supported') } })()`,
		// DataStore: datasets, initialize keyMaps, rowPos, DATA_NAMES.
		`(() => { const ds = UB.DataStore('jst_doc'); ds.initialize([]); return ds.getAsJsArray().fields.join() === 'ID' && ds.initialized })()`,
		`(() => { const ds = UB.DataStore('jst_doc'); ds.initialize([], ['a', {from: 'B', to: 'b'}]); return ds.getAsJsArray().fields.join() === 'a,b' })()`,
		`(() => { const ds = UB.DataStore('jst_doc'); ds.initialize([{ID: 1, AGE: 5, x: 0}], ['ID', {from: 'AGE', to: 'age'}]); const r = ds.getAsJsObject()[0]; return r.age === 5 && r.ID === 1 && !('x' in r) })()`,
		`(() => { const ds = UB.DataStore('jst_doc'); ds.initialize([[10, 'Jon', 10], [20, 'Smith', 63]], ['ID', {from: 2, to: 'age'}, {from: 1, to: 'name'}]); return JSON.stringify(ds.getAsJsArray().data) === '[[10,10,"Jon"],[20,63,"Smith"]]' })()`,
		`(() => { const ds = UB.DataStore('jst_doc'); ds.initialize({fieldCount: 2, rowCount: 1, values: ['a', 'b', 1, 2]}, ['x', 'y']); return ds.getAsJsArray().fields.join() === 'x,y' })()`,
		`(() => { try { UB.DataStore('jst_doc').initialize([[1]]) } catch (e) { return e.message.includes('keyMap') } })()`,
		`(() => { const ds = UB.DataStore(''); ds.initialize([[1], [2], [3]], ['n']); ds.rowPos = 2; const v = ds.get('n'); ds.rowPos = 99; return v === 3 && ds.eof && ds.rowPos === 3 })()`,
		`(() => { const ds = UB.DataStore(''); ds.initialize([[1]], ['n']); ds.currentDataName = 'other'; const empty = ds.rowCount === 0 && !ds.initialized && ds.eof
		    ds.initialize([[2], [3]], ['m']); ds.currentDataName = null; return empty && ds.currentDataName === '' && ds.get('n') === 1 && (ds.currentDataName = 'other', ds.rowCount === 2) })()`,
		`TubDataStore.DATA_NAMES.BEFORE_UPDATE === 'selectBeforeUpdate' && TubDataStore.DATA_NAMES.AFTER_INSERT === 'selectAfterInsert'`,
		`(() => { try { UB.DataStore('jst_doc').insert({execParams: {code: 'x'}}) } catch (e) { return e.message.includes('no transaction') } })()`,
		`(() => { try { UB.DataStore('jst_doc').insert(null) } catch (e) { return e instanceof TypeError } })()`,
	}
	for _, src := range cases {
		err := evalJS(t, p, src, func(w *Worker, v goja.Value) {
			if !v.ToBoolean() {
				t.Errorf("false: %s", src)
			}
		})
		if err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
}

// TestSwitchLangEndsWithTheCall: the language a script switched to does not outlive its
// call, in the worker or in the caller's transaction.
func TestSwitchLangEndsWithTheCall(t *testing.T) {
	a := newTestApp(t, storetest.SQLite3)
	p := NewPool(a.prog, PoolOptions{Size: 1})
	w, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release(w)
	sess := &store.Session{UserID: store.UserAdmin, UserName: "admin", Lang: "en"}
	tx := a.store.Begin(sess)
	defer tx.Rollback()
	err = w.guard(context.Background(), sess, tx, func() error {
		_, err := w.vm.RunString(`Session.switchLangForContext('uk'); if (Session.userLang !== 'uk') throw new Error('not switched')`)
		if tx.Session().Lang != "uk" {
			t.Errorf("inside the call the transaction speaks %q", tx.Session().Lang)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if tx.Session() != sess || sess.Lang != "en" {
		t.Errorf("after the call: tx session %+v, caller's %+v", tx.Session(), sess)
	}
}

// TestTwoDefaultEndpoints: two models registering isDefault endpoints is a load error
// that names both.
func TestTwoDefaultEndpoints(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"ubconfig.json": `{"httpServer": {"port": "8881"}, "application": {"defaultLang": "en",
			"domain": {"models": [{"path": "./a"}, {"path": "./b"}]},
			"connections": [{"name": "main", "driver": "SQLite3", "dialect": "SQLite3", "isDefault": true, "databaseName": "%TST_DB%"}]}}`,
		"a/package.json": `{"name": "a", "main": "index.js", "config": {"ubmodel": {"name": "AAA"}}}`,
		"a/index.js":     `App.registerEndpoint('firstDefault', (req, resp) => resp.writeEnd('a'), false, true)`,
		"b/package.json": `{"name": "b", "main": "index.js", "config": {"ubmodel": {"name": "BBB"}}}`,
		"b/index.js":     `App.registerEndpoint('secondDefault', (req, resp) => resp.writeEnd('b'), false, true)`,
	}
	for name, src := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a := bootApp(t, filepath.Join(dir, "ubconfig.json"), storetest.SQLite3, "")
	_, err := Load(context.Background(), a.Domain, a.Config, quiet)
	if err == nil {
		t.Fatal("two default endpoints loaded")
	}
	for _, want := range []string{"firstDefault", "AAA", "secondDefault", "BBB", "isDefault"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	// One default endpoint is found.
	p := loadProgram(t)
	if ep, ok := p.DefaultEndpoint(); !ok || ep.Name != "jstPrevented" || ep.Model != "JST" {
		t.Errorf("DefaultEndpoint = %+v, %v", ep, ok)
	}
}

// TestEmitSessionEventArguments: a worker needs a session or a transaction, and uData a
// login listener extends comes back as plain JSON values.
func TestEmitSessionEventArguments(t *testing.T) {
	p := NewPool(loadProgram(t), PoolOptions{Size: 1})
	w, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release(w)
	if err := w.EmitSessionEvent(context.Background(), nil, nil, EventLogin); err == nil {
		t.Error("EmitSessionEvent without a session or a transaction")
	}
	sess := &store.Session{UserID: 42, UserName: "someone", RoleIDs: []int64{0, 3}}
	if err := w.EmitSessionEvent(context.Background(), nil, sess, EventLogin); err != nil {
		t.Fatal(err)
	}
	ids, ok := sess.UData["roleIDs"].([]any)
	if sess.UData["jstLoginSeen"] != true || sess.UData["login"] != "someone" || !ok || len(ids) != 2 || ids[1] != float64(3) {
		t.Errorf("uData = %#v", sess.UData)
	}
	// A login listener that reads no data needs no transaction; one that writes fails
	// without one, and that failure is the login's.
	req := &Request{Header: map[string][]string{"X-Jst": {"write"}}}
	if err := w.EmitSessionEvent(context.Background(), nil, sess, EventLogin, req); err == nil || !strings.Contains(err.Error(), "no transaction") {
		t.Errorf("a writing listener without a transaction: %v", err)
	}
}
