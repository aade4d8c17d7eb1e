// Package app runs an application from start to stop: it is what `ubgo serve` does, and
// the top of the package arrows (it imports everything; nothing imports it).
//
// # Startup phases
//
// Start builds the first generation in named, timed phases, then listens:
//
//	config    read and check ubconfig.json (boot.LoadConfig)
//	domain    load the models' metadata, run the transformation hooks (boot.BuildDomain)
//	store     open the databases; on the very first start create and initialize them
//	          (the admin password is Options.AdminPassword or a generated one, printed
//	          once); on an existing database warn when its schema differs from the domain
//	runtime   compile and evaluate the models' JavaScript (App "domainIsLoaded" fires
//	          here), create the worker pool
//	security  the security service (see security.go)
//	server    the HTTP handler: built-in and model endpoints, /stat, error hooks
//	listen    open the listener
//
// Every phase is logged with its duration ("phase done", phase=..., gen=...), and the
// "listening" line sums them up (startup=..., phases="config=... domain=..."); Phases
// returns them. A phase that fails ends Start with a *lifecycle.PhaseError naming the
// phase and wrapping the typed error of the failing package (file, line, JSON path),
// after the completed phases have been undone in reverse order (store closed, pool
// closed...) and the Go error hooks have been told (source "startup").
//
// # Hooks
//
// Go code registers hooks on the lifecycle.Hooks of Options.Hooks (Hooks returns it):
// ready hooks run once the server listens, shutdown hooks once in-flight requests have
// finished, error hooks receive unhandled failures. Models register with
// App.on('ready'|'shutdown'|'error', fn) (see jsvm.AppEventReady); those run once per
// generation on one borrowed worker. Order on shutdown: the Go shutdown hooks, then the
// models' "shutdown" listeners, then the error events still queued are delivered, then
// the server's folders, the pool and the databases close. App.ReportError reports the
// failures of background work; Options.Mount adds the embedding program's endpoints to
// every generation.
//
// # Generations and reload
//
// Everything built from the configuration (config, domain, store, program, pool, HTTP
// handler) is one immutable Generation. The listener serves whichever generation is
// current (an atomic pointer); each request holds its generation until it finishes.
// Reload (SIGHUP, or Watch in development) builds a new generation with the same phases
// and swaps it in; requests already running finish on the old one, which is closed once
// its last request has left (or ShutdownTimeout after the swap, whichever is first). A
// reload that fails in any phase changes nothing: the current generation keeps serving,
// and the error (a *lifecycle.PhaseError with the file or JSON path) is logged and
// reported to the error hooks. Generation numbers count successful builds: 1, 2, 3...
//
// Each generation opens its own database connections: a store is bound to its domain,
// and two pools on one database for the few moments the generations overlap are safe
// (PostgreSQL sequences and SQLite's locked writer keep IDs unique). A reload never
// creates a database and never migrates: like a start on an existing database it warns
// when the schema differs from the new domain ("ubgo migrate" applies it). The listen
// address and the HTTP timeouts belong to the listener: a reload logs a warning when
// they changed, and a restart applies them.
//
// # Shutdown
//
// When the context given to Run ends: /ready answers 503, DrainDelay passes, the
// listener closes, in-flight requests get ShutdownTimeout to finish (those still running
// are then cut off: their contexts are cancelled, which interrupts their JavaScript), a
// reload in progress is abandoned, the generations being retired drain, the shutdown
// hooks run, and the pool and the databases close. Abort forces it: the waits end at
// once, remaining hooks are skipped, resources still close, and Run returns ErrForced.
package app
