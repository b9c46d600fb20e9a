package proxy

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/inbound"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
)

// loginTTL bounds the time between starting a login and its callback.
const loginTTL = 10 * time.Minute

// loginStateAD binds sealed login state to its purpose.
const loginStateAD = "gatehouse-proxy-login"

// loginState is what the gateway remembers between /login and /callback,
// sealed with the secret key in a cookie named after the state, so that
// logins started in several tabs do not overwrite each other.
type loginState struct {
	State    string `json:"s"`
	Verifier string `json:"v"`
	Nonce    string `json:"n"`
	Return   string `json:"r"`
	Expires  int64  `json:"e"`
}

func loginCookieFor(state string) string { return loginCookie + "_" + state[:12] }

// handleLogin starts a login at the issuer: GET /_gatehouse/login?rd=PATH.
func (g *Gateway) handleLogin(w http.ResponseWriter, r *http.Request) {
	if !g.allowLogin(w, r) {
		return
	}
	st := loginState{
		State:    secret.NewToken(),
		Verifier: oauth2.GenerateVerifier(),
		Nonce:    secret.NewToken(),
		Return:   inbound.RedirectTarget(r.URL.Query().Get("rd"), g.public.String()),
		Expires:  g.clock.Now().Add(loginTTL).Unix(),
	}
	b, _ := json.Marshal(st)
	sealed, err := g.key.Seal(b, []byte(loginStateAD))
	if err != nil {
		g.serverError(w, r, err)
		return
	}
	http.SetCookie(w, g.newCookie(loginCookieFor(st.State), base64.RawURLEncoding.EncodeToString(sealed), int(loginTTL/time.Second)))
	redirect(w, g.provider.AuthCodeURL(st.State, st.Nonce, st.Verifier))
}

// allowLogin applies the login rate limit per client IP. It fails closed:
// without a working limiter no login starts.
func (g *Gateway) allowLogin(w http.ResponseWriter, r *http.Request) bool {
	ip := g.clientIP(r)
	res, err := g.limiter.Allow(r.Context(), "proxy-login-ip:"+ip, limitOf(g.cfg.LoginRate))
	if err != nil {
		g.log.Error("login rate limiter unavailable", "err", err)
		g.writeStatus(w, r, http.StatusServiceUnavailable, "Try again later", "Sign-in is unavailable right now. Try again in a minute.")
		return false
	}
	if !res.Allowed {
		g.audit.Log(audit.Event{Type: audit.LoginRateLimited, Outcome: audit.Failure, IP: ip, Details: map[string]string{"component": "proxy"}})
		g.tooMany(w, r, res)
		return false
	}
	return true
}

// handleCallback finishes a login: GET /_gatehouse/callback?code&state.
func (g *Gateway) handleCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	stateParam := q.Get("state")
	st, ok := g.openLoginState(r, stateParam)
	if !ok {
		g.auditLoginFailure(r, "unknown or expired login state")
		g.writeStatus(w, r, http.StatusBadRequest, "Sign-in failed",
			"This sign-in link has expired or was not started in this browser. Go back to the application and try again.")
		return
	}
	http.SetCookie(w, g.newCookie(loginCookieFor(st.State), "", -1))
	// RFC 9207 §2.4: when the authorization response carries iss, it must
	// be the issuer the request was sent to (mix-up defence).
	if q.Has("iss") && q.Get("iss") != g.provider.Issuer() {
		g.auditLoginFailure(r, "issuer mismatch in the authorization response")
		g.writeStatus(w, r, http.StatusBadRequest, "Sign-in failed", "The sign-in answer came from an unexpected issuer.")
		return
	}
	if e := q.Get("error"); e != "" {
		g.auditLoginFailure(r, "issuer returned an error")
		msg := "Sign-in did not complete."
		if e == "access_denied" {
			msg = "Sign-in was cancelled or access was denied."
		}
		g.writeStatus(w, r, http.StatusForbidden, "Sign-in failed", msg)
		return
	}
	code := q.Get("code")
	if code == "" {
		g.auditLoginFailure(r, "callback without code")
		g.writeStatus(w, r, http.StatusBadRequest, "Sign-in failed", "The sign-in answer carried no code.")
		return
	}
	login, err := g.provider.Exchange(r.Context(), code, st.Verifier, st.Nonce)
	if err != nil {
		g.log.Warn("login: code exchange failed", "err", err)
		g.auditLoginFailure(r, "code exchange or ID token verification failed")
		g.writeStatus(w, r, http.StatusBadGateway, "Sign-in failed", "The sign-in could not be confirmed with the identity provider. Try again.")
		return
	}
	s, err := g.startSession(w, r, login)
	if err != nil {
		g.serverError(w, r, err)
		return
	}
	g.metrics.logins.Inc()
	g.audit.Log(audit.Event{Type: audit.LoginSuccess, Outcome: audit.Success, Actor: "user:" + s.UserID,
		UserID: s.UserID, Username: s.Username, IP: g.clientIP(r), Details: map[string]string{"component": "proxy"}})
	redirect(w, st.Return)
}

