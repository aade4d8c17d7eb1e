package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/store"
)

// mStorageMethods are the methods of an entity stored by mStorage, in the order clients
// see them.
var mStorageMethods = []string{"select", "insert", "update", "delete", "addnew"}

// domainInfo is what /getDomainInfo serves (reference §4.7), prepared on the first request: each
// entity's JSON without its per-request parts (allowed methods, captions of the language),
// so that a request only concatenates bytes.
type domainInfo struct {
	entities    []entityInfo
	models      []byte // the "models" object
	modelsExt   []byte // with realPath and realPublicPath, for extended=true
	connections []byte // extended=true only: the connections without credentials
	tail        []byte // ,"vendorModels":...,"customerModels":...}

	mu    sync.Mutex
	cache map[string]cachedBody // "<lang>/<extended>" → body, when no per-user filter is set
}

type entityInfo struct {
	name      string
	methods   []string
	static    []byte            // the entity object without its closing brace
	staticExt []byte            // the same with mapping, dbKeys, dbExtensions, privateSettings
	i18n      map[string][]byte // language → the "i18n" object
}

// defaultEntityMethods are the methods of an entity before the JS runtime adds custom
// ones: the mStorage methods of stored entities, nothing for the others.
func defaultEntityMethods(e *domain.Entity) []string {
	if e.Mixins.MStorage == nil || e.DSType == domain.DSVirtual {
		return nil
	}
	return mStorageMethods
}

func (s *Server) buildDomainInfo() (*domainInfo, error) {
	d := &domainInfo{cache: map[string]cachedBody{}}
	methodsOf := s.opt.EntityMethods
	if methodsOf == nil {
		methodsOf = defaultEntityMethods
	}
	defConn := s.defaultConnection()
	for _, e := range s.dom.Entities {
		ei := entityInfo{name: e.Name, methods: methodsOf(e), i18n: map[string][]byte{}}
		var err error
		if ei.static, err = entityJSON(e, defConn, false); err != nil {
			return nil, err
		}
		if ei.staticExt, err = entityJSON(e, defConn, true); err != nil {
			return nil, err
		}
		for lang, t := range e.I18n {
			if t == nil {
				continue
			}
			if ei.i18n[lang], err = json.Marshal(t); err != nil {
				return nil, fmt.Errorf("entity %s: i18n: %w", e.Name, err)
			}
		}
		d.entities = append(d.entities, ei)
	}
	var models, modelsExt jsonObject
	for _, m := range s.dom.Models {
		pf := s.models[m.Name]
		needLocalize := false
		for _, lang := range s.dom.Languages {
			needLocalize = needLocalize || pf.exists("locale/lang-"+lang+".json") || pf.exists("locale/lang-"+lang+".js")
		}
		mo := jsonObject{
			{"path", "models/" + m.Name}, // what non-npm clients load forms from, through /models
			{"order", m.Order},
			{"version", m.Version},
			{"moduleName", m.ModuleName},
			{"moduleSuffix", "public"},
			{"needInit", pf.exists("initModel.js")},
			{"needLocalize", needLocalize},
		}
		models = append(models, jsonMember{m.Name, mo})
		modelsExt = append(modelsExt, jsonMember{m.Name, append(mo[:len(mo):len(mo)],
			jsonMember{"realPath", m.Path}, jsonMember{"realPublicPath", m.PublicPath})})
	}
	var conns []jsonObject
	for _, c := range s.cfg.Application.Connections {
		conns = append(conns, jsonObject{{"name", c.Name}, {"dialect", c.Dialect}, {"isDefault", c.Name == defConn},
			{"supportLang", nonNil(c.SupportLang)}})
	}
	var err error
	if d.models, err = json.Marshal(models); err != nil {
		return nil, err
	}
	if d.modelsExt, err = json.Marshal(modelsExt); err != nil {
		return nil, err
	}
	if d.connections, err = json.Marshal(nonNilObjects(conns)); err != nil {
		return nil, err
	}
	vendor, _ := json.Marshal(s.cfg.Application.Domain.VendorModels)
	customer, _ := json.Marshal(s.cfg.Application.Domain.CustomerModels)
	d.tail = []byte(`,"vendorModels":` + string(vendor) + `,"customerModels":` + string(customer) + `}`)
	return d, nil
}

