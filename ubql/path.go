package ubql

import (
	"strconv"
	"strings"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/store/dialect"
)

// resolve walks an attribute path from b, joining the tables the path goes through, and
// returns the last attribute and where it lives.
func (q *query) resolve(b base, segs []string) (*domain.Attribute, base, *exprError) {
	for i, seg := range segs {
		name, cast, _ := strings.Cut(seg, "@")
		a := b.e.Attribute(name)
		if a == nil {
			return nil, b, &exprError{errUnknown, "attribute " + quote(name) + " does not exist in entity " + b.e.Name}
		}
		if i == len(segs)-1 {
			if cast != "" {
				return nil, b, &exprError{errInvalid, "a cast (" + quote(seg) + ") must be followed by an attribute"}
			}
			return a, b, nil
		}
		j, err := q.joinFor(b, a, cast)
		if err != nil {
			return nil, b, err
		}
		b = base{e: j.entity, alias: j.alias, j: j}
	}
	return nil, b, syntaxError("empty attribute path")
}

// joinFor returns the join that follows attribute a from b, creating it on first use, so
// that equal path prefixes share one join. The join is LEFT when the attribute may be
// null, when the join it hangs from is LEFT, and for Enum and down-cast joins, which may
// find no row; INNER otherwise (reference §4.2).
func (q *query) joinFor(b base, a *domain.Attribute, cast string) (*join, *exprError) {
	key := b.alias + "." + a.Name + "@" + cast
	if j := q.byKey[key]; j != nil {
		return j, nil
	}
	depth, parentLeft := 1, false
	if b.j != nil {
		depth, parentLeft = b.j.depth+1, b.j.left
	}
	if depth > MaxJoinDepth {
		return nil, &exprError{errInvalid, "the attribute path walks more than " + strconv.Itoa(MaxJoinDepth) + " joins (MaxJoinDepth)"}
	}
	var target *domain.Entity
	pkName := a.AssociationAttr
	switch a.DataType {
	case domain.EntityT:
		target = a.Association
		if cast != "" {
			target, pkName = q.c.dom.Entity(cast), "ID"
			if target == nil {
				return nil, &exprError{errUnknown, "entity " + quote(cast) + " does not exist"}
			}
		}
		if target == nil {
			return nil, &exprError{errMeta, "attribute " + a.Entity.Name + "." + a.Name + " has no associated entity"}
		}
		if pkName == "" {
			pkName = "ID"
		}
	case domain.Enum:
		if cast != "" {
			return nil, &exprError{errInvalid, "an Enum attribute cannot be cast (" + quote(a.Name+"@"+cast) + ")"}
		}
		target = q.c.dom.Entity("ubm_enum")
		if target == nil || target.Attribute("eGroup") == nil || target.Attribute("code") == nil {
			return nil, &exprError{errInvalid, "enumerations are not available: the domain has no ubm_enum entity"}
		}
	case domain.Many:
		return nil, &exprError{errInvalid, "the Many attribute " + a.Name + " must end the path"}
	default:
		return nil, &exprError{errInvalid, "attribute " + a.Name + " is not an Entity or Enum attribute: the path cannot continue after it"}
	}
	fk, err := q.attrSQL(a, b, "")
	if err != nil {
		return nil, err
	}
	j := &join{left: a.AllowNull || parentLeft || cast != "" || a.DataType == domain.Enum,
		table: q.c.d.Ident(target.SelectName(q.c.dname)), alias: q.c.newAlias(), entity: target, depth: depth}
	// Registered before its ON condition is rendered: a mapping expression there may add
	// joins that hang from this one and must come after it.
	if q.byKey == nil {
		q.byKey = map[string]*join{}
	}
	q.byKey[key] = j
	q.joins = append(q.joins, j)
	jb := base{e: target, alias: j.alias, j: j}
	if a.DataType == domain.Enum {
		group, err := q.attrSQL(target.Attribute("eGroup"), jb, "")
		if err != nil {
			return nil, err
		}
		code, err := q.attrSQL(target.Attribute("code"), jb, "")
		if err != nil {
			return nil, err
		}
		j.on = group + " = " + q.c.param(binder{kind: bindConst, val: a.EnumGroup}) + " AND " + code + " = " + fk
		return j, nil
	}
	pkAttr := target.Attribute(pkName)
	if pkAttr == nil {
		return nil, &exprError{errMeta, "attribute " + a.Entity.Name + "." + a.Name + " refers to " + target.Name + "." + pkName + ", which does not exist"}
	}
	pk, err := q.attrSQL(pkAttr, jb, "")
	if err != nil {
		return nil, err
	}
	j.on = pk + " = " + fk
	return j, nil
}

