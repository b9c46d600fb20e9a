package proxy

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/session"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
)

// Cookie names (with the __Host- prefix when the public URL is https).
const (
	sessionCookie = "gatehouse_proxy"
	loginCookie   = "gatehouse_proxy_login"
	// cookiePrefix starts the name of every cookie the gateway or its
	// embedded server sets; no such cookie is ever forwarded upstream.
	cookiePrefix = "gatehouse_"
)

// sessionCacheSize bounds the sessions kept in memory per process.
const sessionCacheSize = 100_000

func (g *Gateway) cookieName(name string) string {
	if g.secure {
		return "__Host-" + name
	}
	return name
}

// newCookie has the attributes of every gateway cookie: HttpOnly,
// SameSite=Lax, Path=/, Secure (and __Host-) on an https public URL.
func (g *Gateway) newCookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: g.cookieName(name), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: g.secure, SameSite: http.SameSiteLaxMode,
	}
}

// sessionToken is the session cookie's value when it is well formed.
func (g *Gateway) sessionToken(r *http.Request) string {
	c, err := r.Cookie(g.cookieName(sessionCookie))
	if err != nil || len(c.Value) < 32 || len(c.Value) > 128 {
		return ""
	}
	return c.Value
}

// isGatewayCookie reports whether a cookie belongs to the gateway or its
// embedded server, whatever prefix the browser sent it with.
func isGatewayCookie(name string) bool {
	n := strings.ToLower(name)
	n = strings.TrimPrefix(n, "__host-")
	n = strings.TrimPrefix(n, "__secure-")
	return strings.HasPrefix(n, cookiePrefix)
}

// startSession creates a session for a completed login, deleting the one
// the browser presented (a session id planted before login is worthless
// afterwards: SECURITY-CASES 49), and sets the cookie.
func (g *Gateway) startSession(w http.ResponseWriter, r *http.Request, l *Login) (*session.Session, error) {
	ctx := r.Context()
	if old := g.sessionToken(r); old != "" {
		g.sessions.delete(ctx, secret.Hash(old))
	}
	now := g.clock.Now().UTC()
	tok := secret.NewToken()
	s := &session.Session{
		ID:       secret.Hash(tok),
		UserID:   l.Subject,
		Username: l.Username,
		Email:    l.Email,
		Roles:    l.Roles,
		Groups:   l.Groups,

		EmailVerified: l.EmailVerified,
		AuthTime:      l.AuthTime,
		CreatedAt:     now,
		LastSeen:      now,
		ExpiresAt:     now.Add(g.cfg.AbsoluteTimeout),
	}
	if err := g.sessions.store.Create(ctx, s); err != nil {
		return nil, err
	}
	http.SetCookie(w, g.newCookie(sessionCookie, tok, int(g.cfg.AbsoluteTimeout/time.Second)))
	return s, nil
}

// sessionCache reads sessions through an in-memory cache, so a request
// with a recently seen session asks neither the database nor Redis.
// Entries live for ttl; a logout or a user change made in this process
// removes them at once, one made by another replica reaches this one
// within ttl.
type sessionCache struct {
	store session.Store
	clock clock.Clock
	ttl   time.Duration
	cache *lru.Cache[string, cachedSession]
}

type cachedSession struct {
	s       *session.Session
	fetched time.Time
}

func newSessionCache(st session.Store, clk clock.Clock, ttl time.Duration) *sessionCache {
	c, _ := lru.New[string, cachedSession](sessionCacheSize)
	return &sessionCache{store: st, clock: clk, ttl: ttl, cache: c}
}

func (c *sessionCache) get(ctx context.Context, id string) (*session.Session, error) {
	now := c.clock.Now()
	if v, ok := c.cache.Get(id); ok && now.Sub(v.fetched) < c.ttl {
		return v.s, nil
	}
	s, err := c.store.Get(ctx, id)
	if err != nil {
		c.cache.Remove(id)
		return nil, err
	}
	c.put(s, now)
	return s, nil
}

func (c *sessionCache) put(s *session.Session, now time.Time) {
	c.cache.Add(s.ID, cachedSession{s: s, fetched: now})
}

// touch records use of s. The store is written at most once per
// touchEvery(idle), so the idle timeout is exact to that granularity.
func (c *sessionCache) touch(ctx context.Context, s *session.Session, now time.Time, idle time.Duration) {
	if now.Sub(s.LastSeen) < touchEvery(idle) {
		return
	}
	if err := c.store.Touch(ctx, s.ID, now); err != nil {
		return // the next request tries again; a vanished session is found by get
	}
	cp := *s
	cp.LastSeen = now
	c.put(&cp, now)
}

// touchEvery is how stale LastSeen may get: a tenth of the idle timeout,
// at most a minute.
func touchEvery(idle time.Duration) time.Duration {
	return min(idle/10, time.Minute)
}

func (c *sessionCache) delete(ctx context.Context, id string) {
	c.cache.Remove(id)
	_ = c.store.Delete(ctx, id)
}

// deleteUser ends every session of userID. It walks the whole cache,
// which is bounded and rare work (a deleted user, a changed password)
// rather than an index kept up to date on every request.
func (c *sessionCache) deleteUser(ctx context.Context, userID string) (int, error) {
	for _, id := range c.cache.Keys() {
		if v, ok := c.cache.Peek(id); ok && v.s.UserID == userID {
			c.cache.Remove(id)
		}
	}
	n, err := c.store.DeleteUser(ctx, userID)
	if err != nil && !errors.Is(err, session.ErrNotFound) {
		return n, err
	}
	return n, nil
}
