package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/ubql"
)

const docFields = `["ID","code","caption","amount","qty","ratio","big","flag","docDate","dueDate","body","data","kind","mi_owner","mi_createDate","mi_modifyDate","mi_modifyUser"]`

func TestInsertRoundTripsEveryType(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newApp(t, d)
		out := a.mustRun(t, admin, `[{"entity":"tst_doc","method":"insert","fieldList":`+docFields+`,
			"execParams":{"code":"D1","caption":"First","amount":12.5,"qty":7,"ratio":0.25,"big":9007199254740991,
			"flag":true,"docDate":"2026-01-02T03:04:05.678Z","dueDate":"2026-02-03","body":"long text","data":{"a":[1,2]},"kind":"K1"}}]`)
		resp := out[0]
		id, ok := resp.Request.ExecParams["ID"].(int64)
		if !ok || id < 3_000_000_000_000 {
			t.Fatalf("execParams.ID = %v, want a generated ID in the client-3 space", resp.Request.ExecParams["ID"])
		}
		row := resp.ResultData.Data[0]
		now := a.clock.Now().UTC()
		want := []any{id, "D1", "First", 12.5, int64(7), 0.25, int64(9007199254740991), int64(1),
			time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC), time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC),
			"long text", json.RawMessage(`{"a":[1,2]}`), "K1", store.UserAdmin, now, now, store.UserAdmin}
		for i, w := range want {
			got := row[i]
			if raw, ok := w.(json.RawMessage); ok {
				var g, x any
				json.Unmarshal(got.(json.RawMessage), &g)
				json.Unmarshal(raw, &x)
				if fmt.Sprint(g) != fmt.Sprint(x) {
					t.Errorf("%s = %s, want %s", resp.ResultData.Fields[i], got, w)
				}
				continue
			}
			if tw, ok := w.(time.Time); ok {
				if tg, ok := got.(time.Time); !ok || !tg.Equal(tw) {
					t.Errorf("%s = %v, want %v", resp.ResultData.Fields[i], got, w)
				}
				continue
			}
			if got != w {
				t.Errorf("%s = %#v, want %#v", resp.ResultData.Fields[i], got, w)
			}
		}
		// Defaults apply to what was not sent.
		rows := a.rows(t, admin, `[{"entity":"tst_doc","method":"insert","fieldList":["qty","flag","mi_deleteDate"],"execParams":{"code":"D2"}}]`)
		if rows[0]["qty"] != int64(1) || rows[0]["flag"] != int64(0) {
			t.Fatalf("defaults: %v", rows[0])
		}
	})
}

