// Package config reads a UnityBase application configuration (ubConfig.json) the way the
// UnityBase server does (reference §1.4, in order): environment macros %VAR||default%,
// //#ifdef blocks, "#include(path)" tokens, JSON with comments, defaults, the models of
// application.domain with their package.json, the models' ubConfig-partial.json files merged
// under the main config, more defaults, and a JSON-schema check.
//
// Every problem is an *Error located in the file the user wrote (line and column as written,
// even after macros changed the text or includes spliced other files in) and, where it makes
// sense, carries the JSON pointer of the value in the final configuration.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/ubgo/ubgo/internal/jsonc"
	"github.com/ubgo/ubgo/schemas"
)

// Options tell Load where the configuration is and how to resolve what it refers to.
type Options struct {
	File      string                          // -cfg; "" → $UB_CFG, else ./ubconfig.json, else ./ubConfig.json (relative to WorkDir)
	EnvFile   string                          // -env; "" → $UB_ENV; optional dotenv file: KEY=VALUE lines, # comments, optional quotes, `export ` prefix; never overrides the real environment
	LookupEnv func(string) (string, bool)     // default os.LookupEnv (tests inject)
	WorkDir   string                          // default os.Getwd()
	Builtin   func(name string) (fs.FS, bool) // built-in models by name (may be nil)
}

// Config is a loaded application configuration.
type Config struct {
	File, Dir string         // absolute path of the main config file and its folder
	EnvFile   string         // absolute path of the .env file that was read ("" when none)
	Raw       map[string]any // final config after preprocessing, partial merge and defaults (what `ubgo check -T` prints)
	EnvUsed   []EnvUse       // every %VAR% met, in first-use order, deduplicated
	Warnings  []*Error       // non-fatal findings (unknown keys, duplicate keys, model name overridden by package.json, ...)
	Models    []Model        // in load order
	Partials  []string       // the ubConfig-partial.json files merged, in merge order

	HTTPServer  HTTPServer
	Security    Security
	Application Application
	Logging     Logging

	env *environment
}

// EnvUse is one environment variable a macro referred to.
type EnvUse struct {
	Name, Value string
	Defaulted   bool // the variable was not set; Value is the macro's ||default
	Unset       bool // the variable was not set and the macro had no default: replaced by ""
}

// Model is one model of application.domain, resolved.
type Model struct {
	Name       string // model name (config.ubmodel.name from package.json wins over the config's `name`, with a warning when they differ)
	Path       string // absolute folder, or "builtin:<NAME>" for built-in models
	FS         fs.FS  // the model's files (os.DirFS(Path) or the built-in FS)
	PublicPath string // absolute folder of the public (browser) part: publicPath of the config item, Path for a public-only model, else <Path>/public ("" for built-in models)
	Builtin    bool
	IsPublic   bool // config.ubmodel.isPublic: browser-only, no entities
	ModuleName string
	Version    string
	Main       string
	Browser    struct{ Dev, Prod string }
	EnginesUB  string // the raw engines.ub requirement
}

