package jsvm

import (
	"strings"
	"sync"

	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/internal/mustache"
)

// require('mustache') is the mustache.js 4.2 API rendered in Go: UnityBase applications
// render reports, mails and pages with the npm package, and in an interpreter the
// template walk and the HTML escaping of every value are most of such an endpoint's time.
// The parsing follows mustache.js (internal/mustache); rendering reads the view's JS
// values as mustache.js does: names looked up through the context stack, dotted names,
// "." for the current item, functions called with the view as this, lambdas
// (higher-order sections) given the section's text and a render function, partials
// from an object or a function, render's fourth argument (the delimiters, or an object
// with tags and escape), and mustache.escape and mustache.tags read at every render, so
// that scripts may replace them.
//
// Differences a script can see: each lookup reads the view again where mustache.js
// caches it per context (a getter may run more than once); a Proxy's `has` trap is not
// consulted (a property is found when `get` returns something); strings are rendered
// through Go, so an unpaired surrogate becomes U+FFFD; templateCache, Scanner, Context
// and Writer are not provided, and mustache.parse returns the tokens in mustache.js's
// array form without the parser's internal state.

const (
	mustacheName    = "mustache.js"
	mustacheVersion = "4.2.0"
	// maxMustacheDepth bounds partials that include themselves.
	maxMustacheDepth = 200
)

// mustacheCache holds parsed templates for every runtime: parsing is pure and the trees
// are never changed. It is emptied when it reaches mustacheCacheSize entries, so that
// templates built from data cannot grow it without bound.
var mustacheCache = struct {
	sync.Mutex
	m map[string][]mustache.Token
}{m: map[string][]mustache.Token{}}

const mustacheCacheSize = 1024

func parseMustache(template string, tags [2]string) ([]mustache.Token, error) {
	key := template + "\x00" + tags[0] + "\x00" + tags[1]
	mustacheCache.Lock()
	toks, ok := mustacheCache.m[key]
	mustacheCache.Unlock()
	if ok {
		return toks, nil
	}
	toks, err := mustache.Parse(template, tags)
	if err != nil {
		return nil, err
	}
	mustacheCache.Lock()
	if len(mustacheCache.m) >= mustacheCacheSize {
		clear(mustacheCache.m)
	}
	mustacheCache.m[key] = toks
	mustacheCache.Unlock()
	return toks, nil
}

// newMustache builds the module object.
func (w *Worker) newMustache() *goja.Object {
	vm := w.vm
	mod := vm.NewObject()
	_ = mod.Set("name", mustacheName)
	_ = mod.Set("version", mustacheVersion)
	_ = mod.Set("tags", vm.NewArray(mustache.DefaultTags[0], mustache.DefaultTags[1]))
	escape := vm.ToValue(func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(string(mustache.AppendEscapedHTML(nil, w.safeString(call.Argument(0)))))
	})
	_ = mod.Set("escape", escape)
	_ = mod.Set("render", func(call goja.FunctionCall) goja.Value {
		t := call.Argument(0)
		if !isJSString(t) {
			panic(vm.NewTypeError(`Invalid template! Template should be a "string" but "%s" was given as the first argument for mustache#render(template, view, partials)`, typeStr(t)))
		}
		r := mustacheRender{w: w, mod: mod, nativeEscape: escape, partials: call.Argument(2), config: call.Argument(3)}
		r.renderTemplate(t.String(), &mctx{view: call.Argument(1)})
		return vm.ToValue(string(r.b))
	})
	_ = mod.Set("parse", func(call goja.FunctionCall) goja.Value {
		r := mustacheRender{w: w, mod: mod}
		toks, err := parseMustache(w.safeString(call.Argument(0)), r.tagsOf(orUndefined(call.Argument(1))))
		if err != nil {
			panic(w.jsError("Error", err.Error()))
		}
		return tokensToJS(vm, toks)
	})
	_ = mod.Set("clearCache", func(goja.FunctionCall) goja.Value {
		mustacheCache.Lock()
		clear(mustacheCache.m)
		mustacheCache.Unlock()
		return goja.Undefined()
	})
	return mod
}

