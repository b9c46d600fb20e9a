package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"

	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/server/respond"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// PathAdmin is the prefix of the admin JSON API (docs/admin-api.yaml).
const PathAdmin = "/admin/v1"

// maxAdminBodyBytes caps an admin API request body.
const maxAdminBodyBytes = 64 << 10

// Admin API error codes (besides the OAuth ones).
const (
	adminErrNotFound = "not_found"
	adminErrConflict = "conflict"
)

// adminPrincipal is who called the admin API.
type adminPrincipal struct {
	// actor names the caller in audit events: "user:<id>", "apikey:<id>"
	// or "client:<id>".
	actor string
}

// adminHandler is an admin API handler; it runs only for an admin.
type adminHandler func(w http.ResponseWriter, r *http.Request, p *adminPrincipal)

// adminRoute is one route of the admin API.
type adminRoute struct {
	method, path string
	h            adminHandler
}

// adminRoutes lists every route of the admin API; docs/admin-api.yaml
// describes the same set (TestAdminOpenAPIMatchesRoutes).
func (s *Server) adminRoutes() []adminRoute {
	p := PathAdmin
	return []adminRoute{
		{"GET", p + "/users", s.adminListUsers},
		{"POST", p + "/users", s.adminCreateUser},
		{"GET", p + "/users/{id}", s.adminGetUser},
		{"PATCH", p + "/users/{id}", s.adminUpdateUser},
		{"DELETE", p + "/users/{id}", s.adminDeleteUser},
		{"PUT", p + "/users/{id}/password", s.adminSetPassword},
		{"POST", p + "/users/{id}/mfa-reset", s.adminResetMFA},
		{"GET", p + "/roles", s.adminListRoles},
		{"POST", p + "/roles", s.adminCreateRole},
		{"GET", p + "/roles/{name}", s.adminGetRole},
		{"PATCH", p + "/roles/{name}", s.adminUpdateRole},
		{"DELETE", p + "/roles/{name}", s.adminDeleteRole},
		{"GET", p + "/clients", s.adminListClients},
		{"POST", p + "/clients", s.adminCreateClient},
		{"GET", p + "/clients/{id}", s.adminGetClient},
		{"PATCH", p + "/clients/{id}", s.adminUpdateClient},
		{"DELETE", p + "/clients/{id}", s.adminDeleteClient},
		{"POST", p + "/clients/{id}/rotate-secret", s.adminRotateClientSecret},
		{"GET", p + "/apikeys", s.adminListAPIKeys},
		{"POST", p + "/apikeys", s.adminCreateAPIKey},
		{"POST", p + "/apikeys/{id}/revoke", s.adminRevokeAPIKey},
		{"POST", p + "/apikeys/{id}/rotate", s.adminRotateAPIKey},
		{"GET", p + "/keys", s.adminListKeys},
		{"POST", p + "/keys/rotate", s.adminRotateKeys},
		{"GET", p + "/audit", s.adminListAudit},
		{"GET", p + "/audit/verify", s.adminVerifyAudit},
	}
}

// registerAdmin adds the admin API with register (routes in server.go).
func (s *Server) registerAdmin(register func(pattern string, h http.Handler)) {
	for _, rt := range s.adminRoutes() {
		register(rt.method+" "+rt.path, s.metrics.instrument("admin", s.requireAdmin(rt.h)))
	}
}

// requireAdmin authenticates the bearer token of the request (an access
// token or an API key; never the session cookie) and lets only callers
// whose effective roles include admin through (SECURITY-CASES 34): no or
// a bad token is 401, a valid one without the role 403.
//
// An access token must moreover be meant for the admin API: its aud names
// AdminResource, it carries the admin scope, and it was issued to a
// first-party client (checkAdminToken). A token a user's login gave any
// other client, or a token for another resource, is refused whatever the
// user's roles. An admin API key is an admin-resource credential by
// construction: it acts with the roles it was given.
func (s *Server) requireAdmin(h adminHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		pt, ok := presentedToken(r)
		tok := pt.token
		if !ok {
			writeBearerError(w, &protocol.Error{Code: protocol.ErrInvalidRequest, Description: "a bearer token is required", Status: http.StatusUnauthorized})
			return
		}
		var (
			roles []string
			p     adminPrincipal
		)
		if apikey.HasPrefix(tok) && !pt.dpop {
			e, err := s.verifyAPIKey(r.Context(), tok)
			if errors.Is(err, errInactive) {
				writeBearerError(w, protocol.NewError(protocol.ErrInvalidToken, "the API key is invalid, expired or revoked"))
				return
			}
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			roles, p.actor = e.roles, "apikey:"+e.key.ID
		} else {
			c := s.verifiedToken(w, r, pt)
			if c == nil {
				return
			}
			if perr := s.checkAdminToken(r, c); perr != nil {
				writeBearerError(w, perr)
				return
			}
			if c.GrantID == "" {
				// A client-credentials token: the client's own roles.
				roles, p.actor = c.Roles, "client:"+c.ClientID
			} else {
				// A user's token: the user's current roles.
				u := s.tokenUser(w, r, c.Subject, "the user no longer exists or is disabled")
				if u == nil {
					return
				}
				roles, p.actor = u.Roles, "user:"+u.ID
			}
		}
		if !slices.Contains(roles, RoleAdmin) {
			writeBearerError(w, protocol.NewError(protocol.ErrInsufficientScope, "the admin API needs the admin role"))
			return
		}
		h(w, r, &p)
	}
}

// adminError writes an admin API error (respond.Error).
func adminError(w http.ResponseWriter, status int, code, desc string) {
	respond.Error(w, status, code, desc)
}

// decodeAdminBody decodes the JSON request body into v: at most
// maxAdminBodyBytes, no unknown fields, nothing after the value. On
// failure it has written a 400 and returns false.
func decodeAdminBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAdminBodyBytes))
	if err == nil {
		err = duplicateKey(body)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err == nil {
		err = dec.Decode(v)
	}
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("unexpected data after the JSON value")
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			adminError(w, http.StatusRequestEntityTooLarge, protocol.ErrInvalidRequest, "the request body is too large")
			return false
		}
		adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

// checkAdminToken applies the audience rules of the admin API to an
// access token that verified: aud includes the admin resource, scope
// includes admin, and the client it was issued to is (still) first-party.
// RFC 6750 §3.1: a token for another resource or without the scope is
// insufficient_scope (403).
func (s *Server) checkAdminToken(r *http.Request, c *AccessClaims) *protocol.Error {
	if !hasAudience(c.Audience, AdminResource(s.issuer)) {
		return protocol.Errorf(protocol.ErrInsufficientScope, "the access token is not for the admin API (its audience must include %s; sign in with resource=%s and scope=%s)", AdminResource(s.issuer), AdminResource(s.issuer), ScopeAdmin)
	}
	if !containsScope(parseScope(c.Scope), ScopeAdmin) {
		return protocol.Errorf(protocol.ErrInsufficientScope, "the access token lacks the %s scope", ScopeAdmin)
	}
	client, err := s.clients.get(r.Context(), c.ClientID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		return protocol.NewError(protocol.ErrServerError, "")
	}
	if err != nil || !client.FirstParty {
		return protocol.NewError(protocol.ErrInsufficientScope, "the admin API accepts only tokens issued to a first-party client")
	}
	return nil
}
