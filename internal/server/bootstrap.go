package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Built-in roles carried in the roles claim (package rolereg holds the
// rules for roles).
const (
	RoleAdmin  = rolereg.Admin
	RoleEditor = rolereg.Editor
	RoleViewer = rolereg.Viewer
)

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

// BootstrapOptions tune BootstrapWith.
type BootstrapOptions struct {
	// AdminUser names the admin user to create (default "admin").
	AdminUser string
	// AdminPassword is its password; empty generates one, returned once.
	AdminPassword string
	// Audit receives a user.created and a client.created event (actor
	// "bootstrap") for what is created; nil records nothing.
	Audit *audit.Logger
	Clock clock.Clock
}

// Bootstrap is BootstrapWith for the user "admin" without audit events.
func Bootstrap(ctx context.Context, st storage.Store, h *password.Hasher, adminPassword string, clk clock.Clock) (generated string, err error) {
	return BootstrapWith(ctx, st, h, BootstrapOptions{AdminPassword: adminPassword, Clock: clk})
}

// BootstrapWith makes a database usable: it creates the public client
// gatehouse-cli (or gives an older one the redirect URIs it has gained),
// and, whenever no enabled user holds the admin role, the admin user with
// o.AdminPassword or a generated password that it returns. So a database
// that got users before the server first started (`gatehouse users add`
// on a new data directory) still gets its admin. It changes nothing else,
// so it is safe on every start and on every replica.
func BootstrapWith(ctx context.Context, st storage.Store, h *password.Hasher, o BootstrapOptions) (generated string, err error) {
	clk := o.Clock
	if clk == nil {
		clk = clock.System
	}
	name := strings.ToLower(strings.TrimSpace(o.AdminUser))
	if name == "" {
		name = AdminUsername
	}
	now := clk.Now().UTC()
	cli := CLIClient()
	cli.CreatedAt, cli.UpdatedAt = now, now
	err = st.CreateClient(ctx, cli)
	switch {
	case errors.Is(err, storage.ErrAlreadyExists):
		err = upgradeCLIClient(ctx, st, cli)
	case err == nil && o.Audit != nil:
		o.Audit.Log(audit.Event{Type: audit.ClientCreated, Outcome: audit.Success, Actor: "bootstrap", ClientID: cli.ID,
			Details: map[string]string{"name": cli.Name, "type": "public", "grant_types": strings.Join(cli.GrantTypes, " ")}})
	}
	if err != nil {
		return "", fmt.Errorf("bootstrap: create %s client: %w", CLIClientID, err)
	}
	users, err := st.ListUsers(ctx)
	if err != nil {
		return "", fmt.Errorf("bootstrap: list users: %w", err)
	}
	if slices.ContainsFunc(users, func(u *storage.User) bool { return !u.Disabled && slices.Contains(u.Roles, RoleAdmin) }) {
		return "", nil
	}
	if slices.ContainsFunc(users, func(u *storage.User) bool { return u.Username == name }) {
		return "", fmt.Errorf("bootstrap: no enabled user has the admin role and the username %q is taken: give a user the admin role with `gatehouse users set-role NAME admin --data-dir DIR` (or set GATEHOUSE_ADMIN_USER to a free name)", name)
	}
	pw := o.AdminPassword
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
		Username:     name,
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
	if o.Audit != nil {
		pwSource := "given"
		if generated != "" {
			pwSource = "generated"
		}
		o.Audit.Log(audit.Event{Type: audit.UserCreated, Outcome: audit.Success, Actor: "bootstrap", UserID: admin.ID, Username: admin.Username,
			Details: map[string]string{"roles": RoleAdmin, "password": pwSource}})
	}
	return generated, nil
}

// NewID returns a random identifier for users, grants and tokens
// (secret.NewID).
func NewID() string { return secret.NewID() }

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
