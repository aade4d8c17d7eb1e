package jsvm

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/config"
	"github.com/ubgo/ubgo/domain"
)

// Program is an application's server-side JavaScript: every model file compiled once,
// evaluated once in an init runtime, and the tables that evaluation filled (endpoints,
// entity methods, which methods have JavaScript). A Program is immutable after Load and
// safe for concurrent use; pools create their workers from it.
type Program struct {
	dom *domain.Domain
	cfg *config.Config
	log *slog.Logger

	models []*jsModel // in load order
	byName map[string]*jsModel
	steps  []step // what every runtime evaluates, in order, after the API is installed

	mu       sync.Mutex // guards compiled and resolved (runtimes may require files lazily)
	compiled map[string]*compiled
	resolved map[string]target

	// Filled by the init runtime; read-only once Load returns.
	endpoints   []Endpoint
	endpointIdx map[string]int
	methods     map[string][]string        // entity → callable methods, mStorage first
	jsMethods   map[string]map[string]bool // entity → methods with JS listeners or a JS implementation
	grants      map[string][]string        // endpoint → roles (App.grantEndpointToRole)
	sessionEvts map[string]bool            // Session events models listen to
	appEvts     map[string]bool            // App events models listen to

	globalCache sync.Map // App.globalCacheGet / globalCachePut: shared by all runtimes

	loadTime time.Duration
}

// Endpoint is an HTTP endpoint registered with App.registerEndpoint (reference §3.3).
type Endpoint struct {
	Name                  string
	Model                 string // the model whose code registered it
	AuthorizationRequired bool   // default true
	IsDefault             bool   // serves unknown first path segments
	BypassHTTPLogging     bool
}

// step is one thing every runtime evaluates while loading: a model file (an entity
// module or a model's entry point) or a serverLocale dictionary.
type step struct {
	model  *jsModel
	module *compiled
	locale localeLayer
}

// mStorageMethods are the methods the mStorage mixin gives an entity, implemented in Go
// by package store.
var mStorageMethods = []string{"select", "insert", "update", "delete", "addnew"}

//go:embed prelude.js
var preludeSource string

// prelude is compiled once per process.
var prelude = goja.MustCompile(preludeName, preludeSource, true)

// preludeName is the prelude's file name in stacks.
const preludeName = "<ubgo prelude>"

// defaultLoadTimeout bounds Load when ctx has no deadline: a model whose top-level code
// never ends must not hang the server start.
const defaultLoadTimeout = time.Minute

// Load finds every model's server-side JavaScript as UnityBase does (reference §3.2):
// for each model in load order (except UB and browser-only models), the entity modules
// (X.js for every entity X, in the model folder and one level below), the serverLocale
// dictionaries and the model's entry point (package.json "main", else index.js). It
// compiles each file once, evaluates everything in an init runtime, emits App
// "domainIsLoaded" and records what the code registered.
//
// Errors are *Error values naming the model, the file, line:col and the JS stack.
func Load(ctx context.Context, dom *domain.Domain, cfg *config.Config, log *slog.Logger) (*Program, error) {
	start := time.Now()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Program{dom: dom, cfg: cfg, log: log, byName: map[string]*jsModel{},
		compiled: map[string]*compiled{}, resolved: map[string]target{}}
	models, err := buildModels(dom, cfg)
	if err != nil {
		return nil, err
	}
	p.models = models
	for _, m := range models {
		p.byName[m.name] = m
	}
	for _, m := range models {
		if !m.scripts {
			continue
		}
		if err := p.addSteps(m); err != nil {
			return nil, err
		}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultLoadTimeout)
		defer cancel()
	}
	reg := newRegistry(dom)
	// The init runtime is dropped afterwards: pools make their own workers.
	if _, err := newWorker(ctx, p, workerOptions{callTimeout: defaultLoadTimeout}, reg); err != nil {
		return nil, err
	}
	p.endpoints, p.endpointIdx, p.methods, p.jsMethods, p.grants = reg.endpoints, reg.endpointIdx, reg.methods, reg.js, reg.grants
	p.sessionEvts, p.appEvts = reg.sessionEvts, reg.appEvts
	if err := checkDefaultEndpoints(p.endpoints); err != nil {
		return nil, err
	}
	p.loadTime = time.Since(start)
	log.Info("server-side JavaScript loaded", "files", len(p.compiled), "endpoints", len(p.endpoints),
		"duration", p.loadTime)
	return p, nil
}

