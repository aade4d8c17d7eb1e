package domain

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/ubgo/ubgo/internal/jsonc"
)

// HookFileName is the metadata transformation hook a model may have in its root folder.
const HookFileName = "_hookMetadataTransformation.js"

// Input is everything Load needs; see FromConfig to build it from a loaded configuration.
type Input struct {
	Models           []ModelSource // in load order
	DefaultLang      string
	Languages        []string // supported languages; lang files for other languages are ignored
	ImplicitMixins   []string // added to every entity that has a "mixins" object
	BlobStores       []string // configured blob store names
	DefaultBlobStore string
	Connections      []string // configured connection names; nil skips the connectionName check
	// Expand replaces %VAR||default% macros (used in entity and attribute mappings); nil leaves text unchanged.
	Expand func(string) string
	// ServerConfig is handed to transformation hooks as their second argument.
	ServerConfig map[string]any
	// Transform runs the models' transformation hooks; nil makes a model with a hook an error.
	Transform TransformFunc
	Logger    *slog.Logger
}

// ModelSource is a model as the configuration resolved it.
type ModelSource struct {
	Name       string
	Path       string // shown to users and used in messages
	FS         fs.FS  // the model's files
	Version    string
	ModuleName string
	PublicPath string
	IsPublic   bool
	Builtin    bool
}

// Hook is a transformation hook to run.
type Hook struct {
	Model string
	FS    fs.FS
	Dir   string // the model's Path
	File  string // slash path inside FS
}

// TransformFunc runs hooks in order over domainJSON ({entity: {modelName, meta, langs}}) and
// returns the transformed value.
type TransformFunc func(ctx context.Context, hooks []Hook, domainJSON, serverConfig map[string]any) (map[string]any, error)

// sourceFile is one *.meta or *.meta.<lang> file.
type sourceFile struct {
	model   int    // index into Input.Models
	rel     string // slash path inside the model FS
	display string // path shown to users
	raw     []byte
	doc     any
}

// entitySource collects the files of one entity across models.
type entitySource struct {
	name  string
	metas []*sourceFile
	langs map[string][]*sourceFile
}

type loader struct {
	in       Input
	log      *slog.Logger
	entities map[string]*entitySource
	order    []string // entity names in order of first appearance
	hooks    []Hook
	errs     []*Error
	warns    []*Error
	mu       sync.Mutex
	hookRan  bool
	implicit map[string]map[string]bool // entity → attributes added by nativeInit
}

// Load builds the domain. The returned error, when not nil, joins *Error values (use
// errors.As, or Unwrap() []error to list them).
func Load(ctx context.Context, in Input) (*Domain, error) {
	l := &loader{in: in, log: in.Logger, entities: map[string]*entitySource{}}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if in.DefaultLang == "" {
		l.in.DefaultLang = "en"
	}
	if len(l.in.Languages) == 0 {
		l.in.Languages = []string{l.in.DefaultLang}
	}
	if err := l.scan(); err != nil {
		return nil, err
	}
	l.parseAll()
	if len(l.errs) > 0 {
		return nil, l.failure()
	}
	domainJSON := l.merge()
	if len(l.errs) > 0 {
		return nil, l.failure()
	}
	l.coreTransform(domainJSON)
	if len(l.hooks) > 0 {
		if l.in.Transform == nil {
			return nil, &Error{File: l.hooks[0].Dir + "/" + l.hooks[0].File, Msg: "the model has a transformation hook but no JavaScript engine was configured to run it"}
		}
		out, err := l.in.Transform(ctx, l.hooks, domainJSON, l.in.ServerConfig)
		if err != nil {
			return nil, fmt.Errorf("metadata transformation hook: %w", err)
		}
		domainJSON = out
		l.hookRan = true
		l.checkHookOutput(domainJSON)
		if len(l.errs) > 0 {
			return nil, l.failure()
		}
		l.coreTransform(domainJSON)
	}
	l.nativeInit(domainJSON)
	l.validateSchema(domainJSON)
	if len(l.errs) > 0 {
		return nil, l.failure()
	}
	d := l.build(domainJSON)
	l.check(d)
	if len(l.errs) > 0 {
		return nil, l.failure()
	}
	sortErrors(l.warns)
	d.Warnings = l.warns
	return d, nil
}

func (l *loader) addErr(e *Error) {
	l.mu.Lock()
	l.errs = append(l.errs, e)
	l.mu.Unlock()
}

func (l *loader) addWarn(e *Error) {
	l.mu.Lock()
	l.warns = append(l.warns, e)
	l.mu.Unlock()
}

