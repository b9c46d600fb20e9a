package proxy

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// nonceIdP is an OpenID provider for the gateway's OIDC client: discovery,
// a key set and a token endpoint that answers every code with an ID token
// carrying the claims the test set.
type nonceIdP struct {
	*httptest.Server
	signer jose.Signer
	mu     sync.Mutex
	claims map[string]any // the ID token's claims besides iss, aud, iat, exp
}

func (idp *nonceIdP) setClaims(c map[string]any) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.claims = c
}

func newNonceIdP(t *testing.T) *nonceIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	idp := &nonceIdP{signer: signer}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		idpJSON(t, w, map[string]any{
			"issuer":                                idp.URL,
			"authorization_endpoint":                idp.URL + "/authorize",
			"token_endpoint":                        idp.URL + "/token",
			"jwks_uri":                              idp.URL + "/jwks",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		idpJSON(t, w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("grant_type") != "authorization_code" || r.FormValue("code") == "" {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		now := time.Now()
		claims := map[string]any{"iss": idp.URL, "aud": "gateway", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		idp.mu.Lock()
		for k, v := range idp.claims {
			claims[k] = v
		}
		idp.mu.Unlock()
		payload, err := json.Marshal(claims)
		if err != nil {
			t.Error(err)
			return
		}
		sig, err := idp.signer.Sign(payload)
		if err != nil {
			t.Error(err)
			return
		}
		idt, err := sig.CompactSerialize()
		if err != nil {
			t.Error(err)
			return
		}
		idpJSON(t, w, map[string]any{"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600, "id_token": idt})
	})
	idp.Server = httptest.NewServer(mux)
	t.Cleanup(idp.Close)
	return idp
}

func idpJSON(t *testing.T, w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		t.Error(err)
	}
}

// TestOIDCProviderChecksNonce: the ID token must carry the nonce of the
// login it finishes (OpenID Connect Core 1.0 §3.1.3.7 item 11: "If a nonce
// value was sent in the Authentication Request, a nonce Claim MUST be
// present and its value checked to verify that it is the same value as the
// one that was sent"); go-oidc's verifier does not check it, the gateway
// does.
func TestOIDCProviderChecksNonce(t *testing.T) {
	idp := newNonceIdP(t)
	p, err := NewOIDCProvider(t.Context(), OIDCConfig{
		Issuer: idp.URL, ClientID: "gateway", ClientSecret: "s", RedirectURL: "https://gw.test/callback",
		Scopes: []string{"openid"}, RolesClaim: "roles", HTTPClient: idp.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	const nonce = "n-0123456789abcdef0123456789abcdef"
	base := map[string]any{"sub": "u-1", "preferred_username": "alice", "roles": []string{"viewer"}}
	for _, c := range []struct {
		name  string
		nonce any // nil: no nonce claim
		ok    bool
	}{
		{"right nonce", nonce, true},
		{"wrong nonce", "n-other", false},
		{"nonce of another login differing in one character", nonce[:len(nonce)-1] + "0", false},
		{"no nonce", nil, false},
		{"empty nonce", "", false},
	} {
		claims := map[string]any{}
		for k, v := range base {
			claims[k] = v
		}
		if c.nonce != nil {
			claims["nonce"] = c.nonce
		}
		idp.setClaims(claims)
		l, err := p.Exchange(t.Context(), "code-1", "verifier-0123456789abcdef0123456789abcdef0123", nonce)
		switch {
		case c.ok && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.ok && (l.Subject != "u-1" || l.Username != "alice"):
			t.Errorf("%s: login %+v", c.name, l)
		case !c.ok && err == nil:
			t.Errorf("%s: the login was accepted", c.name)
		case !c.ok && !strings.Contains(err.Error(), "nonce"):
			t.Errorf("%s: refused for another reason: %v", c.name, err)
		}
	}
}
