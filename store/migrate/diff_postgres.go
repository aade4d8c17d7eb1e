package migrate

import "strings"

// pkChanges returns the tables (lower case) whose primary key is dropped and re-created:
// the foreign keys that point at them must go first and come back after.
func (df *differ) pkChanges() map[string]bool {
	out := map[string]bool{}
	for _, w := range df.want.tables {
		if h := df.have.table(w.Name); h != nil && !w.PK.sameAs(h.PK) {
			out[strings.ToLower(w.Name)] = true
		}
	}
	return out
}

// postgresTable plans one table on PostgreSQL, where every change is an ALTER statement in
// its UnityBase group.
func (df *differ) postgresTable(w *table, pkChanged map[string]bool) {
	h := df.have.table(w.Name)
	if h == nil {
		defs := make([]string, len(w.Columns))
		for i, c := range w.Columns {
			defs[i] = "\t" + df.columnDef(c)
		}
		df.add(GroupCreateTable, "CREATE TABLE "+df.id(w.Name)+" (\n"+strings.Join(defs, ",\n")+"\n)", w.Origin+" has no table")
		h = &table{Name: w.Name}
	} else {
		df.pgColumns(w, h)
	}
	df.pgConstraints(w, h, pkChanged)
}

func (df *differ) alterTable(w *table) string { return "ALTER TABLE " + df.id(w.Name) + " " }

func (df *differ) pgColumns(w, h *table) {
	for _, c := range w.Columns {
		if hc := h.column(c.Name); hc == nil {
			df.pgAddColumn(w, c)
		} else {
			df.pgAlterColumn(w, c, hc)
		}
	}
	for _, hc := range h.Columns {
		if w.column(hc.Name) == nil {
			df.addDestructive(GroupDropColumn, df.alterTable(w)+"DROP COLUMN "+df.id(hc.Name),
				"column "+w.Name+"."+hc.Name+" is not in the domain: its values are lost")
		}
	}
}

// pgAddColumn adds a column. A NOT NULL column with a default takes the default in existing
// rows; one without is added nullable, filled (§11 rules) and then made NOT NULL.
func (df *differ) pgAddColumn(w *table, c *column) {
	why := "new column " + w.Name + "." + c.Name + " of attribute " + c.Attr
	if !c.NotNull || c.Default != "" {
		df.add(GroupAddColumn, df.alterTable(w)+"ADD "+df.columnDef(c), why)
		return
	}
	nullable := *c
	nullable.NotNull = false
	df.add(GroupAddColumn, df.alterTable(w)+"ADD "+df.columnDef(&nullable), why)
	df.add(GroupUpdateColumn, "UPDATE "+df.id(w.Name)+" SET "+df.id(c.Name)+" = "+c.Fill+" WHERE "+df.id(c.Name)+" IS NULL",
		"existing rows get a value for NOT NULL column "+w.Name+"."+c.Name)
	df.add(GroupAlterColumnNotNull, df.alterTable(w)+"ALTER COLUMN "+df.id(c.Name)+" SET NOT NULL", why+" is NOT NULL")
}

