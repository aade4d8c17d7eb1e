package jsvm

import (
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// Server-side i18n (reference §7.2). The dictionary of a runtime is a stack of layers, in
// the order UnityBase merges them: each serverLocale/*-<lang>.json file (shared by all
// runtimes, read once by Load) and each UB.i18nExtend call (per runtime). A lookup takes
// the newest layer that has the key, which is what a deep merge in that order gives.

// localeLayer holds texts by language, then by key; values are strings or nested objects
// (reached with dotted keys).
type localeLayer map[string]map[string]any

// lookup finds key in lang.
func (w *Worker) lookup(lang, key string) (string, bool) {
	for i := len(w.locale) - 1; i >= 0; i-- {
		if s, ok := w.locale[i][lang][key].(string); ok {
			return s, true
		}
	}
	if !strings.Contains(key, ".") {
		return "", false
	}
	parts := strings.Split(key, ".")
	for i := len(w.locale) - 1; i >= 0; i-- {
		var cur any = w.locale[i][lang]
		for _, p := range parts {
			m, ok := cur.(map[string]any)
			if !ok {
				cur = nil
				break
			}
			cur = m[p]
		}
		if s, ok := cur.(string); ok {
			return s, true
		}
	}
	return "", false
}

// i18n implements UB.i18n(key, [lang], ...args): translate key into lang (when the
// second argument is a supported language code) or the session language, falling back to
// the default language and then to the key itself; then replace {0}, {1}... by the
// arguments, or {name} / {a.b} by properties of a single object argument.
func (w *Worker) i18n(call goja.FunctionCall) goja.Value {
	key := w.safeString(call.Argument(0))
	args := call.Arguments
	if len(args) > 0 {
		args = args[1:]
	}
	lang := ""
	if len(args) > 0 && goja.IsString(args[0]) && w.prog.dom.SupportsLang(args[0].String()) {
		lang, args = args[0].String(), args[1:]
	}
	if lang == "" {
		lang = w.sessionLang()
	}
	text, ok := w.lookup(lang, key)
	if !ok && lang != w.prog.dom.DefaultLang {
		text, ok = w.lookup(w.prog.dom.DefaultLang, key)
	}
	if !ok {
		text = key
	}
	if len(args) == 0 {
		return w.vm.ToValue(text)
	}
	return w.vm.ToValue(w.formatText(text, args))
}

// formatText substitutes {n} and {name} placeholders; unknown ones stay as they are.
func (w *Worker) formatText(text string, args []goja.Value) string {
	var named *goja.Object
	if len(args) == 1 {
		if o, ok := args[0].(*goja.Object); ok && o.ClassName() == "Object" {
			named = o
		}
	}
	var b strings.Builder
	for {
		open := strings.IndexByte(text, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(text[open:], '}')
		if end < 0 {
			break
		}
		end += open
		b.WriteString(text[:open])
		token := text[open+1 : end]
		if v, ok := w.placeholder(token, args, named); ok {
			b.WriteString(v)
		} else {
			b.WriteString(text[open : end+1])
		}
		text = text[end+1:]
	}
	b.WriteString(text)
	return b.String()
}

func (w *Worker) placeholder(token string, args []goja.Value, named *goja.Object) (string, bool) {
	if n, err := strconv.Atoi(token); err == nil {
		if n < 0 || n >= len(args) {
			return "", false
		}
		return w.safeString(args[n]), true
	}
	if named == nil || token == "" {
		return "", false
	}
	var cur goja.Value = named
	for _, p := range strings.Split(token, ".") {
		o, ok := cur.(*goja.Object)
		if !ok {
			return "", false
		}
		cur = o.Get(p)
		if cur == nil || goja.IsUndefined(cur) {
			return "", false
		}
	}
	return w.safeString(cur), true
}

// i18nExtend implements UB.i18nExtend({lang: {key: text}}).
func (w *Worker) i18nExtend(call goja.FunctionCall) goja.Value {
	m, err := w.exportObject(call.Argument(0), "UB.i18nExtend: the argument")
	if err != nil {
		panic(w.vm.NewTypeError(err.Error()))
	}
	layer := localeLayer{}
	for lang, v := range m {
		if dict, ok := v.(map[string]any); ok {
			layer[lang] = dict
		}
	}
	w.locale = append(w.locale, layer)
	return goja.Undefined()
}

// sessionLang is the language of the current call's session, or the default language.
func (w *Worker) sessionLang() string {
	return w.langOf(w.session())
}