func TestInsertRejectsBadInput(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newApp(t, d)
		cases := []struct {
			name string
			body string
			code int
		}{
			{"unknown entity", `[{"entity":"tst_nope","method":"insert","execParams":{"code":"x"}}]`, store.CodeEntityNotExist},
			{"unknown attribute", `[{"entity":"tst_doc","method":"insert","execParams":{"code":"x","nope":1}}]`, store.CodeAttributeNotExist},
			{"missing required", `[{"entity":"tst_doc","method":"insert","execParams":{"caption":"x"}}]`, store.CodeNecessaryFieldNotExist},
			{"system attribute", `[{"entity":"tst_doc","method":"insert","execParams":{"code":"x","mi_createUser":7}}]`, store.CodeInvalidData},
			{"forged delete date", `[{"entity":"tst_doc","method":"insert","execParams":{"code":"x","mi_deleteDate":"2020-01-01"}}]`, store.CodeInvalidData},
			{"string for number", `[{"entity":"tst_doc","method":"insert","execParams":{"code":"x","qty":"many"}}]`, store.CodeInvalidData},
			{"too long", `[{"entity":"tst_doc","method":"insert","execParams":{"code":"` + strings.Repeat("x", 33) + `"}}]`, store.CodeInvalidData},
			{"int32 overflow", `[{"entity":"tst_doc","method":"insert","execParams":{"code":"x","qty":3000000000}}]`, store.CodeInvalidData},
			{"bad date", `[{"entity":"tst_doc","method":"insert","execParams":{"code":"x","docDate":"yesterday"}}]`, store.CodeInvalidData},
			{"bad json text", `[{"entity":"tst_doc","method":"insert","execParams":{"code":"x","data":"{not json"}}]`, store.CodeInvalidData},
			{"bad boolean", `[{"entity":"tst_doc","method":"insert","execParams":{"code":"x","flag":2}}]`, store.CodeInvalidData},
			{"missing execParams", `[{"entity":"tst_doc","method":"insert"}]`, store.CodeNoMethodParameter},
			{"unknown method", `[{"entity":"tst_doc","method":"explode"}]`, store.CodeMethodNotExist},
			{"link table", `[{"entity":"tst_doc_tag","method":"insert","execParams":{"sourceID":1,"destID":2}}]`, store.CodeInvalidData},
			{"unity parent", `[{"entity":"uba_subject","method":"insert","execParams":{"code":"x","name":"x","sType":"U"}}]`, store.CodeDirectUnityModify},
			{"missing referenced row", `[{"entity":"tst_doc","method":"insert","execParams":{"code":"x","category":12345}}]`, store.CodeInvalidData},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := a.run(t, admin, tc.body)
				wantCode(t, err, tc.code)
				if strings.Contains(err.(interface{ ClientMessage() string }).ClientMessage(), "INSERT") {
					t.Fatalf("the client message shows SQL: %v", err)
				}
			})
		}
		if n := len(a.rows(t, admin, `[{"entity":"tst_doc","method":"select","fieldList":["ID"]}]`)); n != 0 {
			t.Fatalf("%d rows were written by failing requests", n)
		}
	})
}

func TestBatchIsOneTransaction(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newApp(t, d)
		_, err := a.run(t, admin, `[
			{"entity":"tst_tag","method":"insert","execParams":{"name":"a"}},
			{"entity":"tst_doc","method":"insert","execParams":{"code":"C1"}},
			{"entity":"tst_doc","method":"insert","execParams":{"code":"C1"}}]`)
		wantCode(t, err, store.CodeValueMustBeUnique)
		var se *store.Error
		if !errorAs(err, &se) || se.Item != 2 || se.Entity != "tst_doc" {
			t.Fatalf("error %v does not name item 2 of tst_doc", err)
		}
		for _, e := range []string{"tst_tag", "tst_doc"} {
			if n := len(a.rows(t, admin, `[{"entity":"`+e+`","method":"select","fieldList":["ID"]}]`)); n != 0 {
				t.Fatalf("%s has %d rows after a rolled back batch", e, n)
			}
		}
		// IDs stay unique after a rollback (the SQLite block was discarded with it).
		out := a.mustRun(t, admin, `[{"entity":"tst_tag","method":"insert","execParams":{"name":"b"}},{"entity":"tst_tag","method":"insert","execParams":{"name":"c"}}]`)
		if out[0].Request.ExecParams["ID"] == out[1].Request.ExecParams["ID"] {
			t.Fatal("duplicate IDs")
		}
	})
}

