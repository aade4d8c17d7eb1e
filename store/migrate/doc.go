// Package migrate keeps the schema of a database in step with the domain: it derives the
// tables, columns, keys, indexes, checks and ID generator objects the domain's Normal
// entities need (UnityBase's DDL rules, reference §11), inspects what the database has,
// and plans and applies the difference.
//
// The contract:
//
//   - NewPlan only reads. Its statements are ordered in UnityBase's statement groups
//     (drops first, then tables and columns, data fixes, constraints, dropped columns last).
//   - Apply runs a plan in one transaction, all or nothing.
//   - Statements that lose data (a dropped column, a narrowed type) are marked Destructive,
//     with the reason in Why. Apply refuses a plan that has any unless the caller allows
//     them; it never applies only the safe part. Dropping an index or a constraint is not
//     destructive: the data stays.
//   - After a successful Apply, NewPlan on the same database and domain returns an empty
//     plan, on every dialect.
//   - Apply (and Stamp, for an empty plan) records a fingerprint of the desired schema
//     in the table ubgo_schema_stamp, in the same transaction as the statements. Stamped
//     compares it with the current domain's fingerprint without reading the catalog: the
//     cheap check a server start makes. It cannot notice changes made by hand; NewPlan
//     always inspects. The stamp table is neither planned nor reported.
//   - Tables that belong to no entity of the target connection are never touched; they
//     are reported as warnings. A table whose entity was removed from the domain cannot be
//     told apart from a foreign one, so it is reported, not dropped.
//
// SQLite cannot alter a column or add a constraint to an existing table; such changes
// rebuild the table (create a new one, copy the rows, drop the old one, rename), with
// foreign key enforcement off during the transaction and PRAGMA foreign_key_check on the
// rebuilt tables before the commit. New nullable columns, or NOT NULL ones with a constant
// default, are added with ALTER TABLE ADD COLUMN.
//
// What is compared: tables and columns by name, ignoring case; column types in a
// canonical spelling (character varying(32) is VARCHAR(32)); defaults by value ('-1'::integer
// is -1); primary keys and foreign keys by their columns and target, not their names
// (SQLite does not report constraint names); indexes by name and definition; checks by name
// only (PostgreSQL rewrites check expressions), so a changed check needs a new name. A
// renamed attribute or table is a drop and an add. Tables are also not checked for views
// or triggers: a SQLite rebuild of a table a view depends on fails.
//
// The package does not import package store (store uses it); callers pass the *sql.DB to
// migrate and a Target describing the connection.
package migrate
