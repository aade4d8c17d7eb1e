package store

import (
	"context"
	"fmt"

	"github.com/ubgo/ubgo/store/migrate"
)

// ConnPlan is the migration plan of one connection.
type ConnPlan struct {
	Conn *Conn
	Plan *migrate.Plan
}

// MigrateOptions adjust Migrate.
type MigrateOptions struct {
	DryRun           bool // plan only
	AllowDestructive bool // apply statements that lose data (dropped columns, narrowed types)
	ClientNum        int  // prefix of the ID space; 0 means 3
}

// Plan compares every connection's database with the domain.
func (s *Store) Plan(ctx context.Context, clientNum int) ([]ConnPlan, error) {
	var out []ConnPlan
	for _, c := range s.Conns {
		p, err := migrate.NewPlan(ctx, c.Write, s.target(c, clientNum))
		if err != nil {
			return nil, fmt.Errorf("connection %q: %w", c.Name, err)
		}
		out = append(out, ConnPlan{Conn: c, Plan: p})
	}
	return out, nil
}

// Drift is the cheap form of Plan that server starts use: a connection whose database
// carries the stamp of the domain's current schema (written by the last successful
// Migrate or Init) is not inspected and not returned; the others are compared in full.
// It cannot see changes made to a stamped database by hand; Plan (ubgo migrate
// --dry-run) always inspects the catalog.
func (s *Store) Drift(ctx context.Context) ([]ConnPlan, error) {
	var out []ConnPlan
	for _, c := range s.Conns {
		t := s.target(c, 0)
		ok, err := migrate.Stamped(ctx, c.Write, t)
		if err != nil {
			return nil, fmt.Errorf("connection %q: %w", c.Name, err)
		}
		if ok {
			continue
		}
		p, err := migrate.NewPlan(ctx, c.Write, t)
		if err != nil {
			return nil, fmt.Errorf("connection %q: %w", c.Name, err)
		}
		out = append(out, ConnPlan{Conn: c, Plan: p})
	}
	return out, nil
}

func (s *Store) target(c *Conn, clientNum int) migrate.Target {
	return migrate.Target{Domain: s.Domain, Dialect: c.Dialect, Connection: c.Name,
		IsDefault: c == s.def, DefaultLang: c.DefaultLang, Langs: c.Langs, Schema: c.Schema, ClientNum: clientNum}
}

// Migrate brings every connection's database to the schema the domain describes and returns
// the plans it applied (or, with DryRun, would apply). Destructive statements are refused
// unless AllowDestructive is set: then nothing at all is applied and the error lists them.
func (s *Store) Migrate(ctx context.Context, opt MigrateOptions) ([]ConnPlan, error) {
	plans, err := s.Plan(ctx, opt.ClientNum)
	if err != nil || opt.DryRun {
		return plans, err
	}
	if !opt.AllowDestructive {
		for _, p := range plans {
			if len(p.Plan.Destructive()) > 0 {
				return plans, fmt.Errorf("connection %q: %w", p.Conn.Name, &migrate.DestructiveError{Statements: p.Plan.Destructive()})
			}
		}
	}
	for _, p := range plans {
		if p.Plan.Empty() {
			// Nothing to change, but record that the schema matches the domain, so
			// that the next start can skip the comparison (see Drift).
			if err := migrate.Stamp(ctx, p.Conn.Write, p.Plan); err != nil {
				return plans, fmt.Errorf("connection %q: %w", p.Conn.Name, err)
			}
			continue
		}
		if err := migrate.Apply(ctx, p.Conn.Write, p.Plan, opt.AllowDestructive); err != nil {
			return plans, fmt.Errorf("connection %q: %w", p.Conn.Name, err)
		}
	}
	return plans, nil
}