func TestUpdateAndOptimisticLock(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newApp(t, d)
		ins := a.rows(t, admin, `[{"entity":"tst_doc","method":"insert","fieldList":["ID","mi_modifyDate"],"execParams":{"code":"U1","caption":"cap","qty":5}}]`)[0]
		id, token := ins["ID"].(int64), ins["mi_modifyDate"].(time.Time)
		upd := func(sess *store.Session, params string) ([]*ubql.Response, error) {
			return a.run(t, sess, `[{"entity":"tst_doc","method":"update","fieldList":["ID","code","caption","qty","mi_modifyDate"],"execParams":`+params+`}]`)
		}
		// Same clock instant: the token still changes.
		out, err := upd(admin, fmt.Sprintf(`{"ID":%d,"qty":6,"mi_modifyDate":%q}`, id, token.Format(time.RFC3339Nano)))
		if err != nil {
			t.Fatal(err)
		}
		row := out[0].ResultData.Data[0]
		if row[1] != "U1" || row[2] != "cap" || row[3] != int64(6) {
			t.Fatalf("update touched attributes it was not given: %v", row)
		}
		newToken := row[4].(time.Time)
		if !newToken.After(token) || out[0].Request.ExecParams["mi_modifyDate"] == nil {
			t.Fatalf("the lock token did not advance: %v → %v", token, newToken)
		}
		// The stale token loses.
		_, err = upd(admin, fmt.Sprintf(`{"ID":%d,"qty":7,"mi_modifyDate":%q}`, id, token.Format(time.RFC3339Nano)))
		wantCode(t, err, store.CodeRecordModified)
		// A client must send the token.
		_, err = upd(admin, fmt.Sprintf(`{"ID":%d,"qty":7}`, id))
		wantCode(t, err, store.CodeNecessaryFieldNotExist)
		// Unknown row.
		_, err = upd(admin, `{"ID":1,"qty":7,"mi_modifyDate":"2026-01-01T00:00:00Z"}`)
		wantCode(t, err, store.CodeUpdateRecNotFound)
		// Forged system attributes.
		_, err = upd(admin, fmt.Sprintf(`{"ID":%d,"mi_createDate":"2020-01-01","mi_modifyDate":%q}`, id, newToken.Format(time.RFC3339Nano)))
		wantCode(t, err, store.CodeInvalidData)
		if got := a.rows(t, admin, fmt.Sprintf(`[{"entity":"tst_doc","method":"select","fieldList":["qty"],"ID":%d}]`, id))[0]["qty"]; got != int64(6) {
			t.Fatalf("qty = %v after failed updates, want 6", got)
		}
	})
}

// TestConcurrentUpdatesOfOneRow: writers that read the same token race; exactly one wins
// and the rest get errCode 25, and no update is lost.
func TestConcurrentUpdatesOfOneRow(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newApp(t, d)
		ins := a.rows(t, admin, `[{"entity":"tst_doc","method":"insert","fieldList":["ID","mi_modifyDate"],"execParams":{"code":"R1","qty":0}}]`)[0]
		id, token := ins["ID"].(int64), ins["mi_modifyDate"].(time.Time).Format(time.RFC3339Nano)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				reqs, _ := ubql.DecodeBatch(fmt.Appendf(nil, `[{"entity":"tst_doc","method":"update","execParams":{"ID":%d,"qty":%d,"mi_modifyDate":%q}}]`, id, i+1, token))
				_, errs[i] = a.Run(context.Background(), admin, reqs)
			}()
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			if err == nil {
				if won >= 0 {
					t.Fatalf("writers %d and %d both won", won, i)
				}
				won = i
				continue
			}
			wantCode(t, err, store.CodeRecordModified)
		}
		if won < 0 {
			t.Fatal("no writer won")
		}
		if got := a.rows(t, admin, fmt.Sprintf(`[{"entity":"tst_doc","method":"select","fieldList":["qty"],"ID":%d}]`, id))[0]["qty"]; got != int64(won+1) {
			t.Fatalf("qty = %v, want the winner's %d", got, won+1)
		}
	})
}

