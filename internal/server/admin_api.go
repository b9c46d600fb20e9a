package server

import (
	"errors"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/server/adminhttp"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// The admin API (internal/server/adminhttp) is wired in here: the server
// authenticates its callers (adminCaller) and gives it the admin layer on
// its store (adminOps), its signing keys, audit log and caches.

// PathAdmin is the prefix of the admin JSON API (docs/admin-api.yaml).
const PathAdmin = adminhttp.PathAdmin

// adminOps is the admin layer (internal/admin) on this server's store,
// hasher, clock, connectors and issuer.
func (s *Server) adminOps() *admin.Service {
	return admin.New(s.store, admin.Options{Hasher: s.hasher, Clock: s.clock, Connectors: s.links.IDs(),
		CheckClient: func(c *storage.Client) error { return oauth.CheckClientRegistration(s.issuer, c) }})
}

// adminAPI builds the admin API on the server.
func (s *Server) adminAPI() *adminhttp.API {
	return adminhttp.New(adminhttp.Deps{
		Authenticate: s.adminCaller,
		Admin:        s.adminOps(),
		Keys:         s.keys,
		KeysMaxAge:   oauth.KeyRefreshAge,
		RevokeAPIKey: s.RevokeAPIKey,
		ForgetAPIKey: s.oauth.ForgetAPIKey,
		ForgetClient: s.clients.Forget,
		CLIClientID:  CLIClientID,
		Audit:        s.audit,
		WriteError:   s.writeError,
		Clock:        s.clock,
	})
}

// adminCaller authenticates the bearer token of an admin API request (an
// access token or an API key; never the session cookie) and returns the
// caller with their effective roles; the admin API lets only those with
// the admin role through (SECURITY-CASES 34). No or a bad token is 401.
// It answers the request itself and returns nil when the request cannot
// go on.
//
// An access token must moreover be meant for the admin API: its aud names
// oauth.AdminResource, it carries the admin scope, and it was issued to a
// first-party client (checkAdminToken). A token a user's login gave any
// other client, or a token for another resource, is refused (403)
// whatever the user's roles. An admin API key is an admin-resource
// credential by construction: it acts with the roles it was given.
func (s *Server) adminCaller(w http.ResponseWriter, r *http.Request) *adminhttp.Principal {
	pt, ok := oauth.PresentedToken(r)
	tok := pt.Token
	if !ok {
		writeBearerError(w, &protocol.Error{Code: protocol.ErrInvalidRequest, Description: "a bearer token is required", Status: http.StatusUnauthorized})
		return nil
	}
	if apikey.HasPrefix(tok) && !pt.DPoP {
		e, err := s.oauth.VerifyAPIKey(r.Context(), tok)
		if errors.Is(err, oauth.ErrInactive) {
			writeBearerError(w, protocol.NewError(protocol.ErrInvalidToken, "the API key is invalid, expired or revoked"))
			return nil
		}
		if err != nil {
			s.writeError(w, r, err)
			return nil
		}
		return &adminhttp.Principal{Actor: "apikey:" + e.ID(), Roles: e.Roles()}
	}
	c := s.oauth.VerifiedToken(w, r, pt)
	if c == nil {
		return nil
	}
	if perr := s.checkAdminToken(r, c); perr != nil {
		writeBearerError(w, perr)
		return nil
	}
	if c.GrantID == "" {
		// A client-credentials token: the client's own roles.
		return &adminhttp.Principal{Actor: "client:" + c.ClientID, Roles: c.Roles}
	}
	// A user's token: the user's current roles.
	u := s.oauth.TokenUser(w, r, c.Subject, "the user no longer exists or is disabled")
	if u == nil {
		return nil
	}
	return &adminhttp.Principal{Actor: "user:" + u.ID, Roles: u.Roles}
}

// checkAdminToken applies the audience rules of the admin API to an
// access token that verified: aud includes the admin resource, scope
// includes admin, and the client it was issued to is (still) first-party.
// RFC 6750 §3.1: a token for another resource or without the scope is
// insufficient_scope (403).
func (s *Server) checkAdminToken(r *http.Request, c *oauth.AccessClaims) *protocol.Error {
	if !oauth.HasAudience(c.Audience, oauth.AdminResource(s.issuer)) {
		return protocol.Errorf(protocol.ErrInsufficientScope, "the access token is not for the admin API (its audience must include %s; sign in with resource=%s and scope=%s)", oauth.AdminResource(s.issuer), oauth.AdminResource(s.issuer), oauth.ScopeAdmin)
	}
	if !oauth.ContainsScope(oauth.ParseScope(c.Scope), oauth.ScopeAdmin) {
		return protocol.Errorf(protocol.ErrInsufficientScope, "the access token lacks the %s scope", oauth.ScopeAdmin)
	}
	client, err := s.clients.Get(r.Context(), c.ClientID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		return protocol.NewError(protocol.ErrServerError, "")
	}
	if err != nil || !client.FirstParty {
		return protocol.NewError(protocol.ErrInsufficientScope, "the admin API accepts only tokens issued to a first-party client")
	}
	return nil
}