// Expand replaces %VAR||default% macros in s using the same environment (including the .env
// file) as Load. Values are inserted as they are (no JSON escaping); uses are not recorded.
func (c *Config) Expand(s string) string {
	p := &preprocessor{env: c.env}
	ms := macroRE.FindAllStringSubmatchIndex(s, -1)
	if len(ms) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range ms {
		b.WriteString(s[last:m[0]])
		name := s[m[2]:m[3]]
		if v, ok := p.env.get(name); ok {
			b.WriteString(v)
		} else if m[4] >= 0 {
			b.WriteString(s[m[4]:m[5]])
		}
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// ExpandJSON replaces %VAR||default% macros in JSON text the way Load does for config files:
// a value inside a JSON string is JSON-escaped, elsewhere its backslashes are doubled.
func (c *Config) ExpandJSON(src []byte) []byte {
	p := &preprocessor{env: c.env}
	return newDoc(p.macros(&srcFile{data: src}, 0)).text
}

// LookupEnv returns a variable of the environment Load used (the real one, then the .env file).
func (c *Config) LookupEnv(name string) (string, bool) { return c.env.get(name) }

// DefaultConnection returns the connection with isDefault (or the first one), nil when there is none.
func (c *Config) DefaultConnection() *Connection {
	for i := range c.Application.Connections {
		if c.Application.Connections[i].IsDefault {
			return &c.Application.Connections[i]
		}
	}
	if len(c.Application.Connections) > 0 {
		return &c.Application.Connections[0]
	}
	return nil
}

// Model returns the model with the given name.
func (c *Config) Model(name string) (*Model, bool) {
	for i := range c.Models {
		if c.Models[i].Name == name {
			return &c.Models[i], true
		}
	}
	return nil, false
}

// source is one parsed config file (main or partial) kept to locate final values.
type source struct {
	file  string // display name of the file
	doc   *doc
	value any
}

// loader holds the state of one Load.
type loader struct {
	opts  Options
	cfg   *Config
	pp    *preprocessor
	errs  []*Error
	warns []*Error

	main     source
	partials []source // in model order, without cust
	cust     *source
}

func (l *loader) fail(e *Error) { l.errs = append(l.errs, e) }
func (l *loader) warn(e *Error) { l.warns = append(l.warns, e) }

// Load reads, preprocesses, merges, completes and validates the configuration. It returns every
// problem it can find at once, as errors.Join of *Error values (see Errors). When the error is
// not nil the *Config is nil.
func Load(opts Options) (*Config, error) {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	if opts.WorkDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, joinErrors([]*Error{{Msg: "cannot determine the working directory: " + err.Error()}})
		}
		opts.WorkDir = wd
	} else if abs, err := filepath.Abs(opts.WorkDir); err == nil {
		opts.WorkDir = abs
	}
	l := &loader{opts: opts, cfg: &Config{}}
	l.cfg.env = &environment{lookup: opts.LookupEnv}
	l.pp = &preprocessor{env: l.cfg.env}
	cfg, err := l.load()
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

func (l *loader) load() (*Config, error) {
	cfg := l.cfg
	// 1. the file, then the optional .env
	file, err := l.pickFile()
	if err != nil {
		return nil, joinErrors([]*Error{err})
	}
	cfg.File, cfg.Dir = file, filepath.Dir(file)
	l.readDotenv()
	if len(l.errs) > 0 {
		return nil, l.result()
	}
	data, rerr := os.ReadFile(file)
	if rerr != nil {
		return nil, joinErrors([]*Error{{File: file, Msg: "cannot read the configuration: " + rerr.Error()}})
	}
	// 2-5. macros, ifdefs, includes, parse
	main, ok := l.parseFile(osRef(file), data, "configuration")
	if !ok {
		return nil, l.result()
	}
	l.main = main
	root := main.value.(map[string]any)

	// 6. defaults
	applyEarlyDefaults(root)

	// 7. models
	l.resolveModels(root)

	// 8. partials: merged in model order, the main config on top, the cust model's partial last
	l.readPartials()
	var raw any = map[string]any{}
	for _, p := range l.partials {
		raw = jsonc.Merge(raw, p.value)
	}
	raw = jsonc.Merge(raw, root)
	if l.cust != nil {
		raw = jsonc.Merge(raw, l.cust.value)
	}
	cfg.Raw = raw.(map[string]any)

	// 9. more defaults
	applyLateDefaults(cfg.Raw, cfg.Dir)

	// 10. schema
	l.validate()
	if _, ok := cfg.Raw["javascript"]; ok {
		e := &Error{Pointer: "/javascript", Msg: "the javascript section is deprecated and ignored: remove it"}
		e.File, e.Line, e.Col = l.locate("/javascript")
		l.warn(e)
	}

	// 11. typed views
	l.decodeViews()
	if cfg.HTTPServer.ThreadPoolSize <= 0 {
		cfg.HTTPServer.ThreadPoolSize = runtime.GOMAXPROCS(0)
	}
	if len(l.errs) > 0 {
		return nil, l.result()
	}
	cfg.EnvUsed = l.pp.uses
	cfg.Warnings = l.warns
	return cfg, nil
}

func (l *loader) result() error {
	return joinErrors(append(l.errs, l.pp.errs...))
}

// pickFile chooses the main config file.
func (l *loader) pickFile() (string, *Error) {
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(l.opts.WorkDir, p)
	}
	name, how := l.opts.File, "-cfg"
	if name == "" {
		if v, ok := l.opts.LookupEnv("UB_CFG"); ok && v != "" {
			name, how = v, "UB_CFG"
		}
	}
	if name != "" {
		p := abs(name)
		st, err := os.Stat(p)
		switch {
		case err != nil:
			return "", &Error{File: p, Msg: fmt.Sprintf("configuration file not found (given by %s)", how)}
		case st.IsDir():
			return "", &Error{File: p, Msg: fmt.Sprintf("configuration file given by %s is a folder", how)}
		}
		return p, nil
	}
	for _, n := range []string{"ubconfig.json", "ubConfig.json"} {
		p := abs(n)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", &Error{Msg: fmt.Sprintf("configuration file not found: no ubconfig.json or ubConfig.json in %s (use -cfg or UB_CFG)", l.opts.WorkDir)}
}

// readDotenv loads the optional .env file (-env or UB_ENV). A relative name is looked up in the
// working folder, then in the config folder (where UnityBase looks).
func (l *loader) readDotenv() {
	name, how := l.opts.EnvFile, "-env"
	if name == "" {
		if v, ok := l.opts.LookupEnv("UB_ENV"); ok && v != "" {
			name, how = v, "UB_ENV"
		}
	}
	if name == "" {
		return
	}
	p := name
	if !filepath.IsAbs(p) {
		p = filepath.Join(l.opts.WorkDir, name)
		if _, err := os.Stat(p); err != nil {
			p = filepath.Join(l.cfg.Dir, name)
		}
	}
	data, err := os.ReadFile(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			l.fail(&Error{File: p, Msg: fmt.Sprintf("env file given by %s not found", how)})
		} else {
			l.fail(&Error{File: p, Msg: "cannot read the env file: " + err.Error()})
		}
		return
	}
	vals, bad := parseDotenv(data)
	for _, n := range bad {
		l.warn(&Error{File: p, Line: n, Col: 1, Msg: "not a KEY=VALUE line (ignored)"})
	}
	l.cfg.env.dotenv = vals
	l.cfg.EnvFile = p
}

