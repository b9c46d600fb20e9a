package admincmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// APIKeysListOptions are the streams, the backend and the flag values of `gatehouse apikeys list`.
type APIKeysListOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend
	Server  string

	JSON bool
}

// NewCmdAPIKeysList is `gatehouse apikeys list`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdAPIKeysList(f *command.Factory, runF func(*APIKeysListOptions) error) *cobra.Command {
	opts := &APIKeysListOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the API keys",
		Long: `List the API keys, oldest first: id, name, the user a key acts as, roles,
scopes, state (active, expired or revoked), and when each was created,
expires, was revoked and was last used. Keys and their hashes are never
shown.

The last use is recorded by the server at most once a minute per key and
written within about 15 seconds, so it is approximate.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse apikeys list
  gatehouse apikeys list --json | jq -r '.[] | select(.state == "active") | .id'`,
		Args: command.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return apiKeysListRun(ctx, opts)
			})
		},
	}
	adminbackend.AddServerFlag(cmd, &opts.Server)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON array of keys")
	return cmd
}

// apiKeyJSON is the stable --json form of an API key. It never carries the
// key or its hash.
type apiKeyJSON struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	UserID     string   `json:"user_id,omitempty"`
	User       string   `json:"user,omitempty"`
	Roles      []string `json:"roles"`
	Scopes     []string `json:"scopes"`
	State      string   `json:"state"`
	CreatedAt  string   `json:"created_at,omitempty"`
	ExpiresAt  string   `json:"expires_at,omitempty"`
	RevokedAt  string   `json:"revoked_at,omitempty"`
	LastUsedAt string   `json:"last_used_at,omitempty"`
}

func toAPIKeyJSON(k *storage.APIKey, usernames map[string]string, now time.Time) apiKeyJSON {
	v := apiKeyJSON{
		ID:         k.ID,
		Name:       k.Name,
		UserID:     k.UserID,
		Roles:      nonNil(k.Roles),
		Scopes:     nonNil(k.Scopes),
		State:      apiKeyState(k, now),
		CreatedAt:  jsonTime(k.CreatedAt),
		ExpiresAt:  jsonTime(k.ExpiresAt),
		RevokedAt:  jsonTime(k.RevokedAt),
		LastUsedAt: jsonTime(k.LastUsedAt),
	}
	if k.UserID != "" {
		v.User = usernames[k.UserID]
		if v.User == "" {
			v.User = "(deleted user " + k.UserID + ")"
		}
	}
	return v
}

func apiKeysListRun(ctx context.Context, opts *APIKeysListOptions) error {
	keys, err := opts.Backend.ListAPIKeys(ctx)
	if err != nil {
		return fmt.Errorf("list API keys: %w", err)
	}
	users, err := opts.Backend.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("list users: %w", err)
	}
	now := opts.IO.Clock.Now().UTC()
	usernames := make(map[string]string, len(users))
	for _, u := range users {
		usernames[u.ID] = u.Username
	}
	views := make([]apiKeyJSON, 0, len(keys))
	for _, k := range keys {
		views = append(views, toAPIKeyJSON(k, usernames, now))
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, views)
	}
	tw := newTable(opts.IO.Out)
	fmt.Fprintln(tw, "ID\tNAME\tUSER\tROLES\tSCOPES\tSTATE\tCREATED\tEXPIRES\tREVOKED\tLAST USED")
	for _, v := range views {
		expires := v.ExpiresAt
		if expires == "" {
			expires = "never"
		}
		roles := list(v.Roles)
		if v.UserID != "" && len(v.Roles) == 0 {
			roles = "(the user's)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, orDash(v.Name), orDash(v.User),
			roles, list(v.Scopes), v.State, orDash(v.CreatedAt), expires, orDash(v.RevokedAt), orDash(v.LastUsedAt))
	}
	return tw.Flush()
}
