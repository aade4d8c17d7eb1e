// Package synth writes a synthetic UnityBase-style application to disk: an ubconfig.json and
// a number of models full of generated entities. Benchmarks of the metadata load and the
// startup/memory tests use it to get an application of a known size without checking one in.
//
// The output is a pure function of the options: the same Options always produce
// byte-identical files. Every generated entity satisfies the rules ubgo's domain loader
// enforces (identifier names, unique sqlAliases, associated entities that exist, Document
// attributes with a default blob store, ...), so the application loads without errors.
//
// Layout of dir after Generate (Models = 2, Hook and JSModules on):
//
//	ubconfig.json
//	models/m01/package.json
//	models/m01/m01_e0001.meta
//	models/m01/m01_e0001.js
//	models/m01/meta_locale/m01_e0001.meta.uk
//	...
//	models/m02/_hookMetadataTransformation.js
//
// Entity k (1-based, numbered across all models) is named mMM_eKKKK, where MM is its model;
// entities are assigned to models in contiguous blocks, so an entity with a smaller number is
// always in the same or an earlier model.
package synth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Options shape the generated application. Zero values select the defaults.
type Options struct {
	Entities   int      // total entities, spread evenly over Models models
	Models     int      // default 5; lowered to Entities when there are fewer entities than models
	Attributes int      // attributes per entity, default 20; at least the 3–5 special ones (see attributesOf)
	Langs      []string // supported languages, default ["en", "uk"]; a lang file per entity for every language except the first
	// Hook gives the last model a _hookMetadataTransformation.js that sets customSettings on
	// the "code" attribute of every generated entity.
	Hook bool
	// JSModules writes an entity module <entity>.js per entity that adds a method "ping"
	// (sets ctx.mParams.pong = true).
	JSModules bool
	// Driver is "SQLite3" (default) or "PostgreSQL"; it is used as both driver and dialect.
	Driver string
	// DatabaseName is written as is; default "./data/synth.sqlite3" for SQLite3. It is
	// required for PostgreSQL.
	DatabaseName string
}

// Defaults.
const (
	DefaultModels       = 5
	DefaultAttributes   = 20
	DefaultDriver       = "SQLite3"
	DefaultDatabaseName = "./data/synth.sqlite3"
	// EnumGroup is the enum group of every Enum attribute.
	EnumGroup = "SYNTH_STATE"
	// BlobStore is the name of the default blob store of the configuration. A second store,
	// "avatars", is configured because the built-in uba_user entity keeps its avatar there.
	BlobStore = "files"
	// MaxEntities keeps sqlAlias ("s" + the entity number) within 8 characters.
	MaxEntities = 9_999_999

	hookFile = "_hookMetadataTransformation.js"
)

var langRE = regexp.MustCompile(`^[a-z]{2,3}$`)

// withDefaults validates opts and fills in the defaults.
func (o Options) withDefaults() (Options, error) {
	if o.Entities <= 0 {
		return o, fmt.Errorf("synth: Entities must be positive, got %d", o.Entities)
	}
	if o.Entities > MaxEntities {
		return o, fmt.Errorf("synth: at most %d entities, got %d", MaxEntities, o.Entities)
	}
	if o.Models < 0 || o.Attributes < 0 {
		return o, errors.New("synth: Models and Attributes must not be negative")
	}
	if o.Models == 0 {
		o.Models = DefaultModels
	}
	o.Models = min(o.Models, o.Entities)
	if o.Attributes == 0 {
		o.Attributes = DefaultAttributes
	}
	if len(o.Langs) == 0 {
		o.Langs = []string{"en", "uk"}
	}
	seen := map[string]bool{}
	for _, l := range o.Langs {
		if !langRE.MatchString(l) {
			return o, fmt.Errorf("synth: language %q must be a lowercase code of 2 or 3 letters", l)
		}
		if seen[l] {
			return o, fmt.Errorf("synth: language %q is listed twice", l)
		}
		seen[l] = true
	}
	o.Langs = append([]string(nil), o.Langs...)
	switch o.Driver {
	case "":
		o.Driver = DefaultDriver
	case "SQLite3", "PostgreSQL":
	default:
		return o, fmt.Errorf("synth: Driver must be SQLite3 or PostgreSQL, got %q", o.Driver)
	}
	if o.DatabaseName == "" {
		if o.Driver != "SQLite3" {
			return o, fmt.Errorf("synth: DatabaseName is required for %s", o.Driver)
		}
		o.DatabaseName = DefaultDatabaseName
	}
	return o, nil
}

