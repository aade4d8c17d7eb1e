package store_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/internal/boot"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/storetest"
	"github.com/ubgo/ubgo/ubql"
)

// restrictApp is testdata/restrict on a fresh database of dialect d: rst_doc has row-level
// security (whose function the tests give as a Go store.RowFilter) and restricted
// attributes.
func restrictApp(t *testing.T, d string) *store.Store {
	t.Helper()
	db := storetest.Connection(t, d).DatabaseName
	env := map[string]string{"TST_DRIVER": d, "TST_DB": db}
	ctx := context.Background()
	a, err := boot.Load(ctx, boot.Options{ConfigFile: "testdata/restrict/ubconfig.json", Logger: quiet,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, a.Config, a.Domain, store.Options{Create: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Init(ctx, store.InitOptions{AdminPassword: "admin"}); err != nil {
		t.Fatal(err)
	}
	return st
}

var (
	clerk      = &store.Session{UserID: store.UserAdmin, UserName: "clerk", External: true, RoleNames: []string{"Everyone", "User"}}
	supervisor = &store.Session{UserID: store.UserAdmin, UserName: "sup", External: true, RoleNames: []string{"Everyone", "User", "Supervisor"}}
	server     = &store.Session{UserID: store.UserAdmin, UserName: "server"}
	rootClient = &store.Session{UserID: store.UserRoot, UserName: "root", External: true}
)

// ownerFilter is a row filter as an rls function would compute it: the rows whose code
// starts with the user's name, or shared ones.
func ownerFilter(calls *int) store.RowFilter {
	return func(_ context.Context, tx *store.Tx, _ *domain.Entity, req *ubql.Request) (*ubql.Request, error) {
		*calls++
		if len(req.WhereList) != 0 || len(req.LogicalPredicates) != 0 {
			return nil, errors.New("the filter was given the client's conditions")
		}
		out := *req
		out.WhereList = []ubql.WhereItem{
			{Name: "mine", Expression: "[code]", Condition: ubql.StartWith, Value: tx.Session().UserName, HasValue: true},
			{Name: "shared", Expression: "[code]", Condition: ubql.Equal, Value: "shared", HasValue: true},
		}
		out.LogicalPredicates = []string{"([mine]) OR ([shared])"}
		return &out, nil
	}
}

func runOne(ctx context.Context, st *store.Store, sess *store.Session, js string) (*ubql.Response, error) {
	r, err := ubql.DecodeRequest([]byte(js))
	if err != nil {
		return nil, err
	}
	tx := st.Begin(sess)
	defer tx.Rollback()
	resp, err := tx.Do(ctx, r)
	if err != nil {
		return nil, err
	}
	return resp, tx.Commit()
}

func codes(resp *ubql.Response) []string {
	var out []string
	col := -1
	for i, f := range resp.ResultData.Fields {
		if f == "code" {
			col = i
		}
	}
	for _, r := range resp.ResultData.Data {
		out = append(out, r[col].(string))
	}
	return out
}

func TestRowLevelSecurity(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			st := restrictApp(t, d)
			bg := context.Background()
			for i, code := range []string{"clerk-1", "other-1", "shared"} {
				if _, err := runOne(bg, st, store.System, `{"entity":"rst_doc","method":"insert","execParams":{"ID":`+string(rune('1'+i))+`,"code":"`+code+`"}}`); err != nil {
					t.Fatal(err)
				}
			}
			sel := `{"entity":"rst_doc","method":"select","fieldList":["ID","code"],"orderList":[{"expression":"code","order":"asc"}]}`

			// Without the runtime's filter a select of an rls entity fails: never unfiltered rows.
			_, err := runOne(bg, st, clerk, sel)
			if se, ok := errors.AsType[*store.Error](err); !ok || se.Status != http.StatusInternalServerError {
				t.Fatalf("select without a row filter: %v", err)
			}

			calls := 0
			ctx := store.WithRowFilter(bg, ownerFilter(&calls))
			resp, err := runOne(ctx, st, clerk, sel)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(codes(resp), ","); got != "clerk-1,shared" || calls != 1 {
				t.Fatalf("filtered select: %s (filter called %d times)", got, calls)
			}
			// The response echoes the client's request, not the filter's conditions.
			if len(resp.Request.WhereList) != 0 {
				t.Errorf("the echo carries the filter's conditions: %+v", resp.Request.WhereList)
			}
			// The client's own conditions still apply, ANDed with the filter.
			resp, err = runOne(ctx, st, clerk, `{"entity":"rst_doc","method":"select","fieldList":["ID","code"],
				"whereList":{"mine":{"expression":"[code]","condition":"equal","value":"shared"}}}`)
			if err != nil || strings.Join(codes(resp), ",") != "shared" {
				t.Fatalf("a client item named like a filter item: %v %v", err, resp)
			}
			// A client predicate cannot reach the filter's items to OR them away...
			_, err = runOne(ctx, st, clerk, `{"entity":"rst_doc","method":"select","fieldList":["ID","code"],
				"whereList":{"all":{"expression":"[ID]","condition":"more","value":0}},"logicalPredicates":["([mine]) OR ([all])"]}`)
			if qe, ok := errors.AsType[*ubql.Error](err); !ok || qe.Code != ubql.CodeInvalidWhereList {
				t.Fatalf("a client predicate over the filter's item: %v", err)
			}
			// ... nor name them in their namespace, in a predicate or joinAs.
			for _, bad := range []string{
				`"whereList":{"__ubgoRLS_x":{"expression":"[ID]","condition":"more","value":0}}`,
				`"whereList":{"all":{"expression":"[ID]","condition":"more","value":0}},"logicalPredicates":["([__ubgoRLS_mine]) OR ([all])"]`,
				`"whereList":{"all":{"expression":"[parentID.code]","condition":"equal","value":"x"}},"joinAs":["__ubgoRLS_mine"]`,
			} {
				_, err = runOne(ctx, st, clerk, `{"entity":"rst_doc","method":"select","fieldList":["ID"],`+bad+`}`)
				if se, ok := errors.AsType[*store.Error](err); !ok || se.Status != http.StatusBadRequest {
					t.Errorf("%s: %v", bad, err)
				}
			}
			// A client's __skipRls is ignored; server code's is honoured.
			resp, err = runOne(ctx, st, clerk, `{"entity":"rst_doc","method":"select","fieldList":["ID","code"],"__skipRls":true}`)
			if err != nil || len(resp.ResultData.Data) != 2 {
				t.Fatalf("client __skipRls: %v %v", err, resp)
			}
			resp, err = runOne(bg, st, server, `{"entity":"rst_doc","method":"select","fieldList":["ID","code"],"__skipRls":true}`)
			if err != nil || len(resp.ResultData.Data) != 3 {
				t.Fatalf("server __skipRls: %v %v", err, resp)
			}
			// Update and delete of an invisible row: the error of a missing row; visible rows work.
			_, err = runOne(ctx, st, clerk, `{"entity":"rst_doc","method":"update","execParams":{"ID":2,"code":"clerk-stolen"},"__skipOptimisticLock":true}`)
			if se, ok := errors.AsType[*store.Error](err); !ok || se.Code != store.CodeUpdateRecNotFound {
				t.Fatalf("update of an invisible row: %v", err)
			}
			_, err = runOne(ctx, st, clerk, `{"entity":"rst_doc","method":"delete","execParams":{"ID":2}}`)
			if se, ok := errors.AsType[*store.Error](err); !ok || se.Code != store.CodeDeleteRecNotFound {
				t.Fatalf("delete of an invisible row: %v", err)
			}
			if _, err = runOne(ctx, st, clerk, `{"entity":"rst_doc","method":"delete","execParams":{"ID":1}}`); err != nil {
				t.Fatalf("delete of a visible row: %v", err)
			}
			resp, _ = runOne(bg, st, server, `{"entity":"rst_doc","method":"select","fieldList":["ID","code"],"__skipRls":true,"orderList":[{"expression":"code","order":"asc"}]}`)
			if got := strings.Join(codes(resp), ","); got != "other-1,shared" {
				t.Fatalf("rows left: %s", got)
			}
			// A filter error fails the call.
			failing := store.WithRowFilter(bg, func(context.Context, *store.Tx, *domain.Entity, *ubql.Request) (*ubql.Request, error) {
				return nil, errors.New("rls failed")
			})
			if _, err := runOne(failing, st, clerk, sel); err == nil || !strings.Contains(err.Error(), "rls failed") {
				t.Fatalf("a failing filter: %v", err)
			}
			// A filter predicate naming a condition it did not add is refused.
			sneaky := store.WithRowFilter(bg, func(_ context.Context, _ *store.Tx, _ *domain.Entity, req *ubql.Request) (*ubql.Request, error) {
				out := *req
				out.WhereList = []ubql.WhereItem{{Name: "a", Expression: "[ID]", Condition: ubql.Equal, Value: int64(1), HasValue: true}}
				out.LogicalPredicates = []string{"([a]) OR ([clientItem])"}
				return &out, nil
			})
			if _, err := runOne(sneaky, st, clerk, sel); err == nil {
				t.Fatal("a filter predicate over a condition it did not add was accepted")
			}
		})
	}
}

