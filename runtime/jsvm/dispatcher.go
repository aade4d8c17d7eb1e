package jsvm

import (
	"context"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/ubql"
)

// Dispatcher runs UBQL batches with the models' JavaScript: one transaction per batch, as
// store.Run; an item whose entity method has JS (an implementation or :before/:after
// listeners) runs on a worker, borrowed once for the whole batch; any other item runs on
// the Go path and borrows none. It satisfies the server's Dispatcher interface.
type Dispatcher struct {
	Store *store.Store
	Pool  *Pool
}

// Run executes reqs in one transaction as sess and returns the responses in request
// order; on failure nothing is committed and the error names the failing item.
func (d *Dispatcher) Run(ctx context.Context, sess *store.Session, reqs []*ubql.Request) ([]*ubql.Response, error) {
	prog := d.Pool.Program()
	tx := d.Store.Begin(sess)
	defer tx.Rollback()
	var w *Worker
	defer func() {
		if w != nil {
			d.Pool.Release(w)
		}
	}()
	out := make([]*ubql.Response, len(reqs))
	for i, r := range reqs {
		var (
			resp *ubql.Response
			err  error
		)
		if prog.NeedsJS(r.Entity, r.Method) {
			if w == nil {
				if w, err = d.Pool.Acquire(ctx); err != nil {
					return nil, err
				}
			}
			resp, err = w.CallMethod(ctx, tx, r)
		} else {
			resp, err = tx.Do(ctx, r)
		}
		if err != nil {
			return nil, store.WithItem(err, i, r.Entity)
		}
		out[i] = resp
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return out, nil
}
