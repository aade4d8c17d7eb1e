package domain

import (
	"fmt"
	"sort"
	"strings"
)

func str(m map[string]any, k string) string {
	switch v := m[k].(type) {
	case string:
		return v
	case float64:
		return fmt.Sprint(v)
	case bool:
		return fmt.Sprint(v)
	}
	return ""
}

func boolOr(m map[string]any, k string, def bool) bool {
	if v, ok := m[k].(bool); ok {
		return v
	}
	return def
}

func intOf(m map[string]any, k string) int {
	if v, ok := m[k].(float64); ok {
		return int(v)
	}
	return 0
}

func objOf(m map[string]any, k string) map[string]any {
	v, _ := m[k].(map[string]any)
	return v
}

func strList(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, s := range x {
			if s, ok := s.(string); ok {
				out = append(out, s)
			}
		}
	case string:
		for _, s := range strings.Split(x, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// build turns the validated domain JSON into typed values.
func (l *loader) build(domainJSON map[string]any) *Domain {
	d := &Domain{
		DefaultLang:  l.in.DefaultLang,
		modelByName:  map[string]*Model{},
		entityByName: make(map[string]*Entity, len(domainJSON)),
	}
	d.Languages = append(d.Languages, l.in.DefaultLang)
	for _, lang := range l.in.Languages {
		if lang != l.in.DefaultLang {
			d.Languages = append(d.Languages, lang)
		}
	}
	for i, ms := range l.in.Models {
		m := &Model{Name: ms.Name, Path: ms.Path, Order: i, Version: ms.Version, ModuleName: ms.ModuleName,
			PublicPath: ms.PublicPath, IsPublic: ms.IsPublic, Builtin: ms.Builtin}
		for _, h := range l.hooks {
			if h.Model == ms.Name {
				m.HookFile = joinDisplay(h.Dir, h.File)
			}
		}
		d.Models = append(d.Models, m)
		d.modelByName[m.Name] = m
	}
	for name, v := range domainJSON {
		entry := v.(map[string]any)
		meta := entry["meta"].(map[string]any)
		e := l.buildEntity(name, meta)
		e.Model = d.modelByName[str(entry, "modelName")]
		if src := l.entities[name]; src != nil {
			for _, f := range src.metas {
				e.Files = append(e.Files, f.display)
			}
		}
		if langs, ok := entry["langs"].(map[string]any); ok {
			e.I18n = buildI18n(langs)
		}
		d.entityByName[name] = e
		d.Entities = append(d.Entities, e)
	}
	sort.Slice(d.Entities, func(i, j int) bool {
		a, b := d.Entities[i], d.Entities[j]
		if a.Model.Order != b.Model.Order {
			return a.Model.Order < b.Model.Order
		}
		return a.Name < b.Name
	})
	for _, e := range d.Entities {
		e.Model.Entities = append(e.Model.Entities, e)
		for _, a := range e.Attributes {
			if a.DataType == EntityT || a.DataType == Many {
				a.Association = d.entityByName[a.AssociatedEntity]
			}
		}
	}
	return d
}

func (l *loader) buildEntity(name string, meta map[string]any) *Entity {
	e := &Entity{
		Name:                 name,
		Caption:              str(meta, "caption"),
		CaptionSingular:      str(meta, "captionSingular"),
		Description:          str(meta, "description"),
		Documentation:        str(meta, "documentation"),
		DescriptionAttribute: str(meta, "descriptionAttribute"),
		ConnectionName:       str(meta, "connectionName"),
		CacheType:            CacheType(str(meta, "cacheType")),
		SQLAlias:             str(meta, "sqlAlias"),
		DSType:               DSType(str(meta, "dsType")),
		DBKeys:               objOf(meta, "dbKeys"),
		DBExtensions:         objOf(meta, "dbExtensions"),
		CustomSettings:       objOf(meta, "customSettings"),
		PrivateSettings:      objOf(meta, "privateSettings"),
		OverriddenBy:         strList(meta["overriddenBy"]),
		IsManyManyRef:        boolOr(meta, "isManyManyRef", false),
		Meta:                 meta,
	}
	if e.CacheType == "" {
		e.CacheType = CacheNone
	}
	if e.DSType == "" {
		e.DSType = DSNormal
	}
	if e.DescriptionAttribute == "" {
		e.DescriptionAttribute = "caption"
	}
	for _, mp := range asSlice(meta["mapping"]) {
		m, _ := mp.(map[string]any)
		e.Mapping = append(e.Mapping, EntityMapping{Dialect: str(m, "name"), SelectName: str(m, "selectName"),
			ExecName: str(m, "execName"), PKGenerator: str(m, "pkGenerator")})
	}
	e.Mixins = buildMixins(meta)
	attrs := attrsOf(meta)
	e.Attributes = make([]*Attribute, 0, len(attrs))
	e.attrByName = make(map[string]*Attribute, len(attrs))
	for _, a := range attrs {
		am := a.(map[string]any)
		attr := &Attribute{
			Name:                str(am, "name"),
			Entity:              e,
			DataType:            DataType(str(am, "dataType")),
			Caption:             str(am, "caption"),
			Description:         str(am, "description"),
			Documentation:       str(am, "documentation"),
			AllowNull:           boolOr(am, "allowNull", true),
			IsUnique:            boolOr(am, "isUnique", false),
			AllowSort:           boolOr(am, "allowSort", true),
			DefaultView:         boolOr(am, "defaultView", true),
			ReadOnly:            boolOr(am, "readOnly", false),
			IsMultiLang:         boolOr(am, "isMultiLang", false),
			GenerateFK:          boolOr(am, "generateFK", true),
			CascadeDelete:       boolOr(am, "cascadeDelete", false),
			Size:                intOf(am, "size"),
			Precision:           intOf(am, "precision"),
			Scale:               intOf(am, "scale"),
			AssociatedEntity:    str(am, "associatedEntity"),
			AssociationAttr:     str(am, "associationAttr"),
			AssociationManyData: str(am, "associationManyData"),
			EnumGroup:           str(am, "enumGroup"),
			StoreName:           str(am, "storeName"),
			CustomSettings:      objOf(am, "customSettings"),
			PrivateSettings:     objOf(am, "privateSettings"),
			Implicit:            l.implicit[name][str(am, "name")],
		}
		if dv, ok := am["defaultValue"]; ok && dv != nil {
			attr.DefaultValue, attr.HasDefault = str(am, "defaultValue"), true
		}
		if attr.DataType == EntityT && attr.AssociationAttr == "" {
			attr.AssociationAttr = "ID"
		}
		if attr.DataType == Document && attr.StoreName == "" {
			attr.StoreName = l.in.DefaultBlobStore
		}
		if r := objOf(am, "restrictions"); r != nil {
			attr.Restrictions = &Restrictions{Insert: strList(r["I"]), Select: strList(r["S"]),
				Update: strList(r["U"]), ReplaceBy: str(r, "replaceBy")}
		}
		for _, mp := range asSlice(am["mapping"]) {
			m, _ := mp.(map[string]any)
			attr.Mapping = append(attr.Mapping, AttributeMapping{Dialect: str(m, "name"),
				ExpressionType: str(m, "expressionType"), Expression: str(m, "expression")})
		}
		e.Attributes = append(e.Attributes, attr)
		e.attrByName[attr.Name] = attr
	}
	return e
}

func buildMixins(meta map[string]any) Mixins {
	var mx Mixins
	raw := objOf(meta, "mixins")
	for _, name := range sortedKeys(raw) {
		o, ok := mixinOpts(meta, name)
		if !ok {
			continue
		}
		switch name {
		case "mStorage":
			mx.MStorage = &MStorage{SimpleAudit: boolOr(o, "simpleAudit", false), SafeDelete: boolOr(o, "safeDelete", false)}
		case "audit":
			mx.Audit = &Audit{ParentEntity: str(o, "parentEntity"), ParentIdentifier: str(o, "parentIdentifier")}
		case "unity":
			u := &Unity{Entity: str(o, "entity"), AttributeList: strList(o["attributeList"]), Defaults: objOf(o, "defaults")}
			if m := objOf(o, "mapping"); m != nil {
				u.Mapping = map[string]string{}
				for k := range m {
					u.Mapping[k] = str(m, k)
				}
			}
			mx.Unity = u
		case "tree":
			t := &Tree{ParentAttr: str(o, "parentAttr"), PathAttr: str(o, "pathAttr"), PathDelimiter: str(o, "pathDelimiter")}
			if t.PathAttr == "" {
				t.PathAttr = "ID"
			}
			if t.PathDelimiter == "" {
				t.PathDelimiter = "/"
			}
			mx.Tree = t
		case "dataHistory":
			h := &DataHistory{HistoryType: str(o, "historyType")}
			if h.HistoryType == "" {
				h.HistoryType = "NewBecomesActual"
			}
			mx.DataHistory = h
		case "rls":
			mx.RLS = &RLS{Func: str(o, "func"), Expression: str(o, "expression")}
		case "aclRls":
			mx.AclRls = &AclRls{SameAs: str(o, "sameAs"), UseUnityName: boolOr(o, "useUnityName", false),
				OnEntities: strList(o["onEntities"]), EntityConnectAttr: str(o, "entityConnectAttr"),
				SelectionRule: str(o, "selectionRule"), SkipIfFn: str(o, "skipIfFn"), SubjectIDsFn: str(o, "subjectIDsFn")}
		case "als":
			mx.Als = &Als{StateAttrName: str(o, "stateAttrName"), StateEnumGroup: str(o, "stateEnumGroup"), Optimistic: boolOr(o, "optimistic", true)}
		case "fts":
			mx.Fts = &Fts{DataProvider: str(o, "dataProvider"), Scope: str(o, "scope"), ConnectionName: str(o, "connectionName"),
				IndexedAttributes: strList(o["indexedAttributes"]), Options: o}
		case "softLock":
			s := &SoftLock{LockIdentifier: str(o, "lockIdentifier"), LockEntity: str(o, "lockEntity")}
			if s.LockIdentifier == "" {
				s.LockIdentifier = "ID"
			}
			mx.SoftLock = s
		case "multitenancy":
			mx.Multitenancy = &Multitenancy{RLSRule: str(o, "rlsRule")}
		default:
			if mx.Other == nil {
				mx.Other = map[string]map[string]any{}
			}
			mx.Other[name] = o
		}
	}
	return mx
}

func buildI18n(langs map[string]any) map[string]*EntityI18n {
	out := make(map[string]*EntityI18n, len(langs))
	for lang, v := range langs {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		t := &EntityI18n{Caption: str(m, "caption"), CaptionSingular: str(m, "captionSingular"),
			Description: str(m, "description"), Documentation: str(m, "documentation")}
		for _, a := range asSlice(m["attributes"]) {
			am, ok := a.(map[string]any)
			if !ok || str(am, "name") == "" {
				continue
			}
			if t.Attributes == nil {
				t.Attributes = map[string]*AttributeI18n{}
			}
			t.Attributes[str(am, "name")] = &AttributeI18n{Caption: str(am, "caption"),
				Description: str(am, "description"), Documentation: str(am, "documentation")}
		}
		out[lang] = t
	}
	return out
}
