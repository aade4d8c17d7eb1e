package ubql

import (
	"strconv"
	"strings"
)

// Expressions are tokenized and parsed into a syntax tree before anything reaches SQL.
// The grammar is a small, SQL-like one:
//
//	expr    = and { OR and }
//	and     = not { AND not }
//	not     = NOT not | cmp
//	cmp     = concat [ ("=" | "<>" | "!=" | "<" | "<=" | ">" | ">=") concat
//	                 | IS [NOT] NULL | [NOT] LIKE concat | [NOT] IN "(" expr {"," expr} ")"
//	                 | [NOT] BETWEEN concat AND concat ]
//	concat  = sum { "||" sum }
//	sum     = product { ("+" | "-") product }
//	product = unary { ("*" | "/" | "%") unary }
//	unary   = ("-" | "+") unary | primary
//	primary = number | 'string' | :name: | :(literal): | NULL | path | [path]
//	        | name "(" [DISTINCT] [ expr {"," expr} | "*" ] ")" | CAST "(" expr AS type ")"
//	        | "(" expr ")"
//	path    = segment {"." segment} ["^"]   segment = name ["@" entity]
//
// "[{master}.path]" refers to the outer request of a subquery. Semicolons, comments and
// the word SELECT are refused while tokenizing, whatever the context.

// errKind classifies expression errors; the context decides the error code and status.
type errKind uint8

const (
	errSyntax  errKind = iota // malformed expression
	errDeny                   // something a client may not use (sub-select, comment, function)
	errUnknown                // an attribute that does not exist
	errInvalid                // well-formed but not allowed here (sorting a Text, an aggregate in where)
	errMeta                   // caused by the metadata (an unusable mapping expression), not the request
)

type exprError struct {
	kind errKind
	msg  string
}

func syntaxError(msg string) *exprError { return &exprError{errSyntax, msg} }

type tokKind uint8

const (
	tEOF   tokKind = iota
	tIdent         // a name or a dotted path, as written
	tRef           // the text between [ and ]
	tNum           // a number literal
	tStr           // a string literal, unescaped
	tParam         // :name:
	tValue         // :(literal):, the literal in val
	tOp            // an operator
	tLParen
	tRParen
	tComma
)

type token struct {
	kind tokKind
	text string
	val  any
}

func isIdentStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) }

// lex splits src into tokens.
func lex(src string) ([]token, *exprError) {
	toks := make([]token, 0, 8)
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isIdentStart(c):
			j := scanPath(src, i)
			toks = append(toks, token{kind: tIdent, text: src[i:j]})
			i = j
		case isDigit(c):
			j, err := scanNumber(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tNum, text: src[i:j]})
			i = j
		case c == '[':
			end := strings.IndexByte(src[i+1:], ']')
			if end < 0 {
				return nil, syntaxError("unclosed '['")
			}
			toks = append(toks, token{kind: tRef, text: strings.TrimSpace(src[i+1 : i+1+end])})
			i += end + 2
		case c == '\'':
			s, j, err := scanString(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tStr, text: s})
			i = j
		case c == ':':
			t, j, err := scanParam(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = j
		case c == '(':
			toks = append(toks, token{kind: tLParen, text: "("})
			i++
		case c == ')':
			toks = append(toks, token{kind: tRParen, text: ")"})
			i++
		case c == ',':
			toks = append(toks, token{kind: tComma, text: ","})
			i++
		case c == ';':
			return nil, &exprError{errDeny, "semicolons are not allowed"}
		case c == '-' && i+1 < len(src) && src[i+1] == '-', c == '/' && i+1 < len(src) && src[i+1] == '*':
			return nil, &exprError{errDeny, "comments are not allowed"}
		case c == '+' || c == '-' || c == '*' || c == '/' || c == '%' || c == '=':
			toks = append(toks, token{kind: tOp, text: src[i : i+1]})
			i++
		case c == '<' || c == '>' || c == '!' || c == '|':
			op := src[i : i+1]
			if i+1 < len(src) {
				switch two := src[i : i+2]; two {
				case "<=", "<>", ">=", "!=", "||":
					op = two
				}
			}
			if op == "!" || op == "|" {
				return nil, syntaxError("unexpected " + strconv.Quote(op))
			}
			toks = append(toks, token{kind: tOp, text: op})
			i += len(op)
		default:
			return nil, syntaxError("unexpected character " + quoteChar(src, i))
		}
	}
	for _, t := range toks {
		if t.kind == tIdent && strings.EqualFold(t.text, "select") {
			return nil, &exprError{errDeny, "sub-selects are not allowed"}
		}
	}
	return toks, nil
}

