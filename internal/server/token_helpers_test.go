package server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

const testVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-longer-than-43"

func s256(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// codeOpts describe an authorization code inserted straight into the store,
// as /authorize would have made it.
type codeOpts struct {
	clientID    string
	userID      string
	redirectURI string
	scopes      []string
	resources   []string
	authTime    time.Time // the sign-in; now when zero
	challenge   string
	method      string
}

func (h *testHarness) insertCode(o codeOpts) string {
	h.t.Helper()
	code := secret.NewToken()
	now := h.clock.Now()
	authTime := o.authTime
	if authTime.IsZero() {
		authTime = now
	}
	err := h.store.CreateAuthCode(context.Background(), &storage.AuthCode{
		Hash: secret.Hash(code), ClientID: o.clientID, UserID: o.userID, RedirectURI: o.redirectURI,
		Scopes: o.scopes, Resources: o.resources, CodeChallenge: o.challenge, CodeChallengeMethod: o.method,
		AuthTime: authTime, CreatedAt: now, ExpiresAt: now.Add(time.Duration(h.cfg.Tokens.CodeTTL)),
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return code
}

// claims decodes a JWT payload without verifying it.
func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func headerOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// userFixture is a harness with a user, the public CLI client and a
// confidential web client with a secret, plus an introspecting service.
type userFixture struct {
	*testHarness
	user      *storage.User
	webSecret string
	// consoleSecret is the secret of "console", a first-party confidential
	// client (the operator's own web console) that may ask for the admin
	// and account resources.
	consoleSecret string
	rsSecret      string
	otherSecret   string
	webRedirect   string
	publicClient  string
}

func newUserFixture(t *testing.T) *userFixture {
	return newUserFixtureOn(newHarness(t))
}

// newUserFixtureOn is newUserFixture on the harness h.
func newUserFixtureOn(h *testHarness) *userFixture {
	f := &userFixture{testHarness: h, webRedirect: "https://app.example/cb", publicClient: CLIClientID}
	f.user = h.addUser("alice", "correct horse battery", "editor")
	f.webSecret = h.addClient(storage.Client{ID: "web", Name: "Web", RedirectURIs: []string{f.webRedirect},
		GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: []string{"openid", "read", "write"}})
	f.otherSecret = h.addClient(storage.Client{ID: "other", Name: "Other", RedirectURIs: []string{"https://other.example/cb"},
		GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials"}, Scopes: []string{"openid", "read", "write"}})
	f.rsSecret = h.addClient(storage.Client{ID: "rs", Name: "Resource server", GrantTypes: []string{"client_credentials"}})
	f.consoleSecret = h.addClient(storage.Client{ID: "console", Name: "Console", RedirectURIs: []string{f.webRedirect},
		GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: []string{"openid"}, FirstParty: true})
	return f
}

// resourceToken runs a code exchange of the first-party console client for
// userID with scopes and resources, and returns the access token.
func (f *userFixture) resourceToken(userID string, scopes, resources []string) string {
	f.t.Helper()
	return f.resourceTokenAuthTime(userID, scopes, resources, time.Time{})
}

// resourceTokenAuthTime is resourceToken for a sign-in at authTime.
func (f *userFixture) resourceTokenAuthTime(userID string, scopes, resources []string, authTime time.Time) string {
	f.t.Helper()
	code := f.insertCode(codeOpts{clientID: "console", userID: userID, redirectURI: f.webRedirect, scopes: scopes,
		resources: resources, authTime: authTime, challenge: s256(testVerifier), method: "S256"})
	st, body, _ := f.postForm(PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {f.webRedirect}, "code_verifier": {testVerifier}}, "console", f.consoleSecret)
	tok, _ := body["access_token"].(string)
	if st != 200 || tok == "" {
		f.t.Fatalf("code exchange: %d %v", st, body)
	}
	return tok
}

// codeTokens runs the code exchange for the web client and returns the
// token response.
func (f *userFixture) codeTokens(scopes ...string) map[string]any {
	f.t.Helper()
	code := f.insertCode(codeOpts{clientID: "web", userID: f.user.ID, redirectURI: f.webRedirect, scopes: scopes,
		challenge: s256(testVerifier), method: "S256"})
	st, body, _ := f.postForm(PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {f.webRedirect}, "code_verifier": {testVerifier}}, "web", f.webSecret)
	if st != 200 {
		f.t.Fatalf("code exchange: %d %v", st, body)
	}
	return body
}

// introspect asks the server about tok as the resource server.
func (f *userFixture) introspect(tok string) map[string]any {
	f.t.Helper()
	return f.introspectAs("rs", f.rsSecret, tok)
}

// introspectAs asks the server about tok as the client id with secret
// sec. Refresh tokens are active only for the client they were issued to.
func (f *userFixture) introspectAs(id, sec, tok string) map[string]any {
	f.t.Helper()
	st, body, _ := f.postForm(PathIntrospect, url.Values{"token": {tok}}, id, sec)
	if st != 200 {
		f.t.Fatalf("introspect: %d %v", st, body)
	}
	return body
}

func (f *userFixture) refresh(clientID, sec, rt string, extra url.Values) (int, map[string]any) {
	f.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	for k, v := range extra {
		form[k] = v
	}
	st, body, _ := f.postForm(PathToken, form, clientID, sec)
	return st, body
}

func errCode(body map[string]any) string {
	s, _ := body["error"].(string)
	return s
}
