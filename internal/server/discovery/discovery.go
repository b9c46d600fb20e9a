// Package discovery publishes what a client needs to know about the
// authorization server before it talks to it: the metadata document
// (RFC 8414 §2 at /.well-known/oauth-authorization-server, OpenID Connect
// Discovery 1.0 §3 at /.well-known/openid-configuration; one document)
// and the public signing keys (the JWKS).
//
// The server hands it what decides the document in Deps: the issuer, the
// paths of its endpoints, the scopes and algorithms it supports, whether
// it requires PAR, and a view of its signing keys. The package does not
// import the server.
package discovery

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Paths of the discovery endpoints, under the server's base path.
const (
	PathOAuth = "/.well-known/oauth-authorization-server"
	PathOIDC  = "/.well-known/openid-configuration"
	PathJWKS  = "/oauth2/jwks"
)

// Endpoints are the paths, relative to the issuer, of the server's
// endpoints that the document names.
type Endpoints struct {
	Authorization       string
	Token               string
	DeviceAuthorization string
	Revocation          string
	Introspection       string
	Userinfo            string
	EndSession          string
	PushedAuthorization string
}

// Keys is the view of the server's signing keys that discovery needs.
type Keys interface {
	// Algorithms are the algorithms of the keys that sign ID tokens.
	Algorithms() []string
	// JWKS is the public key set, serialised.
	JWKS() []byte
	// ReloadIfStale reloads the keys from the store when this replica's
	// copy is older than maxAge.
	ReloadIfStale(ctx context.Context, maxAge time.Duration) (bool, error)
}

// Deps are what the discovery document is made of.
type Deps struct {
	// Issuer is the configured issuer; the document's issuer is
	// byte-equal to it (RFC 8414 §3.3).
	Issuer    string
	Endpoints Endpoints
	// Scopes are the scopes the server supports.
	Scopes []string
	// GroupsClaim is the name of the claim carrying the groups
	// (oidc.groups_claim).
	GroupsClaim string
	// RequirePAR says every authorization request must be pushed
	// (authorize.require_par).
	RequirePAR bool
	// AssertionAlgorithms are the algorithms accepted for private_key_jwt
	// client assertions.
	AssertionAlgorithms []string
	// DPoPAlgorithms are the algorithms accepted for DPoP proofs.
	DPoPAlgorithms []string
	Keys           Keys
	// KeyRefreshAge is how stale the keys may be before the JWKS
	// endpoint reloads them, so that a key another replica added is
	// published.
	KeyRefreshAge time.Duration
	Logger        *slog.Logger
}

// Discovery is the handlers of the discovery endpoints.
type Discovery struct{ d Deps }

// New builds the discovery endpoints on d.
func New(d Deps) *Discovery { return &Discovery{d: d} }

// Routes registers the endpoints with handle, which takes a
// "METHOD /path" pattern, the route's name for the metrics and the
// handler.
func (ds *Discovery) Routes(handle func(pattern, route string, h http.HandlerFunc)) {
	handle("GET "+PathOAuth, "discovery", ds.handleMetadata)
	handle("GET "+PathOIDC, "discovery", ds.handleMetadata)
	handle("GET "+PathJWKS, "jwks", ds.handleJWKS)
}

// Metadata is the discovery document (RFC 8414 §2, OIDC Discovery §3).
func (ds *Discovery) Metadata() *protocol.Metadata {
	d := ds.d
	iss := d.Issuer
	e := d.Endpoints
	authMethods := []string{protocol.AuthMethodBasic, protocol.AuthMethodPost, protocol.AuthMethodPrivateKeyJWT, protocol.AuthMethodNone}
	return &protocol.Metadata{
		Issuer:                      iss,
		AuthorizationEndpoint:       iss + e.Authorization,
		TokenEndpoint:               iss + e.Token,
		DeviceAuthorizationEndpoint: iss + e.DeviceAuthorization,
		RevocationEndpoint:          iss + e.Revocation,
		IntrospectionEndpoint:       iss + e.Introspection,
		UserinfoEndpoint:            iss + e.Userinfo,
		JWKSURI:                     iss + PathJWKS,
		EndSessionEndpoint:          iss + e.EndSession,
		ScopesSupported:             slices.Clone(d.Scopes),
		ResponseTypesSupported:      []string{"code"},
		ResponseModesSupported:      []string{"query"},
		GrantTypesSupported: []string{
			protocol.GrantAuthorizationCode, protocol.GrantRefreshToken,
			protocol.GrantClientCredentials, protocol.GrantDeviceCode,
		},
		SubjectTypesSupported:                      []string{"public"},
		IDTokenSigningAlgValuesSupported:           d.Keys.Algorithms(),
		TokenEndpointAuthMethodsSupported:          authMethods,
		TokenEndpointAuthSigningAlgValuesSupported: d.AssertionAlgorithms,
		RevocationEndpointAuthMethodsSupported:     authMethods,
		IntrospectionEndpointAuthMethodsSupported:  authMethods[:3],
		CodeChallengeMethodsSupported:              []string{protocol.CodeChallengeS256},
		ClaimsSupported: []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "preferred_username", "roles",
			"name", "email", "email_verified", d.GroupsClaim},
		AuthorizationResponseIssParameterSupported: true,
		RequestParameterSupported:                  new(false),
		RequestURIParameterSupported:               new(false),
		PushedAuthorizationRequestEndpoint:         iss + e.PushedAuthorization,
		RequirePushedAuthorizationRequests:         d.RequirePAR,
		DPoPSigningAlgValuesSupported:              d.DPoPAlgorithms,
	}
}

// handleMetadata serves the document to anyone (browsers' clients
// included), for caches to keep briefly.
func (ds *Discovery) handleMetadata(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(ds.Metadata())
}

// handleJWKS serves the public signing keys, reloaded first when this
// replica's copy is stale.
func (ds *Discovery) handleJWKS(w http.ResponseWriter, r *http.Request) {
	if _, err := ds.d.Keys.ReloadIfStale(r.Context(), ds.d.KeyRefreshAge); err != nil {
		ds.d.Logger.Warn("reload signing keys", "err", err) // serve what is loaded
	}
	h := w.Header()
	h.Set("Content-Type", "application/jwk-set+json")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(ds.d.Keys.JWKS())
}
