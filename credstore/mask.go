package credstore

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// mask is the fixed part of a masked secret; its length says nothing about
// the secret's.
const mask = "****"

// Mask hides a secret for display: a short fixed mask and the secret's
// last 4 characters ("****abcd"), enough to tell two secrets apart. A
// secret of 8 characters or fewer is masked entirely ("****"), since its
// last 4 would be half of it; an empty secret stays empty, so output does
// not suggest a secret that is not there.
func Mask(secret string) string {
	if secret == "" {
		return ""
	}
	r := []rune(secret)
	if len(r) <= 8 {
		return mask
	}
	return mask + string(r[len(r)-4:])
}

// maskKey hides a private key entirely: the tail of a PEM block is its
// armour, and no part of a key helps tell two apart (its thumbprint does).
func maskKey(key string) string {
	if key == "" {
		return ""
	}
	return mask
}

// Redacted returns a copy of c with every secret field — client secret,
// API key, access, refresh and ID token, pending refresh key — masked with Mask and the DPoP
// private key replaced by "****", for status and profile listings. A nil
// c gives the zero Credential.
func (c *Credential) Redacted() Credential {
	if c == nil {
		return Credential{}
	}
	r := *c
	r.Scopes = slices.Clone(c.Scopes)
	r.ClientSecret = Mask(c.ClientSecret)
	r.APIKey = Mask(c.APIKey)
	r.AccessToken = Mask(c.AccessToken)
	r.RefreshToken = Mask(c.RefreshToken)
	r.IDToken = Mask(c.IDToken)
	r.DPoPKey = maskKey(c.DPoPKey)
	r.PendingRefreshKey = Mask(c.PendingRefreshKey)
	return r
}

// fields returns c's non-empty fields, secrets masked, in declaration
// order, as JSON names and display values.
func (c Credential) fields() [][2]string {
	var out [][2]string
	add := func(k, v string) {
		if v != "" {
			out = append(out, [2]string{k, v})
		}
	}
	addTime := func(k string, t time.Time) {
		if !t.IsZero() {
			add(k, t.Format(time.RFC3339))
		}
	}
	add("kind", c.Kind)
	add("issuer", c.Issuer)
	add("client_id", c.ClientID)
	add("client_secret", Mask(c.ClientSecret))
	add("api_key", Mask(c.APIKey))
	add("token_type", c.TokenType)
	add("access_token", Mask(c.AccessToken))
	add("refresh_token", Mask(c.RefreshToken))
	add("id_token", Mask(c.IDToken))
	addTime("expiry", c.Expiry)
	add("scopes", strings.Join(c.Scopes, " "))
	add("subject", c.Subject)
	add("username", c.Username)
	addTime("updated_at", c.UpdatedAt)
	add("dpop_key", maskKey(c.DPoPKey))
	add("pending_refresh_key", Mask(c.PendingRefreshKey))
	return out
}

// String describes c with its secrets masked:
// "{kind:user issuer:https://id.example access_token:****wxyz ...}".
func (c Credential) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range c.fields() {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%s", f[0], f[1])
	}
	b.WriteByte('}')
	return b.String()
}

// Format prints c as String does for every verb (%v, %+v, %#v, %s, ...),
// so formatting a Credential into a log line or an error never shows a
// secret. Read the fields, or encode it as JSON, to get them.
func (c Credential) Format(f fmt.State, verb rune) {
	_, _ = io.WriteString(f, c.String())
}

// LogValue makes log/slog log c with its secrets masked.
func (c Credential) LogValue() slog.Value {
	fields := c.fields()
	attrs := make([]slog.Attr, 0, len(fields))
	for _, f := range fields {
		attrs = append(attrs, slog.String(f[0], f[1]))
	}
	return slog.GroupValue(attrs...)
}
