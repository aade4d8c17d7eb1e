package store

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/ubgo/ubgo/domain"
)

// updateChanges is what an update's execParams ask for: the column assignments, the Many
// values, and the optimistic lock token (mi_modifyDate) of an audited entity.
type updateChanges struct {
	cols     []colVal
	many     []manyValue
	token    any
	hasToken bool
}

// updateChanges resolves and converts the execParams of an update of e. It reads nothing
// from the database, so an update can decide from it whether it needs the stored row.
func (tx *Tx) updateChanges(c *Conn, e *domain.Entity, params map[string]any, external, audited bool) (updateChanges, error) {
	d := c.Dialect
	lang := tx.lang(c)
	ch := updateChanges{cols: make([]colVal, 0, len(params)+2)}
	for key, v := range params {
		if key == "ID" {
			continue
		}
		a, col, err := tx.s.assignment(c, e, key, lang)
		if err != nil {
			return ch, err
		}
		if a.Name == "mi_modifyDate" && audited {
			ch.token, ch.hasToken = v, true
			continue
		}
		if external && systemAttr(a.Name) {
			return ch, systemAttrError(e, key)
		}
		if a.DataType == domain.Many {
			ids, err := manyIDs(e, key, v)
			if err != nil {
				return ch, err
			}
			ch.many = append(ch.many, manyValue{a, ids})
			continue
		}
		val, err := convert(d, e, a, key, v)
		if err != nil {
			return ch, err
		}
		if val == nil && !a.AllowNull {
			return ch, &Error{Item: -1, Entity: e.Name, Code: CodeNecessaryFieldNotExist, Status: http.StatusBadRequest,
				Msg: fmt.Sprintf("execParams.%s: %s.%s cannot be empty", key, e.Name, a.Name)}
		}
		ch.cols = append(ch.cols, colVal{col, a, val})
	}
	sortCols(ch.cols) // execParams come in map order; one column order is one statement text
	return ch, nil
}

// updateDirect runs an update without reading the row first, when nothing needs the
// stored values: the caller has checked that e has no audit mixin and no unity parent.
// The optimistic lock is the UPDATE's own condition on the token the client sent (which,
// when the row matches, is the stored one, so the new token is computed from it as from
// the stored value). Only when no row changed does a second statement tell a missing row
// (404) from a stale token (409). ok is false when the update needs the stored row after
// all: no token, or the lock is skipped (the new token must then follow the stored one),
// or nothing but Many values to write (no UPDATE that would find the row).
func (tx *Tx) updateDirect(ctx context.Context, c *Conn, e *domain.Entity, id int64, ch updateChanges, audited, skipLock bool) (echo map[string]any, ok bool, err error) {
	d := c.Dialect
	cols := ch.cols
	lockCol, lockVal := "", any(nil)
	if audited {
		if skipLock || !ch.hasToken {
			return nil, false, nil
		}
		sent, err := asTime(ch.token)
		if err != nil {
			return nil, false, nil // the general path reports it, after the row's existence
		}
		lockCol, lockVal = "mi_modifyDate", d.FormatTime(sent)
		next := tx.now
		if !next.After(sent) {
			next = sent.Add(time.Millisecond)
		}
		echo = make(map[string]any, 2)
		cols = append(cols, colVal{"mi_modifyDate", e.Attribute("mi_modifyDate"), d.FormatTime(next)})
		echo["mi_modifyDate"] = next
		if e.Attribute("mi_modifyUser") != nil {
			cols = append(cols, colVal{"mi_modifyUser", e.Attribute("mi_modifyUser"), tx.sess.UserID})
			echo["mi_modifyUser"] = tx.sess.UserID
		}
	} else {
		echo = map[string]any{}
	}
	if len(cols) == 0 {
		return nil, false, nil
	}
	tx.autocommitOn(e, len(ch.many) == 0)
	n, err := tx.updateRow(ctx, c, e, id, cols, lockCol, lockVal)
	tx.oneShot = false
	if err != nil {
		return nil, true, err
	}
	if n == 0 {
		tx.autocommitted = false // nothing was written
		found, err := tx.rowExists(ctx, c, e, id)
		if err != nil {
			return nil, true, err
		}
		if !found {
			return nil, true, notFoundError(e, CodeUpdateRecNotFound, id)
		}
		return nil, true, recordModified(e.Name, id)
	}
	for _, m := range ch.many {
		if err := tx.writeMany(ctx, c, e, m, id, true); err != nil {
			return nil, true, err
		}
	}
	return echo, true, nil
}

// rowExists reports whether e has a row with the ID id, read within the transaction.
func (tx *Tx) rowExists(ctx context.Context, c *Conn, e *domain.Entity, id int64) (bool, error) {
	d := c.Dialect
	w, err := tx.writer(ctx, c)
	if err != nil {
		return false, err
	}
	q := "SELECT COUNT(*) FROM " + d.Ident(e.ExecName(d.Name())) + " WHERE ID = " + d.Placeholder(1)
	var n int64
	if err := w.QueryRowContext(ctx, q, id).Scan(&n); err != nil {
		return false, dbError(err, e, "select")
	}
	return n > 0, nil
}
