package jsvm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ubgo/ubgo/config"
	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/models"
)

// jsModel is a model as far as server-side JavaScript is concerned: where its files are
// and how other code may refer to it.
type jsModel struct {
	name       string
	fsys       fs.FS
	dir        string // how users know the folder: an absolute path or "builtin:<NAME>"
	osPath     string // the absolute folder on disk; "" for built-in models
	moduleName string // package.json "name": require('<moduleName>/x') reaches into the model
	main       string // package.json "main"; "" means index.js when present
	scripts    bool   // false for models whose JavaScript ubgo must not run (UB, public models)
}

// display is the path of a model file in messages and stacks.
func (m *jsModel) display(rel string) string {
	if rel == "" || rel == "." {
		return m.dir
	}
	return strings.TrimSuffix(m.dir, "/") + "/" + rel
}

// buildModels pairs every model of the domain with its files from the configuration.
func buildModels(dom *domain.Domain, cfg *config.Config) ([]*jsModel, error) {
	out := make([]*jsModel, 0, len(dom.Models))
	for _, dm := range dom.Models {
		m := &jsModel{name: dm.Name, dir: dm.Path, moduleName: dm.ModuleName, scripts: true}
		var cm *config.Model
		if cfg != nil {
			cm, _ = cfg.Model(dm.Name)
		}
		switch {
		case cm != nil && cm.FS != nil:
			m.fsys, m.main = cm.FS, cm.Main
			if cm.ModuleName != "" {
				m.moduleName = cm.ModuleName
			}
		case dm.Builtin:
			fsys, ok := models.Builtin(dm.Name)
			if !ok {
				return nil, fmt.Errorf("jsvm: model %s: not a built-in model", dm.Name)
			}
			m.fsys = fsys
		default:
			m.fsys = os.DirFS(dm.Path)
		}
		if !dm.Builtin && filepath.IsAbs(dm.Path) {
			m.osPath = filepath.Clean(dm.Path)
		}
		if dm.Builtin && !strings.HasPrefix(m.dir, "builtin:") {
			m.dir = "builtin:" + dm.Name
		}
		// UnityBase skips the UB model when it loads models (its JavaScript is the server
		// API, which ubgo implements in Go); browser-only models have no server code.
		m.scripts = dm.Name != "UB" && !dm.IsPublic
		out = append(out, m)
	}
	return out, nil
}

// skipEntry reports whether the entity module scan ignores a folder entry (reference
// §3.2: hidden and "_" files, and the modules, public and node_modules folders).
func skipEntry(name string, dir bool) bool {
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
		return true
	}
	return dir && (name == "modules" || name == "public" || name == "node_modules")
}

// entityModules lists the model's entity modules in the order UnityBase requires them:
// "X.js" for every entity X of the domain, in the model root and one folder level below,
// by file name, each folder visited where it appears in the listing.
func entityModules(m *jsModel, dom *domain.Domain) ([]string, error) {
	var out []string
	var scan func(dir string, depth int) error
	scan = func(dir string, depth int) error {
		entries, err := fs.ReadDir(m.fsys, dir)
		if err != nil {
			return fmt.Errorf("jsvm: model %s: read %s: %w", m.name, m.display(dir), err)
		}
		for _, e := range entries {
			if skipEntry(e.Name(), e.IsDir()) {
				continue
			}
			rel := path.Join(dir, e.Name())
			if e.IsDir() {
				if depth == 0 {
					if err := scan(rel, 1); err != nil {
						return err
					}
				}
				continue
			}
			if entity, ok := strings.CutSuffix(e.Name(), ".js"); ok && dom.Entity(entity) != nil {
				out = append(out, rel)
			}
		}
		return nil
	}
	return out, scan(".", 0)
}

