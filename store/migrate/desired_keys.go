package migrate

import (
	"sort"
	"strings"

	"github.com/ubgo/ubgo/domain"
)

// The keys, indexes, checks and references of an entity's table (§11).

func (b *builder) primaryKey(e *domain.Entity, tb *table, alias string) {
	var cols []string
	if ida := e.Attribute("ID"); ida != nil && ida.Stored(b.dn) {
		col, _ := ida.Column(b.dn)
		cols = []string{col}
	} else if e.IsManyManyRef {
		// A Many link table has a calculated ID; a row is identified by the pair (§11).
		for _, n := range []string{"sourceID", "destID"} {
			if a := e.Attribute(n); a != nil && a.Stored(b.dn) {
				col, _ := a.Column(b.dn)
				cols = append(cols, col)
			}
		}
	}
	if len(cols) == 0 {
		return
	}
	name := pkName(alias, b.maxLen)
	if !b.claim(name, tb) {
		return
	}
	tb.PK = &primaryKey{Name: name, Columns: cols}
}

// claim reserves an index or primary key name for tb; a name another table already uses is
// reported and the object is left out.
func (b *builder) claim(name string, tb *table) bool {
	key := strings.ToLower(name)
	if owner, ok := b.relNames[key]; ok {
		b.warn("%s: index or key name %s is already used by table %s; left out", tb.Origin, name, owner)
		return false
	}
	b.relNames[key] = tb.Name
	return true
}

func (b *builder) addIndex(tb *table, x *index) {
	for _, k := range x.Keys {
		if isIdent(k.Expr) && tb.column(k.Expr) == nil {
			b.warn("%s: index %s names %s, which is not a column of %s; left out", tb.Origin, x.Name, k.Expr, tb.Name)
			return
		}
	}
	if tb.index(x.Name) != nil || !b.claim(x.Name, tb) {
		return
	}
	tb.Indexes = append(tb.Indexes, x)
}

func keys(cols ...string) []indexKey {
	out := make([]indexKey, 0, len(cols))
	for _, c := range cols {
		if c != "" {
			out = append(out, indexKey{Expr: c})
		}
	}
	return out
}

// safeDeleteCol is "mi_deleteDate" when the entity keeps deleted rows, else "".
func safeDeleteCol(e *domain.Entity, tb *table) string {
	if e.Mixins.MStorage != nil && e.Mixins.MStorage.SafeDelete && tb.column("mi_deleteDate") != nil {
		return "mi_deleteDate"
	}
	return ""
}

func (b *builder) mixinObjects(e *domain.Entity, tb *table, alias string) {
	if e.Mixins.Tree != nil && tb.column("mi_treePath") != nil {
		b.addIndex(tb, &index{Name: objName(b.maxLen, "IDX", alias, "TREEPATH"), Keys: keys("mi_treePath")})
	}
	if e.Mixins.DataHistory != nil && tb.column("mi_dateTo") != nil && tb.column("mi_dateFrom") != nil {
		del := safeDeleteCol(e, tb)
		b.addIndex(tb, &index{Name: objName(b.maxLen, "IDX", alias, "DTODD"), Keys: keys("mi_dateTo", del)})
		if tb.column("mi_data_id") != nil {
			b.addIndex(tb, &index{Name: objName(b.maxLen, "UIDX", alias, "HIST"), Unique: true, Keys: keys("mi_dateFrom", "mi_data_id", del)})
		}
		tb.Checks = append(tb.Checks, &check{Name: objName(b.maxLen, "CHK", alias, "HIST"), Expr: "mi_dateFrom <= mi_dateTo"})
	}
	for _, a := range e.Attributes {
		if a.DataType == domain.Boolean && a.Stored(b.dn) {
			col, _ := a.Column(b.dn)
			tb.Checks = append(tb.Checks, &check{Name: boolCheckName(alias, col, b.maxLen), Expr: b.d.Ident(col) + " IN (0,1)", Column: col})
		}
	}
}

