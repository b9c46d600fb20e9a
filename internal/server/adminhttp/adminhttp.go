// Package adminhttp is the admin JSON API (/admin/v1, docs/admin-api.yaml):
// users, roles, clients, API keys, signing keys and the audit log over
// HTTP, for `gatehouse` with --server and for automation. Its handlers
// only decode a request, call the admin layer (internal/admin), record
// the event the layer returns as done by the caller, and answer in the
// shapes of internal/adminapi, which the CLI's --json output shares.
//
// The server authenticates the caller and hands the API what it needs in
// Deps: Deps.Authenticate checks the bearer credential (an access token
// meant for the admin API, or an API key; never the session cookie) and
// returns who called with their effective roles. The API itself lets only
// a caller whose roles include admin through (SECURITY-CASES 34): without
// the role the answer is 403 insufficient_scope.
package adminhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/server/respond"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// PathAdmin is the prefix of the admin JSON API, under the server's base
// path.
const PathAdmin = "/admin/v1"

// maxBodyBytes caps an admin API request body.
const maxBodyBytes = 64 << 10

// Admin API error codes (besides the OAuth ones).
const (
	errNotFound = "not_found"
	errConflict = "conflict"
)

// Principal is who called the admin API.
type Principal struct {
	// Actor names the caller in audit events: "user:<id>", "apikey:<id>"
	// or "client:<id>".
	Actor string
	// Roles are the caller's effective roles: the user's current roles,
	// the API key's or the client's.
	Roles []string
}

// SigningKeys is the server's signing key manager (*signing.Manager).
type SigningKeys interface {
	admin.SigningKeys
	// ReloadIfStale reads the keys again when this replica's copy is
	// older than maxAge.
	ReloadIfStale(ctx context.Context, maxAge time.Duration) (bool, error)
}

// AuditLog records audit events (*audit.Logger).
type AuditLog interface {
	Log(audit.Event)
}

// Deps are what the admin API uses; every field is required but Clock
// (clock.System).
type Deps struct {
	// Authenticate returns the caller of r; when there is none (no, a bad
	// or a wrong bearer credential) it has answered the request (401 or
	// 403 with a challenge) and returns nil.
	Authenticate func(w http.ResponseWriter, r *http.Request) *Principal
	// Admin is the admin layer on the server's store.
	Admin *admin.Service
	// Keys are the signing keys; KeysMaxAge is how stale the copy listed
	// may be.
	Keys       SigningKeys
	KeysMaxAge time.Duration
	// RevokeAPIKey revokes an API key as actor, records its event and
	// makes the server refuse the key at once (server.RevokeAPIKey).
	RevokeAPIKey func(ctx context.Context, id, actor string) (*storage.APIKey, error)
	// ForgetAPIKey and ForgetClient drop what the server caches of a key
	// or client that changed.
	ForgetAPIKey func(id string)
	ForgetClient func(id string)
	// CLIClientID is the CLI's own client, which cannot be deleted.
	CLIClientID string
	// Audit records the events of the changes.
	Audit AuditLog
	// WriteError renders any other error as the server does (503 for an
	// unavailable dependency, server_error otherwise).
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
	Clock      clock.Clock
}

// API serves the admin API.
type API struct {
	d Deps
}

// New returns the admin API on d.
func New(d Deps) *API {
	if d.Clock == nil {
		d.Clock = clock.System
	}
	return &API{d: d}
}

// handler is an admin API handler; it runs only for an admin.
type handler func(w http.ResponseWriter, r *http.Request, p *Principal)

// route is one route of the admin API.
type route struct {
	method, path string
	h            handler
}

// routes lists every route of the admin API; docs/admin-api.yaml
// describes the same set (TestAdminOpenAPIMatchesRoutes).
func (a *API) routes() []route {
	p := PathAdmin
	return []route{
		{"GET", p + "/users", a.listUsers},
		{"POST", p + "/users", a.createUser},
		{"GET", p + "/users/{id}", a.getUser},
		{"PATCH", p + "/users/{id}", a.updateUser},
		{"DELETE", p + "/users/{id}", a.deleteUser},
		{"PUT", p + "/users/{id}/password", a.setPassword},
		{"POST", p + "/users/{id}/mfa-reset", a.resetMFA},
		{"GET", p + "/roles", a.listRoles},
		{"POST", p + "/roles", a.createRole},
		{"GET", p + "/roles/{name}", a.getRole},
		{"PATCH", p + "/roles/{name}", a.updateRole},
		{"DELETE", p + "/roles/{name}", a.deleteRole},
		{"GET", p + "/clients", a.listClients},
		{"POST", p + "/clients", a.createClient},
		{"GET", p + "/clients/{id}", a.getClient},
		{"PATCH", p + "/clients/{id}", a.updateClient},
		{"DELETE", p + "/clients/{id}", a.deleteClient},
		{"POST", p + "/clients/{id}/rotate-secret", a.rotateClientSecret},
		{"GET", p + "/apikeys", a.listAPIKeys},
		{"POST", p + "/apikeys", a.createAPIKey},
		{"POST", p + "/apikeys/{id}/revoke", a.revokeAPIKey},
		{"POST", p + "/apikeys/{id}/rotate", a.rotateAPIKey},
		{"GET", p + "/keys", a.listKeys},
		{"POST", p + "/keys/rotate", a.rotateKeys},
		{"GET", p + "/audit", a.listAudit},
		{"GET", p + "/audit/verify", a.verifyAudit},
	}
}

// Routes registers the API's endpoints with handle, which takes a
// "METHOD /path" pattern, the route's name for the metrics ("admin") and
// the handler.
func (a *API) Routes(handle func(pattern, route string, h http.HandlerFunc)) {
	for _, rt := range a.routes() {
		handle(rt.method+" "+rt.path, "admin", a.requireAdmin(rt.h))
	}
}

// requireAdmin runs h for a caller Authenticate accepts whose roles
// include admin; a caller without the role is 403 insufficient_scope.
func (a *API) requireAdmin(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := a.d.Authenticate(w, r)
		if p == nil {
			return
		}
		if !slices.Contains(p.Roles, rolereg.Admin) {
			respond.BearerError(w, protocol.NewError(protocol.ErrInsufficientScope, "the admin API needs the admin role"))
			return
		}
		h(w, r, p)
	}
}

// decodeBody decodes the JSON request body into v: at most maxBodyBytes,
// no member twice (duplicateKey), no unknown fields, nothing after the
// value. On failure it has written a 400 (413 for a body too large) and
// returns false.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
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
			respond.Error(w, http.StatusRequestEntityTooLarge, protocol.ErrInvalidRequest, "the request body is too large")
			return false
		}
		respond.Error(w, http.StatusBadRequest, protocol.ErrInvalidRequest, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

// fail answers an error of the admin layer: 400, 404 or 409 with its
// message, anything else as the server does (WriteError).
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch admin.KindOf(err) {
	case admin.Invalid:
		respond.Error(w, http.StatusBadRequest, protocol.ErrInvalidRequest, err.Error())
	case admin.NotFound:
		respond.Error(w, http.StatusNotFound, errNotFound, err.Error())
	case admin.Conflict:
		respond.Error(w, http.StatusConflict, errConflict, err.Error())
	default:
		a.d.WriteError(w, r, err)
	}
}

// record records the event of an admin operation as done by p; an empty
// event (nothing changed) is not recorded.
func (a *API) record(p *Principal, ev audit.Event) {
	if ev.Type == "" {
		return
	}
	ev.Actor = p.Actor
	a.d.Audit.Log(ev)
}
