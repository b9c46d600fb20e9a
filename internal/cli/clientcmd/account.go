package clientcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// NewCmdAccount is `gatehouse account`: the signed-in user's own account,
// through the server's account API with the stored login.
func NewCmdAccount(f *command.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "account",
		Short: "Manage your own account (with your login)",
		Long: `Manage the account of the user you are logged in as ('gatehouse login'),
as on the server's /account page.`,
		Example: `  gatehouse login
  gatehouse account mfa enroll`,
	}
	command.Group(cmd)
	cmd.AddCommand(NewCmdAccountMFA(f))
	f.Auth.AddFlags(cmd)
	return cmd
}

// accountAPI calls the account API of the issuer of a user login.
type accountAPI struct {
	hc   *http.Client
	base string
}

// newAccountAPI resolves the credentials in force, which must be a user
// login: the account API refuses API keys and client credentials. Its
// tokens are those of the profile's account sign-in (command.ElevationAccount),
// which it asks for on a terminal when there is none.
func newAccountAPI(ctx context.Context, auth *cliauth.App) (*accountAPI, error) {
	r, err := auth.Resolve(ctx)
	if err != nil {
		return nil, err
	}
	if r.Kind != "" && r.Kind != credstore.KindUser && r.Kind != cliauth.KindToken {
		return nil, &cliauth.Error{Code: command.ExitNotLoggedIn,
			Msg: fmt.Sprintf("this needs your own login, not %s credentials (%s); run `gatehouse login`", r.Kind, r.Source)}
	}
	hc, res, err := auth.ElevatedClient(ctx, command.ElevationAccount)
	if err != nil {
		return nil, err
	}
	if res.Kind != credstore.KindUser && res.Kind != cliauth.KindToken {
		return nil, &cliauth.Error{Code: command.ExitNotLoggedIn,
			Msg: fmt.Sprintf("this needs your own login, not %s credentials (%s); run `gatehouse login`", res.Kind, res.Source)}
	}
	if res.Issuer == "" {
		return nil, &cliauth.Error{Code: command.ExitNotLoggedIn, Msg: "no issuer is known; run `gatehouse login`"}
	}
	return &accountAPI{hc: hc, base: strings.TrimRight(res.Issuer, "/")}, nil
}

// accountAPIError is an error answer of the account API.
type accountAPIError struct {
	Status      int
	Code        string
	Description string
}

func (e *accountAPIError) Error() string {
	if e.Status == http.StatusUnauthorized {
		return "the server did not accept your login (" + e.Description + "); run `gatehouse login`"
	}
	if e.Description != "" {
		return e.Description
	}
	return fmt.Sprintf("account API: HTTP %d", e.Status)
}

// ExitCode maps 401 to command.ExitNotLoggedIn; every other answer is command.ExitError.
func (e *accountAPIError) ExitCode() int {
	if e.Status == http.StatusUnauthorized {
		return command.ExitNotLoggedIn
	}
	return command.ExitError
}

// post sends body as JSON to path and decodes a JSON answer into v. Error
// answers become *accountAPIError.
func (a *accountAPI) post(ctx context.Context, path string, body, v any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("account API: encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("account API: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := a.hc.Do(req)
	if err != nil {
		if ferr := requestFailure(err, req.URL.Host); ferr != nil {
			return ferr
		}
		return fmt.Errorf("account API: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("account API: read the answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var pe struct {
			Code        string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(raw, &pe)
		if pe.Description == "" && resp.StatusCode == http.StatusTooManyRequests {
			pe.Description = "too many attempts; wait a minute and try again"
		}
		return &accountAPIError{Status: resp.StatusCode, Code: pe.Code, Description: pe.Description}
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("account API: decode the answer: %w", err)
	}
	return nil
}
