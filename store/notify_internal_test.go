package store

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ubgo/ubgo/config"
	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/store/storetest"
)

func TestChannelName(t *testing.T) {
	if got := channelName("ubgo_t_1"); got != "ubgo_ubgo_t_1" {
		t.Errorf("channelName = %q", got)
	}
	long := strings.Repeat("s", 63)
	if got := channelName(long); len(got) > 63 || !strings.HasPrefix(got, "ubgo_") || got == channelName(long[:62]+"t") {
		t.Errorf("channelName of a long schema = %q", got)
	}
}

// TestListenerReconnects: when the listener's connection dies it reconnects, tells its
// subscribers that anything may have changed, and hears later writes again.
func TestListenerReconnects(t *testing.T) {
	url := storetest.NewSchema(t)
	ctx := context.Background()
	old := ListenRetry
	ListenRetry = 10 * time.Millisecond
	t.Cleanup(func() { ListenRetry = old })
	dom := &domain.Domain{}
	cfg := &config.Config{}
	cfg.Application.Connections = []config.Connection{{Name: "main", Driver: "PostgreSQL", Dialect: "PostgreSQL", IsDefault: true, DatabaseName: url}}
	open := func() *Store {
		s, err := Open(ctx, cfg, dom, Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	s := open()
	var calls atomic.Int64
	var last atomic.Value
	s.OnCommit([]string{"x_entity"}, func(_ context.Context, entities []string) {
		calls.Add(1)
		last.Store(strings.Join(entities, ","))
	})
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// x_entity is no entity of the (empty) domain: the first connection still counts.
	wait("the first connection", func() bool { return listenerUp(t, url, s.notify.listenerName()) })
	before := calls.Load()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", s.notify.listenerName()); err != nil {
		t.Fatal(err)
	}
	wait("the listener to reconnect", func() bool { return listenerUp(t, url, s.notify.listenerName()) })
	// A NOTIFY from another process (as another store would send it) reaches the subscriber.
	if _, err := db.ExecContext(ctx, "SELECT pg_notify($1, $2)", channelName(s.Conns[0].Schema), "otherorigin x_entity,y_entity"); err != nil {
		t.Fatal(err)
	}
	wait("the notification after reconnecting", func() bool { return calls.Load() > before && last.Load() == "x_entity" })
	// Its own notifications are skipped (the local delivery already happened).
	n := calls.Load()
	if _, err := db.ExecContext(ctx, "SELECT pg_notify($1, $2)", channelName(s.Conns[0].Schema), s.notify.origin+" x_entity"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "SELECT pg_notify($1, $2)", channelName(s.Conns[0].Schema), "otherorigin x_entity"); err != nil {
		t.Fatal(err)
	}
	wait("the second foreign notification", func() bool { return calls.Load() > n })
	if got := calls.Load(); got != n+1 {
		t.Errorf("%d deliveries after one foreign and one own notification, want 1", got-n)
	}
}

// listenerUp reports whether the listener's connection has run LISTEN and waits.
func listenerUp(t *testing.T, url, name string) bool {
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle' AND query LIKE 'LISTEN %'", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}
