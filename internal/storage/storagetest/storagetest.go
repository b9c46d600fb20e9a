// Package storagetest is the conformance suite every storage.Store backend
// passes. A backend's test calls Run with a constructor for a fresh, empty
// store; the suite checks round trips, the sentinel errors, the updater
// contract, cascades, expiry and — most important — that single-use codes
// and tokens stay single-use under concurrent callers.
package storagetest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// test is one conformance check on a fresh store.
type test struct {
	name string
	run  func(t *testing.T, s storage.Store)
}

// Run runs the conformance suite. Its subtests run in parallel, each on
// its own store: newStore must return a new, empty store for each call,
// may be called concurrently, and should close the store when t ends.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	var all []test
	for _, group := range [][]test{
		clientTests, userTests, authCodeTests, pushedRequestTests, grantTests, refreshTokenTests,
		revocationTests, deviceCodeTests, sessionTests, consentTests,
		signingKeyTests, expiryTests, concurrencyTests,
		apiKeyTests,
		auditTests,
		totpTests,
		passkeyTests,
		proxySessionTests,
		roleTests,
		lastHolderTests,
		dpopTests,
		connectorUserTests,
	} {
		all = append(all, group...)
	}
	for _, tc := range all {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newStore(t))
		})
	}
}

// base is the time fixtures start from: millisecond precision, UTC.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

// errStop is what test updaters return to abort an update.
var errStop = errors.New("storagetest: stop")

// hash stands in for the SHA-256 hex the server stores for a secret.
func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// diff fails t when got differs from want.
func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// wantErr fails t unless errors.Is(err, target).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error = %v, want %v", what, err, target)
	}
}

// must fails t now on an error.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func newClient(id string) *storage.Client {
	return &storage.Client{
		ID:                     id,
		Name:                   "Client " + id,
		SecretHash:             hash("secret-" + id),
		AuthMethod:             "client_secret_basic",
		JWKS:                   `{"keys":[]}`,
		RedirectURIs:           []string{"https://app.example/callback", "http://127.0.0.1/cb"},
		PostLogoutRedirectURIs: []string{"https://app.example/signed-out"},
		GrantTypes:             []string{"authorization_code", "refresh_token"},
		Scopes:                 []string{"openid", "profile", "offline_access"},
		Roles:                  []string{"reader"},
		Audiences:              []string{"https://api.example", "https://other.example/x"},
		FirstParty:             true,
		RequirePAR:             true,
		TerminalLogin:          true,
		CreatedAt:              base,
		UpdatedAt:              base.Add(time.Minute),
	}
}

func newUser(id, name string) *storage.User {
	return &storage.User{
		ID:           id,
		Username:     name,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		Roles:        []string{"admin", "user"},
		CreatedAt:    base,
		UpdatedAt:    base,
	}
}

func newGrant(id, clientID, userID string) *storage.Grant {
	return &storage.Grant{
		ID:        id,
		ClientID:  clientID,
		UserID:    userID,
		Scopes:    []string{"openid", "offline_access"},
		Resources: []string{"https://api.example"},
		AuthTime:  base.Add(-time.Minute),
		CreatedAt: base,
		ExpiresAt: base.Add(30 * 24 * time.Hour),
	}
}

func newRefreshToken(secret string, g *storage.Grant) *storage.RefreshToken {
	return &storage.RefreshToken{
		Hash:      hash(secret),
		GrantID:   g.ID,
		ClientID:  g.ClientID,
		UserID:    g.UserID,
		Scopes:    g.Scopes,
		CreatedAt: base,
		ExpiresAt: base.Add(24 * time.Hour),
	}
}

func newAuthCode(secret string) *storage.AuthCode {
	return &storage.AuthCode{
		Hash:                hash(secret),
		ClientID:            "app",
		UserID:              "u1",
		RedirectURI:         "https://app.example/callback",
		Scopes:              []string{"openid"},
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		Nonce:               "n-0S6_WzA2Mj",
		Resources:           []string{"https://api.example", "https://b.example"},
		AuthTime:            base.Add(-time.Second),
		ExpiresAt:           base.Add(time.Minute),
		CreatedAt:           base,
	}
}

func newDeviceCode(secret, userCode string) *storage.DeviceCode {
	return &storage.DeviceCode{
		Hash:      hash(secret),
		UserCode:  userCode,
		ClientID:  "tv",
		Scopes:    []string{"openid", "offline_access"},
		Resources: []string{"https://api.example"},
		Status:    storage.DeviceStatusPending,
		Interval:  5 * time.Second,
		CreatedAt: base,
		ExpiresAt: base.Add(10 * time.Minute),
	}
}

func newSession(secret, userID string) *storage.Session {
	return &storage.Session{
		Hash:      hash(secret),
		UserID:    userID,
		AuthTime:  base,
		CreatedAt: base,
		ExpiresAt: base.Add(12 * time.Hour),
		IP:        "2001:db8::7",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		LastSeen:  base.Add(time.Minute),
	}
}
