package migrate

import (
	"strconv"
	"strings"
)

// SQLite's ALTER TABLE can add a column and rename things, nothing else. Any other change
// (a column's type, nullability or default, a dropped column, the primary key, a foreign
// key or a check on an existing column) is made with the rebuild SQLite documents
// ("Making Other Kinds Of Table Schema Changes"): create the new table under a temporary
// name, copy the rows, drop the old table, rename the new one, recreate the indexes. Apply
// runs it with foreign keys off and checks the rebuilt tables with PRAGMA
// foreign_key_check before committing.

func (df *differ) sqliteTable(w *table) {
	h := df.have.table(w.Name)
	if h == nil {
		df.add(GroupCreateTable, df.sqliteCreateTable(w, w.Name), w.Origin+" has no table")
		for _, x := range w.Indexes {
			df.add(GroupCreateIndex, df.createIndexSQL(w.Name, x), "index on "+w.Name+" ("+describeKeys(x)+")")
		}
		return
	}
	var reasons, losses []string
	var adds []*column
	added := map[string]bool{}
	for _, c := range w.Columns {
		hc := h.column(c.Name)
		if hc == nil {
			if why := sqliteCannotAdd(w, c); why != "" {
				reasons = append(reasons, "new column "+w.Name+"."+c.Name+" "+why)
			} else {
				adds = append(adds, c)
				added[strings.ToLower(c.Name)] = true
			}
			continue
		}
		ch := compareColumn(c, hc)
		if ch.Type && ch.TypeChg.Lossy {
			losses = append(losses, colChange{Type: true, TypeChg: ch.TypeChg}.describe(w.Name, c, hc)...)
			ch.Type = false // told as a loss
		}
		reasons = append(reasons, ch.describe(w.Name, c, hc)...)
	}
	for _, hc := range h.Columns {
		if w.column(hc.Name) == nil {
			losses = append(losses, "column "+w.Name+"."+hc.Name+" is not in the domain: its values are lost")
		}
	}
	if !w.PK.sameAs(h.PK) {
		reasons = append(reasons, "the primary key changes")
	}
	dropF, createF := diffFKs(w, h, func(*foreignKey) bool { return false })
	for _, f := range dropF {
		reasons = append(reasons, "foreign key ("+strings.Join(f.Columns, ", ")+") to "+f.RefTable+" is not in the domain")
	}
	for _, f := range createF {
		if len(f.Columns) != 1 || !added[strings.ToLower(f.Columns[0])] {
			reasons = append(reasons, "new foreign key "+f.Name)
		}
	}
	dropC, createC := diffChecks(w, h)
	for _, c := range dropC {
		reasons = append(reasons, "check "+c.Name+" is not in the domain")
	}
	for _, c := range createC {
		if c.Column == "" || !added[strings.ToLower(c.Column)] {
			reasons = append(reasons, "new check "+c.Name)
		}
	}
	if len(reasons)+len(losses) > 0 {
		for _, c := range adds {
			reasons = append(reasons, "new column "+w.Name+"."+c.Name)
		}
		df.sqliteRebuild(w, h, reasons, losses)
		return
	}
	for _, c := range adds {
		df.add(GroupAddColumn, "ALTER TABLE "+df.id(w.Name)+" ADD COLUMN "+df.sqliteInlineColumn(w, c),
			"new column "+w.Name+"."+c.Name+" of attribute "+c.Attr)
	}
	drop, create := diffIndexes(w, h)
	for _, x := range drop {
		df.add(GroupDropIndex, "DROP INDEX "+df.id(x.Name), "index "+x.Name+" of "+w.Name+" is not in the domain or changed")
	}
	for _, x := range create {
		df.add(GroupCreateIndex, df.createIndexSQL(w.Name, x), "index on "+w.Name+" ("+describeKeys(x)+")")
	}
}

// sqliteCannotAdd says why ALTER TABLE ADD COLUMN cannot add c, or "" when it can: SQLite
// refuses an expression default, a NOT NULL column without a default, and (with foreign
// keys on) a reference with a non-NULL default.
func sqliteCannotAdd(w *table, c *column) string {
	switch {
	case c.Default != "" && !isLiteral(c.Default):
		return "has an expression default"
	case !c.NotNull:
		return ""
	case c.Default == "":
		return "is NOT NULL without a default"
	}
	for _, f := range w.FKs {
		for _, fc := range f.Columns {
			if strings.EqualFold(fc, c.Name) {
				return "is a NOT NULL reference"
			}
		}
	}
	return ""
}

