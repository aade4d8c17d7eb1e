package jsvm

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/ubql"
)

// dataStore is the Go state behind a TubDataStore object (reference §5.4): named result
// sets ("datasets", UnityBase's currentDataName) with a cursor each. Rows stay Go
// values; a script reading a cell converts only that cell. The embedded dataSet is the
// current one; the others wait in others until a script switches to them.
type dataStore struct {
	entity string
	dataSet
	name   string              // currentDataName; "" is the default dataset
	others map[string]*dataSet // the datasets that are not current, by name
}

// dataSet is one named result set of a dataStore and its cursor.
type dataSet struct {
	rd     *ubql.ResultData // nil until the dataset is filled
	total  *int64
	cur    int
	filled bool // run, runSQL or initialize filled it: the content is a method's result
}

// Names of the datasets UnityBase's mStorage fills (TubDataStore.DATA_NAMES).
const (
	dataBeforeUpdate = "selectBeforeUpdate"
	dataAfterUpdate  = "selectAfterUpdate"
	dataAfterInsert  = "selectAfterInsert"
	dataBeforeDelete = "selectBeforeDelete"
)

// dataNames is TubDataStore.DATA_NAMES.
var dataNames = map[string]string{
	"BEFORE_UPDATE": dataBeforeUpdate, "AFTER_UPDATE": dataAfterUpdate, "AFTER_INSERT": dataAfterInsert,
	"BEFORE_DELETE": dataBeforeDelete, "SOFTLOCK": "softLock", "RECORDSIGN": "recordSign", "TEMP": "_temp",
}

func (ds *dataStore) rows() int {
	if ds.rd == nil {
		return 0
	}
	return len(ds.rd.Data)
}

func (ds *dataStore) fieldIndex(name string) int {
	if ds.rd == nil {
		return -1
	}
	return slices.Index(ds.rd.Fields, name)
}

// set fills the current dataset.
func (ds *dataStore) set(rd *ubql.ResultData, total *int64) {
	if rd == nil {
		rd = &ubql.ResultData{Fields: []string{}, Data: [][]any{}}
	}
	ds.rd, ds.total, ds.cur, ds.filled = rd, total, 0, true
}

// switchTo makes the dataset called name current (an empty one when there is none yet).
func (ds *dataStore) switchTo(name string) {
	if name == ds.name {
		return
	}
	if ds.others == nil {
		ds.others = map[string]*dataSet{}
	}
	cur := ds.dataSet
	ds.others[ds.name] = &cur
	next := ds.others[name]
	delete(ds.others, name)
	if next == nil {
		next = &dataSet{}
	}
	ds.dataSet, ds.name = *next, name
}

// setNamed fills the dataset called name, leaving the current one current.
func (ds *dataStore) setNamed(name string, rd *ubql.ResultData, total *int64) {
	prev := ds.name
	ds.switchTo(name)
	ds.set(rd, total)
	ds.switchTo(prev)
}

// storeResult records what the Go mStorage method returned: the current dataset (the
// response's resultData), and for insert and update with a fieldList also the dataset
// UnityBase names selectAfterInsert or selectAfterUpdate.
func (ds *dataStore) storeResult(method string, rd *ubql.ResultData, total *int64) {
	ds.set(rd, total)
	switch method {
	case "insert":
		ds.setNamed(dataAfterInsert, rd, total)
	case "update":
		ds.setNamed(dataAfterUpdate, rd, total)
	}
}

// result is the dataset that becomes a method's resultData: the current one when it was
// filled, else the default one when it was. Other datasets are the server's own: they
// never reach the client (they may hold rows the caller was never asked to see, such as
// selectBeforeUpdate).
func (ds *dataStore) result() (*ubql.ResultData, *int64, bool) {
	if ds.filled {
		return ds.rd, ds.total, true
	}
	if d := ds.others[""]; d != nil && d.filled {
		return d.rd, d.total, true
	}
	return nil, nil, false
}

// dataStoreCtor returns the TubDataStore constructor, creating it and its prototype on
// first use (a worker's start should not pay for thirty Go functions it may not need).
func (w *Worker) dataStoreCtor() *goja.Object {
	if w.api.dsCtor == nil {
		w.installDataStore()
	}
	return w.api.dsCtor
}