func quoteChar(src string, i int) string {
	r := []rune(src[i:min(len(src), i+4)])
	if len(r) == 0 {
		return `""`
	}
	return strconv.QuoteRune(r[0])
}

// scanPath returns the end of a name or a dotted path starting at i: segments of
// identifier characters joined by '.', each optionally followed by '@entity', the whole
// optionally followed by '^'.
func scanPath(src string, i int) int {
	j := i
	for {
		for j < len(src) && isIdentChar(src[j]) {
			j++
		}
		if j+1 < len(src) && (src[j] == '.' || src[j] == '@') && isIdentStart(src[j+1]) {
			j++
			continue
		}
		break
	}
	if j < len(src) && src[j] == '^' {
		j++
	}
	return j
}

func scanNumber(src string, i int) (int, *exprError) {
	j := i
	for j < len(src) && isDigit(src[j]) {
		j++
	}
	if j+1 < len(src) && src[j] == '.' && isDigit(src[j+1]) {
		j++
		for j < len(src) && isDigit(src[j]) {
			j++
		}
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		k := j + 1
		if k < len(src) && (src[k] == '+' || src[k] == '-') {
			k++
		}
		if k < len(src) && isDigit(src[k]) {
			for k < len(src) && isDigit(src[k]) {
				k++
			}
			j = k
		}
	}
	if j < len(src) && (isIdentChar(src[j]) || src[j] == '.') {
		return 0, syntaxError("malformed number " + quote(src[i:min(len(src), j+1)]))
	}
	return j, nil
}

// scanString reads a single-quoted literal; a doubled quote stands for one quote.
func scanString(src string, i int) (string, int, *exprError) {
	var b strings.Builder
	j := i + 1
	for j < len(src) {
		k := strings.IndexByte(src[j:], '\'')
		if k < 0 {
			break
		}
		b.WriteString(src[j : j+k])
		j += k + 1
		if j < len(src) && src[j] == '\'' {
			b.WriteByte('\'')
			j++
			continue
		}
		return b.String(), j, nil
	}
	return "", 0, syntaxError("unterminated string literal")
}

// scanParam reads :name: or :(literal):.
func scanParam(src string, i int) (token, int, *exprError) {
	if i+1 < len(src) && src[i+1] == '(' {
		end := strings.Index(src[i+2:], "):")
		if end < 0 {
			return token{}, 0, syntaxError("unterminated :( ): parameter")
		}
		lit := strings.TrimSpace(src[i+2 : i+2+end])
		j := i + 2 + end + 2
		if strings.HasPrefix(lit, "'") {
			s, k, err := scanString(lit, 0)
			if err != nil || k != len(lit) {
				return token{}, 0, syntaxError("malformed :( ): parameter")
			}
			return token{kind: tValue, text: lit, val: s}, j, nil
		}
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return token{kind: tValue, text: lit, val: n}, j, nil
		}
		if f, err := strconv.ParseFloat(lit, 64); err == nil && !strings.ContainsAny(lit, "xXnN") {
			return token{kind: tValue, text: lit, val: f}, j, nil
		}
		return token{}, 0, syntaxError("a :( ): parameter must hold a number or a 'string'")
	}
	j := i + 1
	for j < len(src) && isIdentChar(src[j]) {
		j++
	}
	if j == i+1 || j >= len(src) || src[j] != ':' {
		return token{}, 0, syntaxError("malformed :name: parameter")
	}
	return token{kind: tParam, text: src[i+1 : j]}, j + 1, nil
}

// Syntax tree.
type node interface{}

