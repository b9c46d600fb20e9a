package server

import (
	"github.com/gatehouse-auth/gatehouse/internal/server/discovery"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
)

// The discovery document and the JWKS (internal/server/discovery) are
// wired in here: the server names its endpoints, scopes and algorithms.

// discovery builds the discovery endpoints on the server.
func (s *Server) discovery() *discovery.Discovery {
	return discovery.New(discovery.Deps{
		Issuer: s.issuer,
		Endpoints: discovery.Endpoints{
			Authorization:       PathAuthorize,
			Token:               PathToken,
			DeviceAuthorization: PathDeviceAuthorize,
			Revocation:          PathRevoke,
			Introspection:       PathIntrospect,
			Userinfo:            PathUserinfo,
			EndSession:          PathLogout,
			PushedAuthorization: PathPAR,
		},
		Scopes:              []string{oauth.ScopeOpenID, oauth.ScopeProfile, oauth.ScopeEmail, oauth.ScopeGroups, "offline_access", oauth.ScopeAdmin, oauth.ScopeAccount},
		GroupsClaim:         s.cfg.OIDC.GroupsClaim,
		RequirePAR:          s.cfg.Authorize.RequirePAR,
		AssertionAlgorithms: oauth.AssertionAlgorithms,
		DPoPAlgorithms:      s.dpop.Algorithms(),
		Keys:                s.keys,
		KeyRefreshAge:       oauth.KeyRefreshAge,
		Logger:              s.log,
	})
}
