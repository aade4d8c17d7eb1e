// Package security authenticates ubgo's requests the way UnityBase does (reference §6):
// users, roles and groups of the UBA model, the UB handshake and request signatures,
// HTTP Basic, sessions, lockout, the password policy, endpoint grants and the security
// audit. The entity-level access matrix (ELS) lives in security/els.
//
// # Wiring
//
// A Service is built once per application (New) and plugged into the server:
//
//	svc, err := security.New(ctx, security.Options{Config: cfg, Domain: dom, Store: st, Logger: log,
//		ClientIP: server.RemoteIP, EndpointGrants: prog.EndpointGrants()})
//	defer svc.Close()
//	srv, err := server.NewWithOptions(cfg, dom, log, server.Options{Authorizer: svc, Auth: svc,
//		EndpointAllowed: svc.EndpointAllowed, ...})
//
// Service satisfies server.Authorizer and server.PublicAuthorizer (the session of every
// request), server.AuthService (/auth, /logout, /changePassword) and the server's
// EndpointAllowed hook; it imports neither the server nor the JS runtime.
//
// # Modes
//
// With security.authenticationMethods empty (UnityBase's "authentication not used"), or
// without the UBA model, every request runs as user anonymous (ID 20) with the roles
// Everyone and Anonymous (and any roles uba_userrole grants user 20), whatever it carries;
// endpoints granted to Everyone, Anonymous or User may be called, and the ELS rules of
// those roles decide which entity methods. /auth answers the anonymous identity.
//
// Otherwise each request is authenticated: an endpoint that requires authorization needs a
// signature (Authorization: UB, or ?session_signature=) or, when "Basic" is listed, HTTP
// Basic credentials, and answers 401 (errCode 10) without; an endpoint registered without
// authorization runs as the caller when the request is signed, as anonymous otherwise.
// Among the methods UnityBase knows, ubgo implements UB and Basic; the others are logged
// and ignored.
//
// # The UB handshake and signatures
//
// See Login for /auth and bySignature for what a signature must satisfy (existing
// session, idle timeout, CRC-32 with the session's key, the creating address unless
// security.skipCheckingCallerAndSessionIpEquality, a clock window and the replay rule).
// The server keeps, per session, only the CRC-32 state after "<result><secret>": enough to
// check signatures; neither the password hash nor the session's private key is stored.
// UnityBase's signature is a CRC, not a MAC: someone who sees signed requests can forge
// others for that session. The protocol is only as safe as the TLS around it.
//
// Passwords are stored as UnityBase stores them, uba_user.uPasswordHashHexa = hex
// SHA-256("salt" + password): the UB handshake proves knowledge of exactly that value, so
// it cannot be a slow, per-user-salted hash. The stored hash is therefore a password
// equivalent (an apiKey client logs in with it); protect the database like the passwords.
// Passwords, hashes, nonces and signatures never reach the log or the audit; the server's
// access log redacts password, pwd, newPwd, clientNonce, connectionID, session_signature
// and apiKey parameters and never logs Authorization headers or bodies.
//
// # Sessions
//
// A session's roles, groups and uData are fixed at login (Session._getRBACInfo): roles
// through uba_userrole and through the groups of uba_usergroup → uba_grouprole, groups
// filtered by security.limitGroupsTo and excludeGroups, plus the runtime roles Everyone
// and User. Its idle timeout is the largest uba_role.sessionTimeout of its non-runtime
// roles (DefaultSessionTimeout without one) and slides with every request.
// security.userSessionMode: Multiple, Displacing (a login ends the user's other sessions)
// or Singleton ("<<<ubErrAnotherSessionExists>>>").
//
// Sessions live in a Backend: in memory (one process; sessions end with it), or in
// PostgreSQL tables of the application's schema (ubgo_session, ubgo_auth_nonce,
// ubgo_login_failure, ubgo_ip_failure, ubgo_auth_key), shared by every process on that database: a login on
// one is valid on the others, a logout or a lock on one is seen by the next request on any.
// Every signed request then reads its session row (one indexed lookup, about a database
// round trip) and writes it at most once a second (activity and the replay mark).
// PostgresOptions.CacheFor trades that read for a per-process cache that LISTEN/NOTIFY
// keeps honest: sessions ended anywhere are dropped everywhere as soon as the
// notification arrives. Expired sessions, used nonces and stale counters are purged in
// the background. A Backend passed in Options outlives the Service (keep one memory
// backend across configuration reloads so that sessions survive them).
//
// A user disabled (uba_user.disabled) or deleted loses their sessions: at once when the
// lockout disables them, otherwise on their next request after the change commits
// (store.OnCommit, also across processes on PostgreSQL), and in any case within
// Options.RevalidateEvery.
//
// # Lockout, password policy, audit
//
// UBA.passwordPolicy.maxInvalidAttempts failed logins (UB or Basic; unknown logins count
// too) lock the login for security.lockOutTimeoutSec (300 s), or, with
// security.lockOutInDB, set uba_user.disabled. A locked login is refused with the same
// "<<<Access deny>>>" as a wrong password. Settings lists where the policy comes from.
//
// Against credential stuffing (one client trying many logins) failures also count per
// client address, as Options.ClientIP resolves it (security.trustedProxies; loopback is
// not exempt): ubgo.security.maxFailuresPerIP (50) failed logins (UB step 2, Basic, or a
// wrong old password of /changePassword) from one address within ubgo.security.ipLockOutSec
// (300 s; a fixed window from its first failure) lock the address for ipLockOutSec; 0 in
// either turns this off. While it is locked, every password check from it is refused with
// a wrong password's answer before the credentials are looked at, so it is no oracle; the
// UB handshake's first step and existing sessions are not affected. A successful login
// does not reset the address's count: stuffing finds valid passwords too. The lock is
// audited once, as LOGIN_LOCKED with the address as remoteIP and no targetUser (the
// refusals during it are not, one by one), and /stat counts locks and refusals
// (login_ip_lockouts_total, login_ip_refusals_total). On PostgreSQL every process shares
// the count (table ubgo_ip_failure). Requests in flight when the lock is set may still be
// checked, so a burst can overshoot the limit by its concurrency.
//
// uba_audit receives LOGIN, LOGIN_FAILED, LOGIN_LOCKED, LOGOUT, SECURITY_VIOLATION (and
// UPDATE for a password change) with the client address; Hooks report the same events to
// models, and Stats counts them for /stat.
package security
