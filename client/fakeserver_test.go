package client

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Test clients of the fake authorization server.
const (
	publicClient = "cli"
	secretClient = "svc"
	clientSecret = "svc-secret"
)

// fakeAS is a small OAuth 2.0 authorization server for tests: discovery,
// authorization (PKCE S256 required), token (authorization_code with
// PKCE, single-use rotating refresh tokens, client_credentials, device
// code), device authorization, and /api, a resource that accepts only
// access tokens that are currently valid.
//
// Refresh tokens are single-use like the real server's: presenting one a
// second time is invalid_grant, revokes the whole family and counts in
// reuses, which every test asserts stays zero.
type fakeAS struct {
	t      *testing.T
	srv    *httptest.Server
	issuer string

	mu sync.Mutex
	// Settings.
	docIssuer   string // issuer named by the discovery document; "" = issuer
	issSupport  bool   // announce authorization_response_iss_parameter_supported
	expiresIn   int64
	callback    func(q url.Values) // edits the authorization response
	deviceSteps []string           // answers to device polls, in order; then "ok"
	refreshGate chan struct{}      // when set, refresh requests wait for it
	arrived     chan struct{}      // when set, told of each refresh request before its gate
	apiRejects  bool               // /api answers 401 to every token
	tokenType   string             // token_type of token responses: "" = Bearer, "-" = none
	dpop        *fakeDPoP          // DPoP support; nil = none (proofs ignored)
	// State.
	seq        int
	codes      map[string]authCode
	refresh    map[string]*refreshState
	access     map[string]bool
	exchanges  int
	refreshes  int
	ccGrants   int
	reuses     int
	devicePoll int
	apiCalls   int
	lastScope  string
}

type authCode struct {
	challenge, redirect, clientID string
}

type refreshState struct {
	used   bool
	family *bool // set to true when the family is revoked
}

func newFakeAS(t *testing.T) *fakeAS {
	t.Helper()
	as := &fakeAS{
		t:         t,
		expiresIn: 3600,
		codes:     map[string]authCode{},
		refresh:   map[string]*refreshState{},
		access:    map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", as.discovery)
	mux.HandleFunc("GET /authorize", as.authorize)
	mux.HandleFunc("POST /token", as.token)
	mux.HandleFunc("POST /device", as.deviceAuthorization)
	mux.HandleFunc("/api", as.api)
	as.srv = httptest.NewServer(mux)
	as.issuer = as.srv.URL
	t.Cleanup(as.srv.Close)
	t.Cleanup(func() {
		if n := as.count(&as.reuses); n != 0 {
			t.Errorf("a refresh token was presented twice (%d reuses)", n)
		}
	})
	return as
}

func (as *fakeAS) metadata() *protocol.Metadata {
	as.mu.Lock()
	defer as.mu.Unlock()
	iss := as.docIssuer
	if iss == "" {
		iss = as.issuer
	}
	var dpopAlgs []string
	if as.dpop != nil {
		dpopAlgs = []string{"ES256"}
	}
	return &protocol.Metadata{
		DPoPSigningAlgValuesSupported:              dpopAlgs,
		Issuer:                                     iss,
		AuthorizationEndpoint:                      as.issuer + "/authorize",
		TokenEndpoint:                              as.issuer + "/token",
		DeviceAuthorizationEndpoint:                as.issuer + "/device",
		JWKSURI:                                    as.issuer + "/jwks",
		ResponseTypesSupported:                     []string{"code"},
		CodeChallengeMethodsSupported:              []string{"S256"},
		TokenEndpointAuthMethodsSupported:          []string{"client_secret_basic", "none"},
		AuthorizationResponseIssParameterSupported: as.issSupport,
	}
}

// count reads a counter under the lock.
func (as *fakeAS) count(p *int) int {
	as.mu.Lock()
	defer as.mu.Unlock()
	return *p
}

func (as *fakeAS) set(f func()) {
	as.mu.Lock()
	defer as.mu.Unlock()
	f()
}

func (as *fakeAS) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, as.metadata())
}

