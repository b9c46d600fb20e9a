package pages

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/server/webpage"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// The authorization endpoint: the authorization code grant (RFC 6749 §4.1)
// with PKCE (RFC 7636) and the iss response parameter (RFC 9207).
//
// Until the client and its redirect URI are known to be genuine, errors are
// shown on an error page and never redirected (RFC 6749 §4.1.2.1: "the
// authorization server SHOULD inform the resource owner of the error and
// MUST NOT automatically redirect the user-agent to the invalid redirection
// URI"); afterwards they go back to the client as error parameters.

func (pg *Pages) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	post := r.Method == http.MethodPost
	var q url.Values
	if post {
		// The consent form posts the request back with its decision.
		if !pg.sessions.ParsePostForm(w, r) {
			return
		}
		q = r.PostForm
	} else {
		q = r.URL.Query()
	}
	ctx := r.Context()

	ar, perr, err := pg.authorizeClient(r, q)
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	if perr != nil {
		pg.pages.RequestError(w, r, "Sign-in cannot go on", perr)
		return
	}
	// For a pushed request the parameters are the ones pushed (RFC 9126
	// §4); the form still carries the consent decision.
	params := q
	if ar.RequestURI != "" {
		params = ar.Params
	}
	if perr := ar.Validate(params); perr != nil {
		pg.authorizeError(w, r, ar, perr, post)
		return
	}
	resources, err := pg.oauth().ResolveResources(ar.Client, oauth.ResourceParams(params))
	if err != nil {
		pg.authorizeError(w, r, ar, protocol.AsError(err), post)
		return
	}
	ar.Resources = resources

	u, sess, err := pg.sessions.CurrentUser(r)
	if err != nil {
		pg.authorizeServerError(w, r, ar, err, post)
		return
	}
	// OIDC Core §3.1.2.1 max_age: "If the elapsed time is greater than
	// this value, the OP MUST attempt to actively re-authenticate the
	// End-User."
	stale := u != nil && ar.MaxAge >= 0 && pg.clock.Now().Sub(sess.AuthTime) > time.Duration(ar.MaxAge)*time.Second
	switch {
	case stale && ar.HasPrompt("none"):
		pg.authorizeError(w, r, ar, protocol.NewError(protocol.ErrLoginRequired, "the sign-in is older than max_age"), post)
		return
	case stale:
		webpage.Redirect(w, pg.loginURL(pg.at(PathAuthorize)+"?"+ar.Continuation().Encode(), true), http.StatusFound)
		return
	case u == nil && ar.HasPrompt("none"):
		// OIDC Core §3.1.2.1: with prompt=none the server "MUST NOT
		// display any authentication or consent user interface pages".
		pg.authorizeError(w, r, ar, protocol.NewError(protocol.ErrLoginRequired, "the user is not signed in"), post)
		return
	case post && u == nil:
		webpage.Redirect(w, pg.loginURL(pg.at(PathAuthorize)+"?"+ar.Continuation().Encode(), false), http.StatusSeeOther)
		return
	case !post && (u == nil || ar.HasPrompt("login")):
		to, err := pg.authorizeLoginURL(r, ar)
		if err != nil {
			pg.authorizeServerError(w, r, ar, err, post)
			return
		}
		webpage.Redirect(w, to, http.StatusFound)
		return
	}

	if post {
		switch q.Get("decision") {
		case "allow":
			if err := pg.grantConsent(r, ar, u); err != nil {
				pg.authorizeServerError(w, r, ar, err, post)
				return
			}
		case "deny":
			pg.authorizeError(w, r, ar, protocol.NewError(protocol.ErrAccessDenied, "the user denied the request"), post)
			return
		default:
			pg.pages.Error(w, r, http.StatusBadRequest, "Choose Allow or Deny", "The form did not say whether to allow or deny. Go back and choose Allow or Deny.")
			return
		}
	} else {
		need, err := pg.needsConsent(ctx, ar, u)
		if err != nil {
			pg.authorizeServerError(w, r, ar, err, post)
			return
		}
		if need {
			if ar.HasPrompt("none") {
				pg.authorizeError(w, r, ar, protocol.NewError(protocol.ErrConsentRequired, "the user has not allowed this client"), post)
				return
			}
			pg.renderConsent(w, r, ar, u)
			return
		}
	}
	pg.issueCode(w, r, ar, u, sess, post)
}

// authorizeClient reads client_id and redirect_uri, or client_id and a
// pushed request_uri (RFC 9126 §4). A *protocol.Error result is for the
// error page: nothing here may redirect.
func (pg *Pages) authorizeClient(r *http.Request, q url.Values) (*oauth.AuthorizeRequest, *protocol.Error, error) {
	for _, p := range []string{"client_id", "redirect_uri", "request_uri"} {
		if len(q[p]) > 1 {
			return nil, protocol.Errorf(protocol.ErrInvalidRequest, "%s is repeated", p), nil
		}
	}
	id := q.Get("client_id")
	if id == "" {
		return nil, protocol.NewError(protocol.ErrInvalidRequest, "client_id is required"), nil
	}
	c, err := pg.store.GetClient(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, protocol.NewError(protocol.ErrInvalidClient, "unknown client"), nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("server: authorize: get client: %w", err)
	}
	if q.Has("request_uri") {
		return pg.oauth().OpenPushedRequest(r.Context(), c, q)
	}
	if pg.oauth().RequirePAR(c) {
		// RFC 9126 §5: a server or client that requires PAR "MUST reject
		// authorization requests without request_uri". The request may be
		// forged, so it is refused here and never redirected.
		return nil, protocol.NewError(protocol.ErrInvalidRequest,
			"this client must push its authorization requests to the pushed_authorization_request_endpoint first (RFC 9126) and send only client_id and request_uri here"), nil
	}
	return oauth.NewAuthorizeRequest(c, q)
}

