package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/ubgo/ubgo/internal/jsonc"
)

// envOf returns a LookupEnv over a fixed map.
func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func testdata(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// builtinUB is a stand-in for the built-in models.
func builtinUB(name string) (fs.FS, bool) {
	if name != "UB" {
		return nil, false
	}
	return fstest.MapFS{
		"package.json":          {Data: []byte(`{"name": "@unitybase/ub", "version": "5.23.15", "engines": {"ub": ">=5.22.15"}, "config": {"ubmodel": {"name": "UB"}}}`)},
		"ubConfig-partial.json": {Data: []byte(`{"application": {"mixinsDefaults": {"aclRls": {"selectionRule": "%ACL_RULE||Exists%"}}}}`)},
	}, true
}

func load(t *testing.T, file string, env map[string]string) (*Config, error) {
	t.Helper()
	return Load(Options{File: testdata(t, file), LookupEnv: envOf(env), WorkDir: testdata(t, ""), Builtin: builtinUB})
}

func mustLoad(t *testing.T, file string, env map[string]string) *Config {
	t.Helper()
	cfg, err := load(t, file, env)
	if err != nil {
		for _, e := range Errors(err) {
			t.Log(e)
		}
		t.Fatalf("Load(%s): %v", file, err)
	}
	return cfg
}

// mustFail loads a config that must fail and returns its errors.
func mustFail(t *testing.T, file string, env map[string]string) []*Error {
	t.Helper()
	cfg, err := load(t, file, env)
	if err == nil {
		t.Fatalf("Load(%s) succeeded, want an error", file)
	}
	if cfg != nil {
		t.Errorf("Load(%s) returned a config with an error", file)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v holds no *Error", err)
	}
	if _, ok := err.(interface{ Unwrap() []error }); !ok {
		t.Fatalf("error %T is not a joined error", err)
	}
	return Errors(err)
}

// posOf returns the 1-based line and column (in runes) of the nth (0-based) occurrence of
// marker in a testdata file, as written.
func posOf(t *testing.T, file, marker string, nth int) (int, int) {
	t.Helper()
	data, err := os.ReadFile(testdata(t, file))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	off := -1
	for i, from := 0, 0; i <= nth; i++ {
		j := strings.Index(s[from:], marker)
		if j < 0 {
			t.Fatalf("%q not found %d times in %s", marker, nth+1, file)
		}
		off = from + j
		from = off + 1
	}
	line := 1 + strings.Count(s[:off], "\n")
	lineStart := strings.LastIndex(s[:off], "\n") + 1
	seg := strings.TrimPrefix(s[lineStart:off], "\uFEFF")
	return line, utf8.RuneCountInString(seg) + 1
}

func get(t *testing.T, v any, ptr string) any {
	t.Helper()
	x, ok := jsonc.Get(v, jsonc.SplitPointer(ptr))
	if !ok {
		t.Fatalf("no value at %s", ptr)
	}
	return x
}

func findErr(t *testing.T, list []*Error, substr string) *Error {
	t.Helper()
	for _, e := range list {
		if strings.Contains(e.Error(), substr) {
			return e
		}
	}
	var all []string
	for _, e := range list {
		all = append(all, e.Error())
	}
	t.Fatalf("no error containing %q in:\n%s", substr, strings.Join(all, "\n"))
	return nil
}

func checkPos(t *testing.T, e *Error, file string, line, col int) {
	t.Helper()
	if e.File != testdata(t, file) || e.Line != line || e.Col != col {
		t.Errorf("error %q at %s:%d:%d, want %s:%d:%d", e.Msg, e.File, e.Line, e.Col, testdata(t, file), line, col)
	}
}

func TestCommentsAndBOM(t *testing.T) {
	cfg := mustLoad(t, "comments.json", nil)
	if cfg.File != testdata(t, "comments.json") || cfg.Dir != testdata(t, "") {
		t.Errorf("File, Dir = %s, %s", cfg.File, cfg.Dir)
	}
	if cfg.HTTPServer.Port != "8881" || cfg.HTTPServer.Host != "+" {
		t.Errorf("httpServer view = %+v", cfg.HTTPServer)
	}
	// defaults of steps 6 and 9
	for ptr, want := range map[string]any{
		"/application/name":                         "/",
		"/application/defaultLang":                  "en",
		"/httpServer/path":                          "/",
		"/httpServer/externalURL":                   "http://localhost:8881",
		"/application/domain/implicitlyAddedMixins": []any{"audit"},
		"/application/domain/supportedLanguages":    []any{"en", "uk"},
		"/application/domain/models":                []any{},
		"/application/customSettings":               map[string]any{},
		"/application/blobStores":                   []any{},
		"/uiSettings":                               map[string]any{},
		"/security":                                 map[string]any{},
	} {
		if got := get(t, cfg.Raw, ptr); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", ptr, got, want)
		}
	}
	if _, ok := cfg.Raw["httpServer"].(map[string]any)["threadPoolSize"]; ok {
		t.Error("threadPoolSize default must not be written into Raw")
	}
	if cfg.HTTPServer.ThreadPoolSize != runtime.GOMAXPROCS(0) {
		t.Errorf("ThreadPoolSize = %d, want GOMAXPROCS", cfg.HTTPServer.ThreadPoolSize)
	}
	if c := cfg.DefaultConnection(); c == nil || c.Name != "main" || c.DatabaseName != "x.db" {
		t.Errorf("DefaultConnection = %+v", c)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings: %v", cfg.Warnings)
	}
}

