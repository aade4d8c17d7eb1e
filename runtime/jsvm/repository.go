package jsvm

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ubgo/ubgo/ubql"
)

// repo is the Go state of a Repository object (reference §4.5): the UBQL request being
// built. The builder follows UnityBase's CustomRepository (UBQL v2: values in "value"),
// including its rewrites of degenerate conditions, and produces a *ubql.Request directly,
// without a JSON round trip.
type repo struct {
	entity   string
	method   string
	fields   []string
	where    []ubql.WhereItem // in the order added; reusing a clause name replaces the item
	whereLen int              // counter of generated clause names (c1, c2, ...)
	logic    []string
	joinAs   []string
	order    []ubql.OrderItem
	group    []string
	options  ubql.Options
	misc     map[string]any
}

func newRepo(entity string) *repo {
	return &repo{entity: entity, method: "select"}
}

// whereConditions maps the condition names and aliases scripts use to UBQL conditions
// (CustomRepository.prototype.WhereCondition).
var whereConditions = map[string]ubql.Condition{
	"gt": ubql.More, ">": ubql.More, "more": ubql.More,
	"lt": ubql.Less, "<": ubql.Less, "less": ubql.Less,
	"eq": ubql.Equal, "=": ubql.Equal, "equal": ubql.Equal,
	"ge": ubql.MoreEqual, "geq": ubql.MoreEqual, ">=": ubql.MoreEqual, "moreEqual": ubql.MoreEqual,
	"le": ubql.LessEqual, "leq": ubql.LessEqual, "<=": ubql.LessEqual, "lessEqual": ubql.LessEqual,
	"ne": ubql.NotEqual, "neq": ubql.NotEqual, "<>": ubql.NotEqual, "!=": ubql.NotEqual, "!==": ubql.NotEqual, "notEqual": ubql.NotEqual,
	"contains": ubql.Like, "like": ubql.Like,
	"notContains": ubql.NotLike, "notLike": ubql.NotLike,
	"isNull": ubql.IsNull, "null": ubql.IsNull,
	"notNull": ubql.NotIsNull, "notIsNull": ubql.NotIsNull, "isNotNull": ubql.NotIsNull,
	"beginWith": ubql.StartWith, "startWith": ubql.StartWith, "startsWith": ubql.StartWith, "startswith": ubql.StartWith,
	"notBeginWith": ubql.NotStartWith, "notStartWith": ubql.NotStartWith, "notStartsWith": ubql.NotStartWith,
	"includes": ubql.In, "in": ubql.In,
	"notIncludes": ubql.NotIn, "notIn": ubql.NotIn,
	"match":    ubql.Match,
	"subquery": ubql.SubQuery, "exists": ubql.SubQuery, "notExists": ubql.SubQuery,
	"custom": ubql.Custom,
}

// subQueryTypes are the subquery kinds a condition name implies.
var subQueryTypes = map[string]string{"exists": "exists", "notExists": "notExists", "in": "in", "notIn": "notIn",
	"includes": "in", "notIncludes": "notIn"}

// hasBrackets is CustomRepository's /\[.*]/: the expression already names attributes.
func hasBrackets(s string) bool {
	i := strings.IndexByte(s, '[')
	return i >= 0 && strings.IndexByte(s[i:], ']') >= 0
}

// whereArgs are the arguments of Repository.where.
type whereArgs struct {
	expr     string
	cond     string
	value    any   // exported value; nil with hasValue for an explicit null
	hasValue bool  // the value argument was not undefined
	sub      *repo // the value was a Repository
	subUBQL  *ubql.Request
	clause   string
}

// addWhere implements CustomRepository.where.
func (r *repo) addWhere(a whereArgs) error {
	clause := a.clause
	if clause == "" {
		r.whereLen++
		clause = generatedClause(r.whereLen)
		for r.whereIndex(clause) >= 0 {
			clause += "_"
		}
	}
	cond, ok := whereConditions[a.cond]
	if !ok {
		return fmt.Errorf("unknown where condition %q", a.cond)
	}
	expr := a.expr
	if expr != "" && cond != ubql.Custom && !hasBrackets(expr) {
		expr = "[" + expr + "]"
	}
	item := ubql.WhereItem{Name: clause, Expression: expr}
	value, hasValue := a.value, a.hasValue
	list, isList := value.([]any)
	switch {
	case (cond == ubql.In || cond == ubql.NotIn) && (a.sub != nil || a.subUBQL != nil), cond == ubql.SubQuery:
		t, ok := subQueryTypes[a.cond]
		if !ok {
			return fmt.Errorf("condition %q needs a subquery type: use exists, notExists, in or notIn", a.cond)
		}
		sub := a.subUBQL
		if a.sub != nil {
			sub = a.sub.request()
		}
		if sub == nil {
			return fmt.Errorf("condition %q needs a Repository (or a UBQL object) as its value", a.cond)
		}
		// The v2 form: "value" holds the subquery (Value stays nil, as ubql decodes it).
		item.Condition, item.SubQueryType, item.SubQuery = ubql.SubQuery, t, sub
		value, hasValue = nil, true
	case (cond == ubql.In || cond == ubql.NotIn) && value == nil:
		// "in" with no list at all matches nothing (UnityBase turns it into 0=1).
		item.Expression, cond, value, hasValue = "0", ubql.Equal, int64(1), true
	case cond == ubql.In && !isList:
		cond = ubql.Equal
	case cond == ubql.In && len(list) == 0:
		item.Expression, cond, value = "0", ubql.Equal, int64(1)
	case cond == ubql.NotIn && (!isList || len(list) == 0):
		item.Expression, cond, value = "1", ubql.Equal, int64(1)
	case hasValue && value == nil:
		switch cond {
		case ubql.Equal:
			cond = ubql.IsNull
		case ubql.NotEqual:
			cond = ubql.NotIsNull
		case ubql.Custom, ubql.IsNull, ubql.NotIsNull:
		default:
			return fmt.Errorf("condition %q is given a null value", a.cond)
		}
		hasValue = false
	}
	if cond == ubql.In && isList && len(list) == 1 {
		cond, value = ubql.Equal, list[0]
	}
	if item.Condition == "" {
		item.Condition = cond
	}
	if hasValue {
		item.Value, item.HasValue = value, true
	}
	if i := r.whereIndex(clause); i >= 0 {
		r.where[i] = item
	} else {
		r.where = append(r.where, item)
	}
	return nil
}