// defaultConnection is the name of the connection entities without connectionName use.
func (s *Server) defaultConnection() string {
	conns := s.cfg.Application.Connections
	for _, c := range conns {
		if c.IsDefault {
			return c.Name
		}
	}
	if len(conns) > 0 {
		return conns[0].Name
	}
	return ""
}

// entityJSON is an entity as clients read it (UBDomain.js: UBEntity): metadata keys from the
// merged meta, attributes as an object keyed by name (so that the client can merge the
// i18n object into it). Without extended, server-only keys are left out: mapping (clients
// would need the connection's dialect to read it), dbKeys, dbExtensions and
// privateSettings, also on attributes.
func entityJSON(e *domain.Entity, defConn string, extended bool) ([]byte, error) {
	o := jsonObject{{"name", e.Name}, {"modelName", e.Model.Name}}
	add := func(k string, v any, keep bool) {
		if keep {
			o = append(o, jsonMember{k, v})
		}
	}
	add("caption", e.Caption, e.Caption != "")
	add("captionSingular", e.CaptionSingular, e.CaptionSingular != "")
	add("description", e.Description, e.Description != "")
	add("documentation", e.Documentation, e.Documentation != "")
	add("descriptionAttribute", e.DescriptionAttribute, e.DescriptionAttribute != "")
	add("cacheType", e.CacheType, true)
	add("dsType", e.DSType, true)
	add("sqlAlias", e.SQLAlias, e.SQLAlias != "")
	conn := e.ConnectionName
	if conn == "" {
		conn = defConn
	}
	add("connectionName", conn, true)
	add("isUnity", e.IsUnity(), true)
	add("isManyManyRef", true, e.IsManyManyRef)
	add("overriddenBy", strings.Join(e.OverriddenBy, ","), len(e.OverriddenBy) > 0)
	add("customSettings", e.CustomSettings, len(e.CustomSettings) > 0)
	mixins, _ := e.Meta["mixins"].(map[string]any)
	if mixins == nil {
		mixins = map[string]any{}
	}
	add("mixins", mixins, true)
	var attrs jsonObject
	list, _ := e.Meta["attributes"].([]any)
	for _, item := range list {
		a, ok := item.(map[string]any)
		if !ok {
			continue
		}
		name, _ := a["name"].(string)
		attrs = append(attrs, jsonMember{name, attributeJSON(a, extended)})
	}
	add("attributes", nonNilObject(attrs), true)
	if extended {
		add("mapping", byDialect(e.Meta["mapping"]), e.Meta["mapping"] != nil)
		add("dbKeys", e.DBKeys, len(e.DBKeys) > 0)
		add("dbExtensions", e.DBExtensions, len(e.DBExtensions) > 0)
		add("privateSettings", e.PrivateSettings, len(e.PrivateSettings) > 0)
	}
	b, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("entity %s: %w", e.Name, err)
	}
	return b[:len(b)-1], nil
}

func attributeJSON(a map[string]any, extended bool) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		switch {
		case k == "mapping" && extended:
			out[k] = byDialect(v)
		case k == "mapping", k == "privateSettings" && !extended:
		default:
			out[k] = v
		}
	}
	return out
}

// byDialect turns a meta mapping list ([{"name": "PostgreSQL", ...}]) into the object keyed
// by dialect that clients expect in extended domain info.
func byDialect(v any) map[string]any {
	out := map[string]any{}
	list, _ := v.([]any)
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		name, _ := m["name"].(string)
		rest := make(map[string]any, len(m))
		for k, x := range m {
			if k != "name" {
				rest[k] = x
			}
		}
		out[name] = rest
	}
	return out
}

