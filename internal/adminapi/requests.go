package adminapi

import "github.com/gatehouse-auth/gatehouse/internal/userreg"

// The request bodies of the admin API. The server decodes them and the
// CLI's admin-API client encodes them, so a field added on one side is
// there on the other. omitempty only shapes what the CLI sends (a
// password or connector it was not given, a PATCH field it does not
// change); the server treats an absent member and its zero value alike,
// except for the pointer fields of the PATCH bodies, where absent means
// "leave as it is".

// CreateUserRequest is the body of POST /users.
type CreateUserRequest struct {
	Username string   `json:"username"`
	Password string   `json:"password,omitempty"`
	Roles    []string `json:"roles"`
	// Connector pre-creates a user of that connector, without a
	// password: the first sign-in through it links the user.
	Connector string `json:"connector,omitempty"`
	userreg.Profile
}

// UpdateUserRequest is the body of PATCH /users/{id}.
type UpdateUserRequest struct {
	Roles    *[]string `json:"roles,omitempty"`
	Disabled *bool     `json:"disabled,omitempty"`
	userreg.Profile
}

// SetPasswordRequest is the body of PUT /users/{id}/password.
type SetPasswordRequest struct {
	Password string `json:"password"`
}

// CreateRoleRequest is the body of POST /roles.
type CreateRoleRequest struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"`
}

// UpdateRoleRequest is the body of PATCH /roles/{name}.
type UpdateRoleRequest struct {
	Description *string `json:"description,omitempty"`
	// Permissions, when present, replaces the permissions before
	// AddPermissions and RemovePermissions apply.
	Permissions       *[]string `json:"permissions,omitempty"`
	AddPermissions    []string  `json:"add_permissions"`
	RemovePermissions []string  `json:"remove_permissions"`
}

// CreateClientRequest is the body of POST /clients. The API takes no
// JWKS, so no private_key_jwt clients.
type CreateClientRequest struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Public       bool     `json:"public"`
	AuthMethod   string   `json:"auth_method"`
	RedirectURIs []string `json:"redirect_uris"`
	GrantTypes   []string `json:"grant_types"`
	Scopes       []string `json:"scopes"`
	Roles        []string `json:"roles"`
	Audiences    []string `json:"audiences"`
	// PostLogoutRedirectURIs (OIDC RP-Initiated Logout) match exactly.
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	FirstParty             bool     `json:"first_party"`
	RequirePAR             bool     `json:"require_pushed_authorization_requests"`
	// DPoPRequired makes the client send a DPoP proof with every token
	// request (RFC 9449).
	DPoPRequired  bool `json:"dpop_required"`
	TerminalLogin bool `json:"terminal_login"`
}

// UpdateClientRequest is the body of PATCH /clients/{id}: the settings
// present change, the others stay.
type UpdateClientRequest struct {
	RequirePAR    *bool `json:"require_pushed_authorization_requests,omitempty"`
	DPoPRequired  *bool `json:"dpop_required,omitempty"`
	TerminalLogin *bool `json:"terminal_login,omitempty"`
}

// CreateAPIKeyRequest is the body of POST /apikeys.
type CreateAPIKeyRequest struct {
	Name string `json:"name"`
	// UserID is the id (or username) of the user the key acts as.
	UserID string   `json:"user_id"`
	Scopes []string `json:"scopes"`
	Roles  []string `json:"roles"`
	// ExpiresIn is the lifetime in seconds; 0 means the key never expires.
	ExpiresIn int64 `json:"expires_in"`
}

// RotateKeysRequest is the body of POST /keys/rotate.
type RotateKeysRequest struct {
	// ActivateIn is how many seconds from now the new key starts signing;
	// absent means signing.prepublish.
	ActivateIn *int64 `json:"activate_in"`
}
