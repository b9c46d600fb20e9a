package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

// audience is a JWT aud, a string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

// userClaims are the ID token, userinfo and access token claims the
// interop tests look at.
type userClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience audience `json:"aud"`
	Nonce    string   `json:"nonce"`
	Username string   `json:"preferred_username"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope"`
	Roles    []string `json:"roles"`
	AuthTime int64    `json:"auth_time"`
}

// interopUser is the user the interop tests sign in as.
const (
	interopUser     = "carol"
	interopPassword = "carol-Interop-pa55"
)

// TestInteropOpenIDClient drives openid-client v6 (a certified OpenID
// Connect relying party) as a confidential web client through discovery,
// the authorization code flow with PKCE on the real login and consent
// pages, ID token validation (signature, iss, aud, nonce, alg), RFC 9207
// iss, userinfo and refresh; then client credentials, introspection and
// revocation.
func TestInteropOpenIDClient(t *testing.T) {
	t.Parallel()
	dir := nodeSuite(t)
	g := startServer(t)
	addUser(t, g, interopUser, "viewer", interopPassword)

	t.Run("authorization_code", func(t *testing.T) {
		postLogout := "http://127.0.0.1:1/signed-out"
		id, secret := createClient(t, g, "node-openid-client", "--grant", "authorization_code", "--grant", "refresh_token",
			"--redirect-uri", "http://127.0.0.1/callback", "--scope", "openid", "--scope", "profile", "--scope", "offline_access",
			"--post-logout-redirect-uri", postLogout)
		var r struct {
			Metadata struct {
				Issuer               string   `json:"issuer"`
				IssParameter         bool     `json:"iss_parameter_supported"`
				CodeChallengeMethods []string `json:"code_challenge_methods"`
				EndSession           string   `json:"end_session_endpoint"`
				AssertionAlgs        []string `json:"token_endpoint_auth_signing_algs"`
				IDTokenAlgs          []string `json:"id_token_signing_algs"`
			} `json:"metadata"`
			ForgedIss     *errorResult `json:"forged_iss"`
			MissingIss    *errorResult `json:"missing_iss"`
			Iss           string       `json:"iss"`
			IDTokenClaims userClaims   `json:"id_token_claims"`
			Scope         string       `json:"scope"`
			TokenType     string       `json:"token_type"`
			AccessToken   string       `json:"access_token"`
			HasRefresh    bool         `json:"has_refresh_token"`
			Userinfo      userClaims   `json:"userinfo"`
			Refreshed     struct {
				AccessToken string `json:"access_token"`
				Rotated     bool   `json:"rotated"`
			} `json:"refreshed"`
			UserinfoAfterRefresh userClaims   `json:"userinfo_after_refresh"`
			Reused               *errorResult `json:"reused_refresh_token"`
			Logout               *struct {
				Redirect     string `json:"redirect"`
				StateMatches bool   `json:"state_matches"`
			} `json:"logout"`
		}
		b := newBrowser(t, g.URL)
		authorize := authorizeAs(t, b, interopUser, interopPassword)
		answer := func(s nodeStep) string {
			if s.Step != "logout" {
				return authorize(s)
			}
			// With a valid id_token_hint the server signs out at once
			// and sends the browser back to the registered URI.
			p, err := browse(b, http.MethodGet, s.URL, nil)
			if err != nil {
				t.Fatalf("end session request: %v", err)
			}
			if p.Location == nil {
				t.Fatalf("end session request did not redirect back to the client: %s", p)
			}
			return p.Location.String()
		}
		runNode(t, dir, scriptEnv(g, "CLIENT_ID="+id, "CLIENT_SECRET="+secret,
			"REDIRECT_URI=http://"+freeAddr(t)+"/callback", "POST_LOGOUT_REDIRECT_URI="+postLogout),
			answer, &r, "openid-client.mjs", "authcode")
		t.Logf("discovery: end_session_endpoint %s, token_endpoint_auth_signing_alg_values_supported %v, id_token_signing_alg_values_supported %v",
			r.Metadata.EndSession, r.Metadata.AssertionAlgs, r.Metadata.IDTokenAlgs)
		if r.Logout == nil || r.Logout.Redirect != postLogout || !r.Logout.StateMatches {
			t.Errorf("RP-initiated logout: %+v; want a redirect to %s with the state", r.Logout, postLogout)
		}
		// The session is over: the device page, which needs a signed-in
		// user, asks to sign in again.
		if p, err := browse(b, http.MethodGet, g.URL+"/device", nil); err != nil || !p.isLoginForm() {
			t.Errorf("after the logout /device does not ask to sign in: %v %v", err, p)
		}

		if r.Metadata.Issuer != g.URL || !r.Metadata.IssParameter || !slices.Contains(r.Metadata.CodeChallengeMethods, "S256") {
			t.Errorf("discovery as openid-client saw it: %+v", r.Metadata)
		}
		if r.Iss != g.URL {
			t.Errorf("authorization response iss = %q, want %q (RFC 9207)", r.Iss, g.URL)
		}
		if r.ForgedIss == nil || r.MissingIss == nil {
			t.Errorf("openid-client accepted a response with a forged iss (%v) or none (%v)", r.ForgedIss, r.MissingIss)
		}
		c := r.IDTokenClaims
		if c.Issuer != g.URL || !slices.Equal(c.Audience, []string{id}) || c.Nonce == "" || c.Username != interopUser || c.AuthTime == 0 {
			t.Errorf("ID token claims = %+v; want iss %s, aud [%s], a nonce, preferred_username %s, auth_time", c, g.URL, id, interopUser)
		}
		if !strings.EqualFold(r.TokenType, "bearer") || !r.HasRefresh {
			t.Errorf("token response: token_type %q, refresh token %v; want Bearer and one", r.TokenType, r.HasRefresh)
		}
		if r.Userinfo.Subject != c.Subject || r.Userinfo.Username != interopUser {
			t.Errorf("userinfo = %+v; want sub %s, preferred_username %s", r.Userinfo, c.Subject, interopUser)
		}
		if !r.Refreshed.Rotated || r.Refreshed.AccessToken == r.AccessToken || r.UserinfoAfterRefresh.Subject != c.Subject {
			t.Errorf("refresh: rotated %v, new access token %v, userinfo after it %+v", r.Refreshed.Rotated, r.Refreshed.AccessToken != r.AccessToken, r.UserinfoAfterRefresh)
		}
		if r.Reused == nil || r.Reused.Error != "invalid_grant" {
			t.Errorf("reusing the rotated refresh token: %v; want invalid_grant", r.Reused)
		}
		ctx := t.Context()
		p, _ := discover(t, ctx, g)
		for _, raw := range []string{r.AccessToken, r.Refreshed.AccessToken} {
			if at := verifyAccessToken(t, ctx, p, g, raw); at.Subject != c.Subject || at.ClientID != id {
				t.Errorf("access token claims = %+v; want sub %s, client_id %s", at, c.Subject, id)
			}
		}
	})

	// Client credentials with each token endpoint authentication method
	// the server offers, as openid-client implements them (RFC 6749
	// §2.3.1, RFC 7523 with ES256, RS256 and Ed25519 keys).
	for _, method := range []struct{ name, auth, key, alg, knownBug string }{
		{name: "client_secret_basic", auth: "client_secret_basic"},
		{name: "client_secret_post", auth: "client_secret_post"},
		{name: "private_key_jwt_ES256", auth: "private_key_jwt", key: "ES256"},
		{name: "private_key_jwt_RS256", auth: "private_key_jwt", key: "RS256"},
		{name: "private_key_jwt_EdDSA", auth: "private_key_jwt", key: "EdDSA", alg: "EdDSA"},
		// openid-client and oauth4webapi sign with an Ed25519 key as
		// "Ed25519", the fully-specified algorithm of RFC 9864 §2.2 that
		// replaces the polymorphic "EdDSA".
		{name: "private_key_jwt_Ed25519", auth: "private_key_jwt", key: "EdDSA"},
	} {
		t.Run("client_credentials_"+method.name, func(t *testing.T) {
			t.Parallel()
			if method.knownBug != "" {
				t.Skip("known bug: " + method.knownBug)
			}
			args := []string{"--grant", "client_credentials", "--role", "viewer", "--auth-method", method.auth}
			env := []string{"AUTH_METHOD=" + method.auth, "ASSERTION_ALG=" + method.alg}
			if method.key != "" {
				dir := t.TempDir()
				key, jwks := filepath.Join(dir, "key.jwk.json"), filepath.Join(dir, "jwks.json")
				if out, errOut, code := runCLI(t, "", "jwt", "keygen", "--alg", method.key, "--out", key, "--jwks-out", jwks); code != 0 {
					t.Fatalf("gatehouse jwt keygen: exit %d\n%s%s", code, out, errOut)
				}
				args = append(args, "--jwks-file", jwks)
				env = append(env, "PRIVATE_JWK_FILE="+key)
			}
			id, secret := createClient(t, g, randomName("node-ci"), args...)
			var r struct {
				TokenType     string `json:"token_type"`
				ExpiresIn     int    `json:"expires_in"`
				AccessToken   string `json:"access_token"`
				HasRefresh    bool   `json:"has_refresh_token"`
				Introspection struct {
					Active bool `json:"active"`
					userClaims
				} `json:"introspection"`
				ActiveAfterRevocation bool `json:"active_after_revocation"`
			}
			runNode(t, dir, scriptEnv(g, append(env, "CLIENT_ID="+id, "CLIENT_SECRET="+secret)...), nil, &r, "openid-client.mjs", "client_credentials")
			if !strings.EqualFold(r.TokenType, "bearer") || r.ExpiresIn <= 0 || r.HasRefresh {
				t.Errorf("token response: token_type %q, expires_in %d, refresh token %v; want Bearer, > 0, none", r.TokenType, r.ExpiresIn, r.HasRefresh)
			}
			in := r.Introspection
			if !in.Active || in.ClientID != id || in.Subject != id || !slices.Equal(in.Audience, []string{id}) || !slices.Equal(in.Roles, []string{"viewer"}) {
				t.Errorf("introspection = %+v; want active, client_id = sub = aud = %s, roles [viewer]", in, id)
			}
			if r.ActiveAfterRevocation {
				t.Errorf("the access token is still active after its client revoked it (RFC 7009 §2.1)")
			}
			if at := verifyAccessToken(t, t.Context(), mustProvider(t, g), g, r.AccessToken); at.Subject != id {
				t.Errorf("access token sub = %q, want %s", at.Subject, id)
			}
		})
	}
}

