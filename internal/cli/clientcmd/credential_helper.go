package clientcmd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// gitUsername is the user name the git credential helper answers with; the
// token is the password. Servers that take a bearer token as a Basic
// password ignore the name.
const gitUsername = "x-access-token"

// GitCredentialOptions are the dependencies and flags of
// `gatehouse credential-helper git`.
type GitCredentialOptions struct {
	IO     command.IOStreams
	Auth   *cliauth.App
	Hosts  []string
	Action string
}

// NewCmdCredentialHelper is the `gatehouse credential-helper` group.
func NewCmdCredentialHelper(f *command.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "credential-helper",
		Short: "Hand the current token to other tools",
		Long: `Credential helpers that give other programs the access token of the
credentials in force, so that they never store it themselves.`,
		Example: `  git config --global credential.https://git.example.com.helper '!gatehouse credential-helper git --host git.example.com'`,
	}
	command.Group(cmd)
	cmd.AddCommand(NewCmdGitCredential(f, nil))
	return cmd
}

// NewCmdGitCredential is `gatehouse credential-helper git`; runF, when not
// nil, runs instead of its run function (for tests of its flags).
func NewCmdGitCredential(f *command.Factory, runF func(*GitCredentialOptions) error) *cobra.Command {
	opts := &GitCredentialOptions{IO: f.IOStreams, Auth: f.Auth}
	git := &cobra.Command{
		Use:   "git get|store|erase",
		Short: "A git credential helper",
		Long: `git's credential helper protocol (gitcredentials(7)). For 'get', git writes the
request (protocol=, host=, ...) on stdin; when its protocol and host are the
issuer's (or a --host), the helper answers

    username=x-access-token
    password=<access token>
    password_expiry_utc=<when the token expires>

and refreshes the token first if needed. For any other host it answers
nothing, so git asks the next helper. 'erase' (git's answer to a refused
credential) drops that token and renews the login, so git's retry gets a
fresh one; 'store' does nothing: the token lives in gatehouse's own storage.

git sends the token as a plain password, so a login bound to this machine's
key (DPoP, the default where the server supports it) cannot serve it: 'get'
then fails and says so. Give git a bearer profile of its own:

    gatehouse login --profile git --no-dpop`,
		Example: `  # Use it for one host:
  git config --global credential.https://git.example.com.helper '!gatehouse credential-helper git --host git.example.com'

  # With a bearer profile for git, where logins are DPoP-bound by default:
  gatehouse login --profile git --no-dpop
  git config --global credential.https://git.example.com.helper '!gatehouse credential-helper git --profile git --host git.example.com'`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Action = args[0]
			if runF != nil {
				return runF(opts)
			}
			return credentialHelperRun(cmd.Context(), opts)
		},
	}
	git.Flags().StringArrayVar(&opts.Hosts, "host", nil, "also answer for `HOST` (host or host:port); repeat it")
	f.Auth.AddFlags(git)
	return git
}

func credentialHelperRun(ctx context.Context, opts *GitCredentialOptions) error {
	attrs, err := readGitAttributes(opts.IO.In)
	if err != nil {
		return err
	}
	if opts.Action != "get" && opts.Action != "erase" {
		// gitcredentials(7): store has nothing to do here (the token lives
		// in gatehouse's storage), and "if a helper receives any other
		// operation, it should silently ignore the request".
		return nil
	}
	// Another host is none of our business, logged in or not.
	res, err := opts.Auth.Resolve(ctx)
	if err != nil {
		if opts.Action == "erase" {
			return nil
		}
		return err
	}
	if !gitHostAllowed(res.Issuer, opts.Hosts, attrs["protocol"], attrs["host"]) {
		return nil
	}
	ts, _, err := opts.Auth.TokenSource(ctx)
	if err != nil {
		if opts.Action == "erase" {
			return nil
		}
		return err
	}
	if opts.Action == "erase" {
		// git erases a credential the server refused: drop that token so
		// that git's next get has a fresh one (a refresh), instead of the
		// same refused token until it expires.
		if inv, ok := ts.(client.Invalidator); ok && attrs["password"] != "" {
			if _, err := inv.Invalidate(ctx, attrs["password"]); err != nil {
				fmt.Fprintf(opts.IO.ErrOut, "gatehouse: the refused token could not be renewed: %v\n", err)
			}
		}
		return nil
	}
	tok, err := ts.Token()
	if err != nil {
		return err
	}
	if client.IsDPoP(tok) {
		// git sends the password as it is (HTTP Basic): a DPoP-bound
		// token without its proof is refused by the server, and handing
		// it out would only spread a token that is useless there.
		return &cliauth.Error{Code: command.ExitUsage, Msg: fmt.Sprintf(
			"the login in force (profile %q) is bound to this machine's key (DPoP) and git cannot send the proof it needs; "+
				"log in a profile for git with `gatehouse login --profile git --no-dpop` and add --profile git to the helper's command line", res.Profile)}
	}
	out := opts.IO.Out
	fmt.Fprintf(out, "username=%s\npassword=%s\n", gitUsername, tok.AccessToken)
	if !tok.Expiry.IsZero() {
		fmt.Fprintf(out, "password_expiry_utc=%d\n", tok.Expiry.Unix())
	}
	return nil
}

// readGitAttributes reads git's key=value lines up to a blank line or the
// end of input.
func readGitAttributes(r io.Reader) (map[string]string, error) {
	attrs := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			attrs[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the request from git: %w", err)
	}
	return attrs, nil
}

// gitHostAllowed reports whether the token may go to protocol://host: the
// issuer's own scheme and host, or a host named with --host over https.
func gitHostAllowed(issuer string, extra []string, protocol, host string) bool {
	if host == "" {
		return false
	}
	if slices.ContainsFunc(extra, func(h string) bool { return strings.EqualFold(h, host) }) {
		return protocol == "https"
	}
	u, err := url.Parse(issuer)
	return err == nil && u.Scheme == protocol && strings.EqualFold(u.Host, host)
}
