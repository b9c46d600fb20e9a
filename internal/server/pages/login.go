package pages

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/connector"
	"github.com/gatehouse-auth/gatehouse/internal/server/linking"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/server/webpage"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// Login and logout pages.
//
// Brute force (SECURITY-CASES 30): every attempt is counted per client IP
// and per normalised username before any password hashing, so username
// variants ("Alice", " alice ") share one counter and a flood costs no
// argon2 work. An unknown username is verified against a dummy hash, so it
// takes as long as a wrong password and gets the same message.

// maxUsernameLen bounds what is hashed, looked up and used as a rate-limit
// key; no stored username is longer.
const maxUsernameLen = 256

// signInName is the typed username as sign-ins look it up and key their
// rate limits by: normalised, and cut at maxUsernameLen.
func signInName(typed string) string {
	name := normalizeUsername(typed)
	if len(name) > maxUsernameLen {
		name = name[:maxUsernameLen]
	}
	return name
}

const msgInvalidLogin = "Invalid username or password."

// loginPage is the data of the login form.
type loginPage struct {
	page
	Username string
	ReturnTo string
	Error    string
	// Passkeys offers "Sign in with a passkey".
	Passkeys bool
	// Connectors are the "Sign in with ..." links (OpenID Connect).
	Connectors []connectorButton
	// Directories name the LDAP directories the password form checks.
	Directories []string
}

// signedInPage is shown at /login to a browser that is already signed in.
type signedInPage struct {
	page
	Username string
	ReturnTo string
}

// normalizeUsername is the form usernames are stored, looked up and rate
// limited in.
func normalizeUsername(u string) string { return strings.ToLower(strings.TrimSpace(u)) }

// safeReturnTo reports whether p may be the target of the redirect after
// login: a path on this server, under its base path. It must start with
// "/" but not "//" or "/\" (both mean another host to a browser), have no
// scheme or host, and no control characters (browsers drop tabs and
// newlines, turning "/\t/x" into "//x"). With a base path, the path must
// stay under it as a browser resolves it: "." and ".." segments (also
// percent-encoded) and backslashes, which browsers read as "/", are
// resolved before the check, so "/base/../app" is refused.
func safeReturnTo(base, p string) bool {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] == 0x7f {
			return false
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return false
	}
	if base == "" {
		return true
	}
	resolved := path.Clean(strings.ReplaceAll(u.Path, "\\", "/"))
	return strings.HasPrefix(u.Path, base+"/") && (resolved == base || strings.HasPrefix(resolved, base+"/"))
}

// safeReturnTo reports whether p may be the target of the redirect after
// login (the package function with the server's base path).
func (pg *Pages) safeReturnTo(p string) bool { return safeReturnTo(pg.base, p) }

// loginURL is the login page that returns to returnTo (a path that
// already carries the base path) afterwards.
func (pg *Pages) loginURL(returnTo string, force bool) string {
	q := url.Values{"return_to": {returnTo}}
	if force {
		q.Set("prompt", "login")
	}
	return pg.at(PathLogin) + "?" + q.Encode()
}

func (pg *Pages) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	returnTo := q.Get("return_to")
	if !pg.safeReturnTo(returnTo) {
		returnTo = ""
	}
	u, _, err := pg.sessions.CurrentUser(r)
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	if u != nil && q.Get("prompt") != "login" {
		pg.pages.Render(w, http.StatusOK, pageSignedIn, signedInPage{
			page:     page{Title: "Signed in"},
			Username: u.Username,
			ReturnTo: returnTo,
		})
		return
	}
	pg.renderLogin(w, r, http.StatusOK, loginPage{ReturnTo: returnTo})
}

// renderLogin shows the login form. When the login continues an
// authorization request, the form may end in a redirect to that client, so
// its origin joins form-action.
func (pg *Pages) renderLogin(w http.ResponseWriter, r *http.Request, status int, d loginPage) {
	d.Passkeys = pg.passkeysOn()
	d.page = page{Title: "Sign in", CSRF: pg.sessions.CSRFToken(w, r), Script: d.Passkeys}
	d.Connectors, d.Directories = pg.loginConnectors(d.ReturnTo)
	pg.pages.Render(w, status, pageLogin, d, pg.authorizeTargetOrigin(r.Context(), d.ReturnTo))
}

