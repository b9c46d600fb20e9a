package server

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

// metadata is the discovery document (RFC 8414 §2, OIDC Discovery §3).
// Its issuer is byte-equal to the configured issuer (RFC 8414 §3.3).
func (s *Server) metadata() *protocol.Metadata {
	iss := s.issuer
	authMethods := []string{protocol.AuthMethodBasic, protocol.AuthMethodPost, protocol.AuthMethodPrivateKeyJWT, protocol.AuthMethodNone}
	return &protocol.Metadata{
		Issuer:                      iss,
		AuthorizationEndpoint:       iss + PathAuthorize,
		TokenEndpoint:               iss + PathToken,
		DeviceAuthorizationEndpoint: iss + PathDeviceAuthorize,
		RevocationEndpoint:          iss + PathRevoke,
		IntrospectionEndpoint:       iss + PathIntrospect,
		UserinfoEndpoint:            iss + PathUserinfo,
		JWKSURI:                     iss + PathJWKS,
		EndSessionEndpoint:          iss + PathLogout,
		ScopesSupported:             []string{ScopeOpenID, ScopeProfile, ScopeEmail, ScopeGroups, "offline_access", ScopeAdmin, ScopeAccount},
		ResponseTypesSupported:      []string{"code"},
		ResponseModesSupported:      []string{"query"},
		GrantTypesSupported: []string{
			protocol.GrantAuthorizationCode, protocol.GrantRefreshToken,
			protocol.GrantClientCredentials, protocol.GrantDeviceCode,
		},
		SubjectTypesSupported:                      []string{"public"},
		IDTokenSigningAlgValuesSupported:           s.keys.Algorithms(),
		TokenEndpointAuthMethodsSupported:          authMethods,
		TokenEndpointAuthSigningAlgValuesSupported: assertionAlgorithms,
		RevocationEndpointAuthMethodsSupported:     authMethods,
		IntrospectionEndpointAuthMethodsSupported:  authMethods[:3],
		CodeChallengeMethodsSupported:              []string{protocol.CodeChallengeS256},
		ClaimsSupported: []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "preferred_username", "roles",
			"name", "email", "email_verified", s.cfg.OIDC.GroupsClaim},
		AuthorizationResponseIssParameterSupported: true,
		RequestParameterSupported:                  new(false),
		RequestURIParameterSupported:               new(false),
		DPoPSigningAlgValuesSupported:              s.dpop.Algorithms(),
	}
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeCacheableJSON(w, s.metadata())
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	if _, err := s.keys.ReloadIfStale(r.Context(), keyRefreshAge); err != nil {
		s.log.Warn("reload signing keys", "err", err) // serve what is loaded
	}
	h := w.Header()
	h.Set("Content-Type", "application/jwk-set+json")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(s.keys.JWKS())
}
