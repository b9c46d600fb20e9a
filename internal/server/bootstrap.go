package server

import (
	"context"
	"errors"
	"fmt"
	"slices"

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
			// Native clients that use localhost (RFC 8252 §8.3), such as
			// kubelogin's default http://localhost:8000.
			"http://localhost/callback",
			"http://localhost",
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
	err = st.CreateClient(ctx, cli)
	if errors.Is(err, storage.ErrAlreadyExists) {
		err = upgradeCLIClient(ctx, st, cli)
	}
	if err != nil {
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

// upgradeCLIClient gives the built-in client of a database made by an
// older version the redirect URIs it has gained since; it removes nothing
// and writes only when something is missing.
func upgradeCLIClient(ctx context.Context, st storage.Store, want *storage.Client) error {
	cur, err := st.GetClient(ctx, CLIClientID)
	if err != nil {
		return err
	}
	missing := slices.DeleteFunc(slices.Clone(want.RedirectURIs), func(u string) bool { return slices.Contains(cur.RedirectURIs, u) })
	if len(missing) == 0 {
		return nil
	}
	return st.UpdateClient(ctx, CLIClientID, func(c *storage.Client) error {
		for _, u := range missing {
			if !slices.Contains(c.RedirectURIs, u) {
				c.RedirectURIs = append(c.RedirectURIs, u)
			}
		}
		return nil
	})
}
