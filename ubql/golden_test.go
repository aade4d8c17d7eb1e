package ubql_test

import (
	"fmt"
	"testing"

	"github.com/ubgo/ubgo/store/dialect"
	"github.com/ubgo/ubgo/ubql"
)

type golden struct {
	name string
	req  string
	lang string
	// per dialect: SQL, args, count SQL, count args
	sqlite, pg [4]string
}

var goldens = []golden{
	{name: "grid page with total", req: `{"entity":"tst_person","method":"select","fieldList":["ID","name"],
		"whereList":{"c1":{"expression":"[name]","condition":"startWith","value":"adm"}},
		"orderList":{"0":{"expression":"name","order":"asc"}},"options":{"start":10,"limit":101,"totalRequired":true}}`,
		sqlite: [4]string{"SELECT A01.ID, A01.name FROM tst_person A01 WHERE A01.name LIKE ? ESCAPE '\\' ORDER BY A01.name ASC LIMIT 101 OFFSET ?", "[]interface {}{\"adm%\", 10}", "SELECT COUNT(*) FROM tst_person A01 WHERE A01.name LIKE ? ESCAPE '\\'", "[]interface {}{\"adm%\"}"},
		pg:     [4]string{"SELECT A01.ID, A01.name FROM tst_person A01 WHERE A01.name ILIKE $1 ESCAPE '\\' ORDER BY A01.name ASC LIMIT 101 OFFSET $2", "[]interface {}{\"adm%\", 10}", "SELECT COUNT(*) FROM tst_person A01 WHERE A01.name ILIKE $1 ESCAPE '\\'", "[]interface {}{\"adm%\"}"}},
	{name: "joins", lang: "uk", req: `{"entity":"tst_person","method":"select","fieldList":["ID","fullName","dept.country.caption","manager.dept.name","status.name","fullName_en^"]}`,
		sqlite: [4]string{"SELECT A01.ID, A01.fullName_uk, A03.caption_uk, A05.name, A06.name_uk, A01.fullName FROM tst_person A01 INNER JOIN tst_dept A02 ON A02.ID = A01.dept INNER JOIN tst_country A03 ON A03.ID = A02.country LEFT JOIN tst_person A04 ON A04.ID = A01.manager LEFT JOIN tst_dept A05 ON A05.ID = A04.dept LEFT JOIN ubm_enum A06 ON A06.eGroup = ? AND A06.code = A01.status", "[]interface {}{\"PERSON_STATUS\"}", "", "[]interface {}(nil)"},
		pg:     [4]string{"SELECT A01.ID, A01.fullName_uk, A03.caption_uk, A05.name, A06.name_uk, A01.fullName FROM tst_person A01 INNER JOIN tst_dept A02 ON A02.ID = A01.dept INNER JOIN tst_country A03 ON A03.ID = A02.country LEFT JOIN tst_person A04 ON A04.ID = A01.manager LEFT JOIN tst_dept A05 ON A05.ID = A04.dept LEFT JOIN ubm_enum A06 ON A06.eGroup = $1 AND A06.code = A01.status", "[]interface {}{\"PERSON_STATUS\"}", "", "[]interface {}(nil)"}},
	{name: "many", req: `{"entity":"tst_person","method":"select","fieldList":["ID","tags"],"whereList":{"c1":{"expression":"[tags]","condition":"in","value":[1,2]},"c2":{"expression":"[tags]","condition":"isNull"}}}`,
		sqlite: [4]string{"SELECT A01.ID, (SELECT group_concat(A02.destID, ',' ORDER BY A02.destID) FROM tst_person_tags A02 WHERE A02.sourceID = A01.ID) FROM tst_person A01 WHERE EXISTS (SELECT 1 FROM tst_person_tags A03 WHERE A03.sourceID = A01.ID AND A03.destID IN (SELECT value FROM json_each(?))) AND NOT EXISTS (SELECT 1 FROM tst_person_tags A04 WHERE A04.sourceID = A01.ID)", "[]interface {}{\"[1,2]\"}", "", "[]interface {}(nil)"},
		pg:     [4]string{"SELECT A01.ID, (SELECT string_agg(CAST(A02.destID AS VARCHAR), ',' ORDER BY A02.destID) FROM tst_person_tags A02 WHERE A02.sourceID = A01.ID) FROM tst_person A01 WHERE EXISTS (SELECT 1 FROM tst_person_tags A03 WHERE A03.sourceID = A01.ID AND A03.destID = ANY($1)) AND NOT EXISTS (SELECT 1 FROM tst_person_tags A04 WHERE A04.sourceID = A01.ID)", "[]interface {}{[]int64{1, 2}}", "", "[]interface {}(nil)"}},
	{name: "subquery and ID", req: `{"entity":"tst_person","method":"select","fieldList":["ID"],"ID":7,
		"whereList":{"c1":{"expression":"[ID]","condition":"subquery","subQueryType":"in","value":{"entity":"tst_note","method":"select","fieldList":["person"],
			"whereList":{"c1":{"expression":"[text]","condition":"equal","value":"x"}}}},
		"c2":{"expression":"","condition":"subquery","subQueryType":"notExists","value":{"entity":"tst_note","method":"select",
			"whereList":{"c1":{"expression":"[person]=[{master}.manager]","condition":"custom"},"c2":{"expression":"[mi_deleteDate]","condition":"equal","value":"#maxdate"}}}},
		"c3":{"expression":"[name]","condition":"equal","value":"y"}}}`,
		sqlite: [4]string{"SELECT A01.ID FROM tst_person A01 WHERE A01.ID IN (SELECT A02.person FROM tst_note A02 WHERE A02.text = ?) AND NOT EXISTS (SELECT 1 FROM tst_note A03 WHERE A03.person = A01.manager AND A03.mi_deleteDate = ?) AND A01.name = ? AND A01.ID = ?", "[]interface {}{\"x\", \"9999-12-31T00:00:00.000Z\", \"y\", 7}", "", "[]interface {}(nil)"},
		pg:     [4]string{"SELECT A01.ID FROM tst_person A01 WHERE A01.ID IN (SELECT A02.person FROM tst_note A02 WHERE A02.text = $1) AND NOT EXISTS (SELECT 1 FROM tst_note A03 WHERE A03.person = A01.manager AND A03.mi_deleteDate = $2) AND A01.name = $3 AND A01.ID = $4", "[]interface {}{\"x\", time.Date(9999, time.December, 31, 0, 0, 0, 0, time.UTC), \"y\", 7}", "", "[]interface {}(nil)"}},
	{name: "predicates and joinAs", req: `{"entity":"tst_person","method":"select","fieldList":["ID","manager.name"],
		"whereList":{"a":{"expression":"[active]","condition":"equal","value":true},"b":{"expression":"[salary]","condition":"more","value":10},
			"c":{"expression":"[manager.name]","condition":"like","value":"x"},"d":{"expression":"[birthday]","condition":"less","value":"2000-01-01"}},
		"logicalPredicates":["[a] OR [b]"],"joinAs":["c"]}`,
		sqlite: [4]string{"SELECT A01.ID, A02.name FROM tst_person A01 LEFT JOIN tst_person A02 ON A02.ID = A01.manager AND A02.name LIKE ? ESCAPE '\\' WHERE A01.birthday < ? AND (A01.active = ? OR A01.salary > ?)", "[]interface {}{\"%x%\", \"2000-01-01T00:00:00.000Z\", 1, 10}", "", "[]interface {}(nil)"},
		pg:     [4]string{"SELECT A01.ID, A02.name FROM tst_person A01 LEFT JOIN tst_person A02 ON A02.ID = A01.manager AND A02.name ILIKE $1 ESCAPE '\\' WHERE A01.birthday < $2 AND (A01.active = $3 OR A01.salary > $4)", "[]interface {}{\"%x%\", time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC), 1, 10}", "", "[]interface {}(nil)"}},
	{name: "group with total", req: `{"entity":"tst_person","method":"select","fieldList":["dept.name","COUNT([ID])","MAX([salary])"],
		"groupList":["dept.name"],"orderList":[{"expression":"COUNT([ID])","order":"desc"}],"options":{"totalRequired":true}}`,
		sqlite: [4]string{"SELECT A02.name, COUNT(A01.ID), MAX(A01.salary) FROM tst_person A01 INNER JOIN tst_dept A02 ON A02.ID = A01.dept GROUP BY A02.name ORDER BY COUNT(A01.ID) DESC", "[]interface {}(nil)", "SELECT COUNT(*) FROM (SELECT A02.name, COUNT(A01.ID), MAX(A01.salary) FROM tst_person A01 INNER JOIN tst_dept A02 ON A02.ID = A01.dept GROUP BY A02.name) T", "[]interface {}(nil)"},
		pg:     [4]string{"SELECT A02.name, COUNT(A01.ID), MAX(A01.salary) FROM tst_person A01 INNER JOIN tst_dept A02 ON A02.ID = A01.dept GROUP BY A02.name ORDER BY COUNT(A01.ID) DESC", "[]interface {}(nil)", "SELECT COUNT(*) FROM (SELECT A02.name, COUNT(A01.ID), MAX(A01.salary) FROM tst_person A01 INNER JOIN tst_dept A02 ON A02.ID = A01.dept GROUP BY A02.name) T", "[]interface {}(nil)"}},
	{name: "offset only", req: `{"entity":"tst_tag","method":"select","fieldList":["code"],"options":{"start":5}}`,
		sqlite: [4]string{"SELECT A01.code FROM tst_tag A01 LIMIT -1 OFFSET ?", "[]interface {}{5}", "", "[]interface {}(nil)"},
		pg:     [4]string{"SELECT A01.code FROM tst_tag A01 OFFSET $1", "[]interface {}{5}", "", "[]interface {}(nil)"}},
	{name: "functions and empty lists", req: `{"entity":"tst_person","method":"select","fieldList":["YEAR([birthday])","[salary] * 2 + 1","[name] || '!'","nameLen"],
		"whereList":{"c1":{"expression":"[ID]","condition":"in","value":[]},"c2":{"expression":"[ID]","condition":"notIn","value":[]},
		"c3":{"expression":"[manager]","condition":"equal","value":null},"c4":{"expression":"[props]","condition":"like","value":"%"},
		"c5":{"expression":"-[salary] - -1 < 0","condition":"custom"}}}`,
		sqlite: [4]string{"SELECT CAST(strftime('%Y', A01.birthday) AS INTEGER), A01.salary * 2 + 1, A01.name || ?, LENGTH(A01.name) FROM tst_person A01 WHERE 0=1 AND 1=1 AND A01.manager IS NULL AND A01.props LIKE ? ESCAPE '\\' AND -A01.salary - -1 < 0", "[]interface {}{\"!\", \"%\\\\%%\"}", "", "[]interface {}(nil)"},
		pg:     [4]string{"SELECT CAST(EXTRACT(YEAR FROM A01.birthday) AS INTEGER), A01.salary * 2 + 1, A01.name || $1, LENGTH(A01.name) FROM tst_person A01 WHERE 0=1 AND 1=1 AND A01.manager IS NULL AND CAST(A01.props AS TEXT) ILIKE $2 ESCAPE '\\' AND -A01.salary - -1 < 0", "[]interface {}{\"!\", \"%\\\\%%\"}", "", "[]interface {}(nil)"}},
}

func TestGoldenSQL(t *testing.T) {
	c := ubql.NewCompiler(testDomain(t))
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) {
			for _, d := range []dialect.Dialect{dialect.SQLite{}, dialect.Postgres{}} {
				want := g.sqlite
				if d.Name() == dialect.PostgreSQL {
					want = g.pg
				}
				s, err := c.Select(mustDecode(t, g.req), ubql.CompileOptions{Dialect: d, Lang: g.lang, Langs: []string{"en", "uk"}, External: true})
				if err != nil {
					t.Fatal(err)
				}
				got := [4]string{s.SQL, fmt.Sprintf("%#v", s.Args), s.CountSQL, fmt.Sprintf("%#v", s.CountArgs)}
				if got != want {
					t.Errorf("%s:\n got %q\nwant %q", d.Name(), got, want)
				}
			}
		})
	}
}
