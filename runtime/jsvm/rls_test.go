package jsvm_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/runtime/jsvm"
)

// TestRLSCheckedAtLoad: an rls expression that does not compile, or a mixin with neither
// func nor expression, fails Load naming the entity; a func that names no function is a
// warning (UnityBase metadata may name functions of models ubgo does not run).
func TestRLSCheckedAtLoad(t *testing.T) {
	tests := []struct {
		name, mixin, js, want string
		warn                  bool // Load succeeds with a warning
	}{
		{"missing func", `{"func": "bad_x.nothere"}`, "", "", true},
		{"not a function", `{"func": "bad_x.value"}`, "bad_x.value = 42\n", "", true},
		{"broken path", `{"func": "nowhere.at.all"}`, "", "", true},
		{"bad expression", `{"expression": "'[a] = ' +"}`, "", "bad_x: mixins.rls.expression does not compile", false},
		{"neither", `{}`, "", "bad_x: mixins.rls needs func", false},
		{"good func", `{"func": "bad_x.ok"}`, "bad_x.ok = function (ctx) {}\n", "", false},
		{"built-in func", `{"func": "RLS.allowForAdminOwnerAndAdmTable"}`, "", "", false},
		{"good expression", `{"expression": "'[ID] > 0'"}`, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			model := filepath.Join(dir, "models", "bad")
			if err := os.MkdirAll(model, 0o755); err != nil {
				t.Fatal(err)
			}
			files := map[string]string{
				"ubconfig.json": `{"application": {"domain": {"models": [{"name": "UB"}, {"path": "./models/bad"}]},
					"connections": [{"name": "main", "driver": "SQLite3", "dialect": "SQLite3", "isDefault": true, "databaseName": "x.sqlite3"}]}}`,
				"models/bad/package.json": `{"name": "bad", "version": "1.0.0", "config": {"ubmodel": {"name": "BAD"}}}`,
				"models/bad/bad_x.meta": `{"caption": "x", "attributes": [{"name": "code", "dataType": "String", "size": 10}],
					"mixins": {"mStorage": {}, "rls": ` + tt.mixin + `}}`,
			}
			if tt.js != "" {
				files["models/bad/bad_x.js"] = tt.js
			}
			for name, body := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ctx := context.Background()
			app, err := boot.Load(ctx, boot.Options{ConfigFile: filepath.Join(dir, "ubconfig.json"), Logger: slog.New(slog.DiscardHandler),
				LookupEnv: func(string) (string, bool) { return "", false }})
			if err != nil {
				t.Fatal(err)
			}
			var logged strings.Builder
			prog, err := jsvm.Load(ctx, app.Domain, app.Config, slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelWarn})))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if warned := strings.Contains(logged.String(), "mixins.rls.func names no function") && strings.Contains(logged.String(), "entity=bad_x"); warned != tt.warn {
					t.Errorf("warning logged: %v, want %v: %s", warned, tt.warn, logged.String())
				}
				for _, m := range []string{"select", "update", "delete"} {
					if !prog.NeedsJS("bad_x", m) {
						t.Errorf("NeedsJS(bad_x, %s) = false: row-level security runs in JavaScript", m)
					}
				}
				if prog.NeedsJS("bad_x", "insert") {
					t.Error("NeedsJS(bad_x, insert) = true")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
