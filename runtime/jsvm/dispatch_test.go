package jsvm

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ubgo/ubgo/store/storetest"
)

// forEachDialect runs f on a fresh application on SQLite and on PostgreSQL.
func forEachDialect(t *testing.T, f func(t *testing.T, a *testApp, p *Pool)) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			a := newTestApp(t, d)
			f(t, a, NewPool(a.prog, PoolOptions{Size: 2}))
		})
	}
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestInsertListeners(t *testing.T) {
	forEachDialect(t, func(t *testing.T, a *testApp, p *Pool) {
		resp, err := a.call(t, p, client, `{"entity": "jst_item", "method": "insert", "fieldList": ["ID", "name", "qty"],
			"execParams": {"code": "A1", "name": "  two   words ", "qty": 5000}}`)
		if err != nil {
			t.Fatal(err)
		}
		got := respJSON(resp)
		// The JS mixin's prependListener runs first, then the model's listeners in
		// registration order, then the Go insert, then :after (which sees the new ID).
		want := []string{"mixin:stamped", "before1", "before2", "after:true:true"}
		if tr := strs(got["trace"]); !slices.Equal(tr, want) {
			t.Errorf("trace = %v, want %v", tr, want)
		}
		ep := got["execParams"].(map[string]any)
		if ep["name"] != "two words" || ep["qty"] != float64(1000) || ep["ID"] == nil {
			t.Errorf("echoed execParams = %v", ep)
		}
		// insert:before changed execParams before the Go insert ran.
		rows := a.rows(t, `{"entity": "jst_item", "method": "select", "fieldList": ["name", "qty"], "whereList": {"c": {"expression": "[code]", "condition": "equal", "value": "A1"}}}`)
		if len(rows) != 1 || rows[0]["name"] != "two words" || rows[0]["qty"] != int64(1000) {
			t.Errorf("stored row = %v", rows)
		}
		// fieldList: the store's selectAfterInsert becomes resultData.
		rd := got["resultData"].(map[string]any)
		if row := rd["data"].([]any)[0].([]any); row[1] != "two words" {
			t.Errorf("resultData = %v", rd)
		}

		// A listener that throws aborts the insert.
		_, err = a.call(t, p, client, `{"entity": "jst_item", "method": "insert", "execParams": {"code": "reject", "name": "x"}}`)
		e := asError(t, err)
		if e.Client != `<<<Item {0} is rejected>>>|["reject"]` || e.Status != 500 || e.Code != 0 {
			t.Errorf("rejected insert: %+v", e)
		}
		if rows := a.rows(t, `{"entity": "jst_item", "method": "select", "fieldList": ["ID"], "whereList": {"c": {"expression": "[code]", "condition": "equal", "value": "reject"}}}`); len(rows) != 0 {
			t.Errorf("rejected row was stored: %v", rows)
		}

		// The sample model's insert:before trims the title and rejects an empty one.
		prj, err := a.call(t, p, internal, `{"entity": "tsk_project", "method": "insert", "execParams": {"code": "P", "name": "Project"}}`)
		if err != nil {
			t.Fatal(err)
		}
		pid := prj.Request.ExecParams["ID"]
		if _, err := a.call(t, p, client, fmt.Sprintf(`{"entity": "tsk_task", "method": "insert", "execParams": {"project": %d, "title": "   "}}`, pid)); err == nil ||
			asError(t, err).Client != "<<<Task title is required>>>" {
			t.Errorf("empty title: %v", err)
		}
		if _, err := a.call(t, p, clientUK, fmt.Sprintf(`{"entity": "tsk_task", "method": "insert", "execParams": {"project": %d, "title": ""}}`, pid)); err == nil ||
			asError(t, err).Client != "<<<Заголовок завдання обов'язковий>>>" {
			t.Errorf("empty title in Ukrainian: %v", err)
		}
	})
}