func TestMacros(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want map[string]any // pointer → value
		used []EnvUse
	}{
		{
			name: "defaults",
			want: map[string]any{
				"/httpServer/host":                       "localhost",
				"/httpServer/port":                       8881.0,
				"/httpServer/threadPoolSize":             2.0,
				"/application/customSettings/quoted":     "dq",
				"/application/customSettings/unquoted":   42.0,
				"/application/customSettings/empty":      "",
				"/application/customSettings/mixed":      "pre-dq-post",
				"/application/customSettings/list":       []any{"en", "uk"},
				"/application/customSettings/path":       `C:\temp`,
				"/application/customSettings/percent":    "100% sure",
				"/application/domain/supportedLanguages": []any{"en"},
			},
			used: []EnvUse{
				{Name: "HOST", Value: "localhost", Defaulted: true},
				{Name: "PORT", Value: "8881", Defaulted: true},
				{Name: "THREADS", Value: "2", Defaulted: true},
				{Name: "Q", Value: "dq", Defaulted: true},
				{Name: "U", Value: "42", Defaulted: true},
				{Name: "E", Unset: true},
				{Name: "LIST", Value: `["en","uk"]`, Defaulted: true},
				{Name: "WINPATH", Value: `C:\\temp`, Defaulted: true},
			},
		},
		{
			name: "set",
			env: map[string]string{"HOST": "example.org", "PORT": "80", "THREADS": "16", "Q": "v", "U": "true",
				"E": "now set", "LIST": `["de"]`, "WINPATH": `C:\x"y`},
			want: map[string]any{
				"/httpServer/host":                     "example.org",
				"/httpServer/port":                     80.0,
				"/httpServer/threadPoolSize":           16.0,
				"/application/customSettings/quoted":   "v",
				"/application/customSettings/unquoted": true,
				"/application/customSettings/empty":    "now set",
				"/application/customSettings/mixed":    "pre-v-post",
				"/application/customSettings/list":     []any{"de"},
				"/application/customSettings/path":     `C:\x"y`,
			},
			used: []EnvUse{
				{Name: "HOST", Value: "example.org"},
				{Name: "PORT", Value: "80"},
				{Name: "THREADS", Value: "16"},
				{Name: "Q", Value: "v"},
				{Name: "U", Value: "true"},
				{Name: "E", Value: "now set"},
				{Name: "LIST", Value: `["de"]`},
				{Name: "WINPATH", Value: `C:\x"y`},
			},
		},
		{
			name: "set to empty wins over the default",
			env:  map[string]string{"Q": ""},
			want: map[string]any{
				"/application/customSettings/quoted": "",
				"/application/customSettings/mixed":  "pre--post",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mustLoad(t, "macros.json", tc.env)
			for ptr, want := range tc.want {
				if got := get(t, cfg.Raw, ptr); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", ptr, got, want)
				}
			}
			if tc.used != nil && !reflect.DeepEqual(cfg.EnvUsed, tc.used) {
				t.Errorf("EnvUsed =\n%+v\nwant\n%+v", cfg.EnvUsed, tc.used)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	cfg := mustLoad(t, "macros.json", map[string]string{"SCHEMA": `a\b`})
	for in, want := range map[string]string{
		"%SCHEMA%.tbl":         `a\b.tbl`,
		"%NOPE||dflt%":         "dflt",
		"x%NOPE%y":             "xy",
		"no macro":             "no macro",
		"%SCHEMA||ignored%_%%": `a\b_`,
	} {
		if got := cfg.Expand(in); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
	if got := string(cfg.ExpandJSON([]byte(`{"a": "%SCHEMA%", "b": %NOPE||1%}`))); got != `{"a": "a\\b", "b": 1}` {
		t.Errorf("ExpandJSON = %s", got)
	}
}

func TestIfdef(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want map[string]any
	}{
		{nil, map[string]any{"a": "undefined", "drv": "other", "last": 1.0}},
		{map[string]string{"A": "1"}, map[string]any{"a": "defined", "drv": "other", "last": 1.0}},
		{map[string]string{"DRV": "PostgreSQL"}, map[string]any{"a": "undefined", "drv": "pg", "last": 1.0}},
		{map[string]string{"DRV": "PostgreSQL", "PGX": "y"}, map[string]any{"a": "undefined", "drv": "pg", "pgx": true, "last": 1.0}},
		{map[string]string{"DRV": "Oracle", "PGX": "y"}, map[string]any{"a": "undefined", "drv": "other", "last": 1.0}},
		// an '=' inside a variable's value does not split the condition
		{map[string]string{"A": "x=x"}, map[string]any{"a": "defined", "drv": "other", "last": 1.0}},
	}
	for _, tc := range cases {
		cfg := mustLoad(t, "ifdef.json", tc.env)
		if got := cfg.Application.CustomSettings; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("env %v: customSettings = %v, want %v", tc.env, got, tc.want)
		}
		if len(cfg.Warnings) != 0 {
			t.Errorf("env %v: warnings %v (removed blocks must not produce duplicate keys)", tc.env, cfg.Warnings)
		}
	}
}

func TestIfdefErrors(t *testing.T) {
	errs := mustFail(t, "ifdef_unterminated.json", nil)
	e := findErr(t, errs, "never closed")
	line, col := posOf(t, "ifdef_unterminated.json", "//#ifdef", 0)
	checkPos(t, e, "ifdef_unterminated.json", line, col)
	if !strings.Contains(e.Error(), testdata(t, "ifdef_unterminated.json")+":4:") {
		t.Errorf("message %q does not name file:line", e.Error())
	}

	errs = mustFail(t, "ifdef_stray.json", nil)
	e = findErr(t, errs, "//#endif without a matching")
	line, col = posOf(t, "ifdef_stray.json", "//#endif", 0)
	checkPos(t, e, "ifdef_stray.json", line, col)
}

func TestInclude(t *testing.T) {
	cfg := mustLoad(t, "include.json", nil)
	if cfg.HTTPServer.Port != "9999" || cfg.HTTPServer.ThreadPoolSize != 3 {
		t.Errorf("httpServer = %+v", cfg.HTTPServer)
	}
	if c := cfg.DefaultConnection(); c == nil || c.DatabaseName != "inc.db" || !reflect.DeepEqual(c.SupportLang, []string{"en", "de"}) {
		t.Errorf("connection = %+v", c)
	}
	if len(cfg.EnvUsed) != 1 || cfg.EnvUsed[0] != (EnvUse{Name: "INC_PORT", Value: "9999", Defaulted: true}) {
		t.Errorf("EnvUsed = %+v", cfg.EnvUsed)
	}
}

func TestIncludeErrors(t *testing.T) {
	errs := mustFail(t, "include_missing.json", nil)
	e := findErr(t, errs, `cannot include "inc/nope.json"`)
	line, col := posOf(t, "include_missing.json", `"#include(inc/nope.json)"`, 0)
	checkPos(t, e, "include_missing.json", line, col)
	if !strings.Contains(e.Msg, testdata(t, "inc/nope.json")) {
		t.Errorf("message %q does not name the resolved path", e.Msg)
	}

	errs = mustFail(t, "include_cycle.json", nil)
	e = findErr(t, errs, "include cycle")
	line, col = posOf(t, "inc/cycle_b.json", `"#include(cycle_a.json)"`, 0)
	checkPos(t, e, "inc/cycle_b.json", line, col)
}

func TestDotenv(t *testing.T) {
	dir := testdata(t, "dotenv")
	env := map[string]string{"REAL": "from-env"}
	for _, opts := range []Options{
		{File: filepath.Join(dir, "ubConfig.json"), EnvFile: ".env", WorkDir: dir, LookupEnv: envOf(env)},
		{WorkDir: dir, LookupEnv: envOf(map[string]string{"REAL": "from-env", "UB_ENV": filepath.Join(dir, ".env")})},
		// relative to the config folder when not found in the working folder (UnityBase's rule)
		{File: filepath.Join(dir, "ubConfig.json"), EnvFile: ".env", WorkDir: t.TempDir(), LookupEnv: envOf(env)},
	} {
		cfg, err := Load(opts)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"fromDotenv": "dot", "real": "from-env", "quoted": "a b", "exported": "x y"}
		if !reflect.DeepEqual(cfg.Application.CustomSettings, want) {
			t.Errorf("customSettings = %v, want %v", cfg.Application.CustomSettings, want)
		}
		if cfg.EnvFile != filepath.Join(dir, ".env") {
			t.Errorf("EnvFile = %q", cfg.EnvFile)
		}
		if v, _ := cfg.LookupEnv("FROM_DOTENV"); v != "dot" || cfg.Expand("%FROM_DOTENV%") != "dot" {
			t.Errorf("the .env file is not part of the config's environment")
		}
	}
	_, err := Load(Options{File: filepath.Join(dir, "ubConfig.json"), EnvFile: "missing.env", WorkDir: dir, LookupEnv: envOf(nil)})
	if err == nil || !strings.Contains(err.Error(), "env file given by -env not found") {
		t.Errorf("missing env file: %v", err)
	}
}

