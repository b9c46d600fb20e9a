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
func (s *Pages) safeReturnTo(p string) bool { return safeReturnTo(s.base, p) }

// loginURL is the login page that returns to returnTo (a path that
// already carries the base path) afterwards.
func (s *Pages) loginURL(returnTo string, force bool) string {
	q := url.Values{"return_to": {returnTo}}
	if force {
		q.Set("prompt", "login")
	}
	return s.at(PathLogin) + "?" + q.Encode()
}

func (s *Pages) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	returnTo := q.Get("return_to")
	if !s.safeReturnTo(returnTo) {
		returnTo = ""
	}
	u, _, err := s.sessions.CurrentUser(r)
	if err != nil {
		s.pages.ServerError(w, r, err)
		return
	}
	if u != nil && q.Get("prompt") != "login" {
		s.pages.Render(w, http.StatusOK, pageSignedIn, signedInPage{
			page:     page{Title: "Signed in"},
			Username: u.Username,
			ReturnTo: returnTo,
		})
		return
	}
	s.renderLogin(w, r, http.StatusOK, loginPage{ReturnTo: returnTo})
}

// renderLogin shows the login form. When the login continues an
// authorization request, the form may end in a redirect to that client, so
// its origin joins form-action.
func (s *Pages) renderLogin(w http.ResponseWriter, r *http.Request, status int, d loginPage) {
	d.Passkeys = s.passkeysOn()
	d.page = page{Title: "Sign in", CSRF: s.sessions.CSRFToken(w, r), Script: d.Passkeys}
	d.Connectors, d.Directories = s.loginConnectors(d.ReturnTo)
	s.pages.Render(w, status, pageLogin, d, s.authorizeTargetOrigin(r.Context(), d.ReturnTo))
}

// authorizeTargetOrigin is the redirect origin of the authorization
// request in returnTo, or "" if returnTo is not a valid one.
func (s *Pages) authorizeTargetOrigin(ctx context.Context, returnTo string) string {
	u, err := url.Parse(returnTo)
	if returnTo == "" || err != nil || u.Path != s.at(PathAuthorize) {
		return ""
	}
	q := u.Query()
	c, err := s.store.GetClient(ctx, q.Get("client_id"))
	if err != nil {
		return ""
	}
	if q.Has("request_uri") {
		// A pushed request (RFC 9126): its redirect URI is in the store.
		if q = s.oauth().PeekPushedParams(ctx, c, q.Get("request_uri")); q == nil {
			return ""
		}
	}
	ru, perr := oauth.ResolveRedirectURI(c, q.Get("redirect_uri"), q.Has("redirect_uri"))
	if perr != nil {
		return ""
	}
	return redirectOrigin(ru)
}

