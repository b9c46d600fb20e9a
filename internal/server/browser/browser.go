// Package browser is the authorization server's side of a browser: the
// cookies it sets (names, attributes), the CSRF double submit of its
// forms, cookies sealed with the server's secret key, and the session a
// sign-in starts at the server. The page handlers (sign-in, consent,
// second step, passkeys, account, device page) share it through
// *Sessions.
//
// It is built on a Deps of what it uses (the session and user stores,
// the secret key, the clock, the client address and the error pages) and
// does not import the server.
package browser

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/webpage"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// Names of the cookies of this package, without the __Host- prefix
// (CookieName adds it).
const (
	SessionCookie = "gatehouse_session"
	CSRFCookie    = "gatehouse_csrf"
)

// Deps are what Sessions uses. All are required but SecretKey: without
// it sealed cookies are refused (SetSealed fails, Sealed finds none).
type Deps struct {
	// SecureCookies makes every cookie Secure, with the __Host- prefix
	// (an https issuer).
	SecureCookies bool
	// SecretKey seals the sealed cookies.
	SecretKey *secret.Key
	// Sessions and Users are where sessions and their users are kept.
	Sessions storage.SessionStore
	Users    storage.UserStore
	// Clock is the time sessions start, expire and are used at.
	Clock clock.Clock
	// SessionTTL is how long a session lasts from sign-in.
	SessionTTL time.Duration
	// ClientIP is the address of the client of a request, by the
	// trusted-proxy rules; a session keeps it.
	ClientIP func(*http.Request) string
	// Pages shows the error page when a form cannot be read or fails
	// its CSRF check.
	Pages *webpage.Pages
	// Log receives what goes wrong but does not stop a request.
	Log *slog.Logger
}

// Sessions is the server's side of a browser: its cookies, CSRF token,
// sealed cookies and session.
type Sessions struct {
	d Deps
}

// New returns the Sessions of d.
func New(d Deps) *Sessions { return &Sessions{d: d} }

// CookieName is name, with the __Host- prefix when cookies are Secure:
// the browser then only accepts the cookie from this exact host over
// https, with Path=/ and without Domain.
func (s *Sessions) CookieName(name string) string {
	if s.d.SecureCookies {
		return "__Host-" + name
	}
	return name
}

// NewCookie builds a cookie with the attributes every Gatehouse cookie
// has: HttpOnly, SameSite=Lax, Path=/, and Secure with an https issuer.
// maxAge is in seconds; 0 makes a browser-session cookie, a negative
// value deletes the cookie.
func (s *Sessions) NewCookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     s.CookieName(name),
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.d.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	}
}

// ClearCookie deletes the browser's cookie name.
func (s *Sessions) ClearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, s.NewCookie(name, "", -1))
}
