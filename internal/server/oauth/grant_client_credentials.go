package oauth

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// grantClientCredentials implements RFC 6749 §4.4. Only confidential
// clients registered for the grant may use it, and no refresh token is
// issued (§4.4.3). Nothing is written to the database: the access token is
// a self-contained JWT.
//
// With a DPoP proof (jkt) the access token is bound to its key.
func (e *Endpoints) grantClientCredentials(r *http.Request, c *storage.Client, jkt string) (*protocol.TokenResponse, error) {
	if c.Public {
		return nil, protocol.NewError(protocol.ErrUnauthorizedClient, "public clients cannot use client_credentials")
	}
	if err := requireGrantType(c, protocol.GrantClientCredentials); err != nil {
		return nil, err
	}
	scopes, err := resolveScopes(c, ParseScope(r.PostForm.Get("scope")))
	if err != nil {
		return nil, err
	}
	aud, err := e.ResolveResources(c, ResourceParams(r.PostForm))
	if err != nil {
		return nil, err
	}
	return e.respond(r.Context(), issuance{client: c, scopes: scopes, resources: aud, jkt: jkt})
}
