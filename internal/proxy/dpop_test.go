package proxy

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// dpopClientToken gets a DPoP-bound client-credentials token, for the
// gateway's audience, of a new client with roles, bound to a new key.
func (h *harness) dpopClientToken(id string, roles ...string) (string, *dpop.Signer) {
	h.t.Helper()
	k, _ := dpop.NewKey()
	key, err := dpop.NewSigner(k, dpop.WithClock(h.srv.Clock))
	if err != nil {
		h.t.Fatal(err)
	}
	sec := h.srv.AddClient(h.t, storage.Client{ID: id, GrantTypes: []string{protocol.GrantClientCredentials}, Roles: roles, Audiences: []string{gatewayAudience}})
	proof, err := key.Proof("POST", h.srv.URL+"/oauth2/token", "", "")
	if err != nil {
		h.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("DPoP", proof)
	req.SetBasicAuth(id, sec)
	res, err := h.srv.HTTP.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tr); err != nil || tr.TokenType != "DPoP" {
		h.t.Fatalf("client credentials with DPoP: status %d, %+v %v", res.StatusCode, tr, err)
	}
	return tr.AccessToken, key
}

func dpopHeaders(t *testing.T, key *dpop.Signer, method, u, tok string) http.Header {
	t.Helper()
	p, err := key.Proof(method, u, tok, "")
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"Authorization": {"DPoP " + tok}, "Dpop": {p}}
}

// TestGatewayDPoP: a DPoP-bound token passes the gateway only with the
// DPoP scheme and a proof of its key for the URL the client addressed;
// as a bearer token, or with a thief's proof, it is refused with a DPoP
// challenge, and such refusals do not lock its owner out.
func TestGatewayDPoP(t *testing.T) {
	h := newHarness(t)
	tok, key := h.dpopClientToken("svc", "viewer")
	u := h.ts.URL + "/echo"

	res := h.get(h.client(), "/echo", bearer(tok))
	if res.StatusCode != 401 || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), `DPoP algs="`) ||
		!strings.Contains(res.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("bound token as Bearer: %d %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}
	thief, _ := dpop.NewKey()
	thiefSigner, _ := dpop.NewSigner(thief, dpop.WithClock(h.srv.Clock))
	res = h.get(h.client(), "/echo", dpopHeaders(t, thiefSigner, "GET", u, tok))
	if res.StatusCode != 401 || !strings.Contains(res.Header.Get("WWW-Authenticate"), `error="invalid_dpop_proof"`) {
		t.Fatalf("thief's proof: %d %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}
	res = h.get(h.client(), "/echo", dpopHeaders(t, key, "GET", h.ts.URL+"/other", tok))
	if res.StatusCode != 401 {
		t.Fatalf("wrong htu: %d", res.StatusCode)
	}
	res = h.get(h.client(), "/echo", dpopHeaders(t, key, "POST", u, tok))
	if res.StatusCode != 401 {
		t.Fatalf("wrong htm: %d", res.StatusCode)
	}
	// An untrusted peer's X-Forwarded-Host does not change the URL the
	// proof must name.
	hdr := dpopHeaders(t, key, "GET", "http://evil.example/echo", tok)
	hdr.Set("X-Forwarded-Host", "evil.example")
	if res := h.get(h.client(), "/echo", hdr); res.StatusCode != 401 {
		t.Fatalf("forged forwarded host: %d", res.StatusCode)
	}
	// The owner, after all those refusals.
	good := dpopHeaders(t, key, "GET", u, tok)
	if res := h.get(h.client(), "/echo", good); res.StatusCode != 200 {
		t.Fatalf("owner: %d", res.StatusCode)
	}
	// The same proof again.
	if res := h.get(h.client(), "/echo", good); res.StatusCode != 401 || !strings.Contains(res.Header.Get("WWW-Authenticate"), "invalid_dpop_proof") {
		t.Fatalf("replayed proof: %d %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}
	// Unbound tokens keep working as Bearer and are refused as DPoP.
	plain := h.clientToken("plain", "viewer")
	if res := h.get(h.client(), "/echo", bearer(plain)); res.StatusCode != 200 {
		t.Fatalf("unbound bearer: %d", res.StatusCode)
	}
	if res := h.get(h.client(), "/echo", dpopHeaders(t, key, "GET", u, plain)); res.StatusCode != 401 {
		t.Fatalf("unbound token as DPoP: %d", res.StatusCode)
	}
}
