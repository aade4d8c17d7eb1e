package ubql

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// Top-level request keys the decoders understand. keyMisc+i stands for miscFlags[i].
const (
	keyEntity = iota
	keyMethod
	keyFieldList
	keyWhereList
	keyLogicalPredicates
	keyJoinAs
	keyOrderList
	keyGroupList
	keyOptions
	keyExecParams
	keyID
	keyMisc
)

var topKeys = func() map[string]int {
	m := map[string]int{"entity": keyEntity, "method": keyMethod, "fieldList": keyFieldList,
		"whereList": keyWhereList, "logicalPredicates": keyLogicalPredicates, "joinAs": keyJoinAs,
		"orderList": keyOrderList, "groupList": keyGroupList, "options": keyOptions,
		"execParams": keyExecParams, "ID": keyID}
	for i, f := range miscFlags {
		m[f.name] = keyMisc + i
	}
	return m
}()

// miscFlag is one top-level flag of reference §4.2 and the Misc field that holds it; the
// table drives decoding and, in this order, the echo.
type miscFlag struct {
	name string
	b    func(*Misc) *bool
	s    func(*Misc) *string
}

var miscFlags = [...]miscFlag{
	{name: "__allowSelectSafeDeleted", b: func(m *Misc) *bool { return &m.AllowSelectSafeDeleted }},
	{name: "__skipOptimisticLock", b: func(m *Misc) *bool { return &m.SkipOptimisticLock }},
	{name: "__skipSelectAfterInsert", b: func(m *Misc) *bool { return &m.SkipSelectAfterInsert }},
	{name: "__skipSelectAfterUpdate", b: func(m *Misc) *bool { return &m.SkipSelectAfterUpdate }},
	{name: "__skipSelectBeforeUpdate", b: func(m *Misc) *bool { return &m.SkipSelectBeforeUpdate }},
	{name: "__skipRls", b: func(m *Misc) *bool { return &m.SkipRls }},
	{name: "__skipAclRls", b: func(m *Misc) *bool { return &m.SkipAclRls }},
	{name: "__useReplica", b: func(m *Misc) *bool { return &m.UseReplica }},
	{name: "__mip_disablecache", b: func(m *Misc) *bool { return &m.DisableCache }},
	{name: "__mip_recordhistory", b: func(m *Misc) *bool { return &m.RecordHistory }},
	{name: "__mip_recordhistory_all", b: func(m *Misc) *bool { return &m.RecordHistoryAll }},
	{name: "__mip_ondate", s: func(m *Misc) *string { return &m.OnDate }},
	{name: "lockType", s: func(m *Misc) *string { return &m.LockType }},
	{name: "alsNeed", b: func(m *Misc) *bool { return &m.AlsNeed }},
	{name: "version", s: func(m *Misc) *string { return &m.Version }},
}

func typeErr(want string) *Error {
	return badRequest(CodeInvalidData, "", "must be "+want)
}

func setMisc(m *Misc, f *miscFlag, v any) *Error {
	if f.b != nil {
		switch x := v.(type) {
		case bool:
			*f.b(m) = x
		case nil:
			*f.b(m) = false
		case int64: // old clients send 0/1
			if x != 0 && x != 1 {
				return typeErr("true or false")
			}
			*f.b(m) = x == 1
		default:
			return typeErr("true or false")
		}
		return nil
	}
	switch x := v.(type) {
	case string:
		*f.s(m) = x
	case nil:
		*f.s(m) = ""
	case int64:
		*f.s(m) = strconv.FormatInt(x, 10)
	default:
		return typeErr("a string")
	}
	return nil
}

// integral returns v as an int64 when it is an integer number of any Go type a decoder or
// a JavaScript runtime produces (int64, float64 with no fraction, int, ...).
func integral(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			return int64(x), true
		}
	case float32:
		f := float64(x)
		if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return int64(f), true
		}
	case uint32:
		return int64(x), true
	case uint64:
		if x < 1<<63 {
			return int64(x), true
		}
	}
	return 0, false
}

// idValue reads the top-level ID: a number or a numeric string (IDs above 2^53 travel as
// strings); nil means absent.
func idValue(v any) (*int64, *Error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, typeErr("an integer or a string holding one")
		}
		return &n, nil
	}
	n, ok := integral(v)
	if !ok {
		return nil, typeErr("an integer or a string holding one")
	}
	return &n, nil
}

