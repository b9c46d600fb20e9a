package protocol

// Grant types (RFC 6749 §4, RFC 8628 §3.4).
const (
	GrantAuthorizationCode = "authorization_code"
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
	GrantPassword          = "password"
)

// Client authentication methods (RFC 8414 §2, OIDC Core §9).
const (
	AuthMethodBasic         = "client_secret_basic"
	AuthMethodPost          = "client_secret_post"
	AuthMethodPrivateKeyJWT = "private_key_jwt"
	AuthMethodNone          = "none"
)

// ClientAssertionTypeJWT is the client_assertion_type for private_key_jwt (RFC 7523 §2.2).
const ClientAssertionTypeJWT = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Token type hints and JWT header types.
const (
	TokenTypeHintAccessToken  = "access_token"
	TokenTypeHintRefreshToken = "refresh_token"
	// AccessTokenJWTType is the "typ" header of an RFC 9068 access token.
	AccessTokenJWTType = "at+jwt"
	TokenTypeBearer    = "Bearer"
	// TokenTypeDPoP is the token_type of an access token bound to a DPoP
	// key (RFC 9449 §5), presented as "Authorization: DPoP <token>".
	TokenTypeDPoP = "DPoP"
)

// PKCE code challenge method; S256 is the only one Gatehouse accepts.
const CodeChallengeS256 = "S256"

// Metadata is the authorization server metadata document (RFC 8414 §2,
// OpenID Connect Discovery 1.0 §3).
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	DeviceAuthorizationEndpoint                string   `json:"device_authorization_endpoint,omitempty"`
	RevocationEndpoint                         string   `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint,omitempty"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint,omitempty"`
	JWKSURI                                    string   `json:"jwks_uri"`
	EndSessionEndpoint                         string   `json:"end_session_endpoint,omitempty"`
	ScopesSupported                            []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported,omitempty"`
	GrantTypesSupported                        []string `json:"grant_types_supported,omitempty"`
	SubjectTypesSupported                      []string `json:"subject_types_supported,omitempty"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported,omitempty"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported,omitempty"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported,omitempty"`
	ClaimsSupported                            []string `json:"claims_supported,omitempty"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
	// RequestParameterSupported and RequestURIParameterSupported are OIDC
	// Discovery §3 metadata; request_uri_parameter_supported defaults to
	// true there, so a server without it says false explicitly.
	RequestParameterSupported    *bool `json:"request_parameter_supported,omitempty"`
	RequestURIParameterSupported *bool `json:"request_uri_parameter_supported,omitempty"`
	// DPoPSigningAlgValuesSupported lists the DPoP proof algorithms the
	// server accepts (RFC 9449 §5.1).
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`
}

// TokenResponse is a successful token endpoint response (RFC 6749 §5.1).
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

// DeviceAuthorizationResponse is the device authorization response (RFC 8628 §3.2).
type DeviceAuthorizationResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete,omitempty"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval,omitempty"`
}

// IntrospectionResponse is a token introspection response (RFC 7662 §2.2).
// An inactive token is rendered as exactly {"active":false}.
type IntrospectionResponse struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Username  string   `json:"username,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	Exp       int64    `json:"exp,omitempty"`
	Iat       int64    `json:"iat,omitempty"`
	Nbf       int64    `json:"nbf,omitempty"`
	Sub       string   `json:"sub,omitempty"`
	Aud       []string `json:"aud,omitempty"`
	Iss       string   `json:"iss,omitempty"`
	Jti       string   `json:"jti,omitempty"`
	Roles     []string `json:"roles,omitempty"`
	// Cnf is the confirmation of a sender-constrained token: the JWK
	// thumbprint of its DPoP key (RFC 9449 §6.2).
	Cnf *Confirmation `json:"cnf,omitempty"`
}

// Confirmation is the "cnf" claim or member (RFC 7800) of a DPoP-bound
// token: JKT is the base64url JWK SHA-256 thumbprint of the key (RFC 9449
// §6.1).
type Confirmation struct {
	JKT string `json:"jkt"`
}
