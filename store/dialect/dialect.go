// Package dialect holds what differs between the SQL databases ubgo stores data in: how
// parameters are written, how identifiers are quoted, how values of each UnityBase data type
// are stored, and the DDL type of a column. The ubql compiler and the store share it.
//
// Only SQLite3 and PostgreSQL are implemented. ByName returns ErrUnsupported (wrapped, with
// the name) for the other UnityBase dialects (MSSQL, Oracle, ...), so that a configuration
// that names one fails with a clear message instead of producing wrong SQL.
//
// A Dialect is stateless and safe for concurrent use.
package dialect

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Names of the implemented dialects, as UnityBase spells them in ubconfig.json and in
// entity mappings.
const (
	SQLite3    = "SQLite3"
	PostgreSQL = "PostgreSQL"
	AnsiSQL    = "AnsiSQL" // mappings that apply to every dialect
)

// ErrUnsupported is returned for a dialect UnityBase knows but ubgo does not implement yet.
var ErrUnsupported = errors.New("dialect not supported yet")

// MaxDate is the "alive" value of mi_deleteDate and the open end of a history period.
var MaxDate = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// Dialect describes one SQL database family.
type Dialect interface {
	// Name is the UnityBase dialect name (SQLite3, PostgreSQL).
	Name() string
	// Placeholder is the text of the n-th (1-based) bound parameter: "?" or "$n".
	Placeholder(n int) string
	// Ident returns name ready to be written into SQL: as is when it is a plain identifier
	// that is not a reserved word, quoted otherwise. Callers pass only names that come from
	// the domain; Ident is not an escaping function for user input.
	Ident(name string) string
	// MaxIdentLen is the longest identifier the database keeps without truncation.
	MaxIdentLen() int
	// CaseInsensitiveLike is the operator for a case-insensitive LIKE.
	CaseInsensitiveLike() string
	// InList renders "expr IN (<list bound as one parameter>)" (or NOT IN) for the
	// parameter placeholder ph; the bound value is produced by ListArg.
	InList(expr, ph string, not bool) string
	// ListArg converts a list of int64, float64 or string values into the one argument
	// InList binds.
	ListArg(values []any) (any, error)
	// LimitOffset renders the paging clause; limit 0 means no limit.
	LimitOffset(limit, offset int) string
	// ColumnType is the DDL type of a column holding an attribute of dataType.
	ColumnType(dataType string, size, precision, scale int) string
	// FormatTime is the value to bind for a DateTime or Date. SQLite stores ISO-8601 text
	// with milliseconds, PostgreSQL a TIMESTAMP holding UTC.
	FormatTime(t time.Time) any
	// CurrentDateSQL and MaxDateSQL are the SQL expressions of the currentDate and maxDate
	// default macros.
	CurrentDateSQL() string
	MaxDateSQL() string
	// BoolLiteral is the stored value of a Boolean.
	BoolLiteral(b bool) string
}

// ByName returns the dialect named name (case-insensitive; "SQLite" is accepted for SQLite3
// and "Postgres" for PostgreSQL).
func ByName(name string) (Dialect, error) {
	switch strings.ToLower(name) {
	case "sqlite3", "sqlite":
		return SQLite{}, nil
	case "postgresql", "postgres", "pg":
		return Postgres{}, nil
	case "":
		return nil, fmt.Errorf("dialect: empty dialect name")
	}
	return nil, fmt.Errorf("dialect %q: %w (ubgo stores data in SQLite3 or PostgreSQL)", name, ErrUnsupported)
}

