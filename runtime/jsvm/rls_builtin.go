package jsvm

import (
	"fmt"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/ubql"
)

// builtinRLS are the functions of UnityBase's RLS module (reference §6.4) that ubgo
// implements in Go. One is used when mixins.rls.func names it and the models' JavaScript
// defines no function of that name (a model may still define its own).
var builtinRLS = map[string]func(p *Program, sess *store.Session, e *domain.Entity, req *ubql.Request) (*ubql.Request, error){
	"RLS.allowForAdminOwnerAndAdmTable": allowForAdminOwnerAndAdmTable,
}

// allowForAdminOwnerAndAdmTable lets root, admin and members of Admin see every row; any
// other user sees the rows they own (mi_owner) and the rows whose "<entity>_adm" table
// lists the user, one of their roles or one of their groups (admSubjID, for instanceID).
func allowForAdminOwnerAndAdmTable(p *Program, sess *store.Session, e *domain.Entity, req *ubql.Request) (*ubql.Request, error) {
	if sess.UserID == store.UserRoot || sess.UserID == store.UserAdmin || sess.HasRole("Admin") {
		return req, nil
	}
	out := *req
	var terms []string
	if e.Attribute("mi_owner") != nil {
		out.WhereList = append(out.WhereList, ubql.WhereItem{Name: "byOwner", Expression: "[mi_owner]",
			Condition: ubql.Equal, Value: sess.UserID, HasValue: true})
		terms = append(terms, "([byOwner])")
	}
	if adm := p.dom.Entity(e.Name + "_adm"); adm != nil && adm.Attribute("instanceID") != nil && adm.Attribute("admSubjID") != nil {
		subjects := []any{sess.UserID}
		for _, id := range sess.RoleIDs {
			subjects = append(subjects, id)
		}
		for _, id := range sess.GroupIDs {
			subjects = append(subjects, id)
		}
		out.WhereList = append(out.WhereList, ubql.WhereItem{Name: "byAdm", Condition: ubql.SubQuery, SubQueryType: "exists",
			SubQuery: &ubql.Request{Entity: adm.Name, Method: "select", WhereList: []ubql.WhereItem{
				{Name: "instance", Expression: "[instanceID] = [{master}.ID]", Condition: ubql.Custom},
				{Name: "subject", Expression: "[admSubjID]", Condition: ubql.In, Value: subjects, HasValue: true},
			}}})
		terms = append(terms, "([byAdm])")
	}
	switch len(terms) {
	case 0:
		return nil, internalError("entity %s: RLS.allowForAdminOwnerAndAdmTable needs mi_owner or an %s_adm entity", e.Name, e.Name)
	case 2:
		out.LogicalPredicates = append(out.LogicalPredicates, fmt.Sprintf("%s OR %s", terms[0], terms[1]))
	}
	return &out, nil
}
