package migrate

import (
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/ubgo/ubgo/domain"
)

// Names of constraints and indexes follow UnityBase (§11): upper case, built from the
// entity's sqlAlias (or its table name when it has none) and the column, and no longer than
// the dialect keeps. A name that is too long is cut and ends with a hash of the full name,
// so that two long names that share a prefix stay different and the same domain always gives
// the same names.

// aliasOf is the part of object names that stands for the entity.
func aliasOf(e *domain.Entity, table string) string {
	if e != nil && e.SQLAlias != "" {
		return strings.ToUpper(e.SQLAlias)
	}
	return strings.ToUpper(table)
}

// objName joins parts with "_", upper-cases the result and fits it into maxLen.
func objName(maxLen int, parts ...string) string {
	return fitName(strings.ToUpper(strings.Join(parts, "_")), maxLen)
}

// fitName cuts name to maxLen, replacing its tail with "_" and 8 hex digits of its FNV-1a
// hash when it is too long.
func fitName(name string, maxLen int) string {
	if len(name) <= maxLen {
		return name
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	suffix := fmt.Sprintf("_%08X", h.Sum32())
	return name[:maxLen-len(suffix)] + suffix
}

func pkName(alias string, maxLen int) string { return objName(maxLen, "PK", alias) }

func indexName(alias, col string, maxLen int) string { return objName(maxLen, "IDX", alias, col) }

func uniqueName(alias, col string, maxLen int) string { return objName(maxLen, "UIDX", alias, col) }

func boolCheckName(alias, col string, maxLen int) string {
	return objName(maxLen, "CHK", alias, col, "BOOL")
}

// fkName is FK_<ALIAS>_<COLUMN>_REF_<DESTALIAS>; like UnityBase it first drops "_REF" when
// the name is too long, and only then cuts it.
func fkName(alias, col, destAlias string, maxLen int) string {
	full := strings.ToUpper("FK_" + alias + "_" + col + "_REF_" + destAlias)
	if len(full) <= maxLen {
		return full
	}
	return objName(maxLen, "FK", alias, col, destAlias)
}

// tempTableName is the name a SQLite table is rebuilt under before it takes the place of
// the old one.
func tempTableName(table string) string { return table + "__ubgo_new" }
