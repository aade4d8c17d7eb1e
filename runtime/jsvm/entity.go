package jsvm

import (
	"maps"
	"slices"

	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/domain"
)

// Entity namespaces (reference §3.2): every entity X of the domain has a global X, an
// EventEmitter whose "entity" property is the entity's metadata. Models add listeners
// (X.on('insert:before', fn)) and methods (X.entity.addMethod('close'); X.close = fn).
// require('./X.meta') returns the same object.

// newNamespace creates the namespace of e. Its metadata object is built when a script
// first reads X.entity: most entities of a big domain have no module and never need it.
// The getter is shared by all namespaces (Worker.nsNames maps them to their entity), so
// a worker's start costs no Go function per entity.
func (w *Worker) newNamespace(e *domain.Entity) *goja.Object {
	if w.api.nsEntity == nil {
		w.api.nsEntity = w.vm.ToValue(func(call goja.FunctionCall) goja.Value {
			ns, _ := call.This.(*goja.Object)
			name, ok := w.nsNames[ns]
			if !ok {
				return goja.Undefined()
			}
			obj := w.entityObject(name)
			_ = ns.DefineDataProperty("entity", obj, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
			return obj
		})
	}
	ns := w.vm.CreateObject(w.api.eeProto)
	w.nsNames[ns] = e.Name
	_ = ns.DefineAccessorProperty("entity", w.api.nsEntity, nil, goja.FLAG_TRUE, goja.FLAG_TRUE)
	return ns
}

// entityObject returns the metadata object of an entity (UnityBase's UBEntity, as much
// as server code uses): the merged metadata with "attributes" keyed by name; the methods
// (addMethod, haveAccessToMethod, getAttribute/attr, hasMixin, entityMethods) come from a
// prototype shared by all entities.
func (w *Worker) entityObject(name string) *goja.Object {
	if obj := w.entityObjs[name]; obj != nil {
		return obj
	}
	e := w.prog.dom.Entity(name)
	if e == nil {
		return nil
	}
	if w.api.entityProto == nil {
		w.api.entityProto = w.newEntityProto()
	}
	vm := w.vm
	meta := maps.Clone(e.Meta)
	if meta == nil {
		meta = map[string]any{}
	}
	rawAttrs := meta["attributes"]
	delete(meta, "attributes")
	obj := vm.CreateObject(w.api.entityProto)
	for _, k := range sortedNames(meta) {
		_ = obj.Set(k, w.toJS(meta[k]))
	}
	_ = obj.Set("name", e.Name)
	_ = obj.Set("code", e.Name)
	_ = obj.Set("modelName", e.Model.Name)
	if _, ok := meta["connectionName"]; !ok {
		_ = obj.Set("connectionName", e.ConnectionName)
	}

	// The attributes are built on first read: model code reads entity for addMethod and
	// mixins far more often than the attributes, and with many entities building them
	// in every worker costs megabytes per worker (docs/performance.md, finding 6).
	getter := vm.ToValue(func(goja.FunctionCall) goja.Value {
		attrs := w.attributesObject(rawAttrs)
		_ = obj.DefineDataProperty("attributes", attrs, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
		return attrs
	})
	setter := vm.ToValue(func(call goja.FunctionCall) goja.Value {
		_ = obj.DefineDataProperty("attributes", call.Argument(0), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
		return goja.Undefined()
	})
	_ = obj.DefineAccessorProperty("attributes", getter, setter, goja.FLAG_TRUE, goja.FLAG_TRUE)
	w.bind(obj, e)
	w.entityObjs[name] = obj
	return obj
}

// attributesObject builds entity.attributes from the metadata's "attributes" (an array
// or an object by name): attribute objects by name, each with its code.
func (w *Worker) attributesObject(rawAttrs any) *goja.Object {
	attrs := w.vm.NewObject()
	addAttr := func(m map[string]any) {
		an, _ := m["name"].(string)
		if an == "" {
			return
		}
		ao := w.toJS(m).(*goja.Object)
		_ = ao.Set("code", an)
		_ = attrs.Set(an, ao)
	}
	switch x := rawAttrs.(type) {
	case []any:
		for _, a := range x {
			if m, ok := a.(map[string]any); ok {
				addAttr(m)
			}
		}
	case map[string]any:
		for _, an := range sortedNames(x) {
			if m, ok := x[an].(map[string]any); ok {
				m = maps.Clone(m)
				m["name"] = an
				addAttr(m)
			}
		}
	}
	return attrs
}

// newEntityProto builds the prototype of entity metadata objects.
func (w *Worker) newEntityProto() *goja.Object {
	vm := w.vm
	proto := vm.NewObject()
	this := func(v goja.Value) (*domain.Entity, *goja.Object) {
		e, ok := w.bound(v).(*domain.Entity)
		if !ok {
			panic(vm.NewTypeError("not an entity metadata object"))
		}
		return e, v.(*goja.Object)
	}
	_ = proto.Set("addMethod", func(call goja.FunctionCall) goja.Value {
		e, _ := this(call.This)
		m := call.Argument(0)
		if !goja.IsString(m) || m.String() == "" {
			panic(vm.NewTypeError("%s.entity.addMethod: the method name must be a non-empty string", e.Name))
		}
		if w.reg != nil {
			w.reg.addMethod(e.Name, m.String())
		}
		return goja.Undefined()
	})
	_ = proto.Set("haveAccessToMethod", func(call goja.FunctionCall) goja.Value {
		e, _ := this(call.This)
		return vm.ToValue(w.els(e.Name, w.safeString(call.Argument(0))))
	})
	getAttr := func(call goja.FunctionCall) goja.Value {
		e, obj := this(call.This)
		an := w.safeString(call.Argument(0))
		var v goja.Value
		if attrs, ok := obj.Get("attributes").(*goja.Object); ok {
			v = attrs.Get(an)
		}
		if v == nil || goja.IsUndefined(v) {
			if call.Argument(1).ToBoolean() {
				panic(w.jsError("Error", "attribute "+e.Name+"."+an+" does not exist"))
			}
			return goja.Undefined()
		}
		return v
	}
	_ = proto.Set("getAttribute", getAttr)
	_ = proto.Set("attr", getAttr)
	_ = proto.Set("hasMixin", func(call goja.FunctionCall) goja.Value {
		e, _ := this(call.This)
		return vm.ToValue(e.HasMixin(w.safeString(call.Argument(0))))
	})
	// A getter: methods are still being added while the models load.
	_ = proto.DefineAccessorProperty("entityMethods", vm.ToValue(func(call goja.FunctionCall) goja.Value {
		e, _ := this(call.This)
		methods := vm.NewObject()
		for _, m := range w.methodsOf(e.Name) {
			_ = methods.Set(m, 1)
		}
		return methods
	}), nil, goja.FLAG_FALSE, goja.FLAG_FALSE)
	return proto
}

// methodsOf lists an entity's methods: the Program's table once loaded, the registry while
// the init runtime loads.
func (w *Worker) methodsOf(entity string) []string {
	if w.reg != nil {
		return w.reg.methods[entity]
	}
	return w.prog.methods[entity]
}

// mixinModule is a mixin registered with UB.registerMixinModule(name, {initDomain,
// initEntity}) (reference §3.2 step 3).
type mixinModule struct {
	name string
	impl *goja.Object
}

// initMixins calls initDomain of every registered JS mixin, then initEntity(entity,
// mixinConfig) for every entity that has the mixin enabled, in registration order. Mixins
// run after the models, so their listeners come after the models' (they use
// prependListener to run first).
func (w *Worker) initMixins() error {
	for _, mx := range w.mixins {
		if fn, ok := goja.AssertFunction(mx.impl.Get("initDomain")); ok {
			if _, err := fn(mx.impl); err != nil {
				return err
			}
		}
	}
	for _, mx := range w.mixins {
		fn, ok := goja.AssertFunction(mx.impl.Get("initEntity"))
		if !ok {
			continue
		}
		for _, e := range w.prog.dom.Entities {
			if !e.HasMixin(mx.name) {
				continue
			}
			var cfg any
			if mixins, ok := e.Meta["mixins"].(map[string]any); ok {
				cfg = mixins[mx.name]
			}
			if _, err := fn(mx.impl, w.entityObject(e.Name), w.toJS(cfg)); err != nil {
				return err
			}
		}
	}
	return nil
}

// registerMixinModule implements UB.registerMixinModule.
func (w *Worker) registerMixinModule(call goja.FunctionCall) goja.Value {
	name := w.safeString(call.Argument(0))
	impl, ok := call.Argument(1).(*goja.Object)
	if name == "" || !ok {
		panic(w.vm.NewTypeError("UB.registerMixinModule(name, {initDomain, initEntity}): a name and an object are required"))
	}
	if i := slices.IndexFunc(w.mixins, func(m mixinModule) bool { return m.name == name }); i >= 0 {
		w.mixins[i].impl = impl
	} else {
		w.mixins = append(w.mixins, mixinModule{name, impl})
	}
	return goja.Undefined()
}
