package domain

import (
	"slices"
	"sort"
	"strings"
)

// Transformations every UnityBase server applies whatever models are loaded (UnityBase does
// them in its UB model's hook and in native code). Each step is idempotent, because Load
// runs coreTransform both before the models' hooks (as UnityBase does: the UB model comes
// first) and after them, so that hooks that add Many attributes or mixins get the same
// treatment.

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func metaOf(entry any) map[string]any {
	e, _ := entry.(map[string]any)
	m, _ := e["meta"].(map[string]any)
	return m
}

func attrsOf(meta map[string]any) []any {
	a, _ := meta["attributes"].([]any)
	return a
}

func mixinOpts(meta map[string]any, name string) (map[string]any, bool) {
	mx, _ := meta["mixins"].(map[string]any)
	o, ok := mx[name].(map[string]any)
	if !ok {
		return nil, false
	}
	if en, ok := o["enabled"].(bool); ok && !en {
		return nil, false
	}
	return o, true
}

func (l *loader) coreTransform(domainJSON map[string]any) {
	names := sortedKeys(domainJSON)
	l.addManyRefEntities(domainJSON, names)
	names = sortedKeys(domainJSON)
	for _, name := range names {
		meta := metaOf(domainJSON[name])
		if meta == nil {
			continue
		}
		l.addImplicitMixins(meta)
		l.dropMultitenancy(meta)
		l.expandMappings(meta)
		normalizeAttributes(meta)
	}
}

// addManyRefEntities creates the link entity of every Many attribute that has none yet.
func (l *loader) addManyRefEntities(domainJSON map[string]any, names []string) {
	for _, owner := range names {
		entry, _ := domainJSON[owner].(map[string]any)
		meta := metaOf(entry)
		for _, a := range attrsOf(meta) {
			am, _ := a.(map[string]any)
			if am["dataType"] != string(Many) {
				continue
			}
			link, _ := am["associationManyData"].(string)
			dest, _ := am["associatedEntity"].(string)
			if link == "" || dest == "" {
				continue // the schema check reports it
			}
			if _, exists := domainJSON[link]; exists {
				continue
			}
			mst, _ := mixinOpts(meta, "mStorage")
			safeDelete, _ := mst["safeDelete"].(bool)
			linkMeta := map[string]any{
				"caption":       "Links of " + owner + "." + am["name"].(string),
				"dsType":        string(DSNormal),
				"isManyManyRef": true,
				"attributes": []any{
					map[string]any{"name": "ID", "dataType": string(BigInt), "caption": "ID", "allowNull": false,
						"mapping": []any{map[string]any{"name": "AnsiSQL", "expressionType": "Expression", "expression": "([sourceID]*100+[destID])"}}},
					map[string]any{"name": "sourceID", "dataType": string(EntityT), "associatedEntity": owner,
						"caption": "Source", "allowNull": false, "cascadeDelete": !safeDelete},
					map[string]any{"name": "destID", "dataType": string(EntityT), "associatedEntity": dest,
						"caption": "Destination", "allowNull": false},
				},
				"mixins": map[string]any{
					"mStorage": map[string]any{},
					"audit":    map[string]any{"parentEntity": owner, "parentIdentifier": "sourceID"},
				},
			}
			if cn, ok := meta["connectionName"].(string); ok && cn != "" {
				linkMeta["connectionName"] = cn
			}
			domainJSON[link] = map[string]any{"modelName": entry["modelName"], "meta": linkMeta, "langs": nil}
		}
	}
}

// addImplicitMixins adds application.domain.implicitlyAddedMixins, but only to entities that
// declare a mixins object: an entity without one (a virtual or external entity, usually) is
// left alone, as in UnityBase.
func (l *loader) addImplicitMixins(meta map[string]any) {
	mx, ok := meta["mixins"].(map[string]any)
	if !ok {
		return
	}
	for _, name := range l.in.ImplicitMixins {
		if _, present := mx[name]; !present {
			mx[name] = map[string]any{}
		}
	}
}