type (
	// pathNode is an attribute path.
	pathNode struct {
		master bool     // [{master}.x]: resolved in the outer request
		segs   []string // attribute names, each possibly "name@entity"
		lang   string   // attr_<lang>^: a specific language column
		text   string   // as written, for messages
	}
	numNode   struct{ text string }
	strNode   struct{ val string }
	paramNode struct{ name string } // :name:
	valueNode struct{ val any }     // :(literal):
	nullNode  struct{}
	starNode  struct{} // the * of COUNT(*)
	refNode   struct{ name string }
	callNode  struct {
		name     string // upper case
		args     []node
		distinct bool
		castType string // CAST(x AS castType)
	}
	unaryNode struct {
		op string // "-", "+", "NOT"
		x  node
	}
	binNode struct {
		op   string // upper case for AND/OR; "<>" for "!="
		l, r node
	}
	isNullNode struct {
		x   node
		not bool
	}
	likeNode struct {
		x, pat node
		not    bool
	}
	inNode struct {
		x    node
		list []node
		not  bool
	}
	betweenNode struct {
		x, lo, hi node
		not       bool
	}
)

type parser struct {
	toks  []token
	p     int
	depth int
	pred  bool // logicalPredicates: only [refs], AND, OR, NOT and parentheses
}

// parseExpr parses an expression of fieldList, whereList, orderList or groupList.
func parseExpr(src string) (node, *exprError) {
	return parse(src, false)
}

// parsePredicate parses a logicalPredicates string.
func parsePredicate(src string) (node, *exprError) {
	return parse(src, true)
}

func parse(src string, pred bool) (node, *exprError) {
	if len(src) > MaxExpressionLength {
		return nil, &exprError{errInvalid, "the expression is longer than " + strconv.Itoa(MaxExpressionLength) + " characters (MaxExpressionLength)"}
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, syntaxError("the expression is empty")
	}
	p := &parser{toks: toks, pred: pred}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, syntaxError("unexpected " + quote(t.text))
	}
	return n, nil
}

func (p *parser) peek() token {
	if p.p < len(p.toks) {
		return p.toks[p.p]
	}
	return token{kind: tEOF, text: "end of expression"}
}

func (p *parser) next() token {
	t := p.peek()
	if p.p < len(p.toks) {
		p.p++
	}
	return t
}

// keyword reports whether the next token is the keyword kw (any case).
func (p *parser) keyword(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) keywordAt(i int, kw string) bool {
	return p.p+i < len(p.toks) && p.toks[p.p+i].kind == tIdent && strings.EqualFold(p.toks[p.p+i].text, kw)
}

func (p *parser) op(ops ...string) (string, bool) {
	t := p.peek()
	if t.kind != tOp {
		return "", false
	}
	for _, o := range ops {
		if t.text == o {
			return o, true
		}
	}
	return "", false
}

func (p *parser) expect(k tokKind, what string) *exprError {
	if t := p.next(); t.kind != k {
		return syntaxError("expected " + what + ", found " + quote(t.text))
	}
	return nil
}

func (p *parser) enter() *exprError {
	p.depth++
	if p.depth > MaxExpressionDepth {
		return syntaxError("the expression is nested deeper than " + strconv.Itoa(MaxExpressionDepth) + " levels (MaxExpressionDepth)")
	}
	return nil
}

