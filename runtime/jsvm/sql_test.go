package jsvm

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ubgo/ubgo/store/dialect"
)

func TestBindSQL(t *testing.T) {
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		sql      string
		params   map[string]any
		sqlite   string
		postgres string
		args     []any
		err      string
	}{
		{sql: "SELECT * FROM t WHERE a = :a: AND b = :b:", params: map[string]any{"a": int64(1), "b": "x"},
			sqlite: "SELECT * FROM t WHERE a = ? AND b = ?", postgres: "SELECT * FROM t WHERE a = $1 AND b = $2", args: []any{int64(1), "x"}},
		{sql: "SELECT ':a:', \"x:y:\" FROM t WHERE a = :a:", params: map[string]any{"a": "v"},
			sqlite: "SELECT ':a:', \"x:y:\" FROM t WHERE a = ?", postgres: "SELECT ':a:', \"x:y:\" FROM t WHERE a = $1", args: []any{"v"}},
		{sql: "SELECT x::int FROM t WHERE y = :y:", params: map[string]any{"y": nil},
			sqlite: "SELECT x::int FROM t WHERE y = ?", postgres: "SELECT x::int FROM t WHERE y = $1", args: []any{nil}},
		{sql: "WHERE a = :(5): AND b = :('it''s'): AND c = :(1.5):",
			sqlite: "WHERE a = ? AND b = ? AND c = ?", postgres: "WHERE a = $1 AND b = $2 AND c = $3", args: []any{int64(5), "it's", 1.5}},
		{sql: "SELECT :abc FROM t", sqlite: "SELECT :abc FROM t", postgres: "SELECT :abc FROM t"},
		{sql: "SELECT 'unterminated", sqlite: "SELECT 'unterminated", postgres: "SELECT 'unterminated"},
		{sql: "WHERE d < :d:", params: map[string]any{"d": when}, sqlite: "WHERE d < ?", postgres: "WHERE d < $1"},
		{sql: "WHERE a = :missing:", err: `parameter "missing" is used in the SQL but not given`},
		{sql: "WHERE a IN (:ids:)", params: map[string]any{"ids": []any{int64(1)}}, err: "array and object parameters are not supported"},
		{sql: "WHERE a = :(5", err: "unterminated inline parameter"},
		{sql: "WHERE a = :(x):", err: "neither a number nor a quoted string"},
	}
	for _, c := range cases {
		for _, d := range []dialect.Dialect{dialect.SQLite{}, dialect.Postgres{}} {
			got, args, err := bindSQL(d, c.sql, c.params)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("%s: %v, want an error with %q", c.sql, err, c.err)
				}
				continue
			}
			want := c.sqlite
			if d.Name() == "PostgreSQL" {
				want = c.postgres
			}
			if err != nil || got != want {
				t.Errorf("%s on %s: %q %v, want %q", c.sql, d.Name(), got, err, want)
			}
			if c.args != nil && !reflect.DeepEqual(args, c.args) {
				t.Errorf("%s: args %#v, want %#v", c.sql, args, c.args)
			}
			if _, isTime := c.params["d"].(time.Time); isTime && !reflect.DeepEqual(args, []any{d.FormatTime(when)}) {
				t.Errorf("time argument on %s = %#v", d.Name(), args)
			}
		}
	}
}
