package adminbackend

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/adminapi"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/signing"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// adminAPI is the server's admin JSON API (docs/admin-api.yaml), reached
// with the CLI's own credentials.
type adminAPI struct {
	hc   *http.Client
	base string // the server's base URL, without a trailing slash
}

// get fetches path under /admin/v1 and decodes the JSON answer into v.
func (a *adminAPI) get(ctx context.Context, path string, v any) error {
	return a.do(ctx, http.MethodGet, path, nil, v)
}

// adminAPIError is an error answer of the admin API.
type adminAPIError struct {
	Status      int
	Code        string
	Description string
}

// Error says what went wrong in the words a user can act on.
func (e *adminAPIError) Error() string {
	detail := e.Description
	if e.Code != "" {
		detail = fmt.Sprintf("%s (HTTP %d %s)", e.Description, e.Status, e.Code)
	}
	switch e.Status {
	case http.StatusUnauthorized:
		return "admin API: the server did not accept your credentials; run 'gatehouse login' (or set GATEHOUSE_API_KEY): " + detail
	case http.StatusForbidden:
		return "admin API: your login is not an admin; the credentials need the admin role: " + detail
	}
	if e.Description != "" {
		return "admin API: " + e.Description
	}
	return fmt.Sprintf("admin API: HTTP %d", e.Status)
}

// ExitCode maps 401 to command.ExitNotLoggedIn; every other answer is command.ExitError.
func (e *adminAPIError) ExitCode() int {
	if e.Status == http.StatusUnauthorized {
		return command.ExitNotLoggedIn
	}
	return command.ExitError
}

// do sends a request with a JSON body (when body is not nil) to path
// under /admin/v1 and decodes a JSON answer into v (when v is not nil).
// Error answers become *adminAPIError.
func (a *adminAPI) do(ctx context.Context, method, path string, body, v any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("admin API: encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+server.PathAdmin+path, rd)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("admin API: read response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct {
			Code        string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(data, &e)
		return &adminAPIError{Status: resp.StatusCode, Code: e.Code, Description: e.Description}
	}
	if v == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("admin API: decode %s: %w", path, err)
	}
	return nil
}

// listUsers returns the users, as storage.User values without passwords.
func (a *adminAPI) listUsers(ctx context.Context) ([]*storage.User, error) {
	var resp struct {
		Users []adminapi.User `json:"users"`
	}
	if err := a.get(ctx, "/users", &resp); err != nil {
		return nil, err
	}
	out := make([]*storage.User, 0, len(resp.Users))
	for _, u := range resp.Users {
		out = append(out, userFromAPI(&u))
	}
	return out, nil
}

