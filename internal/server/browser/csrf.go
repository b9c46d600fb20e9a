package browser

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/secret"
)

// Cross-site request forgery protection for the HTML forms is a double
// submit (SECURITY-CASES 32): a random token lives in an HttpOnly cookie
// and in a hidden field of every form, and a POST is accepted only when
// the two are equal. A cross-site page can make the browser send the
// cookie but cannot read it to fill in the field. With an https issuer
// the cookie carries the __Host- prefix, so a sibling subdomain cannot
// plant one. Cross-origin POSTs are also refused earlier by
// http.CrossOriginProtection.

// CSRFField is the hidden form field that carries the CSRF token.
const CSRFField = "csrf_token"

// maxFormBytes bounds the body of a form.
const maxFormBytes = 64 << 10

// ErrCSRF is ReadForm's answer to a form without the token of the CSRF
// cookie.
var ErrCSRF = errors.New("browser: form without the CSRF token")

// CSRFToken returns the browser's CSRF token, setting a new cookie when
// the request has none (or a malformed one).
func (s *Sessions) CSRFToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(s.CookieName(CSRFCookie)); err == nil && wellFormedToken(c.Value) {
		return c.Value
	}
	tok := secret.NewToken()
	http.SetCookie(w, s.NewCookie(CSRFCookie, tok, 0))
	return tok
}

// checkCSRF reports whether the parsed POST form carries the token of the
// CSRF cookie. Both must be present; they are compared in constant time.
func (s *Sessions) checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(s.CookieName(CSRFCookie))
	if err != nil || !wellFormedToken(c.Value) {
		return false
	}
	f := r.PostFormValue(CSRFField)
	return f != "" && secret.Equal(c.Value, f)
}

// wellFormedToken accepts what secret.NewToken makes: 43 base64url
// characters.
func wellFormedToken(v string) bool {
	if len(v) != 43 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isBase64URL(v[i]) {
			return false
		}
	}
	return true
}

func isBase64URL(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// ReadForm reads a POST form body of at most 64 KiB and checks its CSRF
// token: an error when the body cannot be read, ErrCSRF when the token
// is missing or wrong. It is for a caller that answers in its own way;
// ParsePostForm shows the error page.
func (s *Sessions) ReadForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("browser: read form: %w", err)
	}
	if !s.checkCSRF(r) {
		return ErrCSRF
	}
	return nil
}

// ParsePostForm reads a POST form body and checks its CSRF token, as
// ReadForm does. On failure it has already answered the request with the
// error page.
func (s *Sessions) ParsePostForm(w http.ResponseWriter, r *http.Request) bool {
	switch err := s.ReadForm(w, r); {
	case errors.Is(err, ErrCSRF):
		s.d.Pages.Error(w, r, http.StatusForbidden, "Request refused",
			"The form was stale or was not sent from this site. Go back, reload the page and try again.")
		return false
	case err != nil:
		s.d.Pages.Error(w, r, http.StatusBadRequest, "Bad request", "The form could not be read. Go back, reload the page and try again.")
		return false
	}
	return true
}
