package synth

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Entities: 10, Models: 3, Hook: true, JSModules: true}
	n, attrs, err := Generate(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if n != 10 {
		t.Fatalf("entities = %d, want 10", n)
	}

	cfg := readJSON(t, filepath.Join(dir, "ubconfig.json"))
	app := cfg["application"].(map[string]any)
	if app["defaultLang"] != "en" {
		t.Errorf("defaultLang = %v", app["defaultLang"])
	}
	models := app["domain"].(map[string]any)["models"].([]any)
	var paths []string
	for _, m := range models {
		if p, ok := m.(map[string]any)["path"].(string); ok {
			paths = append(paths, p)
		}
	}
	if want := []string{"./models/m01", "./models/m02", "./models/m03"}; !slices.Equal(paths, want) || len(models) != 5 {
		t.Errorf("models = %v, want UB, UBA, %v", models, want)
	}
	conn := app["connections"].([]any)[0].(map[string]any)
	if conn["driver"] != "SQLite3" || conn["databaseName"] != DefaultDatabaseName {
		t.Errorf("connection = %v", conn)
	}
	if port := cfg["httpServer"].(map[string]any)["port"]; port != "%UB_PORT||8881%" {
		t.Errorf("port = %v", port)
	}

	for i, m := range []string{"m01", "m02", "m03"} {
		pkg := readJSON(t, filepath.Join(dir, "models", m, "package.json"))
		ub := pkg["config"].(map[string]any)["ubmodel"].(map[string]any)
		if ub["name"] != strings.ToUpper(m) || pkg["name"] != "synth-"+m {
			t.Errorf("%s/package.json = %v", m, pkg)
		}
		_, err := os.Stat(filepath.Join(dir, "models", m, hookFile))
		if hasHook := err == nil; hasHook != (i == 2) {
			t.Errorf("%s: hook present = %v", m, hasHook)
		}
	}

	metas, err := filepath.Glob(filepath.Join(dir, "models", "*", "*.meta"))
	if err != nil {
		t.Fatal(err)
	}
	if len(metas) != 10 {
		t.Fatalf("%d .meta files, want 10", len(metas))
	}
	aliases := map[string]string{}
	names := map[string]bool{}
	totalAttrs := 0
	seenTypes := map[string]bool{}
	for _, p := range metas {
		name := strings.TrimSuffix(filepath.Base(p), ".meta")
		names[name] = true
		if !identRE.MatchString(name) || len(name) > 30 {
			t.Errorf("bad entity name %q", name)
		}
		if !strings.HasPrefix(name, filepath.Base(filepath.Dir(p))+"_e") {
			t.Errorf("entity %s is not in its model folder %s", name, filepath.Dir(p))
		}
		meta := readJSON(t, p)
		if c, _ := meta["caption"].(string); c == "" {
			t.Errorf("%s: no caption", name)
		}
		if d, _ := meta["description"].(string); d == "" {
			t.Errorf("%s: no description", name)
		}
		alias, _ := meta["sqlAlias"].(string)
		if !identRE.MatchString(alias) || len(alias) > 8 {
			t.Errorf("%s: bad sqlAlias %q", name, alias)
		}
		if other, dup := aliases[alias]; dup {
			t.Errorf("sqlAlias %q used by %s and %s", alias, other, name)
		}
		aliases[alias] = name
		ms := meta["mixins"].(map[string]any)["mStorage"].(map[string]any)
		if ms["simpleAudit"] != true {
			t.Errorf("%s: mStorage = %v", name, ms)
		}
		list, ok := meta["attributes"].([]any)
		if !ok || len(list) == 0 {
			t.Fatalf("%s: attributes is not a non-empty array", name)
		}
		totalAttrs += len(list)
		attrNames := map[string]bool{}
		multi, unique, refs := 0, 0, 0
		for _, a := range list {
			am := a.(map[string]any)
			an, _ := am["name"].(string)
			if !identRE.MatchString(an) || len(an) > 30 {
				t.Errorf("%s: bad attribute name %q", name, an)
			}
			if attrNames[an] {
				t.Errorf("%s: attribute %s declared twice", name, an)
			}
			attrNames[an] = true
			if c, _ := am["caption"].(string); c == "" {
				t.Errorf("%s.%s: no caption", name, an)
			}
			dt, _ := am["dataType"].(string)
			seenTypes[dt] = true
			switch dt {
			case "String":
				size, _ := am["size"].(float64)
				if size < 10 || size > 255 {
					t.Errorf("%s.%s: size %v", name, an, am["size"])
				}
			case "Enum":
				if am["enumGroup"] != EnumGroup {
					t.Errorf("%s.%s: enumGroup %v", name, an, am["enumGroup"])
				}
			case "Entity":
				refs++
			case "Many":
				if am["associationManyData"] != name+"_"+an+"_link" {
					t.Errorf("%s.%s: associationManyData %v", name, an, am["associationManyData"])
				}
			}
			if am["isMultiLang"] == true {
				multi++
			}
			if am["isUnique"] == true {
				unique++
			}
		}
		if multi != 1 || unique != 1 || refs != 1 {
			t.Errorf("%s: %d multi-language, %d unique, %d Entity attributes; want 1 each", name, multi, unique, refs)
		}

		lp := filepath.Join(filepath.Dir(p), "meta_locale", name+".meta.uk")
		lang := readJSON(t, lp)
		if c, _ := lang["caption"].(string); c == "" {
			t.Errorf("%s: no caption", lp)
		}
		la, _ := lang["attributes"].([]any)
		if len(la) != len(list) {
			t.Errorf("%s: %d attributes, meta has %d", lp, len(la), len(list))
		}
		for i, a := range la {
			am := a.(map[string]any)
			if am["name"] != list[i].(map[string]any)["name"] || am["caption"] == "" {
				t.Errorf("%s: attribute %d = %v", lp, i, am)
			}
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), name+".js")); err != nil {
			t.Errorf("entity module: %v", err)
		}
	}
	if totalAttrs != attrs {
		t.Errorf("Generate reported %d attributes, files have %d", attrs, totalAttrs)
	}
	for _, dt := range []string{"String", "Int", "BigInt", "Float", "Currency", "Boolean", "DateTime", "Date", "Text", "Json", "Enum", "Entity", "Document", "Many"} {
		if !seenTypes[dt] {
			t.Errorf("no %s attribute generated", dt)
		}
	}

	// Every Entity/Many attribute refers to uba_user or an entity with a smaller number.
	for _, p := range metas {
		name := strings.TrimSuffix(filepath.Base(p), ".meta")
		for _, a := range readJSON(t, p)["attributes"].([]any) {
			target, ok := a.(map[string]any)["associatedEntity"].(string)
			if !ok || target == "uba_user" {
				continue
			}
			if !names[target] || entityNumber(target) >= entityNumber(name) {
				t.Errorf("%s refers to %s", name, target)
			}
		}
	}
}

