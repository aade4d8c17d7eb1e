package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/ubgo/ubgo/store"
)

// prepareDatabase finishes the store phase. On the first start, a database the store has
// just created is initialized (so the first start of an application needs no separate
// "ubgo init"): tables, the built-in users and roles, the admin password. An existing
// database is never changed: when its schema differs from the domain, a warning says how
// to see and apply the difference. The comparison is skipped when the database carries the
// stamp of the domain's schema (see store.Drift). A reload (first == false) never creates anything.
func prepareDatabase(ctx context.Context, st *store.Store, log *slog.Logger, first bool, adminPassword string, stderr io.Writer) error {
	created := false
	for _, c := range st.Conns {
		created = created || c.Created
	}
	if created && first {
		res, err := st.Init(ctx, store.InitOptions{AdminPassword: adminPassword})
		if err != nil {
			return fmt.Errorf("initialize the new database: %w", err)
		}
		statements := 0
		for _, p := range res.Plans {
			statements += len(p.Plan.Statements)
		}
		log.Info("database created", "statements", statements)
		if res.GeneratedPassword {
			// Printed once, on the console of whoever started the server the first time;
			// never logged.
			fmt.Fprintf(stderr, "\n  admin password (shown once; set UBGO_ADMIN_PASSWORD to choose it): %s\n\n", res.AdminPassword)
		}
		return nil
	}
	// Drift skips the catalog comparison when the database carries the stamp of the
	// domain's schema that the last migrate or init wrote: at 1,000 entities the full
	// comparison is most of the store phase.
	plans, err := st.Drift(ctx)
	if err != nil {
		log.Warn("cannot compare the database with the domain", "err", err)
		return nil
	}
	for _, p := range plans {
		if !p.Plan.Empty() {
			log.Warn("the database schema differs from the domain; run \"ubgo migrate --dry-run\" to see how",
				"connection", p.Conn.Name, "statements", len(p.Plan.Statements))
		}
	}
	if ok, err := st.Seeded(ctx); err == nil && !ok {
		log.Warn("the database has no built-in users; run \"ubgo init\"")
	}
	return nil
}
