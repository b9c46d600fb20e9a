package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

type usersDeleteOptions struct {
	IO    IOStreams
	Admin *adminEnv
	// API, when set, is used instead of Admin (the admin API).
	API *adminAPI

	Name   string
	Server string
}

func newUsersDeleteCmd(streams IOStreams) *cobra.Command {
	opts := &usersDeleteOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a local user",
		Long: `Delete the user NAME with their sessions, grants (so their refresh tokens
stop working) and consents. The last admin cannot be deleted.` + adminCommandLong + adminAPILong,
		Example: `  gatehouse users delete alice`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runAdminOrAPI(cmd, streams, opts.Server, func(ctx context.Context, api *adminAPI, env *adminEnv) error {
				opts.API, opts.Admin = api, env
				return usersDeleteRun(ctx, opts)
			})
		},
	}
	addServerFlag(cmd, &opts.Server)
	return cmd
}

func usersDeleteRun(ctx context.Context, opts *usersDeleteOptions) error {
	name, err := normalizeUsername(opts.Name)
	if err != nil {
		return err
	}
	if opts.API != nil {
		err := opts.API.deleteUser(ctx, name)
		if apiStatus(err, http.StatusConflict) {
			return fmt.Errorf("cannot delete %q: it is the last admin; give another user the admin role first ('gatehouse users set-role NAME admin')", name)
		}
		if err != nil {
			return apiUserError(name, err)
		}
		_, err = fmt.Fprintf(opts.IO.Out, "Deleted user %q.\n", name)
		return err
	}
	env := opts.Admin
	u, err := getUser(ctx, env.Store, name)
	if err != nil {
		return err
	}
	// The store checks for another admin in the deleting transaction
	// (SECURITY-CASES 34).
	err = env.Store.DeleteUserKeepingRole(ctx, u.ID, server.RoleAdmin)
	if errors.Is(err, storage.ErrLastRoleHolder) {
		return fmt.Errorf("cannot delete %q: it is the last admin; give another user the admin role first ('gatehouse users set-role NAME admin')", u.Username)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("user %q not found; see 'gatehouse users list'", name)
	}
	if err != nil {
		return fmt.Errorf("delete user %q: %w", name, err)
	}
	env.log(audit.Event{Type: audit.UserDeleted, UserID: u.ID, Username: u.Username})
	_, err = fmt.Fprintf(opts.IO.Out, "Deleted user %q.\n", u.Username)
	return err
}
