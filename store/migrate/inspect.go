package migrate

import (
	"context"
	"database/sql"
	"regexp"
	"strings"
)

// inspect reads the schema of the target's database.
func inspect(ctx context.Context, db *sql.DB, t *Target) (*schema, error) {
	if t.isSQLite() {
		return inspectSQLite(ctx, db)
	}
	return inspectPostgres(ctx, db, t.Schema)
}

// queryRows runs q and calls scan for every row.
func queryRows(ctx context.Context, db *sql.DB, q string, scan func(*sql.Rows) error, args ...any) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// checkRE finds named CHECK constraints in a CREATE TABLE statement; the expression
// follows in parentheses.
var checkRE = regexp.MustCompile("(?i)\\bCONSTRAINT\\s+(\"(?:[^\"]|\"\")+\"|`[^`]+`|\\[[^\\]]+\\]|\\w+)\\s+CHECK\\s*\\(")

// parseChecks returns the named CHECK constraints of a CREATE TABLE statement. SQLite
// keeps no catalogue of constraints, only the statement's text.
func parseChecks(createSQL string) []*check {
	var out []*check
	for _, m := range checkRE.FindAllStringSubmatchIndex(createSQL, -1) {
		open := m[1] - 1
		end := matchParen(createSQL, open)
		if end < 0 {
			continue
		}
		out = append(out, &check{Name: unquoteIdent(createSQL[m[2]:m[3]]), Expr: strings.TrimSpace(createSQL[open+1 : end])})
	}
	return out
}

func unquoteIdent(s string) string {
	if len(s) >= 2 {
		switch {
		case s[0] == '"' && s[len(s)-1] == '"':
			return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
		case s[0] == '`' && s[len(s)-1] == '`', s[0] == '[' && s[len(s)-1] == ']':
			return s[1 : len(s)-1]
		}
	}
	return s
}

var onRE = regexp.MustCompile(`(?i)\sON\s`)

// indexTerms returns the key terms of a CREATE INDEX statement, without ASC/DESC: SQLite
// reports expression keys of an index only through the statement's text.
func indexTerms(createSQL string) []string {
	loc := onRE.FindStringIndex(createSQL)
	if loc == nil {
		return nil
	}
	open := strings.IndexByte(createSQL[loc[1]:], '(')
	if open < 0 {
		return nil
	}
	open += loc[1]
	end := matchParen(createSQL, open)
	if end < 0 {
		return nil
	}
	var terms []string
	depth, start, inStr := 0, open+1, false
	for i := open + 1; i <= end; i++ {
		c := createSQL[i]
		switch {
		case inStr:
			if c == '\'' {
				inStr = false
			}
		case c == '\'':
			inStr = true
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case (c == ',' && depth == 0) || i == end:
			terms = append(terms, trimOrder(createSQL[start:i]))
			start = i + 1
		}
	}
	return terms
}

var orderRE = regexp.MustCompile(`(?i)\s+(COLLATE\s+\w+\s*)?(ASC|DESC)?\s*$`)

func trimOrder(term string) string {
	return strings.TrimSpace(orderRE.ReplaceAllString(strings.TrimSpace(term), ""))
}
