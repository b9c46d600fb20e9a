package cliauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/client"
)

// Output formats of token.
const (
	outputText           = "text"
	outputJSON           = "json"
	outputHeader         = "header"
	outputExecCredential = "exec-credential"
)

// tokenOptions are the flags of token.
type tokenOptions struct {
	output       string
	minTTL       time.Duration
	forceRefresh bool
}

func (a *App) newTokenCmd() *cobra.Command {
	o := tokenOptions{output: outputText, minTTL: client.DefaultMinTTL}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print a valid access token",
		Long: `Print a valid access token of the credentials in force, refreshing the stored
login first if the token would expire within --min-ttl. This is the only
command that prints a token.

Credentials come from, highest first: --profile, ${PREFIX}_TOKEN, ${PREFIX}_API_KEY,
${PREFIX}_CLIENT_ID with ${PREFIX}_CLIENT_SECRET, the profile named by
${PREFIX}_PROFILE, the default profile (see '{tool} status').

Refreshes are safe across processes: many commands refreshing one profile at
once spend its refresh token once and all get the new token.

Output formats:
  text             the token alone (the default)
  json             {"access_token": ..., "token_type": ..., "expires_at": ...}
  header           Authorization: Bearer <token>
  exec-credential  an ExecCredential for kubectl: client.authentication.k8s.io/v1,
                   or v1beta1 when kubectl's KUBERNETES_EXEC_INFO asks for it`,
		Example: `  curl -H "Authorization: Bearer $({tool} token)" https://api.example.com/things
  curl -H "$({tool} token --output header)" https://api.example.com/things
  {tool} token --min-ttl 10m --output json

  # kubeconfig user entry
  #   exec:
  #     apiVersion: client.authentication.k8s.io/v1
  #     command: {tool}
  #     args: [token, --output, exec-credential]
  #     interactiveMode: Never`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.tokenRun(cmd.Context(), &o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", o.output, "output `format`: text, json, header or exec-credential")
	f.DurationVar(&o.minTTL, "min-ttl", o.minTTL, "refresh first if the token expires within this `duration`")
	f.BoolVar(&o.forceRefresh, "force-refresh", false, "get a new token even if the stored one is still valid")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(
		[]string{outputText, outputJSON, outputHeader, outputExecCredential}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (a *App) tokenRun(ctx context.Context, o *tokenOptions) error {
	switch o.output {
	case outputText, outputJSON, outputHeader, outputExecCredential:
	default:
		return usageErrorf("--output %q: want text, json, header or exec-credential", o.output)
	}
	if o.minTTL < 0 {
		return usageErrorf("--min-ttl must not be negative")
	}
	r, err := a.Resolve(ctx)
	if err != nil {
		return err
	}
	s, err := a.source(r)
	if err != nil {
		return err
	}
	var tok *oauth2.Token
	if o.forceRefresh {
		a.logger().Info("token: forcing a refresh; waiting for the profile lock", "profile", r.Profile, "source", r.Source)
		tok, err = s.forceRefresh(ctx)
	} else {
		tok, err = s.withMinTTL(ctx, o.minTTL)
	}
	if err != nil {
		return err
	}
	if o.output == outputExecCredential {
		return writeExecCredential(a.IO.out(), execAPIVersion(a.IO.getenv(envKubernetesExecInfo)), tok)
	}
	return writeToken(a.IO.out(), o.output, tok)
}

// envKubernetesExecInfo is where kubectl describes the ExecCredential it
// expects (client-go's exec plugin protocol).
const envKubernetesExecInfo = "KUBERNETES_EXEC_INFO"

// ExecCredential API versions kubectl speaks.
const (
	execV1      = "client.authentication.k8s.io/v1"
	execV1beta1 = "client.authentication.k8s.io/v1beta1"
)

// execAPIVersion is the apiVersion to answer kubectl with: the one of its
// KUBERNETES_EXEC_INFO when it is one we speak, else v1.
func execAPIVersion(info string) string {
	var req struct {
		APIVersion string `json:"apiVersion"`
	}
	if json.Unmarshal([]byte(info), &req) == nil && (req.APIVersion == execV1 || req.APIVersion == execV1beta1) {
		return req.APIVersion
	}
	return execV1
}

// writeExecCredential prints tok as kubectl's ExecCredential of apiVersion.
func writeExecCredential(w io.Writer, apiVersion string, tok *oauth2.Token) error {
	expires := ""
	if !tok.Expiry.IsZero() {
		expires = tok.Expiry.UTC().Format(time.RFC3339)
	}
	return writeJSON(w, execCredential{
		APIVersion: apiVersion,
		Kind:       "ExecCredential",
		Status:     execCredentialStatus{Token: tok.AccessToken, ExpirationTimestamp: expires},
	})
}

// tokenJSON is --output json.
type tokenJSON struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresAt   string `json:"expires_at,omitempty"`
}

// execCredential is kubectl's ExecCredential (client.authentication.k8s.io/v1).
type execCredential struct {
	APIVersion string               `json:"apiVersion"`
	Kind       string               `json:"kind"`
	Status     execCredentialStatus `json:"status"`
}

type execCredentialStatus struct {
	Token               string `json:"token"`
	ExpirationTimestamp string `json:"expirationTimestamp,omitempty"`
}

// writeToken prints tok in the output format.
func writeToken(w io.Writer, output string, tok *oauth2.Token) error {
	expires := ""
	if !tok.Expiry.IsZero() {
		expires = tok.Expiry.UTC().Format(time.RFC3339)
	}
	var err error
	switch output {
	case outputJSON:
		return writeJSON(w, tokenJSON{AccessToken: tok.AccessToken, TokenType: tok.Type(), ExpiresAt: expires})
	case outputHeader:
		_, err = fmt.Fprintf(w, "Authorization: %s %s\n", tok.Type(), tok.AccessToken)
	case outputExecCredential:
		return writeExecCredential(w, execV1, tok)
	default:
		_, err = fmt.Fprintln(w, tok.AccessToken)
	}
	if err != nil {
		return fmt.Errorf("cliauth: write token: %w", err)
	}
	return nil
}
