package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"

	"github.com/gatehouse-auth/gatehouse/internal/connector"
)

// Exchange finishes a sign-in: query is the authorization response the
// browser brought back to Gatehouse's callback, p what AuthCodeURL was
// given. In order it checks state, the RFC 9207 iss and an error
// response, redeems the code (with the PKCE verifier), validates the ID
// token, reads userinfo if the ID token lacks claims, maps the claims and
// applies the restrictions. Errors wrap connector.ErrInvalidCredentials
// (the provider did not vouch: error response, bad state, iss or token),
// connector.ErrUnavailable (the provider could not be asked within the
// timeout, or is misconfigured) or connector.ErrNotAllowed (the
// restrictions refuse the person).
func (c *Connector) Exchange(ctx context.Context, query url.Values, p connector.Pending) (*connector.Identity, error) {
	if err := checkPending(p); err != nil {
		return nil, fmt.Errorf("oidc %s: %w", c.id, err)
	}
	// RFC 6749 §3.1: "Request and response parameters MUST NOT be
	// included more than once." A second state or code could make two
	// readers of this response disagree.
	for _, k := range []string{"state", "code", "iss", "error"} {
		if len(query[k]) > 1 {
			return nil, c.invalid("the authorization response has %q more than once", k)
		}
	}
	// RFC 6749 §10.12: the state binds the response to this browser's
	// request. Compared in constant time: it is a secret of the browser.
	if subtle.ConstantTimeCompare([]byte(query.Get("state")), []byte(p.State)) != 1 {
		return nil, c.invalid("the state in the authorization response does not match the sign-in (a stale or forged response; start again)")
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.timeout())
	defer cancel()
	prov, err := c.provider(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.checkIss(prov, query); err != nil {
		return nil, err
	}
	if e := query.Get("error"); e != "" {
		return nil, c.invalid("the provider answered %.64q: %.200q", e, query.Get("error_description"))
	}
	code := query.Get("code")
	if code == "" {
		return nil, c.invalid("the authorization response has neither code nor error")
	}
	tok, err := c.redeem(ctx, prov, code, p)
	if err != nil {
		return nil, err
	}
	idt, err := c.verifyIDToken(ctx, prov, tok, p.Nonce)
	if err != nil {
		return nil, err
	}
	var info map[string]any
	if c.wantUserinfo(prov, idt.ClaimSet) {
		if info, err = c.userinfo(ctx, prov, tok.AccessToken, idt.Claims.Subject); err != nil {
			return nil, err
		}
	}
	id, err := c.identity(idt.ClaimSet, info)
	if err != nil {
		return nil, err
	}
	if err := c.allow(id, idt.ClaimSet); err != nil {
		return nil, err
	}
	return id, nil
}

// checkIss applies RFC 9207 §2.4: "Clients that support this
// specification MUST extract the value of the iss parameter from
// authorization responses they receive if the parameter is present.
// Clients MUST then decode the value from its application/x-www-form-
// urlencoded form and compare the result to the issuer identifier of the
// authorization server where the authorization request was sent to. This
// comparison MUST use simple string comparison", and "Authorization
// servers that advertise support (authorization_response_iss_parameter_
// supported) MUST include the iss parameter" — so its absence then means
// a response from somewhere else (a mix-up attack).
func (c *Connector) checkIss(prov *provider, query url.Values) error {
	iss, present := query["iss"]
	switch {
	case !present && prov.md.AuthorizationResponseIssParameterSupported:
		return c.invalid("the authorization response has no iss, which this provider always sends (RFC 9207; a mix-up attack?)")
	case present && iss[0] != c.cfg.Issuer:
		return c.invalid("the authorization response comes from issuer %.128q, not %q (RFC 9207; a mix-up attack?)", iss[0], c.cfg.Issuer)
	}
	return nil
}

// invalid is a connector.ErrInvalidCredentials error.
func (c *Connector) invalid(format string, args ...any) error {
	return fmt.Errorf("%w: oidc %s: %s", connector.ErrInvalidCredentials, c.id, fmt.Sprintf(format, args...))
}

// unavailable is a connector.ErrUnavailable error.
func (c *Connector) unavailable(format string, args ...any) error {
	return fmt.Errorf("%w: oidc %s: %s", connector.ErrUnavailable, c.id, fmt.Sprintf(format, args...))
}

// notAllowed is a connector.ErrNotAllowed error.
func (c *Connector) notAllowed(format string, args ...any) error {
	return fmt.Errorf("%w: oidc %s: %s", connector.ErrNotAllowed, c.id, fmt.Sprintf(format, args...))
}

// transportError turns a failed call to the provider into
// ErrUnavailable, saying when it was the timeout.
func (c *Connector) transportError(what string, ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return c.unavailable("%s: the provider did not answer within %s", what, c.cfg.timeout())
	}
	return c.unavailable("%s: %v", what, err)
}
