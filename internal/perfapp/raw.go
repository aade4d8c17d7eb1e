package perfapp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ubgo/ubgo/server"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/store/dialect"
)

// ID ranges of rows the raw handlers and prep write to tst_item. The store's ID generator
// issues IDs below 1.5e12 per client number (seq_ubmain), so these never meet the IDs of
// UBQL inserts.
const (
	PrepIDBase int64 = 500_000_000_000_000 // prep: rows for the update and delete runs
	RawIDBase  int64 = 700_000_000_000_000 // raw inserts
	idRangeEnd int64 = 900_000_000_000_000
)

// PrepToken is the mi_modifyDate of every row prep adds: the optimistic lock token that the
// update runs send.
var PrepToken = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// PrepTokenText is PrepToken as clients send it.
const PrepTokenText = "2020-01-01T00:00:00.000Z"

// MaxPrep bounds one prep request.
const MaxPrep = 5_000_000

// rawHandlers answer /_perf/...: hand-written SQL on the store's connection, statements
// prepared once. They are what a developer would write without ubgo, so they skip what
// ubgo adds: metadata, UBQL, the generic row scan, the UB response format.
type rawHandlers struct {
	conn *store.Conn // nil when the perf model is absent: only json answers

	byID, list20, fortunes *sql.Stmt // on conn.Read
	insert, update, delete *sql.Stmt // on conn.Write, autocommit

	nextID  atomic.Int64
	prepMu  sync.Mutex
	insertQ string
}

func newRaw(st *store.Store) (*rawHandlers, error) {
	c := st.ConnOf(st.Domain.Entity(WorldEntity))
	d := c.Dialect
	// Numbered placeholders on both dialects (SQLite's ?NNN), so that a value can be used twice.
	p := func(n int) string {
		if d.Name() == dialect.PostgreSQL {
			return "$" + strconv.Itoa(n)
		}
		return "?" + strconv.Itoa(n)
	}
	h := &rawHandlers{conn: c}
	ctx := context.Background()
	var prepErr error
	prep := func(db *sql.DB, q string) *sql.Stmt {
		if prepErr != nil {
			return nil
		}
		s, err := db.PrepareContext(ctx, q)
		if err != nil {
			prepErr = fmt.Errorf("perfapp: prepare %q (is the perf database migrated? run the loader): %w", q, err)
		}
		return s
	}
	h.byID = prep(c.Read, "SELECT ID, randomNumber FROM tst_world WHERE ID = "+p(1))
	h.list20 = prep(c.Read, "SELECT ID, randomNumber FROM tst_world WHERE ID >= "+p(1)+" ORDER BY ID LIMIT 20")
	h.fortunes = prep(c.Read, "SELECT ID, message FROM tst_fortune")
	h.insert = prep(c.Write, "INSERT INTO tst_item (ID, code, caption, qty, mi_owner, mi_createDate, mi_createUser, mi_modifyDate, mi_modifyUser) VALUES ("+
		p(1)+", "+p(2)+", "+p(3)+", "+p(4)+", "+p(5)+", "+p(6)+", "+p(5)+", "+p(6)+", "+p(5)+")")
	h.update = prep(c.Write, "UPDATE tst_item SET qty = "+p(1)+", mi_modifyDate = "+p(2)+", mi_modifyUser = "+p(3)+
		" WHERE ID = "+p(4)+" AND mi_modifyDate = "+p(5))
	h.delete = prep(c.Write, "DELETE FROM tst_item WHERE ID = "+p(1))
	if prepErr != nil {
		h.close()
		return nil, prepErr
	}
	last, err := maxID(ctx, c, RawIDBase, idRangeEnd)
	if err != nil {
		h.close()
		return nil, err
	}
	h.nextID.Store(max(last, RawIDBase-1))
	if d.Name() == dialect.PostgreSQL {
		h.insertQ = "INSERT INTO tst_item (ID, code, caption, qty, mi_owner, mi_createDate, mi_createUser, mi_modifyDate, mi_modifyUser) " +
			"SELECT g, 'P' || g, 'prepared', 0, $1, $2, $1, $2, $1 FROM generate_series($3::bigint, $4::bigint) AS g"
	} else {
		h.insertQ = "WITH RECURSIVE s(g) AS (SELECT ? UNION ALL SELECT g + 1 FROM s WHERE g < ?) " +
			"INSERT INTO tst_item (ID, code, caption, qty, mi_owner, mi_createDate, mi_createUser, mi_modifyDate, mi_modifyUser) " +
			"SELECT g, 'P' || g, 'prepared', 0, ?, ?, ?, ?, ? FROM s"
	}
	return h, nil
}

func (h *rawHandlers) close() {
	for _, s := range []*sql.Stmt{h.byID, h.list20, h.fortunes, h.insert, h.update, h.delete} {
		if s != nil {
			s.Close()
		}
	}
}

