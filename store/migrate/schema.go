package migrate

import (
	"sort"
	"strings"
)

// schema is the part of a database migrate manages: tables with their columns and
// constraints, and sequences. The same types describe the schema the domain wants (desired)
// and the schema the database has (inspected), so that diff compares like with like. Names
// are looked up case-insensitively: SQLite ignores case and PostgreSQL folds unquoted names
// to lower case.
type schema struct {
	tables    []*table
	byName    map[string]*table
	sequences []*sequence
	seqByName map[string]*sequence
	// idRows is the number of rows of the SQLite ID generator table seq_ubmain, -1 when the
	// table does not exist or the dialect has no such table.
	idRows int
}

func newSchema() *schema {
	return &schema{byName: map[string]*table{}, seqByName: map[string]*sequence{}, idRows: -1}
}

func (s *schema) table(name string) *table { return s.byName[strings.ToLower(name)] }

func (s *schema) addTable(t *table) {
	s.tables = append(s.tables, t)
	s.byName[strings.ToLower(t.Name)] = t
}

func (s *schema) sequence(name string) *sequence { return s.seqByName[strings.ToLower(name)] }

func (s *schema) addSequence(q *sequence) {
	s.sequences = append(s.sequences, q)
	s.seqByName[strings.ToLower(q.Name)] = q
}

// table is one table. Desired tables know the entity they come from (Origin, for messages);
// inspected ones do not.
type table struct {
	Name    string
	Origin  string // "entity tsk_task", "the ID generator"; "" for inspected tables
	Columns []*column
	PK      *primaryKey // nil: no primary key
	Indexes []*index
	FKs     []*foreignKey
	Checks  []*check

	colByName map[string]*column
}

func (t *table) column(name string) *column {
	if t.colByName == nil {
		t.colByName = make(map[string]*column, len(t.Columns))
		for _, c := range t.Columns {
			t.colByName[strings.ToLower(c.Name)] = c
		}
	}
	return t.colByName[strings.ToLower(name)]
}

func (t *table) addColumn(c *column) {
	t.Columns = append(t.Columns, c)
	t.colByName = nil
}

func (t *table) index(name string) *index {
	for _, x := range t.Indexes {
		if strings.EqualFold(x.Name, name) {
			return x
		}
	}
	return nil
}

func (t *table) check(name string) *check {
	for _, c := range t.Checks {
		if strings.EqualFold(c.Name, name) {
			return c
		}
	}
	return nil
}

// fk returns the foreign key with the same definition as f: SQLite does not report
// constraint names, so foreign keys are matched by what they do, on both dialects.
func (t *table) fk(f *foreignKey) *foreignKey {
	for _, x := range t.FKs {
		if x.sameAs(f) {
			return x
		}
	}
	return nil
}

// column is one column. Type is the DDL type as the dialect writes it (desired) or as the
// database reports it (inspected); compare types with sameType. Default is an SQL expression,
// "" for none.
type column struct {
	Name    string
	Type    string
	NotNull bool
	Default string
	// Fill is the SQL expression that gives existing rows a value when the column is added
	// as NOT NULL or becomes NOT NULL (desired columns only; §11 rules).
	Fill string
	// Attr names the attribute for messages ("tsk_task.title"); desired columns only.
	Attr string
}

type primaryKey struct {
	Name    string
	Columns []string
}

func (p *primaryKey) sameAs(q *primaryKey) bool {
	if p == nil || q == nil {
		return p == q
	}
	return equalFoldList(p.Columns, q.Columns)
}

// index is a plain or unique index; Keys are column names or expressions.
type index struct {
	Name   string
	Unique bool
	Keys   []indexKey
	// Constraint is set for inspected PostgreSQL indexes that back a UNIQUE constraint,
	// which must be dropped with ALTER TABLE ... DROP CONSTRAINT.
	Constraint bool
}

type indexKey struct {
	Expr string // a column name or an SQL expression
	Desc bool
}

func (k indexKey) sql(ident func(string) string) string {
	s := k.Expr
	if isIdent(s) {
		s = ident(s)
	}
	if k.Desc {
		s += " DESC"
	}
	return s
}

func (x *index) sameAs(y *index) bool {
	if x.Unique != y.Unique || len(x.Keys) != len(y.Keys) {
		return false
	}
	for i := range x.Keys {
		if x.Keys[i].Desc != y.Keys[i].Desc || normExpr(x.Keys[i].Expr) != normExpr(y.Keys[i].Expr) {
			return false
		}
	}
	return true
}

// startsWith reports whether the first key of the index is the column col.
func (x *index) startsWith(col string) bool {
	return len(x.Keys) > 0 && strings.EqualFold(x.Keys[0].Expr, col)
}

type foreignKey struct {
	Name       string
	Columns    []string
	RefTable   string
	RefColumns []string
	Why        string // desired only: what the foreign key is for
}

func (f *foreignKey) sameAs(g *foreignKey) bool {
	return strings.EqualFold(f.RefTable, g.RefTable) && equalFoldList(f.Columns, g.Columns) &&
		equalFoldList(f.RefColumns, g.RefColumns)
}

// check is a named CHECK constraint. Checks are matched by name only: PostgreSQL reports a
// rewritten expression ("b IN (0,1)" comes back as "(b = ANY (ARRAY[0, 1]))"), so a changed
// expression needs a new name to be noticed.
type check struct {
	Name string
	Expr string
	// Column is set for a desired check on one column (a Boolean's): SQLite can add it
	// together with the column instead of rebuilding the table.
	Column string
}

// sequence is a PostgreSQL sequence.
type sequence struct {
	Name                        string
	Start, Min, Max, Inc, Cache int64
	Cycle                       bool
	Why                         string // desired only
}

func equalFoldList(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

func sortedTableNames(s *schema) []string {
	names := make([]string, 0, len(s.tables))
	for _, t := range s.tables {
		names = append(names, t.Name)
	}
	sort.Strings(names)
	return names
}