// sqliteInlineColumn is the ADD COLUMN definition of c with its own check and reference.
func (df *differ) sqliteInlineColumn(w *table, c *column) string {
	s := df.columnDef(c)
	for _, k := range w.Checks {
		if strings.EqualFold(k.Column, c.Name) {
			s += " " + df.checkClause(k)
		}
	}
	for _, f := range w.FKs {
		if len(f.Columns) == 1 && strings.EqualFold(f.Columns[0], c.Name) {
			s += " CONSTRAINT " + df.id(f.Name) + " REFERENCES " + df.id(f.RefTable) + " (" + df.idents(f.RefColumns) + ")"
		}
	}
	return s
}

// sqliteCreateTable writes the whole table, constraints included: SQLite cannot add them
// later.
func (df *differ) sqliteCreateTable(w *table, name string) string {
	var defs []string
	for _, c := range w.Columns {
		defs = append(defs, df.columnDef(c))
	}
	if w.PK != nil {
		defs = append(defs, df.pkClause(w.PK))
	}
	for _, c := range w.Checks {
		defs = append(defs, df.checkClause(c))
	}
	for _, f := range w.FKs {
		defs = append(defs, df.fkClause(f))
	}
	return "CREATE TABLE " + df.id(name) + " (\n\t" + strings.Join(defs, ",\n\t") + "\n)"
}

// sqliteRebuild replaces table h by w, copying the rows: kept columns as they are (cut to a
// narrower length, NULLs filled when they become NOT NULL), new NOT NULL columns without a
// default from their fill value; other new columns take their default.
func (df *differ) sqliteRebuild(w, h *table, reasons, losses []string) {
	tmp := tempTableName(w.Name)
	var cols, exprs []string
	for _, c := range w.Columns {
		hc := h.column(c.Name)
		var e string
		switch {
		case hc != nil:
			e = df.id(hc.Name)
			if ch := compareColumn(c, hc); ch.Type && ch.TypeChg.Truncate > 0 {
				e = "substr(" + e + ", 1, " + strconv.Itoa(ch.TypeChg.Truncate) + ")"
			}
			if c.NotNull && !hc.NotNull {
				e = "coalesce(" + e + ", " + c.Fill + ")"
			}
		case c.NotNull && c.Default == "":
			e = c.Fill
		default:
			continue
		}
		cols = append(cols, df.id(c.Name))
		exprs = append(exprs, e)
	}
	// The statements are one step: they share the reason.
	why := "rebuild table " + w.Name + ": " + strings.Join(reasons, "; ")
	add := df.add
	if len(losses) > 0 {
		why = "rebuild table " + w.Name + ", losing data: " + strings.Join(losses, "; ")
		if len(reasons) > 0 {
			why += " (and: " + strings.Join(reasons, "; ") + ")"
		}
		add = df.addDestructive
	}
	add(GroupAlterColumn, df.sqliteCreateTable(w, tmp), why)
	if len(cols) > 0 {
		add(GroupAlterColumn, "INSERT INTO "+df.id(tmp)+" ("+strings.Join(cols, ", ")+")\nSELECT "+strings.Join(exprs, ", ")+" FROM "+df.id(w.Name), why)
	}
	add(GroupAlterColumn, "DROP TABLE "+df.id(w.Name), why)
	add(GroupAlterColumn, "ALTER TABLE "+df.id(tmp)+" RENAME TO "+df.id(w.Name), why)
	for _, x := range w.Indexes {
		if len(losses) > 0 {
			// Part of the destructive step: without the rebuild the old indexes still exist.
			add(GroupCreateIndex, df.createIndexSQL(w.Name, x), why)
		} else {
			add(GroupCreateIndex, df.createIndexSQL(w.Name, x), "index on "+w.Name+" ("+describeKeys(x)+"), recreated after the rebuild")
		}
	}
	df.p.fkCheck = append(df.p.fkCheck, w.Name)
}

// sqliteIDRow plans the single row of the ID generator table.
func (df *differ) sqliteIDRow() {
	switch n := df.have.idRows; {
	case n <= 0:
		start := df.t.clientNum() * 10_000_000_000
		df.add(GroupCreateSequence, "INSERT INTO "+IDTable+" (client_num) VALUES ("+strconv.FormatInt(start, 10)+")",
			"the ID generator starts at clientNum×10^10")
	case n > 1:
		df.warn("table %s has %d rows; the ID generator expects one", IDTable, n)
	}
}