// maxID is the largest tst_item ID in [from, to), or from-1.
func maxID(ctx context.Context, c *store.Conn, from, to int64) (int64, error) {
	var n sql.NullInt64
	q := "SELECT MAX(ID) FROM tst_item WHERE ID >= " + c.Dialect.Placeholder(1) + " AND ID < " + c.Dialect.Placeholder(2)
	if err := c.Write.QueryRowContext(ctx, q, from, to).Scan(&n); err != nil {
		return 0, fmt.Errorf("perfapp: read the largest tst_item ID: %w", err)
	}
	if !n.Valid {
		return from - 1, nil
	}
	return n.Int64, nil
}

var helloWorld = []byte(`{"message":"Hello, World!"}`)

func (h *rawHandlers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest := server.Rest(r)
	if rest == "json" {
		if requireGET(w, r) {
			writeJSON(w, helloWorld)
		}
		return
	}
	if h.conn == nil {
		server.WriteErr(w, r, notFound("the perf model (perf/models/tst) is not in this application"))
		return
	}
	switch rest {
	case "raw/byid":
		h.serveByID(w, r)
	case "raw/list20":
		h.serveList20(w, r)
	case "raw/queries":
		h.serveQueries(w, r)
	case "raw/fortunes":
		h.serveFortunes(w, r)
	case "raw/insert":
		h.serveInsert(w, r)
	case "raw/update":
		h.serveUpdate(w, r)
	case "raw/delete":
		h.serveDelete(w, r)
	case "prep":
		h.servePrep(w, r)
	default:
		server.WriteErr(w, r, notFound("no perf scenario "+strconv.Quote(rest)))
	}
}

// read runs one query on the read pool as the store does: admitted through the
// connection's read gate (store.Conn.EnterRead).
func (h *rawHandlers) read(r *http.Request, query func() error) error {
	if err := h.conn.EnterRead(r.Context()); err != nil {
		return err
	}
	defer h.conn.LeaveRead()
	return query()
}

func (h *rawHandlers) serveByID(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ID int64 `json:"id"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	var id, n int64
	err := h.read(r, func() error { return h.byID.QueryRowContext(r.Context(), in.ID).Scan(&id, &n) })
	if errors.Is(err, sql.ErrNoRows) {
		server.WriteErr(w, r, notFound("no world "+strconv.FormatInt(in.ID, 10)))
		return
	}
	if err != nil {
		server.WriteErr(w, r, dbError("select a world", err))
		return
	}
	writeJSON(w, appendWorld(make([]byte, 0, 48), id, n))
}

func (h *rawHandlers) serveList20(w http.ResponseWriter, r *http.Request) {
	var in struct {
		From int64 `json:"from"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	b := make([]byte, 0, 20*40)
	b = append(b, '[')
	err := h.read(r, func() error {
		rows, err := h.list20.QueryContext(r.Context(), in.From)
		if err != nil {
			return err
		}
		defer rows.Close()
		first := true
		for rows.Next() {
			var id, n int64
			if err := rows.Scan(&id, &n); err != nil {
				return err
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendWorld(b, id, n)
		}
		return rows.Err()
	})
	if err != nil {
		server.WriteErr(w, r, dbError("list worlds", err))
		return
	}
	writeJSON(w, append(b, ']'))
}

func (h *rawHandlers) serveQueries(w http.ResponseWriter, r *http.Request) {
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
	b := make([]byte, 0, len(in.IDs)*40)
	b = append(b, '[')
	for i, want := range in.IDs {
		var id, n int64
		err := h.read(r, func() error { return h.byID.QueryRowContext(r.Context(), want).Scan(&id, &n) })
		if i > 0 {
			b = append(b, ',')
		}
		switch {
		case errors.Is(err, sql.ErrNoRows):
			b = append(b, "null"...) // what JSON.stringify writes for a missing selectById row
			continue
		case err != nil:
			server.WriteErr(w, r, dbError("select a world", err))
			return
		}
		b = appendWorld(b, id, n)
	}
	writeJSON(w, append(b, ']'))
}

func (h *rawHandlers) serveFortunes(w http.ResponseWriter, r *http.Request) {
	if !requireGET(w, r) {
		return
	}
	list := make([]Fortune, 0, 16)
	err := h.read(r, func() error {
		rows, err := h.fortunes.QueryContext(r.Context())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var f Fortune
			if err := rows.Scan(&f.ID, &f.Message); err != nil {
				return err
			}
			list = append(list, f)
		}
		return rows.Err()
	})
	if err != nil {
		server.WriteErr(w, r, dbError("select fortunes", err))
		return
	}
	writeHTML(w, renderFortunes(make([]byte, 0, 2048), list))
}

// itemIn is the body of insert: the tst_item values a client sets.
type itemIn struct {
	Code    string `json:"code"`
	Caption string `json:"caption"`
	Qty     int64  `json:"qty"`
}

