package jsvm

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/storetest"
	"github.com/ubgo/ubgo/ubql"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// testApp is testdata/app booted and its JavaScript loaded.
type testApp struct {
	prog  *Program
	store *store.Store // nil unless opened
}

// bootApp boots the application whose ubconfig.json is cfgFile with a database of
// dialect d (a SQLite file in a temporary folder for tests that never open it).
func bootApp(t testing.TB, cfgFile, d, db string) *boot.App {
	t.Helper()
	if db == "" {
		db = filepath.Join(t.TempDir(), "unused.sqlite3")
	}
	env := map[string]string{"TST_DRIVER": d, "TST_DB": db}
	a, err := boot.Load(context.Background(), boot.Options{ConfigFile: cfgFile, Logger: quiet,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// loadProgram loads testdata/app without a database.
func loadProgram(t testing.TB) *Program {
	t.Helper()
	a := bootApp(t, "testdata/app/ubconfig.json", storetest.SQLite3, "")
	p, err := Load(context.Background(), a.Domain, a.Config, quiet)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newTestApp loads testdata/app on a fresh, migrated and seeded database of dialect d.
func newTestApp(t testing.TB, d string) *testApp {
	t.Helper()
	db := storetest.Connection(t, d).DatabaseName
	a := bootApp(t, "testdata/app/ubconfig.json", d, db)
	ctx := context.Background()
	st, err := store.Open(ctx, a.Config, a.Domain, store.Options{Create: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx, store.MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := st.Seed(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	p, err := Load(ctx, a.Domain, a.Config, quiet)
	if err != nil {
		t.Fatal(err)
	}
	return &testApp{prog: p, store: st}
}

var (
	// internal is server-side code (a scheduler job, say): no client restrictions.
	internal = &store.Session{UserID: store.UserAdmin, UserName: "admin", Lang: "en"}
	// client is a request from a client.
	client   = &store.Session{UserID: store.UserAdmin, UserName: "admin", Lang: "en", External: true}
	clientUK = &store.Session{UserID: store.UserAdmin, UserName: "admin", Lang: "uk", External: true}
)

// req decodes a UBQL item given as JSON.
func req(t testing.TB, js string) *ubql.Request {
	t.Helper()
	r, err := ubql.DecodeRequest([]byte(js))
	if err != nil {
		t.Fatalf("decode %s: %v", js, err)
	}
	return r
}

// call runs one item in its own transaction through a worker of p and commits on success.
func (a *testApp) call(t testing.TB, p *Pool, sess *store.Session, item string) (*ubql.Response, error) {
	t.Helper()
	w, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release(w)
	tx := a.store.Begin(sess)
	defer tx.Rollback()
	resp, err := w.CallMethod(context.Background(), tx, req(t, item))
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return resp, nil
}

// respJSON encodes a response as the server would.
func respJSON(r *ubql.Response) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(r.AppendJSON(nil), &m); err != nil {
		panic(err)
	}
	return m
}

// rows selects with the store directly and returns the rows as maps.
func (a *testApp) rows(t testing.TB, item string) []map[string]any {
	t.Helper()
	resp, err := a.store.Run(context.Background(), internal, []*ubql.Request{req(t, item)})
	if err != nil {
		t.Fatal(err)
	}
	rd := resp[0].ResultData
	var out []map[string]any
	for _, r := range rd.Data {
		m := map[string]any{}
		for i, f := range rd.Fields {
			m[f] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// asError returns err as an *Error or fails.
func asError(t testing.TB, err error) *Error {
	t.Helper()
	e, ok := errors.AsType[*Error](err)
	if !ok {
		t.Fatalf("err = %v (%T), want *jsvm.Error", err, err)
	}
	return e
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func decodeItem(js string) (*ubql.Request, error) { return ubql.DecodeRequest([]byte(js)) }