func TestCustomMethod(t *testing.T) {
	forEachDialect(t, func(t *testing.T, a *testApp, p *Pool) {
		resp, err := a.call(t, p, clientUK, `{"entity": "jst_item", "method": "calc", "execParams": {"a": 2, "b": 40, "who": "Ann"}, "keep": "me"}`)
		if err != nil {
			t.Fatal(err)
		}
		got := respJSON(resp)
		want := map[string]any{
			"sum": float64(42), "lang": "uk", "user": "admin", "keep": "me",
			"hello":   "Привіт, Ann!",    // the session language
			"named":   "Ann has 3 items", // uk has no jstNamed: the default language
			"helloUk": "Привіт, Тарас!",  // explicit language argument
			"missing": "jstNoSuchKey",    // unknown key: the key itself
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("mParams.%s = %#v, want %#v", k, got[k], v)
			}
		}
		if tr := strs(got["trace"]); !slices.Equal(tr, []string{"calc:before", "calc", "calc:after"}) {
			t.Errorf("trace = %v", tr)
		}
		if _, has := got["resultData"]; has {
			t.Errorf("a method that does not touch ctx.dataStore returned resultData: %v", got)
		}

		// ctx.preventDefault() in :before skips the implementation; :after still runs.
		resp, err = a.call(t, p, client, `{"entity": "jst_item", "method": "prevented"}`)
		if err != nil {
			t.Fatal(err)
		}
		if tr := strs(respJSON(resp)["trace"]); !slices.Equal(tr, []string{"prevent", "after"}) {
			t.Errorf("prevented trace = %v", tr)
		}

		// ctx.dataStore filled by the method is the response's resultData.
		for _, code := range []string{"r1", "r2", "r3"} {
			if _, err := a.call(t, p, internal, fmt.Sprintf(`{"entity": "jst_item", "method": "insert", "execParams": {"code": %q, "qty": %d}}`, code, len(code)+int(code[1]-'0'))); err != nil {
				t.Fatal(err)
			}
		}
		resp, err = a.call(t, p, client, `{"entity": "jst_item", "method": "report", "minQty": 4}`)
		if err != nil {
			t.Fatal(err)
		}
		if rd := resp.ResultData; rd == nil || !slices.Equal(rd.Fields, []string{"code", "qty"}) || len(rd.Data) != 2 || rd.Data[0][0] != "r2" {
			t.Errorf("report resultData = %+v", rd)
		}

		// A subfolder entity module; Repository inside a custom method; a select:after
		// listener on a pure Go method.
		if _, err := a.call(t, p, internal, `{"entity": "jst_note", "method": "insert", "execParams": {"text": "n"}}`); err != nil {
			t.Fatal(err)
		}
		resp, err = a.call(t, p, client, `{"entity": "jst_note", "method": "count"}`)
		if err != nil || respJSON(resp)["count"] != float64(1) {
			t.Errorf("jst_note.count: %v %v", err, resp)
		}
		resp, err = a.call(t, p, client, `{"entity": "jst_note", "method": "select", "fieldList": ["ID", "text"]}`)
		if err != nil || respJSON(resp)["noteSelectSeen"] != true || len(resp.ResultData.Data) != 1 {
			t.Errorf("select:after on jst_note: %v %v", err, resp)
		}
	})
}