// mctx is mustache.js's Context: a view and the context it was pushed on.
type mctx struct {
	view   goja.Value
	parent *mctx
}

type mustacheRender struct {
	w            *Worker
	mod          *goja.Object
	nativeEscape goja.Value // the module's own escape; another value of mod.escape is called
	partials     goja.Value
	config       goja.Value // render's 4th argument: the delimiters, or {tags, escape}
	depth        int
	b            []byte
}

// tagsOf reads delimiters given as an array of two strings or a string, or
// mustache.tags when v is undefined.
func (r *mustacheRender) tagsOf(v goja.Value) [2]string {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		v = r.mod.Get("tags")
	}
	if isJSString(v) {
		tags, err := mustache.ParseTags(v.String())
		if err != nil {
			panic(r.w.jsError("Error", err.Error()))
		}
		return tags
	}
	if o, ok := v.(*goja.Object); ok && o.ClassName() == "Array" && o.Get("length").ToInteger() == 2 {
		return [2]string{r.w.safeString(o.Get("0")), r.w.safeString(o.Get("1"))}
	}
	panic(r.w.jsError("Error", "Invalid tags: "+r.w.safeString(v)))
}

// configTags is mustache.js's getConfigTags: an array config is the delimiters, an
// object config has them as tags; otherwise (and when that is undefined) mustache.tags.
func (r *mustacheRender) configTags() [2]string {
	var tags goja.Value = goja.Undefined()
	if o, ok := r.config.(*goja.Object); ok {
		tags = o
		if !isArrayObj(o) {
			tags = orUndefined(o.Get("tags"))
		}
	}
	return r.tagsOf(tags)
}

// configEscape is the escape function of an object config, or nil.
func (r *mustacheRender) configEscape() goja.Value {
	if o, ok := r.config.(*goja.Object); ok && !isArrayObj(o) {
		if e := o.Get("escape"); e != nil && e.ToBoolean() {
			return e
		}
	}
	return nil
}

func orUndefined(v goja.Value) goja.Value {
	if v == nil {
		return goja.Undefined()
	}
	return v
}

func (r *mustacheRender) renderTemplate(template string, ctx *mctx) {
	toks, err := parseMustache(template, r.configTags())
	if err != nil {
		panic(r.w.jsError("Error", err.Error()))
	}
	r.tokens(toks, ctx, template)
}

func (r *mustacheRender) tokens(toks []mustache.Token, ctx *mctx, template string) {
	for i := range toks {
		t := &toks[i]
		switch t.Kind {
		case mustache.Text:
			r.b = append(r.b, t.Value...)
		case mustache.Name:
			r.escaped(r.lookup(t.Value, ctx))
		case mustache.Raw:
			if v := r.lookup(t.Value, ctx); !isNullish(v) {
				r.b = append(r.b, r.w.safeString(v)...)
			}
		case mustache.Section:
			r.section(t, ctx, template)
		case mustache.Inverted:
			v := r.lookup(t.Value, ctx)
			if !v.ToBoolean() || (isArrayObj(v) && v.(*goja.Object).Get("length").ToInteger() == 0) {
				r.tokens(t.Children, ctx, template)
			}
		case mustache.Partial:
			r.partial(t, ctx)
		}
	}
}

// escaped writes a {{name}} value: numbers as they are, anything else through
// mustache.escape.
func (r *mustacheRender) escaped(v goja.Value) {
	if isNullish(v) {
		return
	}
	modEscape := orUndefined(r.mod.Get("escape"))
	esc := r.configEscape()
	if esc == nil {
		esc = modEscape
	}
	switch {
	case isJSNumber(v) && esc == modEscape:
		r.b = append(r.b, v.String()...)
	case esc == r.nativeEscape:
		r.b = mustache.AppendEscapedHTML(r.b, r.w.safeString(v))
	default:
		fn, ok := goja.AssertFunction(esc)
		if !ok {
			panic(r.w.vm.NewTypeError("escape is not a function"))
		}
		res, err := fn(goja.Undefined(), v)
		if err != nil {
			r.w.throw(err)
		}
		if !goja.IsUndefined(res) {
			r.b = append(r.b, r.w.safeString(res)...)
		}
	}
}

