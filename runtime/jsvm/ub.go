package jsvm

import (
	"strings"

	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/store"
)

// newUB builds the UB object, also returned by require('@unitybase/ub').
func (w *Worker) newUB() *goja.Object {
	vm := w.vm
	ub := vm.NewObject()
	_ = ub.Set("isServer", true)
	_ = ub.Set("App", w.api.app)
	_ = ub.Set("Session", w.api.session)
	_ = ub.Set("UBAbort", w.api.ubAbort)
	_ = ub.Set("ESecurityException", w.api.eSecurity)
	_ = ub.Set("i18n", w.i18n)
	_ = ub.Set("i18nExtend", w.i18nExtend)
	_ = ub.Set("Repository", func(call goja.FunctionCall) goja.Value {
		entity := call.Argument(0)
		if !goja.IsString(entity) || entity.String() == "" {
			panic(vm.NewTypeError("UB.Repository: the entity name must be a non-empty string"))
		}
		return w.newRepository(newRepo(entity.String()))
	})
	_ = ub.Set("DataStore", func(call goja.FunctionCall) goja.Value {
		obj, err := vm.New(w.dataStoreCtor(), call.Argument(0))
		if err != nil {
			w.throw(err)
		}
		return obj
	})
	// The server starts itself; models written for UnityBase call UB.start() from the
	// application's entry point.
	_ = ub.Set("start", func(goja.FunctionCall) goja.Value { return goja.Undefined() })
	_ = ub.Set("registerMixinModule", w.registerMixinModule)
	_ = ub.Set("ns", func(call goja.FunctionCall) goja.Value {
		v, err := w.api.ns(goja.Undefined(), call.Argument(0))
		if err != nil {
			w.throw(err)
		}
		return v
	})
	return ub
}

// builtinModule returns an API module of this runtime, building it on first require.
func (w *Worker) builtinModule(name string) goja.Value {
	if v := w.builtins[name]; v != nil {
		return v
	}
	vm := w.vm
	var v goja.Value
	switch name {
	case "@unitybase/ub":
		v = w.api.ub
	case "@unitybase/base":
		base := vm.NewObject()
		repoFabric := w.api.ub.Get("Repository")
		sr := vm.NewObject()
		_ = sr.Set("fabric", repoFabric)
		_ = base.Set("ServerRepository", sr)
		_ = base.Set("UBAbort", w.api.ubAbort)
		_ = base.Set("ESecurityException", w.api.eSecurity)
		_ = base.Set("uba_common", w.ubaCommon())
		v = base
	case "@unitybase/uba":
		uba := vm.NewObject()
		_ = uba.Set("uba_common", w.ubaCommon())
		v = uba
	case "@unitybase/cs-shared":
		cs := vm.NewObject()
		lds := vm.NewObject()
		_ = lds.Set("selectResultToArrayOfObjects", func(call goja.FunctionCall) goja.Value {
			res, err := w.api.selectToObjs(goja.Undefined(), call.Argument(0), call.Argument(1))
			if err != nil {
				w.throw(err)
			}
			return res
		})
		_ = cs.Set("LocalDataStore", lds)
		v = cs
	case "mustache":
		v = w.newMustache()
	default:
		v = goja.Undefined()
	}
	w.builtins[name] = v
	return v
}

// ubaCommon is the part of @unitybase/base uba_common that server code uses: the
// built-in users and roles and isSuperUser.
func (w *Worker) ubaCommon() *goja.Object {
	vm := w.vm
	uc := vm.NewObject()
	user := func(id int64, name string) *goja.Object {
		o := vm.NewObject()
		_ = o.Set("ID", id)
		_ = o.Set("NAME", name)
		return o
	}
	users := vm.NewObject()
	_ = users.Set("ROOT", user(store.UserRoot, "root"))
	_ = users.Set("ADMIN", user(store.UserAdmin, "admin"))
	_ = users.Set("ANONYMOUS", user(store.UserAnonymous, "anonymous"))
	_ = uc.Set("USERS", users)
	roles := vm.NewObject()
	for _, r := range store.BuiltinRoles {
		o := vm.NewObject()
		_ = o.Set("ID", r.ID)
		_ = o.Set("NAME", r.Name)
		_ = o.Set("ENDPOINTS", r.AllowedMethods)
		_ = roles.Set(strings.ToUpper(r.Name), o)
	}
	_ = uc.Set("ROLES", roles)
	_ = uc.Set("isSuperUser", func(goja.FunctionCall) goja.Value {
		id := w.session().UserID
		return vm.ToValue(id == store.UserRoot || id == store.UserAdmin)
	})
	return uc
}
