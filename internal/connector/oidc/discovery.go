package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/connector"
	"github.com/gatehouse-auth/gatehouse/jwt"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// RediscoverAfter is how long a discovery document is used before it is
// fetched again. A failed fetch keeps the old document in use.
const RediscoverAfter = 24 * time.Hour

// maxBodyBytes bounds every response read from the provider.
const maxBodyBytes = 1 << 20

// wellKnown is the OpenID Connect discovery path (Discovery 1.0 §4).
const wellKnown = "/.well-known/openid-configuration"

// provider is what discovery learned, ready to use.
type provider struct {
	md         *protocol.Metadata
	keys       *jwt.RemoteKeySet
	verifier   *jwt.Verifier
	algorithms []string // the ID token allow-list
	authMethod string   // client_secret_basic, client_secret_post or none
	fetchedAt  time.Time
}

// provider returns the discovered provider: the cached one while it is
// fresh, else it fetches the document (one fetch at a time, shared by the
// callers waiting for it). Discovery is lazy and retried at every call
// until it succeeds, so a provider that is down when the server starts
// does not stop the server, and the first sign-in after it is back works.
// A failed refresh of a stale document keeps the old one.
func (c *Connector) provider(ctx context.Context) (*provider, error) {
	old := c.prov.Load()
	if old != nil && c.clock.Now().Sub(old.fetchedAt) < RediscoverAfter {
		return old, nil
	}
	ch := c.flight.DoChan("discovery", func() (any, error) {
		// Shared by every waiting caller: one giving up must not fail the
		// others, but the fetch is still bounded.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.timeout())
		defer cancel()
		p, err := c.discover(fctx, old)
		if err != nil {
			return nil, err
		}
		c.prov.Store(p)
		return p, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			if old != nil {
				return old, nil
			}
			return nil, r.Err
		}
		return r.Val.(*provider), nil
	case <-ctx.Done():
		if old != nil {
			return old, nil
		}
		return nil, fmt.Errorf("%w: oidc %s: discovery: %w", connector.ErrUnavailable, c.id, ctx.Err())
	}
}

