package jsvm

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/ubql"
)

// Dispatcher runs UBQL batches with the models' JavaScript: one transaction per batch, as
// store.Run; an item whose entity method has JS (an implementation or :before/:after
// listeners) runs on a worker, borrowed once for the whole batch; any other item runs on
// the Go path and borrows none. It satisfies the server's Dispatcher interface.
//
// It is where entity-level security is enforced: before anything of a client's batch runs
// (sess.External), every item must pass Allow and the attribute restrictions of its
// entity (store.CheckRestrictions); a refused item fails the whole batch with 403,
// errCode 8, "Access deny", without an event fired or a row touched. Calls that scripts
// make on the server's behalf (DataStore.run, Repository) are internal and not checked,
// as in UnityBase. root is allowed everything.
type Dispatcher struct {
	Store *store.Store
	Pool  *Pool
	// Allow decides whether a client session may call an entity method (the ELS matrix,
	// els.Holder.Allow). nil allows everything: an application without authentication.
	Allow func(sess *store.Session, entity, method string) bool
	// OnDenied is told about every security violation of a client's batch: an item that
	// Allow refused, an attribute restriction, or an ESecurityException of a script. The
	// security layer writes the audit row and emits Session "securityViolation". It runs
	// before Run returns and must not fail.
	OnDenied func(ctx context.Context, sess *store.Session, entity, method, reason string)
}

// Run executes reqs in one transaction as sess and returns the responses in request
// order; on failure nothing is committed and the error names the failing item.
func (d *Dispatcher) Run(ctx context.Context, sess *store.Session, reqs []*ubql.Request) ([]*ubql.Response, error) {
	prog := d.Pool.Program()
	if err := d.authorize(ctx, prog, sess, reqs); err != nil {
		return nil, err
	}
	out, item, err := d.run(ctx, prog, sess, reqs)
	if err != nil && sess != nil && sess.External && item >= 0 && item < len(reqs) {
		d.violation(ctx, sess, reqs[item], err)
	}
	return out, err
}

func (d *Dispatcher) run(ctx context.Context, prog *Program, sess *store.Session, reqs []*ubql.Request) ([]*ubql.Response, int, error) {
	tx := d.Store.Begin(sess)
	defer tx.Rollback()
	if len(reqs) == 1 && !prog.NeedsJS(reqs[0].Entity, reqs[0].Method) {
		// One Go-path item: the store may run a plain update or delete as a single
		// autocommit statement instead of BEGIN … COMMIT (see store.Tx.OneItem).
		tx.OneItem()
	}
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
					return nil, i, err
				}
			}
			resp, err = w.CallMethod(ctx, tx, r)
		} else {
			resp, err = tx.Do(ctx, r)
		}
		if err != nil {
			return nil, i, store.WithItem(err, i, r.Entity)
		}
		out[i] = resp
	}
	if err := tx.Commit(); err != nil {
		return nil, len(reqs) - 1, err
	}
	return out, 0, nil
}

// authorize checks every item of a client's batch before any of it runs. Items that name
// no registered method are left to the dispatch, which reports them (404).
func (d *Dispatcher) authorize(ctx context.Context, prog *Program, sess *store.Session, reqs []*ubql.Request) error {
	if sess == nil || !sess.External || sess.UserID == store.UserRoot {
		return nil
	}
	for i, r := range reqs {
		if !prog.HasMethod(r.Entity, r.Method) {
			continue
		}
		if d.Allow != nil && !d.Allow(sess, r.Entity, r.Method) {
			reason := fmt.Sprintf("entity-level security: user %s (roles %v) may not call %s.%s", sess.UserName, sess.RoleNames, r.Entity, r.Method)
			if d.OnDenied != nil {
				d.OnDenied(ctx, sess, r.Entity, r.Method, reason)
			}
			return store.WithItem(store.AccessDenied(r.Entity, r.Method, reason), i, r.Entity)
		}
		if err := d.Store.CheckRestrictions(sess, r); err != nil {
			d.violation(ctx, sess, r, err)
			return store.WithItem(err, i, r.Entity)
		}
	}
	return nil
}

// violation reports err to OnDenied when it is a security violation: a store access
// denial, or any failure with errCode 8 and status 403 (a script's ESecurityException).
func (d *Dispatcher) violation(ctx context.Context, sess *store.Session, r *ubql.Request, err error) {
	if d.OnDenied == nil {
		return
	}
	if v, ok := errors.AsType[*store.SecurityViolation](err); ok {
		d.OnDenied(ctx, sess, v.Entity, v.Method, v.Reason)
		return
	}
	if ue, ok := errors.AsType[ubError](err); ok && ue.UBCode() == store.CodeAccessDeny && ue.HTTPStatus() == http.StatusForbidden {
		d.OnDenied(ctx, sess, r.Entity, r.Method, ue.Error())
	}
}
