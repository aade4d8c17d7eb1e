package ubql

import (
	"strconv"
	"strings"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/store/dialect"
)

// whereSQL is one compiled where item.
type whereSQL struct {
	sql    string
	atomic bool  // needs no parentheses as an operand of AND
	join   *join // the join the item's expression goes through, for joinAs
}

// compileWhere compiles whereList, logicalPredicates, joinAs and the top-level ID. The
// WHERE clause is the AND of the items that are neither referenced by a predicate nor
// moved into a join, then each predicate (reference §4.2, dml-generator where.js).
func (q *query) compileWhere() *Error {
	req := q.req
	items := make([]whereSQL, len(req.WhereList))
	byName := make(map[string]int, len(req.WhereList))
	for i := range req.WhereList {
		name := req.WhereList[i].Name
		if _, dup := byName[name]; dup {
			return badRequest(CodeInvalidWhereList, q.path+"whereList."+pathSeg(name), "the name is used by two conditions")
		}
		byName[name] = i
		ws, err := q.whereItem(i)
		if err != nil {
			return err
		}
		items[i] = ws
	}
	inJoin := map[string]bool{}
	for k, name := range req.JoinAs {
		path := q.path + "joinAs." + strconv.Itoa(k)
		i, ok := byName[name]
		if !ok {
			return badRequest(CodeInvalidWhereList, path, "there is no whereList condition named "+quote(name))
		}
		if items[i].join == nil {
			return badRequest(CodeInvalidWhereList, path, "condition "+quote(name)+" does not go through a join")
		}
		if !inJoin[name] {
			inJoin[name] = true
			items[i].join.extra = append(items[i].join.extra, items[i].wrapped())
		}
	}
	used := map[string]bool{}
	var preds []string
	for k, src := range req.LogicalPredicates {
		path := q.path + "logicalPredicates." + strconv.Itoa(k)
		n, e := parsePredicate(src)
		if e != nil {
			return badRequest(CodeInvalidWhereList, path, e.msg)
		}
		var b strings.Builder
		if msg := renderPredicate(&b, n, items, byName, inJoin, used, precOr); msg != "" {
			return badRequest(CodeInvalidWhereList, path, msg)
		}
		preds = append(preds, "("+b.String()+")")
	}
	for i := range items {
		name := req.WhereList[i].Name
		if !used[name] && !inJoin[name] {
			q.where = append(q.where, items[i].wrapped())
		}
	}
	q.where = append(q.where, preds...)
	if req.ID != nil {
		id, e := q.attrSQL(q.entity.Attribute("ID"), q.root(), "")
		if e != nil {
			return q.exprCtx(ctxWhere, q.path+"ID").err(e)
		}
		q.where = append(q.where, id+" = "+q.c.param(binder{kind: bindID, req: q.reqIdx}))
	}
	return nil
}

func (w whereSQL) wrapped() string {
	if w.atomic {
		return w.sql
	}
	return "(" + w.sql + ")"
}

// renderPredicate renders a logical predicate; it returns a message on error.
func renderPredicate(b *strings.Builder, n node, items []whereSQL, byName map[string]int, inJoin, used map[string]bool, parent int) string {
	p := prec(n)
	if p < parent {
		b.WriteByte('(')
		defer b.WriteByte(')')
	}
	switch n := n.(type) {
	case *refNode:
		i, ok := byName[n.name]
		if !ok {
			return "there is no whereList condition named " + quote(n.name)
		}
		if inJoin[n.name] {
			return "condition " + quote(n.name) + " is in joinAs and cannot be used in a predicate"
		}
		used[n.name] = true
		b.WriteString(items[i].wrapped())
	case *unaryNode:
		b.WriteString("NOT ")
		return renderPredicate(b, n.x, items, byName, inJoin, used, precNot+1)
	case *binNode:
		if msg := renderPredicate(b, n.l, items, byName, inJoin, used, p); msg != "" {
			return msg
		}
		b.WriteString(" " + n.op + " ")
		return renderPredicate(b, n.r, items, byName, inJoin, used, p+1)
	}
	return ""
}

// operand is the where item's value: "value", or the first of the v1 "values".
func operand(w *WhereItem) (any, bool) {
	return w.Value, w.HasValue || len(w.Values) > 0
}

// isSubquery reports whether w is a subquery condition with its request.
func isSubquery(w *WhereItem) bool {
	c, _ := parseCondition(string(w.Condition))
	return c == SubQuery && w.SubQuery != nil
}