func (r *mustacheRender) section(t *mustache.Token, ctx *mctx, template string) {
	v := r.lookup(t.Value, ctx)
	if !v.ToBoolean() {
		return
	}
	obj, isObj := v.(*goja.Object)
	switch {
	case isArrayObj(v):
		n := obj.Get("length").ToInteger()
		for i := range n {
			item := obj.Get(r.w.indexKey(int(i)))
			if item == nil {
				item = goja.Undefined()
			}
			r.tokens(t.Children, &mctx{view: item, parent: ctx}, template)
		}
	case isObj && obj.ClassName() == "Function":
		fn, _ := goja.AssertFunction(v)
		text := template[t.End:t.SectionEnd]
		sub := r.w.vm.ToValue(func(call goja.FunctionCall) goja.Value {
			inner := mustacheRender{w: r.w, mod: r.mod, nativeEscape: r.nativeEscape, partials: r.partials,
				config: r.config, depth: r.depth}
			inner.enter()
			inner.renderTemplate(r.w.safeString(call.Argument(0)), ctx)
			return r.w.vm.ToValue(string(inner.b))
		})
		res, err := fn(ctx.view, r.w.vm.ToValue(text), sub)
		if err != nil {
			r.w.throw(err)
		}
		if !isNullish(res) {
			r.b = append(r.b, r.w.safeString(res)...)
		}
	case isObj || isJSString(v) || isJSNumber(v):
		r.tokens(t.Children, &mctx{view: v, parent: ctx}, template)
	default: // true, and values of other types: the same context
		r.tokens(t.Children, ctx, template)
	}
}

func (r *mustacheRender) partial(t *mustache.Token, ctx *mctx) {
	if !r.partials.ToBoolean() {
		return
	}
	var v goja.Value
	if fn, ok := goja.AssertFunction(r.partials); ok {
		res, err := fn(goja.Undefined(), r.w.vm.ToValue(t.Value))
		if err != nil {
			r.w.throw(err)
		}
		v = res
	} else {
		v = r.get(r.partials, t.Value)
	}
	if isNullish(v) {
		return
	}
	text := r.w.safeString(v)
	if t.TagIndex == 0 && t.Indentation != "" {
		text = indentPartial(text, t.Indentation, t.LineHasNonSpace)
	}
	r.enter()
	defer func() { r.depth-- }()
	r.renderTemplate(text, ctx)
}

func (r *mustacheRender) enter() {
	r.depth++
	if r.depth > maxMustacheDepth {
		panic(r.w.jsError("RangeError", "mustache: partials and lambdas nested more than 200 deep"))
	}
}

// indentPartial indents every line of a standalone partial as its tag was indented.
func indentPartial(partial, indentation string, lineHasNonSpace bool) string {
	indent := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' {
			return r
		}
		return -1
	}, indentation)
	lines := strings.Split(partial, "\n")
	for i, l := range lines {
		if l != "" && (i > 0 || !lineHasNonSpace) {
			lines[i] = indent + l
		}
	}
	return strings.Join(lines, "\n")
}