// uniqueAttributes indexes isUnique attributes (and their language columns) together with
// the columns that let several versions or deleted copies of a row exist.
func (b *builder) uniqueAttributes(e *domain.Entity, tb *table, alias string) {
	del := safeDeleteCol(e, tb)
	hist := ""
	if e.Mixins.DataHistory != nil && tb.column("mi_dateTo") != nil {
		hist = "mi_dateTo"
	}
	for _, a := range e.Attributes {
		if !a.IsUnique || !a.Stored(b.dn) {
			continue
		}
		col, _ := a.Column(b.dn)
		cols := []string{col}
		if a.IsMultiLang {
			for _, lang := range b.otherLangs() {
				if tb.column(col+"_"+lang) != nil {
					cols = append(cols, col+"_"+lang)
				}
			}
		}
		for _, c := range cols {
			b.addIndex(tb, &index{Name: uniqueName(alias, c, b.maxLen), Unique: true, Keys: keys(c, hist, del)})
		}
	}
}

// orderedKeys returns the attribute names of a dbKeys or dbExtensions key map in the order
// of the entity's attributes. The domain keeps these maps as Go maps, which lose the order
// of the meta file; attribute order is the closest deterministic stand-in.
func orderedKeys(e *domain.Entity, m map[string]any) []string {
	pos := map[string]int{}
	for i, a := range e.Attributes {
		pos[a.Name] = i
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		pi, iok := pos[names[i]]
		pj, jok := pos[names[j]]
		switch {
		case iok && jok:
			return pi < pj
		case iok != jok:
			return iok
		}
		return names[i] < names[j]
	})
	return names
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// keyList turns {attr: {sort, func}} into index keys.
func (b *builder) keyList(e *domain.Entity, m map[string]any) []indexKey {
	var out []indexKey
	for _, name := range orderedKeys(e, m) {
		col := name
		if a := e.Attribute(name); a != nil {
			col, _ = a.Column(b.dn)
		}
		k := indexKey{Expr: col}
		if opts, ok := m[name].(map[string]any); ok {
			if s, _ := opts["sort"].(string); strings.EqualFold(s, "DESC") {
				k.Desc = true
			}
			if f, _ := opts["func"].(string); f != "" && isIdent(f) {
				k.Expr = f + "(" + b.d.Ident(col) + ")"
			}
		}
		out = append(out, k)
	}
	return out
}

func hasKey(ks []indexKey, col string) bool {
	for _, k := range ks {
		if strings.EqualFold(k.Expr, col) {
			return true
		}
	}
	return false
}

// dbKeys are extra unique indexes; like isUnique they include the history and soft-delete
// columns (§11).
func (b *builder) dbKeys(e *domain.Entity, tb *table) {
	for _, name := range sortedKeys(e.DBKeys) {
		fields, ok := e.DBKeys[name].(map[string]any)
		if !ok || len(fields) == 0 {
			b.warn("%s: dbKeys %s has no attributes; left out", tb.Origin, name)
			continue
		}
		ks := b.keyList(e, fields)
		if e.Mixins.DataHistory != nil && tb.column("mi_dateFrom") != nil && !hasKey(ks, "mi_dateFrom") {
			ks = append(ks, indexKey{Expr: "mi_dateFrom"})
		}
		if del := safeDeleteCol(e, tb); del != "" && !hasKey(ks, del) {
			ks = append(ks, indexKey{Expr: del})
		}
		b.addIndex(tb, &index{Name: fitName(strings.ToUpper(name), b.maxLen), Unique: true, Keys: ks})
	}
}

