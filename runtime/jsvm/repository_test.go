package jsvm

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/ubql"
)

// evalJS runs src in a worker of p, as a call without a transaction, and passes the
// result to check (on the worker's goroutine, inside the call).
func evalJS(t *testing.T, p *Pool, src string, check func(w *Worker, v goja.Value)) error {
	t.Helper()
	w, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release(w)
	return w.guard(context.Background(), anonymous, nil, func() error {
		v, err := w.vm.RunString(src)
		if err != nil {
			return err
		}
		check(w, v)
		return nil
	})
}

// canonical re-encodes JSON with sorted keys.
func canonical(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

func TestRepositoryBuildsRequests(t *testing.T) {
	p := NewPool(loadProgram(t), PoolOptions{Size: 1})
	const head = `"entity":"tsk_task","method":"select"`
	cases := []struct {
		name, js, want string
	}{
		{"attrs, where, order, paging",
			`UB.Repository('tsk_task').attrs('ID', ['title', 'status']).where('status', '=', 'NEW').orderBy('title').orderByDesc('ID').start(5).limit(10)`,
			`{` + head + `,"fieldList":["ID","title","status"],"whereList":{"c1":{"expression":"[status]","condition":"equal","value":"NEW"}},
			"orderList":{"0":{"expression":"title","order":"asc"},"1":{"expression":"ID","order":"desc"}},"options":{"start":5,"limit":10,"totalRequired":false}}`},
		{"condition aliases",
			`UB.Repository('tsk_task').where('priority', '>', 1).where('priority', 'geq', 2).where('priority', '<>', 3).where('[title]', 'contains', 'x')
			   .where('title', 'startsWith', 'y').where('dueDate', 'isNull').where('dueDate', 'notNull').where('UPPER([title])', 'notLike', 'Z')`,
			`{` + head + `,"fieldList":[],"whereList":{
			  "c1":{"expression":"[priority]","condition":"more","value":1},
			  "c2":{"expression":"[priority]","condition":"moreEqual","value":2},
			  "c3":{"expression":"[priority]","condition":"notEqual","value":3},
			  "c4":{"expression":"[title]","condition":"like","value":"x"},
			  "c5":{"expression":"[title]","condition":"startWith","value":"y"},
			  "c6":{"expression":"[dueDate]","condition":"isNull"},
			  "c7":{"expression":"[dueDate]","condition":"notIsNull"},
			  "c8":{"expression":"UPPER([title])","condition":"notLike","value":"Z"}}}`},
		{"degenerate in, notIn and null values",
			`UB.Repository('tsk_task').where('ID', 'in', []).where('ID', 'in', [5]).where('ID', 'in', [1, 2]).where('ID', 'notIn', [])
			   .where('ID', 'in', null).where('dueDate', '=', null).where('dueDate', '!=', null).where('ID', 'in', 7)`,
			`{` + head + `,"fieldList":[],"whereList":{
			  "c1":{"expression":"0","condition":"equal","value":1},
			  "c2":{"expression":"[ID]","condition":"equal","value":5},
			  "c3":{"expression":"[ID]","condition":"in","value":[1,2]},
			  "c4":{"expression":"1","condition":"equal","value":1},
			  "c5":{"expression":"0","condition":"equal","value":1},
			  "c6":{"expression":"[dueDate]","condition":"isNull"},
			  "c7":{"expression":"[dueDate]","condition":"notIsNull"},
			  "c8":{"expression":"[ID]","condition":"equal","value":7}}}`},
		{"exists with correlation, in with a subquery",
			`UB.Repository('tsk_task').attrs('ID')
			   .exists(UB.Repository('tsk_project').correlation('ID', 'project').where('code', '=', 'WEB'))
			   .where('project', 'in', UB.Repository('tsk_project').attrs('ID').where('code', 'startWith', 'W'))
			   .notExists(UB.Repository('tsk_tag').correlation('code', 'status', '<>'), 'noTag')`,
			`{` + head + `,"fieldList":["ID"],"whereList":{
			  "c1":{"expression":"","condition":"subquery","subQueryType":"exists","value":{"entity":"tsk_project","method":"select","fieldList":[],
			     "whereList":{"c1":{"expression":"[ID]=[{master}.project]","condition":"custom"},"c2":{"expression":"[code]","condition":"equal","value":"WEB"}}}},
			  "c2":{"expression":"[project]","condition":"subquery","subQueryType":"in","value":{"entity":"tsk_project","method":"select","fieldList":["ID"],
			     "whereList":{"c1":{"expression":"[code]","condition":"startWith","value":"W"}}}},
			  "noTag":{"expression":"","condition":"subquery","subQueryType":"notExists","value":{"entity":"tsk_tag","method":"select","fieldList":[],
			     "whereList":{"c1":{"expression":"[code]<>[{master}.status]","condition":"custom"}}}}}}`},
		{"clause names, logic, join, group, total, misc, using",
			`UB.Repository('tsk_task').attrs('status', 'COUNT([ID])').where('status', '=', 'NEW', 'byNew').where('status', '=', 'DONE', {clauseName: 'byDone'})
			   .logic('([byNew]) OR ([byDone])').joinCondition('project.code', '=', 'WEB').groupBy(['status']).withTotal()
			   .misc({__allowSelectSafeDeleted: true, __skipRls: false, custom: 'x'}).using('select')`,
			`{` + head + `,"fieldList":["status","COUNT([ID])"],"whereList":{
			  "byNew":{"expression":"[status]","condition":"equal","value":"NEW"},
			  "byDone":{"expression":"[status]","condition":"equal","value":"DONE"},
			  "c1":{"expression":"[project.code]","condition":"equal","value":"WEB"}},
			  "logicalPredicates":["([byNew]) OR ([byDone])"],"joinAs":["c1"],"groupList":["status"],
			  "options":{"start":0,"limit":0,"totalRequired":true},"__allowSelectSafeDeleted":true,"custom":"x"}`},
		{"order changes and removal, clause reuse",
			`UB.Repository('tsk_task').orderBy('title').orderBy('ID').orderBy('title', 'desc').orderBy('ID', null)
			   .where('a', '=', 1, 'x').where('b', '=', 2, 'x')`,
			`{` + head + `,"fieldList":[],"whereList":{"x":{"expression":"[b]","condition":"equal","value":2}},
			  "orderList":{"0":{"expression":"title","order":"desc"}}}`},
		{"clone is independent; clearWhereList keeps join items",
			`(function () {
			   const r1 = UB.Repository('tsk_task').attrs('ID').where('ID', '>', 1)
			   const r2 = r1.clone().attrs('title').joinCondition('project.code', '=', 'A').where('ID', '<', 9)
			   r1.orderBy('ID')
			   return r2.clearWhereList()
			 })()`,
			`{` + head + `,"fieldList":["ID","title"],"whereList":{"c2":{"expression":"[project.code]","condition":"equal","value":"A"}},"joinAs":["c2"]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := evalJS(t, p, c.js, func(w *Worker, v goja.Value) {
				r, ok := w.bound(v).(*repo)
				if !ok {
					t.Fatalf("not a Repository: %v", v)
				}
				req := r.request()
				if got, want := canonical(t, string(req.AppendJSON(nil))), canonical(t, c.want); got != want {
					t.Errorf("request\n got %s\nwant %s", got, want)
				}
				// The request must be one ubql decodes the same way.
				if _, err := ubql.DecodeRequest(req.AppendJSON(nil)); err != nil {
					t.Errorf("ubql cannot decode the built request: %v", err)
				}
				// ubql() gives scripts the same request as a plain object.
				s, err := w.api.jsonStringify(goja.Undefined(), w.requestToJS(req))
				if err != nil || canonical(t, s.String()) != canonical(t, c.want) {
					t.Errorf("ubql() = %v (%v)", s, err)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}

	bad := []struct{ js, msg string }{
		{`UB.Repository('tsk_task').where('ID', 'almost', 1)`, `unknown where condition "almost"`},
		{`UB.Repository('tsk_task').where('ID', '>', null)`, `condition ">" is given a null value`},
		{`UB.Repository('tsk_task').orderBy('ID', 'sideways')`, "order direction must be asc or desc"},
		{`UB.Repository('tsk_task').misc({fieldList: ['x']})`, "misc cannot set fieldList"},
		{`UB.Repository('tsk_task').where('', 'exists', 5)`, "needs a Repository"},
		{`UB.Repository('tsk_task').selectAsObject()`, "no transaction"},
	}
	for _, c := range bad {
		err := evalJS(t, p, c.js, func(*Worker, goja.Value) {})
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want an error with %q", c.js, err, c.msg)
		}
	}

	// A Date becomes a time.Time where value.
	err := evalJS(t, p, `UB.Repository('tsk_task').where('dueDate', '<', new Date(Date.UTC(2026, 0, 2)))`, func(w *Worker, v goja.Value) {
		r := w.bound(v).(*repo)
		if tm, ok := r.where[0].Value.(time.Time); !ok || !tm.Equal(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("date value = %#v", r.where[0].Value)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRepositoryExecutors(t *testing.T) {
	forEachDialect(t, func(t *testing.T, a *testApp, p *Pool) {
		for i, code := range []string{"b", "a", "c"} {
			if _, err := a.call(t, p, internal, `{"entity": "jst_item", "method": "insert", "execParams": {"code": "`+code+`", "qty": `+string(rune('1'+i))+`, "made": "2026-03-04T05:06:07.000Z"}}`); err != nil {
				t.Fatal(err)
			}
		}
		src := `(function () {
		  const R = () => UB.Repository('jst_item').attrs('code', 'qty').orderBy('code')
		  const out = {}
		  out.objects = R().selectAsObject({qty: 'quantity'})
		  out.array = R().limit(2).withTotal().selectAsArray()
		  out.values = R().selectAsArrayOfValues()
		  out.single = R().where('code', '=', 'c').selectSingle()
		  out.none = R().where('code', '=', 'zz').selectSingle()
		  out.scalar = UB.Repository('jst_item').attrs('SUM([qty])').selectScalar()
		  const id = UB.Repository('jst_item').attrs('ID').where('code', '=', 'a').selectScalar()
		  out.byId = UB.Repository('jst_item').attrs('code', 'made').selectById(id)
		  out.madeIsDate = out.byId.made instanceof Date
		  const store = R().select()
		  out.store = []
		  for (store.first(); !store.eof; store.next()) out.store.push(store.get('code') + store.get(1))
		  out.storeRows = store.rowCount
		  out.storeJSON = JSON.parse(store.getAsTextInObjectNotation()).length
		  const ds = UB.DataStore('jst_item')
		  ds.runSQL('SELECT code, qty FROM jst_item WHERE qty >= :min: AND code <> :(\'x\'): ORDER BY code', {min: 2})
		  out.sql = ds.getAsJsArray()
		  out.updated = ds.execSQL('UPDATE jst_item SET qty = qty + :d: WHERE code = :c:', {d: 10, c: 'a'})
		  out.after = UB.Repository('jst_item').attrs('qty').where('code', '=', 'a').selectScalar()
		  ds.initialize([{x: 1, y: 'one'}, {x: 2, y: 'two'}], {y: 'why'})
		  out.init = ds.getAsJsObject()
		  ds.initialize({fieldCount: 2, rowCount: 1, values: ['p', 'q', 7, 8]})
		  out.flat = ds.getAsJsArray()
		  out.newID = ds.generateID() > 0
		  out.conn = App.dbConnections.main.selectParsedAsObject('SELECT COUNT(*) AS n FROM jst_item WHERE code = :c:', {c: 'b'})[0]
		  return JSON.stringify(out)
		})()`
		w, err := p.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer p.Release(w)
		tx := a.store.Begin(internal)
		defer tx.Rollback()
		var out string
		err = w.guard(context.Background(), internal, tx, func() error {
			v, err := w.vm.RunString(src)
			if err == nil {
				out = v.String()
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		want := `{"objects":[{"code":"a","quantity":2},{"code":"b","quantity":1},{"code":"c","quantity":3}],
		  "array":{"resultData":{"fields":["code","qty"],"rowCount":2,"data":[["a",2],["b",1]]},"__totalRecCount":3},
		  "values":["a","b","c"],"single":{"code":"c","qty":3},"scalar":6,
		  "byId":{"code":"a","made":"2026-03-04T05:06:07.000Z"},"madeIsDate":true,
		  "store":["a2","b1","c3"],"storeRows":3,"storeJSON":3,
		  "sql":{"fields":["code","qty"],"rowCount":2,"data":[["a",2],["c",3]]},
		  "updated":1,"after":12,
		  "init":[{"x":1,"why":"one"},{"x":2,"why":"two"}],
		  "flat":{"fields":["p","q"],"rowCount":1,"data":[[7,8]]},
		  "newID":true,"conn":{"n":1}}`
		if got := canonical(t, out); got != canonical(t, want) {
			t.Errorf("executors\n got %s\nwant %s", got, canonical(t, want))
		}
	})
}