// user converts u to a storage.User without a password.
func userFromAPI(u *adminapi.User) *storage.User {
	return &storage.User{ID: u.ID, Username: u.Username, Roles: u.Roles, Disabled: u.Disabled,
		Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name,
		ConnectorID: u.Connector, ConnectorSubject: u.ConnectorSubject, Groups: u.Groups,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// userPath is the admin API path of the user called name.
func userPath(name string) string { return "/users/" + url.PathEscape(name) }

// createUser adds the user nu.
func (a *adminAPI) createUser(ctx context.Context, nu admin.NewUser) (*storage.User, error) {
	req := adminapi.CreateUserRequest{Username: nu.Username, Password: nu.Password, Roles: nu.Roles, Connector: nu.Connector, Profile: nu.Profile}
	var u adminapi.User
	if err := a.do(ctx, http.MethodPost, "/users", req, &u); err != nil {
		return nil, err
	}
	return userFromAPI(&u), nil
}

// updateUser applies up to the user called name.
func (a *adminAPI) updateUser(ctx context.Context, name string, up admin.UserUpdate) (*storage.User, error) {
	req := adminapi.UpdateUserRequest{Roles: up.Roles, Disabled: up.Disabled, Profile: up.Profile}
	var u adminapi.User
	if err := a.do(ctx, http.MethodPatch, userPath(name), req, &u); err != nil {
		return nil, err
	}
	return userFromAPI(&u), nil
}

// getUser returns the user called name.
func (a *adminAPI) getUser(ctx context.Context, name string) (*storage.User, error) {
	var u adminapi.User
	if err := a.do(ctx, http.MethodGet, userPath(name), nil, &u); err != nil {
		return nil, err
	}
	return userFromAPI(&u), nil
}

// setPassword sets the password of the user called name.
func (a *adminAPI) setPassword(ctx context.Context, name, password string) error {
	return a.do(ctx, http.MethodPut, userPath(name)+"/password", adminapi.SetPasswordRequest{Password: password}, nil)
}

// deleteUser deletes the user called name.
func (a *adminAPI) deleteUser(ctx context.Context, name string) error {
	return a.do(ctx, http.MethodDelete, userPath(name), nil, nil)
}

// listClients returns the clients, as storage.Client values without
// secrets.
func (a *adminAPI) listClients(ctx context.Context) ([]*storage.Client, error) {
	var resp struct {
		Clients []adminapi.Client `json:"clients"`
	}
	if err := a.get(ctx, "/clients", &resp); err != nil {
		return nil, err
	}
	out := make([]*storage.Client, 0, len(resp.Clients))
	for _, c := range resp.Clients {
		out = append(out, clientFromAPI(&c))
	}
	return out, nil
}

// client converts c to a storage.Client without a secret.
func clientFromAPI(c *adminapi.Client) *storage.Client {
	return &storage.Client{ID: c.ID, Name: c.Name, Public: c.Public, AuthMethod: c.AuthMethod, RedirectURIs: c.RedirectURIs,
		GrantTypes: c.GrantTypes, Scopes: c.Scopes, Roles: c.Roles, Audiences: c.Audiences, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, FirstParty: c.FirstParty, RequirePAR: c.RequirePAR,
		DPoPRequired: c.DPoPRequired, TerminalLogin: c.TerminalLogin, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// clientPath is the admin API path of the client id.
func clientPath(id string) string { return "/clients/" + url.PathEscape(id) }

// getClient returns the client id.
func (a *adminAPI) getClient(ctx context.Context, id string) (*storage.Client, error) {
	var c adminapi.Client
	if err := a.do(ctx, http.MethodGet, clientPath(id), nil, &c); err != nil {
		return nil, err
	}
	return clientFromAPI(&c), nil
}

// deleteClient deletes the client id.
func (a *adminAPI) deleteClient(ctx context.Context, id string) error {
	return a.do(ctx, http.MethodDelete, clientPath(id), nil, nil)
}

// updateClient changes the settings set names of the client id and
// returns it.
func (a *adminAPI) updateClient(ctx context.Context, id string, set admin.ClientSettings) (*storage.Client, error) {
	req := adminapi.UpdateClientRequest{RequirePAR: set.RequirePAR, DPoPRequired: set.DPoPRequired, TerminalLogin: set.TerminalLogin}
	var c adminapi.Client
	if err := a.do(ctx, http.MethodPatch, clientPath(id), req, &c); err != nil {
		return nil, err
	}
	return clientFromAPI(&c), nil
}

// rotateClientSecret gives the client id a new secret and returns it.
func (a *adminAPI) rotateClientSecret(ctx context.Context, id string) (string, error) {
	var resp struct {
		ClientSecret string `json:"client_secret"`
	}
	if err := a.do(ctx, http.MethodPost, clientPath(id)+"/rotate-secret", nil, &resp); err != nil {
		return "", err
	}
	return resp.ClientSecret, nil
}

// apiKey converts k to a storage.APIKey without a secret hash.
func apiKeyFromAPI(k *adminapi.APIKey) *storage.APIKey {
	at := func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	}
	return &storage.APIKey{ID: k.ID, Name: k.Name, UserID: k.UserID, Scopes: k.Scopes, Roles: k.Roles, CreatedAt: k.CreatedAt,
		ExpiresAt: at(k.ExpiresAt), RevokedAt: at(k.RevokedAt), LastUsedAt: at(k.LastUsedAt)}
}

// listAPIKeys returns the API keys.
func (a *adminAPI) listAPIKeys(ctx context.Context) ([]*storage.APIKey, error) {
	var resp struct {
		APIKeys []adminapi.APIKey `json:"apikeys"`
	}
	if err := a.get(ctx, "/apikeys", &resp); err != nil {
		return nil, err
	}
	out := make([]*storage.APIKey, 0, len(resp.APIKeys))
	for _, k := range resp.APIKeys {
		out = append(out, apiKeyFromAPI(&k))
	}
	return out, nil
}

// findAPIKey returns the API key id (the admin API has no route for one
// key, so it searches the list).
func (a *adminAPI) findAPIKey(ctx context.Context, id string) (*storage.APIKey, error) {
	keys, err := a.listAPIKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	for _, k := range keys {
		if k.ID == id {
			return k, nil
		}
	}
	return nil, &admin.Error{Kind: admin.NotFound, Err: fmt.Errorf("API key %q not found", id)}
}

// createAPIKey creates the API key nk (its User an id) and returns it
// with its secret key.
func (a *adminAPI) createAPIKey(ctx context.Context, nk admin.NewAPIKey) (*storage.APIKey, string, error) {
	req := adminapi.CreateAPIKeyRequest{Name: nk.Name, UserID: nk.User, Scopes: nk.Scopes, Roles: nk.Roles, ExpiresIn: int64(nk.Lifetime / time.Second)}
	var k adminapi.APIKeyWithKey
	if err := a.do(ctx, http.MethodPost, "/apikeys", req, &k); err != nil {
		return nil, "", err
	}
	return apiKeyFromAPI(&k.APIKey), k.Key, nil
}

// revokeAPIKey revokes the API key id and returns it.
func (a *adminAPI) revokeAPIKey(ctx context.Context, id string) (*storage.APIKey, error) {
	var k adminapi.APIKey
	if err := a.do(ctx, http.MethodPost, "/apikeys/"+url.PathEscape(id)+"/revoke", nil, &k); err != nil {
		return nil, err
	}
	return apiKeyFromAPI(&k), nil
}

// rotateAPIKey gives the API key id a new secret and returns the key and
// the new secret key.
func (a *adminAPI) rotateAPIKey(ctx context.Context, id string) (*storage.APIKey, string, error) {
	var k adminapi.APIKeyWithKey
	if err := a.do(ctx, http.MethodPost, "/apikeys/"+url.PathEscape(id)+"/rotate", nil, &k); err != nil {
		return nil, "", err
	}
	return apiKeyFromAPI(&k.APIKey), k.Key, nil
}

// info converts k to a signing.KeyInfo.
func keyInfoFromAPI(k *adminapi.SigningKey) signing.KeyInfo {
	i := signing.KeyInfo{ID: k.ID, Algorithm: k.Algorithm, State: k.State, Signing: k.Signing, CreatedAt: k.CreatedAt, ActiveAt: k.ActiveAt}
	if k.RetiredAt != nil {
		i.RetiredAt = *k.RetiredAt
	}
	return i
}

// listKeys returns the signing keys.
func (a *adminAPI) listKeys(ctx context.Context) ([]signing.KeyInfo, error) {
	var resp struct {
		Keys []adminapi.SigningKey `json:"keys"`
	}
	if err := a.get(ctx, "/keys", &resp); err != nil {
		return nil, err
	}
	out := make([]signing.KeyInfo, 0, len(resp.Keys))
	for _, k := range resp.Keys {
		out = append(out, keyInfoFromAPI(&k))
	}
	return out, nil
}

// rotateKeys creates a new signing key that starts signing activateIn
// seconds from now (nil: the server's signing.prepublish).
func (a *adminAPI) rotateKeys(ctx context.Context, activateIn *int64) (signing.KeyInfo, error) {
	var k adminapi.SigningKey
	if err := a.do(ctx, http.MethodPost, "/keys/rotate", adminapi.RotateKeysRequest{ActivateIn: activateIn}, &k); err != nil {
		return signing.KeyInfo{}, err
	}
	return keyInfoFromAPI(&k), nil
}

// verifyAudit has the server verify its audit trail.
func (a *adminAPI) verifyAudit(ctx context.Context) (*adminapi.AuditVerify, error) {
	var v adminapi.AuditVerify
	if err := a.get(ctx, "/audit/verify", &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// record converts r to a storage.AuditRecord.
func recordFromAPI(r *adminapi.AuditRecord) *storage.AuditRecord {
	return &storage.AuditRecord{Seq: r.Seq, Time: r.Time, Type: r.Type, Event: []byte(r.Event), PrevHash: r.PrevHash, Hash: r.Hash}
}

// listAudit returns audit events selected by the query q (type, user,
// since, after, limit; see docs/admin-api.yaml).
func (a *adminAPI) listAudit(ctx context.Context, q url.Values) ([]*storage.AuditRecord, error) {
	var resp struct {
		Events []adminapi.AuditRecord `json:"events"`
	}
	if err := a.get(ctx, "/audit?"+q.Encode(), &resp); err != nil {
		return nil, err
	}
	out := make([]*storage.AuditRecord, 0, len(resp.Events))
	for _, r := range resp.Events {
		out = append(out, recordFromAPI(&r))
	}
	return out, nil
}

// lastAudit returns the newest audit event, nil when there is none.
func (a *adminAPI) lastAudit(ctx context.Context) (*storage.AuditRecord, error) {
	recs, err := a.listAudit(ctx, url.Values{"limit": {"1"}})
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	return recs[len(recs)-1], nil
}

// createClient registers nc (without a JWKS: the admin API takes none)
// and returns the client as stored with its new secret, if it has one.
func (a *adminAPI) createClient(ctx context.Context, nc admin.NewClient) (*storage.Client, string, error) {
	req := adminapi.CreateClientRequest{ID: nc.ID, Name: nc.Name, Public: nc.Public, AuthMethod: nc.AuthMethod,
		RedirectURIs: nc.RedirectURIs, GrantTypes: nc.GrantTypes, Scopes: nc.Scopes, Roles: nc.Roles,
		Audiences: nc.Audiences, PostLogoutRedirectURIs: nc.PostLogoutRedirectURIs, FirstParty: nc.FirstParty,
		RequirePAR: nc.RequirePAR, DPoPRequired: nc.DPoPRequired, TerminalLogin: nc.TerminalLogin}
	var resp adminapi.ClientWithSecret
	if err := a.do(ctx, http.MethodPost, "/clients", req, &resp); err != nil {
		return nil, "", err
	}
	return clientFromAPI(&resp.Client), resp.ClientSecret, nil
}

// auditPage is the most events one admin API call returns.
const auditPage = 1000

// listAuditFiltered returns the events f selects, oldest first: the last
// f.Limit of them (all for 0), paging through the admin API when needed.
func (a *adminAPI) listAuditFiltered(ctx context.Context, f storage.AuditFilter) ([]*storage.AuditRecord, error) {
	q := url.Values{}
	if f.Type != "" {
		q.Set("type", f.Type)
	}
	if f.UserID != "" {
		q.Set("user", f.UserID)
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339))
	}
	if f.Limit > 0 && f.Limit <= auditPage {
		q.Set("limit", strconv.Itoa(f.Limit))
		return a.listAudit(ctx, q)
	}
	// All events (or more than a page): walk forward from the start.
	var out []*storage.AuditRecord
	var after int64
	q.Set("limit", strconv.Itoa(auditPage))
	for {
		q.Set("after", strconv.FormatInt(after, 10))
		recs, err := a.listAudit(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
		if len(recs) < auditPage {
			break
		}
		after = recs[len(recs)-1].Seq
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	return out, nil
}

// roleFromAPI converts r to a storage.Role.
func roleFromAPI(r *adminapi.Role) *storage.Role {
	v := &storage.Role{Name: r.Name, Description: r.Description, Permissions: r.Permissions}
	if len(v.Permissions) == 0 {
		v.Permissions = nil
	}
	if r.CreatedAt != nil {
		v.CreatedAt = *r.CreatedAt
	}
	if r.UpdatedAt != nil {
		v.UpdatedAt = *r.UpdatedAt
	}
	return v
}

// rolePath is the admin API path of the role name.
func rolePath(name string) string { return "/roles/" + url.PathEscape(name) }

// listRoles returns every role, the built-in ones first.
func (a *adminAPI) listRoles(ctx context.Context) ([]*storage.Role, error) {
	var resp struct {
		Roles []adminapi.Role `json:"roles"`
	}
	if err := a.get(ctx, "/roles", &resp); err != nil {
		return nil, err
	}
	out := make([]*storage.Role, 0, len(resp.Roles))
	for _, r := range resp.Roles {
		out = append(out, roleFromAPI(&r))
	}
	return out, nil
}

// getRole returns the role name.
func (a *adminAPI) getRole(ctx context.Context, name string) (*storage.Role, error) {
	var r adminapi.Role
	if err := a.get(ctx, rolePath(name), &r); err != nil {
		return nil, err
	}
	return roleFromAPI(&r), nil
}

// createRole creates the custom role nr.
func (a *adminAPI) createRole(ctx context.Context, nr admin.NewRole) (*storage.Role, error) {
	var r adminapi.Role
	req := adminapi.CreateRoleRequest{Name: nr.Name, Description: nr.Description, Permissions: nr.Permissions}
	if err := a.do(ctx, http.MethodPost, "/roles", req, &r); err != nil {
		return nil, err
	}
	return roleFromAPI(&r), nil
}

// updateRole applies up to the role name.
func (a *adminAPI) updateRole(ctx context.Context, name string, up admin.RoleUpdate) (*storage.Role, error) {
	var r adminapi.Role
	req := adminapi.UpdateRoleRequest{Description: up.Description, Permissions: up.Permissions, AddPermissions: up.Add, RemovePermissions: up.Remove}
	if err := a.do(ctx, http.MethodPatch, rolePath(name), req, &r); err != nil {
		return nil, err
	}
	return roleFromAPI(&r), nil
}

// deleteRole deletes the role name.
func (a *adminAPI) deleteRole(ctx context.Context, name string) error {
	return a.do(ctx, http.MethodDelete, rolePath(name), nil, nil)
}

// resetMFA removes the TOTP of the user called name; removed is false when
// there was none.
func (a *adminAPI) resetMFA(ctx context.Context, name string) (u *storage.User, removed bool, err error) {
	var resp adminapi.MFAReset
	if err := a.do(ctx, http.MethodPost, userPath(name)+"/mfa-reset", nil, &resp); err != nil {
		return nil, false, err
	}
	return userFromAPI(&resp.User), resp.Removed, nil
}