// serverLocales reads serverLocale/*-<lang>.json for the application's languages, in file
// name order, as UnityBase's loadServerLocale does.
func serverLocales(m *jsModel, langs []string) ([]localeLayer, error) {
	entries, err := fs.ReadDir(m.fsys, "serverLocale")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("jsvm: model %s: read %s: %w", m.name, m.display("serverLocale"), err)
	}
	var out []localeLayer
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		for _, lang := range langs {
			if !strings.HasSuffix(e.Name(), "-"+lang+".json") {
				continue
			}
			rel := "serverLocale/" + e.Name()
			src, err := fs.ReadFile(m.fsys, rel)
			if err != nil {
				return nil, fmt.Errorf("jsvm: model %s: read %s: %w", m.name, m.display(rel), err)
			}
			var dict map[string]any
			if err := json.Unmarshal(trimBOM(src), &dict); err != nil {
				return nil, jsonError(m, rel, src, err)
			}
			out = append(out, localeLayer{lang: dict})
		}
	}
	return out, nil
}

// entryPoint is the model's package entry: package.json "main", else index.js when the
// model has one, else "".
func (p *Program) entryPoint(m *jsModel) (*compiled, error) {
	if m.main == "" {
		if !isFile(m.fsys, "index.js") {
			return nil, nil
		}
		return p.compile(m, "index.js"), nil
	}
	t, err := p.resolveIn(m, ".", true)
	if err != nil && !hasJS(m.fsys) {
		// A copy of a model's metadata without its scripts (UnityBase's public models are
		// often shipped so for tooling): there is nothing to run, which is not an error.
		p.log.Warn("the model's package.json main is absent and the model has no JavaScript; none is run",
			"model", m.name, "main", m.main)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("jsvm: model %s: package.json main %q: %w", m.name, m.main, err)
	}
	if t.file == nil {
		return nil, fmt.Errorf("jsvm: model %s: package.json main %q is not a file of the model", m.name, m.main)
	}
	return t.file, nil
}

// jsonError reports a broken JSON file with the position of the problem.
func jsonError(m *jsModel, rel string, src []byte, err error) *Error {
	e := internalError("invalid JSON: %v", err)
	e.Model, e.File, e.cause = m.name, m.display(rel), err
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		e.Line, e.Column = offsetToLineCol(src, se.Offset)
	}
	return e
}

// offsetToLineCol converts an encoding/json offset (just after the bad byte) into a
// 1-based line and column.
func offsetToLineCol(src []byte, off int64) (line, col int) {
	off = min(off, int64(len(src)))
	if off > 0 {
		off--
	}
	before := src[:off]
	line = 1 + strings.Count(string(before), "\n")
	col = int(off) - (strings.LastIndexByte(string(before), '\n') + 1) + 1
	return line, col
}

func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return b[3:]
	}
	return b
}

func isFile(fsys fs.FS, rel string) bool {
	if !fs.ValidPath(rel) {
		return false
	}
	st, err := fs.Stat(fsys, rel)
	return err == nil && !st.IsDir()
}

// modelOfOSPath finds the model whose folder holds the absolute path abs (the innermost
// one when model folders nest) and the slash path of abs inside it.
func (p *Program) modelOfOSPath(abs string) (*jsModel, string, bool) {
	var best *jsModel
	var bestRel string
	for _, m := range p.models {
		if m.osPath == "" {
			continue
		}
		r, err := filepath.Rel(m.osPath, abs)
		if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) || filepath.IsAbs(r) {
			continue
		}
		if best == nil || len(m.osPath) > len(best.osPath) {
			best, bestRel = m, filepath.ToSlash(r)
		}
	}
	return best, bestRel, best != nil
}

// sortedNames returns the keys of m in order.
func sortedNames[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// hasJS reports whether a model folder holds any JavaScript file.
func hasJS(fsys fs.FS) bool {
	found := false
	fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || found {
			return fs.SkipAll
		}
		if d.IsDir() && (path == "node_modules" || strings.HasPrefix(d.Name(), ".") && path != ".") {
			return fs.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".js") {
			found = true
			return fs.SkipAll
		}
		return nil
	})
	return found
}
