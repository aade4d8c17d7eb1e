package metahook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// testDomain returns a small domain JSON in the shape produced by the
// UnityBase merge step: {entityCode: {modelName, meta, langs}}.
func testDomain() map[string]any {
	return map[string]any{
		"tst_a": map[string]any{
			"modelName": "TST",
			"meta": map[string]any{
				"caption": "Entity A",
				"attributes": []any{
					map[string]any{"name": "code", "dataType": "String", "size": 32.0},
					map[string]any{"name": "toRemove", "dataType": "Int"},
				},
			},
			"langs": map[string]any{"en": map[string]any{"caption": "Entity A"}},
		},
		"tst_b": map[string]any{
			"modelName": "TST",
			"meta":      map[string]any{"caption": "Entity B", "attributes": []any{}},
			"langs":     nil,
		},
	}
}

func testConfig() map[string]any {
	return map[string]any{
		"application": map[string]any{
			"defaultLang":        "uk",
			"supportedLanguages": []any{"uk", "en"},
		},
	}
}

// diskHook returns the hook of the fixture model testdata/<dir>. The model
// name is the folder name in upper case; Dir pretends the model is deployed
// under /app/models so messages can be asserted exactly.
func diskHook(dir string) Hook {
	return Hook{
		Model: strings.ToUpper(dir),
		FS:    os.DirFS(path.Join("testdata", dir)),
		Dir:   "/app/models/" + dir,
		File:  DefaultFile,
	}
}

// get walks a decoded JSON value by keys (strings) and indexes (ints).
func get(t *testing.T, v any, keys ...any) any {
	t.Helper()
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: want an object, got %T", k, v)
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("at [%d]: want an array with that index, got %#v", k, v)
			}
			v = a[k]
		}
	}
	return v
}

func attrNames(t *testing.T, domain map[string]any, entity string) []string {
	t.Helper()
	var names []string
	for _, a := range get(t, domain, entity, "meta", "attributes").([]any) {
		names = append(names, a.(map[string]any)["name"].(string))
	}
	return names
}

