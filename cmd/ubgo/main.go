// Command ubgo is a metadata-driven application server, wire-compatible with UnityBase.
//
//	ubgo serve   [-cfg FILE] [-env FILE] [-addr A] serve the application over HTTP
//	ubgo init    [-cfg FILE] [-p PASSWORD]        create the database, migrate it, add the built-in users
//	ubgo migrate [-cfg FILE] [--dry-run]          bring the database schema to what the domain describes
//	ubgo check   [-cfg FILE] [-env FILE] [-T]     load the application and report problems
//	ubgo domain  [-cfg FILE] [-env FILE] [-json]  print the built domain
//	ubgo version                                  print the version
//
// -cfg defaults to $UB_CFG, else ./ubconfig.json, else ./ubConfig.json.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// exitCode distinguishes a failed check (1) from a usage error (2).
type exitCode int

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(int(code))
}

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) exitCode
}

func commands() []command {
	return []command{
		{"serve", "serve the application over HTTP (creating and initializing the database on first start)", runServe},
		{"init", "create the database, migrate it and add the built-in users, roles and access rules", runInit},
		{"migrate", "compare the database with the domain and apply the difference (--dry-run prints the SQL)", runMigrate},
		{"check", "load the application (config, models, metadata, hooks) and report every problem", runCheck},
		{"domain", "print the built domain (models, entities, attributes)", runDomain},
		{"version", "print the ubgo version and the UnityBase version it is compatible with", runVersion},
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) exitCode {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "ubgo: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "ubgo: a metadata-driven application server, wire-compatible with UnityBase")
	fmt.Fprintln(w, "\nUsage: ubgo <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'ubgo <command> -h' for the flags of a command.")
}

// appFlags are the flags every command that loads an application takes.
type appFlags struct {
	cfg, env string
	logLevel string
}

func (f *appFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.cfg, "cfg", "", "application config `file` (default $UB_CFG, else ./ubconfig.json, else ./ubConfig.json)")
	fs.StringVar(&f.env, "env", "", "optional .env `file` with KEY=VALUE lines (default $UB_ENV); never overrides the environment")
	fs.StringVar(&f.logLevel, "log-level", "warn", "log `level`: debug, info, warn or error")
}

func (f *appFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, fmt.Errorf("-log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), nil
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("ubgo "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses flags and rejects stray arguments.
func parse(fs *flag.FlagSet, args []string) exitCode {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return 2
	}
	return -1
}

// printErrors prints every error of a joined error on its own line.
func printErrors(w io.Writer, err error) {
	var list []error
	var stack []error
	stack = append(stack, err)
	for len(stack) > 0 {
		e := stack[0]
		stack = stack[1:]
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			stack = append(j.Unwrap(), stack...)
			continue
		}
		list = append(list, e)
	}
	for _, e := range list {
		fmt.Fprintln(w, "error:", strings.TrimSpace(e.Error()))
	}
}
