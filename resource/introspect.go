package resource

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/gatehouse-auth/gatehouse/jwt"
)

// introspector asks the issuer about credentials that are not JWTs
// (RFC 7662).
type introspector struct {
	url          string
	clientID     string
	clientSecret string
	ttl          time.Duration // <= 0: answers are not cached
	client       *http.Client
	flight       singleflight.Group // one request per credential at a time
}

// errInactive is the answer for a credential the issuer does not vouch for.
var errInactive = invalidf("the issuer reports the token inactive")

// introspect checks a credential at the introspection endpoint and caches
// the answer, active or not, for the configured TTL (never past the
// credential's exp). Concurrent requests with the same credential share
// one call. Failures to reach the issuer are not cached.
func (v *Verifier) introspect(ctx context.Context, token string, sum [sha256.Size]byte, now time.Time) (*Identity, error) {
	in := v.intro
	ch := in.flight.DoChan(string(sum[:]), func() (any, error) {
		// Shared by every waiter: one of them giving up must not fail the rest.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultHTTPTimeout)
		defer cancel()
		claims, err := in.call(ctx, token)
		if err != nil {
			return nil, err
		}
		id, err := v.checkIntrospection(claims, now)
		if in.ttl > 0 {
			e := &entry{id: id, err: err, until: now.Add(in.ttl)}
			if id != nil && !id.Expiry.IsZero() {
				e.until = minTime(e.until, id.Expiry.Add(v.leeway))
			}
			v.cache.Add(sum, e)
		}
		return id, err
	})
	select {
	case r := <-ch:
		id, _ := r.Val.(*Identity)
		return id, r.Err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: introspection: %w", ErrUnavailable, ctx.Err())
	}
}

// call POSTs the credential to the introspection endpoint, authenticated
// with client_secret_basic, and returns the response members.
func (in *introspector) call(ctx context.Context, token string) (map[string]any, error) {
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.url, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%w: introspection: %w", ErrUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// RFC 6749 §2.3.1: the client id and secret are form-encoded before
	// they go into the Basic credentials.
	req.SetBasicAuth(url.QueryEscape(in.clientID), url.QueryEscape(in.clientSecret))
	resp, err := in.client.Do(req)
	if err != nil {
		// The error names the URL, never the credential (it is in the body).
		return nil, fmt.Errorf("%w: introspection: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, fmt.Errorf("%w: introspection: the issuer refused this resource server's client credentials (HTTP %d)", ErrUnavailable, resp.StatusCode)
	default:
		return nil, fmt.Errorf("%w: introspection: HTTP %d", ErrUnavailable, resp.StatusCode)
	}
	var claims map[string]any
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(&claims); err != nil || claims == nil {
		return nil, fmt.Errorf("%w: introspection: response is not a JSON object", ErrUnavailable)
	}
	return claims, nil
}

// checkIntrospection turns an introspection response (RFC 7662 §2.2) into
// an Identity, or the reason the credential is refused.
func (v *Verifier) checkIntrospection(c map[string]any, now time.Time) (*Identity, error) {
	if active, _ := c["active"].(bool); !active {
		return nil, errInactive
	}
	str := func(name string) (string, error) {
		raw, present := c[name]
		s, ok := raw.(string)
		if present && !ok {
			return "", invalidf("introspection: %s is not a string", name)
		}
		return s, nil
	}
	// A refresh token is a credential for the token endpoint, not for
	// resource servers (RFC 6749 §1.5); Gatehouse's introspection answers
	// for refresh tokens too.
	tt, err := str("token_type")
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(tt, "refresh_token") {
		return nil, invalidf("a refresh token is not an access credential")
	}
	if iss, err := str("iss"); err != nil || (iss != "" && iss != v.issuer) {
		return nil, invalidf("introspection: iss is not the configured issuer")
	}
	if raw, present := c["aud"]; present {
		aud, ok := jwt.StringList(raw)
		if !ok || !v.acceptsAudience(aud) {
			return nil, invalidf("aud does not name this resource server")
		}
	}
	id := &Identity{Method: MethodIntrospection, Claims: c}
	if raw, present := c["exp"]; present {
		exp, ok := jwt.NumericDate(raw)
		if !ok {
			return nil, invalidf("introspection: exp is not a number")
		}
		if !now.Before(exp.Add(v.leeway)) {
			return nil, ErrExpiredToken
		}
		id.Expiry = exp
	}
	if raw, present := c["nbf"]; present {
		nbf, ok := jwt.NumericDate(raw)
		if !ok || nbf.After(now.Add(v.leeway)) {
			return nil, invalidf("nbf is in the future or not a number")
		}
	}
	for name, dst := range map[string]*string{"sub": &id.Subject, "client_id": &id.ClientID, "username": &id.Username, "jti": &id.TokenID} {
		if *dst, err = str(name); err != nil {
			return nil, err
		}
	}
	if err := fillScopesAndRoles(id, c); err != nil {
		return nil, err
	}
	// RFC 9449 §6.2: the introspection answer of a bound token has
	// cnf.jkt.
	if id.JKT, err = confirmation(c); err != nil {
		return nil, err
	}
	return id, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
