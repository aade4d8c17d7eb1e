package jsvm

import (
	"context"
	"strconv"
	"testing"

	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/storetest"
	"github.com/ubgo/ubgo/ubql"
)

// Benchmarks on the perf application (perf/, docs/performance.md): what its JavaScript
// endpoints cost inside the runtime, without HTTP. scripts/perf.sh measures the same
// endpoints over HTTP against their Go twins.

// perfApp boots perf/ubconfig.sqlite.json on a fresh SQLite database with 100 World rows
// and loads its JavaScript.
func perfApp(b *testing.B) (*Program, *store.Store) {
	b.Helper()
	env := map[string]string{"UB_PERF_DB": storetest.Connection(b, storetest.SQLite3).DatabaseName, "UB_PERF_FILES": b.TempDir()}
	ctx := context.Background()
	a, err := boot.Load(ctx, boot.Options{ConfigFile: "../../perf/ubconfig.sqlite.json", Logger: quiet,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(ctx, a.Config, a.Domain, store.Options{Create: true, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if _, err := st.Init(ctx, store.InitOptions{AdminPassword: "admin"}); err != nil {
		b.Fatal(err)
	}
	var reqs []*ubql.Request
	for id := int64(1); id <= 100; id++ {
		reqs = append(reqs, &ubql.Request{Entity: "tst_world", Method: "insert", ExecParams: map[string]any{"ID": id, "randomNumber": id * 7}})
	}
	if _, err := st.Run(ctx, store.System, reqs); err != nil {
		b.Fatal(err)
	}
	p, err := Load(ctx, a.Domain, a.Config, quiet)
	if err != nil {
		b.Fatal(err)
	}
	return p, st
}

// BenchmarkPerfNewWorker is the cost of one pool worker with the perf model loaded.
func BenchmarkPerfNewWorker(b *testing.B) {
	p, _ := perfApp(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := newWorker(ctx, p, workerOptions{callTimeout: DefaultCallTimeout}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPerfRepositoryRequest is the JS Repository of the list20 scenario turned into
// the *ubql.Request the store compiles.
func BenchmarkPerfRepositoryRequest(b *testing.B) {
	p, _ := perfApp(b)
	pool := NewPool(p, PoolOptions{Size: 1})
	w, err := pool.Acquire(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Release(w)
	b.ReportAllocs()
	err = w.guard(context.Background(), anonymous, nil, func() error {
		v, err := w.vm.RunString(`(from) => UB.Repository('tst_world').attrs('ID', 'randomNumber').where('ID', '>=', from).orderBy('ID').limit(20)`)
		if err != nil {
			return err
		}
		fn, _ := goja.AssertFunction(v)
		arg := w.vm.ToValue(4242)
		for b.Loop() {
			r, err := fn(goja.Undefined(), arg)
			if err != nil {
				return err
			}
			if req := w.bound(r).(*repo).request(); len(req.WhereList) != 1 || req.Options.Limit != 20 {
				b.Fatal("wrong request")
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPerfEndpoint calls the perf model's JS endpoint as the server does (a worker,
// a transaction, CallEndpoint): "json" is the bare cost of a JS endpoint call, "byid" adds
// JS → Go (Repository, store, SQLite) → JS (the row object) and JSON.stringify.
func BenchmarkPerfEndpoint(b *testing.B) {
	p, st := perfApp(b)
	pool := NewPool(p, PoolOptions{Size: 1})
	sess := &store.Session{UserID: store.UserAdmin, UserName: "admin", External: true}
	for _, c := range []struct{ name, method, body string }{
		{"json", "GET", ""},
		{"byid", "POST", `{"id":42}`},
		{"list20", "POST", `{"from":42}`},
		{"fortunes", "GET", ""},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			req := &Request{Method: c.method, URL: "perfjs/" + c.name, URI: c.name, Body: []byte(c.body),
				Header: map[string][]string{"Content-Type": {"application/json"}}}
			b.ReportAllocs()
			for b.Loop() {
				w, err := pool.Acquire(ctx)
				if err != nil {
					b.Fatal(err)
				}
				tx := st.Begin(sess)
				resp := &Response{}
				err = w.CallEndpoint(ctx, "perfjs", req, resp, tx)
				tx.Rollback()
				pool.Release(w)
				if err != nil || resp.StatusCode != 200 || len(resp.Body) == 0 {
					b.Fatalf("%v: status %d, body %s", err, resp.StatusCode, resp.Body)
				}
			}
		})
	}
}

// BenchmarkPerfGoTwin is what the Go twin of the byid endpoint does in the store, for
// comparison with BenchmarkPerfEndpoint/byid: the difference is the JavaScript runtime.
func BenchmarkPerfGoTwin(b *testing.B) {
	_, st := perfApp(b)
	sess := &store.Session{UserID: store.UserAdmin, UserName: "admin", External: true}
	ctx := context.Background()
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		tx := st.Begin(sess)
		resp, err := tx.DoInternal(ctx, &ubql.Request{Entity: "tst_world", Method: "select", FieldList: []string{"ID", "randomNumber"}, FieldListSet: true,
			WhereList: []ubql.WhereItem{{Name: "c1", Expression: "[ID]", Condition: ubql.Equal, Value: int64(42), HasValue: true}}})
		if err != nil || len(resp.ResultData.Data) != 1 {
			b.Fatal(err)
		}
		row := resp.ResultData.Data[0]
		buf = append(buf[:0], `{"ID":`...)
		buf = strconv.AppendInt(buf, row[0].(int64), 10)
		buf = append(buf, `,"randomNumber":`...)
		buf = strconv.AppendInt(buf, row[1].(int64), 10)
		buf = append(buf, '}')
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}