func (df *differ) pgAlterColumn(w *table, c, hc *column) {
	ch := compareColumn(c, hc)
	if !ch.any() {
		return
	}
	name := w.Name + "." + c.Name
	col := df.alterTable(w) + "ALTER COLUMN " + df.id(c.Name) + " "
	setDefault := ch.Default && c.Default != ""
	if ch.Type {
		from, to := parseType(hc.Type), parseType(c.Type)
		if hc.Default != "" {
			// The old default may not convert to the new type: drop it around the change.
			df.add(GroupDropDefault, col+"DROP DEFAULT", "column "+name+" changes type")
			setDefault = c.Default != ""
		}
		stmt := col + "TYPE " + c.Type
		if ch.TypeChg.Lossy || from.Family != to.Family {
			stmt += " USING CAST(" + df.id(c.Name) + " AS " + c.Type + ")"
		}
		why := strings.Join(colChange{Type: true, TypeChg: ch.TypeChg}.describe(w.Name, c, hc), "")
		if ch.TypeChg.Lossy {
			df.addDestructive(GroupAlterColumn, stmt, why)
		} else {
			df.add(GroupAlterColumn, stmt, why)
		}
	} else if ch.Default && c.Default == "" {
		df.add(GroupDropDefault, col+"DROP DEFAULT", "column "+name+" loses its default")
	}
	if setDefault {
		df.add(GroupSetDefault, col+"SET DEFAULT "+c.Default, "column "+name+" gets default "+c.Default)
	}
	if ch.Null {
		df.add(GroupAlterColumn, col+"DROP NOT NULL", "column "+name+" becomes nullable")
	}
	if ch.NotNull {
		df.add(GroupUpdateColumn, "UPDATE "+df.id(w.Name)+" SET "+df.id(c.Name)+" = "+c.Fill+" WHERE "+df.id(c.Name)+" IS NULL",
			"column "+name+" becomes NOT NULL: NULLs are set to "+c.Fill)
		df.add(GroupAlterColumnNotNull, col+"SET NOT NULL", "column "+name+" becomes NOT NULL")
	}
}

// pgConstraints plans the primary key, indexes, checks and foreign keys of a table; h is
// an empty table when the table is new.
func (df *differ) pgConstraints(w, h *table, pkChanged map[string]bool) {
	if !w.PK.sameAs(h.PK) {
		if h.PK != nil {
			df.add(GroupDropPK, df.alterTable(w)+"DROP CONSTRAINT "+df.id(h.PK.Name), "primary key of "+w.Name+" changes")
		}
		if w.PK != nil {
			df.add(GroupCreatePK, df.alterTable(w)+"ADD "+df.pkClause(w.PK), "primary key of "+w.Name)
		}
	}
	drop, create := diffIndexes(w, h)
	for _, x := range drop {
		if x.Constraint {
			df.add(GroupDropIndex, df.alterTable(w)+"DROP CONSTRAINT "+df.id(x.Name), "unique constraint "+x.Name+" is not in the domain")
		} else {
			df.add(GroupDropIndex, "DROP INDEX "+df.id(x.Name), "index "+x.Name+" of "+w.Name+" is not in the domain or changed")
		}
	}
	for _, x := range create {
		df.add(GroupCreateIndex, df.createIndexSQL(w.Name, x), "index on "+w.Name+" ("+describeKeys(x)+")")
	}
	dropC, createC := diffChecks(w, h)
	for _, c := range dropC {
		df.add(GroupDropCheck, df.alterTable(w)+"DROP CONSTRAINT "+df.id(c.Name), "check "+c.Name+" of "+w.Name+" is not in the domain")
	}
	for _, c := range createC {
		df.add(GroupCreateCheck, df.alterTable(w)+"ADD "+df.checkClause(c), "check of "+w.Name+": "+c.Expr)
	}
	renew := func(f *foreignKey) bool { return pkChanged[strings.ToLower(f.RefTable)] }
	dropF, createF := diffFKs(w, h, renew)
	for _, f := range dropF {
		df.add(GroupDropFK, df.alterTable(w)+"DROP CONSTRAINT "+df.id(f.Name),
			"foreign key "+f.Name+" of "+w.Name+" is not in the domain or its target changes")
	}
	for _, f := range createF {
		// Deferrable, so that a transaction inserting rows that refer to each other (the
		// built-in users, subjects and roles, owned by a user inserted in the same
		// transaction) can move the check to commit; checks stay immediate by default.
		df.add(GroupCreateFK, df.alterTable(w)+"ADD "+df.fkClause(f)+" DEFERRABLE INITIALLY IMMEDIATE", "reference of "+f.Why+" to "+f.RefTable)
	}
}
