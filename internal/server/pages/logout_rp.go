package pages

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/server/webpage"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// OpenID Connect RP-Initiated Logout 1.0 on /logout (the
// end_session_endpoint of discovery). A relying party sends the browser to
// /logout with id_token_hint, client_id, post_logout_redirect_uri and
// state. The browser session ends, and the browser goes back to the
// post_logout_redirect_uri, which must be registered for the client
// exactly (§3: "MUST NOT perform post-logout redirection to a URI that is
// not registered"). Without a valid id_token_hint for the signed-in user
// the user confirms first (§2: the OP "SHOULD ask the End-User whether to
// log out"), so a page elsewhere cannot sign people out by linking here.

// rpLogoutParams are the parameters the logout confirmation form carries.
var rpLogoutParams = []string{"client_id", "post_logout_redirect_uri", "state", "id_token_hint"}

// rpLogout is a validated logout request.
type rpLogout struct {
	client *storage.Client // nil when the request names none
	// redirectTo is the post_logout_redirect_uri, "" for none.
	redirectTo string
	state      string
	// hintSubject is the sub of a valid id_token_hint, "" without one.
	hintSubject string
	params      url.Values
}

// parseRPLogout reads and checks the RP-Initiated Logout parameters of q.
// A *protocol.Error is for an error page: nothing is redirected.
func (pg *Pages) parseRPLogout(r *http.Request, q url.Values) (*rpLogout, *protocol.Error, error) {
	for _, p := range rpLogoutParams {
		if len(q[p]) > 1 {
			return nil, protocol.Errorf(protocol.ErrInvalidRequest, "%s is repeated", p), nil
		}
	}
	lr := &rpLogout{redirectTo: q.Get("post_logout_redirect_uri"), state: q.Get("state"), params: url.Values{}}
	for _, p := range rpLogoutParams {
		if q.Has(p) {
			lr.params.Set(p, q.Get(p))
		}
	}
	clientID := q.Get("client_id")
	if hint := q.Get("id_token_hint"); hint != "" {
		sub, aud, ok := pg.idTokenHint(r, hint)
		if !ok {
			return nil, protocol.NewError(protocol.ErrInvalidRequest, "id_token_hint is not an ID token this server issued"), nil
		}
		if clientID != "" && clientID != aud {
			return nil, protocol.NewError(protocol.ErrInvalidRequest, "client_id does not match the id_token_hint"), nil
		}
		clientID, lr.hintSubject = aud, sub
	}
	if clientID != "" {
		c, err := pg.clients.Get(r.Context(), clientID)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, protocol.NewError(protocol.ErrInvalidClient, "unknown client"), nil
		}
		if err != nil {
			return nil, nil, err
		}
		lr.client = c
	}
	if lr.redirectTo != "" {
		if lr.client == nil {
			return nil, protocol.NewError(protocol.ErrInvalidRequest, "post_logout_redirect_uri needs client_id or id_token_hint"), nil
		}
		if !oauth.PlausibleRedirectURI(lr.redirectTo) || !slices.Contains(lr.client.PostLogoutRedirectURIs, lr.redirectTo) {
			return nil, protocol.NewError(protocol.ErrInvalidRequest, "post_logout_redirect_uri is not registered for this client"), nil
		}
	}
	return lr, nil, nil
}

// idTokenHint checks an ID token this server issued (signature, typ, iss)
// and returns its sub and aud. It may have expired: RFC 9068 does not
// govern hints, and RP-Initiated Logout §2 accepts expired ones.
func (pg *Pages) idTokenHint(r *http.Request, tok string) (sub, aud string, ok bool) {
	payload, err := pg.keys.VerifyFresh(r.Context(), tok, "JWT", oauth.KeyRefreshAge)
	if err != nil {
		return "", "", false
	}
	var c struct {
		Issuer   string          `json:"iss"`
		Subject  string          `json:"sub"`
		Audience json.RawMessage `json:"aud"`
	}
	if json.Unmarshal(payload, &c) != nil || c.Issuer != pg.issuer || c.Subject == "" {
		return "", "", false
	}
	if json.Unmarshal(c.Audience, &aud) != nil {
		var list []string
		if json.Unmarshal(c.Audience, &list) != nil || len(list) != 1 {
			return "", "", false
		}
		aud = list[0]
	}
	return c.Subject, aud, aud != ""
}

// finishRPLogout sends the browser on after the session ended: to the
// post_logout_redirect_uri with state, or to the signed-out page.
func (pg *Pages) finishRPLogout(w http.ResponseWriter, lr *rpLogout, status int) {
	if lr == nil || lr.redirectTo == "" {
		pg.pages.Render(w, http.StatusOK, pageLoggedOut, page{Title: "Signed out"})
		return
	}
	q := url.Values{}
	if lr.state != "" {
		q.Set("state", lr.state)
	}
	webpage.Redirect(w, withQuery(lr.redirectTo, q), status)
}
