// Package store keeps entity data in SQL databases: it opens the application's connections
// (SQLite through a pure-Go driver, PostgreSQL through pgx), issues IDs, runs UBQL batches in
// transactions and implements the mStorage mixin semantics (select, insert, update, delete,
// addnew, simpleAudit, safeDelete, the optimistic lock, Many attributes, cascade delete and
// the audit trail).
//
// Identifiers in generated SQL come only from the domain; every value is a bound parameter.
package store
