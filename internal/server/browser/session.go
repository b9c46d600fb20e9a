package browser

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
//
// The errors below keep the server's prefix: they reach the log as before.

// Token is the session id the browser presented, or "".
func (s *Sessions) Token(r *http.Request) string {
	c, err := r.Cookie(s.CookieName(SessionCookie))
	if err != nil || !wellFormedToken(c.Value) {
		return ""
	}
	return c.Value
}

// CurrentUser returns the signed-in user and their session. It returns
// (nil, nil, nil) when there is no session cookie, the session is unknown
// or expired, or its user was deleted or disabled; an error only when the
// store fails. It records the session's use (see touchInterval).
func (s *Sessions) CurrentUser(r *http.Request) (*storage.User, *storage.Session, error) {
	tok := s.Token(r)
	if tok == "" {
		return nil, nil, nil
	}
	ctx := r.Context()
	sess, err := s.d.Sessions.GetSession(ctx, secret.Hash(tok))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("server: get session: %w", err)
	}
	if !s.d.Clock.Now().Before(sess.ExpiresAt) {
		return nil, nil, nil
	}
	u, err := s.d.Users.GetUser(ctx, sess.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("server: get session user: %w", err)
	}
	if u.Disabled {
		return nil, nil, nil
	}
	s.touch(r, sess)
	return u, sess, nil
}

// touchInterval is how stale a session's LastSeen may get before a
// request writes the new time: the session list shows when a device was
// last used to the minute, and a write on every request would be a write
// on every page.
const touchInterval = time.Minute

// touch records that sess was used now, when it was last recorded
// touchInterval or more ago. A failed write is only logged: the request
// goes on, the time is informational.
func (s *Sessions) touch(r *http.Request, sess *storage.Session) {
	now := s.d.Clock.Now().UTC()
	if now.Sub(sess.LastSeen) < touchInterval {
		return
	}
	err := s.d.Sessions.TouchSession(r.Context(), sess.Hash, now)
	switch {
	case err == nil:
		sess.LastSeen = now
	case !errors.Is(err, storage.ErrNotFound): // ended meanwhile: nothing to record
		s.d.Log.Warn("record session use", "err", err)
	}
}

// Start makes a new session for u, deletes the one the browser presented
// (if any) and sets the cookie. The session keeps the client's address
// (by the trusted-proxy rules, never a header a client sets) and its
// User-Agent (bounded, see MaxUserAgent), for the session list on
// /account.
func (s *Sessions) Start(w http.ResponseWriter, r *http.Request, u *storage.User) error {
	ctx := r.Context()
	if old := s.Token(r); old != "" {
		if err := s.d.Sessions.DeleteSession(ctx, secret.Hash(old)); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("server: delete old session: %w", err)
		}
	}
	now := s.d.Clock.Now().UTC()
	ttl := s.d.SessionTTL
	tok := secret.NewToken()
	sess := &storage.Session{
		Hash:      secret.Hash(tok),
		UserID:    u.ID,
		AuthTime:  now,
		CreatedAt: now,
		ExpiresAt: now.Add(ttl),
		IP:        s.d.ClientIP(r),
		UserAgent: boundUserAgent(r.UserAgent()),
		LastSeen:  now,
	}
	if err := s.d.Sessions.CreateSession(ctx, sess); err != nil {
		return fmt.Errorf("server: create session: %w", err)
	}
	http.SetCookie(w, s.NewCookie(SessionCookie, tok, int(ttl/time.Second)))
	return nil
}

// End deletes the browser's session, if any, and clears the cookie.
func (s *Sessions) End(w http.ResponseWriter, r *http.Request) error {
	if tok := s.Token(r); tok != "" {
		if err := s.d.Sessions.DeleteSession(r.Context(), secret.Hash(tok)); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("server: delete session: %w", err)
		}
	}
	s.ClearCookie(w, SessionCookie)
	return nil
}
