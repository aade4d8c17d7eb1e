package models

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// stripLineComments removes // comments that are outside JSON strings and a
// leading UTF-8 BOM, which is what the metadata loader accepts on top of JSON.
func stripLineComments(src []byte) []byte {
	src = bytes.TrimPrefix(src, []byte("\xEF\xBB\xBF"))
	out := make([]byte, 0, len(src))
	inString, escaped := false, false
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inString {
			out = append(out, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
		} else if c == '/' && i+1 < len(src) && src[i+1] == '/' {
			for i < len(src) && src[i] != '\n' {
				i++
			}
			if i < len(src) {
				out = append(out, '\n')
			}
			continue
		}
		out = append(out, c)
	}
	return out
}

func TestStripLineComments(t *testing.T) {
	in := "\xEF\xBB\xBF// head\n{\"a\": \"http://x\\\"//y\", // tail\n\"b\": 1}\n"
	var v map[string]any
	if err := json.Unmarshal(stripLineComments([]byte(in)), &v); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if v["a"] != `http://x"//y` || v["b"] != 1.0 {
		t.Fatalf("unexpected result %v", v)
	}
}

func readJSON(t *testing.T, fsys fs.FS, name string, dst any) bool {
	t.Helper()
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return false
	}
	if err := json.Unmarshal(stripLineComments(raw), dst); err != nil {
		t.Errorf("%s: invalid JSON: %v", name, err)
		return false
	}
	return true
}

type attrDef struct {
	Name                string `json:"name"`
	DataType            string `json:"dataType"`
	Caption             string `json:"caption"`
	Size                int    `json:"size"`
	AssociatedEntity    string `json:"associatedEntity"`
	AssociationManyData string `json:"associationManyData"`
	EnumGroup           string `json:"enumGroup"`
	StoreName           string `json:"storeName"`
}

type entityDef struct {
	Caption    *string                              `json:"caption"`
	SQLAlias   string                               `json:"sqlAlias"`
	Attributes []attrDef                            `json:"attributes"`
	Mixins     map[string]map[string]any            `json:"mixins"`
	DBKeys     map[string]map[string]map[string]any `json:"dbKeys"`
}

type langDef struct {
	Caption    string `json:"caption"`
	Attributes []struct {
		Name    string `json:"name"`
		Caption string `json:"caption"`
	} `json:"attributes"`
}

type loadedModel struct {
	name     string
	fsys     fs.FS
	builtin  bool
	entities map[string]*entityDef
	langs    map[string][]string // entity code -> lang file paths
}

var (
	identRe   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	engineRe  = regexp.MustCompile(`^>=\d+\.\d+\.\d+$`)
	metaRe    = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\.meta$`)
	langRe    = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\.meta\.([a-z]{2,3})$`)
	dataTypes = []string{"String", "Int", "BigInt", "Float", "Currency", "Boolean", "DateTime", "Text",
		"ID", "Entity", "Document", "Many", "Enum", "BLOB", "Date", "TimeLog", "Json"}
)

// metaFiles lists metadata file paths the way the loader scans a model: the
// root plus one folder level, skipping names starting with "." or "_" and the
// modules, public and node_modules folders.
func metaFiles(t *testing.T, fsys fs.FS) []string {
	t.Helper()
	skip := func(name string) bool {
		return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
			name == "modules" || name == "public" || name == "node_modules"
	}
	var out []string
	root, err := fs.ReadDir(fsys, ".")
	if err != nil {
		t.Fatalf("read model root: %v", err)
	}
	for _, e := range root {
		if skip(e.Name()) {
			continue
		}
		if !e.IsDir() {
			out = append(out, e.Name())
			continue
		}
		sub, err := fs.ReadDir(fsys, e.Name())
		if err != nil {
			t.Fatalf("read %s: %v", e.Name(), err)
		}
		for _, s := range sub {
			if !s.IsDir() && !skip(s.Name()) {
				out = append(out, path.Join(e.Name(), s.Name()))
			}
		}
	}
	return out
}