func (l *loader) expandMappings(meta map[string]any) {
	if l.in.Expand == nil {
		return
	}
	expand := func(m map[string]any, keys ...string) {
		for _, k := range keys {
			if s, ok := m[k].(string); ok && strings.Contains(s, "%") {
				m[k] = l.in.Expand(s)
			}
		}
	}
	for _, mp := range asSlice(meta["mapping"]) {
		if m, ok := mp.(map[string]any); ok {
			expand(m, "selectName", "execName", "pkGenerator")
		}
	}
	for _, a := range attrsOf(meta) {
		am, _ := a.(map[string]any)
		for _, mp := range asSlice(am["mapping"]) {
			if m, ok := mp.(map[string]any); ok {
				expand(m, "expression")
			}
		}
	}
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// normalizeAttributes applies UnityBase's attribute rules: Booleans are NOT NULL with a 0/1
// default, and types the database cannot order are not sortable.
func normalizeAttributes(meta map[string]any) {
	for _, a := range attrsOf(meta) {
		am, ok := a.(map[string]any)
		if !ok {
			continue
		}
		dt, _ := am["dataType"].(string)
		switch DataType(dt) {
		case Boolean:
			am["allowNull"] = false
			switch v := am["defaultValue"].(type) {
			case bool:
				am["defaultValue"] = boolDigit(v)
			case float64:
				am["defaultValue"] = boolDigit(v != 0)
			case string:
				am["defaultValue"] = boolDigit(v == "1" || strings.EqualFold(v, "true"))
			default:
				am["defaultValue"] = "0"
			}
		case Text, Document, Many:
			am["allowSort"] = false
		}
	}
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// nativeInit adds the implicit ID attribute and the attributes mixins bring (UnityBase's
// native entity initialisation). User attributes come first, in meta order; ID is first.
func (l *loader) nativeInit(domainJSON map[string]any) {
	userRef := func() map[string]any {
		if _, ok := domainJSON["uba_user"]; ok {
			return map[string]any{"dataType": string(EntityT), "associatedEntity": "uba_user"}
		}
		return map[string]any{"dataType": string(BigInt)}
	}
	// Parents of unities carry the code of the child entity each row belongs to.
	unityParents := map[string]bool{}
	for _, name := range sortedKeys(domainJSON) {
		if o, ok := mixinOpts(metaOf(domainJSON[name]), "unity"); ok {
			if p, _ := o["entity"].(string); p != "" {
				unityParents[p] = true
			}
		}
	}
	for _, name := range sortedKeys(domainJSON) {
		meta := metaOf(domainJSON[name])
		if meta == nil {
			continue
		}
		attrs := attrsOf(meta)
		has := func(n string) bool {
			for _, a := range attrs {
				if am, ok := a.(map[string]any); ok && am["name"] == n {
					return true
				}
			}
			return false
		}
		var added []any
		add := func(attr map[string]any, base map[string]any) {
			if has(attr["name"].(string)) {
				return
			}
			for k, v := range base {
				attr[k] = v
			}
			attr["defaultView"] = false
			l.markImplicit(name, attr["name"].(string))
			added = append(added, attr)
		}
		if !has("ID") {
			attrs = append([]any{map[string]any{"name": "ID", "dataType": string(BigInt), "caption": "ID",
				"allowNull": false, "defaultView": false}}, attrs...)
			l.markImplicit(name, "ID")
		} else {
			for _, a := range attrs {
				if am, ok := a.(map[string]any); ok && am["name"] == "ID" {
					am["allowNull"] = false
				}
			}
		}
		if o, ok := mixinOpts(meta, "mStorage"); ok {
			if v, _ := o["simpleAudit"].(bool); v {
				add(map[string]any{"name": "mi_owner", "caption": "Owner", "allowNull": false}, userRef())
				add(map[string]any{"name": "mi_createDate", "dataType": string(DateTime), "caption": "Created", "allowNull": false, "defaultValue": "currentDate", "readOnly": true}, nil)
				add(map[string]any{"name": "mi_createUser", "caption": "Created by", "allowNull": false, "readOnly": true}, userRef())
				add(map[string]any{"name": "mi_modifyDate", "dataType": string(DateTime), "caption": "Modified", "allowNull": false, "defaultValue": "currentDate", "readOnly": true}, nil)
				add(map[string]any{"name": "mi_modifyUser", "caption": "Modified by", "allowNull": false, "readOnly": true}, userRef())
			}
			if v, _ := o["safeDelete"].(bool); v {
				add(map[string]any{"name": "mi_deleteDate", "dataType": string(DateTime), "caption": "Deleted", "allowNull": false, "defaultValue": "maxDate", "readOnly": true}, nil)
				add(map[string]any{"name": "mi_deleteUser", "caption": "Deleted by", "allowNull": true, "readOnly": true}, userRef())
			}
		}
		if _, ok := mixinOpts(meta, "dataHistory"); ok {
			add(map[string]any{"name": "mi_data_id", "dataType": string(BigInt), "caption": "History ID", "allowNull": false, "readOnly": true}, nil)
			add(map[string]any{"name": "mi_dateFrom", "dataType": string(DateTime), "caption": "Valid from", "allowNull": false, "defaultValue": "currentDate"}, nil)
			add(map[string]any{"name": "mi_dateTo", "dataType": string(DateTime), "caption": "Valid to", "allowNull": false, "defaultValue": "maxDate"}, nil)
		}
		if _, ok := mixinOpts(meta, "tree"); ok {
			add(map[string]any{"name": "mi_treePath", "dataType": string(String), "size": 512.0, "caption": "Tree path", "allowNull": false, "readOnly": true}, nil)
		}
		if unityParents[name] {
			add(map[string]any{"name": "mi_unityEntity", "dataType": string(String), "size": 64.0, "caption": "Entity", "allowNull": false, "readOnly": true}, nil)
		}
		if _, ok := mixinOpts(meta, "multitenancy"); ok && slices.Contains(l.in.ImplicitMixins, "multitenancy") {
			add(map[string]any{"name": "mi_tenantID", "dataType": string(BigInt), "caption": "Tenant", "allowNull": false, "readOnly": true}, nil)
		}
		meta["attributes"] = append(attrs, added...)
	}
}

// markImplicit remembers attributes the server added, so that the domain can tell them apart
// from attributes written in meta files without a marker key in the metadata itself.
func (l *loader) markImplicit(entity, attr string) {
	if l.implicit == nil {
		l.implicit = map[string]map[string]bool{}
	}
	if l.implicit[entity] == nil {
		l.implicit[entity] = map[string]bool{}
	}
	l.implicit[entity][attr] = true
}

// dropMultitenancy removes the multitenancy mixin when the application does not enable
// multitenancy, as UnityBase does: models ship it on their entities for tenant-aware apps.
func (l *loader) dropMultitenancy(meta map[string]any) {
	if slices.Contains(l.in.ImplicitMixins, "multitenancy") {
		return
	}
	if mx, ok := meta["mixins"].(map[string]any); ok {
		delete(mx, "multitenancy")
	}
}