// assertPlain fails unless v holds only the Go types encoding/json produces.
func assertPlain(t *testing.T, v any, at string) {
	t.Helper()
	switch x := v.(type) {
	case nil, string, float64, bool:
	case map[string]any:
		for k, item := range x {
			assertPlain(t, item, at+"."+k)
		}
	case []any:
		for i, item := range x {
			assertPlain(t, item, fmt.Sprintf("%s[%d]", at, i))
		}
	default:
		t.Errorf("%s: %T is not a plain JSON type", at, v)
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name  string
		hooks []Hook
		check func(t *testing.T, out map[string]any)
	}{
		{
			name:  "hook adds an attribute",
			hooks: []Hook{diskHook("addattr")},
			check: func(t *testing.T, out map[string]any) {
				if got, want := attrNames(t, out, "tst_a"), []string{"first", "code", "added"}; !reflect.DeepEqual(got, want) {
					t.Errorf("tst_a attributes = %v, want %v", got, want)
				}
				if got, want := attrNames(t, out, "tst_b"), []string{"first", "added"}; !reflect.DeepEqual(got, want) {
					t.Errorf("tst_b attributes = %v, want %v", got, want)
				}
				if got := get(t, out, "tst_a", "meta", "attributes", 2, "size"); got != 10.0 {
					t.Errorf("added size = %#v, want float64 10", got)
				}
			},
		},
		{
			name:  "hook deletes an entity",
			hooks: []Hook{diskHook("delentity")},
			check: func(t *testing.T, out map[string]any) {
				if _, ok := out["tst_b"]; ok {
					t.Error("tst_b is still in the domain")
				}
				if _, ok := out["tst_a"]; !ok {
					t.Error("tst_a was deleted too")
				}
			},
		},
		{
			name:  "hooks run in model order and see earlier changes",
			hooks: []Hook{diskHook("order1"), diskHook("order2")},
			check: func(t *testing.T, out map[string]any) {
				if got, want := get(t, out, "tst_a", "meta", "caption"), "set by ORDER1, then ORDER2"; got != want {
					t.Errorf("caption = %q, want %q", got, want)
				}
				if got, want := attrNames(t, out, "tst_new"), []string{"fromOrder2"}; !reflect.DeepEqual(got, want) {
					t.Errorf("tst_new attributes = %v, want %v", got, want)
				}
			},
		},
		{
			name:  "require of relative helpers and json files",
			hooks: []Hook{diskHook("requires")},
			check: func(t *testing.T, out map[string]any) {
				if got, want := attrNames(t, out, "tst_a"), []string{"code", "toRemove", "fromJSON"}; !reflect.DeepEqual(got, want) {
					t.Errorf("attributes = %v, want %v", got, want)
				}
				if got := get(t, out, "tst_a", "meta", "attributes", 2, "size"); got != 42.0 {
					t.Errorf("size from helper = %#v, want 42", got)
				}
				if got := get(t, out, "tst_a", "meta", "sameModule"); got != true {
					t.Error("require('./lib/helper') and require('./lib/helper.js') gave different modules")
				}
			},
		},
		{
			name:  "require of a folder loads its index.js",
			hooks: []Hook{diskHook("dirindex")},
			check: func(t *testing.T, out map[string]any) {
				if got := get(t, out, "tst_a", "meta", "fromIndex"); got != "index" {
					t.Errorf("fromIndex = %#v", got)
				}
			},
		},
		{
			name:  "models with the same helper path keep their own modules",
			hooks: []Hook{diskHook("nsa"), diskHook("nsb")},
			check: func(t *testing.T, out map[string]any) {
				if a, b := get(t, out, "tst_a", "meta", "nsa"), get(t, out, "tst_a", "meta", "nsb"); a != "NSA" || b != "NSB" {
					t.Errorf("nsa = %v, nsb = %v; want NSA, NSB", a, b)
				}
			},
		},
		{
			name:  "serverConfig is visible to the hook",
			hooks: []Hook{diskHook("config")},
			check: func(t *testing.T, out map[string]any) {
				if got := get(t, out, "tst_a", "meta", "defaultLang"); got != "uk" {
					t.Errorf("defaultLang = %#v, want uk", got)
				}
				if got := get(t, out, "tst_a", "meta", "supportedLanguages"); !reflect.DeepEqual(got, []any{"uk", "en"}) {
					t.Errorf("supportedLanguages = %#v", got)
				}
			},
		},
		{
			name: "hook from an fstest.MapFS with a helper",
			hooks: []Hook{{
				Model: "MEM",
				FS: fstest.MapFS{
					DefaultFile: {Data: []byte(`
const names = require('./names.json')
const { rename } = require('./sub/rename')
module.exports = (domainJSON) => {
  for (const code of Object.keys(domainJSON)) rename(domainJSON[code].meta, names)
}`)},
					"names.json":    {Data: []byte(`{"Entity A": "Renamed A"}`)},
					"sub/rename.js": {Data: []byte(`exports.rename = (meta, names) => { if (names[meta.caption]) meta.caption = names[meta.caption] }`)},
				},
				Dir:  "builtin:MEM",
				File: DefaultFile,
			}},
			check: func(t *testing.T, out map[string]any) {
				if got := get(t, out, "tst_a", "meta", "caption"); got != "Renamed A" {
					t.Errorf("tst_a caption = %#v", got)
				}
				if got := get(t, out, "tst_b", "meta", "caption"); got != "Entity B" {
					t.Errorf("tst_b caption = %#v", got)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, cfg := testDomain(), testConfig()
			out, err := Run(context.Background(), nil, tt.hooks, in, cfg)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			assertPlain(t, out, "domainJSON")
			tt.check(t, out)
			// The caller's values are input only.
			if !reflect.DeepEqual(in, testDomain()) {
				t.Error("Run modified its domainJSON argument")
			}
			if !reflect.DeepEqual(cfg, testConfig()) {
				t.Error("Run modified its serverConfig argument")
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name       string
		hook       string
		timeout    time.Duration
		file       string // want Error.File
		line, col  int    // want position; 0 means "not asserted"
		msg        string // want substring of Error.Message
		stack      string // want substring of Error.Stack
		wantCause  error  // want errors.Is(err, wantCause)
		wantNoLine bool   // the error has no position
	}{
		{
			name: "syntax error reports file:line:col",
			hook: "syntax", file: "/app/models/syntax/_hookMetadataTransformation.js",
			line: 2, col: 11, msg: "SyntaxError: Unexpected token ;",
		},
		{
			name: "compile error (found after parsing) reports file:line:col",
			hook: "compileerr", file: "/app/models/compileerr/_hookMetadataTransformation.js",
			line: 3, col: 7, msg: "SyntaxError: Identifier 'a' has already been declared",
		},
		{
			name: "thrown Error reports line:col and stack",
			hook: "throws", file: "/app/models/throws/_hookMetadataTransformation.js",
			line: 4, col: 9, msg: "Error: bad hook 1",
			stack: "(/app/models/throws/_hookMetadataTransformation.js:4:9)",
		},
		{
			name: "thrown string",
			hook: "throwstring", file: "/app/models/throwstring/_hookMetadataTransformation.js",
			line: 2, col: 3, msg: "boom",
		},
		{
			name: "throw inside a required helper reports the helper file",
			hook: "throwhelper", file: "/app/models/throwhelper/lib/check.js",
			line: 3, col: 23, msg: "TypeError: Cannot read property 'length' of undefined",
			stack: "at check (/app/models/throwhelper/lib/check.js:3:23)\n    at <anonymous> (/app/models/throwhelper/_hookMetadataTransformation.js:3:8)",
		},
		{
			name: "syntax error inside a required helper reports the helper file",
			hook: "syntaxhelper", file: "/app/models/syntaxhelper/lib/broken.js",
			line: 3, col: 1, msg: "SyntaxError: Unexpected end of input",
		},
		{
			name: "invalid json file reports the json file",
			hook: "badjson", file: "/app/models/badjson/bad.json",
			line: 3, col: 8, msg: "invalid JSON",
		},
		{
			name: "require escaping the model root fails",
			hook: "escape", file: "/app/models/escape/_hookMetadataTransformation.js",
			line: 1, col: 23, msg: "Cannot require '../../x' from /app/models/escape/_hookMetadataTransformation.js (model ESCAPE): the path escapes the model root",
			wantCause: errModuleEscapes,
		},
		{
			name: "require of a module we do not provide",
			hook: "bare", file: "/app/models/bare/_hookMetadataTransformation.js",
			line: 1, col: 18, msg: "Cannot find module 'lodash' required from /app/models/bare/_hookMetadataTransformation.js (model BARE)",
		},
		{
			name: "module.exports is not a function",
			hook: "notfunc", file: "/app/models/notfunc/_hookMetadataTransformation.js",
			msg: "module.exports must be a function (domainJSON, serverConfig), got an object", wantNoLine: true,
		},
		{
			name: "infinite loop is interrupted when ctx expires",
			hook: "loop", timeout: 100 * time.Millisecond, file: "/app/models/loop/_hookMetadataTransformation.js",
			msg: "hook interrupted", wantCause: context.DeadlineExceeded,
		},
		{
			name: "infinite recursion becomes a RangeError",
			hook: "recursion", file: "/app/models/recursion/_hookMetadataTransformation.js",
			line: 1, msg: "RangeError: Maximum call stack size exceeded", stack: "more frames",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			out, err := Run(ctx, nil, []Hook{diskHook(tt.hook)}, testDomain(), testConfig())
			if out != nil {
				t.Errorf("Run returned a domain with an error: %v", out)
			}
			var he *Error
			if !errors.As(err, &he) {
				t.Fatalf("Run error = %v (%T), want *Error", err, err)
			}
			if he.Model != strings.ToUpper(tt.hook) {
				t.Errorf("Model = %q, want %q", he.Model, strings.ToUpper(tt.hook))
			}
			if he.File != tt.file {
				t.Errorf("File = %q, want %q", he.File, tt.file)
			}
			if tt.line != 0 && he.Line != tt.line {
				t.Errorf("Line = %d, want %d", he.Line, tt.line)
			}
			if tt.col != 0 && he.Column != tt.col {
				t.Errorf("Column = %d, want %d", he.Column, tt.col)
			}
			if tt.wantNoLine && (he.Line != 0 || he.Column != 0) {
				t.Errorf("position = %d:%d, want none", he.Line, he.Column)
			}
			if !strings.Contains(he.Message, tt.msg) {
				t.Errorf("Message = %q, want it to contain %q", he.Message, tt.msg)
			}
			if !strings.Contains(he.Stack, tt.stack) {
				t.Errorf("Stack = %q, want it to contain %q", he.Stack, tt.stack)
			}
			if tt.wantCause != nil && !errors.Is(err, tt.wantCause) {
				t.Errorf("errors.Is(err, %v) = false; err = %v", tt.wantCause, err)
			}
			// Error() leads with model and position, as a log line should.
			prefix := "model " + he.Model + ": " + tt.file
			if tt.line != 0 && tt.col != 0 {
				prefix += fmt.Sprintf(":%d:%d: ", tt.line, tt.col)
			}
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("Error() = %q, want prefix %q", err.Error(), prefix)
			}
		})
	}
}

func TestRunCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, nil, []Hook{diskHook("addattr")}, testDomain(), nil)
	var he *Error
	if !errors.As(err, &he) || !strings.Contains(he.Message, "interrupted") || !errors.Is(err, context.Canceled) {
		t.Fatalf("Run error = %v, want an interrupted *Error wrapping context.Canceled", err)
	}
}