func (q *query) whereItem(i int) (whereSQL, *Error) {
	w := &q.req.WhereList[i]
	path := q.path + "whereList." + pathSeg(w.Name)
	cond, ok := parseCondition(string(w.Condition))
	if !ok {
		return whereSQL{}, unknownCondition(string(w.Condition)).at(path)
	}
	fail := func(sub, msg string) (whereSQL, *Error) {
		return whereSQL{}, badRequest(CodeInvalidWhereList, path+sub, msg)
	}
	switch cond {
	case Match:
		return whereSQL{}, badRequest(CodeFtsDisabled, path+".condition", "full-text search (the match condition) is not available")
	case SubQuery:
		return q.subquery(i, path)
	case Custom:
		x := q.exprCtx(ctxCustom, path+".expression")
		x.item = i
		n, e := parseExpr(w.Expression)
		if e != nil {
			return whereSQL{}, x.err(e)
		}
		// A condition must be a comparison or a combination of them; internal requests may
		// also call a function of their own that returns one.
		if _, isCall := n.(*callNode); prec(n) > precCmp && !(isCall && !q.c.opt.External) {
			return whereSQL{}, x.fail(errSyntax, "a custom condition must be a comparison (=, <, LIKE, IN, IS NULL, ...)")
		}
		r, err := x.topNode(n)
		if err != nil {
			return whereSQL{}, err
		}
		return whereSQL{sql: r.sql, atomic: r.atomic, join: r.join}, nil
	}
	if strings.TrimSpace(w.Expression) == "" {
		return fail(".expression", "expression is missing")
	}
	x := q.exprCtx(ctxWhere, path+".expression")
	n, e := parseExpr(w.Expression)
	if e != nil {
		return whereSQL{}, x.err(e)
	}
	v, has := operand(w)
	needValue := cond != IsNull && cond != NotIsNull
	if needValue && !has {
		return fail(".value", "value is missing")
	}
	if p, ok := n.(*pathNode); ok && !p.master && p.lang == "" {
		a, hb, e := q.resolve(q.root(), p.segs)
		if e != nil {
			return whereSQL{}, x.err(e)
		}
		if a.DataType == domain.Many {
			if ws, done, err := q.manyCondition(x, cond, a, hb, i, v, fail); done {
				ws.join = hb.j
				return ws, err
			}
		}
	}
	r, err := x.topNode(n)
	if err != nil {
		return whereSQL{}, err
	}
	typ := r.typ
	if r.single != nil && r.single.lang == "" && r.single.attr.DataType != domain.Many {
		typ = r.single.attr.DataType
	}
	lhs := r.sql
	if prec(n) <= precCmp {
		lhs = "(" + lhs + ")"
	}
	ws := whereSQL{atomic: true, join: r.join}
	d := q.c.d
	switch cond {
	case IsNull:
		ws.sql = lhs + " IS NULL"
	case NotIsNull:
		ws.sql = lhs + " IS NOT NULL"
	case Equal, NotEqual, More, MoreEqual, Less, LessEqual:
		if v == nil {
			switch cond {
			case Equal:
				ws.sql = lhs + " IS NULL"
			case NotEqual:
				ws.sql = lhs + " IS NOT NULL"
			default:
				return fail(".value", "value must not be null")
			}
			break
		}
		ws.sql = lhs + " " + cmpOps[cond] + " " + q.c.param(binder{kind: bindValue, req: q.reqIdx, item: i, typ: typ})
	case Like, NotLike, StartWith, NotStartWith:
		if v == nil {
			return fail(".value", "value must not be null")
		}
		if q.c.dname == dialect.PostgreSQL && !isTextType(typ) {
			lhs = "CAST(" + r.sql + " AS TEXT)"
		}
		op := " " + d.CaseInsensitiveLike() + " "
		if cond == NotLike || cond == NotStartWith {
			op = " NOT" + op
		}
		ws.sql = lhs + op + q.c.param(binder{kind: bindLike, req: q.reqIdx, item: i,
			prefix: cond == StartWith || cond == NotStartWith}) + ` ESCAPE '\'`
	case In, NotIn:
		switch {
		case isEmptyList(v) && cond == In:
			ws.sql = "0=1"
		case isEmptyList(v):
			ws.sql = "1=1"
		default:
			ws.sql = d.InList(lhs, q.c.param(binder{kind: bindList, req: q.reqIdx, item: i, typ: typ}), cond == NotIn)
		}
	}
	return ws, nil
}