func TestSafeDeleteAndCascade(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newApp(t, d)
		doc := a.mustRun(t, admin, `[{"entity":"tst_doc","method":"insert","execParams":{"code":"S1"}}]`)[0].Request.ExecParams["ID"].(int64)
		line := a.mustRun(t, admin, fmt.Sprintf(`[{"entity":"tst_line","method":"insert","execParams":{"doc":%d,"note":"l"}}]`, doc))[0].Request.ExecParams["ID"].(int64)
		a.mustRun(t, admin, fmt.Sprintf(`[{"entity":"tst_subline","method":"insert","execParams":{"line":%d}}]`, line))
		a.clock.Add(time.Minute)
		out := a.mustRun(t, admin, fmt.Sprintf(`[{"entity":"tst_doc","method":"delete","execParams":{"ID":%d}}]`, doc))
		if out[0].Request.ID == nil || *out[0].Request.ID != doc {
			t.Fatal("delete does not echo the ID")
		}
		count := func(body string) int { return len(a.rows(t, admin, body)) }
		if n := count(`[{"entity":"tst_doc","method":"select","fieldList":["ID"]}]`); n != 0 {
			t.Fatalf("a safe-deleted row is visible (%d)", n)
		}
		rows := a.rows(t, admin, `[{"entity":"tst_doc","method":"select","fieldList":["ID","mi_deleteDate","mi_deleteUser"],"__allowSelectSafeDeleted":true}]`)
		if len(rows) != 1 || !rows[0]["mi_deleteDate"].(time.Time).Equal(a.clock.Now()) || rows[0]["mi_deleteUser"] != store.UserAdmin {
			t.Fatalf("__allowSelectSafeDeleted: %v", rows)
		}
		if n := count(fmt.Sprintf(`[{"entity":"tst_doc","method":"select","fieldList":["ID"],"ID":%d}]`, doc)); n != 1 {
			t.Fatal("select by top-level ID must see a deleted row")
		}
		if n := count(`[{"entity":"tst_line","method":"select","fieldList":["ID"]}]`) + count(`[{"entity":"tst_subline","method":"select","fieldList":["ID"]}]`); n != 0 {
			t.Fatalf("cascade left %d rows", n)
		}
		_, err := a.run(t, admin, fmt.Sprintf(`[{"entity":"tst_doc","method":"delete","execParams":{"ID":%d}}]`, doc))
		wantCode(t, err, store.CodeDeleteRecNotFound)
		// A row still referenced without cascade cannot be deleted.
		cat := a.mustRun(t, admin, `[{"entity":"tst_category","method":"insert","execParams":{"name":"c"}}]`)[0].Request.ExecParams["ID"].(int64)
		a.mustRun(t, admin, fmt.Sprintf(`[{"entity":"tst_doc","method":"insert","execParams":{"code":"S2","category":%d}}]`, cat))
		_, err = a.run(t, admin, fmt.Sprintf(`[{"entity":"tst_category","method":"delete","execParams":{"ID":%d}}]`, cat))
		wantCode(t, err, store.CodeValueUsedInAssociation)
	})
}

func TestManyAttribute(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newApp(t, d)
		var tags []int64
		for _, n := range []string{"red", "green", "blue"} {
			tags = append(tags, a.mustRun(t, admin, `[{"entity":"tst_tag","method":"insert","execParams":{"name":"`+n+`"}}]`)[0].Request.ExecParams["ID"].(int64))
		}
		row := a.rows(t, admin, fmt.Sprintf(`[{"entity":"tst_doc","method":"insert","fieldList":["ID","tags","mi_modifyDate"],"execParams":{"code":"M1","tags":"%d,%d"}}]`, tags[1], tags[0]))[0]
		if row["tags"] != fmt.Sprintf("%d,%d", tags[0], tags[1]) {
			t.Fatalf("tags = %v", row["tags"])
		}
		row = a.rows(t, admin, fmt.Sprintf(`[{"entity":"tst_doc","method":"update","fieldList":["tags"],"execParams":{"ID":%d,"tags":[%d],"mi_modifyDate":%q}}]`,
			row["ID"], tags[2], row["mi_modifyDate"].(time.Time).Format(time.RFC3339Nano)))[0]
		if row["tags"] != fmt.Sprint(tags[2]) {
			t.Fatalf("tags after update = %v", row["tags"])
		}
		// Deleting a tag in use fails; the link row refers to it.
		_, err := a.run(t, admin, fmt.Sprintf(`[{"entity":"tst_tag","method":"delete","execParams":{"ID":%d}}]`, tags[2]))
		wantCode(t, err, store.CodeValueUsedInAssociation)
	})
}

