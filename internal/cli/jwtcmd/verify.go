package jwtcmd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/jwt"
	"github.com/gatehouse-auth/gatehouse/resource"
)

// jwtHTTPTimeout bounds each request `jwt verify` makes.
const jwtHTTPTimeout = 10 * time.Second

type VerifyOptions struct {
	IO command.IOStreams
	// HTTPClient fetches discovery documents and key sets.
	HTTPClient *http.Client

	Token    string
	Issuer   string
	JWKS     string
	KeyFile  string
	Audience []string
	Leeway   time.Duration
	JSON     bool
}

// NewCmdVerify is `gatehouse jwt verify`; runF, when not nil, runs instead of
// its run function (for tests of its flags).
func NewCmdVerify(f *command.Factory, runF func(*VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{IO: f.IOStreams, HTTPClient: &http.Client{Timeout: jwtHTTPTimeout}}
	cmd := &cobra.Command{
		Use:   "verify TOKEN|- (--issuer URL | --jwks URL | --key FILE) [--audience A]...",
		Short: "Verify a JWT's signature and validity and print its claims",
		Long: `Check a JWT and print its claims as JSON; fail, naming the reason, when
it is not good.

--issuer URL checks a Gatehouse access token (RFC 9068) the way a resource
server does: the issuer's keys come from its discovery document and JWKS,
and the header typ must be at+jwt, alg ES256 or EdDSA, the kid known, iss
the issuer, aud one of --audience (default: the issuer), and exp and nbf
current.

--jwks URL (or a local JWK Set file) and --key FILE (a PEM public key,
private key or certificate, or a JWK or JWK Set) check any JWT signed with
an asymmetric algorithm: the signature with the key whose kid matches,
then exp, nbf and iat when present, and aud when --audience is given.

Unsigned (alg "none") and HMAC (HS256...) tokens are always rejected.
Exit status: 0 valid, 1 rejected, 2 malformed token or bad flags, 5 the
issuer or JWKS could not be reached.`,
		Example: `  gatehouse jwt verify "$TOKEN" --issuer https://auth.example.com
  gatehouse jwt verify "$TOKEN" --issuer https://auth.example.com --audience https://api.example.com
  gatehouse jwt verify "$TOKEN" --jwks https://auth.example.com/oauth2/jwks --json
  gatehouse jwt verify "$ASSERTION" --key client.jwks.json --audience https://auth.example.com/oauth2/token`,
		Args: command.UsageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			tok, err := jwtReadArg(opts.IO, args)
			if err != nil {
				return err
			}
			opts.Token = tok
			if runF != nil {
				return runF(opts)
			}
			return verifyRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Issuer, "issuer", "", "verify a Gatehouse access token against this issuer `URL` (discovery, JWKS, iss, aud, typ at+jwt)")
	fl.StringVar(&opts.JWKS, "jwks", "", "verify the signature with the JWK Set at this `URL` (or in this file)")
	fl.StringVar(&opts.KeyFile, "key", "", "verify the signature with the key in `FILE`: PEM public/private key or certificate, JWK or JWK Set")
	fl.StringArrayVar(&opts.Audience, "audience", nil, "accept the token only if its aud names `A` (repeatable: any one); with --issuer the default is the issuer")
	fl.DurationVar(&opts.Leeway, "leeway", resource.DefaultLeeway, "clock skew allowed when checking exp and nbf")
	fl.BoolVar(&opts.JSON, "json", false, "print one JSON document: header, claims, times, signature_verified (true)")
	return cmd
}

// jwtRejected is a token that is well-formed but not good: command.ExitError.
func jwtRejected(err error) error {
	return &jwtExitError{code: command.ExitError, err: fmt.Errorf("token rejected: %w", err)}
}

// jwtUnreachable is an issuer or key set that could not be fetched.
func jwtUnreachable(err error) error {
	return &jwtExitError{code: command.ExitUnreachable, err: err}
}

func verifyRun(ctx context.Context, opts *VerifyOptions) error {
	sources := 0
	for _, s := range []string{opts.Issuer, opts.JWKS, opts.KeyFile} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		return command.UsageErrorf("give exactly one of --issuer, --jwks or --key")
	}
	if opts.Leeway < 0 {
		return command.UsageErrorf("--leeway must not be negative")
	}
	if slices.Contains(opts.Audience, "") {
		return command.UsageErrorf("--audience must not be empty")
	}
	p, err := jwtSplit(opts.Token)
	if err != nil {
		return err
	}
	alg := p.jwtHeaderString("alg")

	var source string
	if opts.Issuer != "" {
		if err := jwtVerifyAtIssuer(ctx, opts, p); err != nil {
			return err
		}
		source = "the JWKS of issuer " + opts.Issuer
	} else {
		keys, from, err := jwtVerifyKeys(opts)
		if err != nil {
			return err
		}
		t, err := jwtVerifyWithKeys(ctx, opts, keys, p.Raw)
		if err != nil {
			return err
		}
		source = from
		if t.Key.ID != "" {
			source = fmt.Sprintf("key %q from %s", t.Key.ID, from)
		}
	}

	fmt.Fprintf(opts.IO.ErrOut, "Signature verified (%s, %s).\n", alg, source)
	if _, ok := p.Claims["exp"]; !ok {
		fmt.Fprintln(opts.IO.ErrOut, "Warning: the token has no exp claim; it never expires.")
	}
	if opts.JSON {
		return jwtWriteObject(opts.IO.Out, jwtJSON{
			Header: p.Header, Claims: p.Claims, Times: jwtTimes(p.Claims), SignatureVerified: true,
		})
	}
	jwtWriteTimes(opts.IO.ErrOut, p.Claims, opts.IO.Clock.Now())
	return jwtWriteObject(opts.IO.Out, p.Claims)
}

