package ubql

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/store/dialect"
)

// bindKind says where a bound argument comes from.
type bindKind uint8

const (
	bindConst bindKind = iota // a value fixed by the shape: a string literal, an enum group
	bindValue                 // a where item's operand, converted to the expression's type
	bindLike                  // a where item's operand as a LIKE pattern
	bindList                  // a where item's operand as an IN list (one argument)
	bindNamed                 // a named parameter of a custom condition
	bindStart                 // options.start
	bindID                    // the top-level ID
)

// binder computes one argument from a request of the plan's shape.
type binder struct {
	kind   bindKind
	req    int // index of the request in flatten order (0: the request itself)
	item   int // where item index
	typ    domain.DataType
	prefix bool   // bindLike: startWith rather than contains
	name   string // bindNamed
	val    any    // bindConst
}

// flatten lists req and its subquery requests in the order the compiler meets them.
func flatten(req *Request, out []*Request) []*Request {
	out = append(out, req)
	for i := range req.WhereList {
		if w := &req.WhereList[i]; isSubquery(w) {
			out = flatten(w.SubQuery, out)
		}
	}
	return out
}

// bind computes the arguments of a request of the plan's shape.
func (p *plan) bind(req *Request, d dialect.Dialect) (*Select, *Error) {
	one := [1]*Request{req}
	reqs := one[:]
	if len(p.reqs) > 1 {
		reqs = flatten(req, make([]*Request, 0, len(p.reqs)))
	}
	for k, r := range reqs {
		if e := checkOptions(&r.Options); e != nil {
			e.Path = p.reqPath(k, reqs) + "options." + e.Path
			return nil, e
		}
	}
	s := &Select{SQL: p.sql, CountSQL: p.countSQL, Columns: p.columns}
	if p.countSQL == "" {
		if len(p.sqlOrder) > 0 {
			s.Args = make([]any, len(p.sqlOrder))
			for i, id := range p.sqlOrder {
				v, err := p.value(id, reqs, d)
				if err != nil {
					return nil, err
				}
				s.Args[i] = v
			}
		}
		return s, nil
	}
	// The count shares most arguments with the select: compute each once.
	type slot struct {
		v    any
		done bool
	}
	vals := make([]slot, len(p.params))
	get := func(id int) (any, *Error) {
		if !vals[id].done {
			v, err := p.value(id, reqs, d)
			if err != nil {
				return nil, err
			}
			vals[id] = slot{v, true}
		}
		return vals[id].v, nil
	}
	var err *Error
	if s.Args, err = collect(p.sqlOrder, get); err != nil {
		return nil, err
	}
	if s.CountArgs, err = collect(p.countOrder, get); err != nil {
		return nil, err
	}
	return s, nil
}

// reqPath is the error path prefix of request k ("" or "whereList.c3.value."), built from
// the request being bound.
func (p *plan) reqPath(k int, reqs []*Request) string {
	l := p.reqs[k]
	if l.parent < 0 {
		return ""
	}
	return p.reqPath(l.parent, reqs) + "whereList." + pathSeg(reqs[l.parent].WhereList[l.item].Name) + ".value."
}

func collect(order []int, get func(int) (any, *Error)) ([]any, *Error) {
	if len(order) == 0 {
		return nil, nil
	}
	args := make([]any, len(order))
	for i, id := range order {
		v, err := get(id)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	return args, nil
}

func (p *plan) value(id int, reqs []*Request, d dialect.Dialect) (any, *Error) {
	b := &p.params[id]
	switch b.kind {
	case bindConst:
		return b.val, nil
	case bindStart:
		return int64(reqs[b.req].Options.Start), nil
	case bindID:
		return *reqs[b.req].ID, nil
	}
	w := &reqs[b.req].WhereList[b.item]
	v, _ := operand(w)
	var out any
	var msg string
	switch b.kind {
	case bindValue:
		out, msg = convert(v, b.typ, d)
	case bindLike:
		out, msg = likePattern(v, b.prefix)
	case bindList:
		out, msg = listArg(v, b.typ, d)
	case bindNamed:
		params := w.Values
		if params == nil {
			params, _ = w.Value.(map[string]any)
		}
		x, ok := params[b.name]
		if !ok {
			msg = "parameter :" + b.name + ": has no value"
			break
		}
		out, msg = convert(x, "", d)
	}
	if msg != "" {
		return nil, badRequest(CodeInvalidWhereList, p.reqPath(b.req, reqs)+"whereList."+pathSeg(w.Name)+".value", msg)
	}
	return out, nil
}

// normalize maps the numeric types a JavaScript runtime or Go caller may produce onto
// int64 and float64.
func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case uint32:
		return int64(x)
	case uint16:
		return int64(x)
	case uint8:
		return int64(x)
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x)
		}
		return float64(x)
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
		return float64(x)
	case float32:
		return float64(x)
	}
	return v
}

