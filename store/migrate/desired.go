package migrate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/store/dialect"
)

// IDTable is the SQLite table of the ID generator (one row, the last issued value) and
// IDSequence the PostgreSQL sequence of the global ID space (§5.6).
const (
	IDTable    = "seq_ubmain"
	IDSequence = "seq_ubmain"
)

// builder turns the target's part of the domain into the desired schema (§11).
type builder struct {
	t        *Target
	d        dialect.Dialect
	dn       string // dialect name, the key of entity and attribute mappings
	maxLen   int    // longest identifier the dialect keeps
	s        *schema
	warnings []string
	// relNames are the index and primary key names already used, lower case → table:
	// both databases keep them in one namespace per schema.
	relNames map[string]string
}

func desired(t *Target) (*schema, []string, error) {
	b := &builder{t: t, d: t.Dialect, dn: t.Dialect.Name(), maxLen: t.Dialect.MaxIdentLen(), s: newSchema(),
		relNames: map[string]string{}}
	for _, e := range t.Domain.Entities {
		if !t.owns(e) {
			continue
		}
		if err := b.entity(e); err != nil {
			return nil, nil, err
		}
	}
	b.idGenerator()
	return b.s, b.warnings, nil
}

func (b *builder) warn(format string, args ...any) {
	b.warnings = append(b.warnings, fmt.Sprintf(format, args...))
}

// otherLangs are the languages that get their own column for multi-language attributes.
func (b *builder) otherLangs() []string {
	var out []string
	for _, l := range b.t.Langs {
		if l != "" && l != b.t.DefaultLang {
			out = append(out, l)
		}
	}
	return out
}

func (b *builder) entity(e *domain.Entity) error {
	name := e.ExecName(b.dn)
	if prev := b.s.table(name); prev != nil {
		// UnityBase lets several entities share a table (an editing entity over the table of
		// a reading one); the first one in load order defines it.
		b.warn("entity %s is stored in table %s, which %s already defines; its DDL comes from there", e.Name, name, prev.Origin)
		return nil
	}
	tb := &table{Name: name, Origin: "entity " + e.Name}
	alias := aliasOf(e, name)
	for _, a := range e.Attributes {
		if !a.Stored(b.dn) {
			continue
		}
		col, _ := a.Column(b.dn)
		if tb.column(col) != nil {
			continue // an attribute mapped onto another attribute's column
		}
		c, err := b.column(e, a, col)
		if err != nil {
			return err
		}
		tb.addColumn(c)
		if a.IsMultiLang && (a.DataType == domain.String || a.DataType == domain.Text) {
			for _, lang := range b.otherLangs() {
				tb.addColumn(&column{Name: col + "_" + lang, Type: c.Type, Attr: c.Attr + " in " + lang})
			}
		}
	}
	b.primaryKey(e, tb, alias)
	b.mixinObjects(e, tb, alias)
	b.uniqueAttributes(e, tb, alias)
	b.dbKeys(e, tb)
	b.dbExtensions(e, tb)
	b.references(e, tb, alias)
	b.s.addTable(tb)
	return nil
}

func (b *builder) column(e *domain.Entity, a *domain.Attribute, col string) (*column, error) {
	typ := b.d.ColumnType(string(a.DataType), a.Size, a.Precision, a.Scale)
	if typ == "" {
		return nil, fmt.Errorf("migrate: entity %s attribute %s: no %s column type for dataType %q", e.Name, a.Name, b.dn, a.DataType)
	}
	c := &column{Name: col, Type: typ, NotNull: !a.AllowNull || a.DataType == domain.Boolean, Attr: e.Name + "." + a.Name}
	c.Default = b.defaultSQL(a)
	c.Fill = b.fill(e, a, c)
	return c, nil
}

// defaultSQL is the DDL default of an attribute: the currentDate and maxDate macros, 0/1 for
// Booleans, numbers as they are and anything else as a string literal.
func (b *builder) defaultSQL(a *domain.Attribute) string {
	if !a.HasDefault {
		if a.DataType == domain.Boolean {
			return "0"
		}
		return ""
	}
	v := a.DefaultValue
	switch {
	case strings.EqualFold(v, "currentDate"):
		return b.d.CurrentDateSQL()
	case strings.EqualFold(v, "maxDate"):
		return b.d.MaxDateSQL()
	case a.DataType == domain.Boolean:
		return b.d.BoolLiteral(v == "1" || strings.EqualFold(v, "true"))
	case isNumeric(a.DataType):
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return v
		}
	}
	return quote(v)
}

