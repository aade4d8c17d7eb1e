package jsvm

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/dop251/goja"

	"github.com/ubgo/ubgo/store"
	"github.com/ubgo/ubgo/ubql"
)

// Session events (reference §3.2, §6.5.3): models subscribe with Session.on(event, fn);
// the security layer emits them with Pool.EmitSessionEvent.
const (
	// EventLogin fires after a user's credentials are verified and before the /auth
	// answer is written; listeners may extend Session.uData, and a listener that throws
	// aborts the login. Argument: the HTTP request (*Request), when there is one.
	EventLogin = "login"
	// EventLoginFailed fires when a known user gave wrong credentials. Arguments (UB):
	// userID, isLocked.
	EventLoginFailed = "loginFailed"
	// EventSecurityViolation fires on any security violation (unknown or locked user,
	// wrong credentials, denied endpoint or entity method). Argument: the reason text.
	EventSecurityViolation = "securityViolation"
	// EventLogout fires when a session ends with /logout. Argument: the reason, if any.
	EventLogout = "logout"
	// EventRegistration fires when an authentication schema registers a new user.
	// Argument: the schema's registration parameters.
	EventRegistration = "registration"
)

// maxRunAsDepth is how deep Session.runAsAdmin and runAsUser may nest (UnityBase allows
// two levels).
const maxRunAsDepth = 2

// UserSessionFunc builds the session of a user for Session.runAsUser: who the user is,
// the roles, groups and uData a login would give. The security layer provides it
// (PoolOptions.UserSession) so that runAsUser sees exactly what a login sees; without it
// the worker reads uba_user, uba_userrole, uba_usergroup and uba_grouprole itself.
type UserSessionFunc func(ctx context.Context, tx *store.Tx, userID int64) (*store.Session, error)

// session is the running call's session, or store.System outside calls.
func (w *Worker) session() *store.Session {
	if w.call != nil && w.call.sess != nil {
		return w.call.sess
	}
	return store.System
}

// langOf is the language of a session (Session.userLang, UB.i18n): its uData.lang (the
// user's language, reference §7.1), else its Lang, else the application's default
// language — the order in which the server picks a request's language.
func (w *Worker) langOf(s *store.Session) string {
	if l, ok := s.UData["lang"].(string); ok && w.prog.dom.SupportsLang(l) {
		return l
	}
	if s.Lang != "" {
		return s.Lang
	}
	return w.prog.dom.DefaultLang
}

// roleNamesOf lists the names of a session's roles: RoleNames, else uData.roles (CSV).
func roleNamesOf(s *store.Session) []string {
	if len(s.RoleNames) > 0 {
		return s.RoleNames
	}
	if csv, ok := s.UData["roles"].(string); ok && csv != "" {
		return strings.Split(csv, ",")
	}
	return nil
}

// roleIDsOf lists the IDs of a session's roles: RoleIDs, else uData.roleIDs.
func roleIDsOf(s *store.Session) []int64 {
	if len(s.RoleIDs) > 0 {
		return s.RoleIDs
	}
	var ids []int64
	switch x := s.UData["roleIDs"].(type) {
	case []int64:
		ids = x
	case []any:
		for _, v := range x {
			if n, ok := integral(v); ok {
				ids = append(ids, n)
			}
		}
	}
	return ids
}