func TestParseDotenv(t *testing.T) {
	vals, bad := parseDotenv([]byte("A=1\n# c\n\n  export B = two words  \nC=\"l1\\nl2\"\nD='$raw\\n'\nE=x #comment\nnot a line\nF=\n"))
	want := map[string]string{"A": "1", "B": "two words", "C": "l1\nl2", "D": `$raw\n`, "E": "x", "F": ""}
	if !reflect.DeepEqual(vals, want) {
		t.Errorf("vals = %#v, want %#v", vals, want)
	}
	if !reflect.DeepEqual(bad, []int{8}) {
		t.Errorf("bad lines = %v", bad)
	}
}

func TestPartials(t *testing.T) {
	cfg := mustLoad(t, "partials.json", map[string]string{"P2_FLAG": "1"})
	cs := cfg.Application.CustomSettings
	want := map[string]any{"a": "main", "b": "p2", "c": "cust", "p1only": 1.0}
	if !reflect.DeepEqual(cs, want) {
		t.Errorf("customSettings = %v, want %v (main over partials, cust last)", cs, want)
	}
	conns := cfg.Application.Connections
	if len(conns) != 2 || conns[0].Name != "extra" || conns[1].Name != "main" {
		t.Fatalf("connections = %+v, want extra, main merged by name", conns)
	}
	m := conns[1]
	if m.DatabaseName != "main.db" || m.AdvSettings != "Synchronous=Off" || !reflect.DeepEqual(m.SupportLang, []string{"en", "uk"}) || m.StatementCacheSize != 30 {
		t.Errorf("main connection = %+v", m)
	}
	if got := cfg.Application.Domain.SupportedLanguages; !reflect.DeepEqual(got, []string{"de", "en", "uk"}) {
		t.Errorf("supportedLanguages = %v", got)
	}
	if cfg.Logging.Path != "p2.log" {
		t.Errorf("logging.path = %q (ifdef in a partial)", cfg.Logging.Path)
	}
	wantPartials := []string{
		testdata(t, "models/p1/ubConfig-partial.json"),
		testdata(t, "models/p2/ubConfig-partial.json"),
		testdata(t, "models/cust/ubConfig-partial.json"),
	}
	if !reflect.DeepEqual(cfg.Partials, wantPartials) {
		t.Errorf("Partials = %v", cfg.Partials)
	}
	// macros in partials are recorded too
	found := false
	for _, u := range cfg.EnvUsed {
		found = found || u == EnvUse{Name: "P1_VALUE", Value: "1", Defaulted: true}
	}
	if !found {
		t.Errorf("EnvUsed = %+v, want P1_VALUE from the partial", cfg.EnvUsed)
	}

	cfg = mustLoad(t, "partials.json", nil)
	if cfg.Logging.Path != "" {
		t.Errorf("logging.path = %q, want the ifdef block removed", cfg.Logging.Path)
	}
}