// loadModels returns the built-in models followed by the sample tasks model
// that lives next to this package, so cross-model references can be checked.
func loadModels(t *testing.T) []*loadedModel {
	t.Helper()
	var models []*loadedModel
	for _, name := range BuiltinNames() {
		fsys, ok := Builtin(name)
		if !ok {
			t.Fatalf("Builtin(%q) not found", name)
		}
		models = append(models, &loadedModel{name: name, fsys: fsys, builtin: true})
	}
	if _, err := os.Stat("tasks/package.json"); err == nil {
		models = append(models, &loadedModel{name: "TSK", fsys: os.DirFS("tasks")})
	}
	for _, m := range models {
		m.entities = map[string]*entityDef{}
		m.langs = map[string][]string{}
		for _, p := range metaFiles(t, m.fsys) {
			base := path.Base(p)
			if sm := metaRe.FindStringSubmatch(base); sm != nil {
				e := &entityDef{}
				if readJSON(t, m.fsys, p, e) {
					m.entities[sm[1]] = e
				}
			} else if sm := langRe.FindStringSubmatch(base); sm != nil {
				m.langs[sm[1]] = append(m.langs[sm[1]], p)
			}
		}
	}
	return models
}

func TestBuiltinNames(t *testing.T) {
	if got := BuiltinNames(); !slices.Equal(got, []string{"UB", "UBA"}) {
		t.Fatalf("BuiltinNames() = %v", got)
	}
	for _, bad := range []string{"", "ub", "uba", "TSK", "UBM"} {
		if _, ok := Builtin(bad); ok {
			t.Errorf("Builtin(%q) unexpectedly found", bad)
		}
	}
}

func TestPackageJSON(t *testing.T) {
	for _, m := range loadModels(t) {
		var pkg struct {
			Name    string            `json:"name"`
			Version string            `json:"version"`
			Main    string            `json:"main"`
			Engines map[string]string `json:"engines"`
			Config  struct {
				UBModel struct {
					Name string `json:"name"`
				} `json:"ubmodel"`
			} `json:"config"`
		}
		if !readJSON(t, m.fsys, "package.json", &pkg) {
			continue
		}
		if pkg.Config.UBModel.Name != m.name {
			t.Errorf("%s: config.ubmodel.name = %q", m.name, pkg.Config.UBModel.Name)
		}
		if pkg.Name == "" || pkg.Version == "" {
			t.Errorf("%s: package.json needs name and version", m.name)
		}
		if !engineRe.MatchString(pkg.Engines["ub"]) {
			t.Errorf("%s: engines.ub = %q, want >=x.y.z", m.name, pkg.Engines["ub"])
		}
		if m.builtin && pkg.Main != "" {
			t.Errorf("%s: built-in models have no JS entry point, main = %q", m.name, pkg.Main)
		}
		if pkg.Main != "" {
			if _, err := fs.Stat(m.fsys, pkg.Main); err != nil {
				t.Errorf("%s: main %q: %v", m.name, pkg.Main, err)
			}
		}
	}
}

func TestMetaFiles(t *testing.T) {
	models := loadModels(t)
	all := map[string]*entityDef{}
	for _, m := range models {
		if len(m.entities) == 0 {
			t.Errorf("%s: no entities", m.name)
		}
		for code, e := range m.entities {
			if _, dup := all[code]; dup {
				t.Errorf("entity %s is defined by more than one model", code)
			}
			all[code] = e
		}
	}
	aliases := map[string]string{}
	for _, m := range models {
		for code, e := range m.entities {
			where := m.name + "/" + code
			if e.Caption == nil || *e.Caption == "" {
				t.Errorf("%s: missing caption", where)
			}
			if e.Attributes == nil {
				t.Errorf("%s: attributes must be a non-null array", where)
			}
			if a := e.SQLAlias; a != "" {
				if len(a) > 8 || !identRe.MatchString(a) {
					t.Errorf("%s: bad sqlAlias %q", where, a)
				}
				if other, dup := aliases[strings.ToLower(a)]; dup {
					t.Errorf("%s: sqlAlias %q already used by %s", where, a, other)
				}
				aliases[strings.ToLower(a)] = code
			}
			names := map[string]bool{}
			for _, a := range e.Attributes {
				checkAttr(t, where, a, all, m.builtin)
				if names[a.Name] {
					t.Errorf("%s.%s: duplicate attribute", where, a.Name)
				}
				names[a.Name] = true
			}
			if u, ok := e.Mixins["unity"]; ok {
				if parent, _ := u["entity"].(string); all[parent] == nil {
					t.Errorf("%s: unity entity %q does not exist", where, parent)
				}
			}
			for key, cols := range e.DBKeys {
				for col := range cols {
					if !names[col] {
						t.Errorf("%s: dbKey %s uses unknown attribute %s", where, key, col)
					}
				}
			}
		}
	}
}

