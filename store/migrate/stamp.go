package migrate

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ubgo/ubgo/store/dialect"
)

// StampTable is the table in which Apply records the fingerprint of the schema it brought
// the database to, one row per connection. It belongs to ubgo, not to any entity: NewPlan
// neither plans it nor reports it as a foreign table.
const StampTable = "ubgo_schema_stamp"

// stampFormat changes whenever what the fingerprint covers, or how desired schemas are
// derived, changes: a database stamped by another version is then compared in full.
const stampFormat = "ubgo-schema/1"

// fingerprint is a digest of everything about the desired schema that decides a plan: the
// tables with their columns, keys, indexes and checks, the sequences, the dialect and the
// PostgreSQL schema. Two targets with the same fingerprint plan the same statements
// against the same database.
func fingerprint(t *Target, want *schema) (string, error) {
	h := sha256.New()
	enc := json.NewEncoder(h)
	err := enc.Encode(struct {
		Format, Dialect, Schema, Connection string
		Tables                              []*table
		Sequences                           []*sequence
	}{stampFormat, t.Dialect.Name(), t.Schema, t.Connection, want.tables, want.sequences})
	if err != nil {
		return "", fmt.Errorf("migrate: fingerprint the schema: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Fingerprint returns the digest of the schema the target's part of the domain wants. It
// does not look at the database.
func Fingerprint(t Target) (string, error) {
	if err := t.check(); err != nil {
		return "", err
	}
	want, _, err := desired(&t)
	if err != nil {
		return "", err
	}
	return fingerprint(&t, want)
}

// Stamped reports whether the database carries the stamp of the target's current desired
// schema: the last successful Apply (or Stamp) for this connection brought it to exactly
// the schema the domain describes now. It reads one row and does not inspect the catalog,
// so it cannot see changes made to the database by hand; NewPlan does. A database without
// the stamp table, or whose stamp cannot be read, is reported as not stamped.
func Stamped(ctx context.Context, db *sql.DB, t Target) (bool, error) {
	want, err := Fingerprint(t)
	if err != nil {
		return false, err
	}
	have, err := readStamp(ctx, db, &t)
	if err != nil {
		return false, nil //nolint:nilerr // no stamp (yet): the caller compares in full
	}
	return have == want, nil
}

// Stamp records p's fingerprint in the database without applying anything. Call it for a
// plan that is empty (the database already matches the domain); Apply stamps the plans it
// runs itself.
func Stamp(ctx context.Context, db *sql.DB, p *Plan) error {
	if p.fingerprint == "" {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	defer tx.Rollback() // after Commit it does nothing
	if err := setSearchPath(ctx, tx, p); err != nil {
		return err
	}
	if err := writeStamp(ctx, tx, p); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit the schema stamp: %w", err)
	}
	return nil
}

func setSearchPath(ctx context.Context, tx *sql.Tx, p *Plan) error {
	if p.Dialect == dialect.PostgreSQL && p.schema != "" {
		if _, err := tx.ExecContext(ctx, "SET LOCAL search_path TO "+dialect.Postgres{}.Ident(p.schema)); err != nil {
			return fmt.Errorf("migrate: set search_path to %s: %w", p.schema, err)
		}
	}
	return nil
}

// writeStamp records p's fingerprint inside tx (whose search_path is the plan's schema on
// PostgreSQL), creating the stamp table when needed.
func writeStamp(ctx context.Context, tx *sql.Tx, p *Plan) error {
	if p.fingerprint == "" {
		return nil
	}
	ph1, ph2 := "?", "?"
	if p.Dialect == dialect.PostgreSQL {
		ph1, ph2 = "$1", "$2"
	}
	stmts := []struct {
		sql  string
		args []any
	}{
		{"CREATE TABLE IF NOT EXISTS " + StampTable + " (conn_name VARCHAR(128) NOT NULL PRIMARY KEY, fingerprint VARCHAR(64) NOT NULL)", nil},
		{"DELETE FROM " + StampTable + " WHERE conn_name = " + ph1, []any{p.conn}},
		{"INSERT INTO " + StampTable + " (conn_name, fingerprint) VALUES (" + ph1 + ", " + ph2 + ")", []any{p.conn, p.fingerprint}},
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("migrate: write the schema stamp: %w", err)
		}
	}
	return nil
}

func readStamp(ctx context.Context, db *sql.DB, t *Target) (string, error) {
	table, ph := StampTable, "?"
	if !t.isSQLite() {
		table, ph = dialect.Postgres{}.Ident(t.Schema)+"."+StampTable, "$1"
	}
	var fp string
	err := db.QueryRowContext(ctx, "SELECT fingerprint FROM "+table+" WHERE conn_name = "+ph, t.Connection).Scan(&fp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return fp, err
}
