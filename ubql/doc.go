// Package ubql implements UnityBase's query language (UBQL, reference §4): it decodes the
// /ubql request body strictly, encodes responses in UnityBase's format, and compiles select
// requests into parameterised SQL for the dialects of package store/dialect.
//
// Security model. Client text never reaches SQL as text. Every expression (fieldList,
// whereList, orderList, groupList, logicalPredicates, custom conditions) is tokenized and
// parsed into a small syntax tree; identifiers are resolved against the domain and written
// with dialect.Ident, functions come from an allow-list for external (client) requests, and
// every value, string literal included, is a bound parameter. Requests from clients are
// compiled with CompileOptions.External set, which also rejects sub-selects, semicolons,
// comments and non-simple expressions in fieldList, orderList and groupList.
//
// Limits on the size and shape of requests are named constants (limits.go); breaking one is
// an *Error naming the limit.
//
// Compiled SQL is cached by request shape (everything but the values), so that the hot path
// of a repeated request only binds new arguments. A Compiler is safe for concurrent use.
//
// The package does not execute SQL: package store runs what Select returns and adds the
// server's own where items (safeDelete, RLS, ...) to a Request before compiling it.
package ubql
