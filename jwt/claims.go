package jwt

import (
	"encoding/json"
	"fmt"
	"time"
)

// Claims are the registered claims of RFC 7519 §4.1. A zero field is an
// absent claim. When signing, Extra adds the other claims; when decoding,
// Extra is nil and Token.ClaimSet holds every claim.
type Claims struct {
	Issuer   string   // iss
	Subject  string   // sub
	Audience []string // aud: one value is written as a string
	// ExpiresAt, NotBefore and IssuedAt are exp, nbf and iat, written as
	// whole seconds (NumericDate, RFC 7519 §2).
	ExpiresAt time.Time // exp
	NotBefore time.Time // nbf
	IssuedAt  time.Time // iat
	ID        string    // jti
	// Extra holds further claims to sign (custom ones, client_id, scope,
	// ...). Setting a registered claim both here and in its field is an
	// error.
	Extra map[string]any
}

// MarshalJSON writes the claims as one JSON object.
func (c Claims) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(c.Extra)+7)
	for k, v := range c.Extra {
		m[k] = v
	}
	set := func(name string, v any, present bool) error {
		if !present {
			return nil
		}
		if _, dup := m[name]; dup {
			return fmt.Errorf("jwt: claim %q is set both in Extra and in its field", name)
		}
		m[name] = v
		return nil
	}
	var aud any = c.Audience
	if len(c.Audience) == 1 {
		aud = c.Audience[0]
	}
	for _, f := range []struct {
		name    string
		v       any
		present bool
	}{
		{"iss", c.Issuer, c.Issuer != ""},
		{"sub", c.Subject, c.Subject != ""},
		{"aud", aud, len(c.Audience) > 0},
		{"exp", c.ExpiresAt.Unix(), !c.ExpiresAt.IsZero()},
		{"nbf", c.NotBefore.Unix(), !c.NotBefore.IsZero()},
		{"iat", c.IssuedAt.Unix(), !c.IssuedAt.IsZero()},
		{"jti", c.ID, c.ID != ""},
	} {
		if err := set(f.name, f.v, f.present); err != nil {
			return nil, err
		}
	}
	return json.Marshal(m)
}
