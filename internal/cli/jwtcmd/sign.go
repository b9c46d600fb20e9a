package jwtcmd

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/jwt"
)

// jwtAssertionLifetime is the exp of a client assertion made with
// --assertion: short, since the server remembers its jti until then.
const jwtAssertionLifetime = jwt.DefaultAssertionLifetime

type SignOptions struct {
	IO command.IOStreams

	KeyFile    string
	Alg        string
	KID        string
	Typ        string
	Claims     []string
	ClaimsFile string

	Issuer   string
	Subject  string
	Audience []string
	Expiry   time.Duration
	JTI      string

	Assertion     bool
	ClientID      string
	TokenEndpoint string
}

// NewCmdSign is `gatehouse jwt sign`; runF, when not nil, runs instead of
// its run function (for tests of its flags).
func NewCmdSign(f *command.Factory, runF func(*SignOptions) error) *cobra.Command {
	opts := &SignOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "sign --key FILE [--claim K=V]... [--claims FILE|-] [--iss I] [--sub S] [--aud A]... [--exp DUR]",
		Short: "Make a signed JWT (tests, private_key_jwt client assertions)",
		Long: `Sign a JWT with a private key and print it in compact form.

The key is a PEM private key (EC P-256/P-384/P-521, Ed25519 or RSA; PKCS #8,
SEC 1 or PKCS #1) or a private JWK, e.g. one made by 'gatehouse jwt keygen'.
--alg defaults to the JWK's alg, else to the key's algorithm (ES256, ES384,
ES512, EdDSA, RS256); --kid defaults to the JWK's kid (none for PEM keys).

Claims are built in order, later ones winning: the JSON object of --claims
(a file, or '-' for standard input), then each --claim (K=V sets a string,
K:=JSON any JSON value), then --iss, --sub, --aud, --jti and --exp. --exp
DUR sets exp to now + DUR and iat to now.

--assertion makes an RFC 7523 client assertion for private_key_jwt client
authentication: iss = sub = --client-id, aud = --token-endpoint, a random
jti, iat now and exp in 60s (or --exp). Send it as client_assertion with
client_assertion_type urn:ietf:params:oauth:client-assertion-type:jwt-bearer.`,
		Example: `  gatehouse jwt sign --key key.pem --iss me --sub alice --aud api --exp 5m
  gatehouse jwt sign --key key.jwk.json --claim role=admin --claim 'scopes:=["read","write"]'
  echo '{"sub":"bob"}' | gatehouse jwt sign --key key.pem --claims -
  gatehouse jwt sign --key client.pem --assertion --client-id svc \
      --token-endpoint https://auth.example.com/oauth2/token`,
		Args: command.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("exp") && opts.Expiry <= 0 {
				return command.UsageErrorf("--exp must be a positive duration, e.g. 5m")
			}
			if runF != nil {
				return runF(opts)
			}
			return signRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.KeyFile, "key", "", "private key `FILE`: PEM or JWK (required)")
	fl.StringVar(&opts.Alg, "alg", "", "signature `ALG` (default: inferred from the key)")
	fl.StringVar(&opts.KID, "kid", "", "key ID header (default: the JWK's kid)")
	fl.StringVar(&opts.Typ, "typ", "JWT", "typ header, e.g. at+jwt; empty for none")
	fl.StringArrayVar(&opts.Claims, "claim", nil, "claim `K=V` (string) or K:=JSON (any JSON value); repeatable")
	fl.StringVar(&opts.ClaimsFile, "claims", "", "JSON object of claims from `FILE`, or '-' for standard input")
	fl.StringVar(&opts.Issuer, "iss", "", "iss claim")
	fl.StringVar(&opts.Subject, "sub", "", "sub claim")
	fl.StringArrayVar(&opts.Audience, "aud", nil, "aud claim (repeatable: several make an array)")
	fl.DurationVar(&opts.Expiry, "exp", 0, "set exp to now + `DUR` and iat to now")
	fl.StringVar(&opts.JTI, "jti", "", "jti claim")
	fl.BoolVar(&opts.Assertion, "assertion", false, "make a private_key_jwt client assertion (needs --client-id and --token-endpoint)")
	fl.StringVar(&opts.ClientID, "client-id", "", "with --assertion: the client `ID` (iss and sub)")
	fl.StringVar(&opts.TokenEndpoint, "token-endpoint", "", "with --assertion: the token endpoint `URL` (aud)")
	return cmd
}

func signRun(_ context.Context, opts *SignOptions) error {
	if opts.KeyFile == "" {
		return command.UsageErrorf("--key FILE is required: a PEM or JWK private key (make one with 'gatehouse jwt keygen')")
	}
	if err := jwtCheckAssertionFlags(opts); err != nil {
		return err
	}
	key, alg, kid, err := jwtSigningKey(opts)
	if err != nil {
		return err
	}
	claims, err := jwtBuildClaims(opts)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(claims); err != nil {
		return fmt.Errorf("encode claims: %w", err)
	}
	payload := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	priv, ok := key.(crypto.Signer)
	if !ok {
		return command.UsageErrorf("key file %s: %T cannot sign", opts.KeyFile, key)
	}
	signer, err := jwt.NewSigner(priv, string(alg), kid)
	if err != nil {
		return &command.UsageError{Err: fmt.Errorf("--alg: %w", err)}
	}
	tok, err := signer.SignJSON(opts.Typ, payload)
	if err != nil {
		return fmt.Errorf("jwt sign: %w", err)
	}
	_, err = fmt.Fprintln(opts.IO.Out, tok)
	return err
}

