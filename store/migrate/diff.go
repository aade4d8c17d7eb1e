package migrate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ubgo/ubgo/store/dialect"
)

// differ compares the desired schema with the inspected one and plans the statements that
// turn one into the other. PostgreSQL can alter everything in place (diff_postgres.go);
// SQLite rebuilds a table for any change other than a new column or index
// (diff_sqlite.go).
type differ struct {
	t          *Target
	d          dialect.Dialect
	want, have *schema
	p          *Plan
}

func diff(t *Target, want, have *schema) *Plan {
	df := &differ{t: t, d: t.Dialect, want: want, have: have,
		p: &Plan{Dialect: t.Dialect.Name(), schema: t.Schema}}
	if t.isSQLite() {
		for _, w := range want.tables {
			df.sqliteTable(w)
		}
		df.sqliteIDRow()
	} else {
		pkChanged := df.pkChanges()
		for _, w := range want.tables {
			df.postgresTable(w, pkChanged)
		}
		df.sequences()
	}
	for _, name := range sortedTableNames(have) {
		if want.table(name) == nil && !strings.EqualFold(name, StampTable) {
			df.warn("table %s belongs to no entity of connection %q; left unchanged", name, t.Connection)
		}
	}
	df.p.sortStatements()
	return df.p
}

func (df *differ) add(g Group, sql, why string) {
	df.p.Statements = append(df.p.Statements, Statement{Group: g, SQL: sql, Why: why})
}

func (df *differ) addDestructive(g Group, sql, why string) {
	df.p.Statements = append(df.p.Statements, Statement{Group: g, SQL: sql, Why: why, Destructive: true})
}

func (df *differ) warn(format string, args ...any) {
	df.p.Warnings = append(df.p.Warnings, fmt.Sprintf(format, args...))
}

func (df *differ) id(name string) string { return df.d.Ident(name) }

// idents writes a column list.
func (df *differ) idents(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = df.id(n)
	}
	return strings.Join(out, ", ")
}

// columnDef is a column definition for CREATE TABLE and ADD COLUMN. SQLite wants an
// expression default in parentheses.
func (df *differ) columnDef(c *column) string {
	s := df.id(c.Name) + " " + c.Type
	if c.Default != "" {
		if df.t.isSQLite() && !isLiteral(c.Default) {
			s += " DEFAULT (" + c.Default + ")"
		} else {
			s += " DEFAULT " + c.Default
		}
	}
	if c.NotNull {
		return s + " NOT NULL"
	}
	return s + " NULL"
}

func (df *differ) createIndexSQL(table string, x *index) string {
	ks := make([]string, len(x.Keys))
	for i, k := range x.Keys {
		ks[i] = k.sql(df.id)
	}
	u := ""
	if x.Unique {
		u = "UNIQUE "
	}
	return "CREATE " + u + "INDEX " + df.id(x.Name) + " ON " + df.id(table) + " (" + strings.Join(ks, ", ") + ")"
}

func (df *differ) fkClause(f *foreignKey) string {
	return "CONSTRAINT " + df.id(f.Name) + " FOREIGN KEY (" + df.idents(f.Columns) + ") REFERENCES " +
		df.id(f.RefTable) + " (" + df.idents(f.RefColumns) + ")"
}

func (df *differ) checkClause(c *check) string {
	return "CONSTRAINT " + df.id(c.Name) + " CHECK (" + c.Expr + ")"
}

func (df *differ) pkClause(pk *primaryKey) string {
	return "CONSTRAINT " + df.id(pk.Name) + " PRIMARY KEY (" + df.idents(pk.Columns) + ")"
}

// colChange is how an existing column differs from the desired one.
type colChange struct {
	Type    bool // the declared type differs
	TypeChg typeChange
	Default bool
	NotNull bool // becomes NOT NULL
	Null    bool // becomes nullable
}

func (c colChange) any() bool { return c.Type || c.Default || c.NotNull || c.Null }