func (s *Pages) handleLoginSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.sessions.ParsePostForm(w, r) {
		return
	}
	ctx := r.Context()
	typed := r.PostFormValue("username")
	pw := r.PostFormValue("password")
	rawReturn := r.PostFormValue("return_to")
	returnTo := rawReturn
	if !s.safeReturnTo(returnTo) {
		returnTo = ""
	}
	name := signInName(typed)
	ip := s.clientIP(r)

	// Both limits are taken before the password is hashed; a limiter
	// failure refuses the login (fail closed).
	refused, limit, err := s.takeLoginLimits(ctx, ip, name)
	if err != nil {
		s.log.Error("login rate limiter failed", "err", err)
		s.pages.Error(w, r, http.StatusServiceUnavailable, "Try again later",
			"Sign-in is temporarily unavailable. Please try again in a moment.")
		return
	}
	if refused != nil {
		s.audit.Log(audit.Event{Type: audit.LoginRateLimited, Outcome: audit.Failure,
			Username: name, IP: ip, Reason: limit})
		s.pages.TooMany(w, r, oauth.TooManyRequests(*refused).RetryAfter)
		return
	}

	u, reason, err := s.checkPassword(linking.WithIP(ctx, ip), name, pw)
	if errors.Is(err, connector.ErrUnavailable) {
		s.audit.Log(audit.Event{Type: audit.LoginFailure, Outcome: audit.Failure, Username: name, IP: ip, Reason: "directory_unavailable"})
		w.Header().Set("Retry-After", "30")
		s.pages.Error(w, r, http.StatusServiceUnavailable, "Directory unavailable",
			"The directory that checks your password cannot be reached right now. Try again in a moment; "+
				"if this keeps happening, tell whoever runs this sign-in page.")
		return
	}
	if err != nil {
		s.pages.ServerError(w, r, err)
		return
	}
	if reason != "" {
		ev := audit.Event{Type: audit.LoginFailure, Outcome: audit.Failure, Username: name, IP: ip, Reason: reason}
		if u != nil {
			ev.UserID = u.ID
		}
		s.audit.Log(ev)
		s.renderLogin(w, r, http.StatusUnauthorized, loginPage{Username: typed, ReturnTo: returnTo, Error: msgInvalidLogin})
		return
	}
	if s.loginNeedsMFA(w, r, u, rawReturn) {
		return // second step (mfa.go)
	}
	if err := s.sessions.Start(w, r, u); err != nil {
		s.pages.ServerError(w, r, err)
		return
	}
	ev := audit.Event{Type: audit.LoginSuccess, Outcome: audit.Success,
		Actor: "user:" + u.ID, UserID: u.ID, Username: u.Username, IP: ip}
	if u.ConnectorID != "" {
		ev.Details = map[string]string{"connector": u.ConnectorID}
	}
	s.audit.Log(ev)
	s.upgradeHash(ctx, u, pw)
	webpage.Redirect(w, s.afterLogin(rawReturn), http.StatusSeeOther)
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
func (s *Pages) checkPassword(ctx context.Context, name, pw string) (u *storage.User, reason string, err error) {
	u, err = s.store.GetUserByName(ctx, name)
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
		s.hasher.VerifyDummy(ctx, pw)
	} else {
		ok, err := s.hasher.Verify(ctx, u.PasswordHash, pw)
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
	cu, creason, err := s.connectorLogin(ctx, u, name, pw)
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
func (s *Pages) connectorLogin(ctx context.Context, u *storage.User, name, pw string) (*storage.User, string, error) {
	conns := s.links.PasswordConnectors()
	if u != nil && u.ConnectorID != "" {
		c := s.links.ByID(u.ConnectorID)
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
			cu, err := s.links.User(ctx, c, id, linking.IPFromContext(ctx))
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
			s.log.Warn("directory unavailable at sign-in", "connector", c.ID, "err", err)
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
func (s *Pages) upgradeHash(ctx context.Context, u *storage.User, pw string) {
	if u.PasswordHash == "" || !s.hasher.NeedsRehash(u.PasswordHash) {
		return
	}
	h, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return
	}
	old := u.PasswordHash
	now := s.clock.Now().UTC()
	err = s.store.UpdateUser(ctx, u.ID, func(cur *storage.User) error {
		if cur.PasswordHash == old {
			cur.PasswordHash = h
			cur.UpdatedAt = now
		}
		return nil
	})
	if err != nil {
		s.log.Warn("password rehash failed", "user", u.ID, "err", err)
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
func (s *Pages) handleLogoutPage(w http.ResponseWriter, r *http.Request) {
	lr, perr, err := s.parseRPLogout(r, r.URL.Query())
	if err != nil {
		s.pages.ServerError(w, r, err)
		return
	}
	if perr != nil {
		s.pages.RequestError(w, r, "Sign-out cannot go on", perr)
		return
	}
	u, _, err := s.sessions.CurrentUser(r)
	if err != nil {
		s.pages.ServerError(w, r, err)
		return
	}
	if lr.redirectTo != "" && (u == nil || (lr.hintSubject != "" && lr.hintSubject == u.ID)) {
		if err := s.logout(w, r, u, lr); err != nil {
			s.pages.ServerError(w, r, err)
			return
		}
		s.finishRPLogout(w, lr, http.StatusFound)
		return
	}
	d := logoutPage{page: page{Title: "Sign out", CSRF: s.sessions.CSRFToken(w, r)}}
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
	s.pages.Render(w, http.StatusOK, pageLogout, d, actions...)
}

func (s *Pages) handleLogoutSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.sessions.ParsePostForm(w, r) {
		return
	}
	lr, perr, err := s.parseRPLogout(r, r.PostForm)
	if err != nil {
		s.pages.ServerError(w, r, err)
		return
	}
	if perr != nil {
		s.pages.RequestError(w, r, "Sign-out cannot go on", perr)
		return
	}
	u, _, err := s.sessions.CurrentUser(r)
	if err != nil {
		s.pages.ServerError(w, r, err)
		return
	}
	if err := s.logout(w, r, u, lr); err != nil {
		s.pages.ServerError(w, r, err)
		return
	}
	s.finishRPLogout(w, lr, http.StatusSeeOther)
}

// logout ends the browser session of u (nil: nobody signed in) and audits
// it, naming the application that asked when lr does.
func (s *Pages) logout(w http.ResponseWriter, r *http.Request, u *storage.User, lr *rpLogout) error {
	if err := s.sessions.End(w, r); err != nil {
		return err
	}
	if u != nil {
		e := audit.Event{Type: audit.Logout, Outcome: audit.Success,
			Actor: "user:" + u.ID, UserID: u.ID, Username: u.Username, IP: s.clientIP(r)}
		if lr != nil && lr.client != nil {
			e.ClientID = lr.client.ID
		}
		s.audit.Log(e)
	}
	return nil
}
