package domain

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// app builds an Input from models given as {name: {file: content}}, in order.
func app(models ...model) Input {
	in := Input{Languages: []string{"en", "uk"}, ImplicitMixins: []string{"audit"},
		BlobStores: []string{"files"}, DefaultBlobStore: "files", Connections: []string{"main"}}
	for _, m := range models {
		fsys := fstest.MapFS{}
		for name, content := range m.files {
			fsys[name] = &fstest.MapFile{Data: []byte(content)}
		}
		in.Models = append(in.Models, ModelSource{Name: m.name, Path: "/app/" + strings.ToLower(m.name), FS: fsys})
	}
	return in
}

type model struct {
	name  string
	files map[string]string
}

const userMeta = `{"caption": "Users", "sqlAlias": "usr", "mixins": {"mStorage": {}},
 "attributes": [{"name": "name", "dataType": "String", "size": 64, "caption": "Login"}]}`

func mustLoad(t *testing.T, in Input) *Domain {
	t.Helper()
	d, err := Load(context.Background(), in)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return d
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name   string
		in     Input
		want   []string // substrings of the error text, in any order
		absent []string
	}{
		{
			name: "syntax error names file line and column",
			in:   app(model{"A", map[string]string{"a_x.meta": "{\n  \"caption\": \"X\",\n  \"attributes\": [\n    {\"name\": \"a\" \"dataType\": \"Int\"}\n  ]\n}"}}),
			want: []string{"/app/a/a_x.meta:4:18: invalid JSON: unexpected '\"', expected ',' or '}'"},
		},
		{
			name: "schema violation: String without size",
			in: app(model{"A", map[string]string{"a_x.meta": `{"caption": "X",
  "attributes": [
    {"name": "code", "dataType": "String", "caption": "Code"}
  ]}`}}),
			want: []string{"/app/a/a_x.meta:3:5: entity a_x /attributes/1/size:", "size"},
		},
		{
			name: "schema violation: unknown data type, located in the overriding model",
			in: app(
				model{"A", map[string]string{"a_x.meta": `{"caption": "X", "attributes": [{"name": "n", "dataType": "Int", "caption": "N"}]}`}},
				model{"B", map[string]string{"a_x.meta": "{\n \"attributes\": [\n  {\"name\": \"n\", \"dataType\": \"Integer\"}\n ]\n}"}},
			),
			want: []string{"/app/b/a_x.meta:3:29: entity a_x /attributes/1/dataType: attribute \"n\": dataType \"Integer\" is not one of"},
		},
		{
			name: "partial definition in the first model",
			in: app(
				model{"A", map[string]string{"a_x.meta": `{"attributes": [{"name": "n", "dataType": "Int", "caption": "N"}]}`}},
			),
			want: []string{"/app/a/a_x.meta:1:1: entity a_x: looks like a partial definition", "must give caption"},
		},
		{
			name: "UnityBase 4 object form of attributes",
			in:   app(model{"A", map[string]string{"a_x.meta": "{\"caption\": \"X\",\n \"attributes\": {\"n\": {\"dataType\": \"Int\"}}}"}}),
			want: []string{"/app/a/a_x.meta:2:16: entity a_x /attributes: attributes must be an array"},
		},
		{
			name: "unknown associatedEntity and duplicate sqlAlias and bad names, all at once",
			in: app(model{"A", map[string]string{
				"a_x.meta": `{"caption": "X", "sqlAlias": "x",
  "attributes": [
    {"name": "ref", "dataType": "Entity", "associatedEntity": "a_missing", "caption": "Ref"},
    {"name": "1bad", "dataType": "Int", "caption": "Bad"},
    {"name": "averyveryveryverylongattributename", "dataType": "Int", "caption": "Long"}
  ]}`,
				"a_y.meta": `{"caption": "Y", "sqlAlias": "X", "attributes": []}`,
				"a_z.meta": `{"caption": "Z", "sqlAlias": "toolongalias", "attributes": []}`,
			}}),
			want: []string{
				`/app/a/a_x.meta:3:63: entity a_x /attributes/1/associatedEntity: associatedEntity "a_missing"`,
				`/app/a/a_x.meta:4:14: entity a_x /attributes/2/name: attribute name "1bad" must be an identifier`,
				`/app/a/a_x.meta:5:14: entity a_x /attributes/3/name: attribute name "averyveryveryverylongattributename" is longer than 30`,
				`/app/a/a_y.meta:1:30: entity a_y /sqlAlias: sqlAlias "X" is already used by entity a_x`,
				`/app/a/a_z.meta:1:30: entity a_z /sqlAlias: sqlAlias "toolongalias" is longer than 8`,
			},
		},
		{
			name: "mixin options naming unknown entities and attributes",
			in: app(model{"A", map[string]string{
				"a_p.meta": `{"caption": "P", "attributes": [{"name": "code", "dataType": "String", "size": 10, "caption": "C"}]}`,
				"a_c.meta": `{"caption": "C", "mixins": {
  "unity": {"entity": "a_p", "attributeList": ["nope"], "mapping": {"title": "code", "x": "y"}},
  "tree": {"parentAttr": "parent"}},
 "attributes": [{"name": "title", "dataType": "String", "size": 10, "caption": "T"}]}`,
				"a_d.meta": `{"caption": "D", "mixins": {"unity": {"entity": "a_nowhere"}}, "attributes": []}`,
			}}),
			want: []string{
				`a_c.meta:2:48: entity a_c /mixins/unity/attributeList/0: unity attributeList names "nope"`,
				`unity mapping key "x" is not an attribute of a_c`,
				`unity mapping value "y" is not an attribute of the unity entity a_p`,
				`a_c.meta:3:26: entity a_c /mixins/tree/parentAttr: tree parentAttr "parent"`,
				`a_d.meta:1:49: entity a_d /mixins/unity/entity: unity entity "a_nowhere"`,
			},
		},
		{
			name: "connection and blob store must be configured",
			in: app(model{"A", map[string]string{
				"a_x.meta": `{"caption": "X", "connectionName": "other",
 "attributes": [{"name": "doc", "dataType": "Document", "storeName": "nostore", "caption": "D"}]}`,
			}}),
			want: []string{
				`a_x.meta:1:36: entity a_x /connectionName: connectionName "other" is not a connection`,
				`a_x.meta:2:70: entity a_x /attributes/1/storeName: storeName "nostore"`,
			},
		},
		{
			name: "hook errors propagate",
			in: func() Input {
				in := app(model{"A", map[string]string{"a_x.meta": `{"caption": "X", "attributes": []}`, HookFileName: "x"}})
				in.Transform = func(context.Context, []Hook, map[string]any, map[string]any) (map[string]any, error) {
					return nil, errors.New("model A: _hookMetadataTransformation.js:1:1: boom")
				}
				return in
			}(),
			want: []string{"metadata transformation hook: model A: _hookMetadataTransformation.js:1:1: boom"},
		},
		{
			name: "hook without an engine",
			in:   app(model{"A", map[string]string{"a_x.meta": `{"caption": "X", "attributes": []}`, HookFileName: "x"}}),
			want: []string{"/app/a/_hookMetadataTransformation.js: the model has a transformation hook but no JavaScript engine"},
		},
		{
			name: "hook output with a bad model name",
			in: func() Input {
				in := app(model{"A", map[string]string{"a_x.meta": `{"caption": "X", "attributes": []}`, HookFileName: "x"}})
				in.Transform = func(_ context.Context, _ []Hook, dj, _ map[string]any) (map[string]any, error) {
					dj["a_new"] = map[string]any{"modelName": "Nope", "meta": map[string]any{"caption": "N", "attributes": []any{}}}
					return dj, nil
				}
				return in
			}(),
			want: []string{`entity a_new: a transformation hook set modelName "Nope"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(context.Background(), tt.in)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			var de *Error
			if !errors.As(err, &de) && !strings.Contains(err.Error(), "hook") {
				t.Errorf("error is not a *domain.Error: %T", err)
			}
		})
	}
}

func TestMergeAcrossModels(t *testing.T) {
	d := mustLoad(t, app(
		model{"UBA", map[string]string{"uba_user.meta": userMeta}},
		model{"A", map[string]string{
			"a_x.meta": `{"caption": "X", "sqlAlias": "ax", "mixins": {"mStorage": {"simpleAudit": true, "safeDelete": true}},
 "attributes": [
  {"name": "code", "dataType": "String", "size": 10, "caption": "Code"},
  {"name": "flag", "dataType": "Boolean", "caption": "Flag", "defaultValue": "true"},
  {"name": "notes", "dataType": "Text", "caption": "Notes"},
  {"name": "tags", "dataType": "Many", "associatedEntity": "uba_user", "associationManyData": "a_x_tags", "caption": "Tags"}
 ]}`,
			"meta_locale/a_x.meta.uk": `{"caption": "Ікс", "attributes": [{"name": "code", "caption": "Код"}]}`,
			"a_x.meta.de":             `{"caption": "unsupported language, ignored"}`,
			"a_v.meta":                `{"caption": "Virtual", "dsType": "Virtual", "attributes": []}`,
		}},
		model{"B", map[string]string{
			"a_x.meta": `{"attributes": [{"name": "code", "size": 20}, {"name": "extra", "dataType": "Int", "caption": "Extra"}]}`,
		}},
	))
	x := d.Entity("a_x")
	if x == nil {
		t.Fatal("a_x missing")
	}
	if got := x.Attribute("code").Size; got != 20 {
		t.Errorf("code.size = %d, want 20 (B overrides A)", got)
	}
	if x.Attribute("extra") == nil {
		t.Error("attribute added by model B is missing")
	}
	if strings.Join(x.OverriddenBy, ",") != "B" || x.Model.Name != "A" {
		t.Errorf("overriddenBy = %v, model = %s", x.OverriddenBy, x.Model.Name)
	}
	var names []string
	for _, a := range x.Attributes {
		names = append(names, a.Name)
	}
	want := "ID,code,flag,notes,tags,extra,mi_owner,mi_createDate,mi_createUser,mi_modifyDate,mi_modifyUser,mi_deleteDate,mi_deleteUser"
	if got := strings.Join(names, ","); got != want {
		t.Errorf("attributes = %s\nwant         %s", got, want)
	}
	if id := x.Attribute("ID"); !id.Implicit || id.AllowNull || id.DataType != BigInt {
		t.Errorf("ID = %+v", id)
	}
	if o := x.Attribute("mi_owner"); o.DataType != EntityT || o.Association != d.Entity("uba_user") {
		t.Errorf("mi_owner = %+v", o)
	}
	if f := x.Attribute("flag"); f.DefaultValue != "1" || f.AllowNull {
		t.Errorf("flag = %+v, want default 1 and NOT NULL", f)
	}
	if x.Attribute("notes").AllowSort || x.Attribute("tags").AllowSort {
		t.Error("Text and Many must not be sortable")
	}
	if x.Mixins.Audit == nil || !x.Mixins.MStorage.SafeDelete {
		t.Errorf("mixins = %+v, want implicit audit and safeDelete", x.Mixins)
	}
	if d.Entity("a_v").Mixins.Audit != nil {
		t.Error("implicit mixins must not be added to an entity without a mixins object")
	}
	link := d.Entity("a_x_tags")
	if link == nil || !link.IsManyManyRef || link.Attribute("sourceID").Association != x || link.Attribute("destID").AssociatedEntity != "uba_user" {
		t.Fatalf("Many link entity = %+v", link)
	}
	if link.Attribute("sourceID").CascadeDelete {
		t.Error("the owner has safeDelete: the link must not cascade")
	}
	if got := x.CaptionIn("uk"); got != "Ікс" {
		t.Errorf("uk caption = %q", got)
	}
	if got := x.Attribute("code").CaptionIn("uk"); got != "Код" {
		t.Errorf("uk attribute caption = %q", got)
	}
	if got := x.Attribute("flag").CaptionIn("uk"); got != "Flag" {
		t.Errorf("fallback caption = %q", got)
	}
	if _, ok := x.I18n["de"]; ok {
		t.Error("a lang file of an unsupported language must be ignored")
	}
}

func TestHookSeesAndChangesTheDomain(t *testing.T) {
	in := app(model{"A", map[string]string{"a_x.meta": `{"caption": "X", "mixins": {}, "attributes": []}`, HookFileName: "js"}})
	in.ServerConfig = map[string]any{"k": "v"}
	var got []Hook
	in.Transform = func(_ context.Context, hooks []Hook, dj, cfg map[string]any) (map[string]any, error) {
		got = hooks
		if cfg["k"] != "v" {
			t.Error("server config not passed")
		}
		meta := dj["a_x"].(map[string]any)["meta"].(map[string]any)
		if _, ok := meta["mixins"].(map[string]any)["audit"]; !ok {
			t.Error("core transformations must run before hooks")
		}
		meta["attributes"] = append(meta["attributes"].([]any), map[string]any{"name": "added", "dataType": "Boolean", "caption": "Added"})
		return dj, nil
	}
	d := mustLoad(t, in)
	if len(got) != 1 || got[0].Model != "A" || got[0].File != HookFileName {
		t.Fatalf("hooks = %+v", got)
	}
	a := d.Entity("a_x").Attribute("added")
	if a == nil || a.DefaultValue != "0" {
		t.Fatalf("hook attribute = %+v (core transformations must also run after hooks)", a)
	}
	if d.Model("A").HookFile != "/app/a/_hookMetadataTransformation.js" {
		t.Errorf("HookFile = %q", d.Model("A").HookFile)
	}
}

func TestUnknownKeysAreWarnings(t *testing.T) {
	d := mustLoad(t, app(model{"A", map[string]string{
		"a_x.meta": "{\"caption\": \"X\", \"myExtra\": 1,\n \"attributes\": [{\"name\": \"n\", \"dataType\": \"Int\", \"caption\": \"N\", \"documentMIME\": \"x\"}]}",
	}}))
	var text []string
	for _, w := range d.Warnings {
		text = append(text, w.Error())
	}
	all := strings.Join(text, "\n")
	for _, w := range []string{`a_x.meta:1:1: entity a_x: unknown key "myExtra"`, `a_x.meta:2:17: entity a_x /attributes/1: unknown key "documentMIME"`} {
		if !strings.Contains(all, w) {
			t.Errorf("warnings do not contain %q:\n%s", w, all)
		}
	}
}

// corpusDir finds ../shared/corpus/ubjs beside the repository.
func corpusDir(t testing.TB) string {
	dir, _ := filepath.Abs("../../shared/corpus/ubjs")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("UnityBase corpus not found at %s; skipping", dir)
	}
	return dir
}

func TestCorpusModelsLoad(t *testing.T) {
	root := filepath.Join(corpusDir(t), "models")
	var in Input
	for _, n := range [][2]string{{"UB", "ub"}, {"UBA", "uba"}, {"UBS", "ubs"}, {"UBM", "ubm"}, {"UBQ", "ubq"}, {"CDN", "cdn"}} {
		p := filepath.Join(root, n[1])
		in.Models = append(in.Models, ModelSource{Name: n[0], Path: p, FS: os.DirFS(p)})
	}
	in.Languages = []string{"en", "uk"}
	in.ImplicitMixins = []string{"audit"}
	in.BlobStores, in.DefaultBlobStore = []string{"simple", "avatars", "mdb"}, "simple"
	d := mustLoad(t, in)
	if len(d.Entities) < 70 {
		t.Fatalf("only %d entities", len(d.Entities))
	}
	u := d.Entity("uba_user")
	if u == nil || u.Mixins.Unity == nil || u.Mixins.Unity.Entity != "uba_subject" || !d.Entity("uba_subject").IsUnity() {
		t.Fatalf("uba_user unity not understood: %+v", u)
	}
	if u.CaptionIn("uk") == u.Caption {
		t.Error("uba_user has no Ukrainian caption")
	}
	for _, w := range d.Warnings {
		t.Log("warning:", w)
	}
}