func (as *fakeAS) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	u, err := url.Parse(redirect)
	if q.Get("client_id") != publicClient || err != nil || u.Hostname() != "127.0.0.1" || u.Path != "/callback" {
		http.Error(w, "bad client or redirect_uri", http.StatusBadRequest)
		return
	}
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	as.mu.Lock()
	as.seq++
	code := fmt.Sprintf("code-%d", as.seq)
	as.codes[code] = authCode{challenge: q.Get("code_challenge"), redirect: redirect, clientID: publicClient}
	edit := as.callback
	as.mu.Unlock()
	resp := url.Values{"code": {code}, "state": {q.Get("state")}, "iss": {as.issuer}}
	if edit != nil {
		edit(resp)
	}
	http.Redirect(w, r, redirect+"?"+resp.Encode(), http.StatusFound)
}

// client authenticates the token request: the public client by client_id
// in the body, the confidential one by HTTP Basic only.
func (as *fakeAS) client(r *http.Request) (string, *protocol.Error) {
	if id, sec, ok := r.BasicAuth(); ok {
		if id == secretClient && sec == clientSecret && r.PostForm.Get("client_secret") == "" {
			return id, nil
		}
		return "", protocol.NewError(protocol.ErrInvalidClient, "bad client credentials")
	}
	if r.PostForm.Get("client_id") == publicClient && r.PostForm.Get("client_secret") == "" {
		return publicClient, nil
	}
	return "", protocol.NewError(protocol.ErrInvalidClient, "unknown client")
}

func (as *fakeAS) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, protocol.NewError(protocol.ErrInvalidRequest, "bad form"))
		return
	}
	client, perr := as.client(r)
	if perr != nil {
		writeError(w, perr)
		return
	}
	jkt, ok := as.tokenProof(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	switch f.Get("grant_type") {
	case protocol.GrantAuthorizationCode:
		as.mu.Lock()
		as.exchanges++
		c, ok := as.codes[f.Get("code")]
		delete(as.codes, f.Get("code"))
		as.mu.Unlock()
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		switch {
		case !ok || c.clientID != client || c.redirect != f.Get("redirect_uri"):
			writeError(w, protocol.NewError(protocol.ErrInvalidGrant, "bad code"))
		case base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge:
			writeError(w, protocol.NewError(protocol.ErrInvalidGrant, "PKCE verification failed"))
		default:
			as.issue(w, jkt, true, true)
		}
	case protocol.GrantRefreshToken:
		as.mu.Lock()
		gate, arrived := as.refreshGate, as.arrived
		as.mu.Unlock()
		if arrived != nil {
			arrived <- struct{}{}
		}
		if gate != nil {
			<-gate
		}
		as.mu.Lock()
		as.refreshes++
		st, ok := as.refresh[f.Get("refresh_token")]
		switch {
		case !ok || *st.family:
			as.mu.Unlock()
			writeError(w, protocol.NewError(protocol.ErrInvalidGrant, "unknown refresh token"))
			return
		case st.used:
			// RFC 9700 §4.14.2: reuse revokes the family.
			as.reuses++
			*st.family = true
			as.mu.Unlock()
			writeError(w, protocol.NewError(protocol.ErrInvalidGrant, "refresh token reused"))
			return
		}
		if bound := as.boundTo(f.Get("refresh_token")); bound != "" && bound != jkt {
			// RFC 9449 §5: a bound refresh token needs a proof of its key
			// (the real server's answers: no proof, another key).
			as.mu.Unlock()
			if jkt == "" {
				writeError(w, protocol.NewError(protocol.ErrInvalidDPoPProof, "the refresh token is bound to a DPoP key"))
			} else {
				writeError(w, protocol.NewError(protocol.ErrInvalidGrant, "refresh token is bound to another key"))
			}
			return
		}
		st.used = true
		as.mu.Unlock()
		as.issueFamily(w, jkt, st.family)
	case protocol.GrantClientCredentials:
		if client != secretClient {
			writeError(w, protocol.NewError(protocol.ErrUnauthorizedClient, "public client"))
			return
		}
		as.set(func() { as.ccGrants++; as.lastScope = f.Get("scope") })
		as.issue(w, jkt, false, false)
	case protocol.GrantDeviceCode:
		as.mu.Lock()
		as.devicePoll++
		step := "ok"
		if len(as.deviceSteps) > 0 {
			step, as.deviceSteps = as.deviceSteps[0], as.deviceSteps[1:]
		}
		as.mu.Unlock()
		switch step {
		case "ok":
			if f.Get("device_code") != "dev-code" {
				writeError(w, protocol.NewError(protocol.ErrInvalidGrant, "bad device code"))
				return
			}
			as.issue(w, jkt, true, false)
		default:
			writeError(w, protocol.NewError(step, ""))
		}
	default:
		writeError(w, protocol.NewError(protocol.ErrUnsupportedGrantType, ""))
	}
}