// layout holds the names derived from the options.
type layout struct {
	opts      Options
	modelW    int   // digits of the model number
	entityW   int   // digits of the entity number
	firstOf   []int // firstOf[m] = number of the first entity of model m (0-based m); firstOf[Models] = Entities+1
	modelDirs []string
}

func newLayout(o Options) *layout {
	l := &layout{opts: o, modelW: max(2, len(strconv.Itoa(o.Models))), entityW: max(4, len(strconv.Itoa(o.Entities)))}
	per, extra := o.Entities/o.Models, o.Entities%o.Models
	next := 1
	for m := range o.Models {
		l.firstOf = append(l.firstOf, next)
		next += per
		if m < extra {
			next++
		}
	}
	l.firstOf = append(l.firstOf, next)
	for m := range o.Models {
		l.modelDirs = append(l.modelDirs, "m"+pad(m+1, l.modelW))
	}
	return l
}

// modelOf returns the 0-based model of entity k.
func (l *layout) modelOf(k int) int {
	// Blocks differ in size by at most one: start from the estimate and adjust.
	m := min((k-1)*l.opts.Models/l.opts.Entities, l.opts.Models-1)
	for k < l.firstOf[m] {
		m--
	}
	for k >= l.firstOf[m+1] {
		m++
	}
	return m
}

func (l *layout) entityName(k int) string {
	return l.modelDirs[l.modelOf(k)] + "_e" + pad(k, l.entityW)
}

func (l *layout) modelName(m int) string { return strings.ToUpper(l.modelDirs[m]) }

