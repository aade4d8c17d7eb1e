// Package jsvm runs an application's server-side JavaScript on goja, with the API
// UnityBase models are written against (reference §3, §4.5, §5, §7), so that UnityBase
// model code runs unchanged.
//
// # Lifecycle
//
// Load finds every model's JavaScript as UnityBase's UB.start does (for each model in
// load order except UB and browser-only models: the entity modules X.js for every entity
// X, in the model folder and one level below; the serverLocale/*-<lang>.json files; the
// model's entry point, package.json "main" or index.js), compiles each file once and
// evaluates everything in an init runtime, which ends with JS mixins' initEntity and App
// "domainIsLoaded". What that evaluation registered becomes the Program's tables:
// Endpoints, Methods, HasJS and NeedsJS. They are fixed from then on; listeners or
// methods a script adds later, inside a call, are not seen by the tables (the server
// decides from NeedsJS whether a call needs a worker at all).
//
// NewPool lends Workers made from the Program. A worker is a goja runtime that evaluated
// the same compiled files in the same order (so closures and module-level state work as
// in UnityBase's worker threads, unlike PocketBase's handlers, which are recompiled from
// their source text). Workers are created lazily, never more than PoolOptions.Size at a
// time; when all are busy Acquire waits, up to WaitTimeout or the context's deadline,
// and then fails with ErrBusy (503) rather than create an extra runtime.
//
// A typical request in the server:
//
//	tx := st.Begin(sess)
//	defer tx.Rollback()
//	if !prog.NeedsJS(item.Entity, item.Method) {
//		resp, err = tx.Do(ctx, item) // the Go fast path: no worker
//	} else {
//		w, err := pool.Acquire(ctx)
//		...
//		resp, err = w.CallMethod(ctx, tx, item)
//		pool.Release(w)
//	}
//	... tx.Commit() when every item succeeded
//
// # Goroutines and lifetimes
//
// Program is immutable after Load and safe for concurrent use (its compile and
// resolution caches are locked). Pool is safe for concurrent use. A Worker is used by
// the goroutine that acquired it until Pool.Release; goja runtimes are not safe for
// concurrent use and never run on two goroutines at once. The only cross-goroutine
// access is the interrupt: every call arms the worker's watchdog timer, which calls
// Runtime.Interrupt, as goja allows, at the earlier of the context's deadline and
// PoolOptions.CallTimeout, or when it finds the context cancelled (it looks every
// 100ms).
//
// A call (CallMethod, CallEndpoint) binds the caller's store.Tx and session to the
// worker for its duration; JavaScript reaches them through Repository, DataStore,
// App.dbConnections and Session, and never keeps them beyond the call. Nested entity
// methods that scripts call (DataStore.run, Repository executors) run in the same
// transaction, through the same dispatch. Database calls from scripts get the caller's
// context: a store.Tx binds its database transaction to the context of its first write,
// so a context ending with the call would roll the request back; the call timeout stops
// the script itself.
//
// A worker whose call was interrupted (timeout, cancellation, stack overflow) or
// panicked in Go is discarded on Release and replaced when needed; a Go panic inside a
// binding becomes an *Error and never crashes the process. Other state a script leaves
// in a runtime's globals stays there for the next call on that worker, as in UnityBase;
// PoolOptions.MaxCalls recycles workers to bound it.
//
// # The JavaScript API
//
// Globals: console (slog, with the calling model and file:line), process (isServer; no
// environment), global, require (non-relative names only), App, UB, Session,
// TubDataStore and one namespace per entity. A module's own require resolves relative
// paths ("./x", "../x"; ".js", ".json", folder/index.js and folder/package.json "main"
// implied), absolute paths, another model's files as "@ubgo-model/<Model>/path" or
// "<package name>/path" or by a relative path that crosses into another model's folder;
// "<entity>.meta" returns the entity namespace; "@unitybase/ub", "@unitybase/base",
// "@unitybase/uba", "@unitybase/cs-shared" and "events" return ubgo's API objects, and
// "mustache" the mustache.js 4.2 API rendered in Go (mustache.go). A
// path that leaves every model folder is refused. Modules are cached per runtime; compiled programs and
// successful resolutions are shared by all runtimes.
//
// Entity namespaces are EventEmitters ("<method>:before"/":after" listeners run in
// registration order, prependListener first) whose "entity" property is the entity's
// metadata with addMethod. A function assigned to the namespace (X.close = fn) is the
// method's implementation; the mStorage methods default to the Go implementation of
// package store (store.Tx.Do). See CallMethod for the ctx object.
//
// UB.Repository builds a *ubql.Request directly (CustomRepository semantics, UBQL v2);
// its executors and DataStore.run dispatch like a client call. DataStore.runSQL and
// execSQL take UnityBase's ":name:" and ":(literal):" parameters, always bound.
//
// TubDataStore (UB.DataStore(entity), ctx.dataStore) holds named datasets, each with its
// own cursor: currentDataName switches between them ("" is the default one);
// initialize, run and runSQL fill the current one. initialize takes UnityBase's keyMap
// (names and {from, to}, an index for arrays of arrays); rowPos, initialized and
// TubDataStore.DATA_NAMES are there, and the UnityBase 5 write helpers insert,
// insertAsObject, update and updateAsObject (there is no DataStore delete in UnityBase).
// A method's resultData is ctx.dataStore's current dataset when the call ends, if it was
// filled, else its default one: UnityBase code that sets currentDataName = 'select' and
// fills it works. Other datasets stay on the server. For update and delete of entities
// with JavaScript, the datasets selectBeforeUpdate / selectBeforeDelete hold the row as it
// was (one select by ID, as UnityBase's mStorage does), and insert and update with a
// fieldList fill selectAfterInsert / selectAfterUpdate.
//
// # Session
//
// Session describes the running call's store.Session: id, userID, userName, userLang
// (uData.lang, else the session's Lang, else the default language), callerIP,
// userRoles (role IDs, CSV), userRoleNames (CSV), hasRole(name), and uData — a copy of
// store.Session.UData when the security layer filled it, else {userID, login, lang,
// roles, roleIDs, groupIDs} from the session; within one call the same object, so
// listeners can extend it. Session.runAsAdmin(fn) and runAsUser(userID, fn) swap the
// session of the call (the script's Session, ELS checks and the transaction: rows written
// inside carry that user in mi_createUser/mi_modifyUser) and restore it afterwards, also
// when fn throws; they nest two levels deep, as in UnityBase. runAsUser builds the user's
// session with PoolOptions.UserSession, else from the UBA tables, and runs the "login"
// listeners for it. Session.switchLangForContext(lang) changes the language for the rest
// of the call.
//
// Session is an EventEmitter: models listen to "login", "loginFailed",
// "securityViolation", "logout" and "registration" (the Event constants), and the
// security layer emits them from Go with Pool.EmitSessionEvent (on a borrowed worker,
// under the call deadline, in a transaction of its own when PoolOptions.Store is set) or
// EmitSessionEventTx (in the caller's transaction). A throw in a listener comes back as
// the error (a "login" listener that throws refuses the login); what "login" listeners
// add to Session.uData is written to store.Session.UData. No worker is borrowed for an
// event nobody listens to. The rest endpoint emits "securityViolation" itself when ELS
// denies a call.
//
// # Endpoints
//
// CallEndpoint runs an App.registerEndpoint handler; CallRest runs
// /rest/<entity>/<method> as UnityBase's restEp: entity[method](null, req, resp) after the
// ELS check (PoolOptions.ELS), without :before/:after events. The one endpoint registered
// with isDefault (Program.DefaultEndpoint; two are a load error) serves paths whose first
// segment is no endpoint. App "getAppInfo" listeners extend the getAppInfo answer
// (Pool.ExtendAppInfo), run once when the server mounts the models, not per request.
//
// # Errors
//
// Failures are *Error values carrying a UnityBase errCode, an HTTP status and a client
// message: UBAbort and any message with <<<...>>> reach the client as written (status
// 500); ESecurityException is 403, errCode 8, "Access deny"; storage and UBQL errors
// thrown through a binding and not caught keep their own codes; everything else is
// "Internal server error" for the client and the full message, file:line:col and JS
// stack for the log. Load errors name the model, the file, the position and the stack.
//
// # Known gaps
//
// Nested calls made by scripts run as server-side ("internal") calls through
// store.Tx.DoInternal, without the client restrictions of an external session. Not
// provided: timers, Promises that wait for I/O, ES modules; Session.setUser, zone and
// tenantID; the Session events "newUserRegistration" (legacy CERT); App.endpointContext.
// App "enterConnectionContext" is not emitted: a store.Tx opens database transactions
// lazily and reads go through the connection pool, so a request has no database
// session of its own where a listener could set per-request variables (UnityBase's
// multitenancy uses it to set ub.tenantID), and a variable set on a pooled connection
// would leak into other requests.
package jsvm
