package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/store/dialect"
)

// Target says which database Plan looks at and which part of the domain belongs in it.
type Target struct {
	Domain  *domain.Domain
	Dialect dialect.Dialect
	// Connection is the connection name. The target holds the Normal entities whose
	// connectionName is Connection, and those without one when IsDefault is set.
	Connection string
	IsDefault  bool
	// DefaultLang is the language of the plain columns; multi-language attributes get a
	// column <col>_<lang> for every other language of Langs.
	DefaultLang string
	Langs       []string
	// Schema is the PostgreSQL schema to inspect; ignored for SQLite. The statements are not
	// schema-qualified: Apply sets search_path to Schema.
	Schema string
	// ClientNum is the prefix of the ID space (ubcli initDB -c); 0 means 3.
	ClientNum int
}

// owns reports whether entity e is stored in the target's database.
func (t *Target) owns(e *domain.Entity) bool {
	if e.DSType != domain.DSNormal {
		return false
	}
	if e.ConnectionName == "" {
		return t.IsDefault
	}
	return e.ConnectionName == t.Connection
}

func (t *Target) clientNum() int64 {
	if t.ClientNum <= 0 {
		return 3
	}
	return int64(t.ClientNum)
}

func (t *Target) isSQLite() bool { return t.Dialect.Name() == dialect.SQLite3 }

// Group orders statements as UnityBase's generator does (DBAbstract.js): everything that
// removes objects first, then tables and columns, then data fixes, then constraints, and
// finally dropped columns, so that a constraint is never created before what it depends on.
type Group int

// The statement groups, in execution order. The values are UnityBase's.
const (
	GroupSys                Group = 10
	GroupDropFK             Group = 20
	GroupDropIndex          Group = 30
	GroupDropPK             Group = 40
	GroupDropDefault        Group = 50
	GroupDropCheck          Group = 60
	GroupDropSequence       Group = 70
	GroupCreateTable        Group = 80
	GroupAddColumn          Group = 90
	GroupAlterColumn        Group = 100
	GroupUpdateColumn       Group = 110
	GroupRename             Group = 120
	GroupSetDefault         Group = 130
	GroupAlterColumnNotNull Group = 140
	GroupCreatePK           Group = 150
	GroupCreateIndex        Group = 160
	GroupCreateCheck        Group = 170
	GroupCreateFK           Group = 180
	GroupCreateSequence     Group = 190
	GroupDropColumn         Group = 210
)

var groupNames = map[Group]string{
	GroupSys: "sys", GroupDropFK: "dropFK", GroupDropIndex: "dropIndex", GroupDropPK: "dropPK",
	GroupDropDefault: "dropDefault", GroupDropCheck: "dropCheckC", GroupDropSequence: "dropSequence",
	GroupCreateTable: "createTable", GroupAddColumn: "addColumn", GroupAlterColumn: "alterColumn",
	GroupUpdateColumn: "updateColumn", GroupRename: "rename", GroupSetDefault: "setDefault",
	GroupAlterColumnNotNull: "alterColumnNotNull", GroupCreatePK: "createPK", GroupCreateIndex: "createIndex",
	GroupCreateCheck: "createCheckC", GroupCreateFK: "createFK", GroupCreateSequence: "createSequence",
	GroupDropColumn: "dropColumn",
}

func (g Group) String() string {
	if s, ok := groupNames[g]; ok {
		return s
	}
	return fmt.Sprintf("Group(%d)", int(g))
}

// Statement is one SQL statement of a plan. The statements of one step share their Why: a
// SQLite table rebuild is a CREATE TABLE, an INSERT ... SELECT, a DROP TABLE, a RENAME and
// the CREATE INDEX statements of the rebuilt table.
type Statement struct {
	Group Group
	SQL   string // one statement, without the terminating semicolon
	// Destructive statements lose data (a dropped column, a narrowed type) or belong to a
	// step that does. Dropping an index or a constraint is not destructive: the data stays.
	Destructive bool
	Why         string // what the statement is for, e.g. "column tsk_task.oldCol is not in the domain"
}

