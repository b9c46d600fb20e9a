package pages

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/connector"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/linking"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/server/webpage"
)

// Sign-in at an upstream OpenID Connect provider ("Sign in with ...").
//
// GET /login/connector/{id} makes a fresh state, nonce and PKCE verifier,
// keeps them with the return_to in a cookie sealed with the server's
// secret key (like the pending MFA cookie, with its own additional data)
// that lives connectorPendingTTL, and sends the browser to the provider.
// GET /login/connector/{id}/callback accepts only a response whose state
// matches that cookie (which it clears: one use), lets the connector
// redeem the code and check the ID token, links or creates the user and
// applies the role rules (internal/server/linking), and then asks for the
// local TOTP code when mfa.required_roles or an enrolled TOTP say so, unless
// the connector has trust_upstream_mfa and the ID token's amr shows a
// second factor (upstreamMFA).

// PathLoginConnector is the prefix of the connector sign-in paths:
// PathLoginConnector + id, and + "/callback".
const PathLoginConnector = "/login/connector/"

const (
	connectorPendingCookie = "gatehouse_connector"
	connectorPendingTTL    = 10 * time.Minute
	connectorPendingAD     = "gatehouse-connector-pending"
)

// connectorPending is the sealed content of the connector cookie.
type connectorPending struct {
	ConnectorID string `json:"c"`
	State       string `json:"s"`
	Nonce       string `json:"n"`
	Verifier    string `json:"v"`
	ReturnTo    string `json:"r"`
	Expires     int64  `json:"e"`
}

// mfaAMR are the RFC 8176 authentication methods that show a factor
// beyond a password: "mfa" itself, one-time codes, hardware and software
// keys, smart cards and biometrics. SMS and telephone are not counted.
var mfaAMR = []string{"mfa", "otp", "hwk", "swk", "sc", "fpt", "face", "iris", "retina"}

// upstreamMFA reports whether amr shows a second factor.
func upstreamMFA(amr []string) bool {
	return slices.ContainsFunc(amr, func(m string) bool { return slices.Contains(mfaAMR, m) })
}

// connectorCallbackURL is the redirect URI registered at the provider for
// connector id.
func (pg *Pages) connectorCallbackURL(id string) string {
	return pg.issuer + PathLoginConnector + id + "/callback"
}

// connectorButton is a "Sign in with ..." link on the login page.
type connectorButton struct {
	Name string
	URL  string
}

// loginConnectors are the login page's connector links for returnTo, and
// the names of the directories the password form checks.
func (pg *Pages) loginConnectors(returnTo string) (buttons []connectorButton, directories []string) {
	for _, c := range pg.links.Connectors() {
		switch {
		case c.Redirect != nil:
			u := pg.at(PathLoginConnector + c.ID)
			if returnTo != "" {
				u += "?" + url.Values{"return_to": {returnTo}}.Encode()
			}
			buttons = append(buttons, connectorButton{Name: c.Name, URL: u})
		case c.Password != nil:
			directories = append(directories, c.Name)
		}
	}
	return buttons, directories
}

func (pg *Pages) handleConnectorStart(w http.ResponseWriter, r *http.Request) {
	c := pg.links.ByID(r.PathValue("id"))
	if c == nil || c.Redirect == nil {
		pg.renderConnectorError(w, r, http.StatusNotFound, "Unknown sign-in method", nil, "",
			"There is no such sign-in method here. Go back to the sign-in page and choose another.")
		return
	}
	returnTo := r.URL.Query().Get("return_to")
	if !pg.safeReturnTo(returnTo) {
		returnTo = ""
	}
	if pg.secretKey == nil {
		pg.pages.ServerError(w, r, errors.New("server: connector sign-in needs the secret key"))
		return
	}
	p := connectorPending{ConnectorID: c.ID, State: secret.NewToken(), Nonce: secret.NewToken(), Verifier: secret.NewToken(),
		ReturnTo: returnTo, Expires: pg.clock.Now().Add(connectorPendingTTL).Unix()}
	target, err := c.Redirect.AuthCodeURL(r.Context(), pg.pendingOf(c, &p))
	if err != nil {
		pg.connectorFailed(w, r, c, returnTo, err)
		return
	}
	if err := pg.sessions.SetSealed(w, connectorPendingCookie, connectorPendingAD, p, connectorPendingTTL); err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	webpage.Redirect(w, target, http.StatusSeeOther)
}

// pendingOf is the connector.Pending of p.
func (pg *Pages) pendingOf(c *linking.Connector, p *connectorPending) connector.Pending {
	return connector.Pending{State: p.State, Nonce: p.Nonce, CodeVerifier: p.Verifier, RedirectURI: pg.connectorCallbackURL(c.ID)}
}

// connectorPendingOf returns the browser's unexpired connector sign-in, or
// nil.
func (pg *Pages) connectorPendingOf(r *http.Request) *connectorPending {
	var p connectorPending
	if !pg.sessions.Sealed(r, connectorPendingCookie, connectorPendingAD, &p) || pg.clock.Now().Unix() >= p.Expires {
		return nil
	}
	return &p
}

