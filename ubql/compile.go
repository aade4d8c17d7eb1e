package ubql

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/store/dialect"
)

// Compiler turns select requests into SQL for one domain. It caches compiled SQL by request
// shape and is safe for concurrent use.
type Compiler struct {
	dom   *domain.Domain
	cache planCache
}

// NewCompiler returns a compiler for dom.
func NewCompiler(dom *domain.Domain) *Compiler {
	return &Compiler{dom: dom}
}

// CompileOptions say how to compile a request.
type CompileOptions struct {
	Dialect dialect.Dialect
	// Lang is the request's language. Multi-language attributes are read from their
	// "<column>_<Lang>" column when Lang is not DefaultLang and is one of Langs.
	Lang string
	// DefaultLang is the language of the plain columns; "" means the domain's default.
	DefaultLang string
	// Langs are the languages the connection has columns for (supportLang).
	Langs []string
	// External marks a request from a client: expressions are sanitized (allowed
	// functions only, only simple expressions in fieldList, orderList and groupList).
	External bool
}

// Select is a compiled select: SQL and its arguments, in the dialect's placeholder form.
// CountSQL is set when options.totalRequired asks for the number of rows without paging.
// Columns describe the result columns, in fieldList order. SQL, CountSQL and Columns are
// shared between compilations of the same request shape: callers must not modify them.
type Select struct {
	SQL       string
	Args      []any
	CountSQL  string
	CountArgs []any
	Columns   []Column
}

// Column is one result column.
type Column struct {
	// Name is the fieldList item as written ("mi_owner.name", "COUNT([ID])"); "*" expands
	// to attribute names.
	Name string
	// Attr is the attribute the column reads (the last one of a path); nil for computed
	// columns.
	Attr *domain.Attribute
	// Type says how to read and encode the value: the attribute's type, String for Many
	// attributes and language columns, BigInt for COUNT, Float for SUM and AVG, the
	// argument's type for MAX and MIN.
	Type domain.DataType
}