func TestSampleModelWithData(t *testing.T) {
	forEachDialect(t, func(t *testing.T, a *testApp, p *Pool) {
		prj, err := a.call(t, p, internal, `{"entity": "tsk_project", "method": "insert", "execParams": {"code": "WEB", "name": "Web"}}`)
		if err != nil {
			t.Fatal(err)
		}
		pid := prj.Request.ExecParams["ID"]
		var ids []any
		for i, title := range []string{"one", "two", "three"} {
			status := []string{"NEW", "NEW", "DONE"}[i]
			r, err := a.call(t, p, internal, fmt.Sprintf(`{"entity": "tsk_task", "method": "insert", "execParams": {"project": %d, "title": %q, "status": %q}}`, pid, title, status))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.Request.ExecParams["ID"])
		}

		summary := func() map[string]float64 {
			t.Helper()
			tx := a.store.Begin(client)
			defer tx.Rollback()
			resp, err := callEndpoint(t, p, "tasksSummary", &Request{Method: "GET", Parameters: fmt.Sprintf("project=%d", pid)}, tx)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header["Content-Type"][0], "application/json") {
				t.Fatalf("tasksSummary: %d %v", resp.StatusCode, resp.Header)
			}
			out := map[string]float64{}
			var rows []map[string]any
			if err := jsonUnmarshal(resp.Body, &rows); err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				out[r["status"].(string)] = r["count"].(float64)
			}
			return out
		}
		if got := summary(); got["NEW"] != 2 || got["DONE"] != 1 {
			t.Errorf("summary = %v", got)
		}

		// tsk_task.close: Repository.selectById and DataStore.run('update') in the call's
		// transaction. Called as server code: a client call needs store support for
		// internal calls (see the package documentation).
		resp, err := a.call(t, p, internal, fmt.Sprintf(`{"entity": "tsk_task", "method": "close", "execParams": {"ID": %d}}`, ids[0]))
		if err != nil {
			t.Fatal(err)
		}
		if respJSON(resp)["status"] != "DONE" {
			t.Errorf("close returned %v", respJSON(resp))
		}
		if got := summary(); got["NEW"] != 1 || got["DONE"] != 2 {
			t.Errorf("summary after close = %v", got)
		}
		_, err = a.call(t, p, clientUK, `{"entity": "tsk_task", "method": "close", "execParams": {"ID": 1}}`)
		if e := asError(t, err); e.Client != "<<<Завдання 1 не існує або у вас немає доступу до нього>>>" {
			t.Errorf("close of a missing task: %+v", e)
		}
	})
}

func TestFailedMethodLeavesNothing(t *testing.T) {
	forEachDialect(t, func(t *testing.T, a *testApp, p *Pool) {
		_, err := a.call(t, p, client, `{"entity": "jst_item", "method": "insertThenFail", "execParams": {"code": "ghost"}}`)
		e := asError(t, err)
		// The insert was visible inside the transaction...
		if !strings.Contains(e.Message, "rows seen inside the transaction: 1") || e.Client != clientInternal {
			t.Fatalf("insertThenFail: %+v", e)
		}
		// ...and is gone after the rollback.
		if rows := a.rows(t, `{"entity": "jst_item", "method": "select", "fieldList": ["ID"], "whereList": {"c": {"expression": "[code]", "condition": "equal", "value": "ghost"}}}`); len(rows) != 0 {
			t.Errorf("rows left behind: %v", rows)
		}
	})
}

