package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/store/dialect"
	"github.com/ubgo/ubgo/ubql"
)

// maxCascadeDepth bounds cascade deletes through chains of cascadeDelete references (and
// stops a reference cycle in the metadata from recursing for ever).
const maxCascadeDepth = 16

// Select runs a select (reference §5.2): safeDelete rows are hidden unless the request asks
// for them (__allowSelectSafeDeleted) or names one row by its top-level ID; row-level
// security and attribute restrictions apply (restrict.go, restrict_rls.go).
func (tx *Tx) Select(ctx context.Context, req *ubql.Request) (*ubql.Response, error) {
	return tx.doSelect(ctx, req, selectOptions{rls: true, restrict: true})
}

// selectOptions say which security filters a select applies: row-level security, and the
// attribute restrictions of a client session.
type selectOptions struct{ rls, restrict bool }

func (tx *Tx) doSelect(ctx context.Context, req *ubql.Request, opt selectOptions) (*ubql.Response, error) {
	e, err := tx.s.entity(req)
	if err != nil {
		return nil, err
	}
	c := tx.s.ConnOf(e)
	var mask *readMask
	if opt.restrict {
		if mask, err = tx.s.readPlan(tx.sess, e, req); err != nil {
			return nil, err
		}
	}
	r := req
	if opt.rls {
		if r, err = tx.rowLevel(ctx, e, req); err != nil {
			return nil, err
		}
	}
	r = tx.s.hideDeleted(r, req.ID == nil && !req.Misc.AllowSelectSafeDeleted, 0)
	sel, err := tx.s.compiler.Select(r, tx.compileOptions(c))
	if err != nil {
		return nil, err
	}
	if mask != nil && mask.columns != len(sel.Columns) {
		return nil, &Error{Item: -1, Entity: e.Name, Status: http.StatusInternalServerError, Msg: "Internal server error",
			Err: fmt.Errorf("attribute restrictions: %d result columns expected, the compiler made %d", mask.columns, len(sel.Columns))}
	}
	q := tx.reader(c)
	gated, err := tx.EnterRead(ctx, c)
	if err != nil {
		return nil, err
	}
	if gated {
		defer c.LeaveRead()
	}
	data, err := tx.query(ctx, q, e, sel)
	if err != nil {
		return nil, err
	}
	mask.apply(data)
	resp := &ubql.Response{Request: req, ResultData: data}
	if sel.CountSQL != "" {
		var n int64
		if err := q.QueryRowContext(ctx, sel.CountSQL, sel.CountArgs...).Scan(&n); err != nil {
			return nil, dbError(err, e, "count")
		}
		resp.TotalRecCount = &n
	}
	return resp, nil
}

// hideDeleted returns req with the safeDelete filter added to it (when top is set) and to
// every subquery on a safeDelete entity, so that deleted rows count nowhere. req itself is
// not changed: the response echoes what the client sent.
func (s *Store) hideDeleted(req *ubql.Request, top bool, depth int) *ubql.Request {
	e := s.Domain.Entity(req.Entity)
	filter := top && e != nil && e.Mixins.MStorage != nil && e.Mixins.MStorage.SafeDelete && e.Attribute("mi_deleteDate") != nil
	var subs []int
	if depth < ubql.MaxNesting {
		for i := range req.WhereList {
			if req.WhereList[i].SubQuery != nil {
				subs = append(subs, i)
			}
		}
	}
	if !filter && len(subs) == 0 {
		return req
	}
	cp := *req
	cp.WhereList = append(make([]ubql.WhereItem, 0, len(req.WhereList)+1), req.WhereList...)
	for _, i := range subs {
		w := &cp.WhereList[i]
		w.SubQuery = s.hideDeleted(w.SubQuery, !w.SubQuery.Misc.AllowSelectSafeDeleted, depth+1)
	}
	if filter {
		cp.WhereList = append(cp.WhereList,
			ubql.WhereItem{Name: "__safeDelete", Expression: "[mi_deleteDate]", Condition: ubql.Equal, Value: "#maxdate", HasValue: true})
	}
	return &cp
}

func (tx *Tx) compileOptions(c *Conn) ubql.CompileOptions {
	return ubql.CompileOptions{Dialect: c.Dialect, Lang: tx.lang(c), DefaultLang: c.DefaultLang, Langs: c.Langs, External: tx.sess.External}
}

