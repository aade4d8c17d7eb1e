package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/ubgo/ubgo/internal/jsonc"
	"github.com/ubgo/ubgo/version"
)

// publicOnlyPath is the path UnityBase writes for a browser-only model (its files are at publicPath).
const publicOnlyPath = "_public_only_"

// modelItem is one entry of application.domain.models with where to report about it.
type modelItem struct {
	item  map[string]any
	ptr   string // pointer of the item in the final config
	where string // pointer in the main config used to locate it (the item, or vendorModels/customerModels)
	index int
}

// resolveModels resolves application.domain.models, then vendorModels and customerModels
// (reference §1.4 step 7), reading each model's package.json.
func (l *loader) resolveModels(root map[string]any) {
	app, _ := root["application"].(map[string]any)
	dom, _ := app["domain"].(map[string]any)
	if dom == nil {
		return
	}
	list, ok := dom["models"].([]any)
	if !ok {
		return // the schema check reports it
	}
	var items []modelItem
	for i, it := range list {
		m, ok := it.(map[string]any)
		if !ok {
			continue // the schema check reports it
		}
		ptr := "/application/domain/models/" + strconv.Itoa(i)
		items = append(items, modelItem{item: m, ptr: ptr, where: ptr, index: i})
	}
	envDir := func(name string) string {
		if v, ok := l.cfg.env.get(name); ok && v != "" {
			if filepath.IsAbs(v) {
				return v
			}
			return filepath.Join(l.cfg.Dir, v)
		}
		return l.cfg.Dir
	}
	add := func(key, rootDir string) {
		csv, _ := dom[key].(string)
		for _, name := range strings.Split(csv, ":") {
			if name = strings.TrimSpace(name); name == "" {
				continue
			}
			m := map[string]any{"path": filepath.Join(rootDir, name)}
			ptr := "/application/domain/models/" + strconv.Itoa(len(list))
			list = append(list, m)
			items = append(items, modelItem{item: m, ptr: ptr, where: "/application/domain/" + key, index: len(list) - 1})
		}
	}
	add("vendorModels", filepath.Join(envDir("UB_APPHOME"), "models"))
	cmodels := filepath.Join(envDir("UB_APPDATA"), "cmodels")
	add("customerModels", cmodels)
	// a cust folder in cmodels is added automatically
	if st, err := os.Stat(filepath.Join(cmodels, "cust")); err == nil && st.IsDir() {
		custDir := filepath.Join(cmodels, "cust")
		listed := false
		for _, it := range items {
			p, _ := it.item["path"].(string)
			if p != "" && (p == custDir || filepath.Join(l.cfg.Dir, p) == custDir) {
				listed = true
			}
		}
		if !listed {
			m := map[string]any{"path": custDir}
			ptr := "/application/domain/models/" + strconv.Itoa(len(list))
			list = append(list, m)
			items = append(items, modelItem{item: m, ptr: ptr, where: "/application/domain", index: len(list) - 1})
		}
	}
	dom["models"] = list

	firstByName := map[string]modelItem{}
	for _, it := range items {
		m, ok := l.resolveModel(it)
		if !ok {
			continue
		}
		if first, dup := firstByName[m.Name]; dup {
			fe := l.mainErr(first.where, "")
			at := fmt.Sprintf("%s:%d:%d", fe.File, fe.Line, fe.Col)
			l.fail(l.itemErr(it, "", fmt.Sprintf("duplicate model name %q: already used by the model at %s (%s)", m.Name, at, first.ptr)))
			continue
		}
		firstByName[m.Name] = it
		l.cfg.Models = append(l.cfg.Models, m)
	}
}

// itemErr locates a problem with a model item (sub is a key inside the item, or "").
func (l *loader) itemErr(it modelItem, sub, msg string) *Error {
	where, ptr := it.where, it.ptr
	if sub != "" {
		ptr += "/" + sub
		if where == it.ptr {
			where = ptr
		}
	}
	e := l.mainErr(where, msg)
	e.Pointer = ptr
	return e
}