// authorizeTargetOrigin is the redirect origin of the authorization
// request in returnTo, or "" if returnTo is not a valid one.
func (pg *Pages) authorizeTargetOrigin(ctx context.Context, returnTo string) string {
	u, err := url.Parse(returnTo)
	if returnTo == "" || err != nil || u.Path != pg.at(PathAuthorize) {
		return ""
	}
	q := u.Query()
	c, err := pg.store.GetClient(ctx, q.Get("client_id"))
	if err != nil {
		return ""
	}
	if q.Has("request_uri") {
		// A pushed request (RFC 9126): its redirect URI is in the store.
		if q = pg.oauth().PeekPushedParams(ctx, c, q.Get("request_uri")); q == nil {
			return ""
		}
	}
	ru, perr := oauth.ResolveRedirectURI(c, q.Get("redirect_uri"), q.Has("redirect_uri"))
	if perr != nil {
		return ""
	}
	return redirectOrigin(ru)
}

func (pg *Pages) handleLoginSubmit(w http.ResponseWriter, r *http.Request) {
	if !pg.sessions.ParsePostForm(w, r) {
		return
	}
	ctx := r.Context()
	typed := r.PostFormValue("username")
	pw := r.PostFormValue("password")
	rawReturn := r.PostFormValue("return_to")
	returnTo := rawReturn
	if !pg.safeReturnTo(returnTo) {
		returnTo = ""
	}
	name := signInName(typed)
	ip := pg.clientIP(r)

	// Both limits are taken before the password is hashed; a limiter
	// failure refuses the login (fail closed).
	refused, limit, err := pg.takeLoginLimits(ctx, ip, name)
	if err != nil {
		pg.log.Error("login rate limiter failed", "err", err)
		pg.pages.Error(w, r, http.StatusServiceUnavailable, "Try again later",
			"Sign-in is temporarily unavailable. Please try again in a moment.")
		return
	}
	if refused != nil {
		pg.audit.Log(audit.Event{Type: audit.LoginRateLimited, Outcome: audit.Failure,
			Username: name, IP: ip, Reason: limit})
		pg.pages.TooMany(w, r, oauth.TooManyRequests(*refused).RetryAfter)
		return
	}

	u, reason, err := pg.checkPassword(linking.WithIP(ctx, ip), name, pw)
	if errors.Is(err, connector.ErrUnavailable) {
		pg.audit.Log(audit.Event{Type: audit.LoginFailure, Outcome: audit.Failure, Username: name, IP: ip, Reason: "directory_unavailable"})
		w.Header().Set("Retry-After", "30")
		pg.pages.Error(w, r, http.StatusServiceUnavailable, "Directory unavailable",
			"The directory that checks your password cannot be reached right now. Try again in a moment; "+
				"if this keeps happening, tell whoever runs this sign-in page.")
		return
	}
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	if reason != "" {
		ev := audit.Event{Type: audit.LoginFailure, Outcome: audit.Failure, Username: name, IP: ip, Reason: reason}
		if u != nil {
			ev.UserID = u.ID
		}
		pg.audit.Log(ev)
		pg.renderLogin(w, r, http.StatusUnauthorized, loginPage{Username: typed, ReturnTo: returnTo, Error: msgInvalidLogin})
		return
	}
	if pg.loginNeedsMFA(w, r, u, rawReturn) {
		return // second step (mfa.go)
	}
	if err := pg.sessions.Start(w, r, u); err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	ev := audit.Event{Type: audit.LoginSuccess, Outcome: audit.Success,
		Actor: "user:" + u.ID, UserID: u.ID, Username: u.Username, IP: ip}
	if u.ConnectorID != "" {
		ev.Details = map[string]string{"connector": u.ConnectorID}
	}
	pg.audit.Log(ev)
	pg.upgradeHash(ctx, u, pw)
	webpage.Redirect(w, pg.afterLogin(rawReturn), http.StatusSeeOther)
}

