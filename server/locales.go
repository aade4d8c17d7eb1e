package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/netip"
	"strings"

	"github.com/ubgo/ubgo/internal/jsonc"
	"github.com/ubgo/ubgo/models"
)

// locales are the client-side translations of the models (reference §7.3), read once at
// startup: every model's public/locale/lang-<xx>.json (and legacy lang-<xx>.js), plus
// _data/locale/lang-<xx>.json for includeData.
type locales struct {
	bundle map[string]cachedBody // language → UB.i18nExtend script
	merged map[string]cachedBody // language → the models' JSON merged (json=1)
	models []modelLocales        // in model order, for the includeDomain/includeData variants
}

type cachedBody struct {
	body []byte
	etag string
}

type modelLocales struct {
	name   string
	public map[string]any // language → parsed public/locale/lang-<xx>.json
	data   map[string]any // language → parsed _data/locale/lang-<xx>.json
}

// loadLocales reads the locale files of every model for every language. A file that is
// not a JSON object stops the server with the file's name: clients would fail on it later,
// far from the cause.
func (s *Server) loadLocales() (*locales, error) {
	l := &locales{bundle: map[string]cachedBody{}, merged: map[string]cachedBody{}}
	for _, m := range s.dom.Models {
		ml := modelLocales{name: m.Name, public: map[string]any{}, data: map[string]any{}}
		data, closeData, err := s.modelDataFiles(m.Name, m.Builtin, m.Path)
		if err != nil {
			return nil, err
		}
		for _, lang := range s.dom.Languages {
			file := "locale/lang-" + lang + ".json"
			if ml.public[lang], err = readLocale(s.models[m.Name], file); err != nil {
				closeData()
				return nil, fmt.Errorf("model %s: public/%s: %w", m.Name, file, err)
			}
			if ml.data[lang], err = readLocale(data, "_data/"+file); err != nil {
				closeData()
				return nil, fmt.Errorf("model %s: _data/%s: %w", m.Name, file, err)
			}
		}
		closeData()
		l.models = append(l.models, ml)
	}
	for _, lang := range s.dom.Languages {
		var js strings.Builder
		js.WriteString(" ")
		for _, ml := range l.models {
			if v := ml.public[lang]; v != nil {
				b, err := json.Marshal(v)
				if err != nil {
					return nil, err
				}
				fmt.Fprintf(&js, "\n// %s localization\nUB.i18nExtend(\n%s\n)", ml.name, b)
			}
			legacy, err := s.models[ml.name].readFile("locale/lang-" + lang + ".js")
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("model %s: public/locale/lang-%s.js: %w", ml.name, lang, err)
			}
			if err == nil {
				fmt.Fprintf(&js, "\n// %s localization\n%s", ml.name, legacy)
			}
		}
		l.bundle[lang] = cachedBody{body: []byte(js.String()), etag: etagOf([]byte(js.String()))}
		body, err := json.Marshal(l.resources(lang, nil, false))
		if err != nil {
			return nil, err
		}
		l.merged[lang] = cachedBody{body: body, etag: etagOf(body)}
	}
	return l, nil
}

// modelDataFiles opens a model's own folder (not only its public part) to read _data
// locales; the caller closes it once the files are read.
func (s *Server) modelDataFiles(name string, builtin bool, dir string) (*publicFiles, func(), error) {
	if builtin {
		mfs, _ := models.Builtin(name)
		return &publicFiles{fsys: mfs}, func() {}, nil
	}
	if dir == "" {
		return &publicFiles{}, func() {}, nil
	}
	pf, closer, err := openDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: %w", name, err)
	}
	if closer == nil {
		return pf, func() {}, nil
	}
	return pf, func() { closer.Close() }, nil
}

// readLocale parses a locale file (UnityBase's JSON dialect: comments and trailing commas
// allowed); nil when there is none.
func readLocale(p *publicFiles, name string) (any, error) {
	b, err := p.readFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v, err := jsonc.Parse(b)
	if err != nil {
		return nil, err
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, errors.New("a locale file must be a JSON object")
	}
	return v, nil
}

// resources merges, in model order, what json=1 returns: domain captions first (when
// domain is set), then each model's public locale and, with data, its _data locale —
// UnityBase's order, later values winning.
func (l *locales) resources(lang string, domain map[string]any, data bool) map[string]any {
	res := map[string]any{}
	if domain != nil {
		jsonc.Merge(res, domain)
	}
	for _, ml := range l.models {
		if v := ml.public[lang]; v != nil {
			jsonc.Merge(res, v)
		}
		if v := ml.data[lang]; data && v != nil {
			jsonc.Merge(res, v)
		}
	}
	return res
}

// serveLocales answers GET /allLocales?lang=xx with the script that registers every model's
// translations (application/javascript), or with json=1 the merged object; includeDomain=1
// adds entity and attribute captions (local callers only, else 403), includeData=1 the
// models' _data locales.
func (s *Server) serveLocales(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	q := r.URL.Query()
	lang := q.Get("lang")
	if lang == "" || len(lang) > 5 || !s.dom.SupportsLang(lang) {
		WriteErr(w, r, errStatus(http.StatusBadRequest, "the lang parameter must be a supported language"))
		return
	}
	if !truthy(q.Get("json")) {
		c := s.locales.bundle[lang]
		writeCached(w, r, c.body, c.etag, "application/javascript; charset=utf-8")
		return
	}
	withDomain, withData := truthy(q.Get("includeDomain")), truthy(q.Get("includeData"))
	if !withDomain && !withData {
		c := s.locales.merged[lang]
		writeCached(w, r, c.body, c.etag, "application/json; charset=utf-8")
		return
	}
	var dom map[string]any
	if withDomain {
		if !s.isLocal(r) {
			WriteErr(w, r, errStatus(http.StatusForbidden, "includeDomain is allowed for local callers only"))
			return
		}
		dom = s.domainCaptions(lang)
	}
	body, err := json.Marshal(s.locales.resources(lang, dom, withData))
	if err != nil {
		WriteErr(w, r, err)
		return
	}
	writeCached(w, r, body, etagOf(body), "application/json; charset=utf-8")
}

// domainCaptions are the keys includeDomain adds: "entity" and "entity.attribute" captions.
func (s *Server) domainCaptions(lang string) map[string]any {
	res := map[string]any{}
	for _, e := range s.dom.Entities {
		if c := e.CaptionIn(lang); c != "" {
			res[e.Name] = c
		}
		for _, a := range e.Attributes {
			if c := a.CaptionIn(lang); c != "" {
				res[e.Name+"."+a.Name] = c
			}
		}
	}
	return res
}

// isLocal reports whether the client is the server's own machine or one of
// security.localIPs.
func (s *Server) isLocal(r *http.Request) bool {
	a, err := netip.ParseAddr(RemoteIP(r))
	if err != nil {
		return false
	}
	if a.IsLoopback() {
		return true
	}
	for _, ip := range strings.Split(s.cfg.Security.LocalIPs, ",") {
		if b, err := netip.ParseAddr(strings.TrimSpace(ip)); err == nil && b.Unmap() == a.Unmap() {
			return true
		}
	}
	return false
}

// truthy reads a flag parameter as UnityBase's parsed parameters do: "1" and "true" are on.
func truthy(v string) bool { return v != "" && v != "0" && !strings.EqualFold(v, "false") }