func TestPartialErrors(t *testing.T) {
	errs := mustFail(t, "partial_domain.json", nil)
	e := findErr(t, errs, "application.domain is not allowed")
	line, col := posOf(t, "models/bad_partial/ubConfig-partial.json", `{"models"`, 0)
	checkPos(t, e, "models/bad_partial/ubConfig-partial.json", line, col)

	// a schema violation in an item of a named collection is located in the file that wrote it,
	// even though merging moved the item to another index
	errs = mustFail(t, "partials.json", map[string]string{"CACHE": `"many"`})
	e = findErr(t, errs, "statementCacheSize")
	if e.Pointer != "/application/connections/1/statementCacheSize" {
		t.Errorf("pointer = %s", e.Pointer)
	}
	line, col = posOf(t, "partials.json", "%CACHE", 0)
	checkPos(t, e, "partials.json", line, col)
}

func TestModels(t *testing.T) {
	cfg := mustLoad(t, "models_ok.json", nil)
	var names []string
	for _, m := range cfg.Models {
		names = append(names, m.Name)
	}
	if want := []string{"UB", "ENGOK", "REAL", "PUB", "NP", "p2"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("models = %v, want %v", names, want)
	}
	ub := cfg.Models[0]
	if !ub.Builtin || ub.Path != "builtin:UB" || ub.ModuleName != "@unitybase/ub" || ub.FS == nil {
		t.Errorf("UB = %+v", ub)
	}
	if got := get(t, cfg.Raw, "/application/mixinsDefaults/aclRls/selectionRule"); got != "Exists" {
		t.Errorf("built-in partial not merged: %v", got)
	}
	eng := cfg.Models[1]
	if eng.Path != testdata(t, "models/eng_ok") || eng.ModuleName != "@test/eng-ok" || eng.Version != "1.2.3" ||
		eng.Main != "index.js" || eng.EnginesUB != ">=5.22.15" || eng.PublicPath != filepath.Join(eng.Path, "public") || eng.IsPublic {
		t.Errorf("ENGOK = %+v", eng)
	}
	if _, err := fs.Stat(eng.FS, "package.json"); err != nil {
		t.Errorf("ENGOK FS: %v", err)
	}
	pub := cfg.Models[3]
	if !pub.IsPublic || pub.PublicPath != pub.Path || pub.Browser.Dev != "@test/public/index.js" || pub.Browser.Prod != "@test/public/index.js" {
		t.Errorf("PUB = %+v", pub)
	}
	if np := cfg.Models[4]; np.ModuleName != "" || np.Path != testdata(t, "models/nopkg") {
		t.Errorf("NP = %+v", np)
	}
	if p2 := cfg.Models[5]; p2.Path != testdata(t, "models/p2") {
		t.Errorf("vendor model p2 = %+v", p2)
	}
	if m, ok := cfg.Model("REAL"); !ok || m.ModuleName != "@test/renamed" {
		t.Errorf("Model(REAL) = %+v, %v", m, ok)
	}
	w := findErr(t, cfg.Warnings, `model name "Alias" differs from config.ubmodel.name "REAL"`)
	line, col := posOf(t, "models_ok.json", `"Alias"`, 0)
	checkPos(t, w, "models_ok.json", line, col)

	// vendorModels are looked up under UB_APPHOME/models
	cfg = mustLoad(t, "models_ok.json", map[string]string{"UB_APPHOME": testdata(t, "")})
	if p2 := cfg.Models[5]; p2.Path != testdata(t, "models/p2") {
		t.Errorf("vendor model with UB_APPHOME = %+v", p2)
	}
}