// failure joins the collected errors in a stable order.
func (l *loader) failure() error {
	sortErrors(l.errs)
	errs := make([]error, len(l.errs))
	for i, e := range l.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// scan finds the meta, lang and hook files of every model (UnityBase rules: the model root
// and one folder level; names starting with "." or "_" and the folders modules, public and
// node_modules are skipped).
func (l *loader) scan() error {
	for mi, m := range l.in.Models {
		if m.IsPublic || m.FS == nil {
			continue
		}
		if _, err := fs.Stat(m.FS, HookFileName); err == nil {
			l.hooks = append(l.hooks, Hook{Model: m.Name, FS: m.FS, Dir: m.Path, File: HookFileName})
		}
		root, err := fs.ReadDir(m.FS, ".")
		if err != nil {
			return &Error{File: m.Path, Msg: fmt.Sprintf("model %s: cannot read the model folder: %v", m.Name, err)}
		}
		var subdirs []string
		for _, de := range root {
			name := de.Name()
			if skipName(name) {
				continue
			}
			if de.IsDir() {
				subdirs = append(subdirs, name)
				continue
			}
			l.addFile(mi, name)
		}
		for _, dir := range subdirs {
			entries, err := fs.ReadDir(m.FS, dir)
			if err != nil {
				return &Error{File: m.Path + "/" + dir, Msg: fmt.Sprintf("model %s: cannot read folder: %v", m.Name, err)}
			}
			for _, de := range entries {
				if de.IsDir() || skipName(de.Name()) {
					continue
				}
				l.addFile(mi, dir+"/"+de.Name())
			}
		}
	}
	return nil
}

func skipName(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
		name == "modules" || name == "public" || name == "node_modules"
}

func (l *loader) addFile(model int, rel string) {
	base := path.Base(rel)
	i := strings.Index(base, ".meta")
	if i <= 0 {
		return
	}
	code, rest := base[:i], base[i+len(".meta"):]
	lang := ""
	switch {
	case rest == "":
	case strings.HasPrefix(rest, ".") && len(rest) > 1 && !strings.Contains(rest[1:], "."):
		lang = rest[1:]
		if !slices.Contains(l.in.Languages, lang) {
			return
		}
	default:
		return
	}
	src := l.entities[code]
	if src == nil {
		src = &entitySource{name: code, langs: map[string][]*sourceFile{}}
		l.entities[code] = src
	}
	f := &sourceFile{model: model, rel: rel, display: joinDisplay(l.in.Models[model].Path, rel)}
	if lang == "" {
		if len(src.metas) == 0 {
			l.order = append(l.order, code)
		}
		src.metas = append(src.metas, f)
	} else {
		src.langs[lang] = append(src.langs[lang], f)
	}
}

func joinDisplay(dir, rel string) string {
	if strings.HasSuffix(dir, "/") || strings.HasSuffix(dir, ":") {
		return dir + rel
	}
	return dir + "/" + rel
}

// parseAll reads and parses every file, using all cores: a large application has thousands.
func (l *loader) parseAll() {
	var files []*sourceFile
	for _, name := range l.order {
		src := l.entities[name]
		files = append(files, src.metas...)
		for _, lf := range src.langs {
			files = append(files, lf...)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), max(1, len(files)/32))
	next := make(chan *sourceFile)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range next {
				l.parseFile(f)
			}
		}()
	}
	for _, f := range files {
		next <- f
	}
	close(next)
	wg.Wait()
}

func (l *loader) parseFile(f *sourceFile) {
	raw, err := fs.ReadFile(l.in.Models[f.model].FS, f.rel)
	if err != nil {
		l.addErr(&Error{File: f.display, Msg: fmt.Sprintf("cannot read: %v", err)})
		return
	}
	f.raw = raw
	doc, dups, err := jsonc.ParseDups(raw)
	if err != nil {
		var se *jsonc.SyntaxError
		if errors.As(err, &se) {
			l.addErr(&Error{File: f.display, Line: se.Line, Col: se.Col, Msg: "invalid JSON: " + se.Msg})
		} else {
			l.addErr(&Error{File: f.display, Msg: "invalid JSON: " + err.Error()})
		}
		return
	}
	if _, ok := doc.(map[string]any); !ok {
		l.addErr(&Error{File: f.display, Line: 1, Col: 1, Msg: "a metadata file must contain a JSON object"})
		return
	}
	for _, d := range dups {
		line, col := jsonc.Position(raw, d.Offset)
		l.addWarn(&Error{File: f.display, Line: line, Col: col, Pointer: d.Pointer, Msg: "duplicate key; the last value wins"})
	}
	f.doc = doc
}

