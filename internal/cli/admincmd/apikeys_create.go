package admincmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// APIKeysCreateOptions are the streams, the backend and the flag values of `gatehouse apikeys create`.
type APIKeysCreateOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend
	Server  string

	Name    string
	Scopes  []string
	Roles   []string
	Expires string
	User    string
	// UserSet is true when --user was given, even as "".
	UserSet bool
	JSON    bool
}

// NewCmdAPIKeysCreate is `gatehouse apikeys create`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdAPIKeysCreate(f *command.Factory, runF func(*APIKeysCreateOptions) error) *cobra.Command {
	opts := &APIKeysCreateOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "create NAME [--scope S]... [--role R]... [--user USERNAME] [--expires DUR] [--json]",
		Short: "Create an API key and print it once",
		Long: `Create an API key called NAME and print it. The key is shown only this
once; the database keeps the SHA-256 of its secret.

--role (admin, editor, viewer or a custom role) gives the key its roles. With --user the key
acts as that user instead: it carries the user's current roles, limited to
the --role list when one is given, so a demotion applies to the key too,
and it stops working when the user is disabled or deleted.

--scope lists the scopes introspection reports for the key. --expires
makes the key stop working after a while: a number of days ("90d") or a Go
duration ("720h", "30m"); without it the key does not expire.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  # A deploy job with read access for 90 days
  gatehouse apikeys create deploy --scope read --role viewer --expires 90d

  # A personal key that acts as alice, with at most her editor rights
  gatehouse apikeys create alice-laptop --user alice --role editor

  # In a script: the key is the "key" member
  gatehouse apikeys create ci --role viewer --json | jq -r .key`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.UserSet = cmd.Flags().Changed("user")
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return apiKeysCreateRun(ctx, opts)
			})
		},
	}
	adminbackend.AddServerFlag(cmd, &opts.Server)
	flags := cmd.Flags()
	flags.StringArrayVar(&opts.Scopes, "scope", nil, "`SCOPE` of the key; repeat for several")
	flags.StringSliceVar(&opts.Roles, "role", nil, "`ROLE` of the key (admin, editor, viewer or a custom role, see gatehouse roles); repeat or separate with commas")
	flags.StringVar(&opts.Expires, "expires", "", "lifetime of the key: days (`DUR` such as 90d) or a Go duration (720h); default: never expires")
	flags.StringVar(&opts.User, "user", "", "`USERNAME` the key acts as")
	flags.BoolVar(&opts.JSON, "json", false, "print {\"id\", \"key\"} as JSON")
	return cmd
}

func apiKeysCreateRun(ctx context.Context, opts *APIKeysCreateOptions) error {
	// --scope "a b" is two scopes, as in a scope parameter.
	scopes, err := checkScopes(opts.Scopes)
	if err != nil {
		return err
	}
	nk := admin.NewAPIKey{Name: opts.Name, Scopes: scopes, Roles: opts.Roles}
	if opts.Expires != "" {
		if nk.Lifetime, err = parseExpiry(opts.Expires); err != nil {
			return err
		}
	}
	if opts.UserSet || opts.User != "" {
		if nk.User, err = normalizeUsername(opts.User); err != nil {
			return err
		}
	}
	k, key, user, err := opts.Backend.CreateAPIKey(ctx, nk)
	if err != nil {
		return adminbackend.CommandError(err, "gatehouse users list")
	}
	if user != nil {
		for _, r := range admin.MissingRoles(k, user) {
			fmt.Fprintf(opts.IO.ErrOut, "Note: %q does not have the role %s now; the key gets it only while the user has it.\n", user.Username, r)
		}
	}
	return printNewKey(opts.IO, opts.JSON, k.ID, key, describeNewKey(k, user))
}

// describeNewKey is the headline create prints above the key.
func describeNewKey(k *storage.APIKey, u *storage.User) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Created API key %q (id %s).\n", k.Name, k.ID)
	if u != nil {
		fmt.Fprintf(&b, "Acts as:  user %s", u.Username)
		if len(k.Roles) > 0 {
			fmt.Fprintf(&b, ", with at most the roles %s", strings.Join(k.Roles, ", "))
		}
		b.WriteString("\n")
	} else {
		fmt.Fprintf(&b, "Roles:    %s\n", list(k.Roles))
	}
	fmt.Fprintf(&b, "Scopes:   %s\n", list(k.Scopes))
	if k.ExpiresAt.IsZero() {
		b.WriteString("Expires:  never")
	} else {
		fmt.Fprintf(&b, "Expires:  %s", jsonTime(k.ExpiresAt))
	}
	return b.String()
}