// issue answers with a new access token and, if refresh, a refresh token
// of a new family; with jkt, both are bound to that key (token_type DPoP).
func (as *fakeAS) issue(w http.ResponseWriter, jkt string, refresh, idToken bool) {
	var family *bool
	if refresh {
		family = new(bool)
	}
	as.issueTokens(w, jkt, family, idToken)
}

func (as *fakeAS) issueFamily(w http.ResponseWriter, jkt string, family *bool) {
	as.issueTokens(w, jkt, family, false)
}

func (as *fakeAS) issueTokens(w http.ResponseWriter, jkt string, family *bool, idToken bool) {
	as.mu.Lock()
	as.seq++
	resp := map[string]any{
		"access_token": fmt.Sprintf("at-%d", as.seq),
		"token_type":   "Bearer",
		"expires_in":   as.expiresIn,
	}
	switch as.tokenType {
	case "":
	case "-":
		delete(resp, "token_type")
	default:
		resp["token_type"] = as.tokenType
	}
	as.access[resp["access_token"].(string)] = true
	if jkt != "" {
		resp["token_type"] = "DPoP"
		as.dpop.bound[resp["access_token"].(string)] = jkt
	}
	if family != nil {
		rt := fmt.Sprintf("rt-%d", as.seq)
		as.refresh[rt] = &refreshState{family: family}
		resp["refresh_token"] = rt
		if jkt != "" {
			as.dpop.bound[rt] = jkt
		}
	}
	if idToken {
		resp["id_token"] = fmt.Sprintf("idt-%d", as.seq)
		resp["scope"] = "openid offline_access"
	}
	as.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

func (as *fakeAS) deviceAuthorization(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, protocol.NewError(protocol.ErrInvalidRequest, ""))
		return
	}
	if _, perr := as.client(r); perr != nil {
		writeError(w, perr)
		return
	}
	writeJSON(w, http.StatusOK, protocol.DeviceAuthorizationResponse{
		DeviceCode:              "dev-code",
		UserCode:                "WDJB-MJHT",
		VerificationURI:         as.issuer + "/verify",
		VerificationURIComplete: as.issuer + "/verify?user_code=WDJB-MJHT",
		ExpiresIn:               600,
		Interval:                5,
	})
}

// api is a protected resource: 200 for a valid access token, else 401.
// A DPoP-bound token must come as "Authorization: DPoP" with a proof.
func (as *fakeAS) api(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !as.resourceProof(w, r, &tok) {
		return
	}
	as.mu.Lock()
	as.apiCalls++
	ok := as.access[tok] && !as.apiRejects
	as.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	body, _ := io.ReadAll(r.Body)
	fmt.Fprintf(w, "hello %s %s", tok, body)
}

// revokeAccess makes the resource reject an access token.
func (as *fakeAS) revokeAccess(tok string) { as.set(func() { delete(as.access, tok) }) }

// newRefreshToken registers a live refresh token, as a past login would
// have left it.
func (as *fakeAS) newRefreshToken(rt string) {
	as.set(func() { as.refresh[rt] = &refreshState{family: new(bool)} })
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *protocol.Error) {
	writeJSON(w, e.HTTPStatus(), e)
}