func (p *parser) or() (node, *exprError) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	l, err := p.and()
	for err == nil && p.keyword("OR") {
		p.next()
		var r node
		if r, err = p.and(); err == nil {
			l = &binNode{op: "OR", l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) and() (node, *exprError) {
	l, err := p.not()
	for err == nil && p.keyword("AND") {
		p.next()
		var r node
		if r, err = p.not(); err == nil {
			l = &binNode{op: "AND", l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) not() (node, *exprError) {
	if p.keyword("NOT") {
		p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &unaryNode{op: "NOT", x: x}, nil
	}
	if p.pred {
		return p.predPrimary()
	}
	return p.cmp()
}

// predPrimary is a primary of a logical predicate: [itemName] or ( predicate ).
func (p *parser) predPrimary() (node, *exprError) {
	t := p.next()
	switch t.kind {
	case tRef:
		if t.text == "" {
			return nil, syntaxError("empty []")
		}
		return &refNode{name: t.text}, nil
	case tLParen:
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		return n, p.expect(tRParen, "')'")
	}
	return nil, syntaxError("unexpected " + quote(t.text) + ": a logical predicate combines [whereList names] with AND, OR, NOT and parentheses")
}

func (p *parser) cmp() (node, *exprError) {
	l, err := p.concat()
	if err != nil {
		return nil, err
	}
	if o, ok := p.op("=", "<>", "!=", "<", "<=", ">", ">="); ok {
		p.next()
		r, err := p.concat()
		if err != nil {
			return nil, err
		}
		if o == "!=" {
			o = "<>"
		}
		return &binNode{op: o, l: l, r: r}, nil
	}
	if p.keyword("IS") {
		p.next()
		not := false
		if p.keyword("NOT") {
			p.next()
			not = true
		}
		if !p.keyword("NULL") {
			return nil, syntaxError("expected NULL after IS")
		}
		p.next()
		return &isNullNode{x: l, not: not}, nil
	}
	not := false
	if p.keyword("NOT") && (p.keywordAt(1, "LIKE") || p.keywordAt(1, "IN") || p.keywordAt(1, "BETWEEN")) {
		p.next()
		not = true
	}
	switch {
	case p.keyword("LIKE"):
		p.next()
		pat, err := p.concat()
		if err != nil {
			return nil, err
		}
		return &likeNode{x: l, pat: pat, not: not}, nil
	case p.keyword("IN"):
		p.next()
		if err := p.expect(tLParen, "'(' after IN"); err != nil {
			return nil, err
		}
		n := &inNode{x: l, not: not}
		for {
			e, err := p.or()
			if err != nil {
				return nil, err
			}
			n.list = append(n.list, e)
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
		return n, p.expect(tRParen, "')'")
	case p.keyword("BETWEEN"):
		p.next()
		lo, err := p.concat()
		if err != nil {
			return nil, err
		}
		if !p.keyword("AND") {
			return nil, syntaxError("expected AND in BETWEEN")
		}
		p.next()
		hi, err := p.concat()
		if err != nil {
			return nil, err
		}
		return &betweenNode{x: l, lo: lo, hi: hi, not: not}, nil
	}
	return l, nil
}

func (p *parser) concat() (node, *exprError) {
	l, err := p.sum()
	for err == nil {
		if _, ok := p.op("||"); !ok {
			break
		}
		p.next()
		var r node
		if r, err = p.sum(); err == nil {
			l = &binNode{op: "||", l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) sum() (node, *exprError) {
	l, err := p.product()
	for err == nil {
		o, ok := p.op("+", "-")
		if !ok {
			break
		}
		p.next()
		var r node
		if r, err = p.product(); err == nil {
			l = &binNode{op: o, l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) product() (node, *exprError) {
	l, err := p.unary()
	for err == nil {
		o, ok := p.op("*", "/", "%")
		if !ok {
			break
		}
		p.next()
		var r node
		if r, err = p.unary(); err == nil {
			l = &binNode{op: o, l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) unary() (node, *exprError) {
	if o, ok := p.op("-", "+"); ok {
		p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &unaryNode{op: o, x: x}, nil
	}
	return p.primary()
}

// keywords are words that cannot start a primary expression.
var keywords = map[string]bool{"AND": true, "OR": true, "NOT": true, "IS": true, "LIKE": true,
	"IN": true, "BETWEEN": true, "AS": true, "DISTINCT": true, "ASC": true, "DESC": true}

func (p *parser) primary() (node, *exprError) {
	t := p.next()
	switch t.kind {
	case tNum:
		return &numNode{text: t.text}, nil
	case tStr:
		return &strNode{val: t.text}, nil
	case tParam:
		return &paramNode{name: t.text}, nil
	case tValue:
		return &valueNode{val: t.val}, nil
	case tRef:
		return parsePath(t.text, true)
	case tLParen:
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		return n, p.expect(tRParen, "')'")
	case tIdent:
		up := strings.ToUpper(t.text)
		if up == "NULL" {
			return &nullNode{}, nil
		}
		if keywords[up] {
			return nil, syntaxError("unexpected " + quote(t.text))
		}
		if p.peek().kind == tLParen {
			if strings.ContainsAny(t.text, ".@^") {
				return nil, syntaxError("malformed function name " + quote(t.text))
			}
			return p.call(up)
		}
		return parsePath(t.text, false)
	}
	return nil, syntaxError("unexpected " + quote(t.text))
}

// call parses the arguments of a function call; the name has been read.
func (p *parser) call(name string) (node, *exprError) {
	p.next() // (
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	c := &callNode{name: name}
	if name == "COUNT" {
		if o, ok := p.op("*"); ok && o == "*" {
			p.next()
			c.args = []node{&starNode{}}
			return c, p.expect(tRParen, "')'")
		}
	}
	if p.keyword("DISTINCT") {
		p.next()
		c.distinct = true
	}
	if p.peek().kind == tRParen {
		p.next()
		return c, nil
	}
	for {
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		c.args = append(c.args, e)
		if name == "CAST" {
			if !p.keyword("AS") {
				return nil, syntaxError("expected AS in CAST")
			}
			p.next()
			typ, err := p.castType()
			if err != nil {
				return nil, err
			}
			c.castType = typ
			return c, p.expect(tRParen, "')'")
		}
		if p.peek().kind != tComma {
			break
		}
		p.next()
	}
	return c, p.expect(tRParen, "')'")
}

// castTypes are the type names CAST accepts, the same in both dialects.
var castTypes = map[string]bool{"INTEGER": true, "INT": true, "BIGINT": true, "SMALLINT": true,
	"VARCHAR": true, "TEXT": true, "FLOAT": true, "REAL": true, "NUMERIC": true, "DECIMAL": true}

func (p *parser) castType() (string, *exprError) {
	t := p.next()
	up := strings.ToUpper(t.text)
	if t.kind != tIdent || !castTypes[up] {
		return "", &exprError{errDeny, "CAST to " + quote(t.text) + " is not allowed"}
	}
	if p.peek().kind != tLParen {
		return up, nil
	}
	p.next()
	var b strings.Builder
	b.WriteString(up)
	b.WriteByte('(')
	for i := 0; ; i++ {
		n := p.next()
		if n.kind != tNum || strings.ContainsAny(n.text, ".eE") || i > 1 {
			return "", syntaxError("malformed CAST type size")
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n.text)
		if p.peek().kind != tComma {
			break
		}
		p.next()
	}
	b.WriteByte(')')
	return b.String(), p.expect(tRParen, "')'")
}

// parsePath parses an attribute path: "a.b.c", "a@entity.b", "name_uk^" and, in brackets,
// "{master}.a".
func parsePath(text string, bracketed bool) (node, *exprError) {
	n := &pathNode{text: text}
	s := text
	if bracketed && strings.HasPrefix(s, "{master}.") {
		n.master = true
		s = s[len("{master}."):]
	}
	if strings.HasSuffix(s, "^") {
		s = s[:len(s)-1]
		last := s[strings.LastIndexByte(s, '.')+1:]
		u := strings.LastIndexByte(last, '_')
		if u <= 0 || u == len(last)-1 {
			return nil, syntaxError("malformed language column " + quote(text) + " (want attr_lang^)")
		}
		n.lang = last[u+1:]
		s = s[:len(s)-len(last)+u]
	}
	if s == "" {
		return nil, syntaxError("empty attribute path")
	}
	n.segs = strings.Split(s, ".")
	if len(n.segs) > MaxJoinDepth+1 {
		return nil, &exprError{errInvalid, "the attribute path " + quote(text) + " walks more than " + strconv.Itoa(MaxJoinDepth) + " joins (MaxJoinDepth)"}
	}
	for _, seg := range n.segs {
		name, cast, hasCast := strings.Cut(seg, "@")
		if !validIdent(name) || hasCast && !validIdent(cast) {
			if strings.EqualFold(strings.TrimSpace(text), "select") {
				return nil, &exprError{errDeny, "sub-selects are not allowed"}
			}
			return nil, syntaxError("malformed attribute path " + quote(text))
		}
	}
	return n, nil
}

func validIdent(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentChar(s[i]) {
			return false
		}
	}
	return true
}
