package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/runtime/jsvm"
	"github.com/ubgo/ubgo/server"
	"github.com/ubgo/ubgo/store"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) exitCode {
	var af appFlags
	fs := newFlagSet("serve", stderr)
	af.register(fs)
	fs.Lookup("log-level").DefValue = "info"
	af.logLevel = "info"
	addr := fs.String("addr", "", "listen `address` (default from httpServer.host and httpServer.port)")
	dev := fs.Bool("dev", false, "development mode: clients see the text of unexpected errors")
	devAdmin := fs.Bool("dev-anonymous-admin", false, "LOCAL DEVELOPMENT ONLY: run requests without a session as the admin user (until authentication is built)")
	maxBody := fs.Int64("max-body", server.DefaultMaxBodyBytes, "largest request body in `bytes`")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	log, err := af.logger(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "ubgo serve:", err)
		return 2
	}
	app, err := boot.Load(ctx, boot.Options{ConfigFile: af.cfg, EnvFile: af.env, Logger: log})
	if err != nil {
		printErrors(stderr, err)
		return 1
	}
	st, err := store.Open(ctx, app.Config, app.Domain, store.Options{Create: true, Logger: log})
	if err != nil {
		printErrors(stderr, err)
		return 1
	}
	defer st.Close()
	if code := prepareDatabase(ctx, st, log); code >= 0 {
		return code
	}
	prog, err := jsvm.Load(ctx, app.Domain, app.Config, log)
	if err != nil {
		printErrors(stderr, err)
		return 1
	}
	log.Info("model JavaScript loaded", "endpoints", len(prog.Endpoints()), "duration", prog.LoadTime())
	pool := jsvm.NewPool(prog, jsvm.PoolOptions{})
	defer pool.Close()
	srv, err := server.NewWithOptions(app.Config, app.Domain, log, server.Options{
		Dispatcher: &jsvm.Dispatcher{Store: st, Pool: pool}, Dev: *dev, DevAnonymousAdmin: *devAdmin,
		MaxBodyBytes: *maxBody, EntityMethods: func(e *domain.Entity) []string { return prog.Methods(e.Name) },
		Stats: func() map[string]any { return map[string]any{"pool": pool.Stats()} }})
	if err != nil {
		fmt.Fprintln(stderr, "ubgo serve:", err)
		return 1
	}
	defer srv.Close()
	if err := srv.MountJS(pool, st); err != nil {
		fmt.Fprintln(stderr, "ubgo serve:", err)
		return 1
	}
	if *addr == "" {
		*addr = server.Addr(app.Config.HTTPServer)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "ubgo serve:", err)
		return 1
	}
	log.Info("listening", "url", "http://"+ln.Addr().String()+app.Config.HTTPServer.Path,
		"entities", len(app.Domain.Entities), "config", app.Config.File)
	if err := srv.Run(ctx, ln); err != nil {
		fmt.Fprintln(stderr, "ubgo serve:", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// prepareDatabase initializes a database the store has just created (the first start of
// an application needs no separate "ubgo init"), and warns when an existing one differs
// from the domain.
func prepareDatabase(ctx context.Context, st *store.Store, log *slog.Logger) exitCode {
	created := false
	for _, c := range st.Conns {
		created = created || c.Created
	}
	if created {
		res, err := st.Init(ctx, store.InitOptions{AdminPassword: os.Getenv("UBGO_ADMIN_PASSWORD")})
		if err != nil {
			log.Error("initialize the database", "err", err)
			return 1
		}
		statements := 0
		for _, p := range res.Plans {
			statements += len(p.Plan.Statements)
		}
		log.Info("database created", "statements", statements)
		if res.GeneratedPassword {
			// Printed once, on the console of whoever started the server the first time.
			fmt.Fprintf(os.Stderr, "\n  admin password (shown once; set UBGO_ADMIN_PASSWORD to choose it): %s\n\n", res.AdminPassword)
		}
		return -1
	}
	plans, err := st.Plan(ctx, 0)
	if err != nil {
		log.Warn("cannot compare the database with the domain", "err", err)
		return -1
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
	return -1
}