// dbExtensions: INDEX and CATALOGUE become indexes, CHECK a check constraint, FK a foreign
// key. SUFFIXES and COLUMNSTORE exist for MSSQL and Oracle only; OTHER is free SQL that
// cannot be compared with a database, so it is reported, not run.
func (b *builder) dbExtensions(e *domain.Entity, tb *table) {
	for _, name := range sortedKeys(e.DBExtensions) {
		ext, _ := e.DBExtensions[name].(map[string]any)
		typ, _ := ext["type"].(string)
		def, _ := ext["definition"].(map[string]any)
		obj := fitName(strings.ToUpper(name), b.maxLen)
		switch strings.ToUpper(typ) {
		case "INDEX", "CATALOGUE":
			ks, _ := def["keys"].(map[string]any)
			if len(ks) == 0 {
				b.warn("%s: dbExtensions %s has no keys; left out", tb.Origin, name)
				continue
			}
			unique, _ := def["isUnique"].(bool)
			b.addIndex(tb, &index{Name: obj, Unique: unique, Keys: b.keyList(e, ks)})
		case "CHECK":
			expr, _ := def["check"].(string)
			if expr == "" {
				b.warn("%s: dbExtensions %s has no check expression; left out", tb.Origin, name)
				continue
			}
			tb.Checks = append(tb.Checks, &check{Name: obj, Expr: expr})
		case "FK":
			key, _ := def["key"].(string)
			refName, _ := def["references"].(string)
			a, ref := e.Attribute(key), b.t.Domain.Entity(refName)
			if a == nil || !a.Stored(b.dn) || ref == nil || !b.t.owns(ref) {
				b.warn("%s: dbExtensions %s: key %q or references %q is not a stored attribute or an entity of this connection; left out", tb.Origin, name, key, refName)
				continue
			}
			col, _ := a.Column(b.dn)
			b.addFK(tb, col, ref, obj, "dbExtensions "+name)
		case "SUFFIXES", "COLUMNSTORE":
		default:
			if _, ok := ext[b.dn]; ok {
				b.warn("%s: dbExtensions %s of type %s is not managed by migrate; apply it yourself", tb.Origin, name, typ)
			}
		}
	}
}

// references adds a foreign key and an index for every Entity attribute, and the foreign key
// of a unity to its parent.
func (b *builder) references(e *domain.Entity, tb *table, alias string) {
	for _, a := range e.Attributes {
		if a.DataType != domain.EntityT || a.Name == "ID" || !a.Stored(b.dn) {
			continue
		}
		if a.AssociationAttr != "" && a.AssociationAttr != "ID" {
			continue // a reverse association: the column holds this row's key, not the other's
		}
		col, _ := a.Column(b.dn)
		if ref := a.Association; ref != nil && a.GenerateFK && b.t.owns(ref) {
			refAlias := aliasOf(ref, ref.ExecName(b.dn))
			b.addFK(tb, col, ref, fkName(alias, col, refAlias, b.maxLen), "attribute "+e.Name+"."+a.Name)
		}
		if !b.indexed(tb, col) {
			b.addIndex(tb, &index{Name: indexName(alias, col, b.maxLen), Keys: keys(col)})
		}
	}
	if u := e.Mixins.Unity; u != nil {
		parent := b.t.Domain.Entity(u.Entity)
		if ida := e.Attribute("ID"); parent != nil && b.t.owns(parent) && ida != nil && ida.Stored(b.dn) {
			col, _ := ida.Column(b.dn)
			b.addFK(tb, col, parent, fkName(alias, "ID", aliasOf(parent, parent.ExecName(b.dn)), b.maxLen), "unity of "+e.Name+" with "+parent.Name)
		}
	}
}

// indexed reports whether an index or the primary key already starts with col, which makes
// a separate index on col useless.
func (b *builder) indexed(tb *table, col string) bool {
	if tb.PK != nil && len(tb.PK.Columns) > 0 && strings.EqualFold(tb.PK.Columns[0], col) {
		return true
	}
	for _, x := range tb.Indexes {
		if x.startsWith(col) {
			return true
		}
	}
	return false
}

func (b *builder) addFK(tb *table, col string, ref *domain.Entity, name, why string) {
	rid := ref.Attribute("ID")
	if rid == nil || !rid.Stored(b.dn) {
		return // the referenced table has no ID column to point at (a Many link table)
	}
	refCol, _ := rid.Column(b.dn)
	fk := &foreignKey{Name: name, Columns: []string{col}, RefTable: ref.ExecName(b.dn), RefColumns: []string{refCol}, Why: why}
	if tb.fk(fk) != nil {
		return
	}
	tb.FKs = append(tb.FKs, fk)
}
