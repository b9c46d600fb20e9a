package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/resource"
)

// jwtHTTPTimeout bounds each request `jwt verify` makes.
const jwtHTTPTimeout = 10 * time.Second

type jwtVerifyOptions struct {
	IO IOStreams
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

func newJWTVerifyCmd(streams IOStreams) *cobra.Command {
	opts := &jwtVerifyOptions{IO: streams, HTTPClient: &http.Client{Timeout: jwtHTTPTimeout}}
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
then exp and nbf when present, and aud when --audience is given.

Unsigned (alg "none") and HMAC (HS256...) tokens are always rejected.
Exit status: 0 valid, 1 rejected, 2 malformed token or bad flags, 5 the
issuer or JWKS could not be reached.`,
		Example: `  gatehouse jwt verify "$TOKEN" --issuer https://auth.example.com
  gatehouse jwt verify "$TOKEN" --issuer https://auth.example.com --audience https://api.example.com
  gatehouse jwt verify "$TOKEN" --jwks https://auth.example.com/oauth2/jwks --json
  gatehouse jwt verify "$ASSERTION" --key client.jwks.json --audience https://auth.example.com/oauth2/token`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			tok, err := jwtReadArg(streams, args)
			if err != nil {
				return err
			}
			opts.Token = tok
			return jwtVerifyRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Issuer, "issuer", "", "verify a Gatehouse access token against this issuer `URL` (discovery, JWKS, iss, aud, typ at+jwt)")
	f.StringVar(&opts.JWKS, "jwks", "", "verify the signature with the JWK Set at this `URL` (or in this file)")
	f.StringVar(&opts.KeyFile, "key", "", "verify the signature with the key in `FILE`: PEM public/private key or certificate, JWK or JWK Set")
	f.StringArrayVar(&opts.Audience, "audience", nil, "accept the token only if its aud names `A` (repeatable: any one); with --issuer the default is the issuer")
	f.DurationVar(&opts.Leeway, "leeway", resource.DefaultLeeway, "clock skew allowed when checking exp and nbf")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON document: header, claims, times, signature_verified (true)")
	return cmd
}

// jwtRejected is a token that is well-formed but not good: ExitError.
func jwtRejected(err error) error {
	return &jwtExitError{code: ExitError, err: fmt.Errorf("token rejected: %w", err)}
}

// jwtUnreachable is an issuer or key set that could not be fetched.
func jwtUnreachable(err error) error {
	return &jwtExitError{code: ExitUnreachable, err: err}
}

