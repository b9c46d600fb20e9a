package cliauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// dpopAlg is the proof algorithm of the keys logins make (P-256).
const dpopAlg = "ES256"

// boundLabel is how status and login describe a DPoP-bound login.
const boundLabel = "bound to this machine's key (DPoP)"

// loginDPoP decides whether a login is bound to a new key of this
// machine (RFC 9449), and makes the key if so: by default where the
// server announces DPoP with ES256, never with --no-dpop (given now or
// remembered for the profile), always with --dpop (an error where the
// server cannot).
func (a *App) loginDPoP(o *loginOptions, t *loginTarget, md *protocol.Metadata) (*client.DPoP, error) {
	supported := slices.Contains(md.DPoPSigningAlgValuesSupported, dpopAlg)
	switch {
	case t.noDPoP:
		if !o.noDPoP && supported {
			a.logger().Info("login: not binding the login to a key: the profile was logged in with --no-dpop (--dpop binds it)")
		}
		return nil, nil
	case !supported && o.dpop:
		return nil, usageErrorf("--dpop: %s does not support DPoP with %s (its metadata's dpop_signing_alg_values_supported is %q); log in without --dpop", md.Issuer, dpopAlg, md.DPoPSigningAlgValuesSupported)
	case !supported:
		return nil, nil
	}
	d, err := client.NewDPoPKey(a.clock())
	if err != nil {
		return nil, fmt.Errorf("cliauth: make the login's DPoP key: %w", err)
	}
	return d, nil
}

// describeBinding tells, after a login, that its tokens are bound to
// this machine's key, and what that means for tools that only send bearer
// tokens.
func (a *App) describeBinding(c *credstore.Credential) {
	if !c.Bound() {
		return
	}
	fmt.Fprintf(a.IO.errOut(), "The login is %s: its tokens are useless elsewhere. For kubectl or git, log in a profile with --no-dpop.\n", boundLabel)
}

// dpopProof is the proof token prints for a DPoP-bound token.
type dpopProof struct {
	proof string
	jkt   string
}

// proofTarget checks --url and --method: the request a proof is for.
// Without --url it is nil.
func (o *tokenOptions) proofTarget() (*url.URL, error) {
	method := strings.TrimSpace(o.method)
	if method == "" || strings.ContainsAny(method, " \t/:") {
		return nil, usageErrorf("--method %q is not an HTTP method", o.method)
	}
	o.method = strings.ToUpper(method)
	if o.url == "" {
		return nil, nil
	}
	if o.output != outputHeader && o.output != outputJSON {
		return nil, usageErrorf("--url names the request of a DPoP proof: it goes with --output header or json")
	}
	u, err := url.Parse(o.url)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, usageErrorf("--url %q: want the absolute http(s) URL of the request the token is for (https://api.example.com/things)", o.url)
	}
	return u, nil
}

// tokenProof makes the proof token prints for a DPoP-bound token, or
// refuses the output formats that cannot carry one.
func (a *App) tokenProof(ctx context.Context, s *source, r *Resolved, o *tokenOptions, target *url.URL, tok *oauth2.Token) (*dpopProof, error) {
	switch o.output {
	case outputExecCredential:
		return nil, &Error{Code: ExitUsage, Err: errBoundToKey, Msg: fmt.Sprintf(
			"profile %q is %s: its tokens work only with a proof of the key for each request, and kubectl sends tokens as bearer tokens. "+
				"Log in a profile for kubectl with `%s login --profile NAME --no-dpop` and use --profile NAME in the kubeconfig's exec args",
			r.Profile, boundLabel, a.Name)}
	case outputText:
		a.warn(fmt.Sprintf("profile %q is %s: this token alone is refused as a bearer token; send it with a proof: `%s token --output header --url URL`, or use `%s api`", r.Profile, boundLabel, a.Name, a.Name))
		return nil, nil
	}
	if target == nil && o.output == outputHeader {
		return nil, usageErrorf("profile %q is %s: the header needs a proof for the request it goes with; pass --url URL (and --method, GET by default): `%s token --output header --url https://api.example.com/things`", r.Profile, boundLabel, a.Name)
	}
	d, err := s.DPoP(ctx)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, &Error{Code: ExitError, Err: client.ErrNoDPoPKey, Msg: fmt.Sprintf("the token of profile %q is DPoP-bound but no key is stored with it; run `%s`", r.Profile, a.loginHint(r.Profile, r.cfg.defaultProfile()))}
	}
	if target == nil {
		return &dpopProof{jkt: d.Thumbprint()}, nil // json: no request, no proof
	}
	p, err := d.Proof(o.method, target.String(), tok.AccessToken)
	if err != nil {
		return nil, err
	}
	return &dpopProof{proof: p, jkt: d.Thumbprint()}, nil
}

// errBoundToKey is the cause of a refusal to hand a DPoP-bound token to a
// tool that can only send bearer tokens.
var errBoundToKey = errors.New("the login is DPoP-bound")

// DPoP returns the key of the stored login's tokens, or nil: the source
// is a client.DPoPSource, so that Client's transport makes proofs.
func (s *source) DPoP(ctx context.Context) (*client.DPoP, error) {
	ds, ok := s.ts.(client.DPoPSource)
	if !ok {
		return nil, nil
	}
	d, err := ds.DPoP(ctx)
	if err != nil {
		return nil, s.app.explain(err, s.res.Profile, s.res.cfg.defaultProfile(), s.res.Issuer)
	}
	return d, nil
}

var _ client.DPoPSource = (*source)(nil)
