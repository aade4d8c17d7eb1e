package migrate

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/ubgo/ubgo/store/dialect"
)

// Databases report types, defaults and index expressions in their own spelling: PostgreSQL
// says "character varying(32)" for VARCHAR(32), adds casts to literals ('NEW'::character
// varying) and to expressions (upper(code::text)), SQLite gives back the text as written.
// The functions here bring both sides to one canonical form so that an unchanged schema
// compares equal.

// colType is a column type in canonical form.
type colType struct {
	Text   string // canonical spelling: upper case, PostgreSQL aliases resolved, no blanks in parentheses
	Family string // VARCHAR, TEXT, INT, NUMERIC, FLOAT, DATETIME, BLOB, JSON, or Text for others
	Size   int    // VARCHAR length (0: unlimited), INT rank (SMALLINT 1, INTEGER 2, BIGINT 3), NUMERIC precision
	Scale  int    // NUMERIC and FLOAT scale
}

// typeBlanks removes the blanks around parentheses and commas: FLOAT(19, 6) is FLOAT(19,6).
var typeBlanks = strings.NewReplacer(" (", "(", "( ", "(", " )", ")", ", ", ",", " ,", ",")

var typeAliases = []struct{ from, to string }{
	{"CHARACTER VARYING", "VARCHAR"},
	{"NVARCHAR", "VARCHAR"},
	{"TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMP"},
	{"DOUBLE PRECISION", "FLOAT8"},
	{"DECIMAL", "NUMERIC"},
}

var intRanks = map[string]int{"SMALLINT": 1, "INT2": 1, "INTEGER": 2, "INT": 2, "INT4": 2, "BIGINT": 3, "INT8": 3}

// intDigits is how many decimal digits an integer of each rank may need.
var intDigits = map[int]int{1: 5, 2: 10, 3: 19}

func parseType(s string) colType {
	text := strings.ToUpper(strings.Join(strings.Fields(s), " "))
	text = typeBlanks.Replace(text)
	for _, a := range typeAliases {
		if strings.HasPrefix(text, a.from) {
			text = a.to + text[len(a.from):]
		}
	}
	base, args := text, []int(nil)
	if i := strings.IndexByte(text, '('); i > 0 && strings.HasSuffix(text, ")") {
		base = text[:i]
		for _, a := range strings.Split(text[i+1:len(text)-1], ",") {
			n, _ := strconv.Atoi(a)
			args = append(args, n)
		}
	}
	arg := func(i int) int {
		if i < len(args) {
			return args[i]
		}
		return 0
	}
	t := colType{Text: text, Family: text}
	switch {
	case base == "VARCHAR" || base == "CHARACTER":
		t.Family, t.Size = "VARCHAR", arg(0)
	case base == "TEXT" || base == "CLOB":
		t.Family = "TEXT"
	case intRanks[base] > 0:
		t.Family, t.Size = "INT", intRanks[base]
		t.Text = map[int]string{1: "SMALLINT", 2: "INTEGER", 3: "BIGINT"}[t.Size]
	case base == "NUMERIC":
		t.Family, t.Size, t.Scale = "NUMERIC", arg(0), arg(1)
	case base == "FLOAT" || base == "FLOAT8" || base == "REAL" || base == "DOUBLE":
		t.Family, t.Size, t.Scale = "FLOAT", arg(0), arg(1)
	case base == "DATETIME" || base == "TIMESTAMP" || base == "DATE":
		t.Family = "DATETIME"
	case base == "BLOB" || base == "BYTEA":
		t.Family = "BLOB"
	case base == "JSON" || base == "JSONB":
		t.Family = "JSON"
	}
	return t
}

// sameType reports whether two type spellings mean the same declared type.
func sameType(a, b string) bool { return parseType(a).Text == parseType(b).Text }

// typeChange describes changing a column from one type to another.
type typeChange struct {
	Lossy    bool   // existing values may be lost or altered
	Why      string // for a lossy change: what happens to the values
	Truncate int    // > 0: string values are cut to this many characters
}

