// Package connector signs people in with a directory or an identity
// provider the operator already has: an LDAP server (Active Directory,
// OpenLDAP) checks a password typed on Gatehouse's own login page, and an
// upstream OpenID Connect provider (Google, Entra ID, Okta, Keycloak, Dex,
// another Gatehouse) signs the browser in on its own pages and sends it
// back.
//
// The connectors themselves live in the sub-packages ldap and oidc; this
// package holds what the server needs to use either of them: the identity
// a connector vouches for, the two shapes of connector, and the errors a
// caller tells apart. The server links an identity to a local user
// (connector id, subject), creates that user on first sign-in, and derives
// the user's roles from the identity's groups and email.
package connector

import (
	"context"
	"errors"
	"net/url"
)

// Identity is what a connector vouches for after a sign-in.
type Identity struct {
	// ConnectorID is the id of the connector that vouched (its config id).
	ConnectorID string
	// Subject identifies the person at the upstream and never changes
	// while the account exists: the OIDC "sub", or for LDAP the value of
	// the configured id attribute (the entry's DN by default).
	Subject string
	// Username is the short login name (LDAP: the username attribute;
	// OIDC: the mapped username claim).
	Username      string
	Email         string
	EmailVerified bool
	// Name is the display name.
	Name string
	// Groups are the upstream groups the person belongs to (LDAP group
	// names, or the values of the OIDC groups claim), as the upstream
	// spells them.
	Groups []string
	// AMR are the authentication methods the upstream asserts (the OIDC
	// "amr" claim, RFC 8176), e.g. "mfa", "otp", "hwk". Empty for LDAP.
	AMR []string
	// Claims are the top-level claims of the OIDC ID token (and userinfo,
	// for names the ID token lacks) whose value is a string or an array
	// of strings, for role rules on claims; a string is a one-element
	// list. Nil for LDAP.
	Claims map[string][]string
}

// PasswordConnector checks a username and password that a person typed
// on Gatehouse's login page (LDAP).
type PasswordConnector interface {
	ID() string
	DisplayName() string
	// Login checks the password at the upstream and returns the identity.
	// A wrong password, an unknown or disabled account and a username the
	// upstream refuses are all ErrInvalidCredentials (wrapped), so that a
	// caller cannot tell them apart; an upstream that is down, slow or
	// misconfigured is ErrUnavailable (wrapped) within the connector's
	// timeout.
	Login(ctx context.Context, username, password string) (*Identity, error)
	// Refresh reads the identity again without a password (groups, email,
	// name), for re-evaluating roles when a refresh token is used. An
	// account that no longer exists or is disabled is ErrNotFound.
	Refresh(ctx context.Context, id *Identity) (*Identity, error)
}

// Pending is what a caller keeps between sending a browser to an
// upstream provider and its return: all of it made fresh per sign-in.
type Pending struct {
	State        string
	Nonce        string
	CodeVerifier string // PKCE (RFC 7636), S256
	RedirectURI  string // Gatehouse's callback URL for this connector
}

// RedirectConnector signs a browser in at an upstream OpenID Connect
// provider (authorization code + PKCE).
type RedirectConnector interface {
	ID() string
	DisplayName() string
	// AuthCodeURL is where the browser is sent to sign in.
	AuthCodeURL(ctx context.Context, p Pending) (string, error)
	// Exchange checks the authorization response in query (state, iss per
	// RFC 9207, error), redeems the code and validates the ID token
	// (signature, iss, aud, exp, nonce, alg), then maps its claims to an
	// identity and applies the connector's restrictions (allowed email
	// domains, hosted domain). An error response from the provider, a bad
	// state or iss, and an ID token that does not verify are
	// ErrInvalidCredentials (wrapped); a provider that cannot be reached
	// is ErrUnavailable (wrapped); an identity the restrictions refuse is
	// ErrNotAllowed (wrapped).
	Exchange(ctx context.Context, query url.Values, p Pending) (*Identity, error)
}

var (
	// ErrInvalidCredentials: the upstream did not vouch for this person.
	ErrInvalidCredentials = errors.New("connector: invalid credentials")
	// ErrUnavailable: the upstream could not be asked (down, timeout, TLS).
	ErrUnavailable = errors.New("connector: upstream unavailable")
	// ErrNotFound: the account no longer exists or is disabled upstream.
	ErrNotFound = errors.New("connector: account not found")
	// ErrNotAllowed: the upstream vouched, but the connector's
	// restrictions (email domain, hosted domain) refuse this person.
	ErrNotAllowed = errors.New("connector: account not allowed")
)
