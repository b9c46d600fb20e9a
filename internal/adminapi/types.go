// Package adminapi holds the JSON shapes of the admin API (/admin/v1), its
// request bodies and its answers, shared by the server that answers it and
// the CLI that calls it, so the two cannot drift apart. docs/admin-api.yaml
// describes the same shapes.
package adminapi

import (
	"encoding/json"
	"time"
)

// User is a local user: never the password hash.
type User struct {
	ID       string   `json:"id"`
	Username string   `json:"username"`
	Roles    []string `json:"roles"`
	Disabled bool     `json:"disabled"`
	// Email ("" when unset), EmailVerified and Name (the display name)
	// are the user's OpenID Connect profile (OIDC Core §5.1).
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name"`
	// Connector is the connector the user signs in with ("" for a local
	// user); ConnectorSubject the upstream identity it is linked to (""
	// until the first sign-in of a pre-created user); Groups the upstream
	// groups of the last sign-in or refresh.
	Connector        string    `json:"connector,omitempty"`
	ConnectorSubject string    `json:"connector_subject,omitempty"`
	Groups           []string  `json:"groups,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// Client is an OAuth client: never the secret or its hash.
type Client struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Public       bool     `json:"public"`
	AuthMethod   string   `json:"auth_method"`
	HasSecret    bool     `json:"has_secret"`
	RedirectURIs []string `json:"redirect_uris"`
	GrantTypes   []string `json:"grant_types"`
	Scopes       []string `json:"scopes"`
	Roles        []string `json:"roles"`
	// Audiences are the resources (RFC 8707) the client may ask tokens
	// for, and its default audience.
	Audiences []string `json:"audiences"`
	// PostLogoutRedirectURIs are where RP-initiated logout may return.
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	FirstParty             bool     `json:"first_party"`
	// RequirePAR: the client's authorization requests must be pushed
	// (RFC 9126).
	RequirePAR bool `json:"require_pushed_authorization_requests"`
	// DPoPRequired: the token endpoint refuses the client's requests
	// without a DPoP proof (RFC 9449), so all its tokens are bound.
	DPoPRequired bool `json:"dpop_required"`
	// TerminalLogin: the client may sign users in with the password grant
	// (`gatehouse login --terminal`); only ever for first-party clients.
	TerminalLogin bool      `json:"terminal_login"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// ClientWithSecret answers create and rotate-secret: the only time the
// secret is shown.
type ClientWithSecret struct {
	Client
	ClientSecret string `json:"client_secret,omitempty"`
}

// APIKey is an API key: never the key or its hash.
type APIKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	UserID     string     `json:"user_id,omitempty"`
	Scopes     []string   `json:"scopes"`
	Roles      []string   `json:"roles"`
	State      string     `json:"state"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// APIKeyWithKey answers create and rotate: the only time the key is shown.
type APIKeyWithKey struct {
	APIKey
	Key string `json:"key"`
}

// Role is a role: a built-in one (admin, editor, viewer; no permissions,
// no times) or a custom one, a named set of permissions.
type Role struct {
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Permissions []string   `json:"permissions"`
	Builtin     bool       `json:"builtin"`
	CreatedAt   *time.Time `json:"created_at,omitempty"`
	UpdatedAt   *time.Time `json:"updated_at,omitempty"`
}

// MFAReset answers a user's MFA reset: Removed is false when the user had
// no TOTP to remove.
type MFAReset struct {
	User    User `json:"user"`
	Removed bool `json:"removed"`
}

// SigningKey is a token signing key (public facts only).
type SigningKey struct {
	ID        string     `json:"id"`
	Algorithm string     `json:"algorithm"`
	State     string     `json:"state"`
	Signing   bool       `json:"signing"`
	CreatedAt time.Time  `json:"created_at"`
	ActiveAt  time.Time  `json:"active_at"`
	RetiredAt *time.Time `json:"retired_at,omitempty"`
}

// AuditRecord is one event of the hash-chained audit trail.
type AuditRecord struct {
	Seq      int64           `json:"seq"`
	Time     time.Time       `json:"time"`
	Type     string          `json:"type"`
	Event    json.RawMessage `json:"event"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// AuditVerify is the result of checking the audit chain.
type AuditVerify struct {
	OK      bool   `json:"ok"`
	Checked int64  `json:"checked"`
	Error   string `json:"error,omitempty"`
}