func TestAttributeRestrictions(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			st := restrictApp(t, d)
			bg := context.Background()
			all := store.WithRowFilter(bg, func(_ context.Context, _ *store.Tx, _ *domain.Entity, req *ubql.Request) (*ubql.Request, error) {
				return req, nil
			})
			if _, err := runOne(all, st, store.System, `{"entity":"rst_doc","method":"insert","execParams":{"ID":1,"code":"c1","secret":"s3cr3t","pin":"1234","odd":"o"}}`); err != nil {
				t.Fatal(err)
			}
			if _, err := runOne(all, st, store.System, `{"entity":"rst_plain","method":"insert","execParams":{"ID":5,"code":"p","docID":1}}`); err != nil {
				t.Fatal(err)
			}
			denied := func(t *testing.T, err error) {
				t.Helper()
				se, ok := errors.AsType[*store.Error](err)
				if !ok || se.Code != store.CodeAccessDeny || se.Status != http.StatusForbidden || se.ClientMessage() != "Access deny" || !errors.Is(err, store.ErrAccessDeny) {
					t.Fatalf("err = %v, want an access denial", err)
				}
				if v, ok := errors.AsType[*store.SecurityViolation](err); !ok || v.Reason == "" {
					t.Fatalf("err = %v carries no SecurityViolation", err)
				}
			}
			tests := []struct {
				name string
				sess *store.Session
				req  string
				ok   bool
				want map[string]any // field → value of the first row
			}{
				{"replaceBy literal with a quote", clerk, `{"entity":"rst_doc","method":"select","fieldList":["ID","[secret]"]}`, true, map[string]any{"[secret]": "it's hidden"}},
				{"Supervisor reads", supervisor, `{"entity":"rst_doc","method":"select","fieldList":["ID","secret"]}`, true, map[string]any{"secret": "s3cr3t"}},
				{"server code reads", server, `{"entity":"rst_doc","method":"select","fieldList":["ID","secret","pin"]}`, true, map[string]any{"pin": "1234"}},
				{"root reads", rootClient, `{"entity":"rst_doc","method":"select","fieldList":["ID","pin"]}`, true, map[string]any{"pin": "1234"}},
				{"Nobody", supervisor, `{"entity":"rst_doc","method":"select","fieldList":["ID","pin"]}`, false, nil},
				{"a replaceBy that is no literal is a refusal", clerk, `{"entity":"rst_doc","method":"select","fieldList":["odd"]}`, false, nil},
				{"computed column", clerk, `{"entity":"rst_doc","method":"select","fieldList":["ID","UPPER([secret])"]}`, false, nil},
				{"star", clerk, `{"entity":"rst_doc","method":"select","fieldList":["*"]}`, false, nil},
				{"through an association", clerk, `{"entity":"rst_plain","method":"select","fieldList":["ID","docID.secret"]}`, true, map[string]any{"docID.secret": "it's hidden"}},
				{"through an association, Nobody", supervisor, `{"entity":"rst_plain","method":"select","fieldList":["ID","docID.pin"]}`, false, nil},
				{"order by", clerk, `{"entity":"rst_doc","method":"select","fieldList":["ID"],"orderList":[{"expression":"secret","order":"asc"}]}`, false, nil},
				{"group by", clerk, `{"entity":"rst_doc","method":"select","fieldList":["ID"],"groupList":["secret","ID"]}`, false, nil},
				{"subquery", clerk, `{"entity":"rst_plain","method":"select","fieldList":["ID"],"whereList":{"s":{"expression":"[docID]","condition":"subquery","subQueryType":"in",
					"value":{"entity":"rst_doc","method":"select","fieldList":["ID"],"whereList":{"x":{"expression":"[secret]","condition":"startWith","value":"s"}}}}}}`, false, nil},
				{"subquery field", clerk, `{"entity":"rst_plain","method":"select","fieldList":["ID"],"whereList":{"s":{"expression":"[code]","condition":"subquery","subQueryType":"in",
					"value":{"entity":"rst_doc","method":"select","fieldList":["secret"]}}}}`, false, nil},
				{"insert", clerk, `{"entity":"rst_doc","method":"insert","execParams":{"code":"n","secret":"x"}}`, false, nil},
				{"insert by Supervisor", supervisor, `{"entity":"rst_doc","method":"insert","execParams":{"code":"n2","secret":"x"}}`, true, nil},
				{"update", clerk, `{"entity":"rst_doc","method":"update","execParams":{"ID":1,"secret":"x"}}`, false, nil},
				{"update Nobody", supervisor, `{"entity":"rst_doc","method":"update","execParams":{"ID":1,"pin":"x"}}`, false, nil},
				{"insert read-back", clerk, `{"entity":"rst_plain","method":"insert","fieldList":["ID","docID.secret"],"execParams":{"ID":6,"docID":1}}`, true, map[string]any{"docID.secret": "it's hidden"}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r, err := ubql.DecodeRequest([]byte(tt.req))
					if err != nil {
						t.Fatal(err)
					}
					pre := st.CheckRestrictions(tt.sess, r)
					resp, err := runOne(all, st, tt.sess, tt.req)
					if !tt.ok {
						denied(t, err)
						denied(t, pre)
						return
					}
					if err != nil || pre != nil {
						t.Fatalf("err %v, CheckRestrictions %v", err, pre)
					}
					for f, v := range tt.want {
						i := -1
						for k, name := range resp.ResultData.Fields {
							if name == f {
								i = k
							}
						}
						if i < 0 || resp.ResultData.Data[0][i] != v {
							t.Errorf("%s = %v, want %v", f, resp.ResultData.Data, v)
						}
					}
				})
			}
			// Nothing the refused writes tried reached the database.
			resp, err := runOne(all, st, store.System, `{"entity":"rst_doc","method":"select","fieldList":["code","secret","pin"],"ID":1}`)
			if err != nil || resp.ResultData.Data[0][1] != "s3cr3t" || resp.ResultData.Data[0][2] != "1234" {
				t.Fatalf("row 1 after the refused writes: %v %v", err, resp.ResultData)
			}
		})
	}
}