// serveDomainInfo answers GET /getDomainInfo?v=4&userName=<login>[&extended=true]: the
// entities the session may call at least one method of, with those methods and the
// captions of the request's language (reference §4.7). userName must be the session's
// login (400 otherwise, as in UnityBase); extended is for admin and root (403 otherwise).
func (s *Server) serveDomainInfo(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	sess := Session(r)
	q := r.URL.Query()
	if u := q.Get("userName"); u == "" || sess == nil || u != sess.UserName {
		WriteErr(w, r, errStatus(http.StatusBadRequest, "userName=<login> of the session is required"))
		return
	}
	extended := q.Get("extended") == "true"
	if extended && sess.UserID != store.UserAdmin && sess.UserID != store.UserRoot {
		WriteErr(w, r, errStatus(http.StatusForbidden, "extended domain info is for admin and root only"))
		return
	}
	di, err := s.domainInfoTable()
	if err != nil {
		WriteErr(w, r, err)
		return
	}
	lang := Lang(r)
	var c cachedBody
	if s.opt.MethodAllowed == nil {
		c = di.cached(lang, extended)
	} else {
		body := di.build(lang, extended, func(entity, method string) bool {
			return s.opt.MethodAllowed(sess, entity, method)
		})
		c = cachedBody{body: body, etag: etagOf(body)}
	}
	writeCached(w, r, c.body, c.etag, "application/json; charset=utf-8")
}

// domainInfoTable returns the prepared getDomainInfo parts, building them on first use.
func (s *Server) domainInfoTable() (*domainInfo, error) {
	s.domainInfoOnce.Do(func() { s.domainInfo, s.domainInfoErr = s.buildDomainInfo() })
	return s.domainInfo, s.domainInfoErr
}

// cached is the body for everyone (no per-user filter), built on first use per language.
func (d *domainInfo) cached(lang string, extended bool) cachedBody {
	key := fmt.Sprint(lang, "/", extended)
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.cache[key]
	if !ok {
		body := d.build(lang, extended, nil)
		c = cachedBody{body: body, etag: etagOf(body)}
		d.cache[key] = c
	}
	return c
}

// build assembles the response; allowed (nil: everything) filters methods, and entities
// left without any are omitted, as UnityBase does.
func (d *domainInfo) build(lang string, extended bool, allowed func(entity, method string) bool) []byte {
	var b bytes.Buffer
	b.WriteString(`{"domain":{`)
	first := true
	for _, ei := range d.entities {
		n := 0
		for _, m := range ei.methods {
			if allowed != nil && !allowed(ei.name, m) {
				continue
			}
			if n == 0 {
				if !first {
					b.WriteByte(',')
				}
				first = false
				name, _ := json.Marshal(ei.name)
				b.Write(name)
				b.WriteByte(':')
				if extended {
					b.Write(ei.staticExt)
				} else {
					b.Write(ei.static)
				}
				b.WriteString(`,"entityMethods":{`)
			} else {
				b.WriteByte(',')
			}
			mn, _ := json.Marshal(m)
			b.Write(mn)
			b.WriteString(":1")
			n++
		}
		if n == 0 {
			continue
		}
		b.WriteByte('}')
		if t := ei.i18n[lang]; t != nil {
			b.WriteString(`,"i18n":`)
			b.Write(t)
		}
		b.WriteByte('}')
	}
	b.WriteString(`},"models":`)
	if extended {
		b.Write(d.modelsExt)
		b.WriteString(`,"connections":`)
		b.Write(d.connections)
	} else {
		b.Write(d.models)
	}
	b.Write(d.tail)
	return b.Bytes()
}

// jsonObject is a JSON object that keeps its keys in the order given (encoding/json sorts map
// keys; clients show attributes and models in metadata order).
type jsonObject []jsonMember

type jsonMember struct {
	key string
	val any
}

func (o jsonObject) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(m.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(m.val)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.key, err)
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

func nonNilObject(o jsonObject) jsonObject {
	if o == nil {
		return jsonObject{}
	}
	return o
}

func nonNilObjects(o []jsonObject) []jsonObject {
	if o == nil {
		return []jsonObject{}
	}
	return o
}