func TestRunNoHooks(t *testing.T) {
	in := testDomain()
	out, err := Run(context.Background(), nil, nil, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.ValueOf(out).Pointer() != reflect.ValueOf(in).Pointer() {
		t.Error("with no hooks Run must return its input unchanged")
	}
}

func TestRunInvalidHooks(t *testing.T) {
	ok := diskHook("addattr")
	tests := []struct {
		name  string
		hooks []Hook
		want  string
	}{
		{"duplicate model", []Hook{ok, ok}, "more than one hook"},
		{"model name with slash", []Hook{{Model: "a/b", FS: ok.FS, File: DefaultFile}}, "invalid model name"},
		{"no FS", []Hook{{Model: "X", File: DefaultFile}}, "no FS"},
		{"bad file path", []Hook{{Model: "X", FS: ok.FS, File: "../x.js"}}, "invalid hook file path"},
		{"missing file", []Hook{{Model: "X", FS: ok.FS, Dir: "/m", File: "nope.js"}}, "hook file not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(context.Background(), nil, tt.hooks, testDomain(), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestRunUnsupportedInput(t *testing.T) {
	in := testDomain()
	in["tst_a"].(map[string]any)["meta"].(map[string]any)["bad"] = struct{}{}
	_, err := Run(context.Background(), nil, []Hook{diskHook("delentity")}, in, nil)
	if err == nil || !strings.Contains(err.Error(), "tst_a.meta.bad: unsupported Go type struct {}") {
		t.Errorf("Run error = %v, want the path of the unsupported value", err)
	}
}

func TestConsole(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if _, err := Run(context.Background(), log, []Hook{diskHook("console")}, testDomain(), nil); err != nil {
		t.Fatal(err)
	}
	type record struct {
		Level string `json:"level"`
		Msg   string `json:"msg"`
		Model string `json:"model"`
	}
	var got []record
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var r record
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		if r.Msg != "metadata transformation hook done" {
			got = append(got, r)
		}
	}
	want := []record{
		{"INFO", `hello world {"a":1}`, "CONSOLE"},
		{"INFO", "info line", "CONSOLE"},
		{"WARN", "warn line 42", "CONSOLE"},
		{"ERROR", "error line", "CONSOLE"},
		{"DEBUG", "debug line", "CONSOLE"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("log records:\n got %v\nwant %v", got, want)
	}
}

// TestOutputJSONSemantics checks that values without a JSON form are
// converted the way JSON.stringify converts them, so the result stays plain.
func TestOutputJSONSemantics(t *testing.T) {
	hook := Hook{
		Model: "SEM",
		FS: fstest.MapFS{DefaultFile: {Data: []byte(`
module.exports = function (d) {
  const m = d.tst_a.meta
  m.undef = undefined
  m.fn = function () {}
  m.nan = NaN
  m.int = 7
  m.big = 2 ** 53
  m.date = new Date(0)
  m.arr = [1, undefined, function () {}, 'x', null, true]
  m.boxed = new String('s')
  m.nested = { deep: [{ a: [1.5] }] }
  m.withToJSON = { toJSON () { return { replaced: true } } }
}`)}},
		File: DefaultFile,
	}
	out, err := Run(context.Background(), nil, []Hook{hook}, testDomain(), nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlain(t, out, "domainJSON")
	meta := get(t, out, "tst_a", "meta").(map[string]any)
	for _, k := range []string{"undef", "fn"} {
		if _, ok := meta[k]; ok {
			t.Errorf("meta.%s present, JSON.stringify drops it", k)
		}
	}
	want := map[string]any{
		"nan":        nil,
		"int":        7.0,
		"big":        9007199254740992.0,
		"date":       "1970-01-01T00:00:00.000Z",
		"arr":        []any{1.0, nil, nil, "x", nil, true},
		"boxed":      "s",
		"nested":     map[string]any{"deep": []any{map[string]any{"a": []any{1.5}}}},
		"withToJSON": map[string]any{"replaced": true},
	}
	for k, w := range want {
		if g, ok := meta[k]; !ok || !reflect.DeepEqual(g, w) {
			t.Errorf("meta.%s = %#v, want %#v", k, g, w)
		}
	}
}

func TestOutputCycle(t *testing.T) {
	hook := Hook{
		Model: "CYC",
		FS:    fstest.MapFS{DefaultFile: {Data: []byte(`module.exports = d => { d.tst_a.meta.self = d.tst_a }`)}},
		File:  DefaultFile,
	}
	_, err := Run(context.Background(), nil, []Hook{hook}, testDomain(), nil)
	if err == nil || !strings.Contains(err.Error(), "cyclic") {
		t.Errorf("Run error = %v, want a cyclic value error", err)
	}
}

// TestHookSeesPlainJS checks that the hook gets ordinary JS objects and
// arrays, not wrappers around Go values.
func TestHookSeesPlainJS(t *testing.T) {
	hook := Hook{
		Model: "JS",
		FS: fstest.MapFS{DefaultFile: {Data: []byte(`
module.exports = function (d, cfg) {
  const attrs = d.tst_a.meta.attributes
  const checks = {
    isArray: Array.isArray(attrs),
    protoIsArray: Object.getPrototypeOf(attrs) === Array.prototype,
    protoIsObject: Object.getPrototypeOf(d) === Object.prototype,
    keys: Object.keys(d).join(','),
    json: JSON.stringify(cfg.application.supportedLanguages),
    mapped: attrs.map(a => a.name).join(','),
    spliced: attrs.splice(1, 1).length,
    deleted: delete d.tst_b && !('tst_b' in d),
  }
  d.tst_a.meta.checks = checks
}`)}},
		File: DefaultFile,
	}
	out, err := Run(context.Background(), nil, []Hook{hook}, testDomain(), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"isArray": true, "protoIsArray": true, "protoIsObject": true,
		"keys": "tst_a,tst_b", "json": `["uk","en"]`, "mapped": "code,toRemove",
		"spliced": 1.0, "deleted": true,
	}
	if got := get(t, out, "tst_a", "meta", "checks"); !reflect.DeepEqual(got, want) {
		t.Errorf("checks = %#v\nwant %#v", got, want)
	}
	if got := attrNames(t, out, "tst_a"); !reflect.DeepEqual(got, []string{"code"}) {
		t.Errorf("attributes after splice = %v", got)
	}
}

func TestAsyncHook(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		wantErr string
		line    int
	}{
		{name: "resolved", src: "module.exports = async function (d) {\n  await null\n  d.tst_a.meta.async = true\n}\n"},
		{name: "rejected", src: "module.exports = async function (d) {\n  await null\n  throw new Error('async failure')\n}\n", wantErr: "Error: async failure", line: 3},
		{name: "pending", src: "module.exports = function () {\n  return new Promise(() => {})\n}\n", wantErr: "pending Promise"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook := Hook{Model: "ASYNC", FS: fstest.MapFS{DefaultFile: {Data: []byte(tt.src)}}, Dir: "builtin:ASYNC", File: DefaultFile}
			out, err := Run(context.Background(), nil, []Hook{hook}, testDomain(), nil)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := get(t, out, "tst_a", "meta", "async"); got != true {
					t.Errorf("async = %#v, want true", got)
				}
				return
			}
			var he *Error
			if !errors.As(err, &he) || !strings.Contains(he.Message, tt.wantErr) {
				t.Fatalf("Run error = %v, want *Error containing %q", err, tt.wantErr)
			}
			if he.File != "builtin:ASYNC/"+DefaultFile || he.Line != tt.line {
				t.Errorf("position = %s:%d, want builtin:ASYNC/%s:%d", he.File, he.Line, DefaultFile, tt.line)
			}
		})
	}
}

// panicFS panics on Open, standing in for a bug anywhere below Run.
type panicFS struct{}

func (panicFS) Open(string) (fs.File, error) { panic("boom from FS") }

func TestRunRecoversPanic(t *testing.T) {
	tests := []struct {
		name  string
		hooks []Hook
	}{
		{"while loading the hook", []Hook{{Model: "P", FS: panicFS{}, File: DefaultFile}}},
		{"inside require called from JS", []Hook{{Model: "P", FS: requirePanicFS{}, File: DefaultFile}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(context.Background(), nil, tt.hooks, testDomain(), nil)
			if err == nil || !strings.Contains(err.Error(), "panic") || !strings.Contains(err.Error(), "boom from FS") {
				t.Errorf("Run error = %v, want a recovered panic", err)
			}
		})
	}
}

// requirePanicFS serves the hook and panics when the hook requires a helper.
type requirePanicFS struct{}

func (requirePanicFS) Open(name string) (fs.File, error) {
	if name == DefaultFile {
		return fstest.MapFS{DefaultFile: {Data: []byte("require('./helper')\nmodule.exports = function () {}")}}.Open(name)
	}
	panic("boom from FS")
}

// TestRequirePackageJSON covers folders resolved through package.json,
// including a "main" that tries to reach into another model.
func TestRequirePackageJSON(t *testing.T) {
	other := Hook{
		Model: "OTHER",
		FS: fstest.MapFS{
			DefaultFile: {Data: []byte(`module.exports = function () {}`)},
			"x.js":      {Data: []byte(`exports.secret = 'other'`)},
		},
		File: DefaultFile,
	}
	tests := []struct {
		name    string
		main    string
		wantErr string
	}{
		{name: "main inside the model", main: "./lib/entry.js"},
		{name: "main escaping into another model", main: "../../OTHER/x.js", wantErr: "escapes the model root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook := Hook{
				Model: "PKG",
				FS: fstest.MapFS{
					DefaultFile:        {Data: []byte("const p = require('./pkg')\nmodule.exports = function (d) { d.tst_a.meta.pkg = p.secret }")},
					"pkg/package.json": {Data: []byte(`{"main": "` + tt.main + `"}`)},
					"pkg/lib/entry.js": {Data: []byte(`exports.secret = 'pkg'`)},
				},
				Dir:  "/app/models/pkg",
				File: DefaultFile,
			}
			out, err := Run(context.Background(), nil, []Hook{other, hook}, testDomain(), nil)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := get(t, out, "tst_a", "meta", "pkg"); got != "pkg" {
					t.Errorf("pkg = %#v, want \"pkg\"", got)
				}
				return
			}
			var he *Error
			if !errors.As(err, &he) || !strings.Contains(he.Message, tt.wantErr) || he.Model != "PKG" || he.Line != 1 {
				t.Fatalf("Run error = %v, want *Error of model PKG at line 1 containing %q", err, tt.wantErr)
			}
		})
	}
}