// Select compiles a select request. Errors are *Error; their Item is -1 (see WithItem).
//
// The caller may add where items of its own to req before calling (safeDelete, RLS,
// ...): Select treats every item alike, whatever its name.
func (c *Compiler) Select(req *Request, opt CompileOptions) (*Select, error) {
	if opt.Dialect == nil {
		return nil, errors.New("ubql: CompileOptions.Dialect is not set")
	}
	if req == nil {
		return nil, errors.New("ubql: nil request")
	}
	if opt.DefaultLang == "" {
		opt.DefaultLang = c.dom.DefaultLang
	}
	if err := precheck(req, 0, ""); err != nil {
		return nil, err
	}
	kb := keyPool.Get().(*keyBuf)
	kb.b = appendKey(kb.b[:0], req, &opt)
	p := c.cache.get(kb.b)
	if p == nil {
		missOpt := opt // only a miss pays for options that outlive the call
		var err *Error
		p, err = c.compile(req, &missOpt)
		if err != nil {
			keyPool.Put(kb)
			return nil, err
		}
		c.cache.put(string(kb.b), p)
	}
	keyPool.Put(kb)
	s, err := p.bind(req, opt.Dialect)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// precheck applies the count and nesting limits before the request's shape is hashed: a
// request over them costs nothing more, and the walks over nested requests (hashing,
// binding) stay bounded even for requests built in code.
func precheck(req *Request, depth int, path string) *Error {
	var e *Error
	switch {
	case len(req.WhereList) > MaxWhereItems:
		e = tooMany(MaxWhereItems, "MaxWhereItems").at("whereList")
	case len(req.LogicalPredicates) > MaxWhereItems:
		e = tooMany(MaxWhereItems, "MaxWhereItems").at("logicalPredicates")
	case len(req.FieldList) > MaxFieldListItems:
		e = tooMany(MaxFieldListItems, "MaxFieldListItems").at("fieldList")
	case len(req.OrderList) > MaxFieldListItems:
		e = tooMany(MaxFieldListItems, "MaxFieldListItems").at("orderList")
	case len(req.GroupList) > MaxFieldListItems:
		e = tooMany(MaxFieldListItems, "MaxFieldListItems").at("groupList")
	}
	if e != nil {
		e.Path = path + e.Path
		return e
	}
	for i := range req.WhereList {
		w := &req.WhereList[i]
		if !isSubquery(w) {
			continue
		}
		sub := path + "whereList." + pathSeg(w.Name) + ".value"
		if depth+1 > MaxNesting {
			return badRequest(CodeInvalidWhereList, sub, "subqueries are nested deeper than "+strconv.Itoa(MaxNesting)+" levels (MaxNesting)")
		}
		if e := precheck(w.SubQuery, depth+1, sub+"."); e != nil {
			return e
		}
	}
	return nil
}

// plan is a compiled request shape: SQL with placeholders and how to compute each
// argument from a request of that shape.
type plan struct {
	sql        string
	countSQL   string
	params     []binder // by parameter id
	sqlOrder   []int    // parameter ids in placeholder order
	countOrder []int
	columns    []Column
	// reqs tells, for each request in flatten order, which where item of which request
	// holds it, so that bind errors name the items of the request being bound.
	reqs []reqLink
}

// compiler is the state of one compilation.
type compiler struct {
	dom        *domain.Domain
	opt        *CompileOptions
	d          dialect.Dialect
	dname      string
	lang       string // the language of multi-language columns; "" for the plain column
	aliases    int
	params     []binder
	reqs       []reqLink
	mapDepth   int
	enumEntity *domain.Entity
}

func (c *Compiler) compile(req *Request, opt *CompileOptions) (*plan, *Error) {
	cc := &compiler{dom: c.dom, opt: opt, d: opt.Dialect, dname: opt.Dialect.Name()}
	cc.lang = effectiveLang(opt)
	q, err := cc.query(req, nil, -1, "", 0)
	if err != nil {
		return nil, err
	}
	p := &plan{params: cc.params, columns: q.columns, reqs: cc.reqs}
	p.sql, p.sqlOrder = cc.assemble(q.selectSQL(strings.Join(q.fields, ", "), true, true))
	if req.Options.TotalRequired {
		var count string
		if len(q.group) > 0 || q.hasAgg {
			count = "SELECT COUNT(*) FROM (" + q.selectSQL(strings.Join(q.fields, ", "), false, false) + ") T"
		} else {
			count = q.selectSQL("COUNT(*)", false, false)
		}
		p.countSQL, p.countOrder = cc.assemble(count)
	}
	return p, nil
}

// effectiveLang is the language suffix of multi-language columns for opt.
func effectiveLang(opt *CompileOptions) string {
	if opt.Lang != "" && opt.Lang != opt.DefaultLang && slices.Contains(opt.Langs, opt.Lang) {
		return opt.Lang
	}
	return ""
}

func (c *compiler) newAlias() string {
	c.aliases++
	if c.aliases < 10 {
		return "A0" + strconv.Itoa(c.aliases)
	}
	return "A" + strconv.Itoa(c.aliases)
}

// Parameters are written into SQL fragments as markers (\x01 id \x02) and turned into
// placeholders once the statement is assembled, so that placeholder order follows the
// text even though fragments are produced out of order (join conditions are found while
// compiling fields and where items, but come first in the text). The markers cannot occur
// otherwise: identifiers come from the domain and client text is never written into SQL.
const (
	markStart = '\x01'
	markEnd   = '\x02'
)

func (c *compiler) param(b binder) string {
	c.params = append(c.params, b)
	return string(markStart) + strconv.Itoa(len(c.params)-1) + string(markEnd)
}

// assemble replaces markers with placeholders and returns the parameter ids in order.
func (c *compiler) assemble(s string) (string, []int) {
	var b strings.Builder
	b.Grow(len(s) + 16)
	var order []int
	for {
		i := strings.IndexByte(s, markStart)
		if i < 0 {
			b.WriteString(s)
			return b.String(), order
		}
		j := strings.IndexByte(s[i:], markEnd) + i
		id, _ := strconv.Atoi(s[i+1 : j])
		b.WriteString(s[:i])
		order = append(order, id)
		b.WriteString(c.d.Placeholder(len(order)))
		s = s[j+1:]
	}
}

// query is one SELECT being compiled: the request's, or a subquery's.
type query struct {
	c       *compiler
	parent  *query
	req     *Request
	reqIdx  int
	path    string // error path prefix: "" or "whereList.c3.value."
	depth   int    // subquery nesting
	entity  *domain.Entity
	table   string
	alias   string
	joins   []*join
	byKey   map[string]*join
	columns []Column
	fields  []string
	where   []string
	group   []string
	order   []string
	paging  string
	hasAgg  bool
	// fieldInfo describes the fieldList items other than "*", for the groupList check.
	fieldInfo []fieldInfo
}

type fieldInfo struct {
	idx int // in fieldList
	r   exprResult
}

// join is one joined table.
type join struct {
	left   bool
	table  string
	alias  string
	entity *domain.Entity
	on     string
	extra  []string // joinAs conditions
	depth  int
}

// base is where an attribute path starts: an entity under an alias, reached through join
// j (nil for the query's own table).
type base struct {
	e     *domain.Entity
	alias string
	j     *join
}

func (q *query) root() base { return base{e: q.entity, alias: q.alias} }

// reqLink locates a subquery request: the request and where item holding it.
type reqLink struct {
	parent int // -1 for the request itself
	item   int
}

// query compiles req; a subquery (parent not nil, item the where item holding it) needs no
// fieldList.
func (c *compiler) query(req *Request, parent *query, item int, path string, depth int) (*query, *Error) {
	e := c.dom.Entity(req.Entity)
	if e == nil {
		return nil, &Error{Item: -1, Path: path + "entity", Code: CodeEntityNotExist, Status: 400,
			Msg: "entity " + quote(req.Entity) + " does not exist"}
	}
	q := &query{c: c, parent: parent, req: req, reqIdx: len(c.reqs), path: path, depth: depth,
		entity: e, table: c.d.Ident(e.SelectName(c.dname)), alias: c.newAlias()}
	link := reqLink{parent: -1}
	if parent != nil {
		link = reqLink{parent: parent.reqIdx, item: item}
	}
	c.reqs = append(c.reqs, link)
	if err := q.compileFields(parent != nil); err != nil {
		return nil, err
	}
	if err := q.compileWhere(); err != nil {
		return nil, err
	}
	if err := q.compileGroupAndOrder(); err != nil {
		return nil, err
	}
	q.compilePaging()
	return q, nil
}

func (q *query) compileFields(sub bool) *Error {
	req := q.req
	if len(req.FieldList) == 0 {
		if sub {
			return nil
		}
		return &Error{Item: -1, Path: q.path + "fieldList", Code: CodeNoFieldList, Status: 400, Msg: "fieldList is empty"}
	}
	for i, f := range req.FieldList {
		path := q.path + "fieldList." + strconv.Itoa(i)
		if strings.TrimSpace(f) == "*" {
			if q.c.opt.External && len(req.FieldList) > 1 {
				return &Error{Item: -1, Path: path, Code: CodeInvalidData, Status: 400, Msg: `"*" cannot be combined with other fields`}
			}
			for _, a := range q.entity.Attributes {
				s, err := q.attrSQL(a, q.root(), "")
				if err != nil {
					return q.exprCtx(ctxField, path).err(err)
				}
				q.fields = append(q.fields, s)
				q.columns = append(q.columns, Column{Name: a.Name, Attr: a, Type: columnType(a, "")})
			}
			continue
		}
		x := q.exprCtx(ctxField, path)
		r, err := x.top(f)
		if err != nil {
			return err
		}
		q.fields = append(q.fields, r.sql)
		col := Column{Name: f, Type: r.typ}
		if r.single != nil {
			col.Attr = r.single.attr
		}
		q.columns = append(q.columns, col)
		q.hasAgg = q.hasAgg || r.agg
		q.fieldInfo = append(q.fieldInfo, fieldInfo{i, r})
	}
	return nil
}

func (q *query) compileGroupAndOrder() *Error {
	req := q.req
	grouped := map[string]bool{}
	for i, g := range req.GroupList {
		x := q.exprCtx(ctxGroup, q.path+"groupList."+strconv.Itoa(i))
		r, err := x.top(g)
		if err != nil {
			return err
		}
		if r.agg {
			return x.fail(errInvalid, "aggregate functions cannot be grouped by")
		}
		q.group = append(q.group, r.sql)
		// Matched by SQL (so that "name" and "[name]" agree) and by text (two renderings
		// of a string literal bind two parameters).
		grouped[r.sql] = true
		grouped["\x00"+strings.TrimSpace(g)] = true
	}
	aggregated := len(q.group) > 0 || q.hasAgg
	if aggregated {
		for _, f := range q.fieldInfo {
			src := req.FieldList[f.idx]
			if !f.r.agg && f.r.attrs && !grouped[f.r.sql] && !grouped["\x00"+strings.TrimSpace(src)] {
				return &Error{Item: -1, Path: q.path + "fieldList." + strconv.Itoa(f.idx), Code: CodeInvalidData, Status: 400,
					Msg: quote(src) + " must be in groupList or inside an aggregate function"}
			}
		}
	}
	for i, o := range req.OrderList {
		path := q.path + "orderList." + strconv.Itoa(i)
		x := q.exprCtx(ctxOrder, path+".expression")
		r, err := x.top(o.Expression)
		if err != nil {
			return err
		}
		if r.single != nil && !r.single.attr.DataType.Sortable() {
			return x.fail(errInvalid, "attribute "+r.single.attr.Name+" of type "+string(r.single.attr.DataType)+" cannot be sorted")
		}
		if aggregated && !r.agg && r.attrs && !grouped[r.sql] && !grouped["\x00"+strings.TrimSpace(o.Expression)] {
			return x.fail(errInvalid, quote(o.Expression)+" must be in groupList or inside an aggregate function")
		}
		var dir string
		switch strings.ToLower(o.Order) {
		case "", "asc":
			dir = " ASC"
		case "desc":
			dir = " DESC"
		default:
			return &Error{Item: -1, Path: path + ".order", Code: CodeInvalidData, Status: 400, Msg: `must be "asc" or "desc"`}
		}
		q.order = append(q.order, r.sql+dir)
	}
	return nil
}

// compilePaging renders LIMIT as a number in the SQL and OFFSET as a bound value.
// PostgreSQL plans a statement whose LIMIT is a parameter again on every execution (the
// generic plan cannot know how few rows are wanted), which cost a 20-row list more than
// the query itself; a plan per page size is cheap, and the limit is part of the cache
// key. Offsets vary with every page and stay bound. SQLite needs a LIMIT before an
// OFFSET; -1 means none.
func (q *query) compilePaging() {
	o := q.req.Options
	if o.Limit <= 0 && o.Start <= 0 {
		return
	}
	var b strings.Builder
	if o.Limit > 0 {
		b.WriteString(" LIMIT ")
		b.WriteString(strconv.Itoa(o.Limit))
	} else if q.c.dname == dialect.SQLite3 {
		b.WriteString(" LIMIT -1")
	}
	if o.Start > 0 {
		b.WriteString(" OFFSET ")
		b.WriteString(q.c.param(binder{kind: bindStart, req: q.reqIdx}))
	}
	q.paging = b.String()
}

// selectSQL renders the query with the given select list.
func (q *query) selectSQL(fields string, withOrder, withPaging bool) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	b.WriteString(fields)
	b.WriteString(" FROM ")
	b.WriteString(q.table)
	b.WriteByte(' ')
	b.WriteString(q.alias)
	for _, j := range q.joins {
		if j.left {
			b.WriteString(" LEFT JOIN ")
		} else {
			b.WriteString(" INNER JOIN ")
		}
		b.WriteString(j.table)
		b.WriteByte(' ')
		b.WriteString(j.alias)
		b.WriteString(" ON ")
		b.WriteString(j.on)
		for _, x := range j.extra {
			b.WriteString(" AND ")
			b.WriteString(x)
		}
	}
	for i, w := range q.where {
		if i == 0 {
			b.WriteString(" WHERE ")
		} else {
			b.WriteString(" AND ")
		}
		b.WriteString(w)
	}
	for i, g := range q.group {
		if i == 0 {
			b.WriteString(" GROUP BY ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(g)
	}
	if withOrder {
		for i, o := range q.order {
			if i == 0 {
				b.WriteString(" ORDER BY ")
			} else {
				b.WriteString(", ")
			}
			b.WriteString(o)
		}
	}
	if withPaging {
		b.WriteString(q.paging)
	}
	return b.String()
}
