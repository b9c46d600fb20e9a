package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

type apiKeysCreateOptions struct {
	IO    IOStreams
	Admin *adminEnv
	// API, when set, is used instead of Admin (the admin API).
	API    *adminAPI
	Server string

	Name    string
	Scopes  []string
	Roles   []string
	Expires string
	User    string
	// UserSet is true when --user was given, even as "".
	UserSet bool
	JSON    bool
}

func newAPIKeysCreateCmd(streams IOStreams) *cobra.Command {
	opts := &apiKeysCreateOptions{IO: streams}
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
duration ("720h", "30m"); without it the key does not expire.` + adminCommandLong + adminAPILong,
		Example: `  # A deploy job with read access for 90 days
  gatehouse apikeys create deploy --scope read --role viewer --expires 90d

  # A personal key that acts as alice, with at most her editor rights
  gatehouse apikeys create alice-laptop --user alice --role editor

  # In a script: the key is the "key" member
  gatehouse apikeys create ci --role viewer --json | jq -r .key`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.UserSet = cmd.Flags().Changed("user")
			return runAdminOrAPI(cmd, streams, opts.Server, func(ctx context.Context, api *adminAPI, env *adminEnv) error {
				opts.API, opts.Admin = api, env
				return apiKeysCreateRun(ctx, opts)
			})
		},
	}
	addServerFlag(cmd, &opts.Server)
	f := cmd.Flags()
	f.StringArrayVar(&opts.Scopes, "scope", nil, "`SCOPE` of the key; repeat for several")
	f.StringSliceVar(&opts.Roles, "role", nil, "`ROLE` of the key (admin, editor, viewer or a custom role, see gatehouse roles); repeat or separate with commas")
	f.StringVar(&opts.Expires, "expires", "", "lifetime of the key: days (`DUR` such as 90d) or a Go duration (720h); default: never expires")
	f.StringVar(&opts.User, "user", "", "`USERNAME` the key acts as")
	f.BoolVar(&opts.JSON, "json", false, "print {\"id\", \"key\"} as JSON")
	return cmd
}

func apiKeysCreateRun(ctx context.Context, opts *apiKeysCreateOptions) error {
	name, err := checkKeyName(opts.Name)
	if err != nil {
		return err
	}
	scopes, err := checkScopes(opts.Scopes)
	if err != nil {
		return err
	}
	roles, err := checkRoles(opts.Roles)
	if err != nil {
		return err
	}
	if opts.API != nil {
		return apiKeysCreateAPI(ctx, opts, name, scopes, roles)
	}
	env := opts.Admin
	if err := checkRolesExist(ctx, env.Store, roles); err != nil {
		return err
	}
	now := env.now()
	k := &storage.APIKey{Name: name, Scopes: scopes, Roles: roles, CreatedAt: now}
	if opts.Expires != "" {
		d, err := parseExpiry(opts.Expires)
		if err != nil {
			return err
		}
		k.ExpiresAt = now.Add(d)
	}
	var user *storage.User
	if opts.UserSet || opts.User != "" {
		username, err := normalizeUsername(opts.User)
		if err != nil {
			return err
		}
		if user, err = newDBBackend(env).GetUser(ctx, username); err != nil {
			return adminError(err, "gatehouse users list")
		}
		if user.Disabled {
			return fmt.Errorf("user %q is disabled: a key acting as it would not work", user.Username)
		}
		k.UserID = user.ID
		for _, r := range roles {
			if !slices.Contains(user.Roles, r) {
				fmt.Fprintf(opts.IO.ErrOut, "Note: %q does not have the role %s now; the key gets it only while the user has it.\n", user.Username, r)
			}
		}
	}

	id, key := apikey.Generate()
	_, sec, _ := apikey.Parse(key)
	k.ID, k.SecretHash = id, secret.Hash(sec)
	if err := env.Store.CreateAPIKey(ctx, k); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			// 36^16 ids: only a broken random source gets here.
			return fmt.Errorf("create API key: id %s is taken; try again", id)
		}
		return fmt.Errorf("create API key: %w", err)
	}
	details := map[string]string{
		"apikey_id": k.ID,
		"name":      k.Name,
		"scopes":    strings.Join(k.Scopes, " "),
		"roles":     strings.Join(k.Roles, " "),
		"expires":   jsonTime(k.ExpiresAt),
	}
	ev := audit.Event{Type: audit.APIKeyCreated, Details: details}
	if user != nil {
		ev.UserID, ev.Username = user.ID, user.Username
	}
	env.log(ev)

	return printNewKey(opts.IO, opts.JSON, id, key, describeNewKey(k, user))
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

// apiKeysCreateAPI creates the key over the admin API.
func apiKeysCreateAPI(ctx context.Context, opts *apiKeysCreateOptions, name string, scopes, roles []string) error {
	var expiresIn int64
	if opts.Expires != "" {
		d, err := parseExpiry(opts.Expires)
		if err != nil {
			return err
		}
		expiresIn = int64(d.Seconds())
	}
	var user *storage.User
	if opts.UserSet || opts.User != "" {
		username, err := normalizeUsername(opts.User)
		if err != nil {
			return err
		}
		if user, err = opts.API.getUser(ctx, username); err != nil {
			return apiUserError(username, err)
		}
		if user.Disabled {
			return fmt.Errorf("user %q is disabled: a key acting as it would not work", user.Username)
		}
		for _, r := range roles {
			if !slices.Contains(user.Roles, r) {
				fmt.Fprintf(opts.IO.ErrOut, "Note: %q does not have the role %s now; the key gets it only while the user has it.\n", user.Username, r)
			}
		}
	}
	userID := ""
	if user != nil {
		userID = user.ID
	}
	k, key, err := opts.API.createAPIKey(ctx, name, userID, scopes, roles, expiresIn)
	if err != nil {
		return fmt.Errorf("create API key: %w", err)
	}
	return printNewKey(opts.IO, opts.JSON, k.ID, key, describeNewKey(k, user))
}