// parseFile preprocesses and parses one config file, which must hold a JSON object.
func (l *loader) parseFile(ref fileRef, data []byte, what string) (source, bool) {
	d, ok := l.pp.file(ref, data, []string{ref.display})
	if !ok {
		return source{}, false
	}
	v, dups, err := jsonc.ParseDups(d.text)
	if err != nil {
		var se *jsonc.SyntaxError
		if errors.As(err, &se) {
			l.fail(d.errAt(se.Offset, "", "invalid JSON: "+se.Msg))
		} else {
			l.fail(&Error{File: ref.display, Msg: "invalid JSON: " + err.Error()})
		}
		return source{}, false
	}
	for _, dup := range dups {
		e := d.errAt(dup.Offset, "", fmt.Sprintf("duplicate key %q: the last one wins", lastToken(dup.Pointer)))
		e.Pointer = dup.Pointer
		l.warn(e)
	}
	if _, isObj := v.(map[string]any); !isObj {
		l.fail(d.errAt(firstValue(d.text), "", "the "+what+" must be a JSON object"))
		return source{}, false
	}
	return source{file: ref.display, doc: d, value: v}, true
}

func lastToken(ptr string) string {
	t := jsonc.SplitPointer(ptr)
	if len(t) == 0 {
		return ""
	}
	return t[len(t)-1]
}

// firstValue returns the offset of the top-level value.
func firstValue(text []byte) int {
	off, _ := jsonc.Locate(text, "")
	return off
}

// readPartials reads every model's ubConfig-partial.json.
func (l *loader) readPartials() {
	for i := range l.cfg.Models {
		m := &l.cfg.Models[i]
		var ref fileRef
		if m.Builtin {
			ref = fsRef(m.FS, m.Path+"/", "ubConfig-partial.json")
		} else {
			ref = osRef(filepath.Join(m.Path, "ubConfig-partial.json"))
		}
		data, err := ref.read()
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				l.fail(&Error{File: ref.display, Msg: "cannot read: " + err.Error()})
			}
			continue
		}
		src, ok := l.parseFile(ref, data, "partial configuration")
		if !ok {
			continue
		}
		if app, ok := src.value.(map[string]any)["application"].(map[string]any); ok {
			if _, has := app["domain"]; has {
				off, _ := jsonc.Locate(src.doc.text, "/application/domain")
				l.fail(src.doc.errAt(off, "/application/domain", fmt.Sprintf("application.domain is not allowed in ubConfig-partial.json (model %s): models are listed in the main configuration only", m.Name)))
				continue
			}
		}
		l.cfg.Partials = append(l.cfg.Partials, ref.display)
		if strings.EqualFold(m.Name, "cust") {
			s := src
			l.cust = &s
			continue
		}
		l.partials = append(l.partials, src)
	}
	// report the cust partial last, as it is merged last
	if l.cust != nil {
		for i, p := range l.cfg.Partials {
			if p == l.cust.file {
				l.cfg.Partials = append(append(l.cfg.Partials[:i:i], l.cfg.Partials[i+1:]...), p)
				break
			}
		}
	}
}

// validate checks Raw against the ubConfig schema and locates every finding.
func (l *loader) validate() {
	errs, warns := schemas.ValidateConfig(l.cfg.Raw)
	for _, is := range errs {
		e := &Error{Pointer: is.Pointer, Msg: is.Message}
		e.File, e.Line, e.Col = l.locate(is.Pointer)
		l.fail(e)
	}
	for _, is := range warns {
		if len(is.Unknown) == 0 {
			e := &Error{Pointer: is.Pointer, Msg: is.Message}
			e.File, e.Line, e.Col = l.locate(is.Pointer)
			l.warn(e)
			continue
		}
		for _, k := range is.Unknown {
			ptr := is.Pointer + jsonc.JoinPointer(k)
			msg := is.Message
			if len(is.Unknown) > 1 {
				msg = unknownMessage(is.Message, k)
			}
			e := &Error{Pointer: ptr, Msg: msg}
			e.File, e.Line, e.Col = l.locate(ptr)
			l.warn(e)
		}
	}
}

// unknownMessage rewrites a schema message listing several unknown keys for one of them.
func unknownMessage(msg, key string) string {
	i := strings.Index(msg, "unknown propert")
	if i < 0 {
		return msg
	}
	return msg[:i] + fmt.Sprintf("unknown property %q (ignored)", key)
}
