package browser

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// maxSealedCookie bounds the value of a sealed cookie that Sealed opens.
const maxSealedCookie = 4096

// SetSealed sets cookie name to v as JSON, sealed with the server secret
// key and additional data ad (which names the cookie's purpose, so one
// sealed cookie can never be read as another), valid for ttl. The
// content should carry its own expiry too, which the reader checks, since
// a browser may keep a cookie longer than asked.
func (s *Sessions) SetSealed(w http.ResponseWriter, name, ad string, v any, ttl time.Duration) error {
	// The errors keep the server's prefix: they reach the log as before.
	if s.d.SecretKey == nil {
		return errors.New("server: multi-factor login and passkeys need the secret key")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("server: %s cookie: %w", name, err)
	}
	sealed, err := s.d.SecretKey.Seal(b, []byte(ad))
	if err != nil {
		return fmt.Errorf("server: seal %s cookie: %w", name, err)
	}
	http.SetCookie(w, s.NewCookie(name, base64.RawURLEncoding.EncodeToString(sealed), int(ttl/time.Second)))
	return nil
}

// Sealed opens the sealed cookie name into v and reports whether there
// was one that opened with ad.
func (s *Sessions) Sealed(r *http.Request, name, ad string, v any) bool {
	c, err := r.Cookie(s.CookieName(name))
	if err != nil || s.d.SecretKey == nil || len(c.Value) > maxSealedCookie {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return false
	}
	b, err := s.d.SecretKey.Open(raw, []byte(ad))
	if err != nil {
		return false
	}
	return json.Unmarshal(b, v) == nil
}