func csvOf(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

// newSession builds Session (reference §6.5.3): an EventEmitter whose properties read the
// running call's store.Session, so one object serves every call of the worker.
func (w *Worker) newSession() *goja.Object {
	vm := w.vm
	s := vm.CreateObject(w.api.eeProto)
	prop := func(name string, get func(*store.Session) any) {
		g := vm.ToValue(func(goja.FunctionCall) goja.Value { return vm.ToValue(get(w.session())) })
		_ = s.DefineAccessorProperty(name, g, nil, goja.FLAG_FALSE, goja.FLAG_TRUE)
	}
	prop("id", func(s *store.Session) any { return s.ID })
	prop("userID", func(s *store.Session) any { return s.UserID })
	prop("userName", func(s *store.Session) any { return s.UserName })
	prop("userLang", func(s *store.Session) any { return w.langOf(s) })
	prop("callerIP", func(s *store.Session) any { return s.RemoteIP })
	prop("requestID", func(s *store.Session) any { return s.RequestID })
	prop("userRoles", func(s *store.Session) any { return csvOf(roleIDsOf(s)) })
	prop("userRoleNames", func(s *store.Session) any { return strings.Join(roleNamesOf(s), ",") })
	uData := vm.ToValue(func(goja.FunctionCall) goja.Value { return w.sessionUData() })
	_ = s.DefineAccessorProperty("uData", uData, nil, goja.FLAG_FALSE, goja.FLAG_TRUE)

	_ = s.Set("hasRole", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(slices.Contains(roleNamesOf(w.session()), w.safeString(call.Argument(0))))
	})
	_ = s.Set("runAsAdmin", func(call goja.FunctionCall) goja.Value {
		fn, ok := goja.AssertFunction(call.Argument(0))
		if !ok {
			panic(vm.NewTypeError("Session.runAsAdmin(func): a function is required"))
		}
		return w.runAs(adminSession(w.session()), false, fn)
	})
	_ = s.Set("runAsUser", func(call goja.FunctionCall) goja.Value {
		id, ok := integral(call.Argument(0).Export())
		if !ok || id <= 0 {
			panic(vm.NewTypeError("Session.runAsUser(userID, func): userID must be a positive integer"))
		}
		fn, ok := goja.AssertFunction(call.Argument(1))
		if !ok {
			panic(vm.NewTypeError("Session.runAsUser(userID, func): a function is required"))
		}
		sess, err := w.userSession(id)
		if err != nil {
			w.throw(err)
		}
		return w.runAs(sess, true, fn)
	})
	_ = s.Set("switchLangForContext", func(call goja.FunctionCall) goja.Value {
		lang := w.safeString(call.Argument(0))
		if !w.prog.dom.SupportsLang(lang) {
			panic(w.jsError("Error", fmt.Sprintf("Session.switchLangForContext: language %q is not supported by the application", lang)))
		}
		if w.call == nil {
			return goja.Undefined()
		}
		c := *w.session()
		c.Lang = lang
		if c.UData != nil {
			c.UData = maps.Clone(c.UData)
			c.UData["lang"] = lang
		}
		// For the rest of the call, not beyond: the caller's next batch item or request
		// keeps its own language.
		w.call.restores = append(w.call.restores, w.swapSession(&c))
		return goja.Undefined()
	})
	return s
}

// sessionUData returns Session.uData: within one call the same object for the same
// session, so that listeners can extend it (Session.uData.x = 1) and read it back.
func (w *Worker) sessionUData() goja.Value {
	sess := w.session()
	if w.call == nil {
		return w.uDataObject(sess)
	}
	if o := w.call.uData[sess]; o != nil {
		return o
	}
	o := w.uDataObject(sess)
	if w.call.uData == nil {
		w.call.uData = map[*store.Session]*goja.Object{}
	}
	w.call.uData[sess] = o
	return o
}

// uDataObject builds uData from the session: a copy of store.Session.UData when the
// security layer filled it, else what the session itself tells (userID, login, lang, and
// the roles and groups when known).
func (w *Worker) uDataObject(s *store.Session) *goja.Object {
	if s.UData != nil {
		if o, ok := w.toJS(s.UData).(*goja.Object); ok {
			return o
		}
	}
	m := map[string]any{"userID": s.UserID, "login": s.UserName, "lang": w.langOf(s)}
	if names := roleNamesOf(s); len(names) > 0 {
		m["roles"] = strings.Join(names, ",")
	}
	if ids := roleIDsOf(s); len(ids) > 0 {
		m["roleIDs"] = ids
	}
	if s.GroupIDs != nil {
		m["groupIDs"] = s.GroupIDs
	}
	return w.toJS(m).(*goja.Object)
}

// saveUData writes the uData a login listener extended back into the session: what
// UnityBase persists for the session's lifetime.
func (w *Worker) saveUData(sess *store.Session) error {
	o := w.call.uData[sess]
	if o == nil {
		return nil // nobody read it: nothing changed
	}
	m, err := w.exportObject(o, "Session.uData")
	if err != nil {
		return internalError("Session.uData after the login listeners: %v", err)
	}
	// Round-trip through JSON: the session outlives the runtime, so it must hold plain
	// values only (no goja wrappers), as a session store would give them back.
	b, err := json.Marshal(m)
	if err != nil {
		return internalError("Session.uData after the login listeners is not JSON: %v", err)
	}
	var plain map[string]any
	if err := json.Unmarshal(b, &plain); err != nil {
		return internalError("Session.uData: %v", err)
	}
	sess.UData = plain
	return nil
}

// swapSession makes the running call act as sess (scripts' Session, ELS checks, and the
// transaction's writes) until restore.
func (w *Worker) swapSession(sess *store.Session) (restore func()) {
	prev := w.call.sess
	var txRestore func()
	if w.call.tx != nil {
		txRestore = w.call.tx.SwapSession(sess)
	}
	w.call.sess = sess
	return func() {
		if txRestore != nil {
			txRestore()
		}
		w.call.sess = prev
	}
}