func TestMultiLanguage(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newApp(t, d)
		row := a.rows(t, adminUK, `[{"entity":"tst_doc","method":"insert","fieldList":["ID","caption","mi_modifyDate"],"execParams":{"code":"L1","caption":"Документ"}}]`)[0]
		if row["caption"] != "Документ" {
			t.Fatalf("uk caption = %v", row["caption"])
		}
		id := row["ID"].(int64)
		en := a.rows(t, admin, fmt.Sprintf(`[{"entity":"tst_doc","method":"select","fieldList":["caption"],"ID":%d}]`, id))[0]["caption"]
		if en != "Документ" {
			t.Fatalf("a row inserted in uk has no default-language value: %v", en)
		}
		a.mustRun(t, admin, fmt.Sprintf(`[{"entity":"tst_doc","method":"update","execParams":{"ID":%d,"caption":"Document","mi_modifyDate":%q}}]`, id, row["mi_modifyDate"].(time.Time).Format(time.RFC3339Nano)))
		got := func(s *store.Session) any {
			return a.rows(t, s, fmt.Sprintf(`[{"entity":"tst_doc","method":"select","fieldList":["caption"],"ID":%d}]`, id))[0]["caption"]
		}
		if got(admin) != "Document" || got(adminUK) != "Документ" {
			t.Fatalf("en %v, uk %v", got(admin), got(adminUK))
		}
	})
}

func TestAddNew(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newApp(t, d)
		row := a.rows(t, admin, `[{"entity":"tst_doc","method":"addnew","fieldList":["ID","qty","flag","code","mi_owner"],"execParams":{"code":"N1"}}]`)[0]
		if row["ID"].(int64) <= 0 || row["qty"] != int64(1) || row["flag"] != int64(0) || row["code"] != "N1" || row["mi_owner"] != store.UserAdmin {
			t.Fatalf("addnew row %v", row)
		}
		if n := len(a.rows(t, admin, `[{"entity":"tst_doc","method":"select","fieldList":["ID"]}]`)); n != 0 {
			t.Fatal("addnew stored a row")
		}
	})
}

func TestAuditTrail(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newApp(t, d)
		row := a.rows(t, admin, `[{"entity":"tst_doc","method":"insert","fieldList":["ID","mi_modifyDate"],"execParams":{"code":"A1","qty":1}}]`)[0]
		a.mustRun(t, admin, fmt.Sprintf(`[{"entity":"tst_doc","method":"update","execParams":{"ID":%d,"qty":2,"mi_modifyDate":%q}}]`, row["ID"], row["mi_modifyDate"].(time.Time).Format(time.RFC3339Nano)))
		a.mustRun(t, admin, fmt.Sprintf(`[{"entity":"tst_doc","method":"delete","execParams":{"ID":%d}}]`, row["ID"]))
		trail := a.rows(t, admin, fmt.Sprintf(`[{"entity":"uba_auditTrail","method":"select","fieldList":["actionType","actionUser","remoteIP","fromValue","toValue"],
			"whereList":{"e":{"expression":"[entityinfo_id]","condition":"equal","value":%d}},"orderList":{"0":{"expression":"ID","order":"asc"}}}]`, row["ID"]))
		if len(trail) != 3 {
			t.Fatalf("%d audit rows, want 3: %v", len(trail), trail)
		}
		for i, want := range []string{"INSERT", "UPDATE", "DELETE"} {
			if trail[i]["actionType"] != want || trail[i]["actionUser"] != store.UserAdmin || trail[i]["remoteIP"] != "10.0.0.1" {
				t.Fatalf("audit row %d: %v", i, trail[i])
			}
		}
		if !strings.Contains(trail[1]["fromValue"].(string), `"qty":1`) || !strings.Contains(trail[1]["toValue"].(string), `"qty":2`) {
			t.Fatalf("update audit values: %v", trail[1])
		}
	})
}

