package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/migrate"
)

// openStore loads the application and opens its databases.
func openStore(ctx context.Context, af *appFlags, stderr io.Writer, create bool) (*boot.App, *store.Store, exitCode) {
	log, err := af.logger(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "ubgo:", err)
		return nil, nil, 2
	}
	app, err := boot.Load(ctx, boot.Options{ConfigFile: af.cfg, EnvFile: af.env, Logger: log})
	if err != nil {
		printErrors(stderr, err)
		return nil, nil, 1
	}
	st, err := store.Open(ctx, app.Config, app.Domain, store.Options{Create: create, Logger: log})
	if err != nil {
		printErrors(stderr, err)
		return nil, nil, 1
	}
	return app, st, -1
}

func runInit(ctx context.Context, args []string, stdout, stderr io.Writer) exitCode {
	var af appFlags
	fs := newFlagSet("init", stderr)
	af.register(fs)
	pwd := fs.String("p", "", "admin `password` (default $UBGO_ADMIN_PASSWORD, else a generated one, printed once)")
	clientNum := fs.Int("c", 3, "client `number`: the prefix of the ID space")
	allow := fs.Bool("allow-destructive", false, "apply schema changes that lose data (dropped columns, narrowed types)")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if *pwd == "" {
		*pwd = os.Getenv("UBGO_ADMIN_PASSWORD")
	}
	_, st, code := openStore(ctx, &af, stderr, true)
	if code >= 0 {
		return code
	}
	defer st.Close()
	res, err := st.Init(ctx, store.InitOptions{AdminPassword: *pwd, ClientNum: *clientNum, AllowDestructive: *allow})
	if err != nil {
		printErrors(stderr, err)
		return 1
	}
	for _, p := range res.Plans {
		fmt.Fprintf(stdout, "connection %s (%s): %d schema statements applied\n", p.Conn.Name, p.Conn.Dialect.Name(), len(p.Plan.Statements))
	}
	switch {
	case !res.Seeded:
		fmt.Fprintln(stdout, "built-in users exist already; passwords unchanged")
	case res.GeneratedPassword:
		fmt.Fprintf(stdout, "built-in users created; admin password (shown once): %s\n", res.AdminPassword)
	default:
		fmt.Fprintln(stdout, "built-in users created; admin password as given")
	}
	return 0
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) exitCode {
	var af appFlags
	fs := newFlagSet("migrate", stderr)
	af.register(fs)
	dry := fs.Bool("dry-run", false, "print the SQL and change nothing")
	allow := fs.Bool("allow-destructive", false, "apply schema changes that lose data (dropped columns, narrowed types)")
	clientNum := fs.Int("c", 3, "client `number`: the prefix of the ID space (for a new ID generator)")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	_, st, code := openStore(ctx, &af, stderr, false)
	if code >= 0 {
		return code
	}
	defer st.Close()
	plans, err := st.Migrate(ctx, store.MigrateOptions{DryRun: *dry, AllowDestructive: *allow, ClientNum: *clientNum})
	for _, p := range plans {
		printPlan(stdout, p, *dry || err != nil)
	}
	if err != nil {
		var de *migrate.DestructiveError
		if errors.As(err, &de) {
			fmt.Fprintln(stderr, "error:", err)
			fmt.Fprintln(stderr, "nothing was changed; run again with --allow-destructive to apply these")
			return 1
		}
		printErrors(stderr, err)
		return 1
	}
	return 0
}

// printPlan prints a connection's plan as an SQL script; warnings become comments.
func printPlan(w io.Writer, p store.ConnPlan, planned bool) {
	verb := "applied"
	if planned {
		verb = "planned"
	}
	fmt.Fprintf(w, "-- connection %s (%s): %d statements %s", p.Conn.Name, p.Conn.Dialect.Name(), len(p.Plan.Statements), verb)
	if n := len(p.Plan.Destructive()); n > 0 {
		fmt.Fprintf(w, ", %d of them destructive", n)
	}
	fmt.Fprintln(w)
	for _, warn := range p.Plan.Warnings {
		fmt.Fprintln(w, "-- warning:", strings.ReplaceAll(warn, "\n", " "))
	}
	if !p.Plan.Empty() {
		fmt.Fprint(w, p.Plan.Script(true))
	}
}