// TestInteropResourceIndicators: openid-client asks for client-credentials
// tokens with RFC 8707 resource parameters; each token is for the resource
// it names, a token asked for without one is for all registered
// audiences, and an unregistered resource is invalid_target.
func TestInteropResourceIndicators(t *testing.T) {
	t.Parallel()
	dir := nodeSuite(t)
	g := startServer(t)
	const api, reports = "https://api.interop.test", "https://reports.interop.test"
	id, secret := createClient(t, g, "node-resources", "--grant", "client_credentials", "--audience", api, "--audience", reports)
	var r struct {
		Tokens          map[string]string `json:"tokens"`
		WithoutResource string            `json:"without_resource"`
		Unregistered    *errorResult      `json:"unregistered"`
	}
	runNode(t, dir, scriptEnv(g, "CLIENT_ID="+id, "CLIENT_SECRET="+secret, "RESOURCES="+api+" "+reports,
		"UNREGISTERED_RESOURCE=https://elsewhere.interop.test"), nil, &r, "openid-client.mjs", "resource")
	ctx := t.Context()
	p := mustProvider(t, g)
	audOf := func(raw string) []string {
		t.Helper()
		tok, err := p.VerifierContext(ctx, &oidc.Config{SkipClientIDCheck: true}).Verify(ctx, raw)
		if err != nil {
			t.Fatalf("go-oidc rejects the access token: %v", err)
		}
		return tok.Audience
	}
	for _, res := range []string{api, reports} {
		if got := audOf(r.Tokens[res]); !slices.Equal(got, []string{res}) {
			t.Errorf("token asked for resource %s has aud %v", res, got)
		}
	}
	if got := audOf(r.WithoutResource); !slices.Equal(slices.Sorted(slices.Values(got)), []string{api, reports}) {
		t.Errorf("token asked for without resource has aud %v; want both registered audiences", got)
	}
	if r.Unregistered == nil || r.Unregistered.Error != "invalid_target" {
		t.Errorf("unregistered resource: %v; want invalid_target (RFC 8707 §2)", r.Unregistered)
	}
}

