package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Built-in roles carried in the roles claim.
const (
	RoleAdmin  = "admin"
	RoleEditor = "editor"
	RoleViewer = "viewer"
)

// BuiltinRoles lists the roles every server knows.
var BuiltinRoles = []string{RoleAdmin, RoleEditor, RoleViewer}

// CLIClient is the built-in public client used by the gatehouse CLI: PKCE,
// device flow and refresh, loopback redirect URIs on any port (RFC 8252 §7.3).
func CLIClient() *storage.Client {
	return &storage.Client{
		ID:         CLIClientID,
		Name:       "Gatehouse CLI",
		Public:     true,
		AuthMethod: protocol.AuthMethodNone,
		RedirectURIs: []string{
			"http://127.0.0.1/callback",
			"http://[::1]/callback",
		},
		GrantTypes: []string{protocol.GrantAuthorizationCode, protocol.GrantDeviceCode, protocol.GrantRefreshToken},
		Scopes:     []string{"openid", "profile", "offline_access"},
		FirstParty: true,
	}
}

// Bootstrap prepares an empty database: it creates the user "admin" (with
// adminPassword, or a generated one that it returns) and the public client
// gatehouse-cli. It changes nothing that already exists, so it is safe on
// every start.
func Bootstrap(ctx context.Context, st storage.Store, h *password.Hasher, adminPassword string, clk clock.Clock) (generated string, err error) {
	now := clk.Now().UTC()
	cli := CLIClient()
	cli.CreatedAt, cli.UpdatedAt = now, now
	if err := st.CreateClient(ctx, cli); err != nil && !errors.Is(err, storage.ErrAlreadyExists) {
		return "", fmt.Errorf("bootstrap: create %s client: %w", CLIClientID, err)
	}
	users, err := st.ListUsers(ctx)
	if err != nil {
		return "", fmt.Errorf("bootstrap: list users: %w", err)
	}
	if len(users) > 0 {
		return "", nil
	}
	pw := adminPassword
	if pw == "" {
		generated = secret.NewToken()[:24]
		pw = generated
	}
	hash, err := h.Hash(ctx, pw)
	if err != nil {
		return "", fmt.Errorf("bootstrap: hash admin password: %w", err)
	}
	admin := &storage.User{
		ID:           NewID(),
		Username:     AdminUsername,
		PasswordHash: hash,
		Roles:        []string{RoleAdmin},
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	if err := st.CreateUser(ctx, admin); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return "", nil // another replica won the race
		}
		return "", fmt.Errorf("bootstrap: create admin: %w", err)
	}
	return generated, nil
}

// NewID returns a random identifier for users, grants and tokens
// (128 bits, base64url).
func NewID() string { return secret.NewToken()[:22] }