var cmpOps = map[Condition]string{Equal: "=", NotEqual: "<>", More: ">", MoreEqual: ">=", Less: "<", LessEqual: "<="}

func isTextType(t domain.DataType) bool {
	switch t {
	case domain.String, domain.Text, domain.Enum, domain.Document, "":
		return true
	}
	return false
}

// manyCondition compiles a condition on a Many attribute over its link table (whether the
// row links to the given destination IDs); done is false for conditions that compare the
// comma-separated value instead.
func (q *query) manyCondition(x *exprCtx, cond Condition, a *domain.Attribute, b base, i int, v any,
	fail func(sub, msg string) (whereSQL, *Error)) (ws whereSQL, done bool, err *Error) {
	var s string
	var e *exprError
	switch cond {
	case IsNull, NotIsNull:
		s, e = q.manyExists(a, b, cond == IsNull, nil)
	case Equal, NotEqual:
		if v == nil {
			s, e = q.manyExists(a, b, cond == Equal, nil)
			break
		}
		s, e = q.manyExists(a, b, cond == NotEqual, func(dst string) string {
			return dst + " = " + q.c.param(binder{kind: bindValue, req: q.reqIdx, item: i, typ: domain.BigInt})
		})
	case In, NotIn:
		if isEmptyList(v) {
			if cond == In {
				return whereSQL{sql: "0=1", atomic: true}, true, nil
			}
			return whereSQL{sql: "1=1", atomic: true}, true, nil
		}
		s, e = q.manyExists(a, b, cond == NotIn, func(dst string) string {
			return q.c.d.InList(dst, q.c.param(binder{kind: bindList, req: q.reqIdx, item: i, typ: domain.BigInt}), false)
		})
	case More, MoreEqual, Less, LessEqual:
		ws, err = fail(".condition", "condition "+string(cond)+" cannot be used with the Many attribute "+a.Name)
		return ws, true, err
	default:
		return whereSQL{}, false, nil
	}
	if e != nil {
		return whereSQL{}, true, x.err(e)
	}
	return whereSQL{sql: s, atomic: true}, true, nil
}

// subquery compiles a subquery condition: the item's value is a request compiled as a
// nested SELECT; "[x]=[{master}.y]" custom items inside it refer to this query.
func (q *query) subquery(item int, path string) (whereSQL, *Error) {
	w := &q.req.WhereList[item]
	if w.SubQuery == nil {
		return whereSQL{}, badRequest(CodeInvalidWhereList, path+".value", "a subquery condition needs a UBQL object as its value")
	}
	if q.depth+1 > MaxNesting {
		return whereSQL{}, badRequest(CodeInvalidWhereList, path+".value", "subqueries are nested deeper than "+strconv.Itoa(MaxNesting)+" levels (MaxNesting)")
	}
	typ, ok := parseSubQueryType(w.SubQueryType)
	if !ok {
		return whereSQL{}, badRequest(CodeInvalidWhereList, path+".subQueryType", "must be in, notIn, exists or notExists")
	}
	var lhs exprResult
	if typ == subIn || typ == subNotIn {
		var err *Error
		if lhs, err = q.exprCtx(ctxWhere, path+".expression").top(w.Expression); err != nil {
			return whereSQL{}, err
		}
		if !lhs.atomic {
			lhs.sql = "(" + lhs.sql + ")"
		}
	}
	sub, err := q.c.query(w.SubQuery, q, item, path+".value.", q.depth+1)
	if err != nil {
		return whereSQL{}, err
	}
	ordered := sub.paging != "" // ORDER BY only matters to pick the page
	switch typ {
	case subIn, subNotIn:
		if len(sub.fields) != 1 {
			return whereSQL{}, badRequest(CodeInvalidWhereList, path+".value.fieldList", "an in or notIn subquery selects exactly one field")
		}
		op := " IN ("
		if typ == subNotIn {
			op = " NOT IN ("
		}
		return whereSQL{sql: lhs.sql + op + sub.selectSQL(sub.fields[0], ordered, true) + ")", atomic: true, join: lhs.join}, nil
	case subExists:
		return whereSQL{sql: "EXISTS (" + sub.selectSQL("1", ordered, true) + ")", atomic: true}, nil
	}
	return whereSQL{sql: "NOT EXISTS (" + sub.selectSQL("1", ordered, true) + ")", atomic: true}, nil
}
