package jwtcmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/jwt"
)

// NewCmdJWT is the `gatehouse jwt` group: decode, verify, sign, keygen.
func NewCmdJWT(f *command.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "jwt",
		Short: "Decode, verify and sign JSON Web Tokens",
		Long: `Inspect, verify and make JSON Web Tokens (RFC 7519).

'decode' shows a token's header and claims without checking anything;
'verify' checks its signature against the issuer's keys, a JWKS or a key
file, and its exp, nbf and aud; 'sign' makes one, for tests and for
private_key_jwt client assertions (RFC 7523); 'keygen' makes a key pair
whose public JWKS a private_key_jwt client registers.

Only asymmetric algorithms are used: ES256, ES384, ES512, EdDSA, RS256,
RS384, RS512, PS256, PS384, PS512. Unsigned tokens (alg "none") and HMAC
(HS256...) are refused.`,
		Example: `  gatehouse jwt decode "$TOKEN"
  gatehouse token | gatehouse jwt decode -
  gatehouse jwt verify "$TOKEN" --issuer https://auth.example.com
  gatehouse jwt keygen --out client.pem --jwks-out client.jwks.json
  gatehouse jwt sign --key client.pem --assertion --client-id svc --token-endpoint https://auth.example.com/oauth2/token`,
	}
	command.Group(cmd)
	cmd.AddCommand(
		NewCmdDecode(f, nil),
		NewCmdVerify(f, nil),
		NewCmdSign(f, nil),
		NewCmdKeygen(f, nil),
	)
	return cmd
}

// jwtCheckAlgorithm explains why alg is not one `jwt sign` makes:
// asymmetric algorithms only (jwt.DefaultAlgorithms), so that neither
// "none" nor an HMAC keyed with a public key is ever produced (RFC 8725
// §2.1, §3.1).
func jwtCheckAlgorithm(alg string) error {
	switch {
	case slices.Contains(jwt.DefaultAlgorithms, alg):
		return nil
	case strings.EqualFold(alg, "none"):
		return errors.New(`alg "none": unsigned tokens are never accepted`)
	case strings.HasPrefix(alg, "HS"):
		return fmt.Errorf("alg %s is HMAC, a shared-secret algorithm; only asymmetric algorithms are accepted (RFC 8725 §3.1)", alg)
	case alg == "":
		return errors.New("the header has no alg")
	}
	return fmt.Errorf("alg %q is not supported; use one of %s", alg, strings.Join(jwt.DefaultAlgorithms, ", "))
}

// jwtParts is a compact JWS split and decoded, not verified.
type jwtParts struct {
	// Raw is the token as given, without surrounding white space.
	Raw string
	// Header and Claims are the decoded JSON objects; numbers are kept
	// as json.Number so that large values print unchanged.
	Header map[string]any
	Claims map[string]any
}

// jwtExitError is an error of the jwt commands with its own exit code.
type jwtExitError struct {
	code int
	err  error
}

func (e *jwtExitError) Error() string { return e.err.Error() }
func (e *jwtExitError) Unwrap() error { return e.err }
func (e *jwtExitError) ExitCode() int { return e.code }

// jwtMalformed is a token that cannot be decoded: bad input, command.ExitUsage
// (not a *command.UsageError: the command was used right, the token is wrong).
func jwtMalformed(format string, args ...any) error {
	return &jwtExitError{code: command.ExitUsage, err: fmt.Errorf("malformed JWT: "+format, args...)}
}

// jwtSplit decodes a compact JWS (RFC 7515 §7.1) without verifying it,
// with jwt.DecodeUnverified; the header and claims are decoded again with
// numbers kept as written, for display.
func jwtSplit(token string) (*jwtParts, error) {
	token = strings.TrimSpace(token)
	if rest, ok := strings.CutPrefix(token, "Bearer "); ok {
		token = strings.TrimSpace(rest)
	}
	if token == "" {
		return nil, jwtMalformed("the token is empty")
	}
	t, err := jwt.DecodeUnverified(token)
	if err != nil {
		return nil, jwtMalformed("%s", strings.TrimPrefix(err.Error(), jwt.ErrMalformed.Error()+": "))
	}
	p := &jwtParts{Raw: token}
	if p.Header, err = jwtJSONObject(t.Header.Raw); err != nil {
		return nil, jwtMalformed("header: %w", err)
	}
	if p.Claims, err = jwtJSONObject(t.Payload); err != nil {
		return nil, jwtMalformed("claims: %w", err)
	}
	return p, nil
}

// jwtJSONObject decodes a JSON object, keeping numbers as json.Number and
// refusing anything after it.
func jwtJSONObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if m == nil {
		return nil, errors.New("not a JSON object: null")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not a JSON object: data after the object")
	}
	return m, nil
}

// jwtHeaderString returns a string header parameter ("" when absent or
// not a string).
func (p *jwtParts) jwtHeaderString(name string) string {
	s, _ := p.Header[name].(string)
	return s
}

// jwtTimeClaims are the NumericDate claims shown as times.
var jwtTimeClaims = []string{"iat", "nbf", "exp", "auth_time"}

// jwtNumericDate reads a NumericDate claim (RFC 7519 §2): seconds since
// the epoch, possibly fractional.
func jwtNumericDate(v any) (time.Time, bool) {
	var f float64
	switch n := v.(type) {
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return time.Time{}, false
		}
	case float64:
		f = n
	default:
		return time.Time{}, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<53 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

// jwtTimes returns the time claims of claims as RFC 3339 strings, for the
// --json documents.
func jwtTimes(claims map[string]any) map[string]string {
	out := map[string]string{}
	for _, name := range jwtTimeClaims {
		if t, ok := jwtNumericDate(claims[name]); ok {
			out[name] = t.Format(time.RFC3339)
		}
	}
	return out
}

// jwtWriteTimes prints the time claims human-readably, relative to now.
func jwtWriteTimes(w io.Writer, claims map[string]any, now time.Time) {
	first := true
	for _, name := range jwtTimeClaims {
		t, ok := jwtNumericDate(claims[name])
		if !ok {
			continue
		}
		if first {
			fmt.Fprintln(w, "Times:")
			first = false
		}
		rel := jwtRelative(t.Sub(now))
		if name == "exp" && !now.Before(t) {
			rel = "expired " + rel
		}
		fmt.Fprintf(w, "  %-9s %s  (%s)\n", name, t.Format(time.RFC3339), rel)
	}
}

// jwtRelative describes d as "in 4m59s" or "3m0s ago", to the second,
// or in days and hours from two days on ("324d5h ago").
func jwtRelative(d time.Duration) string {
	d = d.Round(time.Second)
	abs := d.Abs()
	s := abs.String()
	if abs >= 48*time.Hour {
		s = fmt.Sprintf("%dd%dh", abs/(24*time.Hour), abs%(24*time.Hour)/time.Hour)
	}
	switch {
	case d == 0:
		return "now"
	case d > 0:
		return "in " + s
	}
	return s + " ago"
}

// jwtWriteObject prints v as indented JSON without HTML escaping.
func jwtWriteObject(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jwtReadArg returns the token argument, reading standard input for "-"
// (or no argument when stdin is not a terminal).
func jwtReadArg(streams command.IOStreams, args []string) (string, error) {
	if len(args) == 1 && args[0] != "-" {
		return args[0], nil
	}
	if len(args) == 0 && streams.IsTTY() {
		return "", command.UsageErrorf("give the token as an argument, or '-' to read it from standard input")
	}
	b, err := io.ReadAll(io.LimitReader(streams.In, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read token from stdin: %w", err)
	}
	return string(b), nil
}
