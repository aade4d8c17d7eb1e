package config

import (
	"os"
	"path/filepath"
	"testing"
)

// corpusDir locates shared/corpus/ubjs next to the repository root (the folder holding go.mod).
func corpusDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root (go.mod) not found")
		}
		dir = parent
	}
	c := filepath.Join(dir, "..", "shared", "corpus", "ubjs")
	if _, err := os.Stat(filepath.Join(c, "ubConfig.json")); err != nil {
		t.Skipf("corpus not found at %s: skipping the tests on real UnityBase configs", c)
	}
	return c
}

func TestCorpusConfig(t *testing.T) {
	dir := corpusDir(t)
	cases := []struct {
		name                     string
		env                      map[string]string
		driver, database, userID string
	}{
		{"sqlite", nil, "SQLite3", "./data/corpus.sqlite3", ""},
		{"postgres", map[string]string{"UB_DB_DRIVER": "PostgreSQL"}, "PostgreSQL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "ubjs_corpus"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(Options{File: filepath.Join(dir, "ubConfig.json"), WorkDir: dir, LookupEnv: envOf(tc.env)})
			if err != nil {
				for _, e := range Errors(err) {
					t.Log(e)
				}
				t.Fatal(err)
			}
			for _, w := range cfg.Warnings {
				t.Errorf("warning: %v", w)
			}
			c := cfg.DefaultConnection()
			if c == nil || len(cfg.Application.Connections) != 1 || c.Name != "main" || c.Driver != tc.driver || c.Dialect != tc.driver ||
				c.DatabaseName != tc.database || c.UserID != tc.userID {
				t.Errorf("connections = %+v", cfg.Application.Connections)
			}
			if cfg.HTTPServer.Port != "8881" || cfg.HTTPServer.ThreadPoolSize != 4 {
				t.Errorf("httpServer = %+v", cfg.HTTPServer)
			}
			var names []string
			for _, m := range cfg.Models {
				names = append(names, m.Name)
			}
			want := []string{"UB", "UBA", "UBS", "UBM", "UBQ", "CDN"}
			if len(names) != len(want) {
				t.Fatalf("models = %v, want %v", names, want)
			}
			for i := range want {
				if names[i] != want[i] {
					t.Fatalf("models = %v, want %v", names, want)
				}
			}
			if ubs := cfg.Models[2]; ubs.Browser.Dev != "@unitybase/ubs/public/index.js" || ubs.Browser.Prod != "@unitybase/ubs/public/dist/ubs.main.min.js" {
				t.Errorf("UBS browser = %+v", ubs.Browser)
			}
			// partials of UB (mixinsDefaults) and UBQ (mailerConfig with unquoted macros)
			if cfg.Application.MixinsDefaults["aclRls"]["selectionRule"] != "Exists" {
				t.Errorf("mixinsDefaults = %v", cfg.Application.MixinsDefaults)
			}
			mc, _ := cfg.Application.CustomSettings["mailerConfig"].(map[string]any)
			if mc["enableScheduler"] != true || mc["targetPort"] != "25" || mc["autoTLS"] != false {
				t.Errorf("mailerConfig = %v", mc)
			}
			stores := cfg.Application.BlobStores
			if len(stores) != 3 || stores[0].Path != filepath.Join(dir, "data/stores/simple") || stores[0].TempPath != filepath.Join(dir, "data/stores/simple/_temp") || stores[2].Path != "" {
				t.Errorf("blobStores = %+v", stores)
			}
			if got := cfg.Application.Domain.SupportedLanguages; len(got) != 2 || got[0] != "en" || got[1] != "uk" {
				t.Errorf("supportedLanguages = %v", got)
			}
			used := map[string]EnvUse{}
			for _, u := range cfg.EnvUsed {
				used[u.Name] = u
			}
			if u := used["UB_THREADS"]; !u.Defaulted || u.Value != "4" {
				t.Errorf("UB_THREADS use = %+v", u)
			}
			if u := used["UB_DB_DRIVER"]; u.Defaulted || (tc.env == nil) != u.Unset {
				t.Errorf("UB_DB_DRIVER use = %+v", u)
			}
		})
	}
}

func TestCorpusBenchmarks(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "benchmarks")
	cfg, err := Load(Options{File: filepath.Join(dir, "ubConfig.json"), WorkDir: dir, LookupEnv: envOf(nil)})
	if err != nil {
		for _, e := range Errors(err) {
			t.Log(e)
		}
		t.Fatal(err)
	}
	if len(cfg.Models) < 1 || cfg.Models[0].Name != "UB" || cfg.Models[0].EnginesUB != ">=5.22.15" {
		t.Errorf("models = %+v", cfg.Models)
	}
	if cfg.HTTPServer.ThreadPoolSize != 8 || len(cfg.Security.AuthenticationMethods) != 0 {
		t.Errorf("httpServer = %+v, security = %+v", cfg.HTTPServer, cfg.Security)
	}
	if c := cfg.DefaultConnection(); c == nil || c.DatabaseName != "localdb/techempower.sqlite3" {
		t.Errorf("connection = %+v", c)
	}
	if s := cfg.Application.BlobStores; len(s) != 1 || s[0].TempPath != filepath.Join(dir, "_temp") {
		t.Errorf("blobStores = %+v", s)
	}
	for _, w := range cfg.Warnings {
		t.Logf("warning: %v", w)
	}
}
