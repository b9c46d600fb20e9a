// Package credstore keeps what a login leaves behind — tokens, API keys,
// client secrets — for the Gatehouse client library and CLI, behind one
// Store interface with several backends: a versioned JSON file (0600 in a
// 0700 directory, written atomically), the OS keyring, and memory.
//
// A profile's stored credential is changed by several processes at once
// (every `gatehouse token` may refresh), so each profile has a sidecar lock
// file, never the data file itself: Lock it, re-read, decide, write, unlock.
//
// # Backends
//
//   - File (NewFile): dir/credentials.json, {"version": 1, "profiles": {...}},
//     written atomically (temporary file, fsync, rename, fsync of the
//     directory), so a crash or SIGKILL never leaves a partial file.
//   - Keyring (NewKeyring): the OS keyring holds a small random data key per
//     profile; the credential, encrypted with it (AES-256-GCM), lives in
//     dir/credentials-keyring.json under the same rules as File. Every
//     keyring call has a timeout (WithTimeout). The OS keyring itself is
//     package credstore/oskeyring (NewKeyring(oskeyring.Backend{}, ...)),
//     so that only programs that use it link its D-Bus client.
//   - Memory (NewMemory): in the process only.
//
// Every backend reads a corrupt, truncated or unknown-version store as
// empty (ErrNotFound) and says so once through WithWarn; none crashes on
// it. Profile names follow ValidateProfile in every backend, so a
// credential can always move between them (Migrate).
//
// # Choosing a backend
//
// Resolve turns the storage setting (flag, then GATEHOUSE_AUTH_STORAGE,
// then the config file, then "auto") into a Store and a Resolution that
// says which one and why. "auto" probes the keyring and falls back to the
// file store, before anything is written, with a one-line notice; the
// choice is pinned through a callback so later runs do not probe again.
// Where the keyring needs a D-Bus session bus and there is none, "auto"
// does not probe at all (ErrNoSessionBus).
// An explicit "keyring" never falls back: it fails with what to do.
//
// # Secrets in output
//
// Mask shows a secret as "****" plus its last 4 characters, and
// Credential.Redacted masks every secret field (a login's DPoP private key
// included, which every backend keeps exactly like the tokens), for status
// and profile listings. Formatting a Credential with fmt, or logging it with log/slog,
// masks its secrets too; only reading the fields (or encoding/json, which
// the stores use) yields them.
//
// # Testing
//
// Package credstoretest is the conformance suite every backend passes;
// run it on a new Store implementation.
package credstore

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when a profile has no stored credential.
var ErrNotFound = errors.New("credstore: not found")

// Kinds of credential.
const (
	KindUser              = "user"               // browser or device login: access + refresh token
	KindClientCredentials = "client_credentials" // a client id + secret
	KindAPIKey            = "api_key"            // a Gatehouse API key
)

// Credential is what is stored for one profile.
type Credential struct {
	Kind         string    `json:"kind"`
	Issuer       string    `json:"issuer"`
	ClientID     string    `json:"client_id,omitempty"`
	ClientSecret string    `json:"client_secret,omitempty"`
	APIKey       string    `json:"api_key,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	AccessToken  string    `json:"access_token,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	IDToken      string    `json:"id_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	Scopes       []string  `json:"scopes,omitempty"`
	Subject      string    `json:"subject,omitempty"`
	Username     string    `json:"username,omitempty"`
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
	// DPoPKey is the private half of the profile's DPoP key pair (RFC
	// 9449), PEM PKCS #8 as dpop.MarshalKey writes it, when the login's
	// tokens are bound to it: the server then accepts them only with a
	// proof signed by this key, so copying the tokens elsewhere is not
	// enough to use them. Empty for a bearer login (and for every login
	// stored before DPoP existed). It is a secret like the refresh token,
	// kept by every backend exactly as the tokens are (the Keyring store
	// encrypts it with them) and masked like them in output.
	DPoPKey string `json:"dpop_key,omitempty"`
	// PendingRefreshKey is the Idempotency-Key of a refresh of
	// RefreshToken that may have reached the server but whose answer was
	// not stored (the process died in between). The client writes it
	// before it sends the refresh, sends the same key again on the next
	// attempt, so a server that already rotated the token answers with
	// the same successor instead of refusing a spent token, and clears it
	// with the answer. Empty when no refresh is outstanding. With the
	// refresh token it allows that one retry, so it is masked like the
	// tokens.
	PendingRefreshKey string `json:"pending_refresh_key,omitempty"`
}

// Bound reports whether c's tokens are bound to a DPoP key it holds.
func (c *Credential) Bound() bool { return c != nil && c.DPoPKey != "" }

// Store keeps credentials by profile name.
type Store interface {
	// Name is the backend's name: "file", "keyring" or "memory".
	Name() string
	// Get returns the profile's credential or ErrNotFound. A corrupt,
	// truncated or unknown-version store is a miss (ErrNotFound) and the
	// backend reports a warning through its Warn option; never a crash.
	Get(ctx context.Context, profile string) (*Credential, error)
	// Put stores the credential, replacing any previous one, atomically.
	Put(ctx context.Context, profile string, c *Credential) error
	// Delete removes the profile's credential; deleting a missing one is
	// not an error.
	Delete(ctx context.Context, profile string) error
	// List returns the profiles that have a credential, sorted.
	List(ctx context.Context) ([]string, error)
	// Lock takes the profile's exclusive cross-process lock, waiting until
	// ctx ends. The returned function releases it.
	Lock(ctx context.Context, profile string) (unlock func(), err error)
}