// addSteps lists what a runtime evaluates for model m; every file is compiled now, so a
// syntax error fails Load even in a file no runtime would reach before the failure.
func (p *Program) addSteps(m *jsModel) error {
	mods, err := entityModules(m, p.dom)
	if err != nil {
		return err
	}
	for _, rel := range mods {
		c := p.compile(m, rel)
		if c.err != nil {
			return c.err
		}
		p.steps = append(p.steps, step{model: m, module: c})
	}
	locales, err := serverLocales(m, p.dom.Languages)
	if err != nil {
		return err
	}
	for _, l := range locales {
		p.steps = append(p.steps, step{model: m, locale: l})
	}
	main, err := p.entryPoint(m)
	if err != nil {
		return err
	}
	if main != nil {
		if main.err != nil {
			return main.err
		}
		p.steps = append(p.steps, step{model: m, module: main})
	}
	return nil
}

// checkDefaultEndpoints refuses two endpoints registered with isDefault: which one would
// serve unknown paths would depend on load order.
func checkDefaultEndpoints(eps []Endpoint) error {
	var first *Endpoint
	for i := range eps {
		if !eps[i].IsDefault {
			continue
		}
		if first != nil {
			return &Error{Code: codeNone, Status: 500, Client: clientInternal, Model: eps[i].Model,
				Message: fmt.Sprintf("two default endpoints: %q of model %s and %q of model %s both call App.registerEndpoint with isDefault = true; only one endpoint may serve unknown paths",
					first.Name, first.Model, eps[i].Name, eps[i].Model)}
		}
		first = &eps[i]
	}
	return nil
}

// DefaultEndpoint returns the endpoint registered with isDefault (it serves paths whose
// first segment is no endpoint), if a model registered one.
func (p *Program) DefaultEndpoint() (Endpoint, bool) {
	for _, ep := range p.endpoints {
		if ep.IsDefault {
			return ep, true
		}
	}
	return Endpoint{}, false
}

// HasSessionListeners reports whether a model listens to the Session event (see the
// Event constants); Pool.EmitSessionEvent borrows no worker when none does.
func (p *Program) HasSessionListeners(event string) bool { return p.sessionEvts[event] }

// HasAppListeners reports whether a model listens to the App event ("getAppInfo", ...).
func (p *Program) HasAppListeners(event string) bool { return p.appEvts[event] }

// Domain is the domain the program was loaded for.
func (p *Program) Domain() *domain.Domain { return p.dom }

// LoadTime is how long Load took.
func (p *Program) LoadTime() time.Duration { return p.loadTime }

// Endpoints lists the registered endpoints in registration order.
func (p *Program) Endpoints() []Endpoint { return slices.Clone(p.endpoints) }

// Endpoint returns the endpoint registered as name.
func (p *Program) Endpoint(name string) (Endpoint, bool) {
	i, ok := p.endpointIdx[name]
	if !ok {
		return Endpoint{}, false
	}
	return p.endpoints[i], true
}

// EndpointGrants returns the roles App.grantEndpointToRole granted each endpoint to.
func (p *Program) EndpointGrants() map[string][]string {
	out := make(map[string][]string, len(p.grants))
	for k, v := range p.grants {
		out[k] = slices.Clone(v)
	}
	return out
}

// Methods lists the methods of an entity that clients may call (and ELS governs): the
// mStorage methods for entities stored by mStorage, then every entity.addMethod(name), in
// registration order.
func (p *Program) Methods(entity string) []string { return slices.Clone(p.methods[entity]) }

