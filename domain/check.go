package domain

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ubgo/ubgo/internal/jsonc"
)

// Limits on names, chosen so that every generated SQL identifier fits every supported
// database (PostgreSQL truncates at 63 bytes; the multi-language suffix adds 3).
const (
	MaxEntityNameLen    = 50
	MaxAttributeNameLen = 30
	MaxSQLAliasLen      = 8
)

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// check runs the semantic checks the schema cannot express and collects every finding.
func (l *loader) check(d *Domain) {
	aliases := map[string]*Entity{}
	for _, e := range d.Entities {
		at := func(ptr, format string, args ...any) {
			l.addErr(l.locate(e.Name, e.Meta, ptr, fmt.Sprintf(format, args...)))
		}
		attrPtr := func(i int, key string) string {
			if key == "" {
				return jsonc.JoinPointer("attributes", strconv.Itoa(i))
			}
			return jsonc.JoinPointer("attributes", strconv.Itoa(i), key)
		}
		if !identRE.MatchString(e.Name) || len(e.Name) > MaxEntityNameLen {
			at("", "entity name %q must be an identifier (letters, digits, _) of at most %d characters", e.Name, MaxEntityNameLen)
		}
		if e.SQLAlias != "" {
			key := strings.ToLower(e.SQLAlias)
			if len(e.SQLAlias) > MaxSQLAliasLen {
				at("/sqlAlias", "sqlAlias %q is longer than %d characters", e.SQLAlias, MaxSQLAliasLen)
			} else if !identRE.MatchString(e.SQLAlias) {
				at("/sqlAlias", "sqlAlias %q must be an identifier", e.SQLAlias)
			} else if other := aliases[key]; other != nil {
				at("/sqlAlias", "sqlAlias %q is already used by entity %s", e.SQLAlias, other.Name)
			} else {
				aliases[key] = e
			}
		}
		if e.ConnectionName != "" && l.in.Connections != nil && !slices.Contains(l.in.Connections, e.ConnectionName) {
			at("/connectionName", "connectionName %q is not a connection of the configuration (known: %s)", e.ConnectionName, quoteList(l.in.Connections))
		}
		seen := map[string]int{}
		for i, a := range e.Attributes {
			if j, dup := seen[a.Name]; dup {
				at(attrPtr(i, "name"), "attribute %q is declared twice (also at index %d)", a.Name, j)
			}
			seen[a.Name] = i
			if !identRE.MatchString(a.Name) {
				at(attrPtr(i, "name"), "attribute name %q must be an identifier (letters, digits, _, not starting with a digit)", a.Name)
			} else if len(a.Name) > MaxAttributeNameLen {
				at(attrPtr(i, "name"), "attribute name %q is longer than %d characters", a.Name, MaxAttributeNameLen)
			}
			switch a.DataType {
			case EntityT, Many:
				target := d.Entity(a.AssociatedEntity)
				if target == nil {
					at(attrPtr(i, "associatedEntity"), "associatedEntity %q of attribute %s is not an entity of the domain", a.AssociatedEntity, a.Name)
				} else if a.DataType == EntityT && target.Attribute(a.AssociationAttr) == nil {
					at(attrPtr(i, "associationAttr"), "associationAttr %q of attribute %s is not an attribute of %s", a.AssociationAttr, a.Name, target.Name)
				}
			case Document:
				if a.StoreName == "" {
					if len(l.in.BlobStores) > 0 || l.in.DefaultBlobStore != "" {
						at(attrPtr(i, ""), "Document attribute %s has no storeName and the configuration has no default blob store", a.Name)
					} else {
						l.addWarn(l.locate(e.Name, e.Meta, attrPtr(i, ""), fmt.Sprintf("Document attribute %s has no blob store: the configuration defines none", a.Name)))
					}
				} else if !slices.Contains(l.in.BlobStores, a.StoreName) {
					at(attrPtr(i, "storeName"), "storeName %q of Document attribute %s is not a blob store of the configuration (known: %s)", a.StoreName, a.Name, quoteList(l.in.BlobStores))
				}
			}
		}
		warnAt := func(ptr, format string, args ...any) {
			l.addWarn(l.locate(e.Name, e.Meta, ptr, fmt.Sprintf(format, args...)))
		}
		// Real UnityBase metadata names missing description attributes and audit parents (clients
		// fall back to other attributes and the audit to no parent), so these only warn.
		if e.Meta["descriptionAttribute"] != nil && e.Attribute(e.DescriptionAttribute) == nil {
			warnAt("/descriptionAttribute", "descriptionAttribute %q is not an attribute of the entity", e.DescriptionAttribute)
		}
		if u := e.Mixins.Unity; u != nil {
			parent := d.Entity(u.Entity)
			if parent == nil {
				at("/mixins/unity/entity", "unity entity %q is not an entity of the domain", u.Entity)
			} else {
				// attributeList names the unity's attributes to keep in step; each takes the value of
				// the child attribute of the same name, or of the one mapping points at it.
				for i, name := range u.AttributeList {
					if parent.Attribute(name) == nil {
						at(jsonc.JoinPointer("mixins", "unity", "attributeList", strconv.Itoa(i)), "unity attributeList names %q, which is not an attribute of the unity entity %s", name, parent.Name)
					}
				}
				for _, k := range sortedKeysS(u.Mapping) {
					if e.Attribute(k) == nil {
						at(jsonc.JoinPointer("mixins", "unity", "mapping", k), "unity mapping key %q is not an attribute of %s", k, e.Name)
					}
					if parent.Attribute(u.Mapping[k]) == nil {
						at(jsonc.JoinPointer("mixins", "unity", "mapping", k), "unity mapping value %q is not an attribute of the unity entity %s", u.Mapping[k], parent.Name)
					}
				}
				for _, k := range sortedKeys(u.Defaults) {
					if parent.Attribute(k) == nil {
						at(jsonc.JoinPointer("mixins", "unity", "defaults", k), "unity defaults key %q is not an attribute of the unity entity %s", k, parent.Name)
					}
				}
			}
		}
		if t := e.Mixins.Tree; t != nil {
			if pa := e.Attribute(t.ParentAttr); pa == nil {
				at("/mixins/tree/parentAttr", "tree parentAttr %q is not an attribute of %s", t.ParentAttr, e.Name)
			} else if pa.DataType != EntityT || pa.AssociatedEntity != e.Name {
				at("/mixins/tree/parentAttr", "tree parentAttr %q must be an Entity attribute that refers to %s itself", t.ParentAttr, e.Name)
			}
			if e.Attribute(t.PathAttr) == nil {
				at("/mixins/tree/pathAttr", "tree pathAttr %q is not an attribute of %s", t.PathAttr, e.Name)
			}
		}
		if h := e.Mixins.DataHistory; h != nil && h.HistoryType != "NewBecomesActual" && h.HistoryType != "OriginalRemainsActual" {
			at("/mixins/dataHistory/historyType", "dataHistory historyType %q must be NewBecomesActual or OriginalRemainsActual", h.HistoryType)
		}
		if a := e.Mixins.Audit; a != nil && a.ParentEntity != "" && d.Entity(a.ParentEntity) == nil {
			warnAt("/mixins/audit/parentEntity", "audit parentEntity %q is not an entity of the domain", a.ParentEntity)
		}
		for _, key := range sortedKeys(e.DBKeys) {
			cols, _ := e.DBKeys[key].(map[string]any)
			for _, c := range sortedKeys(cols) {
				if e.Attribute(c) == nil {
					at(jsonc.JoinPointer("dbKeys", key, c), "dbKeys %s names %q, which is not an attribute of %s", key, c, e.Name)
				}
			}
		}
	}
}

func sortedKeysS(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