// runAs calls fn as sess and restores the previous session afterwards, also when fn
// throws. With login set, the Session "login" listeners run first, as for a new session
// in UnityBase's runAsUser.
func (w *Worker) runAs(sess *store.Session, login bool, fn goja.Callable) goja.Value {
	if w.call == nil {
		panic(w.jsError("Error", "Session.runAs*: only inside a call"))
	}
	if w.call.runAs >= maxRunAsDepth {
		panic(w.jsError("Error", fmt.Sprintf("Session.runAsAdmin/runAsUser: nested deeper than %d levels", maxRunAsDepth)))
	}
	w.call.runAs++
	restore := w.swapSession(sess)
	defer func() {
		restore()
		w.call.runAs--
	}()
	if login {
		if _, err := w.api.emit(w.api.session, w.vm.ToValue(EventLogin)); err != nil {
			w.throw(err)
		}
		if err := w.saveUData(sess); err != nil {
			w.throw(err)
		}
	}
	v, err := fn(goja.Undefined())
	if err != nil {
		w.throw(err)
	}
	return v
}

// adminSession is the built-in admin's session for Session.runAsAdmin: the request's
// address and id stay, the language is the admin's (the application default).
func adminSession(outer *store.Session) *store.Session {
	return &store.Session{UserID: store.UserAdmin, UserName: "admin", RemoteIP: outer.RemoteIP, RequestID: outer.RequestID,
		RoleIDs: []int64{store.RoleEveryone, store.RoleUser, store.RoleAdmin}, RoleNames: []string{"Everyone", "User", "Admin"}}
}

// userSession builds the session of userID for runAsUser: with PoolOptions.UserSession
// when set, else from the UBA tables.
func (w *Worker) userSession(id int64) (*store.Session, error) {
	tx := w.tx()
	outer := w.session()
	var sess *store.Session
	var err error
	if w.opts.userSession != nil {
		sess, err = w.opts.userSession(w.ctx(), tx, id)
	} else {
		// Reading who the user is is the server's business, not the caller's: the
		// lookups run as System, whatever the caller may read.
		restore := tx.SwapSession(store.System)
		sess, err = w.readUserSession(tx, id)
		restore()
	}
	if err != nil {
		return nil, err
	}
	c := *sess
	c.External = false
	if c.RemoteIP == "" {
		c.RemoteIP = outer.RemoteIP
	}
	if c.RequestID == 0 {
		c.RequestID = outer.RequestID
	}
	return &c, nil
}

// readUserSession reads a user's name, uData, roles (Everyone, User or Anonymous, direct
// and group roles) and groups, as UnityBase's Session._getRBACInfo does.
func (w *Worker) readUserSession(tx *store.Tx, id int64) (*store.Session, error) {
	sel := func(entity string, fields []any, where map[string]any) (*ubql.ResultData, error) {
		req, err := ubql.FromValue(map[string]any{"entity": entity, "method": "select", "fieldList": fields,
			"whereList": map[string]any{"w": where}})
		if err != nil {
			return nil, err
		}
		resp, err := tx.DoInternal(w.ctx(), req)
		if err != nil {
			return nil, err
		}
		return resp.ResultData, nil
	}
	eq := func(attr string, v any) map[string]any {
		return map[string]any{"expression": "[" + attr + "]", "condition": "equal", "value": v}
	}
	user, err := sel("uba_user", []any{"name", "uData"}, eq("ID", id))
	if err != nil {
		return nil, err
	}
	if user == nil || len(user.Data) == 0 {
		return nil, &Error{Code: codeUserNotFound, Status: http.StatusInternalServerError, Client: clientInternal,
			Message: fmt.Sprintf("Session.runAsUser: user %d does not exist", id)}
	}
	name, _ := user.Data[0][0].(string)
	uData := map[string]any{}
	if raw, ok := user.Data[0][1].(string); ok && raw != "" {
		if err := json.Unmarshal([]byte(raw), &uData); err != nil || uData == nil {
			w.prog.log.Error("invalid uba_user.uData: must be a JSON object", "user", name)
			uData = map[string]any{}
		}
	}
	s := &store.Session{UserID: id, UserName: name}
	addRole := func(rid int64, rname string) {
		if !slices.Contains(s.RoleIDs, rid) {
			s.RoleIDs = append(s.RoleIDs, rid)
			s.RoleNames = append(s.RoleNames, rname)
		}
	}
	addRole(store.RoleEveryone, "Everyone")
	if id == store.UserAnonymous {
		addRole(store.RoleAnonymous, "Anonymous")
	} else {
		addRole(store.RoleUser, "User")
	}
	addRows := func(rd *ubql.ResultData) {
		if rd == nil {
			return
		}
		for _, r := range rd.Data {
			rid, _ := integral(r[0])
			rname, _ := r[1].(string)
			addRole(rid, rname)
		}
	}
	direct, err := sel("uba_userrole", []any{"roleID", "roleID.name"}, eq("userID", id))
	if err != nil {
		return nil, err
	}
	addRows(direct)
	groups, err := sel("uba_usergroup", []any{"groupID"}, eq("userID", id))
	if err != nil {
		return nil, err
	}
	s.GroupIDs = []int64{}
	groupIDs := []any{}
	for _, r := range groups.Data {
		if gid, ok := integral(r[0]); ok {
			s.GroupIDs = append(s.GroupIDs, gid)
			groupIDs = append(groupIDs, gid)
		}
	}
	if len(groupIDs) > 0 {
		gr, err := sel("uba_grouprole", []any{"roleID", "roleID.name"},
			map[string]any{"expression": "[groupID]", "condition": "in", "values": map[string]any{"groupID": groupIDs}})
		if err != nil {
			return nil, err
		}
		addRows(gr)
	}
	if l, ok := uData["lang"].(string); ok && w.prog.dom.SupportsLang(l) {
		s.Lang = l
	} else {
		uData["lang"] = w.prog.dom.DefaultLang
	}
	uData["userID"], uData["login"] = id, name
	uData["roles"] = strings.Join(s.RoleNames, ",")
	uData["roleIDs"], uData["groupIDs"] = s.RoleIDs, s.GroupIDs
	s.UData = uData
	return s, nil
}

