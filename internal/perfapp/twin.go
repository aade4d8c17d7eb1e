package perfapp

import (
	"context"
	"net/http"
	"strconv"

	"github.com/ubgo/ubgo/server"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/ubql"
)

// twins answer /_perfgo/<scenario>: the JavaScript endpoints of perf/models/tst/index.js
// written in Go. Like the JS endpoint they run in one store transaction as the caller, build
// the same UBQL requests the Repository builder builds (selectById is a where on [ID]), run
// them as server-side code (Tx.DoInternal, as Repository does) and write the rows as
// objects. The difference between a twin and its JS endpoint is therefore the cost of the
// JavaScript runtime: the worker hand-off, the call, the Repository objects and the
// conversion of rows to and from JS.
type twins struct {
	st *store.Store
}

var worldFields = []string{"ID", "randomNumber"}

func (t *twins) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch server.Rest(r) {
	case "json":
		if requireGET(w, r) {
			writeJSON(w, helloWorld)
		}
	case "byid":
		var in struct {
			ID int64 `json:"id"`
		}
		if readJSON(w, r, &in) {
			t.run(w, r, func(ctx context.Context, tx *store.Tx) ([]byte, error) {
				rd, err := t.selectWorld(ctx, tx, in.ID)
				if err != nil {
					return nil, err
				}
				if len(rd.Data) == 0 {
					return nil, notFound("no world " + strconv.FormatInt(in.ID, 10))
				}
				return appendObject(make([]byte, 0, 48), rd.Fields, rd.Data[0]), nil
			})
		}
	case "list20":
		var in struct {
			From int64 `json:"from"`
		}
		if readJSON(w, r, &in) {
			t.run(w, r, func(ctx context.Context, tx *store.Tx) ([]byte, error) {
				resp, err := tx.DoInternal(ctx, &ubql.Request{Entity: WorldEntity, Method: "select", FieldList: worldFields, FieldListSet: true,
					WhereList: []ubql.WhereItem{{Name: "c1", Expression: "[ID]", Condition: ubql.MoreEqual, Value: in.From, HasValue: true}},
					OrderList: []ubql.OrderItem{{Expression: "ID", Order: "asc"}},
					Options:   ubql.Options{Limit: 20, Set: true}})
				if err != nil {
					return nil, err
				}
				return appendRows(make([]byte, 0, 20*40), resp.ResultData), nil
			})
		}
	case "queries":
		var in struct {
			IDs []int64 `json:"ids"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		if err := checkIDs(in.IDs); err != nil {
			server.WriteErr(w, r, err)
			return
		}
		t.run(w, r, func(ctx context.Context, tx *store.Tx) ([]byte, error) {
			b := append(make([]byte, 0, len(in.IDs)*40), '[')
			for i, id := range in.IDs {
				rd, err := t.selectWorld(ctx, tx, id)
				if err != nil {
					return nil, err
				}
				if i > 0 {
					b = append(b, ',')
				}
				if len(rd.Data) == 0 {
					b = append(b, "null"...)
					continue
				}
				b = appendObject(b, rd.Fields, rd.Data[0])
			}
			return append(b, ']'), nil
		})
	case "fortunes":
		if !requireGET(w, r) {
			return
		}
		t.run(w, r, func(ctx context.Context, tx *store.Tx) ([]byte, error) {
			resp, err := tx.DoInternal(ctx, &ubql.Request{Entity: FortuneEntity, Method: "select",
				FieldList: []string{"ID", "message"}, FieldListSet: true})
			if err != nil {
				return nil, err
			}
			list := make([]Fortune, 0, len(resp.ResultData.Data)+1)
			for _, row := range resp.ResultData.Data {
				id, _ := row[0].(int64)
				msg, _ := row[1].(string)
				list = append(list, Fortune{ID: id, Message: msg})
			}
			return renderFortunes(make([]byte, 0, 2048), list), nil
		})
	default:
		server.WriteErr(w, r, notFound("no perf scenario "+strconv.Quote(server.Rest(r))))
	}
}

// selectWorld is Repository('tst_world').attrs('ID', 'randomNumber').selectById(id).
func (t *twins) selectWorld(ctx context.Context, tx *store.Tx, id int64) (*ubql.ResultData, error) {
	resp, err := tx.DoInternal(ctx, &ubql.Request{Entity: WorldEntity, Method: "select", FieldList: worldFields, FieldListSet: true,
		WhereList: []ubql.WhereItem{{Name: "c1", Expression: "[ID]", Condition: ubql.Equal, Value: id, HasValue: true}}})
	if err != nil {
		return nil, err
	}
	return resp.ResultData, nil
}

// run runs fn in a transaction of the request's session, as the server runs a JS endpoint,
// and writes what it returns: HTML for fortunes, JSON otherwise.
func (t *twins) run(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context, tx *store.Tx) ([]byte, error)) {
	tx := t.st.Begin(server.Session(r))
	defer tx.Rollback()
	body, err := fn(r.Context(), tx)
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		server.WriteErr(w, r, err)
		return
	}
	if server.Rest(r) == "fortunes" {
		writeHTML(w, body)
		return
	}
	writeJSON(w, body)
}

// appendRows appends a result as an array of objects (selectAsObject).
func appendRows(b []byte, rd *ubql.ResultData) []byte {
	b = append(b, '[')
	for i, row := range rd.Data {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendObject(b, rd.Fields, row)
	}
	return append(b, ']')
}