func isNumeric(t domain.DataType) bool {
	switch t {
	case domain.Int, domain.BigInt, domain.Float, domain.Currency, domain.ID, domain.EntityT, domain.TimeLog:
		return true
	}
	return false
}

// fill is the value existing rows get when the column is added as NOT NULL or becomes NOT
// NULL, after UnityBase (DBAbstract.js, DDLGenerator.specialColumns): the default if there
// is one, the admin user for audit users, the current date for audit dates, the first row of
// the referenced table for references, the row's own ID for other numbers and strings.
func (b *builder) fill(e *domain.Entity, a *domain.Attribute, c *column) string {
	if c.Default != "" {
		return c.Default
	}
	id := ""
	if ida := e.Attribute("ID"); ida != nil && ida.Stored(b.dn) {
		col, _ := ida.Column(b.dn)
		id = b.d.Ident(col)
	}
	switch a.Name {
	case "mi_owner", "mi_createUser", "mi_modifyUser":
		return "10" // the built-in admin user
	case "mi_createDate", "mi_modifyDate", "mi_dateFrom":
		return b.d.CurrentDateSQL()
	case "mi_deleteDate", "mi_dateTo":
		return b.d.MaxDateSQL()
	}
	orZero := func(s string) string {
		if s == "" {
			return "0"
		}
		return s
	}
	switch a.DataType {
	case domain.EntityT:
		ref := a.Association
		if ref == e {
			return orZero(id)
		}
		if ref != nil && b.t.owns(ref) {
			if rid := ref.Attribute("ID"); rid != nil && rid.Stored(b.dn) {
				col, _ := rid.Column(b.dn)
				return "(SELECT min(" + b.d.Ident(col) + ") FROM " + b.d.Ident(ref.ExecName(b.dn)) + ")"
			}
		}
		return orZero(id)
	case domain.Enum:
		if en := b.t.Domain.Entity("ubm_enum"); en != nil && b.t.owns(en) && en.Attribute("code") != nil && en.Attribute("eGroup") != nil {
			code, _ := en.Attribute("code").Column(b.dn)
			group, _ := en.Attribute("eGroup").Column(b.dn)
			return "(SELECT min(" + b.d.Ident(code) + ") FROM " + b.d.Ident(en.ExecName(b.dn)) +
				" WHERE " + b.d.Ident(group) + " = " + quote(a.EnumGroup) + ")"
		}
		return "''"
	case domain.String, domain.Text, domain.Document:
		if id == "" {
			return "''"
		}
		return "CAST(" + id + " AS " + c.Type + ")"
	case domain.Int, domain.Boolean:
		return "0" // an ID does not fit a 32-bit INTEGER
	case domain.BigInt, domain.ID, domain.TimeLog, domain.Float, domain.Currency:
		return orZero(id)
	case domain.DateTime, domain.Date:
		return b.d.CurrentDateSQL()
	case domain.JSON:
		return "'{}'"
	}
	return "''"
}

// idGenerator adds the objects IDs come from (§5.6): on SQLite the table seq_ubmain, on
// PostgreSQL the sequence seq_ubmain and the sequences entities name as pkGenerator.
func (b *builder) idGenerator() {
	start := b.t.clientNum() * 10_000_000_000
	if b.t.isSQLite() {
		if b.s.table(IDTable) != nil {
			b.warn("an entity is stored in table %s, the ID generator's table", IDTable)
			return
		}
		tb := &table{Name: IDTable, Origin: "the ID generator"}
		tb.addColumn(&column{Name: "client_num", Type: b.d.ColumnType("BigInt", 0, 0, 0), NotNull: true,
			Fill: strconv.FormatInt(start, 10), Attr: IDTable + ".client_num"})
		b.s.addTable(tb)
		return
	}
	// NO CYCLE: a sequence that wraps would hand out IDs that are already used.
	b.s.addSequence(&sequence{Name: IDSequence, Start: start, Min: 1, Max: start + 4_999_999_999, Inc: 1, Cache: 1,
		Why: "the ID generator"})
	for _, e := range b.t.Domain.Entities {
		g := e.PKGenerator(b.dn)
		if !b.t.owns(e) || g == "" || !isIdent(g) || b.s.sequence(g) != nil {
			continue // no generator, or SQL rather than a sequence name
		}
		b.s.addSequence(&sequence{Name: strings.ToLower(g), Start: 1, Min: 1, Max: 999_999_999_999_999, Inc: 1, Cache: 1,
			Why: "pkGenerator of " + e.Name})
	}
}