// EmitSessionEvent runs the listeners of a Session event (Session.on(event, fn), see the
// Event constants) as sess, inside tx when it is not nil (listeners may then read and
// write data; tx should run as sess). args reach the listeners converted to JS; a
// *Request becomes the THTTPRequest object of endpoints.
//
// An exception in a listener comes back as an error (an *Error): for EventLogin the
// caller must then refuse the login. After EventLogin listeners ran, what they added to
// Session.uData is written to sess.UData, so the caller must not share sess with other
// goroutines during the call.
func (w *Worker) EmitSessionEvent(ctx context.Context, tx *store.Tx, sess *store.Session, event string, args ...any) error {
	if sess == nil {
		if tx == nil {
			return internalError("EmitSessionEvent needs a session or a transaction")
		}
		sess = tx.Session()
	}
	return w.guard(ctx, sess, tx, func() error {
		jsArgs := make([]goja.Value, 0, len(args)+1)
		jsArgs = append(jsArgs, w.vm.ToValue(event))
		for _, a := range args {
			switch x := a.(type) {
			case *Request:
				jsArgs = append(jsArgs, w.newHTTPRequest(x))
			default:
				jsArgs = append(jsArgs, w.toJS(a))
			}
		}
		if _, err := w.api.emit(w.api.session, jsArgs...); err != nil {
			return err
		}
		if event == EventLogin {
			return w.saveUData(sess)
		}
		return nil
	})
}

// EmitSessionEvent runs the listeners of a Session event on a worker of the pool, as
// Worker.EmitSessionEvent does, under the call deadline. It borrows no worker when no
// model listens to the event. With PoolOptions.Store set, the listeners run in a
// transaction of their own, committed when every listener succeeded; without it they
// have no data access. A listener's exception is the returned error.
func (p *Pool) EmitSessionEvent(ctx context.Context, sess *store.Session, event string, args ...any) error {
	if !p.prog.HasSessionListeners(event) {
		return nil
	}
	w, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	defer p.Release(w)
	var tx *store.Tx
	if p.opts.Store != nil {
		tx = p.opts.Store.Begin(sess)
		defer tx.Rollback()
	}
	if err := w.EmitSessionEvent(ctx, tx, sess, event, args...); err != nil {
		return err
	}
	if tx != nil {
		return tx.Commit()
	}
	return nil
}

// EmitSessionEventTx is EmitSessionEvent inside the caller's transaction, as tx's
// session; the caller commits or rolls back.
func (p *Pool) EmitSessionEventTx(ctx context.Context, tx *store.Tx, event string, args ...any) error {
	if !p.prog.HasSessionListeners(event) {
		return nil
	}
	w, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	defer p.Release(w)
	return w.EmitSessionEvent(ctx, tx, tx.Session(), event, args...)
}

// emitSecurityViolation tells Session "securityViolation" listeners about a denied call
// made inside the running call. The denial stands whatever they do: a listener that
// throws is logged, not obeyed.
func (w *Worker) emitSecurityViolation(reason string) {
	if !w.prog.HasSessionListeners(EventSecurityViolation) {
		return
	}
	if _, err := w.api.emit(w.api.session, w.vm.ToValue(EventSecurityViolation), w.vm.ToValue(reason)); err != nil {
		if isUncatchable(err) {
			w.throw(err)
		}
		w.prog.log.Warn("a Session securityViolation listener failed", "err", w.errorFrom(err).Error())
	}
}