// jwtCheckAssertionFlags checks that --assertion comes with what it needs
// and without the claims it sets itself.
func jwtCheckAssertionFlags(opts *SignOptions) error {
	if !opts.Assertion {
		if opts.ClientID != "" || opts.TokenEndpoint != "" {
			return command.UsageErrorf("--client-id and --token-endpoint go with --assertion")
		}
		return nil
	}
	if opts.ClientID == "" || opts.TokenEndpoint == "" {
		return command.UsageErrorf("--assertion needs --client-id ID and --token-endpoint URL")
	}
	if u, err := url.Parse(opts.TokenEndpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return command.UsageErrorf("--token-endpoint %q is not an http(s) URL", opts.TokenEndpoint)
	}
	if opts.Issuer != "" || opts.Subject != "" || len(opts.Audience) > 0 {
		return command.UsageErrorf("--assertion sets iss, sub and aud itself; drop --iss, --sub and --aud")
	}
	return nil
}

// jwtSigningKey loads the one private key of --key and settles the
// algorithm and kid.
func jwtSigningKey(opts *SignOptions) (any, jose.SignatureAlgorithm, string, error) {
	keys, err := jwtReadKeys(opts.KeyFile)
	if err != nil {
		return nil, "", "", err
	}
	if len(keys) != 1 {
		return nil, "", "", command.UsageErrorf("key file %s holds %d keys; give a file with one private key", opts.KeyFile, len(keys))
	}
	k := keys[0]
	if k.IsPublic() {
		return nil, "", "", command.UsageErrorf("key file %s holds a public key; signing needs the private key", opts.KeyFile)
	}
	alg := jose.SignatureAlgorithm(opts.Alg)
	if alg == "" {
		alg = jose.SignatureAlgorithm(k.Algorithm)
	}
	if alg == "" {
		if alg, err = jwtKeyAlgorithm(k.Key); err != nil {
			return nil, "", "", command.UsageErrorf("key file %s: %w", opts.KeyFile, err)
		}
	}
	if err := jwtCheckAlgorithm(string(alg)); err != nil {
		return nil, "", "", &command.UsageError{Err: fmt.Errorf("--alg: %w", err)}
	}
	if err := jwtKeyFitsAlgorithm(k.Key, alg); err != nil {
		return nil, "", "", &command.UsageError{Err: fmt.Errorf("--alg: %w", err)}
	}
	kid := opts.KID
	if kid == "" {
		kid = k.KeyID
	}
	return k.Key, alg, kid, nil
}

// jwtBuildClaims assembles the claims: --claims, then --claim, then the
// shortcuts and --assertion.
func jwtBuildClaims(opts *SignOptions) (map[string]any, error) {
	claims := map[string]any{}
	if opts.ClaimsFile != "" {
		var data []byte
		var err error
		if opts.ClaimsFile == "-" {
			data, err = io.ReadAll(io.LimitReader(opts.IO.In, 1<<20))
		} else {
			data, err = os.ReadFile(opts.ClaimsFile)
		}
		if err != nil {
			return nil, command.UsageErrorf("--claims: %w", err)
		}
		if claims, err = jwtJSONObject(data); err != nil {
			return nil, command.UsageErrorf("--claims %s: %w", opts.ClaimsFile, err)
		}
	}
	for _, c := range opts.Claims {
		if name, raw, ok := strings.Cut(c, ":="); ok && name != "" && !strings.Contains(name, "=") {
			v, err := jwtJSONValue(raw)
			if err != nil {
				return nil, command.UsageErrorf("--claim %s: the value after := must be JSON: %w", name, err)
			}
			claims[name] = v
			continue
		}
		name, val, ok := strings.Cut(c, "=")
		if !ok || name == "" {
			return nil, command.UsageErrorf("--claim %q: want K=V (a string) or K:=JSON", c)
		}
		claims[name] = val
	}
	now := opts.IO.Clock.Now()
	if opts.Assertion {
		jti, err := jwt.RandomID()
		if err != nil {
			return nil, err
		}
		claims["iss"] = opts.ClientID
		claims["sub"] = opts.ClientID
		claims["aud"] = opts.TokenEndpoint
		claims["jti"] = jti
		claims["iat"] = now.Unix()
		claims["exp"] = now.Add(jwtAssertionLifetime).Unix()
	}
	if opts.Issuer != "" {
		claims["iss"] = opts.Issuer
	}
	if opts.Subject != "" {
		claims["sub"] = opts.Subject
	}
	switch len(opts.Audience) {
	case 0:
	case 1:
		claims["aud"] = opts.Audience[0]
	default:
		claims["aud"] = opts.Audience
	}
	if opts.JTI != "" {
		claims["jti"] = opts.JTI
	}
	if opts.Expiry > 0 {
		claims["iat"] = now.Unix()
		claims["exp"] = now.Add(opts.Expiry).Unix()
	}
	return claims, nil
}

// jwtJSONValue decodes one JSON value, keeping numbers as written.
func jwtJSONValue(raw string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the value")
	}
	return v, nil
}
