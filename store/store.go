package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ubgo/ubgo/config"
	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/store/dialect"
	"github.com/ubgo/ubgo/ubql"
)

// Built-in user IDs (reference §6.2).
const (
	UserRoot      int64 = 7
	UserAdmin     int64 = 10
	UserAnonymous int64 = 20
)

// Session is who runs a request, as far as storage cares: whose ID goes into mi_owner and
// mi_modifyUser, which language multi-language attributes are read and written in, and
// whether the request came from a client (External), in which case expressions are
// sanitized and system attributes cannot be set.
//
// The security layer fills the identity part (ID, roles, groups, UData) when it
// authenticates a request; those slices and the map are shared between copies of a
// session and must be treated as read-only.
type Session struct {
	UserID    int64
	UserName  string
	Lang      string // "" means the application's default language
	RemoteIP  string
	External  bool
	RequestID int64 // groups the audit rows of one request; 0 when unknown

	// ID is the security session's ID (the number before "+" in the /auth result); 0 for
	// requests without one (System, anonymous, the development admin).
	ID int64
	// RoleIDs are the uba_role IDs the user holds, including the runtime roles Everyone,
	// User or Anonymous (reference §6.3 roles(user)); RoleNames the same roles by name.
	RoleIDs   []int64
	RoleNames []string
	// GroupIDs are the uba_group IDs the user belongs to.
	GroupIDs []int64
	// UData is Session.uData: uba_user.uData extended by the login (userID, login, lang,
	// roles, roleIDs, groupIDs and what models' login listeners add). nil outside a
	// security session.
	UData map[string]any
}

// HasRole reports whether the session holds the role named name.
func (s *Session) HasRole(name string) bool {
	for _, r := range s.RoleNames {
		if r == name {
			return true
		}
	}
	return false
}

// System is the session of server-side work that belongs to no user (init, migrations,
// scheduled jobs): it acts as root.
var System = &Session{UserID: UserRoot, UserName: "root"}

// Store is the data layer of an application: its connections, ID generators and the
// compiled-query cache. It is safe for concurrent use; one request uses one Tx.
type Store struct {
	Domain   *domain.Domain
	Conns    []*Conn // in ubconfig order
	byName   map[string]*Conn
	def      *Conn
	ids      map[*Conn]*idGen
	compiler *ubql.Compiler
	now      func() time.Time
	log      *slog.Logger
	// cascades lists, per entity name, the Entity attributes of other entities that point
	// to it with cascadeDelete: deleting a row deletes the rows that refer to it.
	cascades map[string][]*domain.Attribute
	// manyOf lists, per entity, its Many attributes (their link tables are written by
	// insert and update).
	manyOf map[string][]*domain.Attribute
	// restrict indexes the attribute restrictions (restrict.go).
	restrict *restrictions
	// notify tells subscribers about committed writes (notify.go); connCfg keeps each
	// connection's settings for the change listener's own connection.
	notify  *notifier
	connCfg map[*Conn]config.Connection
}

// Options adjust Open.
type Options struct {
	// Create allows creating a missing SQLite file or PostgreSQL schema.
	Create bool
	Logger *slog.Logger
	// Now is the clock (tests freeze it); time.Now when nil.
	Now func() time.Time
}

// Open opens every connection of the application and checks that each entity's connection
// exists.
func Open(ctx context.Context, cfg *config.Config, dom *domain.Domain, opt Options) (*Store, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Store{Domain: dom, byName: map[string]*Conn{}, ids: map[*Conn]*idGen{}, compiler: ubql.NewCompiler(dom),
		now: opt.Now, log: opt.Logger, cascades: map[string][]*domain.Attribute{}, manyOf: map[string][]*domain.Attribute{},
		connCfg: map[*Conn]config.Connection{}}
	s.notify = newNotifier(s)
	s.restrict = buildRestrictions(dom, opt.Logger)
	conns := cfg.Application.Connections
	if len(conns) == 0 {
		return nil, errors.New("application.connections is empty: the application has no database")
	}
	for _, c := range conns {
		conn, err := OpenConn(ctx, c, ConnOptions{BaseDir: cfg.Dir, DefaultLang: dom.DefaultLang, Create: opt.Create, Logger: opt.Logger})
		if err != nil {
			s.Close()
			return nil, err
		}
		s.Conns = append(s.Conns, conn)
		s.byName[conn.Name] = conn
		s.connCfg[conn] = c
		s.ids[conn] = &idGen{dialect: conn.Dialect}
		if conn.IsDefault && s.def == nil {
			s.def = conn
		}
	}
	if s.def == nil {
		s.def = s.Conns[0]
	}
	var errs []error
	for _, e := range dom.Entities {
		if e.ConnectionName != "" && s.byName[e.ConnectionName] == nil && e.DSType != domain.DSVirtual {
			errs = append(errs, fmt.Errorf("entity %s: connection %q is not in application.connections", e.Name, e.ConnectionName))
		}
		for _, a := range e.Attributes {
			if a.DataType == domain.Many {
				s.manyOf[e.Name] = append(s.manyOf[e.Name], a)
			}
			if a.DataType == domain.EntityT && a.CascadeDelete && a.Association != nil {
				s.cascades[a.Association.Name] = append(s.cascades[a.Association.Name], a)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close stops the change listeners and closes every connection.
func (s *Store) Close() error {
	s.notify.close()
	var errs []error
	for _, c := range s.Conns {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Default is the default connection.
func (s *Store) Default() *Conn { return s.def }

// Conn returns the connection named name, or nil.
func (s *Store) Conn(name string) *Conn { return s.byName[name] }

// ConnOf returns the connection an entity's data lives in.
func (s *Store) ConnOf(e *domain.Entity) *Conn {
	if e.ConnectionName != "" {
		if c := s.byName[e.ConnectionName]; c != nil {
			return c
		}
	}
	return s.def
}

// Compiler is the UBQL compiler of the store's domain.
func (s *Store) Compiler() *ubql.Compiler { return s.compiler }

// Run executes a batch of UBQL items in one transaction (reference §4.1): every item or
// none. The responses are in request order. On failure the error is a *Error (or a
// *ubql.Error) naming the failing item.
func (s *Store) Run(ctx context.Context, sess *Session, reqs []*ubql.Request) ([]*ubql.Response, error) {
	tx := s.Begin(sess)
	defer tx.Rollback()
	if len(reqs) == 1 {
		tx.OneItem()
	}
	out := make([]*ubql.Response, len(reqs))
	for i, r := range reqs {
		resp, err := tx.Do(ctx, r)
		if err != nil {
			return nil, withItem(err, i, r.Entity)
		}
		out[i] = resp
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return out, nil
}

// entity looks up the entity of a request and checks that it is stored by mStorage.
func (s *Store) entity(req *ubql.Request) (*domain.Entity, error) {
	if req.Entity == "" {
		return nil, badRequest(11, "the entity parameter is missing")
	}
	e := s.Domain.Entity(req.Entity)
	if e == nil {
		return nil, &Error{Item: -1, Code: CodeEntityNotExist, Status: http.StatusNotFound,
			Msg: fmt.Sprintf("entity %q does not exist", req.Entity)}
	}
	if e.Mixins.MStorage == nil || e.DSType == domain.DSVirtual {
		return nil, &Error{Item: -1, Entity: e.Name, Code: CodeMethodNotExist, Status: http.StatusNotFound,
			Msg: fmt.Sprintf("entity %s has no method %q", e.Name, req.Method)}
	}
	return e, nil
}

func (s *Store) dialectOf(e *domain.Entity) dialect.Dialect { return s.ConnOf(e).Dialect }