func TestModelErrors(t *testing.T) {
	cases := []struct {
		file, msg, posFile, marker string
	}{
		{"engines_caret.json", `engines.ub "^5.0.0" is not supported`, "models/eng_caret/package.json", `"^5.0.0"`},
		{"engines_future.json", "model FUTURE requires UnityBase >=99.0.0, ubgo is compatible with 5.23.15", "models/eng_future/package.json", `">=99.0.0"`},
		{"models_dup.json", `duplicate model name "DUP": already used by the model at ` + "", "models_dup.json", `{"path": "./models/dup_b"}`},
		{"models_missing.json", "does_not_exist does not exist", "models_missing.json", `"./models/does_not_exist"`},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			errs := mustFail(t, tc.file, nil)
			e := findErr(t, errs, tc.msg)
			line, col := posOf(t, tc.posFile, tc.marker, 0)
			checkPos(t, e, tc.posFile, line, col)
		})
	}
	errs := mustFail(t, "models_dup.json", nil)
	line, col := posOf(t, "models_dup.json", `{"path": "./models/dup_a"}`, 0)
	findErr(t, errs, testdata(t, "models_dup.json")+":"+strconv.Itoa(line)+":"+strconv.Itoa(col))
}

func TestSchemaErrors(t *testing.T) {
	// an earlier macro on the same line changes the length of the line: the position is still
	// the one in the file as written
	errs := mustFail(t, "schema_type.json", map[string]string{"UB_PORT": "1", "HOST": "a-much-longer-host-name.example.org"})
	e := findErr(t, errs, "threadPoolSize")
	if e.Pointer != "/httpServer/threadPoolSize" {
		t.Errorf("pointer = %q", e.Pointer)
	}
	line, col := posOf(t, "schema_type.json", `"x"`, 0)
	checkPos(t, e, "schema_type.json", line, col)
	if !strings.HasPrefix(e.Error(), testdata(t, "schema_type.json")+":2:") || !strings.Contains(e.Error(), ": /httpServer/threadPoolSize: ") {
		t.Errorf("Error() = %q", e.Error())
	}

	// a violation inside an included file points into that file
	errs = mustFail(t, "schema_include.json", nil)
	e = findErr(t, errs, "threadPoolSize")
	line, col = posOf(t, "inc/bad_http.json", `"y"`, 0)
	checkPos(t, e, "inc/bad_http.json", line, col)
}