// resolveModel resolves one model item and reads its package.json.
func (l *loader) resolveModel(it modelItem) (Model, bool) {
	var m Model
	name, _ := it.item["name"].(string)
	p, _ := it.item["path"].(string)
	var pkg fileRef
	switch {
	case p == "" && name != "" && l.opts.Builtin != nil:
		fsys, ok := l.opts.Builtin(name)
		if !ok {
			l.fail(l.itemErr(it, "name", fmt.Sprintf("model %q has no \"path\" and is not a built-in model", name)))
			return m, false
		}
		m.Builtin, m.FS, m.Path = true, fsys, "builtin:"+name
		pkg = fsRef(fsys, m.Path+"/", "package.json")
	case p == "" && name != "":
		l.fail(l.itemErr(it, "name", fmt.Sprintf("model %q has no \"path\" and is not a built-in model", name)))
		return m, false
	case p == "":
		l.fail(l.itemErr(it, "", "model has neither \"path\" nor \"name\""))
		return m, false
	default:
		sub := "path"
		if p == publicOnlyPath {
			pp, _ := it.item["publicPath"].(string)
			if pp == "" {
				l.fail(l.itemErr(it, "path", "model with path \"_public_only_\" has no \"publicPath\""))
				return m, false
			}
			p, sub, m.IsPublic = pp, "publicPath", true
		}
		real := p
		if !filepath.IsAbs(real) {
			real = filepath.Join(l.cfg.Dir, real)
		}
		real = filepath.Clean(real)
		st, err := os.Stat(real)
		switch {
		case err != nil && errors.Is(err, fs.ErrNotExist):
			l.fail(l.itemErr(it, sub, fmt.Sprintf("model folder %s does not exist", real)))
			return m, false
		case err != nil:
			l.fail(l.itemErr(it, sub, fmt.Sprintf("model folder %s: %v", real, err)))
			return m, false
		case !st.IsDir():
			l.fail(l.itemErr(it, sub, fmt.Sprintf("model path %s is not a folder", real)))
			return m, false
		}
		m.Path, m.FS = real, os.DirFS(real)
		pkg = osRef(filepath.Join(real, "package.json"))
	}
	ok := l.readPackage(&m, pkg, it, name)
	if m.Name == "" {
		m.Name = name
	}
	if m.Name == "" {
		m.Name = filepath.Base(m.Path)
	}
	if !m.Builtin {
		switch pp, _ := it.item["publicPath"].(string); {
		case pp != "" && filepath.IsAbs(pp):
			m.PublicPath = filepath.Clean(pp)
		case pp != "":
			m.PublicPath = filepath.Join(l.cfg.Dir, pp)
		case m.IsPublic:
			m.PublicPath = m.Path
		default:
			m.PublicPath = filepath.Join(m.Path, "public")
		}
	}
	return m, ok
}

var enginesRE = regexp.MustCompile(`^\s*>=\s*v?(\d+)\.(\d+)\.(\d+)\s*$`)