// smallClauseNames are the first generated clause names, spelled once.
var smallClauseNames = func() []string {
	names := make([]string, 16)
	for i := range names {
		names[i] = "c" + strconv.Itoa(i)
	}
	return names
}()

// generatedClause is the name where gives its n-th unnamed condition: c1, c2, ...
func generatedClause(n int) string {
	if n >= 0 && n < len(smallClauseNames) {
		return smallClauseNames[n]
	}
	return "c" + strconv.Itoa(n)
}

func (r *repo) whereIndex(name string) int {
	return slices.IndexFunc(r.where, func(w ubql.WhereItem) bool { return w.Name == name })
}

// orderBy adds a sort; the same expression again changes its direction, and a nil
// direction removes it.
func (r *repo) orderBy(expr string, dir string, remove bool) error {
	i := slices.IndexFunc(r.order, func(o ubql.OrderItem) bool { return o.Expression == expr })
	if remove {
		if i >= 0 {
			r.order = slices.Delete(r.order, i, i+1)
		}
		return nil
	}
	switch strings.ToLower(dir) {
	case "", "asc":
		dir = "asc"
	case "desc":
		dir = "desc"
	default:
		return fmt.Errorf("order direction must be asc or desc, got %q", dir)
	}
	if i >= 0 {
		r.order[i].Order = dir
		return nil
	}
	r.order = append(r.order, ubql.OrderItem{Expression: expr, Order: dir})
	return nil
}

// setMisc implements misc(flags): falsy values remove a flag.
func (r *repo) setMisc(flags map[string]any) error {
	next := maps.Clone(r.misc)
	if next == nil {
		next = map[string]any{}
	}
	for k, v := range flags {
		if t, ok := v.(time.Time); ok {
			v = t.UTC().Format(time.RFC3339Nano)
		}
		if truthy(v) {
			next[k] = v
		} else {
			delete(next, k)
		}
	}
	if _, err := miscRequest(r.entity, next); err != nil {
		return err
	}
	r.misc = next
	return nil
}

// miscRequest lets ubql decode the misc flags (and keep unknown ones as Extra).
func miscRequest(entity string, misc map[string]any) (*ubql.Request, error) {
	m := maps.Clone(misc)
	m["entity"], m["method"] = entity, "select"
	for _, k := range []string{"fieldList", "whereList", "orderList", "groupList", "options", "execParams", "logicalPredicates", "joinAs"} {
		if _, ok := m[k]; ok {
			return nil, errors.New("misc cannot set " + k)
		}
	}
	return ubql.FromValue(m)
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case int64:
		return x != 0
	case float64:
		return x != 0
	}
	return true
}

// request builds the UBQL request. It shares nothing mutable with r.
func (r *repo) request() *ubql.Request {
	req := &ubql.Request{
		Entity:            r.entity,
		Method:            r.method,
		FieldList:         slices.Clone(r.fields),
		FieldListSet:      true,
		WhereList:         slices.Clone(r.where),
		LogicalPredicates: slices.Clone(r.logic),
		JoinAs:            slices.Clone(r.joinAs),
		OrderList:         slices.Clone(r.order),
		GroupList:         slices.Clone(r.group),
		Options:           r.options,
	}
	if req.FieldList == nil {
		req.FieldList = []string{}
	}
	if len(r.misc) > 0 {
		if mr, err := miscRequest(r.entity, r.misc); err == nil { // checked by setMisc
			req.Misc, req.Extra = mr.Misc, mr.Extra
		}
	}
	return req
}

// clone returns an independent copy (where items share only immutable subqueries).
func (r *repo) clone() *repo {
	c := *r
	c.fields = slices.Clone(r.fields)
	c.where = slices.Clone(r.where)
	c.logic = slices.Clone(r.logic)
	c.joinAs = slices.Clone(r.joinAs)
	c.order = slices.Clone(r.order)
	c.group = slices.Clone(r.group)
	c.misc = maps.Clone(r.misc)
	return &c
}

// clearWhere removes every where item not used by joinAs, and the logical predicates.
func (r *repo) clearWhere() {
	r.logic = nil
	r.where = slices.DeleteFunc(r.where, func(w ubql.WhereItem) bool { return !slices.Contains(r.joinAs, w.Name) })
}