func TestSchemaErrorsTogether(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ubConfig.json")
	src := "{\n  \"httpServer\": {\"threadPoolSize\": \"x\", \"serverType\": \"Apache\"},\n  \"security\": {\"authenticationMethods\": [\"Magic\"]}\n}\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(Options{File: file, LookupEnv: envOf(nil)})
	errs := Errors(err)
	if len(errs) < 3 {
		t.Fatalf("want 3 errors at once, got %v", err)
	}
	for _, e := range errs {
		if e.File != file || e.Line == 0 || e.Pointer == "" {
			t.Errorf("unlocated error %+v", e)
		}
	}

	// a bad value that defaults copied elsewhere: located where it was written, and the copy
	// made by defaults keeps its pointer but has no position
	file = filepath.Join(writeFiles(t, map[string]string{"ubConfig.json": "{\"application\": {\"connections\": [\n  {\"name\": \"main\", \"supportLang\": [\"English!\"]}]}}"}), "ubConfig.json")
	_, err = Load(Options{File: file, LookupEnv: envOf(nil)})
	errs = Errors(err)
	if len(errs) != 2 {
		t.Fatalf("errors = %v", err)
	}
	for _, e := range errs {
		switch e.Pointer {
		case "/application/connections/0/supportLang/0":
			if e.File != file || e.Line != 2 || e.Col != 36 {
				t.Errorf("error at %s:%d:%d, want %s:2:36", e.File, e.Line, e.Col, file)
			}
		case "/application/domain/supportedLanguages/0":
			if e.File != "" || e.Line != 0 || e.Col != 0 {
				t.Errorf("default-made value located at %s:%d:%d", e.File, e.Line, e.Col)
			}
		default:
			t.Errorf("unexpected error %v", e)
		}
	}
}

