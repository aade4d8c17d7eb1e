package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// userTables selects the tables of a SQLite database other than its own sqlite_* tables.
const userTables = `m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'`

// inspectSQLite reads tables, columns, indexes, foreign keys and named checks through
// sqlite_master and the table-valued pragma functions, one query for each kind of object.
func inspectSQLite(ctx context.Context, db *sql.DB) (*schema, error) {
	s := newSchema()
	err := queryRows(ctx, db, `SELECT m.name, coalesce(m.sql, '') FROM sqlite_master m WHERE `+userTables+` ORDER BY m.name`,
		func(r *sql.Rows) error {
			var name, createSQL string
			if err := r.Scan(&name, &createSQL); err != nil {
				return err
			}
			s.addTable(&table{Name: name, Checks: parseChecks(createSQL)})
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("migrate: read SQLite tables: %w", err)
	}
	if err := sqliteColumns(ctx, db, s); err != nil {
		return nil, err
	}
	if err := sqliteIndexes(ctx, db, s); err != nil {
		return nil, err
	}
	if err := sqliteFKs(ctx, db, s); err != nil {
		return nil, err
	}
	if s.table(IDTable) != nil {
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+IDTable).Scan(&s.idRows); err != nil {
			return nil, fmt.Errorf("migrate: count rows of %s: %w", IDTable, err)
		}
	}
	return s, nil
}

func sqliteColumns(ctx context.Context, db *sql.DB, s *schema) error {
	pks := map[*table][]struct {
		pos  int
		name string
	}{}
	err := queryRows(ctx, db, `SELECT m.name, p.name, p.type, p."notnull", p.dflt_value, p.pk
		FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE `+userTables+` ORDER BY m.name, p.cid`,
		func(r *sql.Rows) error {
			var tname, name, typ string
			var notNull bool
			var dflt sql.NullString
			var pk int
			if err := r.Scan(&tname, &name, &typ, &notNull, &dflt, &pk); err != nil {
				return err
			}
			t := s.table(tname)
			t.addColumn(&column{Name: name, Type: typ, NotNull: notNull, Default: dflt.String})
			if pk > 0 {
				pks[t] = append(pks[t], struct {
					pos  int
					name string
				}{pk, name})
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("migrate: read SQLite columns: %w", err)
	}
	for t, cols := range pks {
		sort.Slice(cols, func(i, j int) bool { return cols[i].pos < cols[j].pos })
		t.PK = &primaryKey{}
		for _, c := range cols {
			t.PK.Columns = append(t.PK.Columns, c.name)
		}
	}
	return nil
}

// sqliteIndexes reads the indexes created with CREATE INDEX (origin "c"); the automatic
// indexes behind PRIMARY KEY and UNIQUE constraints belong to the table definition.
func sqliteIndexes(ctx context.Context, db *sql.DB, s *schema) error {
	err := queryRows(ctx, db, `SELECT m.name, il.name, il."unique", ix.cid, coalesce(ix.name, ''), ix."desc", coalesce(i.sql, '')
		FROM sqlite_master m JOIN pragma_index_list(m.name) il JOIN pragma_index_xinfo(il.name) ix
		LEFT JOIN sqlite_master i ON i.type = 'index' AND i.name = il.name
		WHERE `+userTables+` AND il.origin = 'c' AND ix.key = 1 ORDER BY m.name, il.name, ix.seqno`,
		func(r *sql.Rows) error {
			var tname, iname, col, createSQL string
			var unique, desc bool
			var cid int
			if err := r.Scan(&tname, &iname, &unique, &cid, &col, &desc, &createSQL); err != nil {
				return err
			}
			t := s.table(tname)
			x := t.index(iname)
			if x == nil {
				x = &index{Name: iname, Unique: unique}
				t.Indexes = append(t.Indexes, x)
			}
			if cid == -2 { // an expression: only the statement text has it
				terms := indexTerms(createSQL)
				if n := len(x.Keys); n < len(terms) {
					col = terms[n]
				}
			}
			x.Keys = append(x.Keys, indexKey{Expr: col, Desc: desc})
			return nil
		})
	if err != nil {
		return fmt.Errorf("migrate: read SQLite indexes: %w", err)
	}
	return nil
}

func sqliteFKs(ctx context.Context, db *sql.DB, s *schema) error {
	type key struct {
		t  *table
		id int
	}
	fks := map[key]*foreignKey{}
	err := queryRows(ctx, db, `SELECT m.name, f.id, f."table", f."from", coalesce(f."to", '')
		FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE `+userTables+` ORDER BY m.name, f.id, f.seq`,
		func(r *sql.Rows) error {
			var tname, ref, from, to string
			var id int
			if err := r.Scan(&tname, &id, &ref, &from, &to); err != nil {
				return err
			}
			t := s.table(tname)
			fk := fks[key{t, id}]
			if fk == nil {
				fk = &foreignKey{RefTable: ref}
				fks[key{t, id}] = fk
				t.FKs = append(t.FKs, fk)
			}
			fk.Columns = append(fk.Columns, from)
			fk.RefColumns = append(fk.RefColumns, to)
			return nil
		})
	if err != nil {
		return fmt.Errorf("migrate: read SQLite foreign keys: %w", err)
	}
	// "REFERENCES t" without columns means t's primary key.
	for _, fk := range fks {
		if strings.Join(fk.RefColumns, "") == "" {
			if ref := s.table(fk.RefTable); ref != nil && ref.PK != nil {
				fk.RefColumns = append([]string(nil), ref.PK.Columns...)
			}
		}
	}
	return nil
}