// checkPassword verifies name and password, for the login page and the
// password grant. reason is empty on success and otherwise says why for
// the audit trail (the user only ever sees one generic message). u is
// returned when the user exists.
//
// A local user with a password is checked locally first. Then, if the
// local check did not succeed and LDAP connectors are configured, the
// password is checked at the directory: at the user's own connector for a
// connector user, else at each LDAP connector in configuration order until
// one knows the person (connectorLogin). The argon2 work is done for
// every attempt (against a dummy hash when there is no local password), so
// timing does not tell which local usernames exist. When no directory
// could say yes and one of them could not be asked, err wraps
// connector.ErrUnavailable (the login page answers 503).
func (pg *Pages) checkPassword(ctx context.Context, name, pw string) (u *storage.User, reason string, err error) {
	u, err = pg.store.GetUserByName(ctx, name)
	if errors.Is(err, storage.ErrNotFound) {
		u, err = nil, nil
	}
	if err != nil {
		return nil, "", err
	}
	reason = "unknown_user"
	if u == nil || u.PasswordHash == "" {
		// Same argon2 work as a real check, so timing does not tell
		// which usernames exist.
		pg.hasher.VerifyDummy(ctx, pw)
	} else {
		ok, err := pg.hasher.Verify(ctx, u.PasswordHash, pw)
		if err != nil {
			return nil, "", err
		}
		switch {
		case ok && u.Disabled:
			return u, "disabled", nil
		case ok:
			return u, "", nil
		}
		reason = "bad_password"
	}
	if u != nil && u.ConnectorID != "" {
		reason = "bad_password"
	}
	cu, creason, err := pg.connectorLogin(ctx, u, name, pw)
	if err != nil {
		return u, "", err
	}
	if cu != nil {
		return cu, creason, nil
	}
	return u, reason, nil
}

// connectorLogin checks name and password at the LDAP connectors: only
// at the connector of u when u is a connector user, else at each in turn.
// On success it returns the linked user (linking.Linker.User) and reason "" or
// "disabled"; when no directory vouched it returns a nil user, and an
// error wrapping connector.ErrUnavailable if a directory could not be
// asked.
func (pg *Pages) connectorLogin(ctx context.Context, u *storage.User, name, pw string) (*storage.User, string, error) {
	conns := pg.links.PasswordConnectors()
	if u != nil && u.ConnectorID != "" {
		c := pg.links.ByID(u.ConnectorID)
		if c == nil || c.Password == nil {
			return nil, "", nil
		}
		conns = []*linking.Connector{c}
	}
	if len(conns) == 0 || pw == "" || name == "" {
		return nil, "", nil
	}
	var unavailable error
	for _, c := range conns {
		cctx, cancel := context.WithTimeout(ctx, linking.CallTimeout)
		id, err := c.Password.Login(cctx, name, pw)
		cancel()
		switch {
		case err == nil:
			id.ConnectorID = c.ID
			cu, err := pg.links.User(ctx, c, id, linking.IPFromContext(ctx))
			if err != nil {
				return nil, "", err
			}
			if cu.Disabled {
				return cu, "disabled", nil
			}
			return cu, "", nil
		case errors.Is(err, connector.ErrInvalidCredentials), errors.Is(err, connector.ErrNotFound), errors.Is(err, connector.ErrNotAllowed):
			continue
		case ctx.Err() != nil:
			return nil, "", ctx.Err()
		default:
			pg.log.Warn("directory unavailable at sign-in", "connector", c.ID, "err", err)
			if unavailable == nil {
				unavailable = fmt.Errorf("server: connector %s: %w", c.ID, errors.Join(connector.ErrUnavailable, err))
			}
		}
	}
	return nil, "", unavailable
}

