package resource

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"time"
)

// b64 decodes the parts of a compact JWS: unpadded base64url, strictly.
var b64 = base64.RawURLEncoding.Strict()

// jwsHeader holds the protected header members a Verifier looks at.
type jwsHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  string          `json:"typ"`
	Crit json.RawMessage `json:"crit"`
}

// verifyJWT checks a JWT access token following RFC 9068 §4, in the
// compact serialisation (RFC 7515 §7.1), parsed here rather than by a
// general JOSE library: the header and claims are decoded once and the
// signature is checked with the cached public key. It returns the
// Identity and the kid and key that verified it.
func (v *Verifier) verifyJWT(ctx context.Context, token string, now time.Time) (*Identity, *publicKey, string, error) {
	first := strings.IndexByte(token, '.')
	last := strings.LastIndexByte(token, '.')

	hb, err := b64.DecodeString(token[:first])
	if err != nil {
		return nil, nil, "", invalidf("header is not base64url")
	}
	var h jwsHeader
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, nil, "", invalidf("header is not a JSON object of strings")
	}
	// RFC 7515 §4.1.11: extensions listed in "crit" MUST be understood;
	// this verifier understands none.
	if h.Crit != nil {
		return nil, nil, "", invalidf(`header has "crit"`)
	}
	// RFC 9068 §4: "The resource server MUST verify that the "typ" header
	// value is "at+jwt" or "application/at+jwt" and reject tokens carrying
	// any other value." This is what keeps ID tokens (typ JWT) out
	// (RFC 8725 §3.11).
	if !isAccessTokenType(h.Typ) {
		return nil, nil, "", invalidf("typ %.32q is not at+jwt", h.Typ)
	}
	// RFC 8725 §3.1: only algorithms on the allow-list; "none" and HMAC
	// never are.
	if !slices.Contains(v.algorithms, h.Alg) {
		return nil, nil, "", invalidf("alg %.32q is not allowed", h.Alg)
	}
	key, err := v.keys.lookup(ctx, h.Kid, now)
	if err != nil {
		return nil, nil, "", err
	}
	// RFC 8725 §3.1: the algorithm must be the one the key is for, so a
	// key can never be used with an algorithm chosen by the token.
	if h.Alg != key.alg {
		return nil, nil, "", invalidf("alg %s is not the algorithm of key %.64q", h.Alg, h.Kid)
	}
	sig, err := b64.DecodeString(token[last+1:])
	if err != nil {
		return nil, nil, "", invalidf("signature is not base64url")
	}
	if !key.verify(token[:last], sig) {
		return nil, nil, "", invalidf("bad signature")
	}

	payload, err := b64.DecodeString(token[first+1 : last])
	if err != nil {
		return nil, nil, "", invalidf("payload is not base64url")
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil || claims == nil {
		return nil, nil, "", invalidf("payload is not a JSON object")
	}
	id, err := v.checkClaims(claims, now)
	if err != nil {
		return nil, nil, "", err
	}
	return id, key, h.Kid, nil
}

// isAccessTokenType accepts "at+jwt" and "application/at+jwt"; media type
// names are case-insensitive (RFC 7515 §4.1.9, RFC 2045 §5.1).
func isAccessTokenType(typ string) bool {
	if len(typ) > len("application/") && strings.EqualFold(typ[:len("application/")], "application/") {
		typ = typ[len("application/"):]
	}
	return strings.EqualFold(typ, "at+jwt")
}

// checkClaims checks the claims of a JWT access token whose signature is
// good (RFC 9068 §2.2, §4; RFC 7519 §4.1) and returns its Identity.
func (v *Verifier) checkClaims(c map[string]any, now time.Time) (*Identity, error) {
	// RFC 9068 §4: "The issuer identifier for the authorization server
	// ... MUST exactly match the value of the "iss" claim."
	if iss, _ := c["iss"].(string); iss != v.issuer {
		return nil, invalidf("iss %.64q is not the configured issuer", iss)
	}
	// RFC 9068 §4: "The resource server MUST validate that the "aud" claim
	// contains a resource indicator value corresponding to an identifier
	// the resource server expects for itself."
	aud, ok := stringList(c["aud"])
	if !ok || !v.acceptsAudience(aud) {
		return nil, invalidf("aud does not name this resource server")
	}
	// RFC 9068 §4: "The current time MUST be before the time represented
	// by the "exp" claim." exp is REQUIRED (§2.2).
	exp, ok := numericDate(c["exp"])
	if !ok {
		return nil, invalidf("exp is missing or not a number")
	}
	if !now.Before(exp.Add(v.leeway)) {
		return nil, ErrExpiredToken
	}
	// RFC 7519 §4.1.5: not to be accepted before nbf.
	if raw, present := c["nbf"]; present {
		nbf, ok := numericDate(raw)
		if !ok || nbf.After(now.Add(v.leeway)) {
			return nil, invalidf("nbf is in the future or not a number")
		}
	}
	// iat is REQUIRED (RFC 9068 §2.2); a token from the future is refused.
	iat, ok := numericDate(c["iat"])
	if !ok || iat.After(now.Add(v.leeway)) {
		return nil, invalidf("iat is missing, in the future, or not a number")
	}
	id := &Identity{Expiry: exp, Method: MethodJWT, Claims: c}
	// sub, client_id and jti are REQUIRED (RFC 9068 §2.2).
	for _, f := range []struct {
		name     string
		dst      *string
		required bool
	}{
		{"sub", &id.Subject, true},
		{"client_id", &id.ClientID, true},
		{"jti", &id.TokenID, true},
		{"preferred_username", &id.Username, false},
	} {
		s, ok := c[f.name].(string)
		if _, present := c[f.name]; (present && !ok) || (f.required && s == "") {
			return nil, invalidf("%s is missing or not a string", f.name)
		}
		*f.dst = s
	}
	if err := fillScopesAndRoles(id, c); err != nil {
		return nil, err
	}
	return id, nil
}

// fillScopesAndRoles reads scope (a space-separated string, RFC 9068
// §2.2.3, RFC 7662 §2.2) and roles (an array of strings) into id.
func fillScopesAndRoles(id *Identity, c map[string]any) error {
	if raw, present := c["scope"]; present {
		s, ok := raw.(string)
		if !ok {
			return invalidf("scope is not a string")
		}
		id.Scopes = strings.Fields(s)
	}
	if raw, present := c["roles"]; present {
		roles, ok := stringList(raw)
		if !ok {
			return invalidf("roles is not a list of strings")
		}
		id.Roles = roles
	}
	return nil
}

// acceptsAudience reports whether aud names one of the configured
// audiences.
func (v *Verifier) acceptsAudience(aud []string) bool {
	for _, a := range aud {
		if slices.Contains(v.audience, a) {
			return true
		}
	}
	return false
}

// stringList reads a claim that is a string or an array of strings, as
// "aud" may be (RFC 7519 §4.1.3).
func stringList(raw any) ([]string, bool) {
	switch x := raw.(type) {
	case string:
		return []string{x}, true
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// maxNumericDate keeps NumericDate values where float64 seconds are exact
// and time.Unix cannot overflow.
const maxNumericDate = 1 << 53

// numericDate reads a NumericDate (RFC 7519 §2): seconds since the epoch,
// possibly fractional.
func numericDate(raw any) (time.Time, bool) {
	f, ok := raw.(float64)
	if !ok || f < 0 || f > maxNumericDate {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}
