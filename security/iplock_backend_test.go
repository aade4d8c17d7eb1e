package security

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestBackendIPFailures: failures of a client address count in fixed windows, the
// limit-th locks once, other addresses are apart, and the purge drops what no longer
// matters; concurrent failures lock exactly once.
func TestBackendIPFailures(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			b := open(t)
			defer b.Close()
			now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			at := func(d time.Duration) time.Time { return now.Add(d) }
			add := func(ip string, when time.Time) bool {
				t.Helper()
				locked, err := b.AddIPFailure(ctx, ip, when, 3, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				return locked
			}
			until := func(ip string) time.Time {
				t.Helper()
				u, err := b.IPLockedUntil(ctx, ip)
				if err != nil {
					t.Fatal(err)
				}
				return u
			}
			if add("198.51.100.1", at(0)) || add("198.51.100.1", at(10*time.Second)) {
				t.Fatal("locked before the limit")
			}
			if add("198.51.100.2", at(15*time.Second)) {
				t.Fatal("another address locked")
			}
			if !until("198.51.100.1").IsZero() {
				t.Fatal("locked before the limit")
			}
			if !add("198.51.100.1", at(20*time.Second)) {
				t.Fatal("the limit-th failure did not lock")
			}
			if got := until("198.51.100.1"); !got.Equal(at(80 * time.Second)) {
				t.Fatalf("locked until %v", got)
			}
			if add("198.51.100.1", at(30*time.Second)) {
				t.Fatal("a failure past the limit reported a second lock")
			}
			if !until("198.51.100.2").IsZero() || !until("203.0.113.1").IsZero() {
				t.Fatal("other addresses locked")
			}
			// The window of .2 began at 15 s: a failure at 75 s opens a new one.
			if add("198.51.100.2", at(74*time.Second)) || add("198.51.100.2", at(75*time.Second)) || add("198.51.100.2", at(76*time.Second)) {
				t.Fatal("failures of two windows added up")
			}
			// The purge keeps the lock of .1 until it ends, then drops both.
			if err := b.PurgeState(ctx, at(79*time.Second)); err != nil {
				t.Fatal(err)
			}
			if got := until("198.51.100.1"); !got.Equal(at(80 * time.Second)) {
				t.Fatalf("purge dropped a live lock: %v", got)
			}
			if err := b.PurgeState(ctx, at(3*time.Minute)); err != nil {
				t.Fatal(err)
			}
			if !until("198.51.100.1").IsZero() {
				t.Fatal("an ended lock survived the purge")
			}
			if add("198.51.100.1", at(3*time.Minute)) || add("198.51.100.2", at(3*time.Minute)) {
				t.Fatal("purged counters still count")
			}

			// Concurrent failures: exactly one locks.
			const n = 20
			var wg sync.WaitGroup
			var mu sync.Mutex
			locks := 0
			for range n {
				wg.Go(func() {
					locked, err := b.AddIPFailure(ctx, "192.0.2.77", at(time.Hour), 10, time.Minute)
					if err != nil {
						t.Error(err)
					}
					if locked {
						mu.Lock()
						locks++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if locks != 1 {
				t.Fatalf("%d of %d concurrent failures reported a lock", locks, n)
			}
		})
	}
}
