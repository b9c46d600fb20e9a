package server

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// Browser sessions at the server: an opaque random id in a cookie, stored
// only as its SHA-256. A new id is made at every login and the one the
// browser presented is deleted, so an id planted before login is worthless
// afterwards (session fixation, SECURITY-CASES 32).

// cookieName is name, with the __Host- prefix when cookies are Secure: the
// browser then only accepts the cookie from this exact host over https,
// with Path=/ and without Domain.
func (s *Server) cookieName(name string) string {
	if s.cfg.SecureCookies() {
		return "__Host-" + name
	}
	return name
}

// newCookie builds a cookie with the attributes every Gatehouse cookie
// has: HttpOnly, SameSite=Lax, Path=/, and Secure with an https issuer.
// maxAge is in seconds; 0 makes a browser-session cookie, a negative value
// deletes the cookie.
func (s *Server) newCookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     s.cookieName(name),
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.cfg.SecureCookies(),
		SameSite: http.SameSiteLaxMode,
	}
}

// sessionToken is the session id the browser presented, or "".
func (s *Server) sessionToken(r *http.Request) string {
	c, err := r.Cookie(s.cookieName(sessionCookieName))
	if err != nil || !wellFormedToken(c.Value) {
		return ""
	}
	return c.Value
}

// currentUser returns the signed-in user and their session. It returns
// (nil, nil, nil) when there is no session cookie, the session is unknown
// or expired, or its user was deleted or disabled; an error only when the
// store fails.
func (s *Server) currentUser(r *http.Request) (*storage.User, *storage.Session, error) {
	tok := s.sessionToken(r)
	if tok == "" {
		return nil, nil, nil
	}
	ctx := r.Context()
	sess, err := s.store.GetSession(ctx, secret.Hash(tok))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("server: get session: %w", err)
	}
	if !s.clock.Now().Before(sess.ExpiresAt) {
		return nil, nil, nil
	}
	u, err := s.store.GetUser(ctx, sess.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("server: get session user: %w", err)
	}
	if u.Disabled {
		return nil, nil, nil
	}
	s.touchSession(r, sess)
	return u, sess, nil
}

// sessionTouchInterval is how stale a session's LastSeen may get before a
// request writes the new time: the session list shows when a device was
// last used to the minute, and a write on every request would be a write
// on every page.
const sessionTouchInterval = time.Minute

// touchSession records that sess was used now, when it was last recorded
// sessionTouchInterval or more ago. A failed write is only logged: the
// request goes on, the time is informational.
func (s *Server) touchSession(r *http.Request, sess *storage.Session) {
	now := s.clock.Now().UTC()
	if now.Sub(sess.LastSeen) < sessionTouchInterval {
		return
	}
	err := s.store.TouchSession(r.Context(), sess.Hash, now)
	switch {
	case err == nil:
		sess.LastSeen = now
	case !errors.Is(err, storage.ErrNotFound): // ended meanwhile: nothing to record
		s.log.Warn("record session use", "err", err)
	}
}

// startSession makes a new session for u, deletes the one the browser
// presented (if any) and sets the cookie. The session keeps the client's
// address (by the trusted-proxy rules, never a header a client sets) and
// its User-Agent, for the session list on /account.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *storage.User) error {
	ctx := r.Context()
	if old := s.sessionToken(r); old != "" {
		if err := s.store.DeleteSession(ctx, secret.Hash(old)); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("server: delete old session: %w", err)
		}
	}
	now := s.clock.Now().UTC()
	ttl := time.Duration(s.cfg.Tokens.SessionTTL)
	tok := secret.NewToken()
	sess := &storage.Session{
		Hash:      secret.Hash(tok),
		UserID:    u.ID,
		AuthTime:  now,
		CreatedAt: now,
		ExpiresAt: now.Add(ttl),
		IP:        s.clientIP(r),
		UserAgent: boundUserAgent(r.UserAgent()),
		LastSeen:  now,
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return fmt.Errorf("server: create session: %w", err)
	}
	http.SetCookie(w, s.newCookie(sessionCookieName, tok, int(ttl/time.Second)))
	return nil
}

// endSession deletes the browser's session, if any, and clears the cookie.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) error {
	if tok := s.sessionToken(r); tok != "" {
		if err := s.store.DeleteSession(r.Context(), secret.Hash(tok)); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("server: delete session: %w", err)
		}
	}
	http.SetCookie(w, s.newCookie(sessionCookieName, "", -1))
	return nil
}
