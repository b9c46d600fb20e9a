package admincmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/storage/sqlite"
	"github.com/gatehouse-auth/gatehouse/internal/userreg"
)

// parityCase is one admin request, written for each front end: the admin
// layer, the admin API over HTTP, and the CLI (which runs it on a
// database and over the admin API of another server).
type parityCase struct {
	name   string
	layer  func(ctx context.Context, s *admin.Service) error
	method string
	path   string
	body   any
	cli    []string
	stdin  string
	// want is the outcome: 0 (accepted) or the kind of refusal.
	want admin.Kind
	// words are in the message of every front end.
	words string
	// cliPrecheck: the CLI refuses with words of its own before it sends
	// the request (a taken username, before asking for a password).
	cliPrecheck bool
	// noCLI, when set, says why the CLI cannot send this input; the row
	// then runs through the layer and the admin API only.
	noCLI string
}

func ptr[T any](v T) *T { return &v }

// parityCases start from paritySeed: the admin "admin", the editor
// "carol", the disabled "dave" and the custom role "ops", which nobody
// holds.
var parityCases = []parityCase{
	{name: "add a user",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.CreateUser(ctx, admin.NewUser{Username: "dora", Password: "long enough password", Roles: []string{"editor"}})
			return err
		},
		method: "POST", path: "/users", body: map[string]any{"username": "dora", "password": "long enough password", "roles": []string{"editor"}},
		cli: []string{"users", "add", "dora", "--role", "editor", "--password-stdin"}, stdin: "long enough password\n"},
	{name: "add a taken username",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.CreateUser(ctx, admin.NewUser{Username: "dora", Password: "long enough password", Roles: []string{"viewer"}})
			return err
		},
		method: "POST", path: "/users", body: map[string]any{"username": "dora", "password": "long enough password", "roles": []string{"viewer"}},
		cli: []string{"users", "add", "dora", "--password-stdin"}, stdin: "long enough password\n",
		want: admin.Conflict, words: `user "dora" already exists`, cliPrecheck: true},
	{name: "username with a space",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.CreateUser(ctx, admin.NewUser{Username: "bad name", Password: "long enough password"})
			return err
		},
		method: "POST", path: "/users", body: map[string]any{"username": "bad name", "password": "long enough password"},
		cli: []string{"users", "add", "bad name", "--role", "viewer", "--password-stdin"}, stdin: "long enough password\n",
		want: admin.Invalid, words: "must not contain spaces"},
	{name: "username ending in LF",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.CreateUser(ctx, admin.NewUser{Username: "eve\n", Password: "long enough password"})
			return err
		},
		method: "POST", path: "/users", body: map[string]any{"username": "eve\n", "password": "long enough password"},
		cli: []string{"users", "add", "eve\n", "--password-stdin"}, stdin: "long enough password\n",
		want: admin.Invalid, words: "control character"},
	{name: "a role that does not exist",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.CreateUser(ctx, admin.NewUser{Username: "fred", Password: "long enough password", Roles: []string{"nosuch"}})
			return err
		},
		method: "POST", path: "/users", body: map[string]any{"username": "fred", "password": "long enough password", "roles": []string{"nosuch"}},
		cli: []string{"users", "add", "fred", "--role", "nosuch", "--password-stdin"}, stdin: "long enough password\n",
		want: admin.Invalid, words: `unknown role "nosuch"`},
	{name: "a role name no role can have",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.CreateUser(ctx, admin.NewUser{Username: "fred", Password: "long enough password", Roles: []string{"a b"}})
			return err
		},
		method: "POST", path: "/users", body: map[string]any{"username": "fred", "password": "long enough password", "roles": []string{"a b"}},
		cli: []string{"users", "add", "fred", "--role", "a b", "--password-stdin"}, stdin: "long enough password\n",
		want: admin.Invalid, words: "role names are [a-z][a-z0-9_.-]"},
	{name: "role names are not case-sensitive",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.CreateUser(ctx, admin.NewUser{Username: "gina", Password: "long enough password", Roles: []string{"Editor"}})
			return err
		},
		method: "POST", path: "/users", body: map[string]any{"username": "gina", "password": "long enough password", "roles": []string{"Editor"}},
		cli: []string{"users", "add", "gina", "--role", "Editor", "--password-stdin"}, stdin: "long enough password\n"},
	{name: "a short password",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.CreateUser(ctx, admin.NewUser{Username: "hank", Password: "short"})
			return err
		},
		method: "POST", path: "/users", body: map[string]any{"username": "hank", "password": "short"},
		cli: []string{"users", "add", "hank", "--password-stdin"}, stdin: "short\n",
		want: admin.Invalid, words: password.ErrTooShort.Error()},
	{name: "an email that is not an address",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.CreateUser(ctx, admin.NewUser{Username: "ivy", Password: "long enough password", Profile: userreg.Profile{Email: ptr("ivy.example.com")}})
			return err
		},
		method: "POST", path: "/users", body: map[string]any{"username": "ivy", "password": "long enough password", "email": "ivy.example.com"},
		cli: []string{"users", "add", "ivy", "--email", "ivy.example.com", "--password-stdin"}, stdin: "long enough password\n",
		want: admin.Invalid, words: "is not an address like name@example.com"},
	{name: "an email another user has",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.UpdateUser(ctx, "dora", admin.UserUpdate{Profile: userreg.Profile{Email: ptr("CAROL@example.com")}})
			return err
		},
		method: "PATCH", path: "/users/dora", body: map[string]any{"email": "CAROL@example.com"},
		cli:  []string{"users", "update", "dora", "--email", "CAROL@example.com"},
		want: admin.Conflict, words: "is already used by another user"},
	{name: "a connector the server does not have",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.CreateUser(ctx, admin.NewUser{Username: "jack", Connector: "corp"})
			return err
		},
		method: "POST", path: "/users", body: map[string]any{"username": "jack", "connector": "corp"},
		cli:  []string{"users", "add", "jack", "--connector", "corp"},
		want: admin.Invalid, words: `unknown connector "corp"`},
	{name: "take the admin role from the last admin",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.UpdateUser(ctx, "admin", admin.UserUpdate{Roles: &[]string{"viewer"}})
			return err
		},
		method: "PATCH", path: "/users/admin", body: map[string]any{"roles": []string{"viewer"}},
		cli:  []string{"users", "set-role", "admin", "viewer"},
		want: admin.Conflict, words: "it is the last admin"},
	{name: "disable the last admin",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.UpdateUser(ctx, "admin", admin.UserUpdate{Disabled: ptr(true)})
			return err
		},
		method: "PATCH", path: "/users/admin", body: map[string]any{"disabled": true},
		cli:  []string{"users", "update", "admin", "--disabled"},
		want: admin.Conflict, words: "last enabled admin"},
	{name: "delete the last admin",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.DeleteUser(ctx, "admin")
			return err
		},
		method: "DELETE", path: "/users/admin",
		cli:  []string{"users", "delete", "admin"},
		want: admin.Conflict, words: "it is the last admin"},
	{name: "delete a user who does not exist",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.DeleteUser(ctx, "nobody")
			return err
		},
		method: "DELETE", path: "/users/nobody",
		cli:  []string{"users", "delete", "nobody"},
		want: admin.NotFound, words: `user "nobody" not found`},
	{name: "set a short password",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, err := s.SetPassword(ctx, "carol", "short")
			return err
		},
		method: "PUT", path: "/users/carol/password", body: map[string]any{"password": "short"},
		cli: []string{"users", "passwd", "carol", "--password-stdin"}, stdin: "short\n",
		want: admin.Invalid, words: password.ErrTooShort.Error()},
	{name: "create a role",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.CreateRole(ctx, admin.NewRole{Name: "deployer", Permissions: []string{"runs:launch"}})
			return err
		},
		method: "POST", path: "/roles", body: map[string]any{"name": "deployer", "permissions": []string{"runs:launch"}},
		cli: []string{"roles", "create", "deployer", "--permission", "runs:launch"}},
	{name: "a role name in capitals",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.CreateRole(ctx, admin.NewRole{Name: "Deployer"})
			return err
		},
		method: "POST", path: "/roles", body: map[string]any{"name": "Deployer"},
		cli:  []string{"roles", "create", "Deployer"},
		want: admin.Invalid, words: "must be lower case"},
	{name: "a permission with a space",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.CreateRole(ctx, admin.NewRole{Name: "spaced", Permissions: []string{"a b"}})
			return err
		},
		method: "POST", path: "/roles", body: map[string]any{"name": "spaced", "permissions": []string{"a b"}},
		cli:  []string{"roles", "create", "spaced", "--permission", "a b"},
		want: admin.Invalid, words: "is not an RFC 6749 §3.3 scope token"},
	{name: "create a built-in role",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.CreateRole(ctx, admin.NewRole{Name: "admin"})
			return err
		},
		method: "POST", path: "/roles", body: map[string]any{"name": "admin"},
		cli:  []string{"roles", "create", "admin"},
		want: admin.Conflict, words: "admin is built in"},
	{name: "change a built-in role",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.UpdateRole(ctx, "viewer", admin.RoleUpdate{Add: []string{"runs:launch"}})
			return err
		},
		method: "PATCH", path: "/roles/viewer", body: map[string]any{"add_permissions": []string{"runs:launch"}},
		cli:  []string{"roles", "update", "viewer", "--add-permission", "runs:launch"},
		want: admin.Conflict, words: "viewer is built in"},
	{name: "give a user a custom role",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.UpdateUser(ctx, "carol", admin.UserUpdate{Roles: &[]string{"editor", "deployer"}})
			return err
		},
		method: "PATCH", path: "/users/carol", body: map[string]any{"roles": []string{"editor", "deployer"}},
		cli: []string{"users", "set-role", "carol", "editor", "deployer"}},
	{name: "delete a role someone holds",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, err := s.DeleteRole(ctx, "deployer")
			return err
		},
		method: "DELETE", path: "/roles/deployer",
		cli:  []string{"roles", "delete", "deployer"},
		want: admin.Conflict, words: `role "deployer" is still held by user carol`},
	{name: "delete a role nobody holds",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, err := s.DeleteRole(ctx, "ops")
			return err
		},
		method: "DELETE", path: "/roles/ops",
		cli: []string{"roles", "delete", "ops"}},
	{name: "delete a role that does not exist",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, err := s.DeleteRole(ctx, "ops")
			return err
		},
		method: "DELETE", path: "/roles/ops",
		cli:  []string{"roles", "delete", "ops"},
		want: admin.NotFound, words: `role "ops" not found`},
	{name: "create an API key",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, _, _, err := s.CreateAPIKey(ctx, admin.NewAPIKey{Name: "deploy", Scopes: []string{"read"}, Roles: []string{"viewer"}})
			return err
		},
		method: "POST", path: "/apikeys", body: map[string]any{"name": "deploy", "scopes": []string{"read"}, "roles": []string{"viewer"}},
		cli: []string{"apikeys", "create", "deploy", "--scope", "read", "--role", "viewer"}},
	{name: "an API key without a name",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, _, _, err := s.CreateAPIKey(ctx, admin.NewAPIKey{Name: "  "})
			return err
		},
		method: "POST", path: "/apikeys", body: map[string]any{"name": "  "},
		cli:  []string{"apikeys", "create", "  "},
		want: admin.Invalid, words: "the API key name must not be empty"},
	{name: "an API key name with a line break",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, _, _, err := s.CreateAPIKey(ctx, admin.NewAPIKey{Name: "ci\nforged"})
			return err
		},
		method: "POST", path: "/apikeys", body: map[string]any{"name": "ci\nforged"},
		cli:  []string{"apikeys", "create", "ci\nforged"},
		want: admin.Invalid, words: "must not contain control characters"},
	{name: "an API key scope with a comma",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, _, _, err := s.CreateAPIKey(ctx, admin.NewAPIKey{Name: "ci", Scopes: []string{"read,write"}})
			return err
		},
		method: "POST", path: "/apikeys", body: map[string]any{"name": "ci", "scopes": []string{"read,write"}},
		cli:  []string{"apikeys", "create", "ci", "--scope", "read,write"},
		want: admin.Invalid, words: "scope contains a comma"},
	{name: "an API key with a role that does not exist",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, _, _, err := s.CreateAPIKey(ctx, admin.NewAPIKey{Name: "ci", Roles: []string{"nosuch"}})
			return err
		},
		method: "POST", path: "/apikeys", body: map[string]any{"name": "ci", "roles": []string{"nosuch"}},
		cli:  []string{"apikeys", "create", "ci", "--role", "nosuch"},
		want: admin.Invalid, words: `unknown role "nosuch"`},
	{name: "an API key acting as a user who does not exist",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, _, _, err := s.CreateAPIKey(ctx, admin.NewAPIKey{Name: "ci", User: "nobody"})
			return err
		},
		method: "POST", path: "/apikeys", body: map[string]any{"name": "ci", "user_id": "nobody"},
		cli:  []string{"apikeys", "create", "ci", "--user", "nobody"},
		want: admin.NotFound, words: `user "nobody" not found`},
	{name: "an API key acting as a disabled user",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, _, _, err := s.CreateAPIKey(ctx, admin.NewAPIKey{Name: "ci", User: "dave"})
			return err
		},
		method: "POST", path: "/apikeys", body: map[string]any{"name": "ci", "user_id": "dave"},
		cli:  []string{"apikeys", "create", "ci", "--user", "dave"},
		want: admin.Conflict, words: `user "dave" is disabled`},
	{name: "revoke an API key that does not exist",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, _, err := s.RevokeAPIKey(ctx, "nosuchkey0000000")
			return err
		},
		method: "POST", path: "/apikeys/nosuchkey0000000/revoke",
		cli:  []string{"apikeys", "revoke", "nosuchkey0000000"},
		want: admin.NotFound, words: `API key "nosuchkey0000000" not found`},
	{name: "rotate an API key that does not exist",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, _, err := s.RotateAPIKey(ctx, "nosuchkey0000000")
			return err
		},
		method: "POST", path: "/apikeys/nosuchkey0000000/rotate",
		cli:  []string{"apikeys", "rotate", "nosuchkey0000000"},
		want: admin.NotFound, words: `API key "nosuchkey0000000" not found`},
	{name: "a signing key that signs before it is published",
		layer: func(ctx context.Context, _ *admin.Service) error {
			// Refused before the key manager is asked, so none is needed.
			_, _, err := admin.RotateSigningKey(ctx, nil, ptr(-time.Second))
			return err
		},
		method: "POST", path: "/keys/rotate", body: map[string]any{"activate_in": -1},
		cli:  []string{"keys", "rotate", "--activate-in", "-1s"},
		want: admin.Invalid, words: "must not be negative, got -1s"},
	{name: "register a client",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, _, err := s.CreateClient(ctx, admin.NewClient{ID: "ci", Name: "CI", GrantTypes: []string{"client_credentials"}, Scopes: []string{"read"}, Roles: []string{"viewer"}})
			return err
		},
		method: "POST", path: "/clients", body: map[string]any{"id": "ci", "name": "CI", "grant_types": []string{"client_credentials"}, "scopes": []string{"read"}, "roles": []string{"viewer"}},
		cli: []string{"clients", "create", "CI", "--id", "ci", "--grant", "client_credentials", "--scope", "read", "--role", "viewer"}},
	{name: "a client ID that is taken",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, _, err := s.CreateClient(ctx, admin.NewClient{ID: "ci", Name: "CI", GrantTypes: []string{"client_credentials"}})
			return err
		},
		method: "POST", path: "/clients", body: map[string]any{"id": "ci", "name": "CI", "grant_types": []string{"client_credentials"}},
		cli:  []string{"clients", "create", "CI", "--id", "ci", "--grant", "client_credentials"},
		want: admin.Conflict, words: `client "ci" already exists`},
	{name: "a client ID with a path in it",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, _, err := s.CreateClient(ctx, admin.NewClient{ID: "bad id/../x", Name: "CI", GrantTypes: []string{"client_credentials"}})
			return err
		},
		method: "POST", path: "/clients", body: map[string]any{"id": "bad id/../x", "name": "CI", "grant_types": []string{"client_credentials"}},
		cli:  []string{"clients", "create", "CI", "--id", "bad id/../x", "--grant", "client_credentials"},
		want: admin.Invalid, words: `client ID "bad id/../x" must be 1-128 letters`},
	{name: "a client scope with a space",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, _, err := s.CreateClient(ctx, admin.NewClient{ID: "ci2", Name: "CI", GrantTypes: []string{"client_credentials"}, Scopes: []string{"a b"}})
			return err
		},
		method: "POST", path: "/clients", body: map[string]any{"id": "ci2", "name": "CI", "grant_types": []string{"client_credentials"}, "scopes": []string{"a b"}},
		noCLI: `the CLI reads --scope "a b" as the two scopes a and b`,
		want:  admin.Invalid, words: `scope "a b" must be one scope token, without spaces`},
	{name: "a client scope with a quote",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, _, err := s.CreateClient(ctx, admin.NewClient{ID: "ci2", Name: "CI", GrantTypes: []string{"client_credentials"}, Scopes: []string{`a"b`}})
			return err
		},
		method: "POST", path: "/clients", body: map[string]any{"id": "ci2", "name": "CI", "grant_types": []string{"client_credentials"}, "scopes": []string{`a"b`}},
		cli:  []string{"clients", "create", "CI", "--id", "ci2", "--grant", "client_credentials", "--scope", `a"b`},
		want: admin.Invalid, words: "contains a character RFC 6749 §3.3 does not allow"},
	{name: "refresh_token without authorization_code",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, _, err := s.CreateClient(ctx, admin.NewClient{ID: "ci2", Name: "CI", GrantTypes: []string{"client_credentials", "refresh_token"}})
			return err
		},
		method: "POST", path: "/clients", body: map[string]any{"id": "ci2", "name": "CI", "grant_types": []string{"client_credentials", "refresh_token"}},
		cli:  []string{"clients", "create", "CI", "--id", "ci2", "--grant", "client_credentials", "--grant", "refresh_token"},
		want: admin.Invalid, words: "the refresh_token grant needs authorization_code or device_code"},
	{name: "a client with a role that does not exist",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, _, err := s.CreateClient(ctx, admin.NewClient{ID: "ci2", Name: "CI", GrantTypes: []string{"client_credentials"}, Roles: []string{"nosuch"}})
			return err
		},
		method: "POST", path: "/clients", body: map[string]any{"id": "ci2", "name": "CI", "grant_types": []string{"client_credentials"}, "roles": []string{"nosuch"}},
		cli:  []string{"clients", "create", "CI", "--id", "ci2", "--grant", "client_credentials", "--role", "nosuch"},
		want: admin.Invalid, words: `unknown role "nosuch"`},
	{name: "the admin scope for a third-party client",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, _, err := s.CreateClient(ctx, admin.NewClient{ID: "ci2", Name: "CI", GrantTypes: []string{"client_credentials"}, Scopes: []string{"admin"}})
			return err
		},
		method: "POST", path: "/clients", body: map[string]any{"id": "ci2", "name": "CI", "grant_types": []string{"client_credentials"}, "scopes": []string{"admin"}},
		cli:  []string{"clients", "create", "CI", "--id", "ci2", "--grant", "client_credentials", "--scope", "admin"},
		want: admin.Invalid, words: `scope "admin" is open to first-party clients only`},
	{name: "terminal sign-in for a third-party client",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, _, err := s.CreateClient(ctx, admin.NewClient{ID: "ci2", Name: "CI", GrantTypes: []string{"client_credentials"}, TerminalLogin: true})
			return err
		},
		method: "POST", path: "/clients", body: map[string]any{"id": "ci2", "name": "CI", "grant_types": []string{"client_credentials"}, "terminal_login": true},
		cli:  []string{"clients", "create", "CI", "--id", "ci2", "--grant", "client_credentials", "--terminal-login"},
		want: admin.Invalid, words: "only for first-party clients"},
	{name: "show a client that does not exist",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, err := s.GetClient(ctx, "nosuch")
			return err
		},
		method: "GET", path: "/clients/nosuch",
		cli:  []string{"clients", "show", "nosuch"},
		want: admin.NotFound, words: `client "nosuch" not found`},
	{name: "require PAR of a client",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.UpdateClient(ctx, "svc", admin.ClientSettings{RequirePAR: ptr(true)})
			return err
		},
		method: "PATCH", path: "/clients/svc", body: map[string]any{"require_pushed_authorization_requests": true},
		cli: []string{"clients", "update", "svc", "--require-par"}},
	{name: "turn terminal sign-in on for a third-party client",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.UpdateClient(ctx, "svc", admin.ClientSettings{TerminalLogin: ptr(true)})
			return err
		},
		method: "PATCH", path: "/clients/svc", body: map[string]any{"terminal_login": true},
		cli:  []string{"clients", "update", "svc", "--terminal-login"},
		want: admin.Invalid, words: `client "svc": terminal sign-in (the password grant) is only for first-party clients`},
	{name: "change nothing of a client",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.UpdateClient(ctx, "svc", admin.ClientSettings{})
			return err
		},
		method: "PATCH", path: "/clients/svc", body: map[string]any{},
		cli:  []string{"clients", "update", "svc"},
		want: admin.Invalid, words: "nothing to change", cliPrecheck: true},
	{name: "update a client that does not exist",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, err := s.UpdateClient(ctx, "nosuch", admin.ClientSettings{DPoPRequired: ptr(true)})
			return err
		},
		method: "PATCH", path: "/clients/nosuch", body: map[string]any{"dpop_required": true},
		cli:  []string{"clients", "update", "nosuch", "--dpop-required"},
		want: admin.NotFound, words: `client "nosuch" not found`},
	{name: "rotate the secret of a client",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, _, err := s.RotateClientSecret(ctx, "svc")
			return err
		},
		method: "POST", path: "/clients/svc/rotate-secret",
		cli: []string{"clients", "rotate-secret", "svc"}},
	{name: "rotate the secret of a public client",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, _, _, err := s.RotateClientSecret(ctx, "spa")
			return err
		},
		method: "POST", path: "/clients/spa/rotate-secret",
		cli:  []string{"clients", "rotate-secret", "spa"},
		want: admin.Conflict, words: `client "spa" is public: it has no secret to rotate`},
	{name: "delete a client",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, err := s.DeleteClient(ctx, "svc")
			return err
		},
		method: "DELETE", path: "/clients/svc",
		cli: []string{"clients", "delete", "svc"}},
	{name: "delete a client that does not exist",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, err := s.DeleteClient(ctx, "svc")
			return err
		},
		method: "DELETE", path: "/clients/svc",
		cli:  []string{"clients", "delete", "svc"},
		want: admin.NotFound, words: `client "svc" not found`},
	{name: "list the audit events of a type",
		layer: func(ctx context.Context, s *admin.Service) error {
			_, err := s.ListAudit(ctx, storage.AuditFilter{Type: "client.created", Limit: 10})
			return err
		},
		method: "GET", path: "/audit?type=client.created&limit=10",
		cli: []string{"audit", "list", "--type", "client.created", "--limit", "10"}},
	{name: "verify the audit trail",
		layer: func(ctx context.Context, s *admin.Service) error {
			v, err := s.VerifyAudit(ctx)
			if err == nil && v.Broken != nil {
				return v.Broken
			}
			return err
		},
		method: "GET", path: "/audit/verify",
		cli: []string{"audit", "verify"}},
}

