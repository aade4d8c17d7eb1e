package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func ubgo(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code exitCode) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// TestBadInput runs `ubgo check` on one small application per class of bad input and checks
// that the report names the file, the position or JSON path, and the reason.
func TestBadInput(t *testing.T) {
	tests := []struct {
		app  string
		want []string
	}{
		{"macro", []string{"testdata/bad/macro/ubconfig.json:2:101: invalid JSON: unexpected '}', expected a value"}},
		{"ifdef", []string{"testdata/bad/ifdef/ubconfig.json:3:3: //#ifdef(...) is never closed: missing //#endif"}},
		{"include", []string{"testdata/bad/include/ubconfig.json:5:20: cannot include \"./connections-missing.json\"", "not found"}},
		{"schema", []string{"testdata/bad/schema/ubconfig.json:2:76: /httpServer/threadPoolSize: httpServer.threadPoolSize must be an integer, not a string"}},
		{"entityschema", []string{
			"models/shop/shop_item.meta:4:5: entity shop_item /attributes/1/size: attribute \"code\": missing required property \"size\"",
			"models/shop/shop_item.meta:5:35: entity shop_item /attributes/2/dataType: attribute \"price\": dataType \"Money\" is not one of",
		}},
		{"merge", []string{"testdata/bad/merge/models/ext/shop_item.meta:1:1: entity shop_item: looks like a partial definition", "(EXT) must give caption"}},
		{"hook", []string{"model SHOP: ", "testdata/bad/hook/models/shop/_hookMetadataTransformation.js:4:11: Error: shop_item must define price", "    at "}},
		{"js", []string{"model SHOP", "testdata/bad/js/models/shop/index.js:4:", "./helpers/missing"}},
		{"semantic", []string{"testdata/bad/semantic/models/shop/shop_item.meta:5:68: entity shop_item /attributes/2/associatedEntity: associatedEntity \"shop_category\" of attribute category is not an entity of the domain"}},
	}
	for _, tt := range tests {
		t.Run(tt.app, func(t *testing.T) {
			out, errOut, code := ubgo(t, nil, "check", "-cfg", filepath.Join("testdata", "bad", tt.app, "ubconfig.json"))
			if code != 1 {
				t.Fatalf("exit code %d, want 1\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(errOut, "goroutine ") || strings.Contains(errOut, "panic") {
				t.Errorf("report leaks a Go stack:\n%s", errOut)
			}
		})
	}
}

func TestCheckSampleApp(t *testing.T) {
	out, errOut, code := ubgo(t, nil, "check", "-cfg", "../../ubconfig.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "ok: ") || !strings.Contains(out, "3 models, ") {
		t.Fatalf("summary missing: %s", out)
	}
}

func TestCheckPrintsConfigAndEnvironment(t *testing.T) {
	out, _, code := ubgo(t, map[string]string{"UB_PORT": "9999"}, "check", "-T", "-cfg", "../../ubconfig.json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{`"port": "9999"`, "UB_PORT=9999\n", "UB_THREADS=4  (not set: default)"} {
		if !strings.Contains(out, w) {
			t.Errorf("output does not contain %q:\n%s", w, out)
		}
	}
}

func TestCheckMasksSecrets(t *testing.T) {
	dir := t.TempDir()
	cfg := `{"application": {"domain": {"models": [{"name": "UB"}]},
 "connections": [{"name": "main", "driver": "PostgreSQL", "dialect": "PostgreSQL", "databaseName": "x", "password": "%UBGO_TEST_DB_PASSWORD%"}]}}`
	if err := os.WriteFile(filepath.Join(dir, "ubconfig.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := ubgo(t, map[string]string{"UBGO_TEST_DB_PASSWORD": "s3cr3t"}, "check", "-T", "-cfg", filepath.Join(dir, "ubconfig.json"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "s3cr3t") {
		t.Fatalf("-T printed a password:\n%s", out)
	}
	if !strings.Contains(out, `"password": "***"`) || !strings.Contains(out, "UBGO_TEST_DB_PASSWORD=***") {
		t.Fatalf("password not masked:\n%s", out)
	}
}

// TestDomainJSONGolden pins the built domain of the sample application.
func TestDomainJSONGolden(t *testing.T) {
	out, errOut, code := ubgo(t, nil, "domain", "-json", "-cfg", "../../ubconfig.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	root, _ := filepath.Abs("../..")
	got := strings.ReplaceAll(out, root, "$ROOT")
	golden := filepath.Join("testdata", "sample-domain.golden.json")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/ubgo -run Golden -update)", err)
	}
	if got != string(want) {
		t.Fatalf("domain JSON differs from %s; if the change is intended, run `go test ./cmd/ubgo -run Golden -update` and review the diff", golden)
	}
	var v struct {
		Entities []struct {
			Name string `json:"name"`
		} `json:"entities"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || len(v.Entities) == 0 {
		t.Fatalf("invalid domain JSON: %v", err)
	}
}

func corpus(t *testing.T) string {
	dir, _ := filepath.Abs("../../../shared/corpus/ubjs")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("UnityBase corpus not found at %s: skipped (CI has it)", dir)
	}
	return dir
}

// TestCorpusConfigs proves that real UnityBase configurations and metadata load unchanged.
func TestCorpusConfigs(t *testing.T) {
	dir := corpus(t)
	tests := []struct {
		name, cfg   string
		env         map[string]string
		minEntities string
	}{
		{"ubjs on SQLite", "ubConfig.json", map[string]string{"UB_DB_DRIVER": ""}, "6 models, 74 entities"},
		{"ubjs on PostgreSQL", "ubConfig.json", map[string]string{"UB_DB_DRIVER": "PostgreSQL"}, "6 models, 74 entities"},
		{"benchmarks", "benchmarks/ubConfig.json", nil, "2 models, 5 entities"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := ubgo(t, tt.env, "check", "-cfg", filepath.Join(dir, tt.cfg))
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, errOut)
			}
			if !strings.Contains(out, tt.minEntities) {
				t.Fatalf("summary %q does not contain %q", out, tt.minEntities)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	if _, errOut, code := ubgo(t, nil, "frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Fatalf("code %d, stderr %s", code, errOut)
	}
	if _, _, code := ubgo(t, nil, "check", "stray"); code != 2 {
		t.Fatalf("stray argument: code %d", code)
	}
	if out, _, code := ubgo(t, nil, "version"); code != 0 || !strings.Contains(out, "UnityBase 5.23.15 compatible") {
		t.Fatalf("version: %d %s", code, out)
	}
	if _, errOut, code := ubgo(t, nil, "check", "-cfg", "testdata/nope.json"); code != 1 || !strings.Contains(errOut, "nope.json") {
		t.Fatalf("missing config: %d %s", code, errOut)
	}
}
