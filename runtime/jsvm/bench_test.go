package jsvm

import (
	"context"
	"testing"

	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/store/storetest"
)

// Figures from `go test -run '^$' -bench . -benchmem ./runtime/jsvm/` are in the package
// report; they are what the pool's lazy creation and the JS path of dispatch cost.

// BenchmarkNewWorker is the cost of one pool worker with the test application loaded
// (the sample TSK model and JST: entity modules, server locales, entry points, a JS mixin).
func BenchmarkNewWorker(b *testing.B) {
	p := loadProgram(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := newWorker(ctx, p, workerOptions{callTimeout: DefaultCallTimeout}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad is Load itself: compile every file and evaluate it in the init runtime.
func BenchmarkLoad(b *testing.B) {
	a := bootApp(b, "testdata/app/ubconfig.json", storetest.SQLite3, "")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(ctx, a.Domain, a.Config, quiet); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallMethod is Go → JS: CallMethod of jst_item.ping, whose implementation only
// sets ctx.mParams.pong: the request is converted to ctx.mParams and back, the
// :before/:after events are emitted. "calc" has two listeners and calls back into Go for
// Session and UB.i18n (four times).
func BenchmarkCallMethod(b *testing.B) {
	for _, m := range []string{"ping", "calc"} {
		b.Run(m, func(b *testing.B) { benchCallMethod(b, m) })
	}
}

func benchCallMethod(b *testing.B, method string) {
	a := newTestApp(b, storetest.SQLite3)
	p := NewPool(a.prog, PoolOptions{Size: 1})
	w, err := p.Acquire(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer p.Release(w)
	r := req(b, `{"entity": "jst_item", "method": "`+method+`", "execParams": {"a": 1, "b": 2, "who": "x"}}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		tx := a.store.Begin(client)
		if _, err := w.CallMethod(ctx, tx, r); err != nil {
			b.Fatal(err)
		}
		tx.Rollback()
	}
}

// BenchmarkJSGoJS is a script calling an entity method through Go:
// UB.DataStore('jst_item').run('calc', ...) goes JS → Go (request decoding, dispatch) →
// JS (listeners and the implementation) and back.
func BenchmarkJSGoJS(b *testing.B) {
	a := newTestApp(b, storetest.SQLite3)
	p := NewPool(a.prog, PoolOptions{Size: 1})
	w, err := p.Acquire(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer p.Release(w)
	tx := a.store.Begin(internal)
	defer tx.Rollback()
	b.ReportAllocs()
	err = w.guard(context.Background(), internal, tx, func() error {
		v, err := w.vm.RunString(`(function () { const ds = UB.DataStore('jst_item'); return () => ds.run('calc', {execParams: {a: 1, b: 2}}) })()`)
		if err != nil {
			return err
		}
		fn, _ := goja.AssertFunction(v)
		for b.Loop() {
			if _, err := fn(goja.Undefined()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRepositoryRequest is a script building a typical Repository and Go turning it
// into the *ubql.Request the store compiles.
func BenchmarkRepositoryRequest(b *testing.B) {
	p := NewPool(loadProgram(b), PoolOptions{Size: 1})
	w, err := p.Acquire(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer p.Release(w)
	b.ReportAllocs()
	err = w.guard(context.Background(), anonymous, nil, func() error {
		v, err := w.vm.RunString(`() => UB.Repository('tsk_task').attrs('ID', 'title', 'status', 'project.code')
			.where('status', '=', 'NEW').where('project', 'in', [1, 2, 3]).where('title', 'contains', 'x')
			.orderBy('title').limit(20)`)
		if err != nil {
			return err
		}
		fn, _ := goja.AssertFunction(v)
		for b.Loop() {
			r, err := fn(goja.Undefined())
			if err != nil {
				return err
			}
			if req := w.bound(r).(*repo).request(); len(req.WhereList) != 3 {
				b.Fatal("wrong request")
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