// merge combines each entity's files in model order and returns the domain JSON that hooks see.
func (l *loader) merge() map[string]any {
	out := make(map[string]any, len(l.order))
	for _, name := range l.order {
		src := l.entities[name]
		base := src.metas[0]
		bm := base.doc.(map[string]any)
		_, hasCaption := bm["caption"]
		_, hasAttrs := bm["attributes"]
		if !hasCaption || !hasAttrs {
			missing := "caption"
			if hasCaption {
				missing = "attributes"
			} else if !hasAttrs {
				missing = "caption and attributes"
			}
			l.addErr(&Error{File: base.display, Line: 1, Col: 1, Entity: name,
				Msg: fmt.Sprintf("looks like a partial definition: the first model that defines the entity (%s) must give %s; a later model can only extend it", l.in.Models[base.model].Name, missing)})
			continue
		}
		ok := true
		for _, f := range src.metas {
			ok = l.checkFormat(name, f) && ok
		}
		if !ok {
			continue
		}
		meta := jsonc.Clone(bm).(map[string]any)
		var overriddenBy []string
		for _, f := range src.metas[1:] {
			meta = jsonc.Merge(meta, f.doc).(map[string]any)
			if mn := l.in.Models[f.model].Name; !slices.Contains(overriddenBy, mn) {
				overriddenBy = append(overriddenBy, mn)
			}
		}
		if len(overriddenBy) > 0 {
			meta["overriddenBy"] = strings.Join(overriddenBy, ",")
		}
		var langs any
		if len(src.langs) > 0 {
			lm := make(map[string]any, len(src.langs))
			for lang, files := range src.langs {
				var merged any = map[string]any{}
				for _, f := range files {
					if f.doc == nil {
						continue
					}
					merged = jsonc.Merge(merged, f.doc)
				}
				lm[lang] = merged
			}
			langs = lm
		}
		out[name] = map[string]any{
			"modelName": l.in.Models[base.model].Name,
			"meta":      meta,
			"langs":     langs,
		}
	}
	return out
}

// checkFormat rejects the UnityBase 4 object form of collections that must be arrays.
func (l *loader) checkFormat(entity string, f *sourceFile) bool {
	m := f.doc.(map[string]any)
	ok := true
	bad := func(ptr, what string) {
		off, _ := jsonc.Locate(f.raw, ptr)
		line, col := jsonc.Position(f.raw, off)
		l.addErr(&Error{File: f.display, Line: line, Col: col, Entity: entity, Pointer: ptr,
			Msg: what + " must be an array (the UnityBase 4 object form is not supported; convert it with `ubcli meta-tr`)"})
		ok = false
	}
	if v, present := m["attributes"]; present {
		if attrs, isArr := v.([]any); !isArr {
			bad("/attributes", "attributes")
		} else {
			for i, a := range attrs {
				am, isObj := a.(map[string]any)
				if !isObj {
					continue // the schema reports it with a better message
				}
				if mp, present := am["mapping"]; present {
					if _, isArr := mp.([]any); !isArr {
						bad(jsonc.JoinPointer("attributes", fmt.Sprint(i), "mapping"), "attribute mapping")
					}
				}
			}
		}
	}
	if v, present := m["mapping"]; present {
		if _, isArr := v.([]any); !isArr {
			bad("/mapping", "mapping")
		}
	}
	return ok
}

// checkHookOutput verifies that hooks left a well-formed domain JSON behind.
func (l *loader) checkHookOutput(domainJSON map[string]any) {
	for name, v := range domainJSON {
		entry, ok := v.(map[string]any)
		if !ok {
			l.addErr(&Error{Entity: name, Msg: "a transformation hook left a value that is not an object {modelName, meta, langs}"})
			continue
		}
		if _, ok := entry["meta"].(map[string]any); !ok {
			l.addErr(&Error{Entity: name, Pointer: "/meta", Msg: "a transformation hook left an entity without a meta object"})
			continue
		}
		mn, _ := entry["modelName"].(string)
		if l.modelIndex(mn) < 0 {
			l.addErr(&Error{Entity: name, Msg: fmt.Sprintf("a transformation hook set modelName %q, which is not a model of the application", mn)})
		}
		if lg, ok := entry["langs"]; ok && lg != nil {
			if _, ok := lg.(map[string]any); !ok {
				l.addErr(&Error{Entity: name, Pointer: "/langs", Msg: "a transformation hook left langs that is neither an object nor null"})
			}
		}
	}
}

func (l *loader) modelIndex(name string) int {
	for i, m := range l.in.Models {
		if m.Name == name {
			return i
		}
	}
	return -1
}
