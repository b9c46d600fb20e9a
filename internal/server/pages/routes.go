// Package pages are the authorization server's pages, what a browser sees:
// the authorization endpoint's page (authorize.go, which signs the user in
// and answers; internal/server/oauth checks the request itself), login
// (login.go, login_connector.go, passkey.go, and mfa.go for the second
// step), consent (consent.go), logout (login.go, logout_rp.go), the device
// page (device_page.go), the account page (account.go, with the API keys,
// passkeys and session list of account_apikeys.go, account_passkeys.go
// and useragent.go) and the start page (home.go). They take the browser's
// cookies, CSRF token and session from internal/server/browser and show
// their pages with internal/server/webpage.
//
// The server hands them what they use in Deps and registers Routes; the
// password grant's terminal sign-in shares the login page's password check
// and second factor through SignIn, and the account API the TOTP enrolment
// through AccountTOTP. It does not import the server.
package pages

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/browser"
	"github.com/gatehouse-auth/gatehouse/internal/server/linking"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/server/webpage"
	"github.com/gatehouse-auth/gatehouse/internal/signing"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// Deps are what the pages use. All fields are required except SecretKey
// (without it TOTP enrolment, the second login step and passkeys are
// unavailable) and WebAuthn (nil: passkeys are off).
type Deps struct {
	Config *config.Server
	Store  Store
	Keys   *signing.Manager
	Hasher *password.Hasher
	Audit  *audit.Logger
	Clock  clock.Clock
	Logger *slog.Logger
	// Pages render the pages and the error page.
	Pages *webpage.Pages
	// Sessions are the browser's cookies, CSRF token and session.
	Sessions *browser.Sessions
	// BackChannel are the back-channel endpoints, whose authorization
	// request checks, pushed requests and codes the authorization page
	// uses. A function: the back channel is built after the pages, since
	// it uses their SignIn.
	BackChannel func() *oauth.Endpoints
	// Clients are the server's cached clients.
	Clients *oauth.ClientCache
	// SecretKey seals TOTP secrets, the pending login and the passkey
	// ceremony.
	SecretKey *secret.Key
	// WebAuthn is the passkey relying party (NewWebAuthn).
	WebAuthn *webauthn.WebAuthn
	// Links link the identities of the configured connectors to users.
	Links *linking.Linker
	// ClientIP is the address of the client of r.
	ClientIP func(r *http.Request) string
	// Allow consumes one event of the limit named prefix (one of the
	// Limit constants, or an unexported one) for subject under rate; a
	// subject that is an address is keyed by the server's rules for
	// addresses.
	Allow func(ctx context.Context, prefix, subject string, rate config.Rate) (ratelimit.Result, error)
}

// Store is what the pages read and write: clients and consents, users
// with their sessions, TOTP state, passkeys and API keys, authorization
// codes, device codes, and assertion ids (passkey challenges) — not
// grants, gateway sessions, signing keys or the audit trail.
type Store interface {
	storage.ClientStore
	storage.ConsentStore
	storage.UserStore
	storage.SessionStore
	storage.TOTPStore
	storage.PasskeyStore
	storage.APIKeyStore
	storage.AuthCodeStore
	storage.DeviceCodeStore
	storage.JTIStore
}

// Pages are the browser-facing pages on their dependencies.
type Pages struct {
	cfg    *config.Server
	store  Store
	keys   *signing.Manager
	hasher *password.Hasher
	audit  *audit.Logger
	clock  clock.Clock
	log    *slog.Logger
	issuer string
	// base is the issuer's path ("" for an origin issuer): every page is
	// served under it and every URL made for a browser starts with it.
	base      string
	pages     *webpage.Pages
	sessions  *browser.Sessions
	oauth     func() *oauth.Endpoints
	clients   *oauth.ClientCache
	secretKey *secret.Key
	webauthn  *webauthn.WebAuthn
	links     *linking.Linker
	clientIP  func(r *http.Request) string
	allow     func(ctx context.Context, prefix, subject string, rate config.Rate) (ratelimit.Result, error)
}

// New returns the pages on d.
func New(d Deps) *Pages {
	return &Pages{
		cfg:       d.Config,
		store:     d.Store,
		keys:      d.Keys,
		hasher:    d.Hasher,
		audit:     d.Audit,
		clock:     d.Clock,
		log:       d.Logger,
		issuer:    d.Config.Issuer,
		base:      d.Config.IssuerPath(),
		pages:     d.Pages,
		sessions:  d.Sessions,
		oauth:     d.BackChannel,
		clients:   d.Clients,
		secretKey: d.SecretKey,
		webauthn:  d.WebAuthn,
		links:     d.Links,
		clientIP:  d.ClientIP,
		allow:     d.Allow,
	}
}

// at is the absolute path of the server path p (one of the Path
// constants, possibly with a query): p under the base path. Every URL the
// pages hand a browser is built with it.
func (pg *Pages) at(p string) string { return pg.base + p }

// Routes registers every page with page, which the server wraps with its
// metrics and its refusal of cross-origin form posts.
func (pg *Pages) Routes(page func(pattern, route string, h http.HandlerFunc)) {
	page("GET "+PathAuthorize, "authorize", pg.handleAuthorize)
	page("POST "+PathAuthorize, "authorize", pg.handleAuthorize)
	page("GET "+PathLogin, "login", pg.handleLoginPage)
	page("POST "+PathLogin, "login", pg.handleLoginSubmit)
	page("GET "+PathLogout, "logout", pg.handleLogoutPage)
	page("POST "+PathLogout, "logout", pg.handleLogoutSubmit)
	page("GET "+PathDevice, "device", pg.handleDevicePage)
	page("POST "+PathDevice, "device", pg.handleDeviceSubmit)
	pg.mfaRoutes(page)
	pg.passkeyRoutes(page)
	pg.connectorRoutes(page)
	pg.homeRoutes(page)
}
