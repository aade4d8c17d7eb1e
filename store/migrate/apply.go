package migrate

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"github.com/ubgo/ubgo/store/dialect"
)

// ErrDestructive is what a *DestructiveError matches with errors.Is.
var ErrDestructive = errors.New("migrate: the plan loses data")

// DestructiveError refuses a plan with destructive statements that the caller did not
// allow. Nothing was executed.
type DestructiveError struct {
	Statements []Statement
}

func (e *DestructiveError) Error() string {
	var b strings.Builder
	b.WriteString("migrate: the plan loses data; nothing was changed (allow destructive changes to apply it):")
	seen := map[string]bool{}
	for _, s := range e.Statements {
		if !seen[s.Why] {
			seen[s.Why] = true
			b.WriteString("\n  - " + s.Why)
		}
	}
	return b.String()
}

func (e *DestructiveError) Unwrap() error { return ErrDestructive }

// Apply executes the plan in one transaction: either every statement takes effect or none.
// The same transaction records the plan's fingerprint in StampTable (see Stamped); an
// empty plan changes nothing (use Stamp to record it).
// A plan with destructive statements is refused with a *DestructiveError unless
// allowDestructive is set; the non-destructive part is not applied alone, because a schema
// half-way between two domains is one neither the old nor the new server expects.
//
// On SQLite, Apply turns foreign key enforcement off for the migration (the table rebuild
// requires it; the pragma cannot change inside a transaction), checks the rebuilt tables
// with PRAGMA foreign_key_check before committing, and turns enforcement back on. db must
// be the database the plan was made for; on PostgreSQL, search_path is set to its schema.
func Apply(ctx context.Context, db *sql.DB, p *Plan, allowDestructive bool) error {
	if p.Empty() {
		return nil
	}
	if d := p.Destructive(); len(d) > 0 && !allowDestructive {
		return &DestructiveError{Statements: d}
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if p.Dialect == dialect.SQLite3 {
		restore, err := sqliteForeignKeysOff(ctx, conn)
		if err != nil {
			return err
		}
		defer restore()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	defer tx.Rollback() // after Commit it does nothing
	if err := setSearchPath(ctx, tx, p); err != nil {
		return err
	}
	for i, s := range p.Statements {
		if _, err := tx.ExecContext(ctx, s.SQL); err != nil {
			return fmt.Errorf("migrate: statement %d of %d failed, nothing was changed: %w\n-- %s: %s\n%s",
				i+1, len(p.Statements), err, s.Group, s.Why, s.SQL)
		}
	}
	for _, t := range p.fkCheck {
		if err := sqliteCheckFKs(ctx, tx, t); err != nil {
			return err
		}
	}
	// The stamp is written in the same transaction: it says what the schema is exactly
	// when the schema is that.
	if err := writeStamp(ctx, tx, p); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

// sqliteForeignKeysOff turns foreign key enforcement off on conn and returns the function
// that turns it back on. When that fails the connection is discarded rather than returned
// to the pool without enforcement.
func sqliteForeignKeysOff(ctx context.Context, conn *sql.Conn) (func(), error) {
	var on bool
	if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on); err != nil {
		return nil, fmt.Errorf("migrate: read PRAGMA foreign_keys: %w", err)
	}
	if !on {
		return func() {}, nil
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		return nil, fmt.Errorf("migrate: turn foreign keys off: %w", err)
	}
	return func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON"); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}, nil
}

// sqliteCheckFKs fails when rows of table t point at rows that do not exist, which the
// rebuild could not notice with enforcement off.
func sqliteCheckFKs(ctx context.Context, tx *sql.Tx, t string) error {
	rows, err := tx.QueryContext(ctx, "SELECT \"table\", rowid, parent FROM pragma_foreign_key_check(?)", t)
	if err != nil {
		return fmt.Errorf("migrate: check foreign keys of %s: %w", t, err)
	}
	defer rows.Close()
	var bad []string
	for rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		if err := rows.Scan(&table, &rowid, &parent); err != nil {
			return fmt.Errorf("migrate: check foreign keys of %s: %w", t, err)
		}
		if len(bad) < 10 {
			bad = append(bad, fmt.Sprintf("row %d of %s points to a missing row of %s", rowid.Int64, table, parent))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("migrate: check foreign keys of %s: %w", t, err)
	}
	if len(bad) > 0 {
		return fmt.Errorf("migrate: after rebuilding %s: %s", t, strings.Join(bad, "; "))
	}
	return nil
}
