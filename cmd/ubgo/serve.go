package main

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/server"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) exitCode {
	var af appFlags
	fs := newFlagSet("serve", stderr)
	af.register(fs)
	fs.Lookup("log-level").DefValue = "info"
	af.logLevel = "info"
	addr := fs.String("addr", "", "listen `address` (default from httpServer.host and httpServer.port)")
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
	srv, err := server.New(app.Config, app.Domain, log)
	if err != nil {
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
