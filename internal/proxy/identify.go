package proxy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/proxy/session"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/resource"
)

// How a caller was identified (Identity.Via, the X-Gatehouse-Auth header).
const (
	ViaSession = "session"
	ViaJWT     = "jwt"
	ViaAPIKey  = "api_key"
)

// Identity is who a request speaks for.
type Identity struct {
	Subject  string
	Username string
	Email    string
	Roles    []string
	Via      string
	// ClientID is the OAuth client of a bearer token.
	ClientID string
	// session is the caller's session (ViaSession only).
	session *session.Session
}

// errBadCredential is a presented credential that does not verify.
var errBadCredential = errors.New("proxy: credential refused")

// identify finds who r speaks for: a bearer credential when the request
// carries an Authorization header (and then only that), else the session
// cookie. It returns (nil, nil) for an anonymous request and
// errBadCredential (wrapped) for a credential that does not verify.
func (g *Gateway) identify(r *http.Request) (*Identity, error) {
	if _, ok := r.Header["Authorization"]; ok {
		return g.identifyBearer(r)
	}
	return g.identifySession(r)
}

func (g *Gateway) identifyBearer(r *http.Request) (*Identity, error) {
	values := r.Header.Values("Authorization")
	if len(values) != 1 {
		return nil, fmt.Errorf("%w: more than one Authorization header", errBadCredential)
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !(strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "DPoP")) || token == "" || strings.ContainsAny(token, " \t") {
		return nil, fmt.Errorf("%w: not a bearer or DPoP credential", errBadCredential)
	}
	if g.verifier == nil {
		return nil, fmt.Errorf("%w: bearer credentials are not accepted", errBadCredential)
	}
	// Nothing is asked of the issuer for an address that is over its limit
	// of refused credentials, or for a credential refused a moment ago.
	if g.refused.limited(g.clientIP(r)) {
		return nil, fmt.Errorf("%w: too many refused credentials from this address", errBadCredential)
	}
	hash := secret.Hash(token)
	if g.refused.refused(hash) {
		return nil, fmt.Errorf("%w: refused a moment ago", errBadCredential)
	}
	// A DPoP-bound token comes with the DPoP scheme and a proof for the
	// URL the client addressed: the public scheme and host (from trusted
	// forwarded headers only) and the path (RFC 9449 §7.1).
	rid, err := g.verifier.VerifyRequestAt(r, g.trusted.Proto(r)+"://"+g.trusted.Host(r)+r.URL.EscapedPath())
	if err != nil {
		if errors.Is(err, resource.ErrBoundToken) || errors.Is(err, resource.ErrInvalidProof) {
			// Not remembered as refused: the token is good, and whoever
			// copied it must not get its owner refused for a while.
			return nil, fmt.Errorf("%w: %w", errBadCredential, err)
		}
		if errors.Is(err, resource.ErrInvalidToken) || errors.Is(err, resource.ErrInsufficientScope) {
			g.refused.remember(hash)
			return nil, fmt.Errorf("%w: %w", errBadCredential, err)
		}
		return nil, fmt.Errorf("proxy: verify bearer credential: %w", err)
	}
	id := &Identity{
		Subject:  rid.Subject,
		Username: rid.Username,
		Roles:    rid.Roles,
		Via:      ViaJWT,
		ClientID: rid.ClientID,
	}
	if rid.Method == resource.MethodIntrospection {
		id.Via = ViaAPIKey
	} else if g.revoked != nil {
		gid, _ := rid.Claims["gid"].(string)
		revoked, err := g.revoked.revoked(r.Context(), rid.TokenID, gid)
		if err != nil {
			return nil, fmt.Errorf("proxy: check token revocation: %w", err)
		}
		if revoked {
			return nil, fmt.Errorf("%w: the token was revoked", errBadCredential)
		}
	}
	if g.cfg.Issuer != "" {
		// An external issuer's token: roles (and groups) come from the
		// claims the operator named, as they do at login.
		id.Roles, _ = mappedRoles(rid.Claims, g.cfg.RolesClaim, g.cfg.GroupsClaim)
		id.Email, _ = rid.Claims["email"].(string)
	}
	if id.Username == "" {
		id.Username = rid.Subject
	}
	if g.users != nil && isUserSubject(rid) {
		// A user of the embedded server: judge with the user's current
		// record, so a demotion, a deletion or a disabled account applies
		// to tokens already issued. Roles are those of the token that the
		// user still holds.
		u, err := g.users.Current(r.Context(), rid.Subject)
		if err != nil {
			return nil, err
		}
		if u == nil {
			return nil, fmt.Errorf("%w: the user no longer exists or is disabled", errBadCredential)
		}
		id.Username = u.Username
		id.Roles = intersect(rid.Roles, u.Roles)
	}
	return id, nil
}

// isUserSubject reports whether a verified credential acts for a user
// rather than for a client (client credentials have sub == client_id).
func isUserSubject(rid *resource.Identity) bool {
	if rid.Method == resource.MethodIntrospection {
		// API keys acting as a user have a username; client-bound keys do
		// not have a user behind them.
		return rid.Username != "" && rid.Subject != rid.ClientID
	}
	return rid.Subject != "" && rid.Subject != rid.ClientID
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// identifySession finds the session of the request's cookie. A session
// past its idle or absolute timeout is deleted and the request is
// anonymous.
func (g *Gateway) identifySession(r *http.Request) (*Identity, error) {
	tok := g.sessionToken(r)
	if tok == "" {
		return nil, nil
	}
	ctx := r.Context()
	id := secret.Hash(tok)
	s, err := g.sessions.get(ctx, id)
	if errors.Is(err, session.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("proxy: session: %w", err)
	}
	now := g.clock.Now()
	if !now.Before(s.ExpiresAt) || !now.Before(s.LastSeen.Add(g.cfg.IdleTimeout)) {
		g.sessions.delete(ctx, id)
		return nil, nil
	}
	g.sessions.touch(ctx, s, now, g.cfg.IdleTimeout)
	ident := &Identity{Subject: s.UserID, Username: s.Username, Email: s.Email, Roles: s.Roles, Via: ViaSession, session: s}
	if g.users != nil {
		u, err := g.users.Current(ctx, s.UserID)
		if err != nil {
			return nil, err
		}
		if u == nil {
			g.sessions.delete(ctx, id)
			return nil, nil
		}
		ident.Username, ident.Roles = u.Username, u.Roles
	}
	return ident, nil
}

// endUserSessions ends every gateway session of userID (deleted user,
// changed password).
func (g *Gateway) endUserSessions(ctx context.Context, userID string) {
	n, err := g.sessions.deleteUser(ctx, userID)
	if err != nil {
		g.log.Warn("end sessions of a changed user", "user_id", userID, "err", err)
		return
	}
	if n > 0 {
		g.log.Info("ended sessions of a changed user", "user_id", userID, "sessions", n)
	}
}
