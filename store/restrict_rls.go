package store

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/ubql"
)

// Row-level security (the rls mixin, reference §6.4): before every select of an entity
// with the mixin, a function of the models' JavaScript adds conditions (whereList items
// and logicalPredicates) that limit the rows the session may see; an update or delete
// first selects the row through the same conditions, so a row the session cannot see
// can be neither read nor changed ("Record not found or access denied", like a row that
// does not exist). Server-side code may skip it with __skipRls; a client cannot.
//
// The store evaluates nothing itself: the JavaScript runtime passes a RowFilter in the
// context of the calls it makes (WithRowFilter). A select of an rls entity without one
// fails rather than return unfiltered rows.
//
// The filter's conditions are kept apart from the client's: the function gets the
// request without the client's whereList, logicalPredicates and joinAs, its items are
// renamed into a reserved namespace ("__ubgoRLS_..."), and a client request that uses
// that namespace is refused, so a client predicate or joinAs cannot capture an RLS item
// and weaken it.

// RowFilter computes the row-level security conditions of a select of e: it returns req
// with the where items and logical predicates the entity's rls function added. req is a
// copy the filter may change; its whereList and logicalPredicates are empty.
type RowFilter func(ctx context.Context, tx *Tx, e *domain.Entity, req *ubql.Request) (*ubql.Request, error)

type rowFilterKey struct{}

// WithRowFilter returns a context whose store calls evaluate row-level security with f.
func WithRowFilter(ctx context.Context, f RowFilter) context.Context {
	return context.WithValue(ctx, rowFilterKey{}, f)
}

func rowFilterFrom(ctx context.Context) RowFilter {
	f, _ := ctx.Value(rowFilterKey{}).(RowFilter)
	return f
}

// rlsPrefix starts the names of where items row-level security adds.
const rlsPrefix = "__ubgoRLS_"

// rlsApplies reports whether a request on e is filtered by row-level security.
func (tx *Tx) rlsApplies(e *domain.Entity, req *ubql.Request) bool {
	return e.Mixins.RLS != nil && !(req.Misc.SkipRls && !tx.sess.External)
}

// rowLevel returns req with the entity's row-level security conditions added.
func (tx *Tx) rowLevel(ctx context.Context, e *domain.Entity, req *ubql.Request) (*ubql.Request, error) {
	if !tx.rlsApplies(e, req) {
		return req, nil
	}
	f := rowFilterFrom(ctx)
	if f == nil {
		return nil, &Error{Item: -1, Entity: e.Name, Code: 0, Status: http.StatusInternalServerError, Msg: "Internal server error",
			Err: fmt.Errorf("entity %s has row-level security (mixin rls), which the JavaScript runtime evaluates, but the call came without it", e.Name)}
	}
	if err := reservedNames(e, req); err != nil {
		return nil, err
	}
	base := *req
	base.WhereList, base.LogicalPredicates, base.JoinAs = nil, nil, nil
	got, err := f(ctx, tx, e, &base)
	if err != nil {
		return nil, err
	}
	if got == nil || len(got.WhereList) == 0 && len(got.LogicalPredicates) == 0 {
		return req, nil
	}
	out := *req
	out.WhereList = make([]ubql.WhereItem, 0, len(req.WhereList)+len(got.WhereList))
	out.WhereList = append(out.WhereList, req.WhereList...)
	rename := make(map[string]string, len(got.WhereList))
	for _, w := range got.WhereList {
		rename[w.Name] = rlsPrefix + w.Name
		w.Name = rlsPrefix + w.Name
		out.WhereList = append(out.WhereList, w)
	}
	if len(got.LogicalPredicates) > 0 {
		out.LogicalPredicates = append([]string(nil), req.LogicalPredicates...)
		for _, p := range got.LogicalPredicates {
			rp, err := renameRefs(p, rename)
			if err != nil {
				return nil, &Error{Item: -1, Entity: e.Name, Code: 0, Status: http.StatusInternalServerError, Msg: "Internal server error",
					Err: fmt.Errorf("entity %s: the rls function added the logical predicate %q: %w", e.Name, p, err)}
			}
			out.LogicalPredicates = append(out.LogicalPredicates, rp)
		}
	}
	return &out, nil
}

// reservedNames refuses a client request that names a condition in the namespace of
// row-level security.
func reservedNames(e *domain.Entity, req *ubql.Request) error {
	bad := func(where string) error {
		return &Error{Item: -1, Entity: e.Name, Code: ubql.CodeInvalidWhereList, Status: http.StatusBadRequest,
			Msg: fmt.Sprintf("%s: condition names starting with %q are reserved for row-level security", where, rlsPrefix)}
	}
	for _, w := range req.WhereList {
		if strings.Contains(w.Name, rlsPrefix) {
			return bad("whereList")
		}
	}
	for _, p := range req.LogicalPredicates {
		if strings.Contains(p, rlsPrefix) {
			return bad("logicalPredicates")
		}
	}
	for _, j := range req.JoinAs {
		if strings.Contains(j, rlsPrefix) {
			return bad("joinAs")
		}
	}
	return nil
}

// renameRefs rewrites the [name] references of a logical predicate; every name must be
// one the rls function added.
func renameRefs(p string, rename map[string]string) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(p, '[')
		if i < 0 {
			b.WriteString(p)
			return b.String(), nil
		}
		j := strings.IndexByte(p[i:], ']')
		if j < 0 {
			return "", fmt.Errorf("unclosed '['")
		}
		name := strings.TrimSpace(p[i+1 : i+j])
		to, ok := rename[name]
		if !ok {
			return "", fmt.Errorf("it refers to %q, which is not one of the conditions the function added", name)
		}
		b.WriteString(p[:i+1])
		b.WriteString(to)
		b.WriteByte(']')
		p = p[i+j+1:]
	}
}

// checkVisible is the select-before of an update or delete under row-level security: the
// row must be one the session may see. notFound is the error of a missing row.
func (tx *Tx) checkVisible(ctx context.Context, e *domain.Entity, req *ubql.Request, id int64, notFound *Error) error {
	if !tx.rlsApplies(e, req) {
		return nil
	}
	r := &ubql.Request{Entity: e.Name, Method: "select", FieldList: []string{"ID"}, ID: &id,
		Misc: ubql.Misc{AllowSelectSafeDeleted: true}}
	resp, err := tx.doSelect(ctx, r, selectOptions{rls: true})
	if err != nil {
		return err
	}
	if resp.ResultData == nil || len(resp.ResultData.Data) == 0 {
		return notFound
	}
	return nil
}
