// Package oauth is the back channel of the authorization server: the
// endpoints a client program calls directly, never through a browser —
// the token endpoint (token.go, one file per grant: grant_*.go), pushed
// authorization requests (par.go), device authorization, revocation,
// introspection and userinfo — with what they share: client
// authentication (clientauth.go, the client cache), issuing and verifying
// access tokens (issue.go, accesstoken.go), DPoP (dpop.go), scopes and
// resources (scope.go, audience.go), API keys and the authentication of
// the callers of the server's own resources (bearer.go). It also checks an
// authorization request (authorize.go, redirecturi.go), which the PAR
// endpoint validates before it stores one and the authorization page
// (internal/server/pages) before it signs the user in.
//
// The server hands it what it needs in Deps (its store, keys, audit log
// and clock, the client address, the rate limiter, the error writer, the
// login page's password check and second factor for the password grant,
// the directory refresh of connector users) and calls Routes; the pages
// (internal/server/pages) use its exported functions. It does not import
// the server.
//
// Endpoints never format protocol errors themselves: grants return
// *protocol.Error values and Deps.WriteError renders them (RFC 6749 §5.2).
package oauth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/signing"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// Paths of the back-channel endpoints, under the server's base path.
const (
	PathToken           = "/oauth2/token"
	PathDeviceAuthorize = "/oauth2/device_authorization"
	PathRevoke          = "/oauth2/revoke"
	PathIntrospect      = "/oauth2/introspect"
	PathUserinfo        = "/oauth2/userinfo"
)

// maxFormBytes bounds the form body of a request to an endpoint.
const maxFormBytes = 64 << 10

// Deps are what the endpoints use. All fields are required except Logger
// (slog.Default), Clock (clock.System), SecretKey (without it the second
// step of terminal sign-in and refresh retries are unavailable) and
// RefreshUser (users are then not re-read at a refresh).
type Deps struct {
	Config *config.Server
	Store  Store
	Keys   *signing.Manager
	Audit  *audit.Logger
	Clock  clock.Clock
	Logger *slog.Logger
	// SecretKey seals the mfa_token of terminal sign-in and the successor
	// of a rotated refresh token kept for a retry.
	SecretKey *secret.Key
	// DPoP checks DPoP proofs (NewDPoPVerifier).
	DPoP *dpop.Verifier
	// Clients are the server's cached clients (NewClientCache).
	Clients *ClientCache
	// ClientIP is the address of the client of r.
	ClientIP func(r *http.Request) string
	// Allow consumes one event of the limit named prefix (one of the
	// Limit constants) for subject under rate; a subject that is an
	// address is keyed by the server's rules for addresses.
	Allow func(ctx context.Context, prefix, subject string, rate config.Rate) (ratelimit.Result, error)
	// WriteError renders err as an RFC 6749 §5.2 error response.
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
	// TokenIssued counts a token response, by kind ("user" or
	// "client_credentials"); TokenRefused counts a refused token request
	// by its error code.
	TokenIssued  func(kind string)
	TokenRefused func(code string)
	// SignIn is the login page's password check and second factor,
	// which terminal sign-in (the password grant) shares.
	SignIn SignIn
	// RefreshUser brings the user of a refresh up to date with the
	// directory they signed in with, for a refresh of clientID from ip;
	// the error is ErrAccountGone when the directory no longer has them.
	RefreshUser func(ctx context.Context, u *storage.User, clientID, ip string) (*storage.User, error)
	// DevicePage is the URL of the page where a user enters a device's
	// user code (RFC 8628 verification_uri).
	DevicePage string
	// AccountPage is the URL of the account page, where a user enrols a
	// second factor.
	AccountPage string
}

// Store is what the back channel reads and writes: clients, users and
// their TOTP state, the roles' permissions, authorization codes, pushed requests, grants and
// refresh tokens, revoked access tokens, assertion ids, device codes and
// API keys — not browser or gateway sessions, passkeys, consents, signing
// keys or the audit trail.
type Store interface {
	storage.ClientStore
	storage.UserStore
	storage.TOTPStore
	rolereg.Lister
	storage.AuthCodeStore
	storage.PushedRequestStore
	storage.GrantStore
	storage.RevocationStore
	storage.JTIStore
	storage.DeviceCodeStore
	storage.APIKeyStore
}

