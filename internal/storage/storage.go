// Package storage defines what the authorization server persists and the
// contract every backend meets. Backends live in the sqlite and postgres
// subpackages; storagetest.Run is the conformance suite they all pass.
//
// Secrets never reach storage in the clear: authorization codes, refresh
// tokens, device codes, session ids and client secrets are stored as
// SHA-256 hashes (hex), passwords as argon2id strings and signing keys
// encrypted with the server's secret key.
//
// Single-use things (codes, refresh tokens, device codes) change inside one
// transaction through an updater closure: the backend loads the row with a
// write lock, calls the closure, and writes the result only if the closure
// returned nil. Two concurrent callers therefore never both see the same
// unused code or token.
package storage

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors every backend returns; the conformance suite asserts them.
var (
	ErrNotFound      = errors.New("storage: not found")
	ErrAlreadyExists = errors.New("storage: already exists")
	// ErrLastRoleHolder stops a change that would leave no enabled user
	// with a guarded role (UpdateUserKeepingRole, DeleteUserKeepingRole).
	ErrLastRoleHolder = errors.New("storage: the last enabled user with the role")
)

// Client is a registered OAuth client.
type Client struct {
	ID   string
	Name string
	// SecretHash is the SHA-256 (hex) of the client secret; empty for
	// public clients and private_key_jwt clients.
	SecretHash string
	Public     bool
	// AuthMethod is the one token endpoint authentication method the client
	// may use (protocol.AuthMethod*).
	AuthMethod string
	// JWKS is the client's public key set (JSON) for private_key_jwt.
	JWKS         string
	RedirectURIs []string
	// PostLogoutRedirectURIs are where RP-initiated logout may send the
	// browser afterwards (OIDC RP-Initiated Logout 1.0 §3), exact match.
	PostLogoutRedirectURIs []string
	GrantTypes             []string
	Scopes                 []string
	Roles                  []string
	// Audiences are the resources (RFC 8707 resource indicators: absolute
	// URIs) the client may ask tokens for; they are also its default
	// audience when a request names none. The server's own APIs (the admin
	// and account resources) are never a default.
	Audiences []string
	// FirstParty clients skip the consent screen and are the only ones
	// that may obtain the admin and account scopes and resources.
	FirstParty bool
	// RequirePAR makes the client's authorization requests valid only
	// when pushed first (RFC 9126 §6
	// require_pushed_authorization_requests).
	RequirePAR bool
	// DPoPRequired makes the token endpoint refuse the client's requests
	// without a DPoP proof (RFC 9449 §5: invalid_dpop_proof), so every
	// token it gets is bound to a key.
	DPoPRequired bool
	// TerminalLogin lets the client sign users in with the password grant
	// (RFC 6749 §4.3; `gatehouse login --terminal`). An admin turns it on;
	// it is honoured only while FirstParty is true.
	TerminalLogin bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// User is a local user account.
type User struct {
	ID string
	// Username is stored normalised (trimmed, lower case); lookups normalise too.
	Username     string
	PasswordHash string // argon2id PHC string
	Roles        []string
	Disabled     bool
	// Email is optional ("" when unset) and unique among users regardless
	// of case when set; a duplicate is ErrAlreadyExists. EmailVerified
	// says whether it was verified (OIDC Core §5.1 email_verified).
	Email         string
	EmailVerified bool
	// Name is the display name (OIDC Core §5.1 name), optional.
	Name string
	// ConnectorID, when set, says the user signs in through that
	// connector (an LDAP directory or an upstream OpenID Connect
	// provider) rather than with a local password. ConnectorSubject is
	// the subject the connector vouches for; the pair is unique once the
	// subject is set (a duplicate is ErrAlreadyExists). An administrator
	// may pre-create a user with ConnectorID and no subject: the first
	// sign-in links it.
	ConnectorID      string
	ConnectorSubject string
	// Groups are the upstream groups of the last sign-in or refresh
	// through the connector; nil for local users.
	Groups    []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AuthCode is an authorization code (RFC 6749 §4.1.2).
type AuthCode struct {
	Hash                string // SHA-256 hex of the code
	ClientID            string
	UserID              string
	RedirectURI         string // as sent to /authorize; empty if omitted
	Scopes              []string
	CodeChallenge       string
	CodeChallengeMethod string
	Nonce               string
	// Resources are the resource indicators (RFC 8707) the authorization
	// was given for: the audiences of the tokens it can produce.
	Resources []string
	AuthTime  time.Time
	ExpiresAt time.Time
	CreatedAt time.Time
	// Redeemed is set when the code is exchanged; GrantID names the grant
	// (token family) it produced, so a replay can revoke it.
	Redeemed bool
	GrantID  string
	// DPoPJKT is the dpop_jkt parameter of the authorization request
	// (RFC 9449 §10): the code is redeemed only with a DPoP proof of that
	// key. Empty when none was sent.
	DPoPJKT string
}

// PushedRequest is an authorization request a client pushed to the PAR
// endpoint (RFC 9126 §2), kept until /authorize uses its request_uri.
type PushedRequest struct {
	Hash     string // SHA-256 hex of the random part of the request_uri
	ClientID string
	// Params are the authorization request parameters as pushed and
	// validated (client_id, redirect_uri, scope, state, PKCE...).
	Params map[string][]string
	// OpenedAt is when /authorize first received the request_uri (zero
	// before); the sign-in that follows may return to /authorize with it
	// until Used.
	OpenedAt time.Time
	// Used is set when the authorization response (a code or an error)
	// was sent: the request_uri is then spent (RFC 9126 §4, one-time use).
	Used      bool
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Grant is a token family: everything issued from one authorization code or
// device approval. Revoking it makes every refresh token and access token of
// the family inactive.
type Grant struct {
	ID       string
	ClientID string
	UserID   string
	Scopes   []string
	// Resources are the resource indicators the family was authorised for;
	// each access token's aud is these or a subset a request asked for.
	Resources []string
	AuthTime  time.Time
	CreatedAt time.Time
	ExpiresAt time.Time
	Revoked   bool
	RevokedAt time.Time
}

// RefreshToken is one opaque refresh token of a grant.
type RefreshToken struct {
	Hash      string // SHA-256 hex of the token
	GrantID   string
	ClientID  string
	UserID    string
	Scopes    []string
	CreatedAt time.Time
	ExpiresAt time.Time
	// Rotated is set once the token has been exchanged for a new one; any
	// later presentation is reuse (RFC 9700 §4.14.2).
	Rotated bool
	// RotatedAt is when Rotated was set (zero before, and for tokens
	// rotated before this field existed).
	RotatedAt time.Time
	Revoked   bool
	// DPoPJKT is the JWK SHA-256 thumbprint (RFC 7638) of the key the
	// token is bound to: a public client's refresh token issued with a
	// DPoP proof is used only with a proof of the same key (RFC 9449 §5).
	// Empty when unbound.
	DPoPJKT string
	// RetryKeyHash and RetrySuccessor let the request that rotated this
	// token be repeated with the same Idempotency-Key (a client killed
	// before it saved the answer): the SHA-256 hex of that request's key
	// (bound to its DPoP key), and the successor refresh token sealed with
	// the server's secret key. Both are empty unless the rotating request
	// carried a key. RotateRefreshToken stores them as its fn leaves them
	// on old.
	RetryKeyHash   string
	RetrySuccessor []byte
}

// Device code statuses.
const (
	DeviceStatusPending  = "pending"
	DeviceStatusApproved = "approved"
	DeviceStatusDenied   = "denied"
	DeviceStatusConsumed = "consumed"
)

// DeviceCode is a device authorization (RFC 8628).
type DeviceCode struct {
	Hash       string // SHA-256 hex of the device_code
	UserCode   string // normalised: upper case, no separator
	ClientID   string
	Scopes     []string
	Resources  []string // resource indicators asked for (RFC 8707)
	Status     string
	UserID     string // set on approval
	AuthTime   time.Time
	Interval   time.Duration // current polling interval (grows on slow_down)
	LastPolled time.Time
	GrantID    string // set when tokens were issued
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// Session is a browser login session at the server.
type Session struct {
	Hash      string // SHA-256 hex of the cookie value
	UserID    string
	AuthTime  time.Time
	CreatedAt time.Time
	ExpiresAt time.Time
	// IP is the client address at sign-in and UserAgent the browser's
	// User-Agent then (bounded in length by the server); both are ""
	// for sessions stored before they were kept.
	IP        string
	UserAgent string
	// LastSeen is when the session was last used, to within the
	// server's touch interval; zero until the first touch.
	LastSeen time.Time
}

// ProxySession is a browser session at the gateway (gatehouse proxy),
// stored for package internal/proxy/session.
type ProxySession struct {
	Hash      string // SHA-256 hex of the cookie value
	UserID    string
	Username  string
	Email     string
	Roles     []string
	AuthTime  time.Time
	CreatedAt time.Time
	LastSeen  time.Time
	ExpiresAt time.Time
	Data      []byte // opaque; empty comes back nil
	// Groups are the groups the issuer vouched for at login; empty comes
	// back nil.
	Groups []string
	// EmailVerified says the issuer vouched for Email (false for sessions
	// stored before it was kept).
	EmailVerified bool
}

// SigningKey is a JWT signing key. The key is published in JWKS from
// CreatedAt, used for signing from ActiveAt, and stays published until
// RetiredAt plus the longest access token lifetime.
type SigningKey struct {
	ID                  string // kid
	Algorithm           string // ES256 or EdDSA
	PublicJWK           string // JSON
	EncryptedPrivateKey []byte // sealed with the server secret key
	CreatedAt           time.Time
	ActiveAt            time.Time
	RetiredAt           time.Time // zero while in use
}

// Consent records that a user allowed a third-party client some scopes.
type Consent struct {
	UserID    string
	ClientID  string
	Scopes    []string
	CreatedAt time.Time
}

// APIKey is a long-lived credential for scripts and services, presented as
// a bearer token "gatehouse_<id>_<secret>" (package apikey).
type APIKey struct {
	ID   string // the public part of the key (16 characters of [a-z0-9])
	Name string
	// SecretHash is the SHA-256 (hex) of the secret part of the key.
	SecretHash string
	// UserID, when set, makes the key act as that user: it gets the user's
	// current roles (intersected with Roles when Roles is not empty) and
	// stops working when the user is disabled or deleted.
	UserID     string
	Scopes     []string
	Roles      []string
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never expires
	RevokedAt  time.Time // zero: not revoked
	LastUsedAt time.Time // zero: never used
}

// Role is a custom role: a named set of permissions, scope-like strings
// (RFC 6749 §3.3 scope tokens) such as "runs:launch". Users, clients and
// API keys name roles in their Roles; tokens carry the union of the
// permissions of the subject's roles. The built-in roles (admin, editor,
// viewer) are not stored.
type Role struct {
	Name        string
	Description string
	Permissions []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TOTP is a user's time-based one-time password state (RFC 6238) for
// multi-factor login. It exists from the start of enrolment; Enrolled is
// set once the user confirmed a first valid code.
type TOTP struct {
	UserID string
	// EncryptedSecret is the raw TOTP secret sealed with the server secret
	// key (additional data "totp:" + UserID).
	EncryptedSecret []byte
	Enrolled        bool
	// LastStep is the last accepted time step (Unix time / 30); a code of
	// a step at or before it is a replay.
	LastStep int64
	// RecoveryCodes are the SHA-256 (hex) of the unused recovery codes;
	// a used one is removed.
	RecoveryCodes []string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// Failures counts the wrong codes since the last accepted one, and
	// LockedUntil (zero when not locked) is when the next code may be
	// tried: the server's back-off against guessing.
	Failures    int
	LockedUntil time.Time
	// TerminalChallenge is the SHA-256 (hex) of the nonce of the one
	// outstanding mfa_token of a terminal sign-in ("" when none); the
	// server clears it when it accepts a code for it.
	TerminalChallenge string
}

// Passkey is a WebAuthn credential (WebAuthn Level 3 §4 "credential
// record") registered by a user for signing in. CredentialID is unique
// across all users.
type Passkey struct {
	// ID is the server's own identifier of the passkey (for the account
	// page and the audit trail); CredentialID is the authenticator's.
	ID           string
	UserID       string
	CredentialID []byte
	// PublicKey is the credential public key in COSE_Key form.
	PublicKey []byte
	// AttestationType ("none", "self", "basic_full", ...) and
	// AttestationFormat ("none", "packed", ...) as registered.
	AttestationType   string
	AttestationFormat string
	// AAGUID identifies the authenticator model (16 bytes; all zero when
	// the authenticator does not say).
	AAGUID []byte
	// SignCount is the last signature counter the authenticator reported.
	SignCount uint32
	// UserVerified, BackupEligible and BackupState are the UV, BE and BS
	// flags of the authenticator data; BackupState (a synced passkey)
	// changes over the passkey's life and is updated at each sign-in.
	UserVerified   bool
	BackupEligible bool
	BackupState    bool
	// Transports are the authenticator's transports ("internal", "usb",
	// "hybrid", ...), as hints for later sign-ins.
	Transports []string
	// Name is the user's name for the passkey.
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until first used
}

// Store is the persistence contract of the authorization server.
//
// Get* methods return ErrNotFound when nothing matches; Create* methods
// return ErrAlreadyExists on a duplicate key. Update* methods load the row
// under a write lock, call fn with a copy, and store the copy only if fn
// returns nil; fn's error is returned unchanged (wrapped errors stay
// comparable with errors.Is). fn may run more than once if the backend
// retries a serialisation failure, so it must not have side effects.
//
// It is made of one interface per kind of record, which consumers that
// need only one kind take instead (the gateway's session store takes
// ProxySessionStore, the key manager SigningKeyStore).
type Store interface {
	ClientStore
	UserStore
	AuthCodeStore
	PushedRequestStore
	GrantStore
	RevocationStore
	JTIStore
	DeviceCodeStore
	SessionStore
	ProxySessionStore
	TOTPStore
	PasskeyStore
	RoleStore
	ConsentStore
	SigningKeyStore
	APIKeyStore
	AuditStore
	ExpiryStore
	Pinger
	Close() error
}

// ClientStore is the part of Store for registered OAuth clients.
type ClientStore interface {
	// Clients.
	CreateClient(ctx context.Context, c *Client) error
	GetClient(ctx context.Context, id string) (*Client, error)
	ListClients(ctx context.Context) ([]*Client, error)
	UpdateClient(ctx context.Context, id string, fn func(*Client) error) error
	DeleteClient(ctx context.Context, id string) error
}

// UserStore is the part of Store for users and their directory links.
type UserStore interface {
	// Users. Usernames are unique after normalisation.
	CreateUser(ctx context.Context, u *User) error
	GetUser(ctx context.Context, id string) (*User, error)
	GetUserByName(ctx context.Context, username string) (*User, error)
	// GetUserByIdentity returns the user linked to subject at the
	// connector connectorID; an empty subject or no such user is
	// ErrNotFound.
	GetUserByIdentity(ctx context.Context, connectorID, subject string) (*User, error)
	ListUsers(ctx context.Context) ([]*User, error)
	UpdateUser(ctx context.Context, id string, fn func(*User) error) error
	// DeleteUser removes the user and their sessions, grants and consents.
	// It also deletes the API keys acting as the user.
	DeleteUser(ctx context.Context, id string) error
	// UpdateUserKeepingRole is UpdateUser that fails with
	// ErrLastRoleHolder when the user is enabled with role before fn and
	// not after, and no other enabled user has role. The check and the
	// change are one transaction holding the row locks of every enabled
	// user, so two concurrent demotions (or deletions) of the last two
	// holders never both succeed.
	UpdateUserKeepingRole(ctx context.Context, id, role string, fn func(*User) error) error
	// DeleteUserKeepingRole is DeleteUser with the guard of
	// UpdateUserKeepingRole.
	DeleteUserKeepingRole(ctx context.Context, id, role string) error
}

// AuthCodeStore is the part of Store for authorization codes.
type AuthCodeStore interface {
	// Authorization codes.
	CreateAuthCode(ctx context.Context, c *AuthCode) error
	UpdateAuthCode(ctx context.Context, hash string, fn func(*AuthCode) error) error
}

// PushedRequestStore is the part of Store for pushed authorization requests.
type PushedRequestStore interface {
	// Pushed authorization requests (RFC 9126). UpdatePushedRequest
	// changes one under a write lock, like UpdateAuthCode; an unknown hash
	// is ErrNotFound. Expired ones go with DeleteExpired.
	CreatePushedRequest(ctx context.Context, p *PushedRequest) error
	UpdatePushedRequest(ctx context.Context, hash string, fn func(*PushedRequest) error) error
}

// GrantStore is the part of Store for grants (token families) and their refresh tokens.
type GrantStore interface {
	// Grants (token families) and refresh tokens.
	CreateGrant(ctx context.Context, g *Grant) error
	GetGrant(ctx context.Context, id string) (*Grant, error)
	// RevokeGrant marks the grant and all its refresh tokens revoked. It
	// succeeds on an already revoked grant and returns ErrNotFound for an
	// unknown one.
	RevokeGrant(ctx context.Context, id string, at time.Time) error
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	GetRefreshToken(ctx context.Context, hash string) (*RefreshToken, error)
	// RotateRefreshToken exchanges a refresh token in one transaction: it
	// locks the row with hash, calls fn with a copy of it (and of its
	// grant), and if fn returns a new token without error it marks the old
	// one Rotated (RotatedAt = the new token's CreatedAt), with the
	// RetryKeyHash and RetrySuccessor fn set on old, and inserts the new
	// one. fn sees Rotated or Revoked tokens too, so it can detect reuse.
	RotateRefreshToken(ctx context.Context, hash string, fn func(old *RefreshToken, g *Grant) (*RefreshToken, error)) error
}

// RevocationStore is the part of Store for revoked access tokens.
type RevocationStore interface {
	// Revoked access tokens (by jti), kept until they would have expired.
	RevokeAccessToken(ctx context.Context, jti string, expiresAt time.Time) error
	IsAccessTokenRevoked(ctx context.Context, jti string) (bool, error)
}

// JTIStore is the part of Store for client assertion replay protection.
type JTIStore interface {
	// Client assertion replay protection: UseJTI records jti until
	// expiresAt and returns ErrAlreadyExists if it was already recorded.
	UseJTI(ctx context.Context, jti string, expiresAt time.Time) error
}

// DeviceCodeStore is the part of Store for device authorization codes.
type DeviceCodeStore interface {
	// Device codes.
	CreateDeviceCode(ctx context.Context, d *DeviceCode) error
	GetDeviceCodeByUserCode(ctx context.Context, userCode string) (*DeviceCode, error)
	UpdateDeviceCode(ctx context.Context, hash string, fn func(*DeviceCode) error) error
}

// SessionStore is the part of Store for the server's browser sessions.
type SessionStore interface {
	// Browser sessions.
	CreateSession(ctx context.Context, s *Session) error
	GetSession(ctx context.Context, hash string) (*Session, error)
	DeleteSession(ctx context.Context, hash string) error
	// TouchSession sets LastSeen; it returns ErrNotFound for an unknown
	// session or one expired at lastSeen.
	TouchSession(ctx context.Context, hash string, lastSeen time.Time) error
	// ListUserSessions returns userID's sessions (expired ones included)
	// by CreatedAt then Hash.
	ListUserSessions(ctx context.Context, userID string) ([]*Session, error)
	// DeleteUserSessions deletes userID's sessions except the one with
	// hash exceptHash ("" keeps none) and returns how many went.
	DeleteUserSessions(ctx context.Context, userID, exceptHash string) (int64, error)
}

// ProxySessionStore is the part of Store for the gateway's browser sessions.
type ProxySessionStore interface {
	// Gateway browser sessions. GetProxySession returns expired ones too.
	// TouchProxySession sets LastSeen; it returns ErrNotFound for an
	// unknown session and for one whose ExpiresAt is not after lastSeen.
	// DeleteProxySession returns ErrNotFound for an unknown session.
	// DeleteUserProxySessions deletes all of userID's and returns how many
	// went. DeleteExpired removes expired ones.
	CreateProxySession(ctx context.Context, s *ProxySession) error
	GetProxySession(ctx context.Context, hash string) (*ProxySession, error)
	TouchProxySession(ctx context.Context, hash string, lastSeen time.Time) error
	DeleteProxySession(ctx context.Context, hash string) error
	DeleteUserProxySessions(ctx context.Context, userID string) (int64, error)
}

// TOTPStore is the part of Store for TOTP state.
type TOTPStore interface {
	// TOTP state, one per user. DeleteUser deletes it too.
	CreateTOTP(ctx context.Context, t *TOTP) error
	GetTOTP(ctx context.Context, userID string) (*TOTP, error)
	UpdateTOTP(ctx context.Context, userID string, fn func(*TOTP) error) error
	DeleteTOTP(ctx context.Context, userID string) error
}

// PasskeyStore is the part of Store for passkeys.
type PasskeyStore interface {
	// Passkeys. CreatePasskey returns ErrAlreadyExists for a duplicate ID
	// or CredentialID; ListUserPasskeys lists userID's by CreatedAt then
	// ID; DeletePasskey returns ErrNotFound for an unknown one. DeleteUser
	// deletes the user's passkeys too.
	CreatePasskey(ctx context.Context, p *Passkey) error
	GetPasskey(ctx context.Context, id string) (*Passkey, error)
	GetPasskeyByCredentialID(ctx context.Context, credentialID []byte) (*Passkey, error)
	ListUserPasskeys(ctx context.Context, userID string) ([]*Passkey, error)
	UpdatePasskey(ctx context.Context, id string, fn func(*Passkey) error) error
	DeletePasskey(ctx context.Context, id string) error
}

// RoleStore is the part of Store for custom roles.
type RoleStore interface {
	// Custom roles, listed by Name. DeleteRole returns ErrNotFound for an
	// unknown role; it does not check who holds the role.
	CreateRole(ctx context.Context, r *Role) error
	GetRole(ctx context.Context, name string) (*Role, error)
	ListRoles(ctx context.Context) ([]*Role, error)
	UpdateRole(ctx context.Context, name string, fn func(*Role) error) error
	DeleteRole(ctx context.Context, name string) error
}

// ConsentStore is the part of Store for consents.
type ConsentStore interface {
	// Consents.
	GetConsent(ctx context.Context, userID, clientID string) (*Consent, error)
	SaveConsent(ctx context.Context, c *Consent) error // insert or replace
}

// SigningKeyStore is the part of Store for signing keys.
type SigningKeyStore interface {
	// Signing keys, newest first.
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	ListSigningKeys(ctx context.Context) ([]*SigningKey, error)
	UpdateSigningKey(ctx context.Context, id string, fn func(*SigningKey) error) error
}

// APIKeyStore is the part of Store for API keys.
type APIKeyStore interface {
	// API keys, listed by CreatedAt then ID. DeleteUser deletes the keys
	// acting as the user; expired and revoked keys stay until deleted.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	GetAPIKey(ctx context.Context, id string) (*APIKey, error)
	ListAPIKeys(ctx context.Context) ([]*APIKey, error)
	UpdateAPIKey(ctx context.Context, id string, fn func(*APIKey) error) error
}

// AuditStore is the part of Store for the hash-chained audit trail.
type AuditStore interface {
	// Audit trail (see AuditRecord). AppendAudit appends events, each the
	// canonical JSON of one event object with "time" (RFC 3339) and "type"
	// members, in order and in one transaction that holds the chain head
	// locked, so concurrent appenders (several replicas) form one chain. It
	// returns the new records. AuditHead returns the seq and hash of the
	// last record (0 and AuditGenesisHash when there is none). ListAudit
	// returns matching records in Seq order; ScanAudit calls fn for every
	// record after afterSeq in Seq order, streaming, and stops at fn's
	// first error, which it returns unchanged.
	AppendAudit(ctx context.Context, events [][]byte) ([]*AuditRecord, error)
	AuditHead(ctx context.Context) (seq int64, hash string, err error)
	ListAudit(ctx context.Context, f AuditFilter) ([]*AuditRecord, error)
	ScanAudit(ctx context.Context, afterSeq int64, fn func(*AuditRecord) error) error
	// PruneAudit deletes the records up to seq through (never the head
	// record, which appenders chain to) and moves the checkpoint to the
	// last one deleted, in one transaction. It returns how many went.
	// AuditCheckpoint returns the seq and hash of the last pruned record
	// (0 and AuditGenesisHash when nothing was pruned).
	PruneAudit(ctx context.Context, through int64) (int64, error)
	AuditCheckpoint(ctx context.Context) (seq int64, hash string, err error)
}

// ExpiryStore is the part of Store for removal of expired rows.
type ExpiryStore interface {
	// DeleteExpired removes codes, device codes, pushed authorization
	// requests, sessions (the server's and the gateway's), refresh
	// tokens, revoked-jti rows and grants that expired before now, and
	// returns how many rows went.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}

// Pinger is the part of Store for readiness.
type Pinger interface {
	// Ping checks that the database answers (readiness).
	Ping(ctx context.Context) error
}