// lookup finds name in the context stack as mustache.js's Context.lookup does.
func (r *mustacheRender) lookup(name string, ctx *mctx) goja.Value {
	var value goja.Value = goja.Undefined()
	if name == "." {
		value = ctx.view
	} else {
		dotted := strings.IndexByte(name, '.') > 0
		for c := ctx; c != nil; c = c.parent {
			var v goja.Value
			hit := false
			if dotted {
				v = c.view
				parts := strings.Split(name, ".")
				for i := 0; !isNullish(v) && i < len(parts); i++ {
					last := i == len(parts)-1
					if o, isObj := v.(*goja.Object); isObj {
						v = o.Get(parts[i])
						hit = last && v != nil && !isCallableObj(o)
						if last && !hit && isCallableObj(o) {
							hit = r.hasOwn(o, parts[i])
						}
					} else {
						if last {
							hit = r.hasOwn(v, parts[i])
						}
						v = r.get(v, parts[i])
					}
					if v == nil {
						v = goja.Undefined()
					}
				}
			} else {
				if o, isObj := c.view.(*goja.Object); isObj {
					v = o.Get(name)
					hit = v != nil && !isCallableObj(o)
				} else {
					v = r.get(c.view, name)
				}
			}
			if hit {
				value = v
				break
			}
		}
	}
	if value == nil {
		value = goja.Undefined()
	}
	if fn, ok := goja.AssertFunction(value); ok {
		res, err := fn(ctx.view)
		if err != nil {
			r.w.throw(err)
		}
		return res
	}
	return value
}

// get is v[name] for any value: undefined and null throw the TypeError JavaScript
// throws, primitives are read through their wrapper objects.
func (r *mustacheRender) get(v goja.Value, name string) goja.Value {
	if o, ok := v.(*goja.Object); ok {
		if p := o.Get(name); p != nil {
			return p
		}
		return goja.Undefined()
	}
	if isNullish(v) {
		panic(r.w.vm.NewTypeError("Cannot read properties of %s (reading '%s')", v.String(), name))
	}
	if p := v.ToObject(r.w.vm).Get(name); p != nil {
		return p
	}
	return goja.Undefined()
}

// hasOwn is Object.prototype.hasOwnProperty.call(v, name) for a non-null value.
func (r *mustacheRender) hasOwn(v goja.Value, name string) bool {
	if isNullish(v) {
		return false
	}
	o := v.ToObject(r.w.vm)
	for _, k := range o.GetOwnPropertyNames() {
		if k == name {
			return true
		}
	}
	return false
}

// tokensToJS returns tokens in mustache.js's form: [type, value, start, end] plus, for
// sections, [children, sectionEnd] and, for partials, [indentation, tagIndex,
// lineHasNonSpace].
func tokensToJS(vm *goja.Runtime, toks []mustache.Token) goja.Value {
	out := make([]any, len(toks))
	for i, t := range toks {
		kind := string(rune(t.Kind))
		switch t.Kind {
		case mustache.Text:
			kind = "text"
		case mustache.Name:
			kind = "name"
		}
		item := []any{kind, t.Value, t.Start, t.End}
		switch t.Kind {
		case mustache.Section, mustache.Inverted:
			item = append(item, tokensToJS(vm, t.Children), t.SectionEnd)
		case mustache.Partial:
			item = append(item, t.Indentation, t.TagIndex, t.LineHasNonSpace)
		}
		out[i] = vm.NewArray(item...)
	}
	return vm.NewArray(out...)
}

func isNullish(v goja.Value) bool { return v == nil || goja.IsUndefined(v) || goja.IsNull(v) }

func isJSString(v goja.Value) bool {
	_, isObj := v.(*goja.Object)
	return !isObj && v != nil && v.ExportType() == typeString
}

func isJSNumber(v goja.Value) bool {
	if _, isObj := v.(*goja.Object); isObj || v == nil {
		return false
	}
	t := v.ExportType()
	return t == typeInt64 || t == typeFloat64
}

func isArrayObj(v goja.Value) bool {
	o, ok := v.(*goja.Object)
	return ok && o.ClassName() == "Array"
}

func isCallableObj(o *goja.Object) bool { return o.ClassName() == "Function" }

// typeStr is mustache.js's typeStr: typeof, with "array" for arrays.
func typeStr(v goja.Value) string {
	switch {
	case isArrayObj(v):
		return "array"
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "object"
	}
	if o, ok := v.(*goja.Object); ok {
		if isCallableObj(o) {
			return "function"
		}
		return "object"
	}
	switch v.ExportType() {
	case typeString:
		return "string"
	case typeInt64, typeFloat64:
		return "number"
	case typeBool:
		return "boolean"
	}
	if _, ok := v.(*goja.Symbol); ok {
		return "symbol"
	}
	return "bigint"
}
