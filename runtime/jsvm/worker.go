package jsvm

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/store"
)

// Worker is one JavaScript runtime with the application's code loaded: the API objects
// (App, UB, Session, entity namespaces), every model's modules and its registered
// endpoint handlers.
//
// A Worker belongs to one goroutine at a time: the one that acquired it from its Pool,
// until it calls Pool.Release. CallMethod and CallEndpoint must not be called
// concurrently, and do not nest (JavaScript reaches nested entity methods through
// DataStore.run and Repository, which reuse the running call).
type Worker struct {
	prog *Program
	vm   *goja.Runtime
	opts workerOptions
	reg  *registry // the init runtime's registry; nil in pool workers

	api        api
	namespaces map[string]*goja.Object // entity name → namespace (the global of that name)
	nsNames    map[*goja.Object]string // namespace → entity name
	entityObjs map[string]*goja.Object // entity name → metadata object, built on first use
	endpoints  map[string]goja.Callable
	epEvents   map[string][2]string    // endpoint name → its ":before" and ":after" App events
	modules    map[string]*goja.Object // module path → module object
	builtins   map[string]goja.Value   // the @unitybase/* modules, built on first require
	locale     []localeLayer
	mixins     []mixinModule

	call        *callState                 // the running call; nil between calls
	callBuf     callState                  // the storage of call, reused by every call
	httpObjs    []httpObj                  // the THTTPRequest/THTTPResponse objects of the running call
	handlerArgs [2]goja.Value              // (req, resp) of an endpoint handler call, without allocating the variadic slice
	appEvents   *appListeners              // App's listener registry, App._events
	indexKeys   []string                   // "0", "1", ...: array index property names (indexKey)
	headerCache map[string][]headerField   // parsed writeHead arguments (headerLines)
	lastRepo    lastRepo                   // the Repository created last (thisRepo)
	recentRows  [recentRowCount]*resultRow // single rows created last (rowOf)
	recentNext  int
	lastShape   *rowShape // the row shape used last (shapeOf)
	watch       watchdog  // interrupts the running call at its deadline or cancellation
	depth       int       // nesting of entity method calls inside the running call
	broken      bool      // interrupted or panicked: the pool discards the worker
	calls       int
}

// workerOptions are the settings a pool passes to its workers.
type workerOptions struct {
	callTimeout time.Duration
	els         ELSFunc
	userSession UserSessionFunc
}

// ELSFunc decides whether the session may call an entity method (entity-level security);
// it backs App.els and entity.haveAccessToMethod. Nil allows everything.
type ELSFunc func(sess *store.Session, entity, method string) bool

// callState is what bindings need to know about the running call.
type callState struct {
	// ctx is the caller's context, the one storage calls get: a store.Tx binds its
	// database transaction to the context of its first write, so a context that ends
	// with the call would roll the request's transaction back. The script itself is
	// bounded by the interrupt (the earlier of ctx's deadline and the call timeout).
	ctx       context.Context
	tx        *store.Tx // the request's unit of work; nil when the caller gave none
	sess      *store.Session
	prevented bool // App.preventDefault() during an endpoint's :before events

	uData    map[*store.Session]*goja.Object // Session.uData of each session seen in the call
	runAs    int                             // nesting of Session.runAsAdmin / runAsUser
	restores []func()                        // undone when the call ends (switchLangForContext)
}

// api holds objects every binding needs, created once per runtime.
type api struct {
	eeProto       *goja.Object // EventEmitter.prototype
	eventNames    goja.Callable
	emit          goja.Callable
	deepFreeze    goja.Callable
	selectToObjs  goja.Callable
	ns            goja.Callable
	ubAbort       *goja.Object
	eSecurity     *goja.Object
	jsonParse     goja.Callable
	jsonStringify goja.Callable
	dateCtor      *goja.Object
	// Read by appendJSON (builtinProtos), set on its first use.
	objectProto, arrayProto, dateProto *goja.Object
	dateToJSON, dateToISO              goja.Value
	errorCtor                          *goja.Object
	hidden                             *goja.Symbol // key of the Go value behind DataStore and Repository objects
	dsProto                            *goja.Object
	dsCtor                             *goja.Object
	repoProto                          *goja.Object
	reqProto                           *goja.Object // THTTPRequest.prototype, made on first use
	respProto                          *goja.Object // THTTPResponse.prototype, made with reqProto
	ctxProto                           *goja.Object // prototype of method call contexts, made on first call
	entityProto                        *goja.Object // prototype of entity metadata objects, made on first use
	nsEntity                           goja.Value   // the getter of every namespace's "entity"
	app, ub                            *goja.Object
	session                            *goja.Object
}

