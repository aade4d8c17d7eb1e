package domain

// Mappings are looked up by exact dialect name first, then by "AnsiSQL", the mapping UnityBase
// applies to every dialect.
const ansiSQL = "AnsiSQL"

func (e *Entity) mapping(dialect string) *EntityMapping {
	var ansi *EntityMapping
	for i := range e.Mapping {
		switch e.Mapping[i].Dialect {
		case dialect:
			return &e.Mapping[i]
		case ansiSQL:
			ansi = &e.Mapping[i]
		}
	}
	return ansi
}

// SelectName is the table or view the entity is read from under dialect: its mapping's
// selectName, else the entity name.
func (e *Entity) SelectName(dialect string) string {
	if m := e.mapping(dialect); m != nil && m.SelectName != "" {
		return m.SelectName
	}
	return e.Name
}

// ExecName is the table the entity is written to under dialect: its mapping's execName,
// else SelectName.
func (e *Entity) ExecName(dialect string) string {
	if m := e.mapping(dialect); m != nil && m.ExecName != "" {
		return m.ExecName
	}
	return e.SelectName(dialect)
}

// PKGenerator is the entity's own ID generator under dialect (a sequence name or SQL), or
// "" for the global ID space.
func (e *Entity) PKGenerator(dialect string) string {
	if m := e.mapping(dialect); m != nil {
		return m.PKGenerator
	}
	return ""
}

// Column returns where the attribute is stored under dialect. For a stored attribute it is
// the column name (the attribute name, or a Field mapping's expression) and isExpr is false;
// for an Expression mapping it is the SQL expression, with [attr] placeholders, and isExpr
// is true. Many attributes have no column: Column returns "", false.
func (a *Attribute) Column(dialect string) (column string, isExpr bool) {
	if a.DataType == Many {
		return "", false
	}
	var ansi *AttributeMapping
	for i := range a.Mapping {
		switch a.Mapping[i].Dialect {
		case dialect:
			return a.Mapping[i].column(a.Name)
		case ansiSQL:
			ansi = &a.Mapping[i]
		}
	}
	if ansi != nil {
		return ansi.column(a.Name)
	}
	return a.Name, false
}

func (m *AttributeMapping) column(name string) (string, bool) {
	if m.Expression == "" {
		return name, false
	}
	if m.ExpressionType == "Expression" {
		return m.Expression, true
	}
	return m.Expression, false
}

// Stored reports whether the attribute has a column of its own under dialect.
func (a *Attribute) Stored(dialect string) bool {
	c, isExpr := a.Column(dialect)
	return c != "" && !isExpr
}