// readPackage reads the model's package.json (an absent one is fine).
func (l *loader) readPackage(m *Model, ref fileRef, it modelItem, cfgName string) bool {
	data, err := ref.read()
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return true
		}
		l.fail(&Error{File: ref.display, Msg: "cannot read: " + err.Error()})
		return false
	}
	d := newDoc([]piece{{text: string(data), src: &srcFile{name: ref.display, data: data}, verbatim: true}})
	v, err := jsonc.Parse(data)
	if err != nil {
		var se *jsonc.SyntaxError
		if errors.As(err, &se) {
			l.fail(d.errAt(se.Offset, "", "invalid JSON: "+se.Msg))
		} else {
			l.fail(&Error{File: ref.display, Msg: "invalid JSON: " + err.Error()})
		}
		return false
	}
	pj, isObj := v.(map[string]any)
	if !isObj {
		l.fail(d.errAt(firstValue(d.text), "", "package.json must be a JSON object"))
		return false
	}
	at := func(ptr, msg string) *Error {
		off, _ := jsonc.Locate(d.text, ptr)
		e := d.errAt(off, "", msg)
		return e
	}
	m.ModuleName, _ = pj["name"].(string)
	m.Version, _ = pj["version"].(string)
	m.Main, _ = pj["main"].(string)
	if m.ModuleName == "" {
		l.warn(at("", "package.json has no \"name\""))
	}
	ok := true
	if eng, has := pj["engines"]; has {
		em, isObj := eng.(map[string]any)
		if !isObj {
			l.fail(at("/engines", "\"engines\" must be an object"))
			ok = false
		} else if req, has := em["ub"]; has {
			s, isStr := req.(string)
			m.EnginesUB = s
			mm := enginesRE.FindStringSubmatch(s)
			switch {
			case !isStr || mm == nil:
				l.fail(at("/engines/ub", fmt.Sprintf("engines.ub %s is not supported: ubgo understands only a requirement of the form \">=x.y.z\"", renderJSON(req))))
				ok = false
			case compareVersions(mm[1:], strings.Split(version.UBCompat, ".")) > 0:
				l.fail(at("/engines/ub", fmt.Sprintf("model %s requires UnityBase >=%s.%s.%s, ubgo is compatible with %s", modelLabel(m, pj, cfgName), mm[1], mm[2], mm[3], version.UBCompat)))
				ok = false
			}
		}
	}
	if c, _ := pj["config"].(map[string]any); c != nil {
		if um, _ := c["ubmodel"].(map[string]any); um != nil {
			if n, _ := um["name"].(string); n != "" {
				if cfgName != "" && cfgName != n {
					e := l.itemErr(it, "name", fmt.Sprintf("model name %q differs from config.ubmodel.name %q in %s: %q is used", cfgName, n, ref.display, n))
					l.warn(e)
				}
				m.Name = n
			}
			if pub, _ := um["isPublic"].(bool); pub {
				m.IsPublic = true
			}
		}
	}
	switch b := pj["browser"].(type) {
	case string:
		m.Browser.Dev = browserPath(b, m.ModuleName, m, cfgName)
		m.Browser.Prod = m.Browser.Dev
	case map[string]any:
		dev, _ := b["dev"].(string)
		prod, _ := b["prod"].(string)
		if dev == "" {
			dev = prod
		}
		if prod == "" {
			prod = dev
		}
		m.Browser.Dev = browserPath(dev, m.ModuleName, m, cfgName)
		m.Browser.Prod = browserPath(prod, m.ModuleName, m, cfgName)
	}
	return ok
}

// browserPath prefixes a relative browser entry with the package name (or the model name).
func browserPath(p, pkgName string, m *Model, cfgName string) string {
	if p == "" || strings.HasPrefix(p, "/") {
		return p
	}
	prefix := pkgName
	if prefix == "" {
		prefix = m.Name
	}
	if prefix == "" {
		prefix = cfgName
	}
	return path.Join(prefix, filepath.ToSlash(p))
}

func modelLabel(m *Model, pj map[string]any, cfgName string) string {
	if c, _ := pj["config"].(map[string]any); c != nil {
		if um, _ := c["ubmodel"].(map[string]any); um != nil {
			if n, _ := um["name"].(string); n != "" {
				return n
			}
		}
	}
	if cfgName != "" {
		return cfgName
	}
	if m.ModuleName != "" {
		return m.ModuleName
	}
	return m.Path
}

// compareVersions compares dotted numeric versions.
func compareVersions(a, b []string) int {
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y int
		if i < len(a) {
			x, _ = strconv.Atoi(a[i])
		}
		if i < len(b) {
			y, _ = strconv.Atoi(b[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func renderJSON(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case nil:
		return "null"
	}
	return fmt.Sprint(v)
}