// openLoginState returns the sealed state of the login named by state if
// it is intact, unexpired and matches.
func (g *Gateway) openLoginState(r *http.Request, state string) (*loginState, bool) {
	if len(state) < 32 || len(state) > 128 {
		return nil, false
	}
	c, err := r.Cookie(g.cookieName(loginCookieFor(state)))
	if err != nil {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return nil, false
	}
	b, err := g.key.Open(raw, []byte(loginStateAD))
	if err != nil {
		return nil, false
	}
	var st loginState
	if json.Unmarshal(b, &st) != nil {
		return nil, false
	}
	if subtle.ConstantTimeCompare([]byte(st.State), []byte(state)) != 1 || g.clock.Now().Unix() >= st.Expires {
		return nil, false
	}
	return &st, true
}

func (g *Gateway) auditLoginFailure(r *http.Request, reason string) {
	g.audit.Log(audit.Event{Type: audit.LoginFailure, Outcome: audit.Failure, IP: g.clientIP(r), Reason: reason,
		Details: map[string]string{"component": "proxy"}})
}

// handleLogoutPage asks for confirmation: a logout is a POST, so a page
// elsewhere cannot sign the user out with an image tag.
func (g *Gateway) handleLogoutPage(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("done") {
		g.pages.render(w, http.StatusOK, pageSignedOut, pageData{Title: "Signed out", Brand: g.cfg.BrandName, Login: PathLogin})
		return
	}
	id, _ := g.identifySession(r)
	data := pageData{Title: "Sign out", Brand: g.cfg.BrandName, Return: inbound.RedirectTarget(r.URL.Query().Get("rd"), g.public.String())}
	if id != nil {
		data.User = id.Username
	}
	g.pages.render(w, http.StatusOK, pageLogout, data)
}

// handleLogout ends the session (and the embedded server's session) and
// clears the cookie.
func (g *Gateway) handleLogout(w http.ResponseWriter, r *http.Request) {
	id, _ := g.identifySession(r)
	if tok := g.sessionToken(r); tok != "" {
		g.sessions.delete(r.Context(), secret.Hash(tok))
	}
	http.SetCookie(w, g.newCookie(sessionCookie, "", -1))
	if g.endAuth != nil {
		g.endAuth(w, r)
	}
	if id != nil {
		g.audit.Log(audit.Event{Type: audit.Logout, Outcome: audit.Success, Actor: "user:" + id.Subject,
			UserID: id.Subject, Username: id.Username, IP: g.clientIP(r), Details: map[string]string{"component": "proxy"}})
	}
	_ = r.ParseForm()
	target := PathLogout + "?done=1"
	if rd := r.PostForm.Get("rd"); rd != "" && rd != "/" {
		target = inbound.RedirectTarget(rd, g.public.String())
	}
	redirect(w, target)
}

// redirect answers 303 See Other to loc, used exactly as given.
func redirect(w http.ResponseWriter, loc string) {
	h := w.Header()
	h.Set("Location", loc)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusSeeOther)
}

// loginURL is the gateway's login path returning to the given target.
func loginURL(target string) string {
	return PathLogin + "?" + url.Values{"rd": {target}}.Encode()
}

// limitOf converts a configured rate into a limiter Limit.
func limitOf(r config.Rate) ratelimit.Limit {
	return ratelimit.Limit{Rate: r.Requests, Per: time.Duration(r.Per), Burst: r.Burst}
}

func (g *Gateway) tooMany(w http.ResponseWriter, r *http.Request, res ratelimit.Result) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(res.RetryAfter.Seconds()))))
	g.writeStatus(w, r, http.StatusTooManyRequests, "Too many attempts", "Too many attempts. Wait a little and try again.")
}