func checkAttr(t *testing.T, where string, a attrDef, all map[string]*entityDef, builtin bool) {
	t.Helper()
	w := where + "." + a.Name
	if !identRe.MatchString(a.Name) || len(a.Name) > 30 {
		t.Errorf("%s: bad attribute name", w)
	}
	// The loader adds ID (BigInt) and mi_* attributes; only an entity whose IDs are not
	// BigInt (uba_session: string session IDs) declares its own ID.
	if (a.Name == "ID" && !strings.HasSuffix(where, "uba_session")) || strings.HasPrefix(a.Name, "mi_") {
		t.Errorf("%s: ID and mi_* attributes are added by the loader", w)
	}
	if a.Caption == "" {
		t.Errorf("%s: missing caption", w)
	}
	if !slices.Contains(dataTypes, a.DataType) {
		t.Errorf("%s: unknown dataType %q", w, a.DataType)
	}
	switch a.DataType {
	case "String":
		if a.Size <= 0 {
			t.Errorf("%s: String needs size", w)
		}
	case "Entity", "Many":
		if all[a.AssociatedEntity] == nil {
			t.Errorf("%s: associatedEntity %q does not exist", w, a.AssociatedEntity)
		}
		if a.DataType == "Many" && a.AssociationManyData == "" {
			t.Errorf("%s: Many needs associationManyData", w)
		}
	case "Enum":
		if a.EnumGroup == "" {
			t.Errorf("%s: Enum needs enumGroup", w)
		}
	case "Document":
		if builtin && a.StoreName != "" {
			t.Errorf("%s: built-in Document attributes must use the default store, got %q", w, a.StoreName)
		}
	}
}

func TestLangFiles(t *testing.T) {
	for _, m := range loadModels(t) {
		for code, files := range m.langs {
			e := m.entities[code]
			if e == nil {
				t.Errorf("%s: lang files %v have no %s.meta", m.name, files, code)
				continue
			}
			names := map[string]bool{}
			for _, a := range e.Attributes {
				names[a.Name] = true
			}
			for _, f := range files {
				var l langDef
				if !readJSON(t, m.fsys, f, &l) {
					continue
				}
				if l.Caption == "" {
					t.Errorf("%s/%s: missing caption", m.name, f)
				}
				for _, a := range l.Attributes {
					if !names[a.Name] {
						t.Errorf("%s/%s: attribute %q is not in %s.meta", m.name, f, a.Name, code)
					}
					if a.Caption == "" {
						t.Errorf("%s/%s: attribute %q has no caption", m.name, f, a.Name)
					}
				}
			}
		}
	}
	uba, _ := Builtin("UBA")
	for _, code := range []string{"uba_user", "uba_role", "uba_group"} {
		if _, err := fs.Stat(uba, "meta_locale/"+code+".meta.uk"); err != nil {
			t.Errorf("UBA: missing Ukrainian captions for %s: %v", code, err)
		}
	}
}

func TestUBAFacts(t *testing.T) {
	uba, _ := Builtin("UBA")
	want := []string{"uba_subject", "uba_user", "uba_role", "uba_group", "uba_userrole", "uba_usergroup",
		"uba_grouprole", "uba_els", "uba_als", "uba_audit", "uba_auditTrail", "uba_session", "uba_otp",
		"uba_prevPasswordsHash", "uba_advSecurity", "uba_usercertificate"}
	for _, code := range want {
		if _, err := fs.Stat(uba, code+".meta"); err != nil {
			t.Errorf("UBA: %s.meta missing", code)
		}
	}
	sType := map[string]string{"uba_user": "U", "uba_role": "R", "uba_group": "G"}
	for code, st := range sType {
		var e entityDef
		if !readJSON(t, uba, code+".meta", &e) {
			continue
		}
		defaults, _ := e.Mixins["unity"]["defaults"].(map[string]any)
		if defaults["sType"] != st {
			t.Errorf("%s: unity defaults.sType = %v, want %s", code, defaults["sType"], st)
		}
	}
	var user struct {
		Attributes []struct {
			Name         string            `json:"name"`
			Restrictions map[string]string `json:"restrictions"`
		} `json:"attributes"`
	}
	readJSON(t, uba, "uba_user.meta", &user)
	found := false
	for _, a := range user.Attributes {
		if a.Name == "uPasswordHashHexa" {
			found = true
			for _, k := range []string{"I", "S", "U"} {
				if a.Restrictions[k] != "Nobody" {
					t.Errorf("uba_user.uPasswordHashHexa: restrictions.%s = %q, want Nobody", k, a.Restrictions[k])
				}
			}
		}
	}
	if !found {
		t.Error("uba_user.uPasswordHashHexa missing")
	}
}
