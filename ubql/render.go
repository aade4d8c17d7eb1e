package ubql

import (
	"slices"
	"strings"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/store/dialect"
)

// ctxKind is where an expression appears; it decides what the expression may contain and
// which error code a problem gets.
type ctxKind uint8

const (
	ctxField   ctxKind = iota // fieldList
	ctxOrder                  // orderList
	ctxGroup                  // groupList
	ctxWhere                  // the expression of a where condition
	ctxCustom                 // a custom where condition
	ctxMapping                // an attribute's Expression mapping (metadata)
)

// exprCtx renders one expression.
type exprCtx struct {
	q    *query
	kind ctxKind
	path string // error path of the expression
	base base   // where unqualified attribute paths start
	item int    // the where item whose :name: parameters a custom condition binds

	join  *join // the deepest join the expression goes through (for joinAs)
	agg   bool  // contains an aggregate function
	attrs bool  // refers to an attribute
	inAgg bool
	last  *domain.Attribute
}

// exprResult is a rendered expression.
type exprResult struct {
	sql    string
	typ    domain.DataType
	agg    bool
	attrs  bool
	atomic bool // needs no parentheses as an operand of AND
	join   *join
	single *attrRef // set when the expression is one attribute path
}

type attrRef struct {
	attr *domain.Attribute
	lang string
}

func (q *query) exprCtx(kind ctxKind, path string) *exprCtx {
	return &exprCtx{q: q, kind: kind, path: path, base: q.root()}
}

// clientList reports whether the context is a list a client's expressions must be simple
// in (fieldList, orderList, groupList).
func (x *exprCtx) clientList() bool {
	return x.kind == ctxField || x.kind == ctxOrder || x.kind == ctxGroup
}

// fail turns an expression problem into the request error the context calls for.
func (x *exprCtx) fail(kind errKind, msg string) *Error {
	e := &Error{Item: -1, Path: x.path, Status: 400, Msg: msg}
	switch {
	case kind == errUnknown:
		e.Code = CodeAttributeNotExist
	case kind == errMeta:
		e.Code, e.Status = CodeInvalidData, 500
	case kind == errDeny && x.clientList():
		e.Code, e.Status, e.Msg = CodeAccessDeny, 403, "Access deny: "+msg
	case x.clientList():
		e.Code = CodeInvalidData
	default:
		e.Code = CodeInvalidWhereList
	}
	return e
}

func (x *exprCtx) err(e *exprError) *Error { return x.fail(e.kind, e.msg) }

// top parses and renders src.
func (x *exprCtx) top(src string) (exprResult, *Error) {
	if strings.TrimSpace(src) == "" {
		return exprResult{}, x.fail(errSyntax, "the expression is empty")
	}
	n, e := parseExpr(src)
	if e != nil {
		return exprResult{}, x.err(e)
	}
	return x.topNode(n)
}

func (x *exprCtx) topNode(n node) (exprResult, *Error) {
	var b strings.Builder
	typ, e := x.render(&b, n)
	if e != nil {
		return exprResult{}, x.err(e)
	}
	r := exprResult{sql: b.String(), typ: typ, agg: x.agg, attrs: x.attrs, join: x.join, atomic: prec(n) >= precCmp}
	if p, ok := n.(*pathNode); ok {
		r.single = &attrRef{attr: x.last, lang: p.lang}
	}
	return r, nil
}

// Operator precedence, lowest first. Children are parenthesised when they bind less
// tightly than their parent, so the SQL means what the tree says in both dialects.
const (
	precOr = iota + 1
	precAnd
	precNot
	precCmp
	precConcat
	precSum
	precProduct
	precUnary
	precAtom
)

func prec(n node) int {
	switch n := n.(type) {
	case *binNode:
		return binPrec(n.op)
	case *unaryNode:
		if n.op == "NOT" {
			return precNot
		}
		return precUnary
	case *isNullNode, *likeNode, *inNode, *betweenNode:
		return precCmp
	}
	return precAtom
}