// optionsValue reads the options object.
func optionsValue(v any) (Options, *Error) {
	if v == nil {
		return Options{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return Options{}, typeErr("an object")
	}
	o := Options{Set: true}
	for _, k := range sortedKeys(m) {
		x := m[k]
		switch k {
		case "start", "limit":
			var n int64
			if x != nil {
				var ok bool
				if n, ok = integral(x); !ok || n > math.MaxInt32 || n < math.MinInt32 {
					return Options{}, typeErr("an integer").at(k)
				}
			}
			if k == "start" {
				o.Start = int(n)
			} else {
				o.Limit = int(n)
			}
		case "totalRequired":
			switch b := x.(type) {
			case bool:
				o.TotalRequired = b
			case nil:
			default:
				return Options{}, typeErr("true or false").at(k)
			}
		default:
			return Options{}, badRequest(CodeInvalidData, pathSeg(k), "unknown option (want start, limit or totalRequired)")
		}
	}
	return o, checkOptions(&o)
}

// checkOptions checks paging values; the error path is relative to "options".
func checkOptions(o *Options) *Error {
	if o.Start < 0 {
		return badRequest(CodeInvalidData, "start", "must not be negative")
	}
	if o.Limit < 0 {
		return badRequest(CodeInvalidData, "limit", "must not be negative")
	}
	if o.Limit > MaxPageSize {
		return badRequest(CodeInvalidData, "limit", "must not exceed "+strconv.Itoa(MaxPageSize)+" rows (MaxPageSize)")
	}
	return nil
}

var conditions = func() map[string]Condition {
	m := map[string]Condition{}
	for _, c := range []Condition{Equal, NotEqual, More, MoreEqual, Less, LessEqual, Like, NotLike,
		StartWith, NotStartWith, IsNull, NotIsNull, In, NotIn, SubQuery, Custom, Match} {
		m[strings.ToLower(string(c))] = c
	}
	return m
}()

// parseCondition returns the condition named s (case-insensitive, as UnityBase's server).
func parseCondition(s string) (Condition, bool) {
	switch c := Condition(s); c { // the exact names clients send: no lower-casing
	case Equal, NotEqual, More, MoreEqual, Less, LessEqual, Like, NotLike, StartWith,
		NotStartWith, IsNull, NotIsNull, In, NotIn, SubQuery, Custom, Match:
		return c, true
	}
	c, ok := conditions[strings.ToLower(s)]
	return c, ok
}

func unknownCondition(s string) *Error {
	return badRequest(CodeInvalidWhereList, "condition", "unknown condition "+quote(s))
}

// Subquery types.
const (
	subIn        = "in"
	subNotIn     = "notIn"
	subExists    = "exists"
	subNotExists = "notExists"
)

func parseSubQueryType(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "in":
		return subIn, true
	case "notin":
		return subNotIn, true
	case "exists":
		return subExists, true
	case "notexists":
		return subNotExists, true
	}
	return "", false
}

// parseOrder normalises an orderList direction.
func parseOrder(v any) (string, *Error) {
	s, ok := v.(string)
	if v == nil {
		return "asc", nil
	}
	if !ok {
		return "", typeErr(`"asc" or "desc"`)
	}
	switch strings.ToLower(s) {
	case "asc", "":
		return "asc", nil
	case "desc":
		return "desc", nil
	}
	return "", typeErr(`"asc" or "desc"`)
}

func orderItemValue(v any) (OrderItem, *Error) {
	m, ok := v.(map[string]any)
	if !ok {
		return OrderItem{}, typeErr("an object {expression, order}")
	}
	it := OrderItem{Order: "asc"}
	for _, k := range sortedKeys(m) {
		switch k {
		case "expression":
			s, ok := m[k].(string)
			if !ok {
				return OrderItem{}, typeErr("a string").at(k)
			}
			it.Expression = s
		case "order":
			o, err := parseOrder(m[k])
			if err != nil {
				return OrderItem{}, err.at(k)
			}
			it.Order = o
		default:
			return OrderItem{}, badRequest(CodeInvalidData, pathSeg(k), "unknown key (want expression or order)")
		}
	}
	return it, nil
}