// TimeFormat is the wire and SQLite storage format of DateTime values: ISO-8601 UTC with
// milliseconds. Fixed width, so that text comparison in SQLite orders like time does.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// TruncateTime brings t to UTC and to the millisecond precision both databases keep, so that
// a value read back equals the value written (the optimistic lock compares them).
func TruncateTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// ParseTime accepts the ISO-8601 forms clients send: a date, a date and time with or without
// fraction and zone ("Z" or ±hh:mm), and the "#maxdate" macro.
func ParseTime(s string) (time.Time, error) {
	if s == "#maxdate" {
		return MaxDate, nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return TruncateTime(t), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO-8601 date", s)
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// plainIdent reports whether s needs no quoting: ASCII letters, digits and underscores, not
// starting with a digit.
func plainIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// reserved are words that are reserved in SQLite or PostgreSQL and plausible as UnityBase
// attribute or entity names; such names are quoted.
var reserved = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`all analyse analyze and any array as asc asymmetric authorization between
		both case cast check collate column constraint create cross current_catalog current_date current_role
		current_time current_timestamp current_user default deferrable delete desc distinct do drop else end
		except exists false fetch for foreign freeze from full grant group having ilike in index initially
		inner insert intersect into is isnull join lateral leading left like limit localtime localtimestamp
		natural not notnull null offset on only or order outer overlaps placing primary references returning
		right select session_user similar some symmetric table tablesample then to trailing true union unique
		update user using values variadic verbose when where window with`) {
		reserved[w] = true
	}
}

// IsReserved reports whether name (any case) is a reserved SQL word that must be quoted.
func IsReserved(name string) bool { return reserved[strings.ToLower(name)] }

// SQLite is the SQLite3 dialect.
type SQLite struct{}

func (SQLite) Name() string                { return SQLite3 }
func (SQLite) Placeholder(int) string      { return "?" }
func (SQLite) MaxIdentLen() int            { return 128 }
func (SQLite) CaseInsensitiveLike() string { return "LIKE" }
func (SQLite) CurrentDateSQL() string      { return "strftime('%Y-%m-%dT%H:%M:%fZ','now')" }
func (SQLite) MaxDateSQL() string          { return "'" + MaxDate.Format(TimeFormat) + "'" }
func (SQLite) FormatTime(t time.Time) any  { return TruncateTime(t).Format(TimeFormat) }
func (SQLite) BoolLiteral(b bool) string   { return boolLiteral(b) }

func (SQLite) Ident(name string) string {
	if plainIdent(name) && !IsReserved(name) {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// InList binds the list as one JSON array, so its length is not bounded by SQLite's limit on
// the number of parameters.
func (SQLite) InList(expr, ph string, not bool) string {
	op := " IN "
	if not {
		op = " NOT IN "
	}
	return expr + op + "(SELECT value FROM json_each(" + ph + "))"
}

func (SQLite) ListArg(values []any) (any, error) {
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		switch x := v.(type) {
		case int64:
			b.WriteString(strconv.FormatInt(x, 10))
		case float64:
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		case string:
			b.WriteString(strconv.Quote(x)) // Go quoting of valid UTF-8 is valid JSON for these
		default:
			return nil, fmt.Errorf("list value %v: want a number or a string", v)
		}
	}
	b.WriteByte(']')
	return b.String(), nil
}

// LimitOffset writes LIMIT -1 before a lone OFFSET: SQLite has no OFFSET without LIMIT.
func (SQLite) LimitOffset(limit, offset int) string {
	if limit <= 0 && offset > 0 {
		return " LIMIT -1 OFFSET " + strconv.Itoa(offset)
	}
	return limitOffset(limit, offset)
}

// Postgres is the PostgreSQL dialect. Identifiers are written unquoted, so PostgreSQL folds
// them to lower case, as UnityBase's generator does; quoted ones (reserved words) are
// lower-cased to stay the same column.
type Postgres struct{}

func (Postgres) Name() string                { return PostgreSQL }
func (Postgres) Placeholder(n int) string    { return "$" + strconv.Itoa(n) }
func (Postgres) MaxIdentLen() int            { return 63 }
func (Postgres) CaseInsensitiveLike() string { return "ILIKE" }
func (Postgres) CurrentDateSQL() string      { return "timezone('utc'::text, now())" }
func (Postgres) MaxDateSQL() string {
	return "'9999-12-31 00:00:00'::timestamp without time zone"
}
func (Postgres) FormatTime(t time.Time) any { return TruncateTime(t) }
func (Postgres) BoolLiteral(b bool) string  { return boolLiteral(b) }

func (Postgres) Ident(name string) string {
	if plainIdent(name) && !IsReserved(name) {
		return name
	}
	return `"` + strings.ReplaceAll(strings.ToLower(name), `"`, `""`) + `"`
}

// InList uses "= ANY($n)" with an array parameter: one parameter whatever the length, and
// one prepared statement for every length.
func (Postgres) InList(expr, ph string, not bool) string {
	if not {
		return "NOT (" + expr + " = ANY(" + ph + "))"
	}
	return expr + " = ANY(" + ph + ")"
}

func (Postgres) ListArg(values []any) (any, error) {
	if len(values) == 0 {
		return []string{}, nil
	}
	switch values[0].(type) {
	case int64:
		out := make([]int64, len(values))
		for i, v := range values {
			x, ok := v.(int64)
			if !ok {
				return nil, fmt.Errorf("list mixes numbers and %T", v)
			}
			out[i] = x
		}
		return out, nil
	case float64:
		out := make([]float64, len(values))
		for i, v := range values {
			switch x := v.(type) {
			case float64:
				out[i] = x
			case int64:
				out[i] = float64(x)
			default:
				return nil, fmt.Errorf("list mixes numbers and %T", v)
			}
		}
		return out, nil
	case string:
		out := make([]string, len(values))
		for i, v := range values {
			x, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("list mixes strings and %T", v)
			}
			out[i] = x
		}
		return out, nil
	}
	return nil, fmt.Errorf("list value %v: want a number or a string", values[0])
}