// installDataStore creates the TubDataStore constructor and its prototype.
func (w *Worker) installDataStore() {
	vm := w.vm
	ctor := vm.ToValue(func(call goja.ConstructorCall) *goja.Object {
		entity := w.safeString(call.Argument(0))
		if entity != "" && w.prog.dom.Entity(entity) == nil {
			panic(w.jsError("Error", "TubDataStore: entity "+entity+" does not exist"))
		}
		w.bind(call.This, &dataStore{entity: entity})
		return nil
	}).(*goja.Object)
	proto := ctor.Get("prototype").(*goja.Object)
	w.api.dsCtor, w.api.dsProto = ctor, proto

	method := func(name string, fn func(ds *dataStore, call goja.FunctionCall) goja.Value) {
		_ = proto.Set(name, func(call goja.FunctionCall) goja.Value {
			return fn(w.thisDataStore(call.This), call)
		})
	}
	getter := func(name string, fn func(ds *dataStore) goja.Value) {
		g := vm.ToValue(func(call goja.FunctionCall) goja.Value { return fn(w.thisDataStore(call.This)) })
		_ = proto.DefineAccessorProperty(name, g, nil, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}

	method("run", w.dsRun)
	method("runSQL", func(ds *dataStore, call goja.FunctionCall) goja.Value {
		c := w.dsConn(ds)
		fields, data := w.runSQL(c, w.safeString(call.Argument(0)), w.sqlParams(call.Argument(1)))
		ds.set(&ubql.ResultData{Fields: fields, Data: data}, nil)
		return call.This
	})
	method("execSQL", func(ds *dataStore, call goja.FunctionCall) goja.Value {
		return vm.ToValue(w.execSQL(w.dsConn(ds), w.safeString(call.Argument(0)), w.sqlParams(call.Argument(1))))
	})
	method("initialize", func(ds *dataStore, call goja.FunctionCall) goja.Value {
		rd, err := w.resultFromJS(call.Argument(0), call.Argument(1))
		if err != nil {
			panic(vm.NewTypeError("TubDataStore.initialize: " + err.Error()))
		}
		ds.set(rd, nil)
		return call.This
	})
	method("first", func(ds *dataStore, call goja.FunctionCall) goja.Value { ds.cur = 0; return goja.Undefined() })
	method("next", func(ds *dataStore, call goja.FunctionCall) goja.Value {
		if ds.cur < ds.rows() {
			ds.cur++
		}
		return goja.Undefined()
	})
	method("prev", func(ds *dataStore, call goja.FunctionCall) goja.Value {
		if ds.cur >= 0 {
			ds.cur--
		}
		return goja.Undefined()
	})
	method("last", func(ds *dataStore, call goja.FunctionCall) goja.Value {
		ds.cur = ds.rows() - 1
		return goja.Undefined()
	})
	method("get", func(ds *dataStore, call goja.FunctionCall) goja.Value {
		arg := call.Argument(0)
		idx := -1
		if goja.IsNumber(arg) {
			idx = int(arg.ToInteger())
		} else {
			idx = ds.fieldIndex(w.safeString(arg))
		}
		if ds.cur < 0 || ds.cur >= ds.rows() || idx < 0 || idx >= len(ds.rd.Fields) || idx >= len(ds.rd.Data[ds.cur]) {
			return goja.Undefined()
		}
		return w.toJS(ds.rd.Data[ds.cur][idx])
	})
	method("fieldIndexByName", func(ds *dataStore, call goja.FunctionCall) goja.Value {
		return vm.ToValue(ds.fieldIndex(w.safeString(call.Argument(0))))
	})
	method("setColumnName", func(ds *dataStore, call goja.FunctionCall) goja.Value {
		i := int(call.Argument(0).ToInteger())
		if ds.rd != nil && i >= 0 && i < len(ds.rd.Fields) {
			// The result may be shared with the store's response: copy before changing.
			ds.rd = &ubql.ResultData{Fields: slices.Clone(ds.rd.Fields), Data: ds.rd.Data}
			ds.rd.Fields[i] = w.safeString(call.Argument(1))
		}
		return goja.Undefined()
	})
	method("getAsJsArray", func(ds *dataStore, call goja.FunctionCall) goja.Value { return w.dsAsArray(ds) })
	method("getAsJsObject", func(ds *dataStore, call goja.FunctionCall) goja.Value { return w.dsAsObjects(ds) })
	method("getAsTextInArrayNotation", func(ds *dataStore, call goja.FunctionCall) goja.Value {
		return w.stringify(w.dsAsArray(ds))
	})
	method("getAsTextInObjectNotation", func(ds *dataStore, call goja.FunctionCall) goja.Value {
		return w.stringify(w.dsAsObjects(ds))
	})
	method("generateID", func(ds *dataStore, call goja.FunctionCall) goja.Value {
		tx := w.tx()
		id, err := tx.NewID(w.ctx(), w.dsConn(ds))
		if err != nil {
			w.throw(err)
		}
		return vm.ToValue(id)
	})
	method("freeNative", func(ds *dataStore, call goja.FunctionCall) goja.Value { return goja.Undefined() })
	getter("eof", func(ds *dataStore) goja.Value { return vm.ToValue(ds.cur >= ds.rows() || ds.cur < 0) })
	getter("bof", func(ds *dataStore) goja.Value { return vm.ToValue(ds.cur <= 0) })
	getter("rowCount", func(ds *dataStore) goja.Value { return vm.ToValue(ds.rows()) })
	getter("totalRowCount", func(ds *dataStore) goja.Value {
		if ds.total != nil {
			return vm.ToValue(*ds.total)
		}
		return vm.ToValue(ds.rows())
	})
	getter("entity", func(ds *dataStore) goja.Value { return vm.ToValue(ds.entity) })
	getter("initialized", func(ds *dataStore) goja.Value { return vm.ToValue(ds.filled) })
	accessor := func(name string, get func(ds *dataStore) goja.Value, set func(ds *dataStore, v goja.Value)) {
		g := vm.ToValue(func(call goja.FunctionCall) goja.Value { return get(w.thisDataStore(call.This)) })
		st := vm.ToValue(func(call goja.FunctionCall) goja.Value {
			set(w.thisDataStore(call.This), call.Argument(0))
			return goja.Undefined()
		})
		_ = proto.DefineAccessorProperty(name, g, st, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
	accessor("currentDataName", func(ds *dataStore) goja.Value { return vm.ToValue(ds.name) },
		func(ds *dataStore, v goja.Value) {
			if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
				ds.switchTo("")
				return
			}
			ds.switchTo(w.safeString(v))
		})
	accessor("rowPos", func(ds *dataStore) goja.Value { return vm.ToValue(ds.cur) },
		func(ds *dataStore, v goja.Value) {
			n, ok := integral(v.Export())
			if !ok {
				panic(vm.NewTypeError("TubDataStore.rowPos must be an integer"))
			}
			ds.cur = int(max(-1, min(n, int64(ds.rows()))))
		})
	method("insert", func(ds *dataStore, call goja.FunctionCall) goja.Value {
		return w.dsWrite(ds, call.Argument(0), "insert", false, nil)
	})
	method("insertAsObject", func(ds *dataStore, call goja.FunctionCall) goja.Value {
		return w.dsWrite(ds, call.Argument(0), "insert", true, w.aliases(call.Argument(1)))
	})
	method("update", func(ds *dataStore, call goja.FunctionCall) goja.Value {
		return w.dsWrite(ds, call.Argument(0), "update", false, nil)
	})
	method("updateAsObject", func(ds *dataStore, call goja.FunctionCall) goja.Value {
		return w.dsWrite(ds, call.Argument(0), "update", true, w.aliases(call.Argument(1)))
	})
	names := vm.NewObject()
	for _, k := range sortedNames(dataNames) {
		_ = names.Set(k, dataNames[k])
	}
	_ = ctor.Set("DATA_NAMES", names)
	getter("asJSONObject", func(ds *dataStore) goja.Value { return w.stringify(w.dsAsObjects(ds)) })
	getter("asJSONArray", func(ds *dataStore) goja.Value { return w.stringify(w.dsAsArray(ds)) })
}

// bind attaches the Go value behind a DataStore, entity or method-call object (a
// Repository is a repoObject instead: see repobind.go).
func (w *Worker) bind(obj *goja.Object, v any) {
	_ = obj.DefineDataPropertySymbol(w.api.hidden, w.vm.ToValue(v), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
}

// bound returns the Go value behind a bound object or a Repository, or nil.
func (w *Worker) bound(this goja.Value) any {
	if r := boundRepo(this); r != nil {
		return r
	}
	o, ok := this.(*goja.Object)
	if !ok {
		return nil
	}
	v := o.GetSymbol(w.api.hidden)
	if v == nil {
		return nil
	}
	return v.Export()
}

func (w *Worker) thisDataStore(this goja.Value) *dataStore {
	ds, ok := w.bound(this).(*dataStore)
	if !ok {
		panic(w.vm.NewTypeError("not a TubDataStore"))
	}
	return ds
}

// newDataStore wraps ds in a TubDataStore object.
func (w *Worker) newDataStore(ds *dataStore) *goja.Object {
	w.dataStoreCtor()
	obj := w.vm.CreateObject(w.api.dsProto)
	w.bind(obj, ds)
	return obj
}

// dsConn is the connection of the store's entity (the default one without an entity).
func (w *Worker) dsConn(ds *dataStore) *store.Conn {
	tx := w.tx()
	if e := w.prog.dom.Entity(ds.entity); e != nil {
		return tx.Store().ConnOf(e)
	}
	return tx.Store().Default()
}

// dsRun implements TubDataStore.run(method, params): the entity method is dispatched like
// a client call (its listeners fire) inside the running call's transaction.
func (w *Worker) dsRun(ds *dataStore, call goja.FunctionCall) goja.Value {
	params, err := w.exportObject(call.Argument(1), "TubDataStore.run: params")
	if err != nil {
		panic(w.vm.NewTypeError(err.Error()))
	}
	w.dsRunParams(ds, w.safeString(call.Argument(0)), params)
	return w.vm.ToValue(true)
}

// dsRunParams runs method of the store's entity with params and fills the current
// dataset with its result.
func (w *Worker) dsRunParams(ds *dataStore, method string, params map[string]any) {
	if ds.entity == "" {
		panic(w.vm.NewTypeError("TubDataStore.run: the store has no entity"))
	}
	if params == nil {
		params = map[string]any{}
	}
	params["entity"] = ds.entity
	params["method"] = method
	req, err := ubql.FromValue(params)
	if err != nil {
		w.throw(err)
	}
	resp, err := w.dispatch(req, false)
	if err != nil {
		w.throw(err)
	}
	ds.set(resp.ResultData, resp.TotalRecCount)
}

// dsWrite implements TubDataStore.insert, update, insertAsObject and updateAsObject: run
// ubq.method (insert or update by default) and answer from what it selected after the
// write. Without a fieldList the answer is null. insert with fieldList ['ID'] answers the
// ID; the other plain forms answer the first row as an array of values; the AsObject
// forms answer it as an object (fieldAliases renames keys), with dates as Date.
func (w *Worker) dsWrite(ds *dataStore, ubq goja.Value, defMethod string, asObject bool, aliases map[string]string) goja.Value {
	params, err := w.exportObject(ubq, "TubDataStore."+defMethod+": ubq")
	if err != nil || params == nil {
		panic(w.vm.NewTypeError("TubDataStore.%s(ubq): ubq must be an object with execParams", defMethod))
	}
	method := defMethod
	if m, ok := params["method"].(string); ok && m != "" {
		method = m
	}
	w.dsRunParams(ds, method, params)
	fields, _ := params["fieldList"].([]any)
	if len(fields) == 0 || ds.rd == nil {
		return goja.Null()
	}
	switch {
	case asObject:
		return w.firstRow(ds.rd, aliases)
	case len(ds.rd.Data) == 0:
		return goja.Undefined()
	case defMethod == "insert" && len(fields) == 1 && fields[0] == "ID":
		return w.toJS(ds.rd.Data[0][0])
	}
	row := ds.rd.Data[0]
	cells := make([]any, len(row))
	for i, v := range row {
		cells[i] = w.toJS(v)
	}
	return w.vm.NewArray(cells...)
}

func (w *Worker) dsAsArray(ds *dataStore) goja.Value {
	obj := w.vm.NewObject()
	var fields []string
	var data [][]any
	if ds.rd != nil {
		fields, data = ds.rd.Fields, ds.rd.Data
	}
	_ = obj.Set("fields", w.toJS(fields))
	_ = obj.Set("rowCount", len(data))
	rows := make([]any, len(data))
	for i, r := range data {
		cells := make([]any, len(r))
		for j, v := range r {
			cells[j] = w.toJS(v)
		}
		rows[i] = w.vm.NewArray(cells...)
	}
	_ = obj.Set("data", w.vm.NewArray(rows...))
	return obj
}

func (w *Worker) dsAsObjects(ds *dataStore) goja.Value {
	if ds.rd == nil {
		return w.vm.NewArray()
	}
	return w.rowsAsObjects(ds.rd.Fields, ds.rd.Data, nil)
}

func (w *Worker) stringify(v goja.Value) goja.Value {
	b, ok := w.appendJSON(nil, v)
	if !ok {
		return goja.Undefined()
	}
	return w.vm.ToValue(string(b))
}

// keySpec is one element of an initialize keyMap: the source field (a key of an object
// row, or an index into an array row) and the name it gets.
type keySpec struct {
	from    string
	fromIdx int // -1: not given as a number
	to      string
}

// keyMapFromJS reads the keyMap of TubDataStore.initialize: UnityBase's array of names
// and {from, to} objects, or ubgo's older object form {sourceName: newName}.
func keyMapFromJS(km any) (specs []keySpec, rename map[string]any, err error) {
	switch k := km.(type) {
	case nil:
	case []any:
		for i, el := range k {
			switch x := el.(type) {
			case string:
				specs = append(specs, keySpec{from: x, fromIdx: -1, to: x})
			case map[string]any:
				to, ok := x["to"].(string)
				if !ok || to == "" {
					return nil, nil, fmt.Errorf("keyMap[%d]: {from, to} needs a string \"to\"", i)
				}
				sp := keySpec{fromIdx: -1, to: to}
				switch f := x["from"].(type) {
				case string:
					sp.from = f
					if n, err := strconv.Atoi(f); err == nil {
						sp.fromIdx = n
					}
				case int64:
					sp.from, sp.fromIdx = strconv.FormatInt(f, 10), int(f)
				case float64:
					sp.from, sp.fromIdx = strconv.FormatFloat(f, 'f', -1, 64), int(f)
				default:
					return nil, nil, fmt.Errorf("keyMap[%d]: \"from\" must be a field name or an index", i)
				}
				specs = append(specs, sp)
			default:
				return nil, nil, fmt.Errorf("keyMap[%d] must be a field name or {from, to}", i)
			}
		}
	case map[string]any:
		rename = k
	default:
		return nil, nil, fmt.Errorf("keyMap must be an array")
	}
	return specs, rename, nil
}

// resultFromJS reads the data of TubDataStore.initialize(source, keyMap): an empty array
// (the fields are the keyMap's, else just ID), an array of arrays (keyMap required: names,
// or {from: index, to: name}), an array of objects (fields from keyMap: names or {from:
// key, to: name}; else the first object's keys in their order), the flat form
// {fieldCount, rowCount, values} whose first fieldCount values are the names (a keyMap
// of names renames them), or {fields, data} (also inside {resultData}).
func (w *Worker) resultFromJS(src, keyMap goja.Value) (*ubql.ResultData, error) {
	v, err := w.export(src)
	if err != nil {
		return nil, err
	}
	km, err := w.export(keyMap)
	if err != nil {
		return nil, err
	}
	specs, rename, err := keyMapFromJS(km)
	if err != nil {
		return nil, err
	}
	if specs == nil {
		// Go maps have no order: take the field order of an array of objects from the
		// first object, as UnityBase does.
		if arr, ok := src.(*goja.Object); ok && arr.ClassName() == "Array" {
			if first, ok := arr.Get("0").(*goja.Object); ok && first.ClassName() == "Object" {
				for _, k := range first.Keys() {
					specs = append(specs, keySpec{from: k, fromIdx: -1, to: k})
				}
			}
		}
	}
	switch x := v.(type) {
	case nil:
		return &ubql.ResultData{Fields: targets(specs), Data: [][]any{}}, nil
	case []any:
		return rowsFromArray(x, specs, rename)
	case map[string]any:
		if inner, ok := x["resultData"].(map[string]any); ok {
			x = inner
		}
		if vals, ok := x["values"].([]any); ok {
			n, ok := integral(x["fieldCount"])
			if !ok || n <= 0 || int(n) > len(vals) {
				return nil, fmt.Errorf("flat data needs a fieldCount between 1 and the number of values")
			}
			if specs != nil && len(specs) != int(n) {
				return nil, fmt.Errorf("for flat data the keyMap must name fieldCount fields")
			}
			rd := &ubql.ResultData{Data: [][]any{}}
			for i, f := range vals[:n] {
				name := fmt.Sprint(f)
				if specs != nil {
					name = specs[i].to
				}
				rd.Fields = append(rd.Fields, name)
			}
			for i := int(n); i+int(n) <= len(vals); i += int(n) {
				rd.Data = append(rd.Data, slices.Clone(vals[i:i+int(n)]))
			}
			return rd, nil
		}
		if fields, ok := x["fields"].([]any); ok {
			data, _ := x["data"].([]any)
			rd := &ubql.ResultData{Data: [][]any{}}
			for _, f := range fields {
				rd.Fields = append(rd.Fields, fmt.Sprint(f))
			}
			for _, r := range data {
				row, ok := r.([]any)
				if !ok {
					return nil, fmt.Errorf("data rows must be arrays")
				}
				rd.Data = append(rd.Data, row)
			}
			return rd, nil
		}
	}
	return nil, fmt.Errorf("unsupported data: want an array of arrays or objects, {fieldCount, rowCount, values} or {fields, data}")
}

func targets(specs []keySpec) []string {
	out := make([]string, len(specs))
	for i, sp := range specs {
		out[i] = sp.to
	}
	return out
}

func rowsFromArray(items []any, specs []keySpec, rename map[string]any) (*ubql.ResultData, error) {
	if len(items) == 0 {
		if specs == nil {
			// UnityBase: an empty store without a keyMap has the one field ID.
			return &ubql.ResultData{Fields: []string{"ID"}, Data: [][]any{}}, nil
		}
		return &ubql.ResultData{Fields: targets(specs), Data: [][]any{}}, nil
	}
	rd := &ubql.ResultData{Data: make([][]any, 0, len(items))}
	if _, isRow := items[0].([]any); isRow {
		if specs == nil {
			return nil, fmt.Errorf("an array of arrays needs the field names as keyMap")
		}
		rd.Fields = targets(specs)
		plain := true
		for i, sp := range specs {
			if sp.fromIdx >= 0 && sp.fromIdx != i {
				plain = false
			}
		}
		for _, it := range items {
			row, ok := it.([]any)
			if !ok {
				return nil, fmt.Errorf("every row must be an array")
			}
			if plain {
				rd.Data = append(rd.Data, row)
				continue
			}
			out := make([]any, len(specs))
			for j, sp := range specs {
				idx := j
				if sp.fromIdx >= 0 {
					idx = sp.fromIdx
				}
				if idx < len(row) {
					out[j] = row[idx]
				}
			}
			rd.Data = append(rd.Data, out)
		}
		return rd, nil
	}
	first, ok := items[0].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("rows must be arrays or objects")
	}
	if specs == nil {
		for _, k := range sortedNames(first) {
			specs = append(specs, keySpec{from: k, fromIdx: -1, to: k})
		}
	}
	rd.Fields = make([]string, len(specs))
	for i, sp := range specs {
		rd.Fields[i] = sp.to
		if to, ok := rename[sp.from].(string); ok {
			rd.Fields[i] = to
		}
	}
	for _, it := range items {
		obj, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("every row must be an object")
		}
		row := make([]any, len(specs))
		for i, sp := range specs {
			row[i] = obj[sp.from]
		}
		rd.Data = append(rd.Data, row)
	}
	return rd, nil
}

// integral returns v as an int64 when it is a whole number.
func integral(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		if x == float64(int64(x)) {
			return int64(x), true
		}
	}
	return 0, false
}