// authorizeLoginURL sends the browser to the login page and back to this
// request. With prompt=login the login form is shown even to a signed-in
// browser, and "login" is dropped from the request it returns to, so the
// fresh sign-in is not asked for again; for a pushed request it is dropped
// from the stored parameters.
func (pg *Pages) authorizeLoginURL(r *http.Request, ar *oauth.AuthorizeRequest) (string, error) {
	if !ar.HasPrompt("login") {
		if ar.RequestURI != "" {
			return pg.loginURL(pg.at(PathAuthorize)+"?"+ar.Continuation().Encode(), false), nil
		}
		return pg.loginURL(r.URL.RequestURI(), false), nil // the path already has the base
	}
	q := r.URL.Query()
	if ar.RequestURI != "" {
		q = ar.Params
	}
	rest := slices.DeleteFunc(slices.Clone(ar.Prompt), func(p string) bool { return p == "login" })
	if len(rest) == 0 {
		q.Del("prompt")
	} else {
		q.Set("prompt", strings.Join(rest, " "))
	}
	if ar.RequestURI != "" {
		if err := pg.oauth().SetPushedParams(r.Context(), ar, q); err != nil {
			return "", err
		}
		q = ar.Continuation()
	}
	return pg.loginURL(pg.at(PathAuthorize)+"?"+q.Encode(), true), nil
}

// issueCode stores a new authorization code and sends it to the client.
func (pg *Pages) issueCode(w http.ResponseWriter, r *http.Request, ar *oauth.AuthorizeRequest, u *storage.User, sess *storage.Session, post bool) {
	tok := secret.NewToken()
	now := pg.clock.Now().UTC()
	code := &storage.AuthCode{
		Hash:                secret.Hash(tok),
		ClientID:            ar.Client.ID,
		UserID:              u.ID,
		RedirectURI:         ar.RedirectParam,
		Scopes:              ar.Scopes,
		CodeChallenge:       ar.Challenge,
		CodeChallengeMethod: ar.Method,
		Nonce:               ar.Nonce,
		DPoPJKT:             ar.DPoPJKT,
		Resources:           ar.Resources,
		AuthTime:            sess.AuthTime,
		ExpiresAt:           now.Add(time.Duration(pg.cfg.Tokens.CodeTTL)),
		CreatedAt:           now,
	}
	// The pushed request_uri is spent with the code (RFC 9126 §4); of two
	// tabs racing with it, one gets the code.
	if perr, err := pg.oauth().SpendPushedRequest(r.Context(), ar); err != nil {
		pg.authorizeServerError(w, r, ar, err, post)
		return
	} else if perr != nil {
		pg.pages.RequestError(w, r, "Sign-in cannot go on", perr)
		return
	}
	if err := pg.store.CreateAuthCode(r.Context(), code); err != nil {
		pg.authorizeServerError(w, r, ar, fmt.Errorf("server: authorize: store code: %w", err), post)
		return
	}
	resp := url.Values{"code": {tok}}
	pg.authorizeRespond(w, ar, resp, post)
}

// authorizeError sends an error response to the client's redirect URI
// (RFC 6749 §4.1.2.1). A pushed request_uri is spent by it too; if it
// was spent already (another tab answered), the error page says so.
func (pg *Pages) authorizeError(w http.ResponseWriter, r *http.Request, ar *oauth.AuthorizeRequest, pe *protocol.Error, post bool) {
	if perr, err := pg.oauth().SpendPushedRequest(r.Context(), ar); err != nil {
		pg.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	} else if perr != nil {
		pg.pages.RequestError(w, r, "Sign-in cannot go on", perr)
		return
	}
	resp := url.Values{"error": {pe.Code}}
	if pe.Description != "" {
		resp.Set("error_description", pe.Description)
	}
	pg.authorizeRespond(w, ar, resp, post)
}

// authorizeServerError logs err and redirects server_error to the client.
func (pg *Pages) authorizeServerError(w http.ResponseWriter, r *http.Request, ar *oauth.AuthorizeRequest, err error, post bool) {
	pg.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	pg.authorizeError(w, r, ar, protocol.NewError(protocol.ErrServerError, ""), post)
}

// authorizeRespond redirects to the client with resp plus state (RFC 6749
// §4.1.2: "REQUIRED if the state parameter was present in the client
// authorization request") and iss (RFC 9207 §2). After a form POST the
// redirect is a 303 so that the browser does not re-post the form to the
// client (RFC 9700 §4.12).
func (pg *Pages) authorizeRespond(w http.ResponseWriter, ar *oauth.AuthorizeRequest, resp url.Values, post bool) {
	if ar.Params.Has("state") {
		resp.Set("state", ar.Params.Get("state"))
	}
	resp.Set("iss", pg.issuer)
	status := http.StatusFound
	if post {
		status = http.StatusSeeOther
	}
	webpage.Redirect(w, withQuery(ar.RedirectURI, resp), status)
}