func TestSeedCreatesBuiltinsWithUnityParents(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newApp(t, d)
		if err := a.Seed(context.Background(), "other"); err != nil { // a second seed is a no-op
			t.Fatal(err)
		}
		users := a.rows(t, store.System, `[{"entity":"uba_user","method":"select","fieldList":["ID","name","uPasswordHashHexa"],"orderList":{"0":{"expression":"ID","order":"asc"}}}]`)
		if len(users) != 3 || users[1]["name"] != "admin" || users[1]["uPasswordHashHexa"] != store.PasswordHash("admin") {
			t.Fatalf("users %v", users)
		}
		if store.PasswordHash("admin") != "2bb7998496899acdd8137fad3a44faf96a84a03d7f230ce42e97cd17c7ae429e" {
			t.Fatal("PasswordHash differs from reference §6.5.1")
		}
		subj := a.rows(t, store.System, `[{"entity":"uba_subject","method":"select","fieldList":["ID","code","sType","mi_unityEntity"],"whereList":{"c":{"expression":"[ID]","condition":"in","value":[1,10]}},"orderList":{"0":{"expression":"ID","order":"asc"}}}]`)
		if len(subj) != 2 || subj[0]["code"] != "Admin" || subj[0]["sType"] != "R" || subj[1]["code"] != "admin" || subj[1]["mi_unityEntity"] != "uba_user" {
			t.Fatalf("unity parents %v", subj)
		}
		els := a.rows(t, store.System, `[{"entity":"uba_els","method":"select","fieldList":["ID","code","ruleRole"],"ID":200}]`)
		if len(els) != 1 || els[0]["ruleRole"] != int64(1) {
			t.Fatalf("uba_els 200: %v", els)
		}
	})
}

func TestInjectionInValuesRoundTrips(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newApp(t, d)
		for _, v := range []string{`' OR 1=1 --`, `'; DROP TABLE tst_doc;--`, `\"); --`, "NUL\u0001"} {
			row := a.rows(t, admin, `[{"entity":"tst_tag","method":"insert","fieldList":["name"],"execParams":{"name":`+mustJSON(v)+`}}]`)[0]
			if row["name"] != v {
				t.Fatalf("stored %q, read %q", v, row["name"])
			}
			got := a.rows(t, admin, `[{"entity":"tst_tag","method":"select","fieldList":["name"],"whereList":{"c":{"expression":"[name]","condition":"equal","value":`+mustJSON(v)+`}}}]`)
			if len(got) != 1 {
				t.Fatalf("select by %q found %d rows", v, len(got))
			}
		}
		if n := len(a.rows(t, admin, `[{"entity":"tst_doc","method":"select","fieldList":["ID"]}]`)); n != 0 {
			t.Fatal("tst_doc changed")
		}
	})
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestSafeDeleteInSubqueries: a deleted row does not satisfy an exists subquery either.
func TestSafeDeleteInSubqueries(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newApp(t, d)
		cat := a.mustRun(t, admin, `[{"entity":"tst_category","method":"insert","execParams":{"name":"c"}}]`)[0].Request.ExecParams["ID"].(int64)
		doc := a.mustRun(t, admin, fmt.Sprintf(`[{"entity":"tst_doc","method":"insert","execParams":{"code":"Q1","category":%d}}]`, cat))[0].Request.ExecParams["ID"].(int64)
		used := `[{"entity":"tst_category","method":"select","fieldList":["ID"],"whereList":{"used":{"expression":"","condition":"subquery","subQueryType":"exists",
			"value":{"entity":"tst_doc","method":"select","fieldList":["ID"],"whereList":{"corr":{"expression":"[category] = [{master}.ID]","condition":"custom"}}}}}}]`
		if n := len(a.rows(t, admin, used)); n != 1 {
			t.Fatalf("%d used categories before the delete, want 1", n)
		}
		a.mustRun(t, admin, fmt.Sprintf(`[{"entity":"tst_doc","method":"delete","execParams":{"ID":%d}}]`, doc))
		if n := len(a.rows(t, admin, used)); n != 0 {
			t.Fatalf("a deleted document still makes its category used (%d)", n)
		}
	})
}

