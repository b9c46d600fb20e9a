package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// adminAPI is the server's admin JSON API (docs/admin-api.yaml), reached
// with the CLI's own credentials.
type adminAPI struct {
	hc   *http.Client
	base string // the server's base URL, without a trailing slash
}

// adminAPILong is appended to the Long help of admin commands that can
// work over the admin API.
const adminAPILong = `

Without --db, --data-dir, --config (or GATEHOUSE_DB, GATEHOUSE_DATA_DIR,
GATEHOUSE_CONFIG_FILE), and with credentials at hand (GATEHOUSE_API_KEY or
a stored 'gatehouse login'), the command asks the server's admin API instead:
the server named by --server, or the issuer of the login. The credentials
need the admin role.`

// addServerFlag registers --server on an admin command that can work over
// the admin API.
func addServerFlag(cmd *cobra.Command, serverURL *string) {
	cmd.Flags().StringVar(serverURL, "server", "", "use the admin API of the server at `URL` (default: the issuer of the stored login)")
}

// adminStorageFlags name the database directly; any of them set means the
// command works on the database, not over the API.
var adminStorageFlags = []string{"db", "data-dir", "config"}

// adminStorageEnv are the environment variables naming the database.
var adminStorageEnv = []string{"GATEHOUSE_DB", "GATEHOUSE_DATA_DIR", "GATEHOUSE_CONFIG_FILE"}

// openAdminAPI decides how an admin command runs. It returns nil (work on
// the database) when a database flag or variable is set, or when no
// credentials are available and --server was not given; otherwise the
// admin API of --server or of the stored login's issuer.
func openAdminAPI(ctx context.Context, cmd *cobra.Command, streams IOStreams, serverURL string) (*adminAPI, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	for _, name := range adminStorageFlags {
		if f := cmd.Flags().Lookup(name); f != nil && f.Changed {
			if serverURL != "" {
				return nil, usageErrorf("--server and --%s are exclusive: use the admin API or the database", name)
			}
			return nil, nil
		}
	}
	for _, name := range adminStorageEnv {
		if streams.Getenv(name) != "" && serverURL == "" {
			return nil, nil
		}
	}
	hc, res, err := newAuthApp(streams).Client(ctx)
	if err != nil {
		if serverURL != "" {
			return nil, fmt.Errorf("admin API: %w", err)
		}
		return nil, nil
	}
	base := serverURL
	if base == "" {
		base = res.Issuer
	}
	if base == "" {
		return nil, nil
	}
	return &adminAPI{hc: hc, base: strings.TrimRight(base, "/")}, nil
}

// get fetches path under /admin/v1 and decodes the JSON answer into v.
func (a *adminAPI) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+server.PathAdmin+path, nil)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("admin API: read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Code        string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(body, &e) == nil && e.Code != "" {
			return fmt.Errorf("admin API: %s (%d %s): %s", path, resp.StatusCode, e.Code, e.Description)
		}
		return fmt.Errorf("admin API: %s: HTTP %d", path, resp.StatusCode)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("admin API: decode %s: %w", path, err)
	}
	return nil
}

// apiUser is a user as the admin API returns it.
type apiUser struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Roles     []string  `json:"roles"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// listUsers returns the users, as storage.User values without passwords.
func (a *adminAPI) listUsers(ctx context.Context) ([]*storage.User, error) {
	var resp struct {
		Users []apiUser `json:"users"`
	}
	if err := a.get(ctx, "/users", &resp); err != nil {
		return nil, err
	}
	out := make([]*storage.User, 0, len(resp.Users))
	for _, u := range resp.Users {
		out = append(out, &storage.User{ID: u.ID, Username: u.Username, Roles: u.Roles, Disabled: u.Disabled, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt})
	}
	return out, nil
}

// apiClient is a client as the admin API returns it.
type apiClient struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Public       bool      `json:"public"`
	AuthMethod   string    `json:"auth_method"`
	RedirectURIs []string  `json:"redirect_uris"`
	GrantTypes   []string  `json:"grant_types"`
	Scopes       []string  `json:"scopes"`
	Roles        []string  `json:"roles"`
	FirstParty   bool      `json:"first_party"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// listClients returns the clients, as storage.Client values without
// secrets.
func (a *adminAPI) listClients(ctx context.Context) ([]*storage.Client, error) {
	var resp struct {
		Clients []apiClient `json:"clients"`
	}
	if err := a.get(ctx, "/clients", &resp); err != nil {
		return nil, err
	}
	out := make([]*storage.Client, 0, len(resp.Clients))
	for _, c := range resp.Clients {
		out = append(out, &storage.Client{ID: c.ID, Name: c.Name, Public: c.Public, AuthMethod: c.AuthMethod, RedirectURIs: c.RedirectURIs,
			GrantTypes: c.GrantTypes, Scopes: c.Scopes, Roles: c.Roles, FirstParty: c.FirstParty, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
	}
	return out, nil
}
