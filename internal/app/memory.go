package app

import "runtime/debug"

// releaseMemory returns the heap that building a generation left behind to the operating
// system. Loading a large domain (parsed metadata, the schema stamp check, getDomainInfo,
// the scripts) allocates several times what stays live; without this the process keeps
// those pages until the scavenger gets to them, and the resident set after the start is
// the start's peak rather than what the application needs. It runs a full collection, so
// it is called off the request path: once after the listener is open, and after a
// replaced generation is closed.
//
// The peak under load is set by the live heap (mostly the JavaScript workers) and by the
// collector's pacing (GOGC: the heap may grow to twice the live heap before a collection).
// A soft limit (the GOMEMLIMIT environment variable, e.g. GOMEMLIMIT=200MiB) makes the
// collector work harder near the limit instead; see docs/performance.md.
func releaseMemory() { debug.FreeOSMemory() }