func pad(n, width int) string {
	s := strconv.Itoa(n)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

// Generate writes dir/ubconfig.json and dir/models/m01..mNN (each with package.json, *.meta
// files, meta_locale/*.meta.<lang> files and, when asked, entity modules and a hook) and
// returns the number of entities and attributes written (attributes as declared in the
// *.meta files, without the implicit ID and mixin attributes).
//
// Each dir/models/mNN folder is removed before it is written, so a previous, larger run
// leaves no stray entities behind; nothing else in dir is removed.
func Generate(dir string, opts Options) (entities, attributes int, err error) {
	o, err := opts.withDefaults()
	if err != nil {
		return 0, 0, err
	}
	l := newLayout(o)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, 0, err
	}
	if err := writeFile(filepath.Join(dir, "ubconfig.json"), l.config()); err != nil {
		return 0, 0, err
	}
	counts := make([]int, o.Models)
	errs := make([]error, o.Models)
	var wg sync.WaitGroup
	for m := range o.Models {
		wg.Go(func() {
			counts[m], errs[m] = l.writeModel(filepath.Join(dir, "models", l.modelDirs[m]), m)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, 0, err
	}
	for _, c := range counts {
		attributes += c
	}
	return o.Entities, attributes, nil
}

// writeModel writes model m into path and returns the number of attributes written.
func (l *layout) writeModel(path string, m int) (int, error) {
	if err := os.RemoveAll(path); err != nil {
		return 0, err
	}
	locale := filepath.Join(path, "meta_locale")
	if err := os.MkdirAll(locale, 0o755); err != nil {
		return 0, err
	}
	pkg := fmt.Sprintf(`{
  "name": "synth-%s",
  "version": "1.0.0",
  "config": {
    "ubmodel": {
      "name": %q
    }
  }
}
`, l.modelDirs[m], l.modelName(m))
	if err := writeFile(filepath.Join(path, "package.json"), []byte(pkg)); err != nil {
		return 0, err
	}
	if l.opts.Hook && m == l.opts.Models-1 {
		if err := writeFile(filepath.Join(path, hookFile), []byte(hookJS)); err != nil {
			return 0, err
		}
	}
	attrs := 0
	var buf bytes.Buffer
	for k := l.firstOf[m]; k < l.firstOf[m+1]; k++ {
		e := l.entity(k)
		attrs += len(e.meta.Attributes)
		if err := writeJSON(&buf, filepath.Join(path, e.name+".meta"), e.meta); err != nil {
			return 0, err
		}
		for _, lang := range l.opts.Langs[1:] {
			if err := writeJSON(&buf, filepath.Join(locale, e.name+".meta."+lang), e.localized(lang)); err != nil {
				return 0, err
			}
		}
		if l.opts.JSModules {
			if err := writeFile(filepath.Join(path, e.name+".js"), entityJS(e.name)); err != nil {
				return 0, err
			}
		}
	}
	return attrs, nil
}

func writeJSON(buf *bytes.Buffer, path string, v any) error {
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("synth: %s: %w", path, err)
	}
	return writeFile(path, buf.Bytes())
}

func writeFile(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return nil
}

// config renders ubconfig.json.
func (l *layout) config() []byte {
	type model struct {
		Name string `json:"name,omitempty"`
		Path string `json:"path,omitempty"`
	}
	models := []model{{Name: "UB"}, {Name: "UBA"}}
	for _, d := range l.modelDirs {
		models = append(models, model{Path: "./models/" + d})
	}
	type connection struct {
		Name         string   `json:"name"`
		Driver       string   `json:"driver"`
		Dialect      string   `json:"dialect"`
		IsDefault    bool     `json:"isDefault"`
		DatabaseName string   `json:"databaseName"`
		SupportLang  []string `json:"supportLang"`
	}
	type blobStore struct {
		Name      string `json:"name"`
		IsDefault bool   `json:"isDefault,omitempty"`
		Path      string `json:"path"`
	}
	type application struct {
		DefaultLang string `json:"defaultLang"`
		Domain      struct {
			Models []model `json:"models"`
		} `json:"domain"`
		Connections []connection `json:"connections"`
		BlobStores  []blobStore  `json:"blobStores"`
	}
	app := application{
		DefaultLang: l.opts.Langs[0],
		Connections: []connection{{Name: "main", Driver: l.opts.Driver, Dialect: l.opts.Driver, IsDefault: true,
			DatabaseName: l.opts.DatabaseName, SupportLang: l.opts.Langs}},
		BlobStores: []blobStore{
			{Name: BlobStore, IsDefault: true, Path: "./data/files"},
			{Name: "avatars", Path: "./data/avatars"},
		},
	}
	app.Domain.Models = models
	cfg := struct {
		HTTPServer  map[string]string   `json:"httpServer"`
		Logging     map[string][]string `json:"logging"`
		Security    map[string][]string `json:"security"`
		Application application         `json:"application"`
	}{
		HTTPServer:  map[string]string{"host": "127.0.0.1", "port": "%UB_PORT||8881%"},
		Logging:     map[string][]string{"levels": {"Error"}},
		Security:    map[string][]string{"authenticationMethods": {"UB"}},
		Application: app,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(cfg); err != nil {
		panic(err) // plain structs, maps and strings cannot fail to encode
	}
	return buf.Bytes()
}

// hookJS marks the "code" attribute of every generated entity; entity names of the form
// m<digits>_e<digits> are the generated ones (link entities of Many attributes are not).
const hookJS = `/**
 * Metadata hook of the synthetic application: touches every generated entity by adding
 * customSettings to its "code" attribute.
 * @param {Object<string, {modelName: string, meta: object, langs: ?object}>} domainJSON
 * @param {object} serverConfig
 */
module.exports = function synthMetadataHook (domainJSON, serverConfig) {
  const generated = /^m\d+_e\d+$/
  for (const code of Object.keys(domainJSON)) {
    if (!generated.test(code)) continue
    const attrs = domainJSON[code].meta.attributes
    for (let i = 0; i < attrs.length; i++) {
      if (attrs[i].name === 'code') {
        attrs[i].customSettings = Object.assign({}, attrs[i].customSettings, { synthHook: true })
        break
      }
    }
  }
}
`

func entityJS(name string) []byte {
	return []byte("/* global " + name + " */\n" +
		"// Entity module of the synthetic entity " + name + ".\n" +
		"// eslint-disable-next-line camelcase\n" +
		"const me = " + name + "\n" +
		"me.entity.addMethod('ping')\n" +
		"/**\n * Answers with mParams.pong = true.\n * @param {ubMethodParams} ctx\n */\n" +
		"me.ping = function (ctx) {\n  ctx.mParams.pong = true\n}\n")
}