// TestInteropOAuth4WebAPI drives oauth4webapi v3 as a public native
// client: authorization code with PKCE (a wrong verifier, a wrong state and
// a forged iss are refused), ID token, the access token validated as an
// RFC 9068 JWT for the client, userinfo, refresh with rotation,
// introspection and revocation by a confidential client; and the same
// after the device authorization grant approved on the /device page.
func TestInteropOAuth4WebAPI(t *testing.T) {
	t.Parallel()
	dir := nodeSuite(t)
	g := startServer(t)
	addUser(t, g, interopUser, "viewer", interopPassword)
	id, _ := createClient(t, g, "node-oauth4webapi", "--public", "--grant", "authorization_code", "--grant", "device_code",
		"--grant", "refresh_token", "--redirect-uri", "http://127.0.0.1/callback",
		"--scope", "openid", "--scope", "profile", "--scope", "offline_access")
	iid, isecret := createClient(t, g, "node-introspector", "--grant", "client_credentials")
	env := scriptEnv(g, "CLIENT_ID="+id, "INTROSPECT_ID="+iid, "INTROSPECT_SECRET="+isecret)

	// login is what both flows end in.
	type login struct {
		IDTokenClaims  userClaims `json:"id_token_claims"`
		Scope          string     `json:"scope"`
		AccessToken    string     `json:"access_token"`
		JWTAccessToken userClaims `json:"jwt_access_token"`
		Userinfo       userClaims `json:"userinfo"`
		Refreshed      struct {
			Rotated        bool `json:"rotated"`
			NewAccessToken bool `json:"new_access_token"`
		} `json:"refreshed"`
		Introspection struct {
			Active   bool   `json:"active"`
			Username string `json:"username"`
			userClaims
		} `json:"introspection"`
		RefreshActive        bool         `json:"refresh_token_active"`
		RotatedActive        bool         `json:"rotated_refresh_token_active"`
		AccessAfterRevoke    bool         `json:"access_active_after_revocation"`
		RefreshAfterRevoke   bool         `json:"refresh_active_after_revocation"`
		RefreshAfterRevoking *errorResult `json:"refresh_after_revocation"`
	}
	checkLogin := func(t *testing.T, r login) {
		t.Helper()
		c := r.IDTokenClaims
		if c.Issuer != g.URL || !slices.Equal(c.Audience, []string{id}) || c.Username != interopUser {
			t.Errorf("ID token claims = %+v; want iss %s, aud [%s], preferred_username %s", c, g.URL, id, interopUser)
		}
		at := r.JWTAccessToken
		if at.Subject != c.Subject || at.ClientID != id || !slices.Equal(at.Audience, []string{id}) || !slices.Contains(strings.Fields(at.Scope), "openid") {
			t.Errorf("RFC 9068 access token claims = %+v; want sub %s, client_id = aud = %s, scope with openid", at, c.Subject, id)
		}
		if r.Userinfo.Subject != c.Subject || r.Userinfo.Username != interopUser {
			t.Errorf("userinfo = %+v; want sub %s, preferred_username %s", r.Userinfo, c.Subject, interopUser)
		}
		if !r.Refreshed.Rotated || !r.Refreshed.NewAccessToken {
			t.Errorf("refresh = %+v; want a rotated refresh token and a new access token", r.Refreshed)
		}
		in := r.Introspection
		if !in.Active || in.Subject != c.Subject || in.ClientID != id || in.Username != interopUser || !slices.Equal(in.Audience, []string{id}) {
			t.Errorf("introspection of the refreshed access token = %+v; want active, sub %s, client_id = aud = %s, username %s", in, c.Subject, id, interopUser)
		}
		// The introspector is another client: to it, this public client's
		// refresh tokens are inactive, current or rotated (RFC 7662 §2.2;
		// the server answers active only to the client a refresh token was
		// issued to, and a public client cannot introspect). That the
		// current one still works is checked by the revocation below.
		if r.RefreshActive || r.RotatedActive {
			t.Errorf("introspection by another client: current refresh token active %v, rotated one active %v; want both inactive", r.RefreshActive, r.RotatedActive)
		}
		if r.AccessAfterRevoke || r.RefreshAfterRevoke {
			t.Errorf("after revoking the refresh token: access token active %v, refresh token active %v; want both inactive", r.AccessAfterRevoke, r.RefreshAfterRevoke)
		}
		if r.RefreshAfterRevoking == nil || r.RefreshAfterRevoking.Error != "invalid_grant" {
			t.Errorf("refresh with the revoked token: %v; want invalid_grant", r.RefreshAfterRevoking)
		}
	}

	t.Run("authorization_code", func(t *testing.T) {
		var r struct {
			Issuer        string       `json:"issuer"`
			ForgedIss     *errorResult `json:"forged_iss"`
			WrongState    *errorResult `json:"wrong_state"`
			WrongVerifier *errorResult `json:"wrong_verifier"`
			SilentSub     string       `json:"silent_sub"`
			NoSession     *errorResult `json:"silent_without_session"`
			NoSessionIss  string       `json:"silent_without_session_iss"`
			login
		}
		b := newBrowser(t, g.URL)
		authorize := authorizeAs(t, b, interopUser, interopPassword)
		answer := func(s nodeStep) string {
			if s.Step != "authorize_without_session" {
				return authorize(s)
			}
			p, err := browse(newBrowser(t, g.URL), http.MethodGet, s.URL, nil)
			if err != nil || p.Location == nil {
				t.Fatalf("prompt=none without a session: %v; got %v, want a redirect to the client", err, p)
			}
			return p.Location.String()
		}
		runNode(t, dir, append(env, "REDIRECT_URI=http://"+freeAddr(t)+"/callback"), answer, &r, "oauth4webapi.mjs", "authcode")
		if r.SilentSub != r.IDTokenClaims.Subject {
			t.Errorf("prompt=none with a session: sub %q, want %q", r.SilentSub, r.IDTokenClaims.Subject)
		}
		if r.NoSession == nil || r.NoSession.Error != "login_required" || r.NoSessionIss != g.URL {
			t.Errorf("prompt=none without a session: %v with iss %q; want login_required with iss %s", r.NoSession, r.NoSessionIss, g.URL)
		}
		if r.Issuer != g.URL {
			t.Errorf("issuer = %q, want %q", r.Issuer, g.URL)
		}
		if r.ForgedIss == nil || r.WrongState == nil {
			t.Errorf("oauth4webapi accepted a forged iss (%v) or a wrong state (%v)", r.ForgedIss, r.WrongState)
		}
		if r.WrongVerifier == nil || r.WrongVerifier.Error != "invalid_grant" {
			t.Errorf("code with a wrong PKCE verifier: %v; want invalid_grant", r.WrongVerifier)
		}
		checkLogin(t, r.login)
	})

	// RFC 9126: oauth4webapi pushes the request; the browser sees only
	// client_id and request_uri, and the request_uri works once.
	t.Run("par", func(t *testing.T) {
		var r struct {
			Endpoint     string `json:"pushed_authorization_request_endpoint"`
			RequestURI   string `json:"request_uri"`
			ExpiresIn    int    `json:"expires_in"`
			AuthorizeURL string `json:"authorize_url"`
			Sub          string `json:"sub"`
			ReplayStatus int    `json:"replay_status"`
		}
		b := newBrowser(t, g.URL)
		authorize := authorizeAs(t, b, interopUser, interopPassword)
		answer := func(s nodeStep) string {
			if s.Step != "authorize_replay" {
				return authorize(s)
			}
			p, err := browse(b, http.MethodGet, s.URL, nil)
			if err != nil {
				t.Fatalf("replaying the request_uri: %v", err)
			}
			if p.Location != nil {
				t.Errorf("a spent request_uri redirected to %s", p.Location)
			}
			return strconv.Itoa(p.Status)
		}
		runNode(t, dir, append(env, "REDIRECT_URI=http://"+freeAddr(t)+"/callback"), answer, &r, "oauth4webapi.mjs", "par")
		if r.Endpoint != g.URL+"/oauth2/par" || !strings.HasPrefix(r.RequestURI, "urn:ietf:params:oauth:request_uri:") ||
			r.ExpiresIn < 60 || r.ExpiresIn > 90 || r.Sub == "" {
			t.Errorf("par: %+v", r)
		}
		if u, err := url.Parse(r.AuthorizeURL); err != nil || len(u.Query()) != 2 {
			t.Errorf("the browser was sent to %s; want only client_id and request_uri", r.AuthorizeURL)
		}
		if r.ReplayStatus != http.StatusBadRequest {
			t.Errorf("replayed request_uri: status %d, want 400", r.ReplayStatus)
		}
	})

	t.Run("device", func(t *testing.T) {
		b := newBrowser(t, g.URL)
		signedIn := false
		approve := func(s nodeStep) string {
			t.Helper()
			if s.Step != "device" || s.Code == "" {
				t.Fatalf("unexpected step %+v", s)
			}
			if !signedIn {
				if err := loginHTTP(b, g.URL, interopUser, interopPassword); err != nil {
					t.Fatal(err)
				}
				signedIn = true
			}
			if err := approveDeviceHTTP(b, g.URL, s.Code, "approve"); err != nil {
				t.Fatal(err)
			}
			return ""
		}
		var r struct {
			Pending []string `json:"pending"`
			login
		}
		runNode(t, dir, env, approve, &r, "oauth4webapi.mjs", "device")
		checkLogin(t, r.login)
	})
}

// mustProvider is go-oidc's view of g.
func mustProvider(t *testing.T, g *gatehouse) *oidc.Provider {
	p, _ := discover(t, t.Context(), g)
	return p
}
