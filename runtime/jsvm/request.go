package jsvm

import (
	"encoding/json"
	"strconv"

	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/ubql"
)

// requestToJS gives a script a UBQL request as a plain object in the form a client sends
// (whereList in the v2 form, orderList as {"0": ...} as Repository.ubql() does in
// UnityBase). It builds the objects directly: going through JSON text and JSON.parse
// cost a fifth of a JS method call.
func (w *Worker) requestToJS(r *ubql.Request) goja.Value {
	vm := w.vm
	obj := vm.NewObject()
	_ = obj.Set("entity", r.Entity)
	if r.Method != "" {
		_ = obj.Set("method", r.Method)
	}
	if r.FieldListSet || len(r.FieldList) > 0 {
		_ = obj.Set("fieldList", w.strArray(r.FieldList))
	}
	if len(r.WhereList) > 0 {
		wl := vm.NewObject()
		for i := range r.WhereList {
			it := &r.WhereList[i]
			o := vm.NewObject()
			_ = o.Set("expression", it.Expression)
			_ = o.Set("condition", string(it.Condition))
			switch {
			case it.SubQuery != nil && it.Value == nil:
				_ = o.Set("value", w.requestToJS(it.SubQuery))
			case it.HasValue:
				_ = o.Set("value", w.toJS(it.Value))
			}
			if it.Values != nil {
				_ = o.Set("values", w.toJS(it.Values))
			}
			if it.SubQueryType != "" {
				_ = o.Set("subQueryType", it.SubQueryType)
			}
			_ = wl.Set(it.Name, o)
		}
		_ = obj.Set("whereList", wl)
	}
	if len(r.LogicalPredicates) > 0 {
		_ = obj.Set("logicalPredicates", w.strArray(r.LogicalPredicates))
	}
	if len(r.JoinAs) > 0 {
		_ = obj.Set("joinAs", w.strArray(r.JoinAs))
	}
	if len(r.OrderList) > 0 {
		ol := vm.NewObject()
		for i, it := range r.OrderList {
			o := vm.NewObject()
			_ = o.Set("expression", it.Expression)
			_ = o.Set("order", it.Order)
			_ = ol.Set(strconv.Itoa(i), o)
		}
		_ = obj.Set("orderList", ol)
	}
	if len(r.GroupList) > 0 {
		_ = obj.Set("groupList", w.strArray(r.GroupList))
	}
	if r.Options.Set {
		o := vm.NewObject()
		_ = o.Set("start", r.Options.Start)
		_ = o.Set("limit", r.Options.Limit)
		_ = o.Set("totalRequired", r.Options.TotalRequired)
		_ = obj.Set("options", o)
	}
	if r.ExecParams != nil {
		_ = obj.Set("execParams", w.toJS(r.ExecParams))
	}
	if r.ID != nil {
		_ = obj.Set("ID", *r.ID)
	}
	if r.Misc != (ubql.Misc{}) {
		// The flags' names are ubql's business: take them from its encoding.
		var flags map[string]any
		if json.Unmarshal((&ubql.Request{Misc: r.Misc}).AppendJSON(nil), &flags) == nil {
			for k, v := range flags {
				if k != "entity" && k != "method" {
					_ = obj.Set(k, w.toJS(v))
				}
			}
		}
	}
	for _, k := range sortedNames(r.Extra) {
		if obj.Get(k) == nil { // a key the request holds in a field of its own wins
			_ = obj.Set(k, w.toJS(r.Extra[k]))
		}
	}
	return obj
}

func (w *Worker) strArray(ss []string) *goja.Object {
	items := make([]any, len(ss))
	for i, s := range ss {
		items[i] = s
	}
	return w.vm.NewArray(items...)
}
