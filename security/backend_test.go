package security

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/ubgo/ubgo/store/storetest"
)

// backends are the Backend implementations under test: memory, and PostgreSQL when
// UBGO_TEST_PG is set.
func backends(t *testing.T) map[string]func(t *testing.T) Backend {
	return map[string]func(t *testing.T) Backend{
		"memory": func(*testing.T) Backend { return NewMemoryBackend() },
		"postgres cached": func(t *testing.T) Backend {
			b, err := NewPostgresBackend(context.Background(), openPG(t, storetest.NewSchema(t)), PostgresOptions{CacheFor: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		"postgres": func(t *testing.T) Backend {
			db := openPG(t, storetest.NewSchema(t))
			b, err := NewPostgresBackend(context.Background(), db, PostgresOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// A second start on the same schema finds its tables.
			if _, err := NewPostgresBackend(context.Background(), db, PostgresOptions{}); err != nil {
				t.Fatal(err)
			}
			return b
		},
	}
}

func openPG(t *testing.T, url string) *sql.DB {
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestBackends(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			b := open(t)
			defer b.Close()
			now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			mk := func(id, user int64) *StoredSession {
				return &StoredSession{ID: id, UserID: user, UserName: "u", Lang: "uk", RoleIDs: []int64{0, 3, 1},
					RoleNames: []string{"Everyone", "User", "Admin"}, GroupIDs: []int64{5},
					UData: map[string]any{"login": "u", "roleIDs": []any{int64(0), int64(3)}, "x": 1.5},
					Key:   0xdeadbeef, RemoteIP: "192.0.2.1", CreatedAt: now, AccessedAt: now, Timeout: 10 * time.Minute}
			}
			if _, err := b.CreateSession(ctx, mk(1, 10), Multiple); err != nil {
				t.Fatal(err)
			}
			if _, err := b.CreateSession(ctx, mk(1, 11), Multiple); !errors.Is(err, ErrDuplicateSessionID) {
				t.Fatalf("duplicate ID: %v", err)
			}
			got, err := b.Session(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			if got.UserID != 10 || got.Key != 0xdeadbeef || got.Lang != "uk" || got.Timeout != 10*time.Minute ||
				!got.AccessedAt.Equal(now) || !slices.Equal(got.RoleIDs, []int64{0, 3, 1}) || got.UData["x"] != 1.5 ||
				got.UData["roleIDs"].([]any)[1] != int64(3) || got.RoleNames[2] != "Admin" || got.GroupIDs[0] != 5 {
				t.Fatalf("read back: %+v", got)
			}
			if _, err := b.Session(ctx, 99); !errors.Is(err, ErrNoSession) {
				t.Fatalf("missing session: %v", err)
			}
			// Touch: access time and the first signature's clock delta; times never go back.
			if err := b.TouchSession(ctx, 1, now.Add(time.Minute), 500, -7); err != nil {
				t.Fatal(err)
			}
			if err := b.TouchSession(ctx, 1, now.Add(30*time.Second), 400, 99); err != nil {
				t.Fatal(err)
			}
			got, _ = b.Session(ctx, 1)
			if !got.AccessedAt.Equal(now.Add(time.Minute)) || got.LastSign != 500 || got.ClockDelta != -7 {
				t.Fatalf("after touch: %v %d %d", got.AccessedAt, got.LastSign, got.ClockDelta)
			}
			if err := b.TouchSession(ctx, 404, now, 1, 1); err != nil {
				t.Fatalf("touch of a missing session: %v", err)
			}
			// Modes.
			if _, err := b.CreateSession(ctx, mk(2, 10), Singleton); !errors.Is(err, ErrAnotherSession) {
				t.Fatalf("singleton: %v", err)
			}
			if _, err := b.CreateSession(ctx, mk(3, 10), Multiple); err != nil {
				t.Fatal(err)
			}
			if n, _ := b.CountUserSessions(ctx, 10, now); n != 2 {
				t.Fatalf("user sessions %d", n)
			}
			ended, err := b.CreateSession(ctx, mk(4, 10), Displacing)
			if err != nil || !slices.Equal(ended, []int64{1, 3}) {
				t.Fatalf("displacing: %v %v", ended, err)
			}
			// A Singleton login is not refused by an expired session.
			late := mk(5, 10)
			late.CreatedAt, late.AccessedAt = now.Add(time.Hour), now.Add(time.Hour)
			if _, err := b.CreateSession(ctx, late, Singleton); err != nil {
				t.Fatalf("singleton after expiry: %v", err)
			}
			if _, err := b.CreateSession(ctx, mk(6, 20), Multiple); err != nil {
				t.Fatal(err)
			}
			if _, err := b.CreateSession(ctx, mk(7, 20), Multiple); err != nil {
				t.Fatal(err)
			}
			ids, err := b.DeleteUserSessions(ctx, 20, 7)
			if err != nil || !slices.Equal(ids, []int64{6}) {
				t.Fatalf("delete user sessions: %v %v", ids, err)
			}
			if ok, _ := b.DeleteSession(ctx, 7); !ok {
				t.Fatal("delete")
			}
			if ok, _ := b.DeleteSession(ctx, 7); ok {
				t.Fatal("deleted twice")
			}
			if n, _ := b.CountSessions(ctx); n != 2 { // 4 (expired at +1h) and 5
				t.Fatalf("count %d", n)
			}
			if n, err := b.PurgeSessions(ctx, now.Add(time.Hour)); err != nil || n != 1 {
				t.Fatalf("purge: %d %v", n, err)
			}
			if _, err := b.Session(ctx, 5); err != nil {
				t.Fatalf("live session purged: %v", err)
			}

			// Nonces: one key for everybody, each nonce used once.
			k1, err := b.NonceKey(ctx)
			if err != nil || len(k1) != 32 {
				t.Fatalf("key: %v", err)
			}
			k2, _ := b.NonceKey(ctx)
			if string(k1) != string(k2) {
				t.Fatal("the nonce key changed")
			}
			if ok, err := b.UseNonce(ctx, "n1", now.Add(time.Minute)); !ok || err != nil {
				t.Fatalf("first use: %v %v", ok, err)
			}
			if ok, _ := b.UseNonce(ctx, "n1", now.Add(time.Minute)); ok {
				t.Fatal("a nonce was used twice")
			}
			if err := b.PurgeState(ctx, now.Add(2*time.Minute)); err != nil {
				t.Fatal(err)
			}

			// Failures and locks.
			for i := 1; i <= 3; i++ {
				n, err := b.AddFailure(ctx, "bob", now.Add(time.Duration(i)*time.Second), time.Minute)
				if err != nil || n != i {
					t.Fatalf("failure %d: %d %v", i, n, err)
				}
			}
			if n, _ := b.AddFailure(ctx, "bob", now.Add(5*time.Minute), time.Minute); n != 1 {
				t.Fatalf("old failures still count: %d", n)
			}
			if err := b.Lock(ctx, "bob", now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if until, _ := b.LockedUntil(ctx, "bob"); !until.Equal(now.Add(time.Hour)) {
				t.Fatalf("locked until %v", until)
			}
			if until, _ := b.LockedUntil(ctx, "alice"); !until.IsZero() {
				t.Fatalf("alice locked until %v", until)
			}
			if err := b.ClearFailures(ctx, "bob"); err != nil {
				t.Fatal(err)
			}
			if until, _ := b.LockedUntil(ctx, "bob"); !until.IsZero() {
				t.Fatal("clear kept the lock")
			}
		})
	}
}

func TestParseSessionMode(t *testing.T) {
	for in, want := range map[string]SessionMode{"": Multiple, "Multiple": Multiple, "Displacing": Displacing, "Singleton": Singleton} {
		if got, err := ParseSessionMode(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := ParseSessionMode("single"); err == nil {
		t.Error("a bad mode was accepted")
	}
}
