package jsvm

import (
	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/store"
)

// newApp builds App (reference §3.2, §3.3): an EventEmitter with registerEndpoint,
// serverConfig, domainInfo, dbConnections, els and the endpoint event helpers.
func (w *Worker) newApp() *goja.Object {
	vm := w.vm
	app := vm.CreateObject(w.api.eeProto)
	_ = app.Set("registerEndpoint", w.registerEndpoint)
	_ = app.Set("grantEndpointToRole", func(call goja.FunctionCall) goja.Value {
		ep, role := w.safeString(call.Argument(0)), w.safeString(call.Argument(1))
		if ep == "" || role == "" {
			panic(vm.NewTypeError("App.grantEndpointToRole(endpoint, roleCode): both are required"))
		}
		if w.reg != nil {
			w.reg.grants[ep] = append(w.reg.grants[ep], role)
		}
		return vm.ToValue(true)
	})
	_ = app.Set("els", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(w.els(w.safeString(call.Argument(0)), w.safeString(call.Argument(1))))
	})
	_ = app.Set("preventDefault", func(goja.FunctionCall) goja.Value {
		if w.call != nil {
			w.call.prevented = true
		}
		return goja.Undefined()
	})
	_ = app.Set("globalCacheGet", func(call goja.FunctionCall) goja.Value {
		if v, ok := w.prog.globalCache.Load(w.safeString(call.Argument(0))); ok {
			return vm.ToValue(v)
		}
		return goja.Null()
	})
	_ = app.Set("globalCachePut", func(call goja.FunctionCall) goja.Value {
		key, val := w.safeString(call.Argument(0)), call.Argument(1)
		if val == nil || goja.IsUndefined(val) || goja.IsNull(val) {
			w.prog.globalCache.Delete(key)
		} else {
			w.prog.globalCache.Store(key, w.safeString(val))
		}
		return goja.Undefined()
	})
	_ = app.Set("defaultLang", w.prog.dom.DefaultLang)
	if w.prog.cfg != nil {
		_ = app.Set("serverURL", w.prog.cfg.HTTPServer.ExternalURL)
	}
	w.lazy(app, "serverConfig", func() goja.Value {
		var raw map[string]any
		if w.prog.cfg != nil {
			raw = w.prog.cfg.Raw
		}
		v := w.toJS(raw)
		if _, err := w.api.deepFreeze(goja.Undefined(), v); err != nil {
			w.throw(err)
		}
		return v
	})
	w.lazy(app, "domainInfo", w.newDomainInfo)
	w.lazy(app, "dbConnections", w.newDBConnections)
	return app
}

// lazy defines obj[name] as a read-only value built on first read; server code reads
// App.serverConfig or App.domainInfo in a handful of places, and building them for every
// runtime up front would make worker creation slower for nothing.
func (w *Worker) lazy(obj *goja.Object, name string, build func() goja.Value) {
	getter := w.vm.ToValue(func(goja.FunctionCall) goja.Value {
		v := build()
		_ = obj.DefineDataProperty(name, v, goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_TRUE)
		return v
	})
	_ = obj.DefineAccessorProperty(name, getter, nil, goja.FLAG_TRUE, goja.FLAG_TRUE)
}

// registerEndpoint implements App.registerEndpoint(name, handler,
// authorizationRequired = true, isDefault = false, bypassHTTPLogging = false).
func (w *Worker) registerEndpoint(call goja.FunctionCall) goja.Value {
	vm := w.vm
	name := call.Argument(0)
	if !goja.IsString(name) || name.String() == "" {
		panic(vm.NewTypeError("App.registerEndpoint: the endpoint name must be a non-empty string"))
	}
	fn, ok := goja.AssertFunction(call.Argument(1))
	if !ok {
		panic(vm.NewTypeError("App.registerEndpoint(%s): the handler must be a function", name.String()))
	}
	w.endpoints[name.String()] = fn
	if w.reg != nil {
		auth := true
		if a := call.Argument(2); !goja.IsUndefined(a) {
			auth = a.ToBoolean()
		}
		w.reg.addEndpoint(Endpoint{Name: name.String(), Model: w.callerModel(), AuthorizationRequired: auth,
			IsDefault: call.Argument(3).ToBoolean(), BypassHTTPLogging: call.Argument(4).ToBoolean()})
	}
	return goja.Undefined()
}

// callerModel names the model of the innermost script frame.
func (w *Worker) callerModel() string {
	for _, fr := range w.vm.CaptureCallStack(0, nil) {
		if m, _, ok := w.prog.splitModulePath(fr.SrcName()); ok {
			return m.name
		}
	}
	return ""
}

// els asks the ELS hook whether the current session may call entity.method.
func (w *Worker) els(entity, method string) bool {
	if w.opts.els == nil {
		return true
	}
	sess := store.System
	if w.call != nil && w.call.sess != nil {
		sess = w.call.sess
	}
	return w.opts.els(sess, entity, method)
}

// newDomainInfo builds App.domainInfo: entities (built on first access), get, has,
// eachEntity and the models in load order.
func (w *Worker) newDomainInfo() goja.Value {
	vm := w.vm
	dom := w.prog.dom
	di := vm.NewObject()
	_ = di.Set("entities", vm.NewDynamicObject(&entitiesObject{w: w}))
	_ = di.Set("get", func(call goja.FunctionCall) goja.Value {
		name := w.safeString(call.Argument(0))
		if obj := w.entityObject(name); obj != nil {
			return obj
		}
		if raise := call.Argument(1); goja.IsUndefined(raise) || raise.ToBoolean() {
			panic(w.jsError("Error", "entity "+name+" does not exist in the domain"))
		}
		return goja.Undefined()
	})
	_ = di.Set("has", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(dom.Entity(w.safeString(call.Argument(0))) != nil)
	})
	_ = di.Set("eachEntity", func(call goja.FunctionCall) goja.Value {
		fn, ok := goja.AssertFunction(call.Argument(0))
		if !ok {
			panic(vm.NewTypeError("domainInfo.eachEntity: a callback is required"))
		}
		for _, e := range dom.Entities {
			if _, err := fn(goja.Undefined(), w.entityObject(e.Name), vm.ToValue(e.Name)); err != nil {
				w.throw(err)
			}
		}
		return goja.Undefined()
	})
	ordered := make([]any, 0, len(dom.Models))
	byName := vm.NewObject()
	for _, m := range dom.Models {
		mo := vm.NewObject()
		_ = mo.Set("name", m.Name)
		_ = mo.Set("path", m.Path)
		_ = mo.Set("version", m.Version)
		_ = mo.Set("moduleName", m.ModuleName)
		if jm := w.prog.byName[m.Name]; jm != nil && jm.osPath != "" {
			_ = mo.Set("realPath", jm.osPath)
		}
		ordered = append(ordered, mo)
		_ = byName.Set(m.Name, mo)
	}
	_ = di.Set("orderedModels", vm.NewArray(ordered...))
	_ = di.Set("models", byName)
	_ = di.Set("defaultLang", dom.DefaultLang)
	langs := make([]any, len(dom.Languages))
	for i, l := range dom.Languages {
		langs[i] = l
	}
	_ = di.Set("supportedLanguages", vm.NewArray(langs...))
	return di
}

// entitiesObject is domainInfo.entities: keys are entity names, values the entity
// metadata objects, built when read.
type entitiesObject struct{ w *Worker }

func (o *entitiesObject) Get(key string) goja.Value {
	if obj := o.w.entityObject(key); obj != nil {
		return obj
	}
	return nil
}
func (o *entitiesObject) Set(string, goja.Value) bool { return false }
func (o *entitiesObject) Has(key string) bool         { return o.w.prog.dom.Entity(key) != nil }
func (o *entitiesObject) Delete(string) bool          { return false }
func (o *entitiesObject) Keys() []string {
	keys := make([]string, len(o.w.prog.dom.Entities))
	for i, e := range o.w.prog.dom.Entities {
		keys[i] = e.Name
	}
	return keys
}
