package admincmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/userreg"
)

// NewCmdUsers is the `gatehouse users` group.
func NewCmdUsers(f *command.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Manage local users",
		Long: `Add, list, show and remove the server's local users, set their passwords,
roles (admin, editor, viewer, or custom roles: see gatehouse roles) and
profile: the email, email_verified and name claims of their ID tokens and
userinfo (scopes email and profile).

Passwords are read from stdin with --password-stdin, or prompted for
without echo on a terminal; they are stored as argon2id hashes. The last
admin cannot be deleted or lose the admin role.` + adminbackend.DatabaseHelp,
		Example: `  printf '%s\n' "$PASSWORD" | gatehouse users add alice --role editor --password-stdin
  gatehouse users list
  gatehouse users update alice --email alice@example.com --email-verified --name "Alice Liddell"
  gatehouse users show alice
  gatehouse users passwd alice
  gatehouse users set-role alice admin
  gatehouse users delete alice
  gatehouse users mfa-reset alice`,
	}
	command.Group(cmd)
	adminbackend.AddStorageFlags(cmd)
	cmd.AddCommand(
		NewCmdUsersAdd(f, nil),
		NewCmdUsersList(f, nil),
		NewCmdUsersShow(f, nil),
		NewCmdUsersUpdate(f, nil),
		NewCmdUsersPasswd(f, nil),
		NewCmdUsersSetRole(f, nil),
		NewCmdUsersDelete(f, nil),
		NewCmdUsersMFAReset(f, nil),
	)
	return cmd
}

// userJSON is the stable --json form of a user. It never carries the
// password hash.
type userJSON struct {
	ID            string   `json:"id"`
	Username      string   `json:"username"`
	Roles         []string `json:"roles"`
	Disabled      bool     `json:"disabled"`
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	Name          string   `json:"name"`
	// Connector, ConnectorSubject and Groups are set for users who sign
	// in through a connector (docs/connectors.md).
	Connector        string   `json:"connector,omitempty"`
	ConnectorSubject string   `json:"connector_subject,omitempty"`
	Groups           []string `json:"groups,omitempty"`
	CreatedAt        string   `json:"created_at,omitempty"`
	UpdatedAt        string   `json:"updated_at,omitempty"`
}

func toUserJSON(u *storage.User) userJSON {
	return userJSON{
		ID:               u.ID,
		Username:         u.Username,
		Roles:            nonNil(u.Roles),
		Disabled:         u.Disabled,
		Email:            u.Email,
		EmailVerified:    u.EmailVerified,
		Name:             u.Name,
		Connector:        u.ConnectorID,
		ConnectorSubject: u.ConnectorSubject,
		Groups:           u.Groups,
		CreatedAt:        jsonTime(u.CreatedAt),
		UpdatedAt:        jsonTime(u.UpdatedAt),
	}
}

// profileFlags are the --email, --email-verified and --name flags of
// users add and users update.
type profileFlags struct {
	email, name   string
	emailVerified bool
	cmd           *cobra.Command
}

func (p *profileFlags) add(cmd *cobra.Command, verifiedUsage string) {
	flags := cmd.Flags()
	p.cmd = cmd
	flags.StringVar(&p.email, "email", "", "`EMAIL` address of the user (the OIDC email claim); unique among users regardless of case")
	flags.BoolVar(&p.emailVerified, "email-verified", false, verifiedUsage)
	flags.StringVar(&p.name, "name", "", "display `NAME` of the user (the OIDC name claim), e.g. \"Alice Liddell\"")
}

// profile is the change the flags given ask for, checked by the rules the
// server applies too; a bad value is a usage error.
func (p *profileFlags) profile() (userreg.Profile, error) {
	var pr userreg.Profile
	if p.cmd.Flags().Changed("email") {
		pr.Email = &p.email
	}
	if p.cmd.Flags().Changed("email-verified") {
		pr.EmailVerified = &p.emailVerified
	}
	if p.cmd.Flags().Changed("name") {
		pr.Name = &p.name
	}
	if err := pr.Check(); err != nil {
		return pr, command.UsageErrorf("%w", err)
	}
	return pr, nil
}

// profileSummary describes the profile of u in a sentence's words.
func profileSummary(u *storage.User) string {
	email, name := "no email", "no name"
	if u.Email != "" {
		email = "email " + u.Email + " (not verified)"
		if u.EmailVerified {
			email = "email " + u.Email + " (verified)"
		}
	}
	if u.Name != "" {
		name = fmt.Sprintf("name %q", u.Name)
	}
	return email + ", " + name
}

// normalizeUsername trims and lower-cases a username by the admin
// layer's rule (admin.NormalizeUsername); a bad one is a usage error.
func normalizeUsername(name string) (string, error) {
	n, err := admin.NormalizeUsername(name)
	return n, adminbackend.CommandError(err, "")
}

// readNewPassword gets a new password for username: one line from stdin
// with fromStdin, else typed twice without echo on a terminal. It checks
// the password policy.
func readNewPassword(ctx context.Context, streams command.IOStreams, fromStdin bool, username string) (string, error) {
	var pw string
	switch {
	case fromStdin:
		line, err := bufio.NewReader(streams.In).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password from stdin: %w", err)
		}
		pw = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if pw == "" {
			return "", command.UsageErrorf("--password-stdin: stdin is empty; pipe the password in, e.g. printf '%%s\\n' \"$PASSWORD\" | gatehouse users ...")
		}
	case streams.IsTTY():
		fmt.Fprintf(streams.ErrOut, "New password for %s: ", username)
		first, err := streams.ReadPassword(ctx)
		fmt.Fprintln(streams.ErrOut)
		if err != nil {
			return "", promptError(ctx, err)
		}
		if err := password.CheckPolicy(first); err != nil {
			return "", command.UsageErrorf("%w", err)
		}
		fmt.Fprint(streams.ErrOut, "Repeat the password: ")
		second, err := streams.ReadPassword(ctx)
		fmt.Fprintln(streams.ErrOut)
		if err != nil {
			return "", promptError(ctx, err)
		}
		if first != second {
			return "", command.UsageErrorf("the passwords do not match")
		}
		pw = first
	default:
		return "", command.UsageErrorf("no terminal to prompt for a password: use --password-stdin and pipe the password in")
	}
	if err := password.CheckPolicy(pw); err != nil {
		return "", command.UsageErrorf("%w", err)
	}
	return pw, nil
}

// promptError describes a failed password prompt; Ctrl-C is "interrupted".
func promptError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	return fmt.Errorf("read password: %w", err)
}