// maxCallStackSize turns runaway recursion into a JS RangeError long before the Go stack
// is exhausted (a Go stack overflow is fatal). Node's default is about 11,000 frames.
const maxCallStackSize = 10000

// newWorker creates a runtime and evaluates the program in it. reg is set for the init
// runtime only.
func newWorker(ctx context.Context, p *Program, opts workerOptions, reg *registry) (*Worker, error) {
	vm := goja.New()
	vm.SetMaxCallStackSize(maxCallStackSize)
	w := &Worker{prog: p, vm: vm, opts: opts, reg: reg,
		namespaces: make(map[string]*goja.Object, len(p.dom.Entities)),
		nsNames:    make(map[*goja.Object]string, len(p.dom.Entities)),
		entityObjs: map[string]*goja.Object{}, endpoints: map[string]goja.Callable{},
		modules: map[string]*goja.Object{}, builtins: map[string]goja.Value{}}
	err := w.guard(ctx, store.System, nil, func() error {
		if err := w.install(); err != nil {
			return err
		}
		for _, s := range p.steps {
			if s.module == nil {
				w.locale = append(w.locale, s.locale)
				continue
			}
			if _, err := w.evalModule(s.module); err != nil {
				return err
			}
		}
		if err := w.finishLoad(); err != nil {
			return err
		}
		if reg != nil {
			// Still inside the guard: reading listeners and properties runs scripts'
			// getters, which must be interruptible too.
			return reg.finish(w)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	w.calls = 0 // loading is not one of the calls PoolOptions.MaxCalls counts
	return w, nil
}

// install creates the global API of the runtime.
func (w *Worker) install() error {
	vm := w.vm
	pv, err := vm.RunProgram(prelude)
	if err != nil {
		return fmt.Errorf("jsvm: prelude: %w", err)
	}
	pre := pv.(*goja.Object)
	ee := pre.Get("EventEmitter").(*goja.Object)
	w.api.eeProto = ee.Get("prototype").(*goja.Object)
	w.api.eventNames = mustFunc(w.api.eeProto.Get("eventNames"))
	w.api.emit = mustFunc(w.api.eeProto.Get("emit"))
	w.api.deepFreeze = mustFunc(pre.Get("deepFreeze"))
	w.api.selectToObjs = mustFunc(pre.Get("selectResultToArrayOfObjects"))
	w.api.ns = mustFunc(pre.Get("ns"))
	w.api.ubAbort = pre.Get("UBAbort").(*goja.Object)
	w.api.eSecurity = pre.Get("ESecurityException").(*goja.Object)
	json := vm.Get("JSON").(*goja.Object)
	w.api.jsonParse = mustFunc(json.Get("parse"))
	w.api.jsonStringify = mustFunc(json.Get("stringify"))
	w.api.dateCtor = vm.Get("Date").(*goja.Object)
	w.api.errorCtor = vm.Get("Error").(*goja.Object)
	w.api.hidden = goja.NewSymbol("ubgo")
	w.builtins["events"] = ee

	global := vm.GlobalObject()
	set := func(name string, v any) {
		if err == nil {
			err = global.Set(name, v)
		}
	}
	set("global", global)
	set("console", w.newConsole())
	set("process", w.newProcess())
	set("require", w.globalRequire)
	w.api.session = w.newSession()
	w.api.app = w.newApp()
	// App's listener registry is Go's (appListeners), made before any script runs and
	// fixed for the runtime's life (not writable, not configurable), so that Go can read
	// it without asking the runtime for App._events.
	if err == nil {
		w.appEvents = newAppListeners()
		events := vm.NewDynamicObject(w.appEvents)
		if err = events.SetPrototype(nil); err == nil {
			err = w.api.app.DefineDataProperty("_events", events, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
		}
	}
	w.api.ub = w.newUB()
	set("App", w.api.app)
	set("Session", w.api.session)
	set("UB", w.api.ub)
	if err == nil {
		w.lazy(global, "TubDataStore", func() goja.Value { return w.dataStoreCtor() })
	}
	for _, e := range w.prog.dom.Entities {
		ns := w.newNamespace(e)
		w.namespaces[e.Name] = ns
		set(e.Name, ns)
	}
	return err
}

func mustFunc(v goja.Value) goja.Callable {
	fn, ok := goja.AssertFunction(v)
	if !ok {
		panic("jsvm: prelude: not a function")
	}
	return fn
}

// newProcess is the minimal Node "process" UnityBase code looks at. The environment is not
// exposed: configuration reaches scripts through App.serverConfig.
func (w *Worker) newProcess() *goja.Object {
	p := w.vm.NewObject()
	_ = p.Set("isServer", true)
	_ = p.Set("env", w.vm.NewObject())
	_ = p.Set("platform", "ubgo")
	return p
}

// finishLoad runs what UB.start does after the models are loaded: JS mixins'
// initDomain and initEntity, then App "domainIsLoaded".
func (w *Worker) finishLoad() error {
	if err := w.initMixins(); err != nil {
		return err
	}
	_, err := w.api.emit(w.api.app, w.vm.ToValue("domainIsLoaded"))
	return err
}

// guard runs one call into JavaScript as sess: it binds the call state, arms the interrupt
// (the earlier of ctx's deadline and the call timeout; cancellation of ctx too), turns a
// Go panic into an error, and marks the worker broken when the call was interrupted or
// panicked, because the runtime's state is then unknown.
func (w *Worker) guard(ctx context.Context, sess *store.Session, tx *store.Tx, fn func() error) (err error) {
	if w.call != nil {
		return internalError("a worker runs one call at a time: CallMethod and CallEndpoint do not nest and must not run concurrently")
	}
	if w.broken {
		return internalError("the worker was interrupted or panicked and cannot be used again")
	}
	if err := ctx.Err(); err != nil {
		return interruptedError(interruptReason{context.Cause(ctx)})
	}
	timeout := w.opts.callTimeout
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	w.callBuf = callState{ctx: ctx, tx: tx, sess: sess}
	w.call = &w.callBuf
	w.calls++
	w.watch.start(w, ctx, timeout)
	defer func() {
		if w.watch.stop() {
			// The watchdog interrupted this call: even if the script finished first, a
			// pending interrupt would hit the next call.
			w.broken = true
		}
		if x := recover(); x != nil {
			w.broken = true
			err = panicError(x)
		}
		for i := len(w.call.restores) - 1; i >= 0; i-- {
			w.call.restores[i]()
		}
		w.releaseHTTPObjs()
		w.callBuf = callState{}
		w.call, w.depth = nil, 0
	}()
	if err := fn(); err != nil {
		if isUncatchable(err) {
			// An interrupt or a stack overflow unwound the runtime past every handler;
			// start the next call on a fresh one rather than trust its state.
			w.broken = true
		}
		// Errors that already carry UnityBase codes (storage, UBQL, ours) go back as
		// they are; JS exceptions and the like are converted.
		if ue, ok := err.(ubError); ok {
			return ue
		}
		return w.errorFrom(err)
	}
	return nil
}

// watchdog interrupts a worker's call when it runs past its deadline or its context is
// cancelled. Interrupt is the one Runtime method that may be called from another
// goroutine. One timer per worker wakes at the running call's deadline, and every
// cancelPoll in between while the context can be cancelled. The timer is not stopped
// when a call ends: while calls keep coming it stays armed and checks whichever call is
// running when it fires, and a firing that finds the worker idle lets it lapse. So a busy
// worker touches its timer only when a call's deadline comes before the armed wake-up
// (timer operations lock the runtime's timer heap; per call they cost more under load
// than the rest of the watch).
type watchdog struct {
	mu       sync.Mutex
	timer    *time.Timer
	w        *Worker
	ctx      context.Context // the running call's, while active
	deadline time.Time
	wakeAt   time.Time // when the armed timer fires; zero when it is not armed
	active   bool
	fired    bool // an interrupt was raised for the running call
}

// cancelPoll is how often a running call checks its context for cancellation: the
// longest a call goes on after its client went away.
const cancelPoll = 100 * time.Millisecond

func (d *watchdog) start(w *Worker, ctx context.Context, timeout time.Duration) {
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.w, d.ctx, d.deadline, d.active, d.fired = w, ctx, now.Add(timeout), true, false
	wait := timeout
	if ctx.Done() != nil {
		wait = min(wait, cancelPoll)
	}
	wakeAt := now.Add(wait)
	switch {
	case d.timer == nil:
		d.timer = time.AfterFunc(wait, d.check)
	case d.wakeAt.IsZero() || wakeAt.Before(d.wakeAt):
		d.timer.Reset(wait)
	default:
		return // the armed timer fires soon enough
	}
	d.wakeAt = wakeAt
}

// stop ends the watch of the running call and reports whether it was interrupted. The
// timer stays armed (see watchdog).
func (d *watchdog) stop() (fired bool) {
	d.mu.Lock()
	fired = d.fired
	d.active, d.ctx = false, nil
	d.mu.Unlock()
	return fired
}

// close stops the timer for good, when the worker is dropped.
func (d *watchdog) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.active, d.ctx, d.wakeAt = false, nil, time.Time{}
	if d.timer != nil {
		d.timer.Stop()
	}
}

// check is the timer's function: interrupt the running call, wait again, or lapse when
// the worker is idle.
func (d *watchdog) check() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.wakeAt = time.Time{}
	if !d.active || d.fired {
		return
	}
	if d.ctx.Err() != nil {
		d.fired = true
		d.w.vm.Interrupt(interruptReason{context.Cause(d.ctx)})
		return
	}
	now := time.Now()
	left := d.deadline.Sub(now)
	if left <= 0 {
		d.fired = true
		d.w.vm.Interrupt(interruptReason{context.DeadlineExceeded})
		return
	}
	if d.ctx.Done() != nil {
		left = min(left, cancelPoll)
	}
	d.timer.Reset(left)
	d.wakeAt = now.Add(left)
}

// panicError reports a Go panic that happened during a call.
func panicError(x any) *Error {
	if ie, ok := x.(*goja.InterruptedError); ok {
		return interruptedError(ie.Value())
	}
	e := internalError("panic during a JavaScript call: %v", x)
	e.Stack = string(debug.Stack())
	if err, ok := x.(error); ok {
		e.cause = err
	}
	return e
}

// eventNames lists the events an emitter has listeners for.
func (w *Worker) eventNames(emitter *goja.Object) ([]string, error) {
	v, err := w.api.eventNames(emitter)
	if err != nil {
		return nil, err
	}
	var names []string
	if err := w.vm.ExportTo(v, &names); err != nil {
		return nil, err
	}
	return names, nil
}

// jsImplementation returns the function a model assigned as the method's implementation
// (entity[method] = function (ctx) {...}), or nil. Properties the namespace inherits
// (EventEmitter and Object methods) are not implementations.
func (w *Worker) jsImplementation(ns *goja.Object, method string) goja.Callable {
	if ns == nil {
		return nil
	}
	v := ns.Get(method)
	if v == nil || goja.IsUndefined(v) {
		return nil
	}
	if inherited := w.api.eeProto.Get(method); inherited != nil && inherited.SameAs(v) {
		return nil
	}
	fn, _ := goja.AssertFunction(v)
	return fn
}

// throw raises err in JavaScript; see rethrow.
func (w *Worker) throw(err error) {
	rethrow(w.vm, err)
}

// errNoTx is thrown by data bindings used outside a call that carries a transaction.
var errNoTx = errors.New("no transaction: database access from JavaScript is available inside entity method and endpoint calls that carry a store.Tx")

// tx returns the running call's transaction or throws.
func (w *Worker) tx() *store.Tx {
	if w.call == nil || w.call.tx == nil {
		w.throw(errNoTx)
	}
	return w.call.tx
}

// ctx is the running call's context (Background while loading).
func (w *Worker) ctx() context.Context {
	if w.call == nil {
		return context.Background()
	}
	return w.call.ctx
}