// SignIn is the password sign-in of the login page, for terminal sign-in:
// the same limits, password check, hash upgrade and second factor.
type SignIn interface {
	// Name is the typed username as sign-ins look it up and key their
	// limits by.
	Name(typed string) string
	// TakeLimits takes the sign-in limits per address and per name
	// before any password is hashed. It returns the result that refuses
	// and its limit's name, or (nil, "", nil) when both allow; a limiter
	// failure is an error.
	TakeLimits(ctx context.Context, ip, name string) (*ratelimit.Result, string, error)
	// CheckPassword checks the password of the user name for a request
	// from ip. A refusal is a non-empty reason for the audit trail; a
	// directory that could not be asked is an error wrapping
	// connector.ErrUnavailable.
	CheckPassword(ctx context.Context, ip, name, password string) (u *storage.User, reason string, err error)
	// UpgradeHash re-hashes a correct password stored with outdated
	// parameters.
	UpgradeHash(ctx context.Context, u *storage.User, password string)
	// MFARequired reports whether u's roles require a second factor.
	MFARequired(u *storage.User) bool
	// LimitCodeAttempt counts a code attempt of u and returns the
	// limiter's answer when the attempt is refused, nil when it may go on.
	LimitCodeAttempt(r *http.Request, u *storage.User) (*ratelimit.Result, error)
	// ConsumeCodeIf checks a TOTP or recovery code of userID and records
	// its use, in one transaction that first asks guard: when guard says
	// no, nothing changes and the error is ErrChallengeUsed. then, if not
	// nil, changes the state further in the same transaction.
	ConsumeCodeIf(ctx context.Context, userID, code string, enrolled bool, guard func(*storage.TOTP) bool, then func(*storage.TOTP)) (bool, error)
}

// ErrChallengeUsed aborts a code check whose mfa_token is no longer the
// user's outstanding one (SignIn.ConsumeCodeIf).
var ErrChallengeUsed = errors.New("oauth: terminal mfa challenge already used")

// ErrAccountGone refuses a refresh whose user the directory no longer
// knows (Deps.RefreshUser).
var ErrAccountGone = errors.New("oauth: the directory no longer has this account")

// Endpoints are the back-channel endpoints on their dependencies.
type Endpoints struct {
	cfg       *config.Server
	store     Store
	keys      *signing.Manager
	audit     *audit.Logger
	clock     clock.Clock
	log       *slog.Logger
	issuer    string
	secretKey *secret.Key
	dpop      *dpop.Verifier
	clients   *ClientCache
	apiKeys   *apiKeyCache

	clientIP     func(*http.Request) string
	allow        func(ctx context.Context, prefix, subject string, rate config.Rate) (ratelimit.Result, error)
	writeError   func(http.ResponseWriter, *http.Request, error)
	tokenIssued  func(kind string)
	tokenRefused func(code string)
	signIn       SignIn
	refreshUser  func(ctx context.Context, u *storage.User, clientID, ip string) (*storage.User, error)
	devicePage   string
	accountPage  string
}

// New builds the endpoints on d.
func New(d Deps) *Endpoints {
	if d.Clock == nil {
		d.Clock = clock.System
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.RefreshUser == nil {
		d.RefreshUser = func(_ context.Context, u *storage.User, _, _ string) (*storage.User, error) { return u, nil }
	}
	return &Endpoints{
		cfg:          d.Config,
		store:        d.Store,
		keys:         d.Keys,
		audit:        d.Audit,
		clock:        d.Clock,
		log:          d.Logger,
		issuer:       d.Config.Issuer,
		secretKey:    d.SecretKey,
		dpop:         d.DPoP,
		clients:      d.Clients,
		apiKeys:      newAPIKeyCache(d.Store, d.Clock),
		clientIP:     d.ClientIP,
		allow:        d.Allow,
		writeError:   d.WriteError,
		tokenIssued:  d.TokenIssued,
		tokenRefused: d.TokenRefused,
		signIn:       d.SignIn,
		refreshUser:  d.RefreshUser,
		devicePage:   d.DevicePage,
		accountPage:  d.AccountPage,
	}
}

// Routes registers the endpoints with handle (pattern "METHOD /path",
// the route's name for the metrics, the handler).
func (e *Endpoints) Routes(handle func(pattern, route string, h http.HandlerFunc)) {
	handle("POST "+PathToken, "token", e.handleToken)
	handle("POST "+PathDeviceAuthorize, "device_authorization", e.handleDeviceAuthorization)
	handle("POST "+PathPAR, "par", e.handlePAR)
	handle("POST "+PathRevoke, "revoke", e.handleRevoke)
	handle("POST "+PathIntrospect, "introspect", e.handleIntrospect)
	handle("GET "+PathUserinfo, "userinfo", e.handleUserinfo)
	handle("POST "+PathUserinfo, "userinfo", e.handleUserinfo)
}