// jwtVerifyAtIssuer checks an access token with the resource package, as
// a resource server of the issuer would.
func jwtVerifyAtIssuer(ctx context.Context, opts *VerifyOptions, p *jwtParts) error {
	leeway := opts.Leeway
	if leeway == 0 {
		leeway = -1 // resource: a negative leeway means none
	}
	audience := opts.Audience
	if len(audience) == 0 {
		// The audience a Gatehouse server gives tokens by default.
		audience = []string{opts.Issuer}
	}
	cfg := resource.Config{
		Issuer:     opts.Issuer,
		Audience:   audience,
		Leeway:     leeway,
		CacheSize:  1,
		HTTPClient: opts.HTTPClient,
		Clock:      opts.IO.Clock,
	}
	if err := cfg.Validate(); err != nil {
		return &command.UsageError{Err: err}
	}
	v, err := resource.NewVerifier(ctx, cfg)
	if err != nil {
		return jwtUnreachable(fmt.Errorf("issuer %s: %w", opts.Issuer, err))
	}
	if _, err := v.Verify(ctx, p.Raw); err != nil {
		if errors.Is(err, resource.ErrUnavailable) {
			return jwtUnreachable(err)
		}
		return jwtRejected(err)
	}
	return nil
}

// jwtVerifyKeys returns the key source of --jwks or --key and says where
// the keys come from: a JWK Set URL is fetched when a key is needed; a
// file holds PEM keys or certificates, a JWK or a JWK Set.
func jwtVerifyKeys(opts *VerifyOptions) (jwt.KeySource, string, error) {
	path := opts.KeyFile
	if path == "" {
		if strings.HasPrefix(opts.JWKS, "https://") || strings.HasPrefix(opts.JWKS, "http://") {
			return jwt.NewRemoteKeySet(opts.JWKS, jwt.RemoteOptions{HTTPClient: opts.HTTPClient, Clock: opts.IO.Clock}), opts.JWKS, nil
		}
		path = opts.JWKS
	}
	keys, err := jwt.ReadKeyFile(path)
	if err != nil {
		return nil, "", command.UsageErrorf("key file: %w", err)
	}
	return keys, path, nil
}

// jwtVerifyWithKeys checks a token with the jwt package: header rules,
// an asymmetric algorithm that fits the key, the signature, then exp and
// nbf when present (with --leeway) and aud when --audience is given.
func jwtVerifyWithKeys(ctx context.Context, opts *VerifyOptions, keys jwt.KeySource, token string) (*jwt.Token, error) {
	leeway := opts.Leeway
	if leeway == 0 {
		leeway = -1 // jwt: a negative leeway means none
	}
	cfg := jwt.Config{
		Keys:           keys,
		AnyIssuer:      true,
		Audience:       opts.Audience,
		AnyAudience:    len(opts.Audience) == 0,
		Leeway:         leeway,
		ExpiryOptional: true,
		Clock:          opts.IO.Clock,
	}
	v, err := jwt.NewVerifier(cfg)
	if err != nil {
		return nil, &command.UsageError{Err: err}
	}
	t, err := v.Verify(ctx, token)
	switch {
	case errors.Is(err, jwt.ErrUnavailable):
		return nil, jwtUnreachable(fmt.Errorf("fetch JWKS %s: %w", opts.JWKS, err))
	case err != nil:
		return nil, jwtRejected(err)
	}
	return t, nil
}