func compareColumn(want, have *column) colChange {
	var ch colChange
	if !sameType(want.Type, have.Type) {
		ch.Type = true
		ch.TypeChg = classifyTypeChange(parseType(have.Type), parseType(want.Type))
	}
	ch.Default = normDefault(want.Default) != normDefault(have.Default)
	ch.NotNull = want.NotNull && !have.NotNull
	ch.Null = !want.NotNull && have.NotNull
	return ch
}

// describe says in words what changes, for Why.
func (c colChange) describe(table string, want, have *column) []string {
	var out []string
	name := table + "." + want.Name
	if c.Type {
		s := "column " + name + " changes type from " + parseType(have.Type).Text + " to " + want.Type
		if c.TypeChg.Lossy {
			s += ": " + c.TypeChg.Why
		}
		out = append(out, s)
	}
	if c.NotNull {
		out = append(out, "column "+name+" becomes NOT NULL (NULLs are set to "+want.Fill+")")
	}
	if c.Null {
		out = append(out, "column "+name+" becomes nullable")
	}
	if c.Default {
		switch {
		case want.Default == "":
			out = append(out, "column "+name+" loses its default")
		default:
			out = append(out, "column "+name+" gets default "+want.Default)
		}
	}
	return out
}

// diffIndexes returns the live indexes to drop and the desired ones to create: an index
// whose name is kept but whose definition changed is both.
func diffIndexes(want, have *table) (drop, create []*index) {
	for _, x := range have.Indexes {
		if w := want.index(x.Name); w == nil || !w.sameAs(x) {
			drop = append(drop, x)
		}
	}
	for _, w := range want.Indexes {
		if h := have.index(w.Name); h == nil || !h.sameAs(w) {
			create = append(create, w)
		}
	}
	return drop, create
}

func diffChecks(want, have *table) (drop, create []*check) {
	for _, c := range have.Checks {
		if want.check(c.Name) == nil {
			drop = append(drop, c)
		}
	}
	for _, c := range want.Checks {
		if have.check(c.Name) == nil {
			create = append(create, c)
		}
	}
	return drop, create
}

// diffFKs matches foreign keys by definition; renew forces re-creating the ones that point
// at a table whose primary key is re-created.
func diffFKs(want, have *table, renew func(*foreignKey) bool) (drop, create []*foreignKey) {
	for _, f := range have.FKs {
		if want.fk(f) == nil || renew(f) {
			drop = append(drop, f)
		}
	}
	for _, f := range want.FKs {
		if have.fk(f) == nil || renew(f) {
			create = append(create, f)
		}
	}
	return drop, create
}

func describeKeys(x *index) string {
	ks := make([]string, len(x.Keys))
	for i, k := range x.Keys {
		ks[i] = k.Expr
		if k.Desc {
			ks[i] += " DESC"
		}
	}
	return strings.Join(ks, ", ")
}

func (df *differ) sequences() {
	for _, q := range df.want.sequences {
		h := df.have.sequence(q.Name)
		params := "INCREMENT " + strconv.FormatInt(q.Inc, 10) + " MINVALUE " + strconv.FormatInt(q.Min, 10) +
			" MAXVALUE " + strconv.FormatInt(q.Max, 10)
		switch {
		case h == nil:
			df.add(GroupCreateSequence, "CREATE SEQUENCE "+df.id(q.Name)+" "+params+" START "+strconv.FormatInt(q.Start, 10)+
				" CACHE "+strconv.FormatInt(q.Cache, 10)+" NO CYCLE", "sequence of "+q.Why)
		case h.Start != q.Start:
			df.warn("sequence %s starts at %d, not at %d (created for another clientNum?); left unchanged", q.Name, h.Start, q.Start)
		case h.Inc != q.Inc || h.Min != q.Min || h.Max != q.Max || h.Cache != q.Cache || h.Cycle != q.Cycle:
			df.add(GroupCreateSequence, "ALTER SEQUENCE "+df.id(q.Name)+" "+params+" CACHE "+strconv.FormatInt(q.Cache, 10)+" NO CYCLE",
				"sequence "+q.Name+" ("+q.Why+") has other limits or cycles")
		}
	}
}