func classifyTypeChange(from, to colType) typeChange {
	lossy := func(why string) typeChange { return typeChange{Lossy: true, Why: why} }
	switch {
	case from.Family == "VARCHAR" && to.Family == "VARCHAR":
		if to.Size == 0 || from.Size != 0 && to.Size >= from.Size {
			return typeChange{}
		}
		return typeChange{Lossy: true, Truncate: to.Size,
			Why: "values longer than " + strconv.Itoa(to.Size) + " characters are truncated"}
	case from.Family == "VARCHAR" && to.Family == "TEXT":
		return typeChange{}
	case from.Family == "TEXT" && to.Family == "VARCHAR" && to.Size > 0:
		return typeChange{Lossy: true, Truncate: to.Size,
			Why: "values longer than " + strconv.Itoa(to.Size) + " characters are truncated"}
	case from.Family == "INT" && to.Family == "INT":
		if to.Size >= from.Size {
			return typeChange{}
		}
		return lossy("values outside the range of " + to.Text + " make the change fail")
	case from.Family == "NUMERIC" && to.Family == "NUMERIC":
		if to.Size-to.Scale >= from.Size-from.Scale && to.Scale >= from.Scale {
			return typeChange{}
		}
		return lossy("values are rounded to " + strconv.Itoa(to.Scale) + " decimals or overflow")
	case from.Family == to.Family && (from.Family == "DATETIME" || from.Family == "TEXT" || from.Family == "BLOB" || from.Family == "JSON"):
		return typeChange{} // another spelling of the same kind of value
	case from.Family == "INT" && to.Family == "NUMERIC":
		if to.Size-to.Scale >= intDigits[from.Size] {
			return typeChange{}
		}
		return lossy("large values overflow " + to.Text)
	}
	return lossy("values that do not convert from " + from.Text + " to " + to.Text + " are lost or make the change fail")
}

// castRE matches a PostgreSQL cast suffix such as ::text, ::character varying(32) or
// ::timestamp without time zone.
var castRE = regexp.MustCompile(`::\s*"?[a-z_][a-z0-9_]*"?(\s+(varying|precision|without\s+time\s+zone|with\s+time\s+zone))?(\s*\(\s*\d+(\s*,\s*\d+)?\s*\))?(\[\])?`)

// parenIdentRE matches an identifier in parentheses that are not a function call's:
// PostgreSQL writes upper((code)::text) for upper(code).
var parenIdentRE = regexp.MustCompile(`(^|[(,=<>+*/-])\(([a-z_][a-z0-9_]*)\)`)

// normExpr brings an SQL expression to a comparable form: lower case, no casts, no quotes
// around identifiers, no blanks, no redundant parentheses.
func normExpr(s string) string {
	s = castRE.ReplaceAllString(strings.ToLower(s), "")
	s = strings.ReplaceAll(s, `"`, "")
	s = strings.Join(strings.Fields(s), "")
	for {
		t := parenIdentRE.ReplaceAllString(s, "$1$2")
		if t == s {
			break
		}
		s = t
	}
	return stripParens(s)
}

// stripParens removes parentheses that enclose the whole expression.
func stripParens(s string) string {
	for len(s) >= 2 && s[0] == '(' && matchParen(s, 0) == len(s)-1 {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// matchParen returns the index of the parenthesis that closes the one at open, skipping
// string literals, or -1.
func matchParen(s string, open int) int {
	depth, inStr := 0, false
	for i := open; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr:
			if c == '\'' {
				inStr = false
			}
		case c == '\'':
			inStr = true
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// numericCastRE matches the cast PostgreSQL puts on a negative number default ('-1'::integer).
var numericCastRE = regexp.MustCompile(`::\s*(integer|bigint|smallint|numeric|real|double precision)\b`)

// normDefault brings a column default to a comparable form. Literals are compared by value:
// 3 and '3'::integer are the same default, and so are the date spellings '2020-01-01' and
// '2020-01-01 00:00:00'::timestamp without time zone; the strings '1' and '01' are not.
func normDefault(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "null") {
		return ""
	}
	numericCast := numericCastRE.MatchString(s)
	s = stripParens(castRE.ReplaceAllString(s, ""))
	lit, quoted := unquote(s)
	if !quoted || numericCast {
		if quoted {
			s = lit
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
		if !quoted {
			return normExpr(s)
		}
	}
	if len(lit) >= 10 && lit[4] == '-' && lit[7] == '-' {
		if t, err := dialect.ParseTime(lit); err == nil {
			return "'" + t.Format(dialect.TimeFormat) + "'"
		}
	}
	return "'" + lit + "'"
}

// unquote returns the value of a single SQL string literal, whose quotes inside are
// doubled.
func unquote(s string) (string, bool) {
	if len(s) < 2 || s[0] != '\'' || s[len(s)-1] != '\'' {
		return "", false
	}
	body := s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		if body[i] == '\'' {
			if i+1 < len(body) && body[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			return "", false // two literals, or an expression that starts and ends with one
		}
		b.WriteByte(body[i])
	}
	return b.String(), true
}

// quote writes s as an SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// isIdent reports whether s is a plain column name rather than an expression.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// isLiteral reports whether an SQL default is a constant SQLite accepts without
// parentheses (and in ALTER TABLE ADD COLUMN): a number or a string literal.
func isLiteral(s string) bool {
	if _, ok := unquote(s); ok {
		return true
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}