// entityNumber returns the number after "_e" in a generated entity name.
func entityNumber(name string) string { return name[strings.Index(name, "_e")+2:] }

func TestDeterministic(t *testing.T) {
	opts := Options{Entities: 37, Models: 4, Langs: []string{"en", "uk", "de"}, Hook: true, JSModules: true}
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if _, _, err := Generate(dir, opts); err != nil {
			t.Fatal(err)
		}
	}
	files := 0
	err := filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		rel, _ := filepath.Rel(a, p)
		x, _ := os.ReadFile(p)
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil {
			return err
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between runs", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// ubconfig + 4 package.json + hook + 37 × (meta + 2 lang files + js)
	if want := 1 + 4 + 1 + 37*4; files != want {
		t.Errorf("%d files, want %d", files, want)
	}
}

func TestRegenerateSmaller(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := Generate(dir, Options{Entities: 20, Models: 2}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Generate(dir, Options{Entities: 4, Models: 2}); err != nil {
		t.Fatal(err)
	}
	metas, _ := filepath.Glob(filepath.Join(dir, "models", "*", "*.meta"))
	if len(metas) != 4 {
		t.Errorf("%d .meta files after regenerating with 4 entities", len(metas))
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{
		{},
		{Entities: 1, Driver: "Oracle"},
		{Entities: 1, Driver: "PostgreSQL"},
		{Entities: 1, Langs: []string{"en", "en"}},
		{Entities: 1, Langs: []string{"../x"}},
	} {
		if _, _, err := Generate(t.TempDir(), o); err == nil {
			t.Errorf("Generate(%+v) succeeded", o)
		}
	}
	dir := t.TempDir()
	n, attrs, err := Generate(dir, Options{Entities: 3, Models: 5, Attributes: 1, Driver: "PostgreSQL", DatabaseName: "postgres://db/synth"})
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || attrs != 9 { // Models lowered to 3; code, name and ref per entity
		t.Errorf("got %d entities, %d attributes", n, attrs)
	}
	conn := readJSON(t, filepath.Join(dir, "ubconfig.json"))["application"].(map[string]any)["connections"].([]any)[0].(map[string]any)
	if conn["dialect"] != "PostgreSQL" || conn["databaseName"] != "postgres://db/synth" {
		t.Errorf("connection = %v", conn)
	}
	if _, err := os.Stat(filepath.Join(dir, "models", "m04")); err == nil {
		t.Error("m04 written for 3 entities")
	}
}

func BenchmarkGenerate1000(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		if _, _, err := Generate(dir, Options{Entities: 1000, Hook: true, JSModules: true}); err != nil {
			b.Fatal(err)
		}
	}
}