func (pg *Pages) handleConnectorCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ip := pg.clientIP(r)
	c := pg.links.ByID(r.PathValue("id"))
	if c == nil || c.Redirect == nil {
		pg.renderConnectorError(w, r, http.StatusNotFound, "Unknown sign-in method", nil, "",
			"There is no such sign-in method here. Go back to the sign-in page and choose another.")
		return
	}
	res, err := pg.allow(ctx, LimitLoginIP, ip, pg.cfg.Limits.LoginPerIP)
	if err != nil {
		pg.log.Error("login rate limiter failed", "err", err)
		pg.pages.Error(w, r, http.StatusServiceUnavailable, "Try again later",
			"Sign-in is temporarily unavailable. Please try again in a moment.")
		return
	}
	if !res.Allowed {
		pg.audit.Log(audit.Event{Type: audit.LoginRateLimited, Outcome: audit.Failure, IP: ip, Reason: LimitLoginIP,
			Details: map[string]string{"connector": c.ID}})
		pg.pages.TooMany(w, r, oauth.TooManyRequests(res).RetryAfter)
		return
	}
	q := r.URL.Query()
	p := pg.connectorPendingOf(r)
	if p == nil || p.ConnectorID != c.ID || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(p.State)) != 1 {
		reason := "state_mismatch"
		if p == nil {
			reason = "no_pending_sign_in"
		}
		pg.audit.Log(audit.Event{Type: audit.LoginFailure, Outcome: audit.Failure, IP: ip, Reason: reason,
			Details: map[string]string{"connector": c.ID}})
		pg.renderConnectorError(w, r, http.StatusBadRequest, "Sign-in expired", c, "",
			"This sign-in was started in another browser or tab, or too long ago. Start again from the sign-in page.")
		return
	}
	// One use: whatever happens next, this state is spent.
	pg.sessions.ClearCookie(w, connectorPendingCookie)

	id, err := c.Redirect.Exchange(ctx, q, pg.pendingOf(c, p))
	if err != nil {
		pg.audit.Log(audit.Event{Type: audit.LoginFailure, Outcome: audit.Failure, IP: ip, Reason: connectorReason(err),
			Details: map[string]string{"connector": c.ID, "error": q.Get("error")}})
		pg.connectorFailed(w, r, c, p.ReturnTo, err)
		return
	}
	id.ConnectorID = c.ID
	u, err := pg.links.User(ctx, c, id, ip)
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	if u.Disabled {
		pg.audit.Log(audit.Event{Type: audit.LoginFailure, Outcome: audit.Failure, UserID: u.ID, Username: u.Username,
			IP: ip, Reason: "disabled", Details: map[string]string{"connector": c.ID}})
		pg.renderConnectorError(w, r, http.StatusForbidden, "Account disabled", c, p.ReturnTo,
			"Your account here is disabled. Ask whoever runs this server to enable it.")
		return
	}
	details := map[string]string{"connector": c.ID}
	if c.TrustUpstreamMFA && upstreamMFA(id.AMR) {
		details["mfa"] = "upstream"
	} else if pg.loginNeedsMFA(w, r, u, p.ReturnTo) {
		return // second step (mfa.go)
	}
	if err := pg.sessions.Start(w, r, u); err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	pg.audit.Log(audit.Event{Type: audit.LoginSuccess, Outcome: audit.Success,
		Actor: "user:" + u.ID, UserID: u.ID, Username: u.Username, IP: ip, Details: details})
	webpage.Redirect(w, pg.afterLogin(p.ReturnTo), http.StatusSeeOther)
}

// connectorReason is the audit reason of a connector error.
func connectorReason(err error) string {
	switch {
	case errors.Is(err, connector.ErrNotAllowed):
		return "not_allowed"
	case errors.Is(err, connector.ErrUnavailable):
		return "upstream_unavailable"
	case errors.Is(err, connector.ErrInvalidCredentials):
		return "upstream_refused"
	}
	return "upstream_error"
}

// connectorFailed shows the page for a connector error: refused (401),
// not allowed (403), unavailable (503), each with a way back to the
// sign-in page.
func (pg *Pages) connectorFailed(w http.ResponseWriter, r *http.Request, c *linking.Connector, returnTo string, err error) {
	switch {
	case errors.Is(err, connector.ErrNotAllowed):
		pg.renderConnectorError(w, r, http.StatusForbidden, "Account not allowed", c, returnTo,
			fmt.Sprintf("%s vouched for you, but this server does not accept that account (for example, its email domain). Sign in with another account.", c.Name), "err", err)
	case errors.Is(err, connector.ErrUnavailable):
		w.Header().Set("Retry-After", "30")
		pg.renderConnectorError(w, r, http.StatusServiceUnavailable, "Sign-in provider unavailable", c, returnTo,
			fmt.Sprintf("%s cannot be reached right now. Try again in a moment, or sign in another way.", c.Name), "err", err)
	case errors.Is(err, connector.ErrInvalidCredentials):
		pg.renderConnectorError(w, r, http.StatusUnauthorized, "Sign-in not completed", c, returnTo,
			fmt.Sprintf("%s did not sign you in (it was cancelled or refused). Go back to the sign-in page to try again.", c.Name), "err", err)
	default:
		pg.pages.ServerError(w, r, err)
	}
}

// renderConnectorError shows the error page with a link back to the
// sign-in page (keeping returnTo).
func (pg *Pages) renderConnectorError(w http.ResponseWriter, r *http.Request, status int, title string, c *linking.Connector, returnTo, message string, logArgs ...any) {
	back := pg.at(PathLogin)
	if returnTo != "" {
		back = pg.loginURL(returnTo, false)
	}
	if c != nil {
		logArgs = append(logArgs, "connector", c.ID)
	}
	pg.pages.ShowError(w, r, status, errorPage{Page: page{Title: title}, Message: message, Back: back}, logArgs...)
}

// connectorRoutes registers the connector sign-in pages.
func (pg *Pages) connectorRoutes(page func(pattern, route string, h http.HandlerFunc)) {
	page("GET "+PathLoginConnector+"{id}", "login_connector", pg.handleConnectorStart)
	page("GET "+PathLoginConnector+"{id}/callback", "login_connector_callback", pg.handleConnectorCallback)
}