// HasMethod reports whether method is one of Methods(entity).
func (p *Program) HasMethod(entity, method string) bool {
	return slices.Contains(p.methods[entity], method)
}

// HasJS reports whether a method has JavaScript: "<method>:before" or ":after" listeners
// on the entity namespace, or a function assigned to the namespace (entity[method]).
func (p *Program) HasJS(entity, method string) bool { return p.jsMethods[entity][method] }

// NeedsJS reports whether calling the method needs a JavaScript worker. It is false for
// an mStorage method without JavaScript (the server runs it with store.Tx.Do, without
// borrowing a worker) and for unknown methods (the store reports them); it is true for
// the select, update and delete of an entity with row-level security, whose rls function
// is JavaScript.
func (p *Program) NeedsJS(entity, method string) bool {
	if p.HasJS(entity, method) || p.rlsMethod(entity, method) {
		return true
	}
	return p.HasMethod(entity, method) && !slices.Contains(mStorageMethods, method)
}

// hasMStorage reports whether the store implements the mStorage methods for e.
func hasMStorage(e *domain.Entity) bool {
	return e.Mixins.MStorage != nil && e.DSType != domain.DSVirtual
}

// registry collects what the init runtime registers. Worker runtimes evaluate the same
// code but record nothing: the Program's tables come from the init runtime only.
type registry struct {
	dom         *domain.Domain
	endpoints   []Endpoint
	endpointIdx map[string]int
	methods     map[string][]string
	js          map[string]map[string]bool
	grants      map[string][]string
	sessionEvts map[string]bool
	appEvts     map[string]bool
}

func newRegistry(dom *domain.Domain) *registry {
	r := &registry{dom: dom, endpointIdx: map[string]int{}, methods: map[string][]string{},
		js: map[string]map[string]bool{}, grants: map[string][]string{}}
	for _, e := range dom.Entities {
		if hasMStorage(e) {
			r.methods[e.Name] = slices.Clone(mStorageMethods)
		}
	}
	return r
}

func (r *registry) addEndpoint(ep Endpoint) {
	if i, ok := r.endpointIdx[ep.Name]; ok {
		r.endpoints[i] = ep // a later model replaces an endpoint, as in UnityBase
		return
	}
	r.endpointIdx[ep.Name] = len(r.endpoints)
	r.endpoints = append(r.endpoints, ep)
}

func (r *registry) addMethod(entity, method string) {
	if !slices.Contains(r.methods[entity], method) {
		r.methods[entity] = append(r.methods[entity], method)
	}
}

// finish records which entity methods have JavaScript, from the init runtime's namespaces
// after domainIsLoaded, and which Session and App events have listeners. It runs inside
// the init runtime's guarded call.
func (r *registry) finish(w *Worker) error {
	for _, ev := range []struct {
		emitter *goja.Object
		into    *map[string]bool
	}{{w.api.session, &r.sessionEvts}, {w.api.app, &r.appEvts}} {
		names, err := w.eventNames(ev.emitter)
		if err != nil {
			return err
		}
		*ev.into = map[string]bool{}
		for _, n := range names {
			(*ev.into)[n] = true
		}
	}
	for _, e := range r.dom.Entities {
		ns := w.namespaces[e.Name]
		names, err := w.eventNames(ns)
		if err != nil {
			return err
		}
		mark := func(method string) {
			if r.js[e.Name] == nil {
				r.js[e.Name] = map[string]bool{}
			}
			r.js[e.Name][method] = true
		}
		for _, ev := range names {
			for _, suffix := range []string{":before", ":after"} {
				if m, ok := cutSuffix(ev, suffix); ok {
					mark(m)
				}
			}
		}
		for _, m := range r.methods[e.Name] {
			if w.jsImplementation(ns, m) != nil {
				mark(m)
			}
		}
	}
	return w.checkRLS()
}

func cutSuffix(s, suffix string) (string, bool) {
	if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
		return s[:len(s)-len(suffix)], true
	}
	return "", false
}