// selectBefore fills the dataset selectBeforeUpdate (or selectBeforeDelete) of a method
// call with the row an update (or delete) of e is about to change, every attribute but
// the Many ones, as UnityBase's mStorage does: :before and :after listeners read old
// values there (ctx.dataStore.currentDataName = TubDataStore.DATA_NAMES.BEFORE_UPDATE).
// It costs one select by primary key, and runs only for calls that have JavaScript.
func (w *Worker) selectBefore(ds *dataStore, e *domain.Entity, r *ubql.Request) error {
	var name string
	switch r.Method {
	case "update":
		name = dataBeforeUpdate
	case "delete":
		name = dataBeforeDelete
	default:
		return nil
	}
	id, ok := idValue(r.ExecParams["ID"])
	if !ok {
		return nil // the store reports the missing ID
	}
	fields := make([]any, 0, len(e.Attributes))
	for _, a := range e.Attributes {
		if a.DataType != domain.Many {
			fields = append(fields, a.Name)
		}
	}
	req, err := ubql.FromValue(map[string]any{"entity": e.Name, "method": "select", "fieldList": fields,
		"whereList": map[string]any{"byID": map[string]any{"expression": "[ID]", "condition": "equal", "value": id}}})
	if err != nil {
		return err
	}
	resp, err := w.call.tx.DoInternal(w.rlsContext(w.call.ctx, e.Name), req)
	if err != nil {
		return err
	}
	ds.setNamed(name, resp.ResultData, nil)
	return nil
}

// idValue reads an ID as the UBQL decoder or a script leaves it.
func idValue(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return integral(v)
}
