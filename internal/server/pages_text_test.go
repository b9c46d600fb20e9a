package server

import "time"

// What the pages (internal/server/pages) show, set and audit, as a browser
// and an operator see it: the tests through the real server check these
// words, cookie names and lifetimes, and audit reasons.
const (
	msgInvalidLogin    = "Invalid username or password."
	msgInvalidUserCode = "Invalid or expired code. Check the code on your device and try again."
	msgBadCode         = "That code is not valid. Try the current code from your app, or a recovery code."
	msgPasskeyRefused  = "That passkey was not accepted. Use a passkey registered for this site, or sign in with your password."
	msgPasskeyExpired  = "The passkey request expired. Try again."
	unknownBrowser     = "Unknown browser"
	docsURL            = "https://github.com/gatehouse-auth/gatehouse/tree/main/docs"

	// The account page's sections (its id attributes).
	sectionMFA      = "mfa"
	sectionAPIKeys  = "api-keys"
	sectionSessions = "sessions"
	sectionPassword = "password"

	// The pending second login step, connector sign-in and passkey
	// ceremony cookies.
	pendingCookieName      = "gatehouse_mfa"
	pendingTTL             = 5 * time.Minute
	connectorPendingCookie = "gatehouse_connector"
	connectorPendingTTL    = 10 * time.Minute
	passkeyCookieName      = "gatehouse_passkey"

	// Audit reasons of the pages' rate limits.
	limitLoginIP    = "login-ip"
	limitLoginUser  = "login-user"
	limitDeviceIP   = "device-ip"
	limitDeviceUser = "device-user"
	limitMFABackoff = "mfa-backoff"
)

// passkeyAnswer is the JSON answer of the passkey endpoints.
type passkeyAnswer struct {
	Options  any    `json:"options,omitempty"`
	Redirect string `json:"redirect,omitempty"`
	Error    string `json:"error,omitempty"`
}
