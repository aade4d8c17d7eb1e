package security

import (
	"errors"
	"net/http"
	"strconv"
)

// UnityBase errCodes the security layer answers with (reference §7.4).
const (
	CodeInvalidData       = 4  // InvalidDataForRunMethod: a malformed request
	CodeAccessDeny        = 8  // ElsAccessDeny: an endpoint the session's roles are not granted
	CodeInvalidUserOrPwd  = 9  // ElsInvalidUserOrPwd: a failed login or a wrong old password
	CodeNeedAuth          = 10 // ElsNeedAuth: no, bad, expired or foreign session signature
	CodePasswordExpired   = 72 // ElsPwdIsExpired: only changePassword and logout are allowed
	CodeAnotherSession    = 9  // userSessionMode Singleton refuses a second login
	msgAccessDeny         = "<<<Access deny>>>"
	msgLoginDisabled      = "<<<Login disabled>>>"
	msgIncorrectOldPwd    = "<<<Incorrect old password>>>"
	msgAnotherSession     = "<<<ubErrAnotherSessionExists>>>"
	msgPasswordExpired    = "<<<ubErrElsPwdIsExpired>>>"
	msgPasswordTooShort   = "<<<Password is too short>>>"
	msgPasswordTooSimple  = "<<<Password is too simple>>>"
	msgPasswordIsLogin    = "<<<Password matches with login>>>"
	msgPreviousPassword   = "<<<Previous password is not allowed>>>"
	msgPasswordIsRequired = "<<<New password is required>>>"
)

// Causes of security failures, for errors.Is. Every error the package returns to the
// server is an *Error wrapping one of them.
var (
	// ErrNoCredentials: the request carries neither a signature nor Basic credentials.
	ErrNoCredentials = errors.New("no credentials")
	// ErrBadSignature: the signature is malformed or does not verify with the session's key.
	ErrBadSignature = errors.New("invalid session signature")
	// ErrNoSession: the signature names a session that does not exist (ended, expired,
	// purged, or never created).
	ErrNoSession = errors.New("no such session")
	// ErrSessionExpired: the session was idle longer than its timeout.
	ErrSessionExpired = errors.New("session expired")
	// ErrStaleSignature: the signature's time is outside the clock window, or older than
	// the newest signature the session accepted (a replay).
	ErrStaleSignature = errors.New("signature time out of window")
	// ErrForeignAddress: the session is bound to another client address.
	ErrForeignAddress = errors.New("session used from another address")
	// ErrInvalidCredentials: unknown user, wrong password, or a bad or reused nonce.
	ErrInvalidCredentials = errors.New("invalid user name or password")
	// ErrLocked: too many failed logins; the account is locked for a while.
	ErrLocked = errors.New("account locked after failed logins")
	// ErrAddressLocked: too many failed logins from the client's address; every login
	// from it is refused for a while (ubgo.security.maxFailuresPerIP).
	ErrAddressLocked = errors.New("client address locked after failed logins")
	// ErrDisabled: uba_user.disabled, isPending, or a built-in user without a password.
	ErrDisabled = errors.New("account disabled")
	// ErrLoginDisabled: the login matches security.disabledAccounts.
	ErrLoginDisabled = errors.New("login disabled by security.disabledAccounts")
	// ErrAnotherSession: userSessionMode Singleton and the user has a session already.
	ErrAnotherSession = errors.New("another session of the user exists")
	// ErrEndpointDenied: no role of the session is granted the endpoint.
	ErrEndpointDenied = errors.New("endpoint not granted")
	// ErrPasswordExpired: the password is older than UBA.passwordPolicy.maxDurationDays.
	ErrPasswordExpired = errors.New("password expired")
	// ErrIncorrectOldPassword: changePassword with a wrong current password.
	ErrIncorrectOldPassword = errors.New("incorrect old password")
	// ErrPasswordPolicy: the new password breaks the password policy.
	ErrPasswordPolicy = errors.New("password policy violated")
	// ErrBadRequest: malformed parameters.
	ErrBadRequest = errors.New("bad request")
	// ErrMethodNotEnabled: an AUTHTYPE security.authenticationMethods does not list.
	ErrMethodNotEnabled = errors.New("authentication method not enabled")
	// ErrAborted: a login hook refused the login.
	ErrAborted = errors.New("login refused by a hook")
)

// Error is a security failure as the server reports it. Msg is what the client may see
// (a UnityBase i18n key in <<<...>>>, or empty for the server's localized status text);
// Reason is for the log and the audit trail and never contains passwords, hashes, nonces
// or signatures. It implements the server's UBError method set.
type Error struct {
	Status int    // HTTP status
	Code   int    // UnityBase errCode
	Msg    string // client text; "" means the generic text of Status
	Reason string // why, for logs and uba_audit
	Err    error  // one of the Err* causes
}

func (e *Error) Error() string {
	s := "security: " + strconv.Itoa(e.Status)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// UBCode is the UnityBase errCode.
func (e *Error) UBCode() int { return e.Code }

// HTTPStatus is the response status.
func (e *Error) HTTPStatus() int { return e.Status }

// ClientMessage is the text a client may see.
func (e *Error) ClientMessage() string { return e.Msg }

// needAuth is a 401: the client drops its session, logs in again and repeats the request
// once (reference §6.5.1). Every 401 looks the same to the client.
func needAuth(cause error, reason string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeNeedAuth, Err: cause, Reason: reason}
}

// accessDeny is the answer to a failed login: the same status, code and text whatever went
// wrong, so that a client learns nothing about which part of its credentials was wrong.
func accessDeny(cause error, reason string) *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeInvalidUserOrPwd, Msg: msgAccessDeny, Err: cause, Reason: reason}
}

func badRequest(reason string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidData, Msg: reason, Err: ErrBadRequest, Reason: reason}
}
