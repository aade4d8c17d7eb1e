package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"time"

	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/runtime/jsvm"
)

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) exitCode {
	var af appFlags
	fs := newFlagSet("check", stderr)
	af.register(fs)
	printConfig := fs.Bool("T", false, "print the final configuration and the environment variables it used")
	showSecrets := fs.Bool("show-secrets", false, "with -T, print passwords and secrets instead of masking them")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	log, err := af.logger(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "ubgo check:", err)
		return 2
	}
	start := time.Now()
	app, err := boot.Load(ctx, boot.Options{ConfigFile: af.cfg, EnvFile: af.env, Logger: log})
	if err != nil {
		printErrors(stderr, err)
		fmt.Fprintln(stderr, "check failed")
		return 1
	}
	if *printConfig {
		raw := app.Config.Raw
		if !*showSecrets {
			raw = maskSecrets(raw).(map[string]any)
		}
		out, _ := json.MarshalIndent(raw, "", "  ")
		fmt.Fprintf(stdout, "%s\n\nEnvironment variables used:\n", out)
		for _, e := range app.Config.EnvUsed {
			note := ""
			switch {
			case e.Unset:
				note = "  (not set, no default: empty)"
			case e.Defaulted:
				note = "  (not set: default)"
			}
			value := e.Value
			if !*showSecrets && secretName.MatchString(e.Name) && value != "" {
				value = "***"
			}
			fmt.Fprintf(stdout, "  %s=%s%s\n", e.Name, value, note)
		}
		if len(app.Config.EnvUsed) == 0 {
			fmt.Fprintln(stdout, "  (none)")
		}
		fmt.Fprintln(stdout)
	}
	for _, w := range app.Config.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	for _, w := range app.Domain.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	// The JS phase of serve: every model file compiles and evaluates, so a syntax error or
	// a throwing entry point fails here rather than at the first request.
	prog, err := jsvm.Load(ctx, app.Domain, app.Config, log)
	if err != nil {
		printErrors(stderr, err)
		fmt.Fprintln(stderr, "check failed")
		return 1
	}
	d := app.Domain
	methods := 0
	for _, e := range d.Entities {
		methods += len(prog.Methods(e.Name))
	}
	fmt.Fprintf(stdout, "ok: %s: %d models, %d entities, %d attributes, %d warnings (%s)\n",
		app.Config.File, len(d.Models), len(d.Entities), d.AttributeCount(),
		len(app.Config.Warnings)+len(d.Warnings), time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "ok: JavaScript: %d endpoints, %d entity methods (%s)\n",
		len(prog.Endpoints()), methods, prog.LoadTime().Round(time.Millisecond))
	return 0
}

var secretName = regexp.MustCompile(`(?i)(password|passwd|pwd|secret|token|apikey|api_key)`)

// maskSecrets copies v with the values of secret-looking keys replaced, so that `check -T`
// output can be pasted into an issue.
func maskSecrets(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if s, ok := x[k].(string); ok && s != "" && secretName.MatchString(k) {
				out[k] = "***"
				continue
			}
			out[k] = maskSecrets(x[k])
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = maskSecrets(e)
		}
		return out
	default:
		return v
	}
}
