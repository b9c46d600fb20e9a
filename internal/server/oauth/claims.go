package oauth

import (
	"slices"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// Standard OpenID Connect scopes that ask for claims about the user (OIDC
// Core §5.4), and groups, which asks for the user's roles under the name
// oidc.groups_claim (what oauth2-proxy, Dex and Grafana read). Any client
// registered for openid may ask for them.
const (
	ScopeOpenID  = "openid"
	ScopeProfile = "profile"
	ScopeEmail   = "email"
	ScopeGroups  = "groups"
)

// identityScope reports whether sc is one of the claim scopes above.
func identityScope(sc string) bool {
	return sc == ScopeProfile || sc == ScopeEmail || sc == ScopeGroups
}

// userClaims are the claims about u that ID tokens and userinfo carry for
// scopes (OIDC Core §5.4): always preferred_username and roles; name with
// profile; email and email_verified with email (when the user has an
// address); the roles under oidc.groups_claim with groups.
func (e *Endpoints) userClaims(u *storage.User, scopes []string) map[string]any {
	m := map[string]any{"preferred_username": u.Username}
	if len(u.Roles) > 0 {
		m["roles"] = u.Roles
	}
	if slices.Contains(scopes, ScopeProfile) && u.Name != "" {
		m["name"] = u.Name
	}
	if slices.Contains(scopes, ScopeEmail) && u.Email != "" {
		m["email"] = u.Email
		m["email_verified"] = u.EmailVerified
	}
	if slices.Contains(scopes, ScopeGroups) {
		groups := u.Roles
		if groups == nil {
			groups = []string{}
		}
		m[e.cfg.OIDC.GroupsClaim] = groups
	}
	return m
}