// discover fetches and checks the discovery document. Errors wrap
// connector.ErrUnavailable: the provider cannot be used until it (or the
// configuration) is fixed.
func (c *Connector) discover(ctx context.Context, old *provider) (*provider, error) {
	unavailable := func(format string, args ...any) error {
		return fmt.Errorf("%w: oidc %s: discovery: %s", connector.ErrUnavailable, c.id, fmt.Sprintf(format, args...))
	}
	// OpenID Connect Discovery §4: the document is at the issuer with
	// "/.well-known/openid-configuration" appended, "removing any
	// terminating / on the Issuer".
	u := strings.TrimSuffix(c.cfg.Issuer, "/") + wellKnown
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, unavailable("%v", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, unavailable("%v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return nil, unavailable("read %s: %v", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, unavailable("GET %s: %s; check issuer", u, resp.Status)
	}
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct != "" && ct != "application/json" && !strings.HasSuffix(ct, "+json") {
		return nil, unavailable("GET %s: content type %s, want application/json; check issuer", u, ct)
	}
	var md protocol.Metadata
	if err := json.Unmarshal(body, &md); err != nil {
		return nil, unavailable("GET %s: not a discovery document: %v", u, err)
	}
	// OpenID Connect Discovery §4.3: "The issuer value returned MUST be
	// identical to the Issuer URL that was used as the prefix to
	// /.well-known/openid-configuration to retrieve the configuration
	// information." (RFC 8414 §3.3 says the same: "If these values are not
	// identical, the data contained in the response MUST NOT be used.")
	// Byte for byte: no case folding, no trailing-slash leniency.
	if md.Issuer != c.cfg.Issuer {
		hint := "set issuer to exactly the value the provider publishes"
		if strings.Contains(md.Issuer, "{tenantid}") {
			hint = "this is Entra ID's multi-tenant document, whose issuer is a template; set issuer to your tenant's https://login.microsoftonline.com/<tenant-id>/v2.0"
		}
		return nil, unavailable("the document at %s names issuer %q, not %q; %s", u, md.Issuer, c.cfg.Issuer, hint)
	}
	for _, f := range []struct{ name, val string }{
		{"authorization_endpoint", md.AuthorizationEndpoint},
		{"token_endpoint", md.TokenEndpoint},
		{"jwks_uri", md.JWKSURI},
	} {
		if !usableEndpoint(c.cfg.Issuer, f.val) {
			return nil, unavailable("the document has no usable %s (%q): want an https URL", f.name, f.val)
		}
	}
	if md.UserinfoEndpoint != "" && !usableEndpoint(c.cfg.Issuer, md.UserinfoEndpoint) {
		return nil, unavailable("the document has no usable userinfo_endpoint (%q): want an https URL", md.UserinfoEndpoint)
	}
	p := &provider{md: &md, fetchedAt: c.clock.Now()}

	// Client authentication at the token endpoint. Discovery §3: the
	// default of token_endpoint_auth_methods_supported is
	// client_secret_basic.
	methods := md.TokenEndpointAuthMethodsSupported
	switch {
	case c.cfg.PublicClient:
		// RFC 7636 is what protects a client without a secret; refuse to
		// run without it rather than send codes anyone could redeem.
		if !slices.Contains(md.CodeChallengeMethodsSupported, "S256") {
			return nil, unavailable("public_client needs PKCE, and the provider does not list S256 in code_challenge_methods_supported; register a confidential client and set client_secret_file")
		}
		p.authMethod = protocol.AuthMethodNone
	case c.cfg.TokenAuthMethod != "":
		p.authMethod = c.cfg.TokenAuthMethod
	case len(methods) == 0 || slices.Contains(methods, protocol.AuthMethodBasic):
		p.authMethod = protocol.AuthMethodBasic
	case slices.Contains(methods, protocol.AuthMethodPost):
		p.authMethod = protocol.AuthMethodPost
	default:
		return nil, unavailable("the token endpoint supports only %s; Gatehouse authenticates with client_secret_basic or client_secret_post", strings.Join(methods, ", "))
	}

	// ID token algorithms: what the operator listed, else what the
	// provider says it signs with, minus HMAC (a shared secret is never
	// assumed) and anything not implemented. "none" is never implemented.
	if len(c.cfg.IDTokenAlgorithms) > 0 {
		p.algorithms = slices.Clone(c.cfg.IDTokenAlgorithms)
	} else {
		advertised := md.IDTokenSigningAlgValuesSupported
		if len(advertised) == 0 {
			// OIDC Core §3.1.3.7: "The default for alg is RS256".
			advertised = []string{jwt.RS256}
		}
		for _, a := range advertised {
			if slices.Contains(jwt.DefaultAlgorithms, a) {
				p.algorithms = append(p.algorithms, a)
			}
		}
		if len(p.algorithms) == 0 {
			return nil, unavailable("the provider signs ID tokens only with %s; none of them is an asymmetric algorithm Gatehouse accepts (HMAC needs id_token_algorithms)", strings.Join(advertised, ", "))
		}
	}

	if old != nil && old.md.JWKSURI == md.JWKSURI {
		p.keys = old.keys // keep the cached keys
	} else {
		p.keys = jwt.NewRemoteKeySet(md.JWKSURI, jwt.RemoteOptions{HTTPClient: c.http, Clock: c.clock})
	}
	var keys jwt.KeySource = p.keys
	if c.hmacKey != nil {
		keys = withHMAC{remote: p.keys, hmac: c.hmacKey}
	}
	p.verifier, err = jwt.NewVerifier(jwt.Config{
		Keys:       keys,
		Algorithms: p.algorithms,
		Issuer:     c.cfg.Issuer,
		Audience:   []string{c.cfg.ClientID},
		Leeway:     Leeway,
		Clock:      c.clock,
	})
	if err != nil {
		return nil, unavailable("%v", err)
	}
	return p, nil
}

// usableEndpoint reports whether an endpoint of the document is an
// absolute https URL — or http, when the issuer itself is http (which
// Validate allows on loopback only), so that secrets and codes never
// travel in clear to a provider reached over https.
func usableEndpoint(issuer, endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return false
	}
	return u.Scheme == "https" || (u.Scheme == "http" && strings.HasPrefix(issuer, "http://"))
}

// withHMAC adds the client secret, as an HMAC key, to the provider's keys,
// for id_token_algorithms that list HS256, HS384 or HS512 (OIDC Core
// §10.1: "the octets of the UTF-8 representation of the client_secret
// ... are used as the key"). The verifier tries a key only for the
// algorithms that fit it, so the HMAC key never checks an RS256 token and
// no public key ever acts as an HMAC secret.
type withHMAC struct {
	remote *jwt.RemoteKeySet
	hmac   *jwt.Key
}

func (k withHMAC) Keys(ctx context.Context, kid string) ([]*jwt.Key, error) {
	keys, err := k.remote.Keys(ctx, kid)
	if err != nil && !errors.Is(err, jwt.ErrUnknownKey) && !errors.Is(err, jwt.ErrUnavailable) {
		return nil, err
	}
	return append(keys, k.hmac), nil
}
