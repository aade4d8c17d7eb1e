package jsvm

import (
	"reflect"
	"slices"

	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/ubql"
)

// The JavaScript face of repo: UB.Repository(entity) returns an object whose prototype
// holds the builder methods (each returns the same object, for chaining) and the
// executors of ServerRepository, which run the request through the entity's method
// dispatch inside the running call's transaction.

func (w *Worker) newRepositoryProto() *goja.Object {
	vm := w.vm
	proto := vm.NewObject()
	chain := func(name string, fn func(r *repo, call goja.FunctionCall)) {
		_ = proto.Set(name, func(call goja.FunctionCall) goja.Value {
			fn(w.thisRepo(call.This), call)
			return call.This
		})
	}
	exec := func(name string, fn func(r *repo, call goja.FunctionCall) goja.Value) {
		_ = proto.Set(name, func(call goja.FunctionCall) goja.Value {
			return fn(w.thisRepo(call.This), call)
		})
	}

	chain("attrs", func(r *repo, call goja.FunctionCall) { r.fields = w.appendStringArgs(r.fields, call.Arguments) })
	chain("attrsIf", func(r *repo, call goja.FunctionCall) {
		if call.Argument(0).ToBoolean() {
			r.fields = w.appendStringArgs(r.fields, call.Arguments[1:])
		}
	})
	chain("where", func(r *repo, call goja.FunctionCall) { w.repoWhere(r, call.Arguments) })
	chain("whereIf", func(r *repo, call goja.FunctionCall) {
		if call.Argument(0).ToBoolean() {
			w.repoWhere(r, call.Arguments[1:])
		}
	})
	chain("exists", func(r *repo, call goja.FunctionCall) {
		w.repoWhere(r, []goja.Value{vm.ToValue(""), vm.ToValue("exists"), call.Argument(0), call.Argument(1)})
	})
	chain("notExists", func(r *repo, call goja.FunctionCall) {
		w.repoWhere(r, []goja.Value{vm.ToValue(""), vm.ToValue("notExists"), call.Argument(0), call.Argument(1)})
	})
	chain("correlation", func(r *repo, call goja.FunctionCall) {
		sub, master := w.safeString(call.Argument(0)), w.safeString(call.Argument(1))
		if !hasBrackets(sub) {
			sub = "[" + sub + "]"
		}
		cond := "="
		if c := call.Argument(2); !goja.IsUndefined(c) && !goja.IsNull(c) && c.String() != "" {
			cond = c.String()
		}
		w.repoWhere(r, []goja.Value{vm.ToValue(sub + cond + "[{master}." + master + "]"), vm.ToValue("custom"), goja.Undefined(), call.Argument(3)})
	})
	chain("logic", func(r *repo, call goja.FunctionCall) { r.logic = append(r.logic, w.safeString(call.Argument(0))) })
	chain("join", func(r *repo, call goja.FunctionCall) { r.joinAs = append(r.joinAs, w.safeString(call.Argument(0))) })
	chain("joinCondition", func(r *repo, call goja.FunctionCall) {
		args := append([]goja.Value(nil), call.Arguments...)
		for len(args) < 4 {
			args = append(args, goja.Undefined())
		}
		clause := w.clauseName(args[3])
		if clause == "" {
			r.whereLen++
			clause = generatedClause(r.whereLen)
			for r.whereIndex(clause) >= 0 {
				clause += "_"
			}
		}
		args[3] = vm.ToValue(clause)
		w.repoWhere(r, args)
		r.joinAs = append(r.joinAs, clause)
	})
	chain("orderBy", func(r *repo, call goja.FunctionCall) {
		dir := call.Argument(1)
		remove := goja.IsNull(dir)
		d := ""
		if !remove && !goja.IsUndefined(dir) {
			d = dir.String()
		}
		if err := r.orderBy(w.safeString(call.Argument(0)), d, remove); err != nil {
			panic(vm.NewTypeError("Repository.orderBy: " + err.Error()))
		}
	})
	chain("orderByDesc", func(r *repo, call goja.FunctionCall) {
		_ = r.orderBy(w.safeString(call.Argument(0)), "desc", false)
	})
	chain("groupBy", func(r *repo, call goja.FunctionCall) {
		r.group = w.appendStringArgs(r.group, call.Arguments[:min(1, len(call.Arguments))])
	})
	chain("start", func(r *repo, call goja.FunctionCall) {
		r.options.Start, r.options.Set = int(call.Argument(0).ToInteger()), true
	})
	chain("limit", func(r *repo, call goja.FunctionCall) {
		r.options.Limit, r.options.Set = int(call.Argument(0).ToInteger()), true
	})
	chain("withTotal", func(r *repo, call goja.FunctionCall) {
		v := call.Argument(0)
		r.options.TotalRequired, r.options.Set = goja.IsUndefined(v) || v.ToBoolean(), true
	})
	chain("misc", func(r *repo, call goja.FunctionCall) { w.repoMisc(r, call.Argument(0)) })
	chain("miscIf", func(r *repo, call goja.FunctionCall) {
		if call.Argument(0).ToBoolean() {
			w.repoMisc(r, call.Argument(1))
		}
	})
	chain("using", func(r *repo, call goja.FunctionCall) { r.method = w.safeString(call.Argument(0)) })
	chain("clearWhereList", func(r *repo, call goja.FunctionCall) { r.clearWhere() })
	exec("clone", func(r *repo, call goja.FunctionCall) goja.Value { return w.newRepository(r.clone()) })
	exec("ubql", func(r *repo, call goja.FunctionCall) goja.Value { return w.requestToJS(r.request()) })

	// Executors (ServerRepository).
	exec("selectAsObject", func(r *repo, call goja.FunctionCall) goja.Value {
		rd := w.repoSelect(r).ResultData
		return w.rowsAsObjects(rd.Fields, rd.Data, w.aliases(call.Argument(0)))
	})
	exec("selectAsArray", func(r *repo, call goja.FunctionCall) goja.Value {
		resp := w.repoSelect(r)
		out := vm.NewObject()
		_ = out.Set("resultData", w.dsAsArray(&dataStore{dataSet: dataSet{rd: resp.ResultData}}))
		if resp.TotalRecCount != nil {
			_ = out.Set("__totalRecCount", *resp.TotalRecCount)
		}
		return out
	})
	exec("selectAsArrayOfValues", func(r *repo, call goja.FunctionCall) goja.Value {
		rd := w.repoSelect(r).ResultData
		vals := make([]any, len(rd.Data))
		for i, row := range rd.Data {
			if len(row) > 0 {
				vals[i] = w.toJS(row[0])
			}
		}
		return vm.NewArray(vals...)
	})
	exec("selectSingle", func(r *repo, call goja.FunctionCall) goja.Value {
		return w.firstRow(w.repoSelect(r).ResultData, w.aliases(call.Argument(0)))
	})
	exec("selectScalar", func(r *repo, call goja.FunctionCall) goja.Value {
		rd := w.repoSelect(r).ResultData
		if len(rd.Data) == 0 || len(rd.Data[0]) == 0 {
			return goja.Undefined()
		}
		return w.toJS(rd.Data[0][0])
	})
	exec("selectById", func(r *repo, call goja.FunctionCall) goja.Value {
		id, err := w.export(call.Argument(0))
		if err != nil {
			w.throw(err)
		}
		if err := r.addWhere(whereArgs{expr: "[ID]", cond: "=", value: id, hasValue: true}); err != nil {
			panic(vm.NewTypeError("Repository.selectById: " + err.Error()))
		}
		return w.firstRow(w.repoSelect(r).ResultData, w.aliases(call.Argument(1)))
	})
	selectStore := func(r *repo, call goja.FunctionCall) goja.Value {
		resp := w.repoSelect(r)
		if inst, ok := w.bound(call.Argument(0)).(*dataStore); ok {
			inst.set(resp.ResultData, resp.TotalRecCount)
			return call.Argument(0)
		}
		ds := &dataStore{entity: r.entity}
		ds.set(resp.ResultData, resp.TotalRecCount)
		return w.newDataStore(ds)
	}
	exec("selectAsStore", selectStore)
	exec("select", selectStore)
	return proto
}

// repoObject is a Repository as scripts see it: a goja dynamic object whose Go side is the
// builder itself, with the builder methods on its prototype. Binding the builder this way
// costs three allocations per UB.Repository(...) instead of the dozen of a hidden symbol
// property (an ordered map per object) around a reflect wrapper, and a hot endpoint makes
// one Repository per query.
//
// Like any dynamic object it takes ordinary data properties only: a script may add, change
// and delete string-keyed properties (entityName is one), but Object.defineProperty with
// non-default attributes, accessors, own Symbol properties and Object.freeze/seal/
// preventExtensions are refused with a TypeError. No table maps objects to builders, so
// nothing outlives the object: a Repository kept in a module variable stays usable.
type repoObject struct {
	repo
	vm         *goja.Runtime
	entityName goja.Value // the value read or assigned, nil until then
	entityGone bool       // a script deleted entityName
	props      map[string]goja.Value
	propOrder  []string // keys of props in the order they were added
}

var repoObjectType = reflect.TypeFor[*repoObject]()

func (o *repoObject) Get(key string) goja.Value {
	if key == "entityName" {
		if o.entityGone {
			return nil
		}
		if o.entityName == nil {
			o.entityName = o.vm.ToValue(o.entity)
		}
		return o.entityName
	}
	return o.props[key] // nil: look on the prototype
}