// Plan is the list of statements that brings a database to the schema the domain describes.
type Plan struct {
	Dialect    string // dialect.SQLite3 or dialect.PostgreSQL
	Statements []Statement
	// Warnings are differences Plan does not act on: tables no entity owns, metadata it
	// cannot turn into DDL.
	Warnings []string

	schema string // PostgreSQL schema Apply sets as search_path
	// conn and fingerprint are what Apply records in StampTable (see Stamped).
	conn, fingerprint string
	// fkCheck are the SQLite tables Apply checks with PRAGMA foreign_key_check before
	// committing: tables rebuilt while foreign keys were off.
	fkCheck []string
}

// NewPlan inspects the database db and returns what must change for it to hold the
// target's part of the domain. It only reads.
func NewPlan(ctx context.Context, db *sql.DB, t Target) (*Plan, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	want, warnings, err := desired(&t)
	if err != nil {
		return nil, err
	}
	fp, err := fingerprint(&t, want)
	if err != nil {
		return nil, err
	}
	have, err := inspect(ctx, db, &t)
	if err != nil {
		return nil, err
	}
	p := diff(&t, want, have)
	p.Warnings = append(warnings, p.Warnings...)
	p.conn, p.fingerprint = t.Connection, fp
	return p, nil
}

// check reports a target NewPlan cannot work with.
func (t *Target) check() error {
	if t.Domain == nil || t.Dialect == nil {
		return errors.New("migrate: Target needs a Domain and a Dialect")
	}
	switch t.Dialect.Name() {
	case dialect.SQLite3:
	case dialect.PostgreSQL:
		if t.Schema == "" {
			return errors.New("migrate: Target.Schema is required for PostgreSQL")
		}
	default:
		return fmt.Errorf("migrate: dialect %s: %w", t.Dialect.Name(), dialect.ErrUnsupported)
	}
	return nil
}

// sortStatements orders statements by group, keeping the order they were planned in
// within a group (a SQLite table rebuild is several statements that must stay in order).
func (p *Plan) sortStatements() {
	sort.SliceStable(p.Statements, func(i, j int) bool { return p.Statements[i].Group < p.Statements[j].Group })
}

// Empty reports whether the database already matches the domain.
func (p *Plan) Empty() bool { return len(p.Statements) == 0 }

// Destructive returns the statements that lose data.
func (p *Plan) Destructive() []Statement {
	var out []Statement
	for _, s := range p.Statements {
		if s.Destructive {
			out = append(out, s)
		}
	}
	return out
}

// Script renders the plan as an SQL script, statements separated by ";" and grouped under
// comments. Without includeDestructive the destructive statements are written commented
// out, so that the script shows them but running it changes no data.
func (p *Plan) Script(includeDestructive bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- ubgo migrate: %d statement(s) for %s\n", len(p.Statements), p.Dialect)
	for _, w := range p.Warnings {
		b.WriteString("-- warning: " + oneLine(w) + "\n")
	}
	group, why := Group(-1), ""
	for _, s := range p.Statements {
		if s.Group != group {
			group, why = s.Group, ""
			b.WriteString("\n-- " + group.String() + "\n")
		}
		// Consecutive statements of one step (a SQLite table rebuild) share their reason;
		// it is written once.
		newWhy := s.Why != why
		why = s.Why
		if s.Destructive && !includeDestructive {
			if newWhy {
				b.WriteString("-- DESTRUCTIVE, left out: " + oneLine(s.Why) + "\n")
			}
			for _, line := range strings.Split(s.SQL, "\n") {
				b.WriteString("-- " + line + "\n")
			}
			continue
		}
		if s.Why != "" && newWhy {
			b.WriteString("-- " + oneLine(s.Why) + "\n")
		}
		b.WriteString(s.SQL + ";\n")
	}
	return b.String()
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }
