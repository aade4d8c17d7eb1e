package jsvm

import (
	"fmt"
	"slices"

	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/ubql"
)

// dataStore is the Go state behind a TubDataStore object (reference §5.4): a result set
// and a cursor. Rows stay Go values; a script reading a cell converts only that cell.
type dataStore struct {
	entity string
	rd     *ubql.ResultData // nil until the store is filled
	total  *int64
	cur    int
	filled bool // run, runSQL or initialize was called: the content is a method's result
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

func (ds *dataStore) set(rd *ubql.ResultData, total *int64) {
	if rd == nil {
		rd = &ubql.ResultData{Fields: []string{}, Data: [][]any{}}
	}
	ds.rd, ds.total, ds.cur, ds.filled = rd, total, 0, true
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
	getter("currentDataName", func(ds *dataStore) goja.Value { return vm.ToValue("") })
	getter("asJSONObject", func(ds *dataStore) goja.Value { return w.stringify(w.dsAsObjects(ds)) })
	getter("asJSONArray", func(ds *dataStore) goja.Value { return w.stringify(w.dsAsArray(ds)) })
}

// bind attaches the Go value behind a DataStore or Repository object.
func (w *Worker) bind(obj *goja.Object, v any) {
	_ = obj.DefineDataPropertySymbol(w.api.hidden, w.vm.ToValue(v), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
}

// bound returns the Go value behind this, or nil.
func (w *Worker) bound(this goja.Value) any {
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
	if ds.entity == "" {
		panic(w.vm.NewTypeError("TubDataStore.run: the store has no entity"))
	}
	params, err := w.exportObject(call.Argument(1), "TubDataStore.run: params")
	if err != nil {
		panic(w.vm.NewTypeError(err.Error()))
	}
	if params == nil {
		params = map[string]any{}
	}
	params["entity"] = ds.entity
	params["method"] = w.safeString(call.Argument(0))
	req, err := ubql.FromValue(params)
	if err != nil {
		w.throw(err)
	}
	resp, err := w.dispatch(req, false)
	if err != nil {
		w.throw(err)
	}
	ds.set(resp.ResultData, resp.TotalRecCount)
	return w.vm.ToValue(true)
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
	s, err := w.api.jsonStringify(goja.Undefined(), v)
	if err != nil {
		w.throw(err)
	}
	return s
}

// resultFromJS reads the data of TubDataStore.initialize(source, keyMap): an array of
// arrays (field names from keyMap), an array of objects (fields from keyMap, an array of
// names or an object renaming keys, else from the first object's keys), the flat form
// {fieldCount, rowCount, values} whose first fieldCount values are the names, or
// {fields, data} (also inside {resultData}).
func (w *Worker) resultFromJS(src, keyMap goja.Value) (*ubql.ResultData, error) {
	v, err := w.export(src)
	if err != nil {
		return nil, err
	}
	km, err := w.export(keyMap)
	if err != nil {
		return nil, err
	}
	var names []string
	var rename map[string]any
	switch k := km.(type) {
	case []any:
		for _, n := range k {
			names = append(names, fmt.Sprint(n))
		}
	case map[string]any:
		rename = k
	}
	if names == nil {
		// Go maps have no order: take the field order of an array of objects from the
		// first object, as UnityBase does.
		if arr, ok := src.(*goja.Object); ok && arr.ClassName() == "Array" {
			if first, ok := arr.Get("0").(*goja.Object); ok && first.ClassName() == "Object" {
				names = first.Keys()
			}
		}
	}
	switch x := v.(type) {
	case nil:
		return &ubql.ResultData{Fields: names, Data: [][]any{}}, nil
	case []any:
		return rowsFromArray(x, names, rename)
	case map[string]any:
		if inner, ok := x["resultData"].(map[string]any); ok {
			x = inner
		}
		if vals, ok := x["values"].([]any); ok {
			n, ok := integral(x["fieldCount"])
			if !ok || n <= 0 || int(n) > len(vals) {
				return nil, fmt.Errorf("flat data needs a fieldCount between 1 and the number of values")
			}
			rd := &ubql.ResultData{Data: [][]any{}}
			for _, f := range vals[:n] {
				rd.Fields = append(rd.Fields, fmt.Sprint(f))
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

func rowsFromArray(items []any, names []string, rename map[string]any) (*ubql.ResultData, error) {
	rd := &ubql.ResultData{Fields: names, Data: make([][]any, 0, len(items))}
	if len(items) == 0 {
		if rd.Fields == nil {
			rd.Fields = []string{}
		}
		return rd, nil
	}
	if _, isRow := items[0].([]any); isRow {
		if names == nil {
			return nil, fmt.Errorf("an array of arrays needs the field names as keyMap")
		}
		for _, it := range items {
			row, ok := it.([]any)
			if !ok {
				return nil, fmt.Errorf("every row must be an array")
			}
			rd.Data = append(rd.Data, row)
		}
		return rd, nil
	}
	first, ok := items[0].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("rows must be arrays or objects")
	}
	keys := names
	if keys == nil {
		keys = sortedNames(first)
	}
	rd.Fields = make([]string, len(keys))
	for i, k := range keys {
		rd.Fields[i] = k
		if to, ok := rename[k].(string); ok {
			rd.Fields[i] = to
		}
	}
	for _, it := range items {
		obj, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("every row must be an object")
		}
		row := make([]any, len(keys))
		for i, k := range keys {
			row[i] = obj[k]
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