// attrSQL is the SQL of attribute a of the table at b. lang selects a language column of a
// multi-language attribute ("" for the request's language).
func (q *query) attrSQL(a *domain.Attribute, b base, lang string) (string, *exprError) {
	if a.DataType == domain.Many {
		return q.manySQL(a, b)
	}
	col, isExpr := a.Column(q.c.dname)
	if isExpr {
		return q.mappingSQL(a, col, b)
	}
	if a.IsMultiLang {
		if lang == "" {
			lang = q.c.lang
		}
		if lang != "" && lang != q.c.opt.DefaultLang {
			col += "_" + lang
		}
	}
	return b.alias + "." + q.c.d.Ident(col), nil
}

// mappingSQL renders an Expression mapping of attribute a: metadata SQL with [attr]
// placeholders, parsed and rendered like any other expression (without the client
// restrictions) against the attribute's own table.
func (q *query) mappingSQL(a *domain.Attribute, expr string, b base) (string, *exprError) {
	q.c.mapDepth++
	defer func() { q.c.mapDepth-- }()
	bad := func(msg string) *exprError {
		return &exprError{errMeta, "the mapping expression of attribute " + a.Entity.Name + "." + a.Name + " cannot be used: " + msg}
	}
	if q.c.mapDepth > 4 {
		return "", bad("mapping expressions refer to each other too deeply")
	}
	n, err := parseExpr(expr)
	if err != nil {
		return "", bad(err.msg)
	}
	x := &exprCtx{q: q, kind: ctxMapping, base: b}
	var sb strings.Builder
	if _, err := x.render(&sb, n); err != nil {
		if err.kind == errMeta {
			return "", err
		}
		return "", bad(err.msg)
	}
	if prec(n) < precAtom {
		return "(" + sb.String() + ")", nil
	}
	return sb.String(), nil
}

// manyLink returns the link table of Many attribute a with the columns of its sourceID
// and destID under a new alias.
func (q *query) manyLink(a *domain.Attribute) (table, alias, src, dst string, err *exprError) {
	link := q.c.dom.Entity(a.AssociationManyData)
	if link == nil || link.Attribute("sourceID") == nil || link.Attribute("destID") == nil {
		return "", "", "", "", &exprError{errMeta, "the link entity " + quote(a.AssociationManyData) + " of Many attribute " + a.Entity.Name + "." + a.Name + " is missing"}
	}
	srcCol, e1 := link.Attribute("sourceID").Column(q.c.dname)
	dstCol, e2 := link.Attribute("destID").Column(q.c.dname)
	if e1 || e2 {
		return "", "", "", "", &exprError{errMeta, "the link columns of Many attribute " + a.Entity.Name + "." + a.Name + " must be plain columns"}
	}
	alias = q.c.newAlias()
	return q.c.d.Ident(link.SelectName(q.c.dname)), alias, alias + "." + q.c.d.Ident(srcCol), alias + "." + q.c.d.Ident(dstCol), nil
}

// manySQL is the value of a Many attribute: the destination IDs, ascending, as a
// comma-separated string (NULL when there are none), as UnityBase returns it.
func (q *query) manySQL(a *domain.Attribute, b base) (string, *exprError) {
	id, err := q.attrSQL(a.Entity.Attribute("ID"), b, "")
	if err != nil {
		return "", err
	}
	table, alias, src, dst, err := q.manyLink(a)
	if err != nil {
		return "", err
	}
	from := " FROM " + table + " " + alias + " WHERE " + src + " = " + id + ")"
	if q.c.dname == dialect.PostgreSQL {
		return "(SELECT string_agg(CAST(" + dst + " AS VARCHAR), ',' ORDER BY " + dst + ")" + from, nil
	}
	return "(SELECT group_concat(" + dst + ", ',' ORDER BY " + dst + ")" + from, nil
}

// manyExists renders EXISTS over the link rows of Many attribute a, with cond (given the
// destID column) as an extra condition when not nil.
func (q *query) manyExists(a *domain.Attribute, b base, not bool, cond func(dst string) string) (string, *exprError) {
	id, err := q.attrSQL(a.Entity.Attribute("ID"), b, "")
	if err != nil {
		return "", err
	}
	table, alias, src, dst, err := q.manyLink(a)
	if err != nil {
		return "", err
	}
	s := "EXISTS (SELECT 1 FROM " + table + " " + alias + " WHERE " + src + " = " + id
	if cond != nil {
		s += " AND " + cond(dst)
	}
	s += ")"
	if not {
		s = "NOT " + s
	}
	return s, nil
}

// columnType is how a value of attribute a (read in language lang) is read and encoded.
func columnType(a *domain.Attribute, lang string) domain.DataType {
	if a.DataType == domain.Many || lang != "" {
		return domain.String
	}
	return a.DataType
}
