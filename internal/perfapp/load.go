package perfapp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/ubgo/ubgo/config"
	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/dialect"
	"github.com/ubgo/ubgo/ubql"
)

// LoadOptions adjust Load.
type LoadOptions struct {
	// Force reloads World and Fortune even when they already hold the expected rows.
	Force bool
	// KeepItems keeps the tst_item rows of earlier runs; by default they are deleted, so
	// that every run starts with the same table.
	KeepItems bool
	// Seed makes the random numbers of World reproducible; 0 means 1.
	Seed uint64
}

// LoadResult says what Load did.
type LoadResult struct {
	Worlds, Fortunes int  // rows written (0 when they were already there)
	ItemsDeleted     bool // tst_item was emptied
}

// Load brings the perf database to its starting state: migrated and seeded (store.Init,
// which does nothing on a database that is already), World with IDs 1..Worlds and a
// random number 1..10000 each, Fortune with the TechEmpower rows, tst_item empty, and
// the access the perf scenarios need with security on (an ELS rule for tst_* and the
// perf endpoints granted to Everyone). Rows go in through the store's own insert path
// (server-side session), in one transaction.
func Load(ctx context.Context, st *store.Store, opt LoadOptions) (LoadResult, error) {
	var res LoadResult
	if !hasModel(st.Domain) {
		return res, errors.New("perfapp: the domain has no perf model (tst_world, tst_fortune, tst_item): load perf/ubconfig.*.json")
	}
	if _, err := st.Init(ctx, store.InitOptions{}); err != nil {
		return res, fmt.Errorf("perfapp: initialize the database: %w", err)
	}
	c := st.ConnOf(st.Domain.Entity(WorldEntity))
	worlds, err := count(ctx, c, "tst_world")
	if err != nil {
		return res, err
	}
	fortunes, err := count(ctx, c, "tst_fortune")
	if err != nil {
		return res, err
	}
	tx := st.Begin(store.System)
	defer tx.Rollback()
	w, err := tx.Writer(ctx, c)
	if err != nil {
		return res, err
	}
	if !opt.KeepItems {
		q := "DELETE FROM tst_item"
		if c.Dialect.Name() == dialect.PostgreSQL {
			q = "TRUNCATE tst_item"
		}
		if _, err := w.ExecContext(ctx, q); err != nil {
			return res, fmt.Errorf("perfapp: empty tst_item: %w", err)
		}
		res.ItemsDeleted = true
	}
	if opt.Force || worlds != Worlds {
		if _, err := w.ExecContext(ctx, "DELETE FROM tst_world"); err != nil {
			return res, fmt.Errorf("perfapp: empty tst_world: %w", err)
		}
		seed := opt.Seed
		if seed == 0 {
			seed = 1
		}
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		for id := int64(1); id <= Worlds; id++ {
			if _, err := tx.DoInternal(ctx, &ubql.Request{Entity: WorldEntity, Method: "insert",
				ExecParams: map[string]any{"ID": id, "randomNumber": int64(rng.IntN(10_000) + 1)}}); err != nil {
				return res, fmt.Errorf("perfapp: insert world %d: %w", id, err)
			}
		}
		res.Worlds = Worlds
	}
	if opt.Force || fortunes != len(Fortunes) {
		if _, err := w.ExecContext(ctx, "DELETE FROM tst_fortune"); err != nil {
			return res, fmt.Errorf("perfapp: empty tst_fortune: %w", err)
		}
		for _, f := range Fortunes {
			if _, err := tx.DoInternal(ctx, &ubql.Request{Entity: FortuneEntity, Method: "insert",
				ExecParams: map[string]any{"ID": f.ID, "message": f.Message}}); err != nil {
				return res, fmt.Errorf("perfapp: insert fortune %d: %w", f.ID, err)
			}
		}
		res.Fortunes = len(Fortunes)
	}
	if err := grantAccess(ctx, tx, st); err != nil {
		return res, err
	}
	if err := tx.Commit(); err != nil {
		return res, err
	}
	if c.Dialect.Name() == dialect.PostgreSQL && (res.Worlds > 0 || res.ItemsDeleted) {
		// Fresh statistics, so the planner uses the primary key from the first request on.
		for _, t := range []string{"tst_world", "tst_fortune", "tst_item"} {
			if _, err := c.Write.ExecContext(ctx, "ANALYZE "+t); err != nil {
				return res, fmt.Errorf("perfapp: analyze %s: %w", t, err)
			}
		}
	}
	return res, nil
}

// PerfELSCode is the access rule Load adds: Everyone may call every method of the perf
// model's entities (tst_*).
const PerfELSCode = "TST_PERF_EVERYONE"

