package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// inspectPostgres reads the tables, columns, constraints, indexes and sequences of one
// schema from pg_catalog, one query for each kind of object. PostgreSQL reports names folded
// to lower case; comparisons ignore case.
func inspectPostgres(ctx context.Context, db *sql.DB, schemaName string) (*schema, error) {
	s := newSchema()
	steps := []struct {
		what string
		fn   func(context.Context, *sql.DB, string, *schema) error
	}{
		{"tables", pgTables}, {"columns", pgColumns}, {"constraints", pgConstraints},
		{"indexes", pgIndexes}, {"sequences", pgSequences},
	}
	for _, st := range steps {
		if err := st.fn(ctx, db, schemaName, s); err != nil {
			return nil, fmt.Errorf("migrate: read PostgreSQL %s of schema %s: %w", st.what, schemaName, err)
		}
	}
	return s, nil
}

func pgTables(ctx context.Context, db *sql.DB, schemaName string, s *schema) error {
	return queryRows(ctx, db, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
		func(r *sql.Rows) error {
			var name string
			if err := r.Scan(&name); err != nil {
				return err
			}
			s.addTable(&table{Name: name})
			return nil
		}, schemaName)
}

func pgColumns(ctx context.Context, db *sql.DB, schemaName string, s *schema) error {
	return queryRows(ctx, db, `SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
			coalesce(pg_get_expr(d.adbin, d.adrelid), '')
		FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY c.relname, a.attnum`,
		func(r *sql.Rows) error {
			var tname string
			c := &column{}
			if err := r.Scan(&tname, &c.Name, &c.Type, &c.NotNull, &c.Default); err != nil {
				return err
			}
			if t := s.table(tname); t != nil {
				t.addColumn(c)
			}
			return nil
		}, schemaName)
}

// pgConstraints reads primary keys, foreign keys and checks. Column lists come as
// comma-separated text: database/sql has no portable scan for arrays.
func pgConstraints(ctx context.Context, db *sql.DB, schemaName string, s *schema) error {
	return queryRows(ctx, db, `SELECT c.relname, con.conname, con.contype,
			array_to_string(ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
				JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord), ','),
			coalesce(fc.relname, ''),
			array_to_string(ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
				JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord), ','),
			pg_get_constraintdef(con.oid)
		FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_class fc ON fc.oid = con.confrelid
		WHERE n.nspname = $1 AND con.contype IN ('p', 'f', 'c')
		ORDER BY c.relname, con.conname`,
		func(r *sql.Rows) error {
			var tname, name, typ, cols, ref, refCols, def string
			if err := r.Scan(&tname, &name, &typ, &cols, &ref, &refCols, &def); err != nil {
				return err
			}
			t := s.table(tname)
			if t == nil {
				return nil
			}
			switch typ {
			case "p":
				t.PK = &primaryKey{Name: name, Columns: splitList(cols)}
			case "f":
				t.FKs = append(t.FKs, &foreignKey{Name: name, Columns: splitList(cols), RefTable: ref, RefColumns: splitList(refCols)})
			case "c":
				t.Checks = append(t.Checks, &check{Name: name, Expr: strings.TrimPrefix(def, "CHECK ")})
			}
			return nil
		}, schemaName)
}

// pgIndexes reads every index but those of primary keys, one row per key column.
func pgIndexes(ctx context.Context, db *sql.DB, schemaName string, s *schema) error {
	// The CTE narrows to the schema first: otherwise the key expansion and pg_get_indexdef
	// run for every index of the database (a few hundred milliseconds).
	return queryRows(ctx, db, `WITH ix AS MATERIALIZED (
			SELECT x.indexrelid, x.indisunique, x.indnkeyatts, x.indoption, t.relname AS tname, i.relname AS iname
			FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
			JOIN pg_namespace n ON n.oid = t.relnamespace
			WHERE n.nspname = $1 AND NOT x.indisprimary),
		uc AS MATERIALIZED (
			SELECT con.conindid FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
			WHERE n.nspname = $1 AND con.contype IN ('u', 'x'))
		SELECT ix.tname, ix.iname, ix.indisunique, pg_get_indexdef(ix.indexrelid, k.pos, true),
			(ix.indoption[k.pos - 1] & 1) = 1, ix.indexrelid IN (SELECT conindid FROM uc)
		FROM ix CROSS JOIN LATERAL generate_series(1, ix.indnkeyatts) AS k(pos)
		ORDER BY ix.tname, ix.iname, k.pos`,
		func(r *sql.Rows) error {
			var tname, iname, expr string
			var unique, desc, constraint bool
			if err := r.Scan(&tname, &iname, &unique, &expr, &desc, &constraint); err != nil {
				return err
			}
			t := s.table(tname)
			if t == nil {
				return nil
			}
			x := t.index(iname)
			if x == nil {
				x = &index{Name: iname, Unique: unique, Constraint: constraint}
				t.Indexes = append(t.Indexes, x)
			}
			x.Keys = append(x.Keys, indexKey{Expr: unquoteIdent(expr), Desc: desc})
			return nil
		}, schemaName)
}

func pgSequences(ctx context.Context, db *sql.DB, schemaName string, s *schema) error {
	return queryRows(ctx, db, `SELECT c.relname, q.seqstart, q.seqmin, q.seqmax, q.seqincrement, q.seqcache, q.seqcycle
		FROM pg_sequence q JOIN pg_class c ON c.oid = q.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 ORDER BY c.relname`,
		func(r *sql.Rows) error {
			q := &sequence{}
			if err := r.Scan(&q.Name, &q.Start, &q.Min, &q.Max, &q.Inc, &q.Cache, &q.Cycle); err != nil {
				return err
			}
			s.addSequence(q)
			return nil
		}, schemaName)
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