func TestMethodErrors(t *testing.T) {
	a := newTestApp(t, storetest.SQLite3)
	p := NewPool(a.prog, PoolOptions{Size: 1})
	cases := []struct {
		item         string
		code, status int
		client       string
		msgPart      string
		line         int // of the throw in jst_item.js; 0: not checked
	}{
		{`{"entity": "jst_item", "method": "abort"}`, 0, 500, `<<<jst_abort>>>|["arg1",2]`, `<<<jst_abort>>>|["arg1",2]`, lineOf(t, "UBAbort('<<<jst_abort>>>'")},
		{`{"entity": "jst_item", "method": "deny"}`, 8, 403, "Access deny", "ESecurityException: no way", lineOf(t, "ESecurityException('no way')")},
		{`{"entity": "jst_item", "method": "plainError"}`, 0, 500, clientInternal, "TypeError: Cannot read property 'x' of undefined or null", lineOf(t, "null.x()")},
		{`{"entity": "jst_item", "method": "badAttr"}`, 16, 400, "", "noSuchAttr", 0},
		{`{"entity": "jst_item", "method": "unimplemented"}`, 7, 501, "entity jst_item has no implementation of method \"unimplemented\"", "", 0},
		{`{"entity": "jst_item", "method": "nosuch"}`, 7, 404, "entity jst_item has no method \"nosuch\"", "", 0},
		{`{"entity": "nosuch", "method": "select"}`, 15, 404, "entity \"nosuch\" does not exist", "", 0},
		{`{"entity": "jst_item", "method": "recurse"}`, 0, 500, clientInternal, "Maximum call stack size exceeded", 0},
	}
	for _, c := range cases {
		t.Run(c.item, func(t *testing.T) {
			_, err := a.call(t, p, client, c.item)
			var ue interface {
				UBCode() int
				HTTPStatus() int
				ClientMessage() string
			}
			if !errorsAs(err, &ue) {
				t.Fatalf("err = %v (%T)", err, err)
			}
			if ue.UBCode() != c.code || ue.HTTPStatus() != c.status || (c.client != "" && ue.ClientMessage() != c.client) {
				t.Errorf("code %d status %d client %q, want %d %d %q (%v)", ue.UBCode(), ue.HTTPStatus(), ue.ClientMessage(), c.code, c.status, c.client, err)
			}
			if !strings.Contains(err.Error(), c.msgPart) {
				t.Errorf("error %q lacks %q", err, c.msgPart)
			}
			if c.line > 0 {
				e := asError(t, err)
				if e.Model != "JST" || !strings.HasSuffix(e.File, "models/jst/jst_item.js") || e.Line != c.line || !strings.Contains(e.Stack, "jst_item.js:") {
					t.Errorf("position %s %s:%d:%d, stack %q", e.Model, e.File, e.Line, e.Column, e.Stack)
				}
			}
		})
	}
	// Thrown errors keep the worker; the stack overflow (last case) replaces it.
	if s := p.Stats(); s.Replaced != 1 || s.Created != 1 || s.Live != 0 {
		t.Errorf("stats %+v, want the one worker replaced after the stack overflow only", s)
	}
}

// lineOf is the line of jst_item.js that contains s.
func lineOf(t *testing.T, s string) int {
	src, err := os.ReadFile("testdata/app/models/jst/jst_item.js")
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("jst_item.js has no %q", s)
	return 0
}

// TestClientCallOfServerLogic: a script's nested calls run as internal calls even when a
// client called the script, so tsk_task.close may skip the optimistic lock it asks to skip.
func TestClientCallOfServerLogic(t *testing.T) {
	a := newTestApp(t, storetest.SQLite3)
	p := NewPool(a.prog, PoolOptions{Size: 1})
	prj, err := a.call(t, p, internal, `{"entity": "tsk_project", "method": "insert", "execParams": {"code": "P", "name": "P"}}`)
	if err != nil {
		t.Fatal(err)
	}
	task, err := a.call(t, p, internal, fmt.Sprintf(`{"entity": "tsk_task", "method": "insert", "execParams": {"project": %d, "title": "t"}}`, prj.Request.ExecParams["ID"]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err = a.call(t, p, client, fmt.Sprintf(`{"entity": "tsk_task", "method": "close", "execParams": {"ID": %d}}`, task.Request.ExecParams["ID"])); err != nil {
		t.Fatalf("close as a client call: %v", err)
	}
}

func TestCallMethodContract(t *testing.T) {
	a := newTestApp(t, storetest.SQLite3)
	p := NewPool(a.prog, PoolOptions{Size: 1})
	w, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release(w)
	if _, err := w.CallMethod(context.Background(), nil, req(t, `{"entity": "jst_item", "method": "calc"}`)); err == nil {
		t.Error("CallMethod without a transaction must fail")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tx := a.store.Begin(client)
	defer tx.Rollback()
	if _, err := w.CallMethod(ctx, tx, req(t, `{"entity": "jst_item", "method": "calc"}`)); err == nil || asError(t, err).Status != 503 {
		t.Errorf("cancelled context: %v", err)
	}
	// A pure Go method goes straight to the store, even through a worker.
	if _, err := w.CallMethod(context.Background(), tx, req(t, `{"entity": "tsk_project", "method": "select", "fieldList": ["ID"]}`)); err != nil {
		t.Error(err)
	}
}