func jwtVerifyRun(ctx context.Context, opts *jwtVerifyOptions) error {
	sources := 0
	for _, s := range []string{opts.Issuer, opts.JWKS, opts.KeyFile} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		return usageErrorf("give exactly one of --issuer, --jwks or --key")
	}
	if opts.Leeway < 0 {
		return usageErrorf("--leeway must not be negative")
	}
	if slices.Contains(opts.Audience, "") {
		return usageErrorf("--audience must not be empty")
	}
	p, err := jwtSplit(opts.Token)
	if err != nil {
		return err
	}
	alg := p.jwtHeaderString("alg")
	if err := jwtCheckAlgorithm(alg); err != nil {
		return jwtRejected(err)
	}

	var source string
	if opts.Issuer != "" {
		if err := jwtVerifyAtIssuer(ctx, opts, p); err != nil {
			return err
		}
		source = "the JWKS of issuer " + opts.Issuer
	} else {
		keys, from, err := jwtVerifyKeys(ctx, opts)
		if err != nil {
			return err
		}
		key, err := jwtVerifySignature(p, keys)
		if err != nil {
			return jwtRejected(err)
		}
		if err := jwtCheckClaims(p.Claims, opts.IO.Clock.Now(), opts.Leeway, opts.Audience); err != nil {
			return jwtRejected(err)
		}
		source = from
		if key.KeyID != "" {
			source = fmt.Sprintf("key %q from %s", key.KeyID, from)
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
func jwtVerifyAtIssuer(ctx context.Context, opts *jwtVerifyOptions, p *jwtParts) error {
	leeway := opts.Leeway
	if leeway == 0 {
		leeway = -1 // resource: a negative leeway means none
	}
	cfg := resource.Config{
		Issuer:     opts.Issuer,
		Audience:   opts.Audience,
		Leeway:     leeway,
		CacheSize:  1,
		HTTPClient: opts.HTTPClient,
		Clock:      opts.IO.Clock,
	}
	if err := cfg.Validate(); err != nil {
		return &UsageError{Err: err}
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

// jwtVerifyKeys loads the keys of --jwks or --key and says where they came
// from.
func jwtVerifyKeys(ctx context.Context, opts *jwtVerifyOptions) ([]jose.JSONWebKey, string, error) {
	if opts.KeyFile != "" {
		keys, err := jwtReadKeys(opts.KeyFile)
		return keys, opts.KeyFile, err
	}
	if !strings.HasPrefix(opts.JWKS, "https://") && !strings.HasPrefix(opts.JWKS, "http://") {
		keys, err := jwtReadKeys(opts.JWKS)
		return keys, opts.JWKS, err
	}
	keys, err := jwtFetchJWKS(ctx, opts.HTTPClient, opts.JWKS)
	return keys, opts.JWKS, err
}

// jwtFetchJWKS downloads and parses a JWK Set.
func jwtFetchJWKS(ctx context.Context, client *http.Client, url string) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, usageErrorf("--jwks: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, jwtUnreachable(fmt.Errorf("fetch JWKS: %w", err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, jwtUnreachable(fmt.Errorf("fetch JWKS %s: HTTP %d", url, resp.StatusCode))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, jwtUnreachable(fmt.Errorf("fetch JWKS: %w", err))
	}
	keys, err := jwtParseJWKs(body)
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", url, err)
	}
	return keys, nil
}

// jwtVerifySignature checks the token's signature against keys and
// returns the key that verified it. A key is tried when its kid matches
// the header's (keys without a kid always match), its alg and use (if it
// names them) fit, and its type fits the header's alg.
func jwtVerifySignature(p *jwtParts, keys []jose.JSONWebKey) (*jose.JSONWebKey, error) {
	alg := jose.SignatureAlgorithm(p.jwtHeaderString("alg"))
	jws, err := jose.ParseSigned(p.Raw, jwtAlgorithms)
	if err != nil {
		return nil, fmt.Errorf("not a valid JWS: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("not a valid JWS: want exactly one signature")
	}
	kid := p.jwtHeaderString("kid")
	tried := 0
	for i := range keys {
		k := &keys[i]
		if kid != "" && k.KeyID != "" && k.KeyID != kid {
			continue
		}
		if (k.Algorithm != "" && k.Algorithm != string(alg)) || (k.Use != "" && k.Use != "sig") {
			continue
		}
		if jwtKeyFitsAlgorithm(k.Key, alg) != nil {
			continue
		}
		tried++
		if _, err := jws.Verify(jwtPublicKey(k.Key)); err == nil {
			return k, nil
		}
	}
	switch {
	case tried == 0 && kid != "":
		return nil, fmt.Errorf("no key with kid %q for %s among the %d key(s) given", kid, alg, len(keys))
	case tried == 0:
		return nil, fmt.Errorf("none of the %d key(s) given can check %s signatures", len(keys), alg)
	}
	return nil, errors.New("the signature does not verify: the token was altered or signed with another key")
}

// jwtCheckClaims checks exp and nbf when present (RFC 7519 §4.1.4,
// §4.1.5), allowing leeway for clock skew, and that aud names one of
// audiences when any are given (§4.1.3).
func jwtCheckClaims(claims map[string]any, now time.Time, leeway time.Duration, audiences []string) error {
	if v, ok := claims["exp"]; ok {
		exp, ok := jwtNumericDate(v)
		if !ok {
			return errors.New("exp is not a NumericDate")
		}
		// RFC 7519 §4.1.4: "the current date/time MUST be before the
		// expiration date/time listed in the "exp" claim."
		if !now.Before(exp.Add(leeway)) {
			return fmt.Errorf("expired at %s (%s ago)", exp.Format(time.RFC3339), now.Sub(exp).Round(time.Second))
		}
	}
	if v, ok := claims["nbf"]; ok {
		nbf, ok := jwtNumericDate(v)
		if !ok {
			return errors.New("nbf is not a NumericDate")
		}
		if now.Add(leeway).Before(nbf) {
			return fmt.Errorf("not valid before %s (in %s)", nbf.Format(time.RFC3339), nbf.Sub(now).Round(time.Second))
		}
	}
	if len(audiences) == 0 {
		return nil
	}
	var aud []string
	switch v := claims["aud"].(type) {
	case string:
		aud = []string{v}
	case []any:
		for _, a := range v {
			if s, ok := a.(string); ok {
				aud = append(aud, s)
			}
		}
	}
	for _, a := range audiences {
		if slices.Contains(aud, a) {
			return nil
		}
	}
	if len(aud) == 0 {
		return fmt.Errorf("the token has no aud; want %s", strings.Join(audiences, " or "))
	}
	return fmt.Errorf("aud %q does not name %s", aud, strings.Join(audiences, " or "))
}