// upgradeHash re-hashes a correct password stored with outdated argon2
// parameters. Failures only cost the upgrade. A user without a local
// password (one a directory signs in) never gets one from a sign-in: the
// directory's password is never kept here.
func (pg *Pages) upgradeHash(ctx context.Context, u *storage.User, pw string) {
	if u.PasswordHash == "" || !pg.hasher.NeedsRehash(u.PasswordHash) {
		return
	}
	h, err := pg.hasher.Hash(ctx, pw)
	if err != nil {
		return
	}
	old := u.PasswordHash
	now := pg.clock.Now().UTC()
	err = pg.store.UpdateUser(ctx, u.ID, func(cur *storage.User) error {
		if cur.PasswordHash == old {
			cur.PasswordHash = h
			cur.UpdatedAt = now
		}
		return nil
	})
	if err != nil {
		pg.log.Warn("password rehash failed", "user", u.ID, "err", err)
	}
}

// logoutPage is the data of the sign-out confirmation.
type logoutPage struct {
	page
	Username string
	// ClientName names the application that asked for the sign-out.
	ClientName string
	Params     []hiddenField
}

// handleLogoutPage asks the user to confirm the sign-out. With the
// parameters of RP-Initiated Logout (logout_rp.go) and a valid
// id_token_hint of the signed-in user (or nobody signed in) it signs out
// at once and sends the browser back to the application.
func (pg *Pages) handleLogoutPage(w http.ResponseWriter, r *http.Request) {
	lr, u, ok := pg.logoutRequest(w, r, r.URL.Query())
	if !ok {
		return
	}
	if lr.redirectTo != "" && (u == nil || (lr.hintSubject != "" && lr.hintSubject == u.ID)) {
		if err := pg.logout(w, r, u, lr); err != nil {
			pg.pages.ServerError(w, r, err)
			return
		}
		pg.finishRPLogout(w, lr, http.StatusFound)
		return
	}
	d := logoutPage{page: page{Title: "Sign out", CSRF: pg.sessions.CSRFToken(w, r)}}
	if u != nil {
		d.Username = u.Username
	}
	if lr.client != nil {
		d.ClientName = clientDisplayName(lr.client)
	}
	for _, p := range rpLogoutParams {
		if lr.params.Has(p) {
			d.Params = append(d.Params, hiddenField{Name: p, Value: lr.params.Get(p)})
		}
	}
	var actions []string
	if lr.redirectTo != "" {
		actions = append(actions, redirectOrigin(lr.redirectTo))
	}
	pg.pages.Render(w, http.StatusOK, pageLogout, d, actions...)
}

func (pg *Pages) handleLogoutSubmit(w http.ResponseWriter, r *http.Request) {
	if !pg.sessions.ParsePostForm(w, r) {
		return
	}
	lr, u, ok := pg.logoutRequest(w, r, r.PostForm)
	if !ok {
		return
	}
	if err := pg.logout(w, r, u, lr); err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	pg.finishRPLogout(w, lr, http.StatusSeeOther)
}

// logoutRequest reads a sign-out request (q: the query of the page, the
// form of the submit) and who is signed in. On failure it has answered:
// the error page for a request an application could not make.
func (pg *Pages) logoutRequest(w http.ResponseWriter, r *http.Request, q url.Values) (*rpLogout, *storage.User, bool) {
	lr, perr, err := pg.parseRPLogout(r, q)
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return nil, nil, false
	}
	if perr != nil {
		pg.pages.RequestError(w, r, "Sign-out cannot go on", perr)
		return nil, nil, false
	}
	u, _, err := pg.sessions.CurrentUser(r)
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return nil, nil, false
	}
	return lr, u, true
}

// logout ends the browser session of u (nil: nobody signed in) and audits
// it, naming the application that asked when lr does.
func (pg *Pages) logout(w http.ResponseWriter, r *http.Request, u *storage.User, lr *rpLogout) error {
	if err := pg.sessions.End(w, r); err != nil {
		return err
	}
	if u != nil {
		e := audit.Event{Type: audit.Logout, Outcome: audit.Success,
			Actor: "user:" + u.ID, UserID: u.ID, Username: u.Username, IP: pg.clientIP(r)}
		if lr != nil && lr.client != nil {
			e.ClientID = lr.client.ID
		}
		pg.audit.Log(e)
	}
	return nil
}