// orderListValue reads orderList: an array, or an object whose keys are positions.
func orderListValue(v any) ([]OrderItem, *Error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		if len(x) > MaxFieldListItems {
			return nil, tooMany(MaxFieldListItems, "MaxFieldListItems")
		}
		var out []OrderItem
		for i, e := range x {
			it, err := orderItemValue(e)
			if err != nil {
				return nil, err.at(strconv.Itoa(i))
			}
			out = append(out, it)
		}
		return out, nil
	case map[string]any:
		if len(x) > MaxFieldListItems {
			return nil, tooMany(MaxFieldListItems, "MaxFieldListItems")
		}
		type pos struct {
			n int
			k string
		}
		keys := make([]pos, 0, len(x))
		for k := range x {
			n, err := strconv.Atoi(k)
			if err != nil || n < 0 {
				return nil, badRequest(CodeInvalidData, pathSeg(k), "orderList keys must be positions (0, 1, ...)")
			}
			keys = append(keys, pos{n, k})
		}
		slices.SortFunc(keys, func(a, b pos) int { return a.n - b.n })
		var out []OrderItem
		for i, p := range keys {
			if i > 0 && keys[i-1].n == p.n {
				return nil, badRequest(CodeInvalidData, pathSeg(p.k), "position is given twice")
			}
			it, err := orderItemValue(x[p.k])
			if err != nil {
				return nil, err.at(pathSeg(p.k))
			}
			out = append(out, it)
		}
		return out, nil
	}
	return nil, typeErr("an array or an object of {expression, order}")
}

func tooMany(max int, name string) *Error {
	return badRequest(CodeInvalidData, "", "more than "+strconv.Itoa(max)+" items ("+name+")")
}

// stringList reads an array of strings of at most max items.
func stringList(v any, max int, name string) ([]string, *Error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []string:
		if len(x) > max {
			return nil, tooMany(max, name)
		}
		return x, nil
	case []any:
		if len(x) > max {
			return nil, tooMany(max, name)
		}
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, typeErr("a string").at(strconv.Itoa(i))
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, typeErr("an array of strings")
}

// applyValue sets the top-level key k from an already decoded value. It serves FromValue
// and the keys the streaming decoder reads as plain values.
func (r *Request) applyValue(k string, v any, depth int) *Error {
	key, known := topKeys[k]
	if !known {
		if r.Extra == nil {
			r.Extra = map[string]any{}
		}
		r.Extra[k] = v
		return nil
	}
	var err *Error
	switch key {
	case keyEntity, keyMethod:
		s, ok := v.(string)
		if !ok && v != nil {
			return typeErr("a string")
		}
		if key == keyEntity {
			r.Entity = s
		} else {
			r.Method = s
		}
	case keyFieldList:
		r.FieldList, err = stringList(v, MaxFieldListItems, "MaxFieldListItems")
		r.FieldListSet = v != nil
	case keyWhereList:
		r.WhereList, err = whereListValue(v, depth)
	case keyLogicalPredicates:
		r.LogicalPredicates, err = stringList(v, MaxWhereItems, "MaxWhereItems")
	case keyJoinAs:
		r.JoinAs, err = stringList(v, MaxWhereItems, "MaxWhereItems")
	case keyOrderList:
		r.OrderList, err = orderListValue(v)
	case keyGroupList:
		r.GroupList, err = stringList(v, MaxFieldListItems, "MaxFieldListItems")
	case keyOptions:
		r.Options, err = optionsValue(v)
	case keyExecParams:
		switch x := v.(type) {
		case nil:
			r.ExecParams = nil
		case map[string]any:
			r.ExecParams = x
		default:
			return typeErr("an object")
		}
	case keyID:
		r.ID, err = idValue(v)
	default:
		err = setMisc(&r.Misc, &miscFlags[key-keyMisc], v)
	}
	return err
}

// checkRequired reports a missing entity or method.
func (r *Request) checkRequired(sub bool) *Error {
	if r.Entity == "" {
		return badRequest(CodeNoEntityParameter, "entity", "entity is missing")
	}
	if r.Method == "" && !sub {
		return badRequest(CodeNoMethodParameter, "method", "method is missing")
	}
	return nil
}

