package cliauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
	// url and method are the request a DPoP proof is made for.
	url    string
	method string
}

func (a *App) newTokenCmd() *cobra.Command {
	o := tokenOptions{output: outputText, minTTL: client.DefaultMinTTL, method: http.MethodGet}
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
                   or v1beta1 when kubectl's KUBERNETES_EXEC_INFO asks for it

A login bound to this machine's key (DPoP, see '{tool} login') has tokens
that work only with a proof of the key made for one request: name the
request with --url (and --method, GET by default), and header prints both
headers,

  Authorization: DPoP <token>
  DPoP: <proof>

and json adds "dpop_proof". A proof is good for that one method and URL
(query ignored), once, for about a minute: make a new one per request. It
carries no server nonce; for a server that demands one, use '{tool} api'.
kubectl and git send tokens as bearer tokens and cannot make proofs:
exec-credential refuses a bound login; log in a profile for them with
--no-dpop.`,
		Example: `  curl -H "Authorization: Bearer $({tool} token)" https://api.example.com/things
  curl -H "$({tool} token --output header)" https://api.example.com/things
  {tool} token --min-ttl 10m --output json

  # A DPoP-bound login: the proof is for this request only
  curl -H "$({tool} token -o header --url https://api.example.com/things)" https://api.example.com/things
  {tool} token -o header --method POST --url https://api.example.com/things > headers.txt
  curl -X POST -H @headers.txt -d '{}' https://api.example.com/things

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
	f.StringVar(&o.url, "url", "", "the request `URL` to make a DPoP proof for (header and json output of a DPoP-bound login)")
	f.StringVar(&o.method, "method", o.method, "the HTTP `METHOD` of the request the DPoP proof is for")
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
	target, err := o.proofTarget()
	if err != nil {
		return err
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
	var proof *dpopProof
	if client.IsDPoP(tok) {
		if proof, err = a.tokenProof(ctx, s, r, o, target, tok); err != nil {
			return err
		}
	}
	if o.output == outputExecCredential {
		return writeExecCredential(a.IO.out(), execAPIVersion(a.IO.getenv(envKubernetesExecInfo)), tok)
	}
	return writeToken(a.IO.out(), o.output, tok, proof)
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
	// DPoPProof is the proof for --method and --url of a DPoP-bound
	// token, DPoPJKT the thumbprint of its key.
	DPoPProof string `json:"dpop_proof,omitempty"`
	DPoPJKT   string `json:"dpop_jkt,omitempty"`
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

// writeToken prints tok in the output format, with proof for a
// DPoP-bound token.
func writeToken(w io.Writer, output string, tok *oauth2.Token, proof *dpopProof) error {
	expires := ""
	if !tok.Expiry.IsZero() {
		expires = tok.Expiry.UTC().Format(time.RFC3339)
	}
	var err error
	switch output {
	case outputJSON:
		j := tokenJSON{AccessToken: tok.AccessToken, TokenType: tok.Type(), ExpiresAt: expires}
		if proof != nil {
			j.TokenType, j.DPoPProof, j.DPoPJKT = client.TokenTypeDPoP, proof.proof, proof.jkt
		}
		return writeJSON(w, j)
	case outputHeader:
		if proof != nil {
			_, err = fmt.Fprintf(w, "Authorization: %s %s\nDPoP: %s\n", client.TokenTypeDPoP, tok.AccessToken, proof.proof)
			break
		}
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
