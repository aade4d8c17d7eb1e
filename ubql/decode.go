package ubql

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// DecodeBatch decodes the body of POST /ubql: a JSON array of at most MaxBatchItems
// request items. Errors are *Error with Item set to the index of the failing item (-1 for
// problems outside the items, such as trailing data).
func DecodeBatch(data []byte) ([]*Request, error) {
	d := decoder{data: data}
	if d.peek() != '[' {
		if d.pos >= len(d.data) || d.data[d.pos] != '{' {
			return nil, d.unexpected("'['")
		}
		return nil, badRequest(CodeInvalidData, "", "the body must be a JSON array of request items")
	}
	if err := d.enter(); err != nil {
		return nil, err
	}
	reqs := make([]*Request, 0, 1)
	if d.peek() == ']' {
		d.pos++
	} else {
		for i := 0; ; i++ {
			if i == MaxBatchItems {
				e := badRequest(CodeInvalidData, "", "the batch has more than "+strconv.Itoa(MaxBatchItems)+" items (MaxBatchItems)")
				return nil, e
			}
			r, err := d.request(false)
			if err != nil {
				err.Item = i
				return nil, err
			}
			reqs = append(reqs, r)
			c := d.peek()
			if c == ']' {
				d.pos++
				break
			}
			if c != ',' {
				return nil, d.unexpected("',' or ']'")
			}
			d.pos++
		}
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	if len(reqs) == 0 {
		return nil, badRequest(CodeInvalidData, "", "the batch is empty")
	}
	return reqs, nil
}

// DecodeRequest decodes one request item (a JSON object).
func DecodeRequest(data []byte) (*Request, error) {
	d := decoder{data: data}
	r, err := d.request(false)
	if err != nil {
		return nil, err
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return r, nil
}

// request reads one request object. The keys of the hot path (entity, method, fieldList,
// whereList) are read directly; the others as plain values through applyValue, which
// FromValue shares.
func (d *decoder) request(sub bool) (*Request, *Error) {
	if c := d.peek(); c != '{' {
		if c == '[' || c == '"' || c == '-' || c == 't' || c == 'f' || c == 'n' || isDigit(c) {
			return nil, badRequest(CodeInvalidData, "", "a request item must be a JSON object")
		}
		return nil, d.unexpected("a request object")
	}
	r := &Request{}
	var seen uint64
	err := d.object(func(key []byte) error {
		k, known := topKeys[string(key)]
		if !known {
			if _, dup := r.Extra[string(key)]; dup {
				return errDuplicate()
			}
			name := string(key)
			v, err := d.value()
			if err != nil {
				return err
			}
			if r.Extra == nil {
				r.Extra = map[string]any{}
			}
			r.Extra[name] = v
			return nil
		}
		if seen&(1<<k) != 0 {
			return errDuplicate()
		}
		seen |= 1 << k
		switch k {
		case keyEntity, keyMethod:
			if d.peek() != '"' {
				if d.peek() == 'n' {
					return d.literal("null")
				}
				return typeErr("a string")
			}
			if k == keyEntity {
				s, err := d.str()
				r.Entity = s
				return err
			}
			b, err := d.strBytes(false)
			r.Method = methodName(b)
			return err
		case keyFieldList:
			return d.fieldList(r)
		case keyWhereList:
			return d.whereList(r)
		case keyOrderList:
			return d.orderList(r)
		case keyOptions:
			return d.options(r)
		}
		v, err := d.value()
		if err != nil {
			return err
		}
		if e := r.applyValue(string(key), v, d.depth); e != nil {
			return e
		}
		return nil
	})
	if err != nil {
		return nil, err.(*Error)
	}
	if e := r.checkRequired(sub); e != nil {
		return nil, e
	}
	return r, nil
}

func (d *decoder) fieldList(r *Request) error {
	switch d.peek() {
	case 'n':
		return d.literal("null")
	case '[':
	default:
		return typeErr("an array of strings")
	}
	r.FieldListSet = true
	r.FieldList = make([]string, 0, 8)
	return d.array(func(i int) error {
		if i == MaxFieldListItems {
			return tooMany(MaxFieldListItems, "MaxFieldListItems")
		}
		if d.peek() != '"' {
			return typeErr("a string")
		}
		s, err := d.str()
		r.FieldList = append(r.FieldList, s)
		return err
	})
}

// whereList reads the whereList object in member order (the order is echoed and decides
// parameter order in the SQL).
func (d *decoder) whereList(r *Request) error {
	switch d.peek() {
	case 'n':
		return d.literal("null")
	case '{':
	default:
		return typeErr("an object of named conditions")
	}
	return d.object(func(key []byte) error {
		if len(r.WhereList) == MaxWhereItems {
			return tooMany(MaxWhereItems, "MaxWhereItems")
		}
		for i := range r.WhereList {
			if r.WhereList[i].Name == string(key) {
				return errDuplicate()
			}
		}
		w, err := d.whereItem(string(key))
		if err != nil {
			return err
		}
		if r.WhereList == nil {
			r.WhereList = make([]WhereItem, 0, 4)
		}
		r.WhereList = append(r.WhereList, w)
		return nil
	})
}

// methodName returns the method name in b, sharing the strings of the usual methods.
func methodName(b []byte) string {
	switch string(b) {
	case "select":
		return "select"
	case "insert":
		return "insert"
	case "update":
		return "update"
	case "delete":
		return "delete"
	case "addnew":
		return "addnew"
	}
	return string(b)
}

// conditionOf is parseCondition for the bytes of a JSON string, without allocating for the
// names clients send.
func conditionOf(b []byte) (Condition, bool) {
	switch string(b) {
	case "equal":
		return Equal, true
	case "notEqual":
		return NotEqual, true
	case "more":
		return More, true
	case "moreEqual":
		return MoreEqual, true
	case "less":
		return Less, true
	case "lessEqual":
		return LessEqual, true
	case "like":
		return Like, true
	case "notLike":
		return NotLike, true
	case "startWith":
		return StartWith, true
	case "notStartWith":
		return NotStartWith, true
	case "isNull":
		return IsNull, true
	case "notIsNull":
		return NotIsNull, true
	case "in":
		return In, true
	case "notIn":
		return NotIn, true
	case "subquery":
		return SubQuery, true
	case "custom":
		return Custom, true
	case "match":
		return Match, true
	}
	return parseCondition(string(b))
}

// options reads the options object.
func (d *decoder) options(r *Request) error {
	switch d.peek() {
	case 'n':
		return d.literal("null")
	case '{':
	default:
		return typeErr("an object")
	}
	o := Options{Set: true}
	var seen uint8
	err := d.object(func(key []byte) error {
		var bit uint8
		switch string(key) {
		case "start":
			bit = 1
		case "limit":
			bit = 2
		case "totalRequired":
			bit = 4
		default:
			return badRequest(CodeInvalidData, "", "unknown option (want start, limit or totalRequired)")
		}
		if seen&bit != 0 {
			return errDuplicate()
		}
		seen |= bit
		v, err := d.value()
		if err != nil {
			return err
		}
		if bit == 4 {
			switch x := v.(type) {
			case bool:
				o.TotalRequired = x
			case nil:
			default:
				return typeErr("true or false")
			}
			return nil
		}
		var n int64
		if v != nil {
			var ok bool
			if n, ok = integral(v); !ok || n > math.MaxInt32 || n < math.MinInt32 {
				return typeErr("an integer")
			}
		}
		if bit == 1 {
			o.Start = int(n)
		} else {
			o.Limit = int(n)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if e := checkOptions(&o); e != nil {
		return e
	}
	r.Options = o
	return nil
}

// orderList reads orderList: an array, or an object keyed by position ({"0": ..., "1": ...}).
func (d *decoder) orderList(r *Request) error {
	switch d.peek() {
	case 'n':
		return d.literal("null")
	case '[':
		return d.array(func(i int) error {
			if i == MaxFieldListItems {
				return tooMany(MaxFieldListItems, "MaxFieldListItems")
			}
			it, err := d.orderItem()
			r.OrderList = append(r.OrderList, it)
			return err
		})
	case '{':
	default:
		return typeErr("an array or an object of {expression, order}")
	}
	var pos []int
	err := d.object(func(key []byte) error {
		if len(pos) == MaxFieldListItems {
			return tooMany(MaxFieldListItems, "MaxFieldListItems")
		}
		n, err := strconv.Atoi(string(key))
		if err != nil || n < 0 {
			return badRequest(CodeInvalidData, "", "orderList keys must be positions (0, 1, ...)")
		}
		if slices.Contains(pos, n) {
			return badRequest(CodeInvalidData, "", "position is given twice")
		}
		it, e := d.orderItem()
		if e != nil {
			return e
		}
		// Insert in position order; lists are short.
		i, _ := slices.BinarySearch(pos, n)
		pos = slices.Insert(pos, i, n)
		r.OrderList = slices.Insert(r.OrderList, i, it)
		return nil
	})
	return err
}

func (d *decoder) orderItem() (OrderItem, error) {
	it := OrderItem{Order: "asc"}
	if d.peek() != '{' {
		return it, typeErr("an object {expression, order}")
	}
	var seen uint8
	err := d.object(func(key []byte) error {
		var bit uint8
		switch string(key) {
		case "expression":
			bit = 1
		case "order":
			bit = 2
		default:
			return badRequest(CodeInvalidData, "", "unknown key (want expression or order)")
		}
		if seen&bit != 0 {
			return errDuplicate()
		}
		seen |= bit
		if bit == 1 {
			if d.peek() != '"' {
				return typeErr("a string")
			}
			s, err := d.str()
			it.Expression = s
			return err
		}
		switch d.peek() {
		case 'n':
			return d.literal("null")
		case '"':
		default:
			return typeErr(`"asc" or "desc"`)
		}
		b, err := d.strBytes(false)
		if err != nil {
			return err
		}
		switch {
		case len(b) == 0 || strings.EqualFold(string(b), "asc"):
			it.Order = "asc"
		case strings.EqualFold(string(b), "desc"):
			it.Order = "desc"
		default:
			return typeErr(`"asc" or "desc"`)
		}
		return nil
	})
	return it, err
}

func (d *decoder) whereItem(name string) (WhereItem, *Error) {
	w := WhereItem{Name: name}
	if d.peek() != '{' {
		return w, typeErr("an object {expression, condition, value}")
	}
	const (
		bExpr = 1 << iota
		bCond
		bValue
		bValues
		bSubType
	)
	var seen uint8
	var opStart, opEnd int // span of the operand, re-read as a request for subqueries
	err := d.object(func(key []byte) error {
		var bit uint8
		switch string(key) {
		case "expression":
			bit = bExpr
		case "condition":
			bit = bCond
		case "value":
			bit = bValue
		case "values":
			bit = bValues
		case "subQueryType":
			bit = bSubType
		default:
			return unknownWhereKey()
		}
		if seen&bit != 0 {
			return errDuplicate()
		}
		seen |= bit
		switch bit {
		case bExpr:
			if d.peek() == 'n' {
				return d.literal("null")
			}
			if d.peek() != '"' {
				return typeErr("a string")
			}
			s, err := d.str()
			w.Expression = s
			return err
		case bCond, bSubType:
			if d.peek() != '"' {
				return typeErr("a string")
			}
			b, err := d.strBytes(false)
			if err != nil {
				return err
			}
			if bit == bCond {
				c, ok := conditionOf(b)
				if !ok {
					e := unknownCondition(string(b))
					e.Path = ""
					return e
				}
				w.Condition = c
				return nil
			}
			t, ok := parseSubQueryType(string(b))
			if !ok {
				return badRequest(CodeInvalidWhereList, "", "must be in, notIn, exists or notExists")
			}
			w.SubQueryType = t
			return nil
		case bValue:
			opStart = d.pos
			v, err := d.value()
			opEnd = d.pos
			w.Value, w.HasValue = v, true
			return err
		}
		// v1 "values": names in order; the first value is the operand.
		switch d.peek() {
		case 'n':
			return d.literal("null")
		case '{':
		default:
			return typeErr("an object of named values")
		}
		vals := map[string]any{}
		err := d.object(func(k []byte) error {
			if _, dup := vals[string(k)]; dup {
				return errDuplicate()
			}
			name := string(k)
			start := d.pos
			v, err := d.value()
			if err != nil {
				return err
			}
			if len(vals) == 0 && seen&bValue == 0 {
				w.Value = v
				opStart, opEnd = start, d.pos
			}
			vals[name] = v
			return nil
		})
		w.Values = vals
		return err
	})
	if err != nil {
		return w, err.(*Error)
	}
	if seen&bCond == 0 {
		return w, badRequest(CodeInvalidWhereList, "condition", "condition is missing")
	}
	if w.Condition != SubQuery {
		return w, nil
	}
	path := "value"
	if !w.HasValue {
		path = "values"
	}
	if _, ok := w.Value.(map[string]any); !ok {
		return w, badRequest(CodeInvalidWhereList, path, "a subquery condition needs a UBQL object as its value")
	}
	if d.nest+1 > MaxNesting {
		return w, badRequest(CodeInvalidWhereList, path, "subqueries are nested deeper than "+strconv.Itoa(MaxNesting)+" levels (MaxNesting)")
	}
	// Read the operand again, as a request this time, so that its own whereList keeps
	// its order.
	sd := decoder{data: d.data[opStart:opEnd], depth: d.depth, off: d.off + opStart, nest: d.nest + 1}
	sub, e := sd.request(true)
	if e != nil {
		return w, e.at(path)
	}
	w.SubQuery = sub
	if w.HasValue {
		w.Value = nil // the value lives in SubQuery
	}
	if w.SubQueryType == "" {
		return w, badRequest(CodeInvalidWhereList, "subQueryType", "subQueryType is missing (in, notIn, exists or notExists)")
	}
	return w, nil
}