// FromValue builds a Request from a JSON object that is already decoded (the JavaScript
// runtime passes UBQL objects this way). Values must be JSON values: nil, bool, numbers,
// string, []any and map[string]any; a subquery value may also be a *Request.
//
// A map has no order, so whereList items are taken in the natural order of their names
// (c1, c2, ..., c10) and, of a v1 "values" object, the operand is the value of the first
// name in that order.
func FromValue(v map[string]any) (*Request, error) {
	r, err := fromValue(v, 0, false)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func fromValue(v map[string]any, depth int, sub bool) (*Request, *Error) {
	if depth > MaxNesting {
		return nil, badRequest(CodeInvalidWhereList, "", "subqueries are nested deeper than "+strconv.Itoa(MaxNesting)+" levels (MaxNesting)")
	}
	r := &Request{}
	for _, k := range sortedKeys(v) {
		if err := r.applyValue(k, v[k], depth); err != nil {
			return nil, err.at(pathSeg(k))
		}
	}
	if err := r.checkRequired(sub); err != nil {
		return nil, err
	}
	return r, nil
}

func whereListValue(v any, depth int) ([]WhereItem, *Error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, typeErr("an object of named conditions")
	}
	if len(m) > MaxWhereItems {
		return nil, tooMany(MaxWhereItems, "MaxWhereItems")
	}
	names := naturalKeys(m)
	out := make([]WhereItem, 0, len(names))
	for _, name := range names {
		w, err := whereItemValue(name, m[name], depth)
		if err != nil {
			return nil, err.at(pathSeg(name))
		}
		out = append(out, w)
	}
	return out, nil
}

func whereItemValue(name string, v any, depth int) (WhereItem, *Error) {
	m, ok := v.(map[string]any)
	if !ok {
		return WhereItem{}, typeErr("an object {expression, condition, value}")
	}
	w := WhereItem{Name: name}
	hasCond := false
	for _, k := range sortedKeys(m) {
		x := m[k]
		switch k {
		case "expression":
			s, ok := x.(string)
			if !ok && x != nil {
				return w, typeErr("a string").at(k)
			}
			w.Expression = s
		case "condition":
			s, ok := x.(string)
			if !ok {
				return w, typeErr("a string").at(k)
			}
			c, ok := parseCondition(s)
			if !ok {
				return w, unknownCondition(s)
			}
			w.Condition, hasCond = c, true
		case "value":
			w.Value, w.HasValue = x, true
		case "values":
			switch vs := x.(type) {
			case nil:
			case map[string]any:
				w.Values = vs
			default:
				return w, typeErr("an object of named values").at(k)
			}
		case "subQueryType":
			s, _ := x.(string)
			t, ok := parseSubQueryType(s)
			if !ok {
				return w, badRequest(CodeInvalidWhereList, k, "must be in, notIn, exists or notExists")
			}
			w.SubQueryType = t
		default:
			return w, unknownWhereKey().at(pathSeg(k))
		}
	}
	if !hasCond {
		return w, badRequest(CodeInvalidWhereList, "condition", "condition is missing")
	}
	if !w.HasValue && len(w.Values) > 0 {
		w.Value = w.Values[naturalKeys(w.Values)[0]]
	}
	if w.Condition == SubQuery {
		path := "value"
		if !w.HasValue {
			path = "values"
		}
		switch x := w.Value.(type) {
		case *Request:
			w.SubQuery = x
		case map[string]any:
			sub, err := fromValue(x, depth+1, true)
			if err != nil {
				return w, err.at(path)
			}
			w.SubQuery = sub
		default:
			return w, badRequest(CodeInvalidWhereList, path, "a subquery condition needs a UBQL object as its value")
		}
		if w.HasValue {
			w.Value = nil // the value lives in SubQuery
		}
		if w.SubQueryType == "" {
			return w, badRequest(CodeInvalidWhereList, "subQueryType", "subQueryType is missing (in, notIn, exists or notExists)")
		}
	}
	return w, nil
}

func unknownWhereKey() *Error {
	return badRequest(CodeInvalidWhereList, "", "unknown key (a condition has expression, condition, value, values and subQueryType)")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// naturalKeys returns the keys of m so that digit runs compare as numbers (c2 < c10).
func naturalKeys(m map[string]any) []string {
	keys := sortedKeys(m)
	slices.SortStableFunc(keys, naturalCompare)
	return keys
}

func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		if isDigit(a[0]) && isDigit(b[0]) {
			i, j := digitRun(a), digitRun(b)
			na, nb := strings.TrimLeft(a[:i], "0"), strings.TrimLeft(b[:j], "0")
			if len(na) != len(nb) {
				return len(na) - len(nb)
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[i:], b[j:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitRun(s string) int {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}
