package store_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/storetest"
	"github.com/ubgo/ubgo/ubql"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type app struct {
	*store.Store
	clock *clock
	conn  string // the connection's databaseName
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// loadApp boots testdata/app on a database of dialect d (databaseName db; a fresh one when
// empty) and opens its store, without migrating.
func loadApp(t testing.TB, d, db string) *app {
	t.Helper()
	if db == "" {
		db = storetest.Connection(t, d).DatabaseName
	}
	env := map[string]string{"TST_DRIVER": d, "TST_DB": db}
	ctx := context.Background()
	a, err := boot.Load(ctx, boot.Options{ConfigFile: "testdata/app/ubconfig.json", Logger: quiet,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
	st, err := store.Open(ctx, a.Config, a.Domain, store.Options{Create: true, Logger: quiet, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &app{Store: st, clock: clk, conn: db}
}

// newApp is loadApp on a fresh, migrated and seeded database.
func newApp(t testing.TB, d string) *app {
	t.Helper()
	a := loadApp(t, d, "")
	ctx := context.Background()
	if _, err := a.Migrate(ctx, store.MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := a.Seed(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	return a
}

var (
	admin   = &store.Session{UserID: store.UserAdmin, UserName: "admin", External: true, RemoteIP: "10.0.0.1"}
	adminUK = &store.Session{UserID: store.UserAdmin, UserName: "admin", External: true, Lang: "uk"}
)

// run runs a batch given as JSON, as a client would send it.
func (a *app) run(t testing.TB, sess *store.Session, body string) ([]*ubql.Response, error) {
	t.Helper()
	reqs, err := ubql.DecodeBatch([]byte(body))
	if err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return a.Run(context.Background(), sess, reqs)
}

func (a *app) mustRun(t testing.TB, sess *store.Session, body string) []*ubql.Response {
	t.Helper()
	out, err := a.run(t, sess, body)
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return out
}

// rows selects and returns the rows as maps.
func (a *app) rows(t testing.TB, sess *store.Session, body string) []map[string]any {
	t.Helper()
	out := a.mustRun(t, sess, body)
	rd := out[len(out)-1].ResultData
	var res []map[string]any
	for _, r := range rd.Data {
		m := map[string]any{}
		for i, f := range rd.Fields {
			m[f] = r[i]
		}
		res = append(res, m)
	}
	return res
}

// wantCode checks that err is a store or request error with the UB errCode code.
func wantCode(t testing.TB, err error, code int) {
	t.Helper()
	var c interface{ UBCode() int }
	if !errors.As(err, &c) {
		t.Fatalf("err = %v (%T), want errCode %d", err, err, code)
	}
	if c.UBCode() != code {
		t.Fatalf("errCode %d (%v), want %d", c.UBCode(), err, code)
	}
}

func forEachDialect(t *testing.T, f func(t *testing.T, d string)) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) { f(t, d) })
	}
}