// A password hash must not reach uba_auditTrail: restrictions S "Nobody" keep it out of the
// audited values of inserts and updates.
func TestAuditTrailOmitsSecrets(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newApp(t, d)
		hash := store.PasswordHash("s3cret-pass")
		a.mustRun(t, store.System, `[{"entity":"uba_user","method":"insert","execParams":{"ID":5000,"name":"auditee","fullName":"Auditee","uPasswordHashHexa":"`+hash+`"}}]`)
		a.mustRun(t, store.System, `[{"entity":"uba_user","method":"update","execParams":{"ID":5000,"firstName":"A","uPasswordHashHexa":"`+store.PasswordHash("other")+`"}}]`)
		trail := a.rows(t, store.System, `[{"entity":"uba_auditTrail","method":"select","fieldList":["actionType","fromValue","toValue"],"whereList":{"e":{"expression":"[entityinfo_id]","condition":"equal","value":5000}}}]`)
		if len(trail) < 2 {
			t.Fatalf("want audit rows of the insert and the update, got %v", trail)
		}
		for _, r := range trail {
			for _, col := range []string{"fromValue", "toValue"} {
				v, _ := r[col].(string)
				if strings.Contains(v, "uPasswordHashHexa") || strings.Contains(v, hash) {
					t.Fatalf("%s of %s holds the password hash: %s", col, r["actionType"], v)
				}
			}
		}
		if !strings.Contains(trail[len(trail)-1]["toValue"].(string), `"firstName":"A"`) {
			t.Fatalf("the update's other values are still audited: %v", trail)
		}
	})
}

// Selects outside a transaction wait for a place on the read pool in arrival order
// (Conn.EnterRead): with every place taken a select waits, fails with 503 when its
// context ends, and runs once a place frees; a select inside the Tx's own transaction
// needs no place.
func TestSelectWaitsForTheReadGate(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		a := newApp(t, d)
		c := a.Default()
		full, stop := context.WithCancel(context.Background())
		stop()
		taken := 0
		for c.EnterRead(full) == nil { // takes free places only: it cannot wait
			taken++
		}
		if taken == 0 {
			t.Fatal("the read gate took nobody")
		}
		sel := func(tx *store.Tx, timeout time.Duration) error {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			_, err := tx.Do(ctx, &ubql.Request{Entity: "tst_doc", Method: "select", FieldList: []string{"ID"}})
			return err
		}
		tx := a.Begin(admin)
		defer tx.Rollback()
		err := sel(tx, 50*time.Millisecond)
		var se *store.Error
		if !errors.As(err, &se) || se.Status != http.StatusServiceUnavailable {
			t.Fatalf("a select with the read pool taken: %v, want a 503 store error", err)
		}
		c.LeaveRead()
		taken--
		if err := sel(tx, time.Minute); err != nil {
			t.Fatalf("a select once a place is free: %v", err)
		}
		if err := c.EnterRead(full); err != nil { // all taken again
			t.Fatal(err)
		}
		taken++
		if _, err := tx.Do(context.Background(), &ubql.Request{Entity: "tst_doc", Method: "insert", ExecParams: map[string]any{"code": "G1"}}); err != nil {
			t.Fatal(err)
		}
		if err := sel(tx, 50*time.Millisecond); err != nil {
			t.Fatalf("a select inside the Tx's transaction: %v", err)
		}
		for range taken {
			c.LeaveRead()
		}
	})
}