// convert turns a request value into the argument to compare with a value of type typ
// ("" for computed expressions of unknown type). It returns a message when the value does
// not fit.
func convert(v any, typ domain.DataType, d dialect.Dialect) (any, string) {
	v = normalize(v)
	if s, ok := v.(string); ok && strings.IndexByte(s, 0) >= 0 {
		return nil, "must not contain NUL characters"
	}
	switch typ {
	case domain.String, domain.Text, domain.Enum, domain.Document, domain.JSON, domain.BLOB:
		switch x := v.(type) {
		case string:
			return x, ""
		case int64:
			return strconv.FormatInt(x, 10), ""
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), ""
		case bool:
			return strconv.FormatBool(x), ""
		}
		return nil, "must be a string"
	case domain.Int, domain.BigInt, domain.ID, domain.EntityT, domain.TimeLog, domain.Many:
		switch x := v.(type) {
		case int64, float64:
			return x, ""
		case bool:
			return boolInt(x), ""
		case string:
			s := strings.TrimSpace(x)
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n, ""
			}
			if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return f, ""
			}
		}
		return nil, "must be a number"
	case domain.Float, domain.Currency:
		switch x := v.(type) {
		case int64, float64:
			return x, ""
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return f, ""
			}
		}
		return nil, "must be a number"
	case domain.Boolean:
		switch x := v.(type) {
		case bool:
			return boolInt(x), ""
		case int64:
			if x == 0 || x == 1 {
				return x, ""
			}
		case float64:
			if x == 0 || x == 1 {
				return int64(x), ""
			}
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "1", "true":
				return int64(1), ""
			case "0", "false":
				return int64(0), ""
			}
		}
		return nil, "must be true or false (or 1 or 0)"
	case domain.DateTime, domain.Date:
		switch x := v.(type) {
		case string:
			t, err := dialect.ParseTime(strings.TrimSpace(x))
			if err != nil {
				return nil, "must be an ISO-8601 date"
			}
			return d.FormatTime(t), ""
		case time.Time:
			return d.FormatTime(x), ""
		}
		return nil, "must be an ISO-8601 date"
	}
	switch x := v.(type) {
	case bool:
		return boolInt(x), ""
	case nil, int64, float64, string:
		return x, ""
	case time.Time:
		return d.FormatTime(x), ""
	}
	return nil, "must be a number, a string or a boolean"
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// likePattern makes the pattern of like (contains) and startWith: the value with LIKE's
// wildcards escaped (the SQL says ESCAPE '\').
func likePattern(v any, prefix bool) (any, string) {
	s, msg := convert(v, domain.String, nil)
	if msg != "" {
		return nil, msg
	}
	p := likeEscaper.Replace(s.(string)) + "%"
	if !prefix {
		p = "%" + p
	}
	return p, ""
}

func isEmptyList(v any) bool {
	switch x := v.(type) {
	case []any:
		return len(x) == 0
	case []string:
		return len(x) == 0
	case []int64:
		return len(x) == 0
	case []int:
		return len(x) == 0
	case []float64:
		return len(x) == 0
	}
	return false
}

// listArg converts an in/notIn operand (a list, or one value standing for a list of one)
// into the one argument the dialect binds.
func listArg(v any, typ domain.DataType, d dialect.Dialect) (any, string) {
	var in []any
	switch x := v.(type) {
	case []any:
		in = x
	case []string:
		in = make([]any, len(x))
		for i, s := range x {
			in[i] = s
		}
	case []int64:
		in = make([]any, len(x))
		for i, n := range x {
			in[i] = n
		}
	case []int:
		in = make([]any, len(x))
		for i, n := range x {
			in[i] = int64(n)
		}
	case []float64:
		in = make([]any, len(x))
		for i, f := range x {
			in[i] = f
		}
	default:
		in = []any{v}
	}
	if len(in) > MaxInList {
		return nil, "the list has more than " + strconv.Itoa(MaxInList) + " values (MaxInList)"
	}
	out := make([]any, len(in))
	for i, e := range in {
		if e == nil {
			return nil, "item " + strconv.Itoa(i) + " must not be null"
		}
		c, msg := convert(e, typ, d)
		if msg != "" {
			return nil, "item " + strconv.Itoa(i) + " " + msg
		}
		switch x := c.(type) {
		case time.Time: // lists bind as text; both databases read this form as a timestamp
			c = x.Format(dialect.TimeFormat)
		case float64:
			if isIntType(typ) {
				if x != math.Trunc(x) {
					return nil, "item " + strconv.Itoa(i) + " must be an integer"
				}
				c = int64(x)
			}
		case int64:
			if typ == domain.Float || typ == domain.Currency {
				c = float64(x)
			}
		}
		out[i] = c
	}
	arg, err := d.ListArg(out)
	if err != nil {
		return nil, "the values must be all numbers or all strings"
	}
	return arg, ""
}
