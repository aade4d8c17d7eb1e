package app

import (
	"context"
	"maps"

	"github.com/ubgo/ubgo/runtime/jsvm"
	"github.com/ubgo/ubgo/security"
	"github.com/ubgo/ubgo/security/els"
	"github.com/ubgo/ubgo/server"
	"github.com/ubgo/ubgo/store"
)

// securityPhase builds the generation's security: who a request is (security.Service:
// the UB handshake, signatures, sessions, lockout, endpoint grants) and which entity
// methods a session may call (the ELS matrix). It runs after the runtime phase, when every
// method and endpoint of the models is known, and before the server phase, which takes
// what it sets in g.serverOpts and g.els. What it opens is closed by g.seq's cleanup.
//
// With -dev-anonymous-admin the phase builds nothing: every request runs as admin, as
// that switch promises, and the server says so loudly at startup.
func (a *App) securityPhase(ctx context.Context, g *Generation) error {
	if a.opts.DevAnonymousAdmin {
		g.log.Warn("security is off: -dev-anonymous-admin runs every request as admin")
		return ctx.Err()
	}
	opt := security.Options{Config: g.Config, Domain: g.Domain, Store: g.Store, Logger: g.log,
		ClientIP: server.RemoteIP, EndpointGrants: g.Program.EndpointGrants(), Hooks: sessionHooks(g)}
	if c := g.Store.Default(); c.Dialect.Name() == "PostgreSQL" {
		// Shared tables, so that several processes behind a load balancer (and every
		// generation) see the same sessions.
		b, err := security.NewPostgresBackend(ctx, c.Write, security.PostgresOptions{CacheFor: a.opts.SessionCache, Logger: g.log})
		if err != nil {
			return err
		}
		g.seq.OnCleanup("session store", b.Close)
		opt.Backend = b
	} else {
		// One process: a memory backend kept by the App lets sessions survive reloads.
		opt.Backend = a.memorySessions()
	}
	svc, err := security.New(ctx, opt)
	if err != nil {
		return err
	}
	g.Security = svc
	g.seq.OnCleanup("security", svc.Close)
	if svc.AnonymousMode() {
		g.log.Info("security.authenticationMethods is empty: authentication is not used; requests run as anonymous")
	}
	g.serverOpts.Authorizer, g.serverOpts.Auth, g.serverOpts.EndpointAllowed = svc, svc, svc.EndpointAllowed
	return elsPhase(ctx, g)
}

// elsPhase builds the access matrix of roles × entity methods from uba_els once every
// method is known, and keeps it current (a committed change of uba_els or uba_role
// rebuilds it; on PostgreSQL other processes hear of it through LISTEN/NOTIFY). Without
// the UBA model there are no rules and no matrix: everything is allowed, UnityBase's
// "authentication not used" mode. With UBA and no authentication methods the anonymous
// session's roles (Everyone, Anonymous) go through the matrix like any other.
func elsPhase(ctx context.Context, g *Generation) error {
	if g.Domain.Entity("uba_els") == nil {
		g.log.Warn("the domain has no uba_els: entity-level security is off, every method is allowed")
		return ctx.Err()
	}
	holder, watcher, err := els.Start(ctx, g.Store, jsvm.AllMethods(g.Program), g.log)
	if err != nil {
		return err
	}
	g.seq.OnCleanup("access matrix", func() error { watcher.Stop(); return nil })
	g.els = holder.Allow                      // the pool: App.els, entity.haveAccessToMethod, /rest
	g.serverOpts.MethodAllowed = holder.Allow // getDomainInfo
	return nil
}

// memorySessions is the process's in-memory session backend, made on first use.
func (a *App) memorySessions() security.Backend {
	a.sessionsOnce.Do(func() { a.sessions = security.NewMemoryBackend() })
	return a.sessions
}

// sessionHooks binds the login events of the security service to the models' Session
// listeners (Session.on('login' | 'loginFailed' | 'securityViolation' | 'logout')). A
// throwing 'login' listener refuses the login.
func sessionHooks(g *Generation) security.Hooks {
	return security.Hooks{
		OnLogin: func(ctx context.Context, ev *security.LoginEvent) error {
			return g.Pool.EmitSessionEvent(ctx, ev.Session, jsvm.EventLogin)
		},
		OnLoginFailed: func(ctx context.Context, ev security.LoginFailure) {
			sess := &store.Session{UserID: store.UserAnonymous, UserName: ev.UserName, RemoteIP: ev.RemoteIP}
			if err := g.Pool.EmitSessionEvent(ctx, sess, jsvm.EventLoginFailed, ev.Locked, ev.UserName); err != nil {
				g.log.Warn("Session 'loginFailed' listener", "err", err)
			}
		},
		OnSecurityViolation: func(ctx context.Context, ev security.Violation) {
			sess := ev.Session
			if sess == nil {
				sess = &store.Session{UserID: store.UserAnonymous, UserName: ev.UserName, RemoteIP: ev.RemoteIP}
			}
			if err := g.Pool.EmitSessionEvent(ctx, sess, jsvm.EventSecurityViolation, ev.Reason); err != nil {
				g.log.Warn("Session 'securityViolation' listener", "err", err)
			}
		},
		OnLogout: func(ctx context.Context, sess *store.Session) {
			if err := g.Pool.EmitSessionEvent(ctx, sess, jsvm.EventLogout); err != nil {
				g.log.Warn("Session 'logout' listener", "err", err)
			}
		},
	}
}

// securityStats adds the security service's figures to /stat.
func securityStats(g *Generation, out map[string]any) {
	if g.Security != nil {
		maps.Copy(out, g.Security.Stats())
	}
}
