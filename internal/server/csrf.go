package server

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/secret"
)

// csrfField is the hidden form field that carries the CSRF token.
const csrfField = "csrf_token"

// Cross-site request forgery protection for the HTML forms is a double
// submit: a random token lives in an HttpOnly cookie and in a hidden field
// of every form, and a POST is accepted only when the two are equal. A
// cross-site page can make the browser send the cookie but cannot read it
// to fill in the field. With an https issuer the cookie carries the
// __Host- prefix, so a sibling subdomain cannot plant one. Cross-origin
// POSTs are also refused earlier by http.CrossOriginProtection.

// csrfCookie is the name of the CSRF cookie.
func (s *Server) csrfCookie() string { return s.cookieName(csrfCookieName) }

// csrfToken returns the browser's CSRF token, setting a new cookie when the
// request has none (or a malformed one).
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(s.csrfCookie()); err == nil && wellFormedToken(c.Value) {
		return c.Value
	}
	tok := secret.NewToken()
	http.SetCookie(w, s.newCookie(csrfCookieName, tok, 0))
	return tok
}

// checkCSRF reports whether the parsed POST form carries the token of the
// CSRF cookie. Both must be present; they are compared in constant time.
func (s *Server) checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(s.csrfCookie())
	if err != nil || !wellFormedToken(c.Value) {
		return false
	}
	f := r.PostFormValue(csrfField)
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

// parsePostForm reads a POST form body of at most maxFormBytes and checks
// its CSRF token. On failure it has already answered the request.
func (s *Server) parsePostForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "Bad request", "The form could not be read. Go back, reload the page and try again.")
		return false
	}
	if !s.checkCSRF(r) {
		s.renderForbidden(w, r)
		return false
	}
	return true
}