func (Postgres) LimitOffset(limit, offset int) string { return limitOffset(limit, offset) }

func (SQLite) ColumnType(dataType string, size, precision, scale int) string {
	return columnType(dataType, size, typeNames{float: "FLOAT(19, 6)", dateTime: "DATETIME", blob: "BLOB", json: "JSON"})
}

func (Postgres) ColumnType(dataType string, size, precision, scale int) string {
	return columnType(dataType, size, typeNames{float: "NUMERIC(19, 6)", dateTime: "TIMESTAMP", blob: "BYTEA", json: "JSONB"})
}

// typeNames are the column types in which the dialects differ (reference §11).
type typeNames struct{ float, dateTime, blob, json string }

func columnType(dataType string, size int, t typeNames) string {
	switch dataType {
	case "String":
		return "VARCHAR(" + strconv.Itoa(stringSize(size)) + ")"
	case "Enum":
		return "VARCHAR(32)"
	case "Int":
		return "INTEGER"
	case "BigInt", "ID", "Entity", "TimeLog":
		return "BIGINT"
	case "Float":
		return t.float
	case "Currency":
		return "NUMERIC(19, 2)"
	case "Boolean":
		return "SMALLINT"
	case "DateTime", "Date":
		return t.dateTime
	case "Text":
		return "TEXT"
	case "Document":
		return "VARCHAR(4000)"
	case "BLOB":
		return t.blob
	case "Json":
		return t.json
	}
	return ""
}

func boolLiteral(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func limitOffset(limit, offset int) string {
	var b strings.Builder
	if limit > 0 {
		b.WriteString(" LIMIT ")
		b.WriteString(strconv.Itoa(limit))
	}
	if offset > 0 {
		b.WriteString(" OFFSET ")
		b.WriteString(strconv.Itoa(offset))
	}
	return b.String()
}

// stringSize is the VARCHAR length of a String attribute: its size, 255 when unset, capped
// at 4000 as UnityBase caps NVARCHAR.
func stringSize(size int) int {
	switch {
	case size <= 0:
		return 255
	case size > 4000:
		return 4000
	}
	return size
}