func binPrec(op string) int {
	switch op {
	case "OR":
		return precOr
	case "AND":
		return precAnd
	case "||":
		return precConcat
	case "+", "-":
		return precSum
	case "*", "/", "%":
		return precProduct
	}
	return precCmp
}

// child renders an operand of an operator of precedence parent.
func (x *exprCtx) child(b *strings.Builder, n node, parent int, right bool) (domain.DataType, *exprError) {
	p := prec(n)
	paren := p < parent || p == parent && (right || parent == precCmp)
	// SQLite binds || tighter than arithmetic, PostgreSQL looser: never leave it to them.
	if p == precConcat && (parent == precSum || parent == precProduct) ||
		parent == precConcat && (p == precSum || p == precProduct) {
		paren = true
	}
	if !paren {
		return x.render(b, n)
	}
	b.WriteByte('(')
	t, err := x.render(b, n)
	b.WriteByte(')')
	return t, err
}

// simpleOnly refuses logic and comparisons where a client may only use simple
// expressions (fieldList, orderList, groupList), as UnityBase does.
func (x *exprCtx) simpleOnly() *exprError {
	if x.q.c.opt.External && x.clientList() {
		return &exprError{errDeny, "only simple expressions (attributes, arithmetic and allowed functions) are allowed here"}
	}
	return nil
}

func (x *exprCtx) render(b *strings.Builder, n node) (domain.DataType, *exprError) {
	switch n := n.(type) {
	case *pathNode:
		return x.renderPath(b, n)
	case *numNode:
		b.WriteString(n.text)
		if strings.ContainsAny(n.text, ".eE") {
			return domain.Float, nil
		}
		return domain.BigInt, nil
	case *strNode:
		b.WriteString(x.q.c.param(binder{kind: bindConst, val: n.val}))
		return domain.String, nil
	case *paramNode, *valueNode:
		if x.kind != ctxCustom {
			return "", syntaxError("parameters (:name:) are only allowed in custom conditions")
		}
		if p, ok := n.(*paramNode); ok {
			b.WriteString(x.q.c.param(binder{kind: bindNamed, req: x.q.reqIdx, item: x.item, name: p.name}))
		} else {
			b.WriteString(x.q.c.param(binder{kind: bindConst, val: n.(*valueNode).val}))
		}
		return "", nil
	case *nullNode:
		b.WriteString("NULL")
		return "", nil
	case *callNode:
		return x.renderCall(b, n)
	case *unaryNode:
		if n.op == "NOT" {
			if err := x.simpleOnly(); err != nil {
				return "", err
			}
			b.WriteString("NOT ")
			_, err := x.child(b, n.x, precNot, true)
			return domain.Boolean, err
		}
		b.WriteString(n.op)
		if prec(n.x) < precAtom {
			b.WriteByte('(')
			t, err := x.render(b, n.x)
			b.WriteByte(')')
			return t, err
		}
		return x.render(b, n.x)
	case *binNode:
		p := binPrec(n.op)
		if p <= precCmp {
			if err := x.simpleOnly(); err != nil {
				return "", err
			}
		}
		lt, err := x.child(b, n.l, p, false)
		if err != nil {
			return "", err
		}
		b.WriteByte(' ')
		b.WriteString(n.op)
		b.WriteByte(' ')
		rt, err := x.child(b, n.r, p, true)
		if err != nil {
			return "", err
		}
		switch {
		case p <= precCmp:
			return domain.Boolean, nil
		case p == precConcat:
			return domain.String, nil
		}
		return arithType(lt, rt), nil
	case *isNullNode:
		if err := x.simpleOnly(); err != nil {
			return "", err
		}
		if _, err := x.child(b, n.x, precCmp, false); err != nil {
			return "", err
		}
		if n.not {
			b.WriteString(" IS NOT NULL")
		} else {
			b.WriteString(" IS NULL")
		}
		return domain.Boolean, nil
	case *likeNode:
		if err := x.simpleOnly(); err != nil {
			return "", err
		}
		if _, err := x.child(b, n.x, precCmp, false); err != nil {
			return "", err
		}
		if n.not {
			b.WriteString(" NOT")
		}
		b.WriteString(" LIKE ")
		_, err := x.child(b, n.pat, precCmp, true)
		return domain.Boolean, err
	case *inNode:
		if err := x.simpleOnly(); err != nil {
			return "", err
		}
		if _, err := x.child(b, n.x, precCmp, false); err != nil {
			return "", err
		}
		if n.not {
			b.WriteString(" NOT")
		}
		b.WriteString(" IN (")
		for i, e := range n.list {
			if i > 0 {
				b.WriteString(", ")
			}
			if _, err := x.render(b, e); err != nil {
				return "", err
			}
		}
		b.WriteByte(')')
		return domain.Boolean, nil
	case *betweenNode:
		if err := x.simpleOnly(); err != nil {
			return "", err
		}
		if _, err := x.child(b, n.x, precCmp, false); err != nil {
			return "", err
		}
		if n.not {
			b.WriteString(" NOT")
		}
		b.WriteString(" BETWEEN ")
		if _, err := x.child(b, n.lo, precCmp, true); err != nil {
			return "", err
		}
		b.WriteString(" AND ")
		_, err := x.child(b, n.hi, precCmp, true)
		return domain.Boolean, err
	}
	return "", syntaxError("unexpected element in the expression")
}

func arithType(a, b domain.DataType) domain.DataType {
	if isIntType(a) && isIntType(b) {
		return domain.BigInt
	}
	return domain.Float
}

func isIntType(t domain.DataType) bool {
	switch t {
	case domain.Int, domain.BigInt, domain.ID, domain.EntityT, domain.TimeLog:
		return true
	}
	return false
}

func (x *exprCtx) renderPath(b *strings.Builder, n *pathNode) (domain.DataType, *exprError) {
	q, start := x.q, x.base
	if n.master {
		if q.parent == nil {
			return "", &exprError{errInvalid, "{master} is only allowed inside a subquery"}
		}
		q = q.parent
		start = q.root()
	}
	a, hb, err := q.resolve(start, n.segs)
	if err != nil {
		return "", err
	}
	if n.lang != "" {
		if !a.IsMultiLang {
			return "", &exprError{errUnknown, "attribute " + a.Name + " has no language columns (" + quote(n.text) + ")"}
		}
		opt := x.q.c.opt
		if n.lang != opt.DefaultLang && !slices.Contains(opt.Langs, n.lang) {
			return "", &exprError{errUnknown, "language column " + quote(n.text) + " does not exist"}
		}
	}
	s, err := q.attrSQL(a, hb, n.lang)
	if err != nil {
		return "", err
	}
	b.WriteString(s)
	x.attrs = true
	x.last = a
	if !n.master && hb.j != nil && (x.join == nil || hb.j.depth >= x.join.depth) {
		x.join = hb.j
	}
	return columnType(a, n.lang), nil
}

// funcSpec describes an allowed function.
type funcSpec struct {
	min, max int
	agg      bool
	typ      func(args []domain.DataType) domain.DataType
}

func fixedType(t domain.DataType) func([]domain.DataType) domain.DataType {
	return func([]domain.DataType) domain.DataType { return t }
}

func firstArgType(args []domain.DataType) domain.DataType {
	if len(args) > 0 && args[0] != "" {
		return args[0]
	}
	return domain.String
}

// functions are the functions clients may use: UnityBase's allow-list for "simple"
// expressions (packages/dml-generator/customItem.js).
var functions = map[string]funcSpec{
	"SUM":      {1, 1, true, fixedType(domain.Float)},
	"AVG":      {1, 1, true, fixedType(domain.Float)},
	"COUNT":    {1, 1, true, fixedType(domain.BigInt)},
	"MAX":      {1, 1, true, firstArgType},
	"MIN":      {1, 1, true, firstArgType},
	"CAST":     {1, 1, false, nil},
	"COALESCE": {1, 16, false, firstArgType},
	"LENGTH":   {1, 1, false, fixedType(domain.BigInt)},
	"LOWER":    {1, 1, false, fixedType(domain.String)},
	"UPPER":    {1, 1, false, fixedType(domain.String)},
	"DAY":      {1, 1, false, fixedType(domain.Int)},
	"MONTH":    {1, 1, false, fixedType(domain.Int)},
	"YEAR":     {1, 1, false, fixedType(domain.Int)},
	"ROUND":    {1, 2, false, fixedType(domain.Float)},
	"FLOOR":    {1, 1, false, fixedType(domain.Float)},
	"CEILING":  {1, 1, false, fixedType(domain.Float)},
}

// datePart maps DAY, MONTH and YEAR to SQLite strftime formats and PostgreSQL fields.
var datePart = map[string][2]string{"DAY": {"%d", "DAY"}, "MONTH": {"%m", "MONTH"}, "YEAR": {"%Y", "YEAR"}}

func (x *exprCtx) renderCall(b *strings.Builder, n *callNode) (domain.DataType, *exprError) {
	spec, known := functions[n.name]
	if !known {
		if x.q.c.opt.External && x.kind != ctxMapping {
			return "", &exprError{errDeny, "function " + n.name + " is not allowed"}
		}
		// Internal requests may call any function (the name is made of identifier
		// characters: the lexer saw to that).
		spec = funcSpec{0, 64, false, firstArgType}
	}
	if len(n.args) < spec.min || len(n.args) > spec.max {
		return "", syntaxError("wrong number of arguments to " + n.name)
	}
	if n.distinct && !spec.agg {
		return "", syntaxError("DISTINCT is only allowed in aggregate functions")
	}
	if spec.agg {
		if x.kind == ctxWhere || x.kind == ctxCustom {
			return "", &exprError{errInvalid, "aggregate functions are not allowed in whereList"}
		}
		if x.inAgg {
			return "", &exprError{errInvalid, "aggregate functions cannot be nested"}
		}
		x.agg, x.inAgg = true, true
		defer func() { x.inAgg = false }()
	}
	if len(n.args) == 1 {
		if _, ok := n.args[0].(*starNode); ok {
			b.WriteString("COUNT(*)")
			return domain.BigInt, nil
		}
	}
	if dp, ok := datePart[n.name]; ok {
		if x.q.c.dname == dialect.PostgreSQL {
			b.WriteString("CAST(EXTRACT(" + dp[1] + " FROM ")
		} else {
			b.WriteString("CAST(strftime('" + dp[0] + "', ")
		}
		if _, err := x.render(b, n.args[0]); err != nil {
			return "", err
		}
		b.WriteString(") AS INTEGER)")
		return domain.Int, nil
	}
	b.WriteString(n.name)
	b.WriteByte('(')
	if n.distinct {
		b.WriteString("DISTINCT ")
	}
	types := make([]domain.DataType, 0, len(n.args))
	for i, a := range n.args {
		if i > 0 {
			b.WriteString(", ")
		}
		t, err := x.render(b, a)
		if err != nil {
			return "", err
		}
		types = append(types, t)
	}
	if n.name == "CAST" {
		b.WriteString(" AS ")
		b.WriteString(n.castType)
		b.WriteByte(')')
		return castResultType(n.castType), nil
	}
	b.WriteByte(')')
	return spec.typ(types), nil
}

func castResultType(t string) domain.DataType {
	name, _, _ := strings.Cut(t, "(")
	switch name {
	case "INTEGER", "INT", "BIGINT", "SMALLINT":
		return domain.BigInt
	case "VARCHAR", "TEXT":
		return domain.String
	}
	return domain.Float
}