func TestWarnings(t *testing.T) {
	cfg := mustLoad(t, "unknown_key.json", nil)
	w := findErr(t, cfg.Warnings, "bogusKey")
	if w.Pointer != "/httpServer/bogusKey" {
		t.Errorf("pointer = %q", w.Pointer)
	}
	line, col := posOf(t, "unknown_key.json", "true", 0)
	checkPos(t, w, "unknown_key.json", line, col)
	// an unknown key written in a partial is located in the partial
	w = findErr(t, cfg.Warnings, "partialBogus")
	line, col = posOf(t, "models/unknown_partial/ubConfig-partial.json", "1", 0)
	checkPos(t, w, "models/unknown_partial/ubConfig-partial.json", line, col)

	cfg = mustLoad(t, "dupkeys.json", nil)
	w = findErr(t, cfg.Warnings, `duplicate key "port"`)
	line, col = posOf(t, "dupkeys.json", `"port"`, 1)
	checkPos(t, w, "dupkeys.json", line, col)
	if cfg.HTTPServer.Port != "2" {
		t.Errorf("port = %q, want the last duplicate", cfg.HTTPServer.Port)
	}
}

func TestSyntaxError(t *testing.T) {
	errs := mustFail(t, "syntax.json", map[string]string{"LONG_HOST_VARIABLE": "h"})
	e := findErr(t, errs, "invalid JSON")
	line, col := posOf(t, "syntax.json", `"port"`, 0)
	checkPos(t, e, "syntax.json", line, col)
}

func TestPickFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(`{"application": {"customSettings": {"file": "`+name+`"}}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := Load(Options{WorkDir: dir, LookupEnv: envOf(nil)}); err == nil || !strings.Contains(err.Error(), "configuration file not found") {
		t.Errorf("no config: %v", err)
	}
	upper := write("ubConfig.json")
	cfg, err := Load(Options{WorkDir: dir, LookupEnv: envOf(nil)})
	if err != nil || cfg.File != upper {
		t.Fatalf("ubConfig.json: %v %v", cfg, err)
	}
	other := write("other.json")
	cfg, err = Load(Options{WorkDir: dir, LookupEnv: envOf(map[string]string{"UB_CFG": "other.json"})})
	if err != nil || cfg.File != other {
		t.Fatalf("UB_CFG: %v %v", cfg, err)
	}
	cfg, err = Load(Options{File: upper, WorkDir: dir, LookupEnv: envOf(map[string]string{"UB_CFG": "other.json"})})
	if err != nil || cfg.File != upper {
		t.Fatalf("-cfg wins over UB_CFG: %v %v", cfg, err)
	}
	if _, err := Load(Options{File: "missing.json", WorkDir: dir, LookupEnv: envOf(nil)}); err == nil {
		t.Error("missing -cfg file accepted")
	}
}

func TestErrorString(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{File: "a.json", Line: 3, Col: 7, Pointer: "/x/y", Msg: "bad"}, "a.json:3:7: /x/y: bad"},
		{Error{File: "a.json", Msg: "bad"}, "a.json: bad"},
		{Error{Pointer: "/x", Msg: "bad"}, "/x: bad"},
		{Error{File: "a.json", Line: 2, Msg: "bad"}, "a.json:2: bad"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

// writeFiles creates files (name → content) in a temporary folder and returns the folder.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPreprocessEdgeCases(t *testing.T) {
	deep := map[string]string{"ubConfig.json": `{"application": {"customSettings": "#include(i1.json)"}}`}
	for i := 1; i <= 10; i++ {
		deep["i"+strconv.Itoa(i)+".json"] = `{"next": "#include(i` + strconv.Itoa(i+1) + `.json)"}`
	}
	deep["i11.json"] = `{}`
	cases := []struct {
		name  string
		files map[string]string
		env   map[string]string
		err   string // "" → must load
		check func(t *testing.T, cfg *Config)
	}{
		{name: "include depth", files: deep, err: "nested deeper than 8"},
		{name: "self include", files: map[string]string{"ubConfig.json": `{"application": {"customSettings": "#include(ubConfig.json)"}}`}, err: "include cycle"},
		{name: "empty include", files: map[string]string{"ubConfig.json": `{"application": {"customSettings": "#include(e.json)"}}`, "e.json": "\n"}, err: "is empty"},
		{name: "same-level nesting", files: map[string]string{"ubConfig.json": "{\n//#ifdef(%A%)\n//#ifdef(%B%)\n//#endif\n//#endif\n}"}, err: "ubConfig.json:3:1: //#ifdef(...) nested inside //#ifdef(...) of the same level"},
		{name: "endif level mismatch", files: map[string]string{"ubConfig.json": "{\n//#ifdef(%A%)\n//#ifdef1(%B%)\n//#endif\n}"}, err: "ubConfig.json:3:1: //#ifdef1(...) is not closed before //#endif"},
		{name: "malformed directive", files: map[string]string{"ubConfig.json": "{\n//#ifdef %A%\n}"}, err: "ubConfig.json:2:1: malformed directive"},
		{name: "not an object", files: map[string]string{"ubConfig.json": "// c\n[1]"}, err: "ubConfig.json:2:1: the configuration must be a JSON object"},
		{
			name:  "ifdef inside an include, macro in a comment",
			files: map[string]string{"ubConfig.json": "// %COMMENTED||x%\n{\"application\": {\"customSettings\": \"#include(c.json)\"}}", "c.json": "{\n//#ifdef(%X%)\n\"x\": 1,\n//#endif\n\"y\": 2}"},
			check: func(t *testing.T, cfg *Config) {
				if !reflect.DeepEqual(cfg.Application.CustomSettings, map[string]any{"y": 2.0}) {
					t.Errorf("customSettings = %v", cfg.Application.CustomSettings)
				}
				if len(cfg.EnvUsed) != 2 || cfg.EnvUsed[0].Name != "COMMENTED" || cfg.EnvUsed[1].Name != "X" {
					t.Errorf("EnvUsed = %+v", cfg.EnvUsed)
				}
			},
		},
		{
			name:  "public-only model, javascript section, multitenancy",
			files: map[string]string{"ubConfig.json": `{"javascript": {}, "security": {"multitenancy": {"enabled": true}}, "application": {"domain": {"models": [{"path": "_public_only_", "publicPath": "pub"}]}}}`, "pub/x.js": ""},
			check: func(t *testing.T, cfg *Config) {
				m := cfg.Models[0]
				if !m.IsPublic || m.Name != "pub" || m.PublicPath != m.Path || filepath.Base(m.Path) != "pub" {
					t.Errorf("model = %+v", m)
				}
				if len(cfg.Warnings) != 1 || cfg.Warnings[0].Pointer != "/javascript" || cfg.Warnings[0].Line != 1 {
					t.Errorf("warnings = %v", cfg.Warnings)
				}
				if got := cfg.Application.Domain.ImplicitlyAddedMixins; !reflect.DeepEqual(got, []string{"audit", "multitenancy"}) {
					t.Errorf("implicitlyAddedMixins = %v", got)
				}
			},
		},
		{
			name:  "nginx reverse proxy defaults, https external URL",
			files: map[string]string{"ubConfig.json": `{"httpServer": {"protocol": "https", "host": "app.example.org", "port": 443, "path": "ub", "reverseProxy": {"kind": "nginx"}}}`},
			check: func(t *testing.T, cfg *Config) {
				h := cfg.HTTPServer
				if h.ExternalURL != "https://app.example.org:443/ub" || h.Port != "443" || cfg.Application.Name != "ub" {
					t.Errorf("httpServer = %+v, application.name = %q", h, cfg.Application.Name)
				}
				if rp := h.ReverseProxy; rp.RemoteIPHeader != "X-Real-IP" || rp.SendFileLocationRoot != "app-example-org" || !rp.ServeStatic {
					t.Errorf("reverseProxy = %+v", rp)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			cfg, err := Load(Options{File: filepath.Join(dir, "ubConfig.json"), LookupEnv: envOf(tc.env)})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, cfg)
		})
	}
}
