package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/storetest"
)

func errorAs(err error, target any) bool { return errors.As(err, target) }

// TestIDsNeverRepeat issues IDs from many goroutines, some of whose transactions roll back,
// and on PostgreSQL from two stores (two server processes) sharing one database. Committed
// IDs never repeat; on PostgreSQL no ID repeats at all (on SQLite the IDs of a rolled back
// transaction may be issued again, see idGen).
func TestIDsNeverRepeat(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newApp(t, d)
		stores := []*store.Store{a.Store}
		if d == storetest.PostgreSQL {
			stores = append(stores, loadApp(t, d, a.conn).Store)
		}
		const workers, perWorker = 6, 120
		var mu sync.Mutex
		seen := map[int64]bool{}
		var wg sync.WaitGroup
		errs := make(chan error, workers*len(stores))
		for si, st := range stores {
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var ids []int64
					for i := range perWorker {
						tx := st.Begin(store.System)
						id, err := tx.NewID(context.Background(), st.Default())
						if err != nil {
							errs <- err
							tx.Rollback()
							return
						}
						if (i+w+si)%3 == 0 {
							tx.Rollback()
							if d == storetest.SQLite3 {
								continue
							}
						} else if err := tx.Commit(); err != nil {
							errs <- err
							return
						}
						ids = append(ids, id)
					}
					mu.Lock()
					defer mu.Unlock()
					for _, id := range ids {
						if seen[id] {
							errs <- errors.New("duplicate ID")
							return
						}
						seen[id] = true
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(seen) < workers*perWorker*len(stores)/2 {
			t.Fatalf("only %d IDs were issued", len(seen))
		}
	})
}