func (h *rawHandlers) serveInsert(w http.ResponseWriter, r *http.Request) {
	var in itemIn
	if !readJSON(w, r, &in) {
		return
	}
	if in.Code == "" || len(in.Code) > 32 || len(in.Caption) > 128 || in.Qty != int64(int32(in.Qty)) {
		server.WriteErr(w, r, badRequest("code (1 to 32 characters), caption (at most 128) and qty (an int32) are required"))
		return
	}
	id := h.nextID.Add(1)
	if id >= idRangeEnd {
		server.WriteErr(w, r, &server.Error{Status: http.StatusInsufficientStorage, Detail: "raw insert ID range exhausted"})
		return
	}
	sess := store.UserAdmin
	now := h.conn.Dialect.FormatTime(time.Now())
	var caption any = in.Caption
	if in.Caption == "" {
		caption = nil
	}
	if _, err := h.insert.ExecContext(r.Context(), id, in.Code, caption, in.Qty, sess, now); err != nil {
		server.WriteErr(w, r, dbError("insert an item", err))
		return
	}
	b := append(make([]byte, 0, 32), `{"ID":`...)
	b = strconv.AppendInt(b, id, 10)
	writeJSON(w, append(b, '}'))
}

func (h *rawHandlers) serveUpdate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ID    int64  `json:"id"`
		Qty   int64  `json:"qty"`
		Token string `json:"token"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	token, err := dialect.ParseTime(in.Token)
	if err != nil || in.Qty != int64(int32(in.Qty)) {
		server.WriteErr(w, r, badRequest("token must be the row's mi_modifyDate and qty an int32"))
		return
	}
	d := h.conn.Dialect
	next := time.Now()
	if !next.After(token) {
		next = token.Add(time.Millisecond)
	}
	res, err := h.update.ExecContext(r.Context(), in.Qty, d.FormatTime(next), store.UserAdmin, in.ID, d.FormatTime(token))
	if err != nil {
		server.WriteErr(w, r, dbError("update an item", err))
		return
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		server.WriteErr(w, r, &server.Error{Status: http.StatusConflict, Code: server.CodeInvalidData,
			Msg: "the item does not exist or was changed by another user"})
		return
	}
	b := append(make([]byte, 0, 64), `{"ID":`...)
	b = strconv.AppendInt(b, in.ID, 10)
	b = append(b, `,"mi_modifyDate":`...)
	b = appendValue(b, dialect.TruncateTime(next))
	writeJSON(w, append(b, '}'))
}

func (h *rawHandlers) serveDelete(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ID int64 `json:"id"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	res, err := h.delete.ExecContext(r.Context(), in.ID)
	if err != nil {
		server.WriteErr(w, r, dbError("delete an item", err))
		return
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		server.WriteErr(w, r, notFound("no item "+strconv.FormatInt(in.ID, 10)))
		return
	}
	b := append(make([]byte, 0, 32), `{"ID":`...)
	b = strconv.AppendInt(b, in.ID, 10)
	writeJSON(w, append(b, '}'))
}

// servePrep adds N tst_item rows with consecutive IDs and mi_modifyDate = PrepToken, for the
// update and delete runs, and answers {"from":first ID,"n":N,"token":PrepTokenText}. One
// statement does it, so a million rows take seconds, not minutes.
func (h *rawHandlers) servePrep(w http.ResponseWriter, r *http.Request) {
	if !loopback(r) {
		server.WriteErr(w, r, &server.Error{Status: http.StatusForbidden, Detail: "prep is for loopback clients only"})
		return
	}
	var in struct {
		N int64 `json:"n"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.N <= 0 || in.N > MaxPrep {
		server.WriteErr(w, r, badRequest(fmt.Sprintf("n must be 1 to %d", MaxPrep)))
		return
	}
	h.prepMu.Lock()
	defer h.prepMu.Unlock()
	ctx := r.Context()
	last, err := maxID(ctx, h.conn, PrepIDBase, RawIDBase)
	if err != nil {
		server.WriteErr(w, r, dbError("prep", err))
		return
	}
	from, to := last+1, last+in.N
	if to >= RawIDBase {
		server.WriteErr(w, r, &server.Error{Status: http.StatusInsufficientStorage, Detail: "prep ID range exhausted"})
		return
	}
	tok := h.conn.Dialect.FormatTime(PrepToken)
	user := store.UserAdmin
	var args []any
	if h.conn.Dialect.Name() == dialect.PostgreSQL {
		args = []any{user, tok, from, to}
	} else {
		args = []any{from, to, user, tok, user, tok, user}
	}
	if _, err := h.conn.Write.ExecContext(ctx, h.insertQ, args...); err != nil {
		server.WriteErr(w, r, dbError("prep", err))
		return
	}
	b := append(make([]byte, 0, 96), `{"from":`...)
	b = strconv.AppendInt(b, from, 10)
	b = append(b, `,"n":`...)
	b = strconv.AppendInt(b, in.N, 10)
	b = append(b, `,"token":"`+PrepTokenText+`"}`...)
	writeJSON(w, b)
}