func (o *repoObject) Set(key string, val goja.Value) bool {
	if key == "entityName" {
		o.entityName, o.entityGone = val, false
		return true
	}
	if o.props == nil {
		o.props = make(map[string]goja.Value)
	}
	if _, ok := o.props[key]; !ok {
		o.propOrder = append(o.propOrder, key)
	}
	o.props[key] = val
	return true
}

func (o *repoObject) Has(key string) bool {
	if key == "entityName" {
		return !o.entityGone
	}
	_, ok := o.props[key]
	return ok
}

func (o *repoObject) Delete(key string) bool {
	if key == "entityName" {
		o.entityName, o.entityGone = nil, true
		return true
	}
	if _, ok := o.props[key]; ok {
		delete(o.props, key)
		o.propOrder = slices.DeleteFunc(o.propOrder, func(k string) bool { return k == key })
	}
	return true
}

func (o *repoObject) Keys() []string {
	keys := make([]string, 0, 1+len(o.propOrder))
	if !o.entityGone {
		keys = append(keys, "entityName")
	}
	return append(keys, o.propOrder...)
}

// newRepository returns a Repository object whose builder starts as a copy of r.
func (w *Worker) newRepository(r *repo) *goja.Object {
	if w.api.repoProto == nil {
		w.api.repoProto = w.newRepositoryProto()
	}
	ro := &repoObject{repo: *r, vm: w.vm}
	obj := w.vm.NewDynamicObject(ro)
	if err := obj.SetPrototype(w.api.repoProto); err != nil {
		w.throw(err)
	}
	w.lastRepo = lastRepo{obj: obj, repo: &ro.repo}
	return obj
}

// lastRepo remembers the Repository object created last and its builder: the builder
// methods chained on it find it without Export, which allocates.
type lastRepo struct {
	obj  *goja.Object
	repo *repo
}

// boundRepo returns the builder behind a Repository object, or nil.
func boundRepo(v goja.Value) *repo {
	o, ok := v.(*goja.Object)
	if !ok || o.ExportType() != repoObjectType {
		return nil
	}
	return &o.Export().(*repoObject).repo
}

func (w *Worker) thisRepo(this goja.Value) *repo {
	if o, ok := this.(*goja.Object); ok && o == w.lastRepo.obj {
		return w.lastRepo.repo
	}
	r := boundRepo(this)
	if r == nil {
		panic(w.vm.NewTypeError("not a Repository"))
	}
	return r
}

