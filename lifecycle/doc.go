// Package lifecycle holds the pieces of a server's life that do not depend on what is
// served: named startup phases with their timings and cleanups (Sequence), and the hooks
// Go code and models register to run when the server is ready, when it shuts down and
// when something fails (Hooks).
//
// It imports only the standard library, so that the server, the JavaScript runtime and
// the command that wires them can all use it.
//
// # Phases
//
// A Sequence runs named phases in order, logs and records how long each took, and
// remembers the cleanups the phases registered. When a phase fails, its error comes back
// as a *PhaseError naming the phase, and the caller runs Cleanup, which undoes the
// completed phases in reverse order (the idea of Ts.ED's $onServerInitError: a failed
// start leaves nothing open).
//
// # Hooks
//
//	ready     after the server listens; in registration order. A failing ready hook is
//	          logged and reported to the error hooks; the server keeps serving.
//	shutdown  after in-flight requests have finished; in registration order, each under
//	          its own timeout. A hook that fails, panics or outlives its timeout is logged
//	          and skipped, and the next one runs. (A Go function cannot be killed: a hook
//	          that ignores its context keeps its goroutine until it returns.)
//	error     an unhandled failure: a request that panicked or ended in a 500 that is
//	          not a deliberate business error, a failing hook, a failed reload, background
//	          work. Report never blocks the caller: events are delivered in order on a
//	          goroutine of their own, and dropped (and counted) when more than
//	          ErrorQueueSize wait.
//
// Hook functions get a context that ends at their timeout or when the shutdown is forced;
// they should return when it ends.
package lifecycle