func (tx *Tx) lang(c *Conn) string {
	if tx.sess.Lang == "" {
		return c.DefaultLang
	}
	return tx.sess.Lang
}

// query runs a compiled select and reads its rows in wire form.
func (tx *Tx) query(ctx context.Context, q querier, e *domain.Entity, sel *ubql.Select) (*ubql.ResultData, error) {
	rows, err := q.QueryContext(ctx, sel.SQL, sel.Args...)
	if err != nil {
		return nil, dbError(err, e, "select")
	}
	defer rows.Close()
	n := len(sel.Columns)
	fields := make([]string, n)
	for i, col := range sel.Columns {
		fields[i] = col.Name
	}
	out := &ubql.ResultData{Fields: fields, Data: [][]any{}}
	raw := make([]any, n)
	dest := make([]any, n)
	for i := range raw {
		dest[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, dbError(err, e, "select")
		}
		row := make([]any, n)
		for i, v := range raw {
			if row[i], err = fromDB(sel.Columns[i].Type, v); err != nil {
				return nil, dbError(fmt.Errorf("column %s: %w", fields[i], err), e, "select")
			}
		}
		out.Data = append(out.Data, row)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(err, e, "select")
	}
	return out, nil
}

// selectAfter re-reads a written row with the request's fieldList into the response.
func (tx *Tx) selectAfter(ctx context.Context, req *ubql.Request, id int64, resp *ubql.Response) error {
	r := &ubql.Request{Entity: req.Entity, Method: "select", FieldList: req.FieldList, ID: &id}
	sel, err := tx.doSelect(ctx, r, selectOptions{restrict: true})
	if err != nil {
		return err
	}
	resp.ResultData = sel.ResultData
	return nil
}

// systemAttr reports whether an attribute is maintained by the server; clients may not set
// it (mi_owner is editable, and mi_modifyDate is accepted as the optimistic lock token).
func systemAttr(name string) bool {
	return strings.HasPrefix(name, "mi_") && name != "mi_owner"
}

