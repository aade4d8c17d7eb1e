package jsvm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ubgo/ubgo/store/storetest"
)

// writeApp writes a one-model application (model BAD with entity bad_thing) into a
// temporary folder; files are paths inside the model folder.
func writeApp(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{
		"ubconfig.json": `{"httpServer": {"port": "8881"}, "application": {"defaultLang": "en",
			"domain": {"models": [{"path": "./m"}]},
			"connections": [{"name": "main", "driver": "SQLite3", "dialect": "SQLite3", "isDefault": true, "databaseName": "%TST_DB%"}]}}`,
		"m/package.json":    `{"name": "bad", "config": {"ubmodel": {"name": "BAD"}}}`,
		"m/bad_thing.meta":  `{"caption": "Bad", "attributes": [{"name": "x", "dataType": "String", "size": 10}], "mixins": {"mStorage": {}}}`,
		"outside/secret.js": `module.exports = 'secret'`,
	}
	for k, v := range files {
		all["m/"+k] = v
	}
	for name, src := range all {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "ubconfig.json")
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name      string
		files     map[string]string
		timeout   time.Duration
		file      string // the file the error points at
		line, col int
		msg       string // part of the message
		stack     string // part of the stack
	}{
		{name: "syntax error on line 1", files: map[string]string{"bad_thing.js": "const x = ;\n"},
			file: "bad_thing.js", line: 1, col: 11, msg: "SyntaxError: Unexpected token ;"},
		{name: "syntax error at the end", files: map[string]string{"index.js": "function f () {\n  return 1\n"},
			file: "index.js", line: 3, msg: "SyntaxError"},
		{name: "throw in the entry point", files: map[string]string{"index.js": "// entry\nconst a = 1\nthrow new Error('boom ' + a)\n"},
			file: "index.js", line: 3, col: 7, msg: "Error: boom 1", stack: "index.js:3:7"},
		{name: "reference error in an entity module", files: map[string]string{"bad_thing.js": "bad_thing.on('insert:before', noSuchHandler)\n"},
			file: "bad_thing.js", line: 1, col: 31, msg: "ReferenceError: noSuchHandler is not defined"},
		{name: "throw in a required helper", files: map[string]string{
			"index.js":         "require('./modules/h')\n",
			"modules/h.js":     "\n\nmodule.exports = JSON.parse('{')\n",
			"modules/other.js": ""},
			file: "modules/h.js", line: 3, msg: "SyntaxError", stack: "index.js:1:"},
		{name: "require outside the model folders", files: map[string]string{"index.js": "require('../outside/secret')\n"},
			file: "index.js", line: 1, msg: "Cannot require '../outside/secret' from"},
		{name: "broken server locale", files: map[string]string{"serverLocale/bad-en.json": "{\"a\": 1,}"},
			file: "serverLocale/bad-en.json", line: 1, col: 9, msg: "invalid JSON"},
		{name: "missing package main", files: map[string]string{"package.json": `{"name": "bad", "main": "nope.js", "config": {"ubmodel": {"name": "BAD"}}}`,
			"bad_thing.js": "// the model has scripts, so a missing main is a mistake\n"},
			msg: `package.json main "nope.js"`},
		{name: "endless top-level loop", files: map[string]string{"index.js": "while (true) {}\n"}, timeout: 100 * time.Millisecond,
			file: "index.js", line: 1, msg: "interrupted"},
		{name: "bad endpoint", files: map[string]string{"index.js": "const UB = require('@unitybase/ub')\nUB.App.registerEndpoint('x', 42)\n"},
			file: "index.js", line: 2, msg: "TypeError: App.registerEndpoint(x): the handler must be a function"},
		{name: "domainIsLoaded listener", files: map[string]string{"index.js": "App.on('domainIsLoaded', () => {\n  throw new TypeError('late')\n})\n"},
			file: "index.js", line: 2, msg: "TypeError: late"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfgFile := writeApp(t, c.files)
			a := bootApp(t, cfgFile, storetest.SQLite3, "")
			ctx := context.Background()
			if c.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.timeout)
				defer cancel()
			}
			_, err := Load(ctx, a.Domain, a.Config, quiet)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q lacks %q", err, c.msg)
			}
			if c.file == "" {
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if e.Model != "BAD" || !strings.HasSuffix(e.File, "/m/"+c.file) || e.Line != c.line || (c.col > 0 && e.Column != c.col) {
				t.Errorf("position: model %q %s:%d:%d, want BAD .../m/%s:%d:%d", e.Model, e.File, e.Line, e.Column, c.file, c.line, c.col)
			}
			if !strings.Contains(e.Stack, c.stack) {
				t.Errorf("stack %q lacks %q", e.Stack, c.stack)
			}
		})
	}
}