// paritySeed gives st what parityCases start from. Only the layer's
// store lacks the admin (servertest bootstraps one on a server's store).
// Besides the users and roles it registers the confidential client "svc"
// and the public client "spa".
func paritySeed(t *testing.T, st storage.Store, withAdmin bool) {
	t.Helper()
	ops := admin.New(st, admin.Options{Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)})
	ctx := t.Context()
	if withAdmin {
		if _, _, err := ops.CreateUser(ctx, admin.NewUser{Username: "admin", Password: "long enough password", Roles: []string{"admin"}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := ops.CreateUser(ctx, admin.NewUser{Username: "carol", Password: "long enough password", Roles: []string{"editor"},
		Profile: userreg.Profile{Email: ptr("carol@example.com")}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ops.CreateRole(ctx, admin.NewRole{Name: "ops", Permissions: []string{"runs:cancel"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ops.CreateUser(ctx, admin.NewUser{Username: "dave", Password: "long enough password"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ops.UpdateUser(ctx, "dave", admin.UserUpdate{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	for _, nc := range []admin.NewClient{
		{ID: "svc", Name: "Service", GrantTypes: []string{"client_credentials"}},
		{ID: "spa", Name: "Single page", Public: true, GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{"http://127.0.0.1/cb"}},
	} {
		if _, _, _, err := ops.CreateClient(ctx, nc); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAdminParity runs one table of valid and invalid requests through the
// admin layer, the admin API and the CLI (on a database and over the
// admin API), and checks that all of them accept or refuse each request,
// for the same reason and in the same words.
func TestAdminParity(t *testing.T) {
	ctx := t.Context()
	// The layer on a store of its own.
	layerStore, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "layer.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { layerStore.Close() })
	paritySeed(t, layerStore, true)
	layer := admin.New(layerStore, admin.Options{Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1),
		CheckClient: func(c *storage.Client) error { return oauth.CheckClientRegistration("https://auth.example", c) }})

	// The admin API, called directly.
	apiSrv := servertest.Start(t)
	paritySeed(t, apiSrv.Store, false)
	apiKey := addServerAPIKey(t, apiSrv, "admin")

	// The CLI on its database.
	dbCLI := newHarness(t)
	dbStore, err := sqlite.Open(ctx, filepath.Join(dbCLI.dataDir, "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	paritySeed(t, dbStore, true)
	dbStore.Close()

	// The CLI over the admin API of another server.
	cliSrv := servertest.Start(t)
	paritySeed(t, cliSrv.Store, false)
	apiCLI := newHarness(t)
	apiCLI.env["GATEHOUSE_API_KEY"] = addServerAPIKey(t, cliSrv, "admin")

	for _, c := range parityCases {
		t.Run(c.name, func(t *testing.T) {
			lerr := c.layer(ctx, layer)
			if lerr != nil && admin.KindOf(lerr) == 0 {
				t.Fatalf("the admin layer: %v is not an *admin.Error", lerr)
			}
			parityCheck(t, "the admin layer", c, outcomeOf(admin.KindOf(lerr)), lerr)

			status, desc := parityHTTP(t, apiSrv, apiKey, c)
			var herr error
			if status >= 300 {
				herr = errors.New(desc)
			}
			kind := map[int]admin.Kind{http.StatusBadRequest: admin.Invalid, http.StatusNotFound: admin.NotFound, http.StatusConflict: admin.Conflict}[status]
			if status >= 300 && kind == 0 {
				t.Errorf("the admin API answered %d %s", status, desc)
			}
			parityCheck(t, "the admin API", c, outcomeOf(kind), herr)
			if lerr != nil && herr != nil && desc != lerr.Error() {
				t.Errorf("the admin API says %q, the admin layer %q", desc, lerr)
			}

			if c.noCLI != "" {
				t.Logf("not through the CLI: %s", c.noCLI)
				return
			}
			for _, fe := range []struct {
				name string
				r    result
			}{
				{"the CLI on a database", dbCLI.run(c.stdin, c.cli...)},
				{"the CLI over the admin API", apiCLI.runCtx(ctx, c.stdin, append(c.cli, "--server", cliSrv.URL)...)},
			} {
				parityCheck(t, fe.name, c, cliOutcome(fe.r), fe.r.Err)
				if lerr != nil && fe.r.Err != nil && !c.cliPrecheck && !strings.Contains(fe.r.Err.Error(), lerr.Error()) {
					t.Errorf("%s says %q, which does not hold the admin layer's %q", fe.name, fe.r.Err, lerr)
				}
			}
		})
	}
}

// The outcomes a front end can show: the CLI's exit code tells invalid
// input (a usage error) from other refusals, not a missing user from a
// conflict; its words do.
const (
	accepted = "accepted"
	invalid  = "refused as invalid"
	refused  = "refused"
)

// outcomeOf is the outcome of a refusal of kind (0: accepted) as the CLI
// shows it.
func outcomeOf(kind admin.Kind) string {
	switch kind {
	case 0:
		return accepted
	case admin.Invalid:
		return invalid
	}
	return refused
}

func cliOutcome(r result) string {
	switch {
	case r.Err == nil:
		return accepted
	case r.Code == command.ExitUsage:
		return invalid
	}
	return refused
}

// parityCheck fails unless a front end had the outcome c wants and its
// error holds c's words.
func parityCheck(t *testing.T, frontEnd string, c parityCase, got string, err error) {
	t.Helper()
	if want := outcomeOf(c.want); got != want {
		t.Errorf("%s: %s (%v), want %s", frontEnd, got, err, want)
		return
	}
	if err != nil && !strings.Contains(err.Error(), c.words) {
		t.Errorf("%s: %q does not say %q", frontEnd, err, c.words)
	}
}

// parityHTTP sends c to the admin API of srv with the admin API key and
// returns the status and the error_description of a refusal.
func parityHTTP(t *testing.T, srv *servertest.Server, key string, c parityCase) (int, string) {
	t.Helper()
	var body bytes.Buffer
	if c.body != nil {
		if err := json.NewEncoder(&body).Encode(c.body); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequestWithContext(t.Context(), c.method, srv.URL+server.PathAdmin+c.path, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Description string `json:"error_description"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Description
}