// Insert adds a row (reference §5.2). The ID comes from execParams.ID or the ID space;
// simpleAudit and safeDelete columns are filled in; Many values go to their link tables; a
// unity child also inserts its parent row; the audit mixin records the new values.
func (tx *Tx) Insert(ctx context.Context, req *ubql.Request) (*ubql.Response, error) {
	e, err := tx.s.entity(req)
	if err != nil {
		return nil, err
	}
	if req.ExecParams == nil {
		return nil, badRequest(CodeNoMethodParameter, "insert needs execParams")
	}
	if err := checkWrite(tx.sess, e, "insert", req.ExecParams); err != nil {
		return nil, err
	}
	id, err := tx.insert(ctx, e, req.ExecParams, tx.sess.External)
	if err != nil {
		return nil, err
	}
	cp := *req
	cp.ExecParams = maps.Clone(req.ExecParams)
	cp.ExecParams["ID"] = id
	resp := &ubql.Response{Request: &cp}
	if len(req.FieldList) > 0 && !req.Misc.SkipSelectAfterInsert {
		if err := tx.selectAfter(ctx, &cp, id, resp); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

func (tx *Tx) insert(ctx context.Context, e *domain.Entity, params map[string]any, external bool) (int64, error) {
	if err := writable(e, external); err != nil {
		return 0, err
	}
	c := tx.s.ConnOf(e)
	d := c.Dialect
	lang := tx.lang(c)
	cols := make([]colVal, 0, len(params)+8)
	set := map[string]bool{}
	var many []manyValue
	var fallback []colVal
	id, hasID := int64(0), false
	for key, v := range params {
		a, col, err := tx.s.assignment(c, e, key, lang)
		if err != nil {
			return 0, err
		}
		if external && systemAttr(a.Name) {
			return 0, systemAttrError(e, key)
		}
		if a.DataType == domain.Many {
			ids, err := manyIDs(e, key, v)
			if err != nil {
				return 0, err
			}
			many = append(many, manyValue{a, ids})
			continue
		}
		val, err := convert(d, e, a, key, v)
		if err != nil {
			return 0, err
		}
		if a.Name == "ID" {
			if val == nil {
				continue
			}
			id, hasID = val.(int64), true
			continue
		}
		cols = append(cols, colVal{col, a, val})
		set[col] = true
		if base, _ := a.Column(d.Name()); a.IsMultiLang && col != base {
			fallback = append(fallback, colVal{base, a, val})
		}
	}
	// A row written in another language still needs its default-language value.
	for _, cv := range fallback {
		if !set[cv.col] {
			cols = append(cols, cv)
			set[cv.col] = true
		}
	}
	sortCols(cols) // execParams come in map order; one column order is one statement text
	if !hasID {
		newID, err := tx.NewID(ctx, c)
		if err != nil {
			return 0, err
		}
		id = newID
	}
	cols = append(cols, colVal{"ID", e.Attribute("ID"), id})
	now := d.FormatTime(tx.now)
	if ms := e.Mixins.MStorage; ms != nil {
		if ms.SimpleAudit {
			if !set["mi_owner"] && e.Attribute("mi_owner") != nil {
				cols = append(cols, colVal{"mi_owner", e.Attribute("mi_owner"), tx.sess.UserID})
			}
			for _, sys := range []struct {
				col string
				val any
			}{{"mi_createDate", now}, {"mi_createUser", tx.sess.UserID}, {"mi_modifyDate", now}, {"mi_modifyUser", tx.sess.UserID}} {
				if !set[sys.col] && e.Attribute(sys.col) != nil {
					cols = append(cols, colVal{sys.col, e.Attribute(sys.col), sys.val})
				}
			}
		}
		if ms.SafeDelete && !set["mi_deleteDate"] && e.Attribute("mi_deleteDate") != nil {
			cols = append(cols, colVal{"mi_deleteDate", e.Attribute("mi_deleteDate"), d.FormatTime(dialect.MaxDate)})
		}
	}
	for _, cv := range cols {
		set[cv.col] = true
	}
	if err := requireAttrs(e, d, set); err != nil {
		return 0, err
	}
	if u := e.Mixins.Unity; u != nil {
		if err := tx.unityInsert(ctx, e, u, id, params); err != nil {
			return 0, err
		}
	}
	if err := tx.insertRow(ctx, c, e, cols); err != nil {
		return 0, err
	}
	for _, m := range many {
		if err := tx.writeMany(ctx, c, e, m, id, false); err != nil {
			return 0, err
		}
	}
	if e.Mixins.Audit != nil { // the values are copied only for an audited entity
		if err := tx.audit(ctx, e, "INSERT", id, nil, auditValues(params), params); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// writable refuses direct client writes to a unity parent and to Many link tables.
func writable(e *domain.Entity, external bool) error {
	if e.IsManyManyRef && external {
		return &Error{Item: -1, Entity: e.Name, Code: CodeInvalidData, Status: http.StatusBadRequest,
			Msg: fmt.Sprintf("%s is the link table of a Many attribute; write the attribute instead", e.Name)}
	}
	if e.IsUnity() && external {
		return &Error{Item: -1, Entity: e.Name, Code: CodeDirectUnityModify, Status: http.StatusBadRequest,
			Msg: fmt.Sprintf("%s rows are changed through the entities that share them (unity); direct modification is not allowed", e.Name)}
	}
	return nil
}

func systemAttrError(e *domain.Entity, key string) error {
	return &Error{Item: -1, Entity: e.Name, Code: CodeInvalidData, Status: http.StatusBadRequest,
		Msg: fmt.Sprintf("execParams.%s: %s is maintained by the server and cannot be set", key, key)}
}

// requireAttrs checks that every NOT NULL attribute without a database default got a value.
func requireAttrs(e *domain.Entity, d dialect.Dialect, set map[string]bool) error {
	var missing []string
	for _, a := range e.Attributes {
		if a.AllowNull || a.HasDefault || a.DataType == domain.Boolean || a.Name == "ID" || a.DataType == domain.Many {
			continue
		}
		col, isExpr := a.Column(d.Name())
		if isExpr || col == "" || set[col] {
			continue
		}
		missing = append(missing, a.Name)
	}
	if len(missing) > 0 {
		return &Error{Item: -1, Entity: e.Name, Code: CodeNecessaryFieldNotExist, Status: http.StatusBadRequest,
			Msg: "required attributes have no value: " + strings.Join(missing, ", ")}
	}
	return nil
}

// unityParentValues maps a unity child's values to its parent's attributes: mapping renames
// child attributes, attributeList entries without a mapping copy the same-named attribute.
func unityParentValues(u *domain.Unity, params map[string]any) map[string]any {
	out := map[string]any{}
	targets := map[string]bool{}
	for child, parent := range u.Mapping {
		targets[parent] = true
		if v, ok := params[child]; ok {
			out[parent] = v
		}
	}
	for _, name := range u.AttributeList {
		if targets[name] {
			continue
		}
		if v, ok := params[name]; ok {
			out[name] = v
		}
	}
	return out
}

func (tx *Tx) unityInsert(ctx context.Context, e *domain.Entity, u *domain.Unity, id int64, params map[string]any) error {
	parent := tx.s.Domain.Entity(u.Entity)
	if parent == nil {
		return fmt.Errorf("entity %s: unity parent %s is not in the domain", e.Name, u.Entity)
	}
	pv := unityParentValues(u, params)
	for k, v := range u.Defaults {
		if _, ok := pv[k]; !ok {
			pv[k] = v
		}
	}
	pv["ID"] = id
	if parent.Attribute("mi_unityEntity") != nil {
		pv["mi_unityEntity"] = e.Name
	}
	_, err := tx.insert(ctx, parent, pv, false)
	return err
}

type manyValue struct {
	attr *domain.Attribute
	ids  []int64
}

// manyIDs reads a Many value: "1,2,3", an array of IDs, a single ID or null/"" for none.
func manyIDs(e *domain.Entity, key string, v any) ([]int64, error) {
	bad := func(err error) error {
		return &Error{Item: -1, Entity: e.Name, Code: CodeInvalidData, Status: http.StatusBadRequest,
			Msg: fmt.Sprintf("execParams.%s: %v (want comma-separated IDs)", key, err)}
	}
	var parts []any
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		for _, p := range strings.Split(x, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
	case []any:
		parts = x
	default:
		parts = []any{x}
	}
	ids := make([]int64, 0, len(parts))
	seen := map[int64]bool{}
	for _, p := range parts {
		n, err := asInt(p)
		if err != nil {
			return nil, bad(err)
		}
		if !seen[n] {
			seen[n] = true
			ids = append(ids, n)
		}
	}
	return ids, nil
}

// writeMany stores the link rows of a Many attribute; replace drops the old ones first.
func (tx *Tx) writeMany(ctx context.Context, c *Conn, e *domain.Entity, m manyValue, id int64, replace bool) error {
	link := tx.s.Domain.Entity(m.attr.AssociationManyData)
	if link == nil {
		return fmt.Errorf("entity %s: link entity %s of %s is not in the domain", e.Name, m.attr.AssociationManyData, m.attr.Name)
	}
	lc := tx.s.ConnOf(link)
	if replace {
		if _, err := tx.deleteRow(ctx, lc, link, "sourceID", id); err != nil {
			return err
		}
	}
	for _, dest := range m.ids {
		if err := tx.insertRow(ctx, lc, link, []colVal{{"sourceID", link.Attribute("sourceID"), id}, {"destID", link.Attribute("destID"), dest}}); err != nil {
			return err
		}
	}
	return nil
}

// rowBefore reads the stored values of row id (every column, every language), keyed by
// column name, in wire form. found is false when there is no such row.
func (tx *Tx) rowBefore(ctx context.Context, c *Conn, e *domain.Entity, id int64) (map[string]any, bool, error) {
	d := c.Dialect
	type rc struct {
		col string
		dt  domain.DataType
	}
	var cols []rc
	for _, a := range e.Attributes {
		col, isExpr := a.Column(d.Name())
		if isExpr || col == "" {
			continue
		}
		cols = append(cols, rc{col, a.DataType})
		if a.IsMultiLang {
			for _, l := range c.Langs {
				if l != c.DefaultLang {
					cols = append(cols, rc{col + "_" + l, a.DataType})
				}
			}
		}
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, x := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.Ident(x.col))
	}
	b.WriteString(" FROM " + d.Ident(e.ExecName(d.Name())) + " WHERE ID = " + d.Placeholder(1))
	w, err := tx.writer(ctx, c)
	if err != nil {
		return nil, false, err
	}
	raw := make([]any, len(cols))
	dest := make([]any, len(cols))
	for i := range raw {
		dest[i] = &raw[i]
	}
	rows, err := w.QueryContext(ctx, b.String(), id)
	if err != nil {
		return nil, false, dbError(err, e, "select")
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, false, dbError(err, e, "select")
		}
		return nil, false, nil
	}
	if err := rows.Scan(dest...); err != nil {
		return nil, false, dbError(err, e, "select")
	}
	out := make(map[string]any, len(cols))
	for i, x := range cols {
		v, err := fromDB(x.dt, raw[i])
		if err != nil {
			return nil, false, dbError(err, e, "select")
		}
		out[x.col] = v
	}
	return out, true, rows.Close()
}

func requestID(e *domain.Entity, params map[string]any, top *int64) (int64, error) {
	if v, ok := params["ID"]; ok && v != nil {
		id, err := asInt(v)
		if err != nil {
			return 0, &Error{Item: -1, Entity: e.Name, Code: CodeInvalidData, Status: http.StatusBadRequest, Msg: "execParams.ID: " + err.Error()}
		}
		return id, nil
	}
	if top != nil {
		return *top, nil
	}
	return 0, &Error{Item: -1, Entity: e.Name, Code: CodeNoMethodParameter, Status: http.StatusBadRequest, Msg: "execParams.ID is required"}
}

// Update changes the attributes present in execParams of one row (reference §5.2). With
// simpleAudit the row's mi_modifyDate is the optimistic lock token: a client must send the
// value it read, and a row changed since then fails with errCode 25; the new token is
// always later than the old one, even within one millisecond.
func (tx *Tx) Update(ctx context.Context, req *ubql.Request) (*ubql.Response, error) {
	e, err := tx.s.entity(req)
	if err != nil {
		return nil, err
	}
	if req.ExecParams == nil {
		return nil, badRequest(CodeNoMethodParameter, "update needs execParams")
	}
	id, err := requestID(e, req.ExecParams, nil)
	if err != nil {
		return nil, err
	}
	if err := checkWrite(tx.sess, e, "update", req.ExecParams); err != nil {
		return nil, err
	}
	if err := tx.checkVisible(ctx, e, req, id, notFoundError(e, CodeUpdateRecNotFound, id)); err != nil {
		return nil, err
	}
	skipLock := req.Misc.SkipOptimisticLock && !tx.sess.External
	readBack := len(req.FieldList) > 0 && !req.Misc.SkipSelectAfterUpdate
	tx.item = tx.item && !readBack // a read after the write could still fail the item
	echo, err := tx.update(ctx, e, id, req.ExecParams, tx.sess.External, skipLock)
	if err != nil {
		return nil, err
	}
	cp := *req
	cp.ExecParams = maps.Clone(req.ExecParams)
	maps.Copy(cp.ExecParams, echo)
	resp := &ubql.Response{Request: &cp}
	if readBack {
		if err := tx.selectAfter(ctx, &cp, id, resp); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

func (tx *Tx) update(ctx context.Context, e *domain.Entity, id int64, params map[string]any, external, skipLock bool) (map[string]any, error) {
	if err := writable(e, external); err != nil {
		return nil, err
	}
	c := tx.s.ConnOf(e)
	d := c.Dialect
	ms := e.Mixins.MStorage
	audited := ms != nil && ms.SimpleAudit && e.Attribute("mi_modifyDate") != nil
	ch, perr := tx.updateChanges(c, e, params, external, audited)
	if perr == nil && e.Mixins.Audit == nil && e.Mixins.Unity == nil {
		if echo, ok, err := tx.updateDirect(ctx, c, e, id, ch, audited, skipLock); ok {
			return echo, err
		}
	}
	tx.item = false // more than one statement: all of them in the transaction
	before, found, err := tx.rowBefore(ctx, c, e, id)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFoundError(e, CodeUpdateRecNotFound, id)
	}
	if perr != nil {
		return nil, perr
	}
	cols, many, token, hasToken := ch.cols, ch.many, ch.token, ch.hasToken
	echo := map[string]any{}
	lockCol, lockVal := "", any(nil)
	if audited {
		old, _ := before["mi_modifyDate"].(time.Time)
		if !skipLock {
			if !hasToken {
				if external {
					return nil, &Error{Item: -1, Entity: e.Name, Code: CodeNecessaryFieldNotExist, Status: http.StatusBadRequest,
						Msg: "execParams.mi_modifyDate is required: it is the optimistic lock token read with the row"}
				}
			} else {
				sent, err := asTime(token)
				if err != nil {
					return nil, &Error{Item: -1, Entity: e.Name, Code: CodeInvalidData, Status: http.StatusBadRequest, Msg: "execParams.mi_modifyDate: " + err.Error()}
				}
				if !sent.Equal(old) {
					return nil, recordModified(e.Name, id)
				}
			}
			lockCol, lockVal = "mi_modifyDate", d.FormatTime(old)
		}
		next := tx.now
		if !next.After(old) {
			next = old.Add(time.Millisecond)
		}
		cols = append(cols, colVal{"mi_modifyDate", e.Attribute("mi_modifyDate"), d.FormatTime(next)})
		echo["mi_modifyDate"] = next
		if e.Attribute("mi_modifyUser") != nil {
			cols = append(cols, colVal{"mi_modifyUser", e.Attribute("mi_modifyUser"), tx.sess.UserID})
			echo["mi_modifyUser"] = tx.sess.UserID
		}
	}
	if u := e.Mixins.Unity; u != nil {
		if pv := unityParentValues(u, params); len(pv) > 0 {
			parent := tx.s.Domain.Entity(u.Entity)
			if parent == nil {
				return nil, fmt.Errorf("entity %s: unity parent %s is not in the domain", e.Name, u.Entity)
			}
			if _, err := tx.update(ctx, parent, id, pv, false, true); err != nil {
				return nil, err
			}
		}
	}
	if len(cols) > 0 {
		n, err := tx.updateRow(ctx, c, e, id, cols, lockCol, lockVal)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, recordModified(e.Name, id)
		}
	}
	for _, m := range many {
		if err := tx.writeMany(ctx, c, e, m, id, true); err != nil {
			return nil, err
		}
	}
	if e.Mixins.Audit != nil { // the values are copied only for an audited entity
		from := map[string]any{}
		to := auditValues(params)
		for _, cv := range cols {
			if cv.attr != nil && !systemAttr(cv.attr.Name) {
				from[cv.col] = before[cv.col]
			}
		}
		if err := tx.audit(ctx, e, "UPDATE", id, from, to, mergeParent(before, params)); err != nil {
			return nil, err
		}
	}
	return echo, nil
}

// Delete removes one row (reference §5.2): first the rows that refer to it with
// cascadeDelete, then the row itself, or, with safeDelete, marks it deleted.
func (tx *Tx) Delete(ctx context.Context, req *ubql.Request) (*ubql.Response, error) {
	e, err := tx.s.entity(req)
	if err != nil {
		return nil, err
	}
	id, err := requestID(e, req.ExecParams, req.ID)
	if err != nil {
		return nil, err
	}
	if err := tx.checkVisible(ctx, e, req, id, notFoundError(e, CodeDeleteRecNotFound, id)); err != nil {
		return nil, err
	}
	if err := tx.delete(ctx, e, id, tx.sess.External); err != nil {
		return nil, err
	}
	cp := *req
	cp.ID = &id
	return &ubql.Response{Request: &cp}, nil
}

func (tx *Tx) delete(ctx context.Context, e *domain.Entity, id int64, external bool) error {
	if err := writable(e, external); err != nil {
		return err
	}
	if tx.depth > maxCascadeDepth {
		return &Error{Item: -1, Entity: e.Name, Code: CodeInvalidData, Status: http.StatusBadRequest,
			Msg: fmt.Sprintf("cascade delete deeper than %d levels", maxCascadeDepth)}
	}
	tx.depth++
	defer func() { tx.depth-- }()
	c := tx.s.ConnOf(e)
	d := c.Dialect
	ms := e.Mixins.MStorage
	soft := ms != nil && ms.SafeDelete && e.Attribute("mi_deleteDate") != nil
	if !soft && e.Mixins.Audit == nil && e.Mixins.Unity == nil && len(tx.s.cascades[e.Name]) == 0 {
		// Nothing needs the row's values (no audit record, no safeDelete state to check,
		// no cascades or unity parent to follow): one DELETE, and the count of deleted
		// rows tells a missing row.
		tx.autocommitOn(e, true)
		n, err := tx.deleteRow(ctx, c, e, "ID", id)
		tx.oneShot = false
		if err != nil {
			return err
		}
		if n == 0 {
			tx.autocommitted = false // nothing was written
			return notFoundError(e, CodeDeleteRecNotFound, id)
		}
		return nil
	}
	tx.item = false // more than one statement: all of them in the transaction
	before, found, err := tx.rowBefore(ctx, c, e, id)
	if err != nil {
		return err
	}
	if found && soft {
		if t, ok := before["mi_deleteDate"].(time.Time); ok && !t.Equal(dialect.MaxDate) {
			found = false // already deleted
		}
	}
	if !found {
		return notFoundError(e, CodeDeleteRecNotFound, id)
	}
	for _, ref := range tx.s.cascades[e.Name] {
		if err := tx.cascade(ctx, ref, id); err != nil {
			return err
		}
	}
	if soft {
		cols := []colVal{{"mi_deleteDate", e.Attribute("mi_deleteDate"), d.FormatTime(tx.now)}}
		if e.Attribute("mi_deleteUser") != nil {
			cols = append(cols, colVal{"mi_deleteUser", e.Attribute("mi_deleteUser"), tx.sess.UserID})
		}
		if _, err := tx.updateRow(ctx, c, e, id, cols, "", nil); err != nil {
			return err
		}
	} else if _, err := tx.deleteRow(ctx, c, e, "ID", id); err != nil {
		return err
	}
	if u := e.Mixins.Unity; u != nil {
		if parent := tx.s.Domain.Entity(u.Entity); parent != nil {
			if err := tx.delete(ctx, parent, id, false); err != nil {
				return err
			}
		}
	}
	if e.Mixins.Audit == nil {
		return nil
	}
	return tx.audit(ctx, e, "DELETE", id, auditValues(before), nil, before)
}

// notFoundError is the error of an update or delete of a row that does not exist or that
// row-level security hides: the client cannot tell them apart.
func notFoundError(e *domain.Entity, code int, id int64) *Error {
	return &Error{Item: -1, Entity: e.Name, Code: code, Status: http.StatusNotFound,
		Msg: fmt.Sprintf("<<<Record not found or access denied>>>|[%q,%d]", e.Name, id)}
}

// cascade deletes the rows whose attribute ref points to id.
func (tx *Tx) cascade(ctx context.Context, ref *domain.Attribute, id int64) error {
	child := ref.Entity
	c := tx.s.ConnOf(child)
	d := c.Dialect
	col, isExpr := ref.Column(d.Name())
	if isExpr || col == "" || child.DSType == domain.DSVirtual {
		return nil
	}
	if child.IsManyManyRef { // link rows have no mixins of their own
		_, err := tx.deleteRow(ctx, c, child, col, id)
		return err
	}
	q := "SELECT ID FROM " + d.Ident(child.ExecName(d.Name())) + " WHERE " + d.Ident(col) + " = " + d.Placeholder(1)
	args := []any{id}
	if ms := child.Mixins.MStorage; ms != nil && ms.SafeDelete && child.Attribute("mi_deleteDate") != nil {
		q += " AND mi_deleteDate = " + d.Placeholder(2)
		args = append(args, d.FormatTime(dialect.MaxDate))
	}
	w, err := tx.writer(ctx, c)
	if err != nil {
		return err
	}
	rows, err := w.QueryContext(ctx, q, args...)
	if err != nil {
		return dbError(err, child, "select")
	}
	var ids []int64
	for rows.Next() {
		var x int64
		if err := rows.Scan(&x); err != nil {
			rows.Close()
			return dbError(err, child, "select")
		}
		ids = append(ids, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return dbError(err, child, "select")
	}
	for _, x := range ids {
		if err := tx.delete(ctx, child, x, false); err != nil {
			return err
		}
	}
	return nil
}

// AddNew returns a new row that is not stored (reference §5.2): a fresh ID, the attributes'
// default values and the execParams values, for the fields of the fieldList.
func (tx *Tx) AddNew(ctx context.Context, req *ubql.Request) (*ubql.Response, error) {
	e, err := tx.s.entity(req)
	if err != nil {
		return nil, err
	}
	c := tx.s.ConnOf(e)
	id, err := tx.NewID(ctx, c)
	if err != nil {
		return nil, err
	}
	fields := req.FieldList
	if len(fields) == 0 {
		fields = []string{"ID"}
	}
	row := make([]any, len(fields))
	for i, f := range fields {
		name := strings.Trim(f, "[]")
		if name == "ID" {
			row[i] = id
			continue
		}
		if v, ok := req.ExecParams[name]; ok {
			row[i] = v
			continue
		}
		a := e.Attribute(name)
		if a == nil {
			if !strings.Contains(name, ".") {
				return nil, &Error{Item: -1, Entity: e.Name, Code: CodeAttributeNotExist, Status: http.StatusBadRequest,
					Msg: fmt.Sprintf("fieldList: entity %s has no attribute %q", e.Name, f)}
			}
			continue
		}
		row[i] = tx.defaultValue(a)
	}
	return &ubql.Response{Request: req, ResultData: &ubql.ResultData{Fields: fields, Data: [][]any{row}}}, nil
}

// defaultValue is the wire value of an attribute's default.
func (tx *Tx) defaultValue(a *domain.Attribute) any {
	switch a.Name {
	case "mi_owner", "mi_createUser", "mi_modifyUser":
		return tx.sess.UserID
	case "mi_deleteDate", "mi_dateTo":
		return dialect.MaxDate
	}
	if !a.HasDefault {
		if a.DataType == domain.Boolean {
			return int64(0)
		}
		return nil
	}
	switch a.DefaultValue {
	case "currentDate":
		return tx.now
	case "maxDate":
		return dialect.MaxDate
	}
	v, err := fromDB(a.DataType, a.DefaultValue)
	if err != nil {
		return a.DefaultValue
	}
	return v
}

// auditValues copies the values worth recording, without the system columns.
func auditValues(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if !systemAttr(k) {
			out[k] = v
		}
	}
	return out
}

// withoutSecrets drops the attributes nobody may read (restrictions S "Nobody", like
// uba_user.uPasswordHashHexa) from audited values: the trail is readable by auditors,
// and a password hash in it would be as good as the password for the UB handshake.
func withoutSecrets(e *domain.Entity, m map[string]any) map[string]any {
	var out map[string]any
	for k := range m {
		a := e.Attribute(k)
		if a == nil || a.Restrictions == nil || !slices.Contains(a.Restrictions.Select, "Nobody") {
			continue
		}
		if out == nil {
			out = maps.Clone(m)
		}
		delete(out, k)
	}
	if out == nil {
		return m
	}
	return out
}

// mergeParent gives the audit the row's values for finding the parent identifier.
func mergeParent(before, params map[string]any) map[string]any {
	out := maps.Clone(before)
	maps.Copy(out, params)
	return out
}

// audit writes one uba_auditTrail row for an entity with the audit mixin (reference §5.3).
func (tx *Tx) audit(ctx context.Context, e *domain.Entity, action string, id int64, from, to, row map[string]any) error {
	if e.Mixins.Audit == nil {
		return nil
	}
	trail := tx.s.Domain.Entity("uba_auditTrail")
	if trail == nil || trail == e {
		return nil
	}
	c := tx.s.ConnOf(trail)
	d := c.Dialect
	auditID, err := tx.NewID(ctx, c)
	if err != nil {
		return err
	}
	cols := []colVal{
		{"ID", nil, auditID},
		{"entity", nil, e.Name},
		{"entityinfo_id", nil, id},
		{"actionType", nil, action},
		{"actionUser", nil, tx.sess.UserID},
		{"actionUserName", nil, tx.sess.UserName},
		{"actionTime", nil, d.FormatTime(tx.now)},
	}
	if tx.sess.RemoteIP != "" {
		cols = append(cols, colVal{"remoteIP", nil, tx.sess.RemoteIP})
	}
	if p := e.Mixins.Audit; p.ParentEntity != "" && p.ParentIdentifier != "" {
		if pid, err := asInt(row[p.ParentIdentifier]); err == nil {
			cols = append(cols, colVal{"parentEntity", nil, p.ParentEntity}, colVal{"parentEntityInfo_id", nil, pid})
		}
	}
	if tx.sess.RequestID != 0 {
		cols = append(cols, colVal{"request_id", nil, tx.sess.RequestID})
	}
	for _, kv := range []struct {
		col string
		m   map[string]any
	}{{"fromValue", from}, {"toValue", to}} {
		if kv.m == nil {
			continue
		}
		b, err := json.Marshal(withoutSecrets(e, kv.m))
		if err != nil {
			return fmt.Errorf("audit %s: %w", e.Name, err)
		}
		cols = append(cols, colVal{kv.col, nil, string(b)})
	}
	var present []colVal
	for _, cv := range cols {
		if trail.Attribute(cv.col) != nil {
			present = append(present, cv)
		}
	}
	return tx.insertRow(ctx, c, trail, present)
}
