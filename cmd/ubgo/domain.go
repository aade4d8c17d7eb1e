package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/ubgo/ubgo/internal/boot"
)

func runDomain(ctx context.Context, args []string, stdout, stderr io.Writer) exitCode {
	var af appFlags
	fs := newFlagSet("domain", stderr)
	af.register(fs)
	asJSON := fs.Bool("json", false, "print the built domain as JSON")
	entity := fs.String("entity", "", "print only this `entity`")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	log, err := af.logger(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "ubgo domain:", err)
		return 2
	}
	app, err := boot.Load(ctx, boot.Options{ConfigFile: af.cfg, EnvFile: af.env, Logger: log})
	if err != nil {
		printErrors(stderr, err)
		return 1
	}
	d := app.Domain
	if *entity != "" {
		e := d.Entity(*entity)
		if e == nil {
			fmt.Fprintf(stderr, "ubgo domain: no entity %q\n", *entity)
			return 1
		}
		if *asJSON {
			out, _ := json.MarshalIndent(e.Meta, "", "  ")
			fmt.Fprintf(stdout, "%s\n", out)
			return 0
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "%s (%s, model %s): %s\n", e.Name, e.DSType, e.Model.Name, e.Caption)
		fmt.Fprintln(tw, "ATTRIBUTE\tTYPE\tSIZE\tNULL\tREFERS TO\tCAPTION")
		for _, a := range e.Attributes {
			size := ""
			if a.Size > 0 {
				size = fmt.Sprint(a.Size)
			}
			null := "not null"
			if a.AllowNull {
				null = "null"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Name, a.DataType, size, null, a.AssociatedEntity, a.Caption)
		}
		tw.Flush()
		return 0
	}
	if *asJSON {
		out, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			fmt.Fprintln(stderr, "ubgo domain:", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s\n", out)
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tENTITY\tDSTYPE\tATTRS\tMIXINS\tCAPTION")
	for _, m := range d.Models {
		for _, e := range m.Entities {
			var mixins []byte
			for _, name := range []string{"mStorage", "audit", "unity", "tree", "dataHistory", "rls", "aclRls", "als", "fts", "softLock", "multitenancy"} {
				if e.HasMixin(name) {
					if len(mixins) > 0 {
						mixins = append(mixins, ',')
					}
					mixins = append(mixins, name...)
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", m.Name, e.Name, e.DSType, len(e.Attributes), mixins, e.Caption)
		}
	}
	tw.Flush()
	return 0
}