// perfEndpoints are the endpoints Load grants to Everyone (uba_role.allowedAppMethods),
// so that the perf application also runs with security on: in UnityBase's "authentication
// not used" mode (security.authenticationMethods empty) every request is the anonymous
// user, whose roles go through the ELS matrix and the endpoint grants like any other.
var perfEndpoints = []string{"ubql", "perfjs", "_perfgo"}

// grantAccess adds the access rule and endpoint grants of the perf model, once.
func grantAccess(ctx context.Context, tx *store.Tx, st *store.Store) error {
	els, roles := st.Domain.Entity("uba_els"), st.Domain.Entity("uba_role")
	if els == nil || roles == nil {
		return nil // no UBA model: no security to satisfy
	}
	c := st.ConnOf(els)
	w, err := tx.Writer(ctx, c)
	if err != nil {
		return err
	}
	d := c.Dialect
	var n int
	if err := w.QueryRowContext(ctx, "SELECT COUNT(*) FROM uba_els WHERE code = "+d.Placeholder(1), PerfELSCode).Scan(&n); err != nil {
		return fmt.Errorf("perfapp: read uba_els: %w", err)
	}
	if n == 0 {
		if _, err := tx.DoInternal(ctx, &ubql.Request{Entity: "uba_els", Method: "insert", ExecParams: map[string]any{
			"code": PerfELSCode, "entityMask": "tst_*", "methodMask": "*", "ruleType": "A", "ruleRole": store.RoleEveryone,
			"description": "perf application: Everyone may use the TST model"}}); err != nil {
			return fmt.Errorf("perfapp: add the access rule: %w", err)
		}
	}
	var methods sql.NullString
	if err := w.QueryRowContext(ctx, "SELECT allowedAppMethods FROM uba_role WHERE ID = "+d.Placeholder(1), store.RoleEveryone).Scan(&methods); err != nil {
		return fmt.Errorf("perfapp: read the Everyone role: %w", err)
	}
	list := strings.Split(methods.String, ",")
	changed := false
	for _, ep := range perfEndpoints {
		if !slices.Contains(list, ep) {
			list, changed = append(list, ep), true
		}
	}
	if changed {
		v := strings.Trim(strings.Join(list, ","), ",")
		if _, err := w.ExecContext(ctx, "UPDATE uba_role SET allowedAppMethods = "+d.Placeholder(1)+" WHERE ID = "+d.Placeholder(2), v, store.RoleEveryone); err != nil {
			return fmt.Errorf("perfapp: grant the perf endpoints: %w", err)
		}
	}
	return nil
}

func count(ctx context.Context, c *store.Conn, table string) (int, error) {
	var n int
	if err := c.Write.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		return 0, fmt.Errorf("perfapp: count %s: %w", table, err)
	}
	return n, nil
}

// LoadApp boots the perf application of bo, opens its database (creating it when missing)
// and loads it (Load). With fresh it first removes what an earlier run left: the SQLite
// file, or the PostgreSQL schema with everything in it.
func LoadApp(ctx context.Context, bo boot.Options, fresh bool, opt LoadOptions) (LoadResult, error) {
	app, err := boot.Load(ctx, bo)
	if err != nil {
		return LoadResult{}, err
	}
	if fresh {
		if err := dropDatabases(ctx, app.Config); err != nil {
			return LoadResult{}, err
		}
	}
	st, err := store.Open(ctx, app.Config, app.Domain, store.Options{Create: true, Logger: bo.Logger})
	if err != nil {
		return LoadResult{}, err
	}
	defer st.Close()
	return Load(ctx, st, opt)
}

// dropDatabases removes the databases of every connection of cfg: SQLite files (with their
// -wal and -shm) and PostgreSQL schemas. Only the perf loader calls it, on the perf
// application's own databases.
func dropDatabases(ctx context.Context, cfg *config.Config) error {
	for _, c := range cfg.Application.Connections {
		name := c.Dialect
		if name == "" {
			name = c.Driver
		}
		switch name {
		case dialect.PostgreSQL:
			pc, schema, err := store.PostgresConfig(c)
			if err != nil {
				return err
			}
			if schema == "public" {
				return fmt.Errorf("perfapp: connection %s uses schema public; give the perf database a schema of its own (search_path) before asking for a fresh load", c.Name)
			}
			db := stdlib.OpenDB(*pc)
			_, err = db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			db.Close()
			if err != nil {
				return fmt.Errorf("perfapp: drop schema %s: %w", schema, err)
			}
		default:
			path := c.DatabaseName
			if !filepath.IsAbs(path) {
				path = filepath.Join(cfg.Dir, path)
			}
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("perfapp: %w", err)
				}
			}
		}
	}
	return nil
}