// appendStringArgs appends string and array-of-string arguments (attrs('a', ['b', 'c'])) to out.
func (w *Worker) appendStringArgs(out []string, args []goja.Value) []string {
	for _, a := range args {
		if o, ok := a.(*goja.Object); ok && o.ClassName() == "Array" {
			var items []string
			if err := w.vm.ExportTo(o, &items); err != nil {
				panic(w.vm.NewTypeError("expected an array of strings"))
			}
			out = append(out, items...)
			continue
		}
		if goja.IsUndefined(a) || goja.IsNull(a) {
			continue
		}
		out = append(out, a.String())
	}
	return out
}

// clauseName reads where's fourth argument: a name or {clauseName}.
func (w *Worker) clauseName(v goja.Value) string {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return ""
	}
	if o, ok := v.(*goja.Object); ok {
		return w.safeString(o.Get("clauseName"))
	}
	return v.String()
}

// repoWhere implements where(expression, condition, value, clauseName).
func (w *Worker) repoWhere(r *repo, args []goja.Value) {
	arg := func(i int) goja.Value {
		if i < len(args) {
			return args[i]
		}
		return goja.Undefined()
	}
	a := whereArgs{expr: w.safeString(arg(0)), cond: w.safeString(arg(1)), clause: w.clauseName(arg(3))}
	if goja.IsNull(arg(0)) || goja.IsUndefined(arg(0)) {
		a.expr = ""
	}
	v := arg(2)
	if !goja.IsUndefined(v) {
		a.hasValue = true
		if sub := boundRepo(v); sub != nil {
			a.sub = sub
		} else {
			val, err := w.export(v)
			if err != nil {
				panic(w.vm.NewTypeError("Repository.where: " + err.Error()))
			}
			a.value = val
			if m, ok := val.(map[string]any); ok && whereConditions[a.cond] == ubql.SubQuery {
				sub, err := ubql.FromValue(withMethod(m))
				if err != nil {
					w.throw(err)
				}
				a.subUBQL = sub
			}
		}
	}
	if err := r.addWhere(a); err != nil {
		panic(w.vm.NewTypeError("Repository.where: " + err.Error()))
	}
}

// withMethod gives a subquery UBQL object a method, which ubql.FromValue requires.
func withMethod(m map[string]any) map[string]any {
	if _, ok := m["method"]; ok {
		return m
	}
	c := make(map[string]any, len(m)+1)
	for k, v := range m {
		c[k] = v
	}
	c["method"] = "select"
	return c
}

func (w *Worker) repoMisc(r *repo, v goja.Value) {
	flags, err := w.exportObject(v, "Repository.misc: flags")
	if err == nil {
		err = r.setMisc(flags)
	}
	if err != nil {
		panic(w.vm.NewTypeError("Repository.misc: " + err.Error()))
	}
}

// repoSelect runs the repository's request and never returns a nil ResultData.
func (w *Worker) repoSelect(r *repo) *ubql.Response {
	resp, err := w.dispatch(r.request(), false)
	if err != nil {
		w.throw(err)
	}
	if resp.ResultData == nil {
		resp.ResultData = &ubql.ResultData{Fields: []string{}, Data: [][]any{}}
	}
	return resp
}

// aliases reads a fieldAliases object ({"COUNT([ID])": "count"}).
func (w *Worker) aliases(v goja.Value) map[string]string {
	m, err := w.exportObject(v, "fieldAliases")
	if err != nil || m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, a := range m {
		if s, ok := a.(string); ok {
			out[k] = s
		}
	}
	return out
}

// firstRow returns the first row as an object, or undefined.
func (w *Worker) firstRow(rd *ubql.ResultData, aliases map[string]string) goja.Value {
	if len(rd.Data) == 0 {
		return goja.Undefined()
	}
	return w.rowObject(aliasedNames(rd.Fields, aliases), rd.Data[0])
}
