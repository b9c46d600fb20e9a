package cliauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/dpop"
)

const boundToken = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.bound-token-signature"

// boundCLI is fixedCLI with a DPoP-bound login in profile "bound"
// (valid 15 minutes, so no request is needed) and returns its key.
func boundCLI(t *testing.T) (*testCLI, *client.DPoP) {
	t.Helper()
	c := fixedCLI(t)
	d, err := client.NewDPoPKey(c.clock)
	if err != nil {
		t.Fatal(err)
	}
	c.ok("", "profiles", "add", "bound", "--issuer", "https://auth.example.com")
	err = c.fileStore().Put(context.Background(), "bound", &credstore.Credential{
		Kind:         credstore.KindUser,
		Issuer:       "https://auth.example.com",
		ClientID:     "gatehouse-cli",
		TokenType:    "DPoP",
		AccessToken:  boundToken,
		RefreshToken: "refresh-token-bound-0123456789",
		Expiry:       serverStart.Add(15 * time.Minute),
		Subject:      "u-alice",
		Username:     "alice",
		UpdatedAt:    serverStart,
		DPoPKey:      d.PrivateKeyPEM(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, d
}

// verifyProof checks a proof printed by `token` with the dpop package's
// verifier: signature, typ, htm, htu, ath, iat, and the login's key.
func verifyProof(t *testing.T, c *testCLI, d *client.DPoP, proof, method, url string) {
	t.Helper()
	v, err := dpop.NewVerifier(dpop.Config{Clock: c.clock})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(context.Background(), proof, dpop.Request{Method: method, URL: url, AccessToken: boundToken, JKT: d.Thumbprint()})
	if err != nil {
		t.Errorf("the printed proof does not verify for %s %s: %v", method, url, err)
		return
	}
	if p.Nonce != "" {
		t.Errorf("proof nonce %q", p.Nonce)
	}
}

// TestTokenHeaderDPoP: a bound login prints both headers for the request
// named by --url and --method, with a fresh proof each time.
func TestTokenHeaderDPoP(t *testing.T) {
	t.Parallel()
	c, d := boundCLI(t)
	out := c.ok("", "token", "-p", "bound", "--output", "header", "--url", "https://api.example.com/things?x=1").out
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 || lines[0] != "Authorization: DPoP "+boundToken || !strings.HasPrefix(lines[1], "DPoP: ") {
		t.Fatalf("header output = %q, want the Authorization and DPoP headers", out)
	}
	verifyProof(t, c, d, strings.TrimPrefix(lines[1], "DPoP: "), http.MethodGet, "https://api.example.com/things")

	again := c.ok("", "token", "-p", "bound", "-o", "header", "--method", "post", "--url", "https://api.example.com/things").out
	proof := strings.TrimPrefix(strings.Split(strings.TrimSuffix(again, "\n"), "\n")[1], "DPoP: ")
	if proof == strings.TrimPrefix(lines[1], "DPoP: ") {
		t.Error("two runs printed the same proof")
	}
	verifyProof(t, c, d, proof, http.MethodPost, "https://api.example.com/things")
}

// TestTokenJSONDPoP: json output of a bound login has token_type DPoP and
// the key's thumbprint, and the proof for --url.
func TestTokenJSONDPoP(t *testing.T) {
	t.Parallel()
	c, d := boundCLI(t)
	var got struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		DPoPProof   string `json:"dpop_proof"`
		DPoPJKT     string `json:"dpop_jkt"`
	}
	out := c.ok("", "token", "-p", "bound", "-o", "json", "--method", "DELETE", "--url", "https://api.example.com/things/1").out
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != boundToken || got.TokenType != "DPoP" || got.DPoPJKT != d.Thumbprint() || got.DPoPProof == "" {
		t.Errorf("json = %s", out)
	}
	verifyProof(t, c, d, got.DPoPProof, http.MethodDelete, "https://api.example.com/things/1")

	// Without --url: no proof (no request to make it for), the rest.
	got.DPoPProof = ""
	if err := json.Unmarshal([]byte(c.ok("", "token", "-p", "bound", "-o", "json").out), &got); err != nil {
		t.Fatal(err)
	}
	if got.TokenType != "DPoP" || got.DPoPProof != "" || got.DPoPJKT != d.Thumbprint() {
		t.Errorf("json without --url = %+v", got)
	}
	// A bearer login: no DPoP members, --url or not.
	out = c.ok("", "token", "-o", "json", "--url", "https://api.example.com/").out
	if strings.Contains(out, "dpop") || !strings.Contains(out, `"token_type": "Bearer"`) {
		t.Errorf("bearer json = %s", out)
	}
}

// TestTokenDPoPRefusals: a bound token is not printed where it cannot be
// used — a header without the request it is for, kubectl's
// ExecCredential — and each refusal says what to do.
func TestTokenDPoPRefusals(t *testing.T) {
	t.Parallel()
	c, _ := boundCLI(t)
	r := c.fail(cliauth.ExitUsage, "pass --url URL", "", "token", "-p", "bound", "-o", "header")
	if strings.Contains(r.out, boundToken) {
		t.Error("the token was printed anyway")
	}
	r = c.fail(cliauth.ExitUsage, "--no-dpop", "", "token", "-p", "bound", "-o", "exec-credential")
	if strings.Contains(r.out, boundToken) || !strings.Contains(r.err.Error(), "kubectl") {
		t.Errorf("exec-credential refusal: %v; out %q", r.err, r.out)
	}
	// Text output prints the token with a warning on stderr.
	r = c.ok("", "token", "-p", "bound")
	if r.out != boundToken+"\n" || !strings.Contains(r.errOut, "--output header --url") {
		t.Errorf("text: out %q, stderr %q", r.out, r.errOut)
	}
	// Flag errors name the flag.
	c.fail(cliauth.ExitUsage, "it goes with --output header or json", "", "token", "-p", "bound", "--url", "https://api.example.com/")
	c.fail(cliauth.ExitUsage, "--url \"/things\"", "", "token", "-p", "bound", "-o", "header", "--url", "/things")
	c.fail(cliauth.ExitUsage, "--method", "", "token", "-p", "bound", "-o", "header", "--method", "GET /x", "--url", "https://api.example.com/")
	// A bearer login with --url: only the Authorization header.
	if out := c.ok("", "token", "-o", "header", "--url", "https://api.example.com/").out; strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "Authorization: Bearer ") {
		t.Errorf("bearer header = %q", out)
	}
}

// TestStatusShowsDPoPBinding: status says a login is bound to this
// machine's key, and which (thumbprint), never the key itself.
func TestStatusShowsDPoPBinding(t *testing.T) {
	t.Parallel()
	c, d := boundCLI(t)
	r := c.ok("", "status", "-p", "bound")
	if !strings.Contains(r.out, "bound to this machine's key (DPoP), jkt "+d.Thumbprint()) {
		t.Errorf("status does not show the binding:\n%s", r.out)
	}
	if strings.Count(r.out, "binding:") != 1 {
		t.Errorf("binding shown for more than the bound profile:\n%s", r.out)
	}
	js := c.ok("", "status", "--json").out
	keyBody := strings.Split(d.PrivateKeyPEM(), "\n")[1]
	if strings.Contains(r.out+js, keyBody) || strings.Contains(r.out+js, "PRIVATE KEY") {
		t.Error("status shows the private key")
	}
	var doc struct {
		Profiles []struct {
			Name    string `json:"name"`
			Binding string `json:"binding"`
			JKT     string `json:"dpop_jkt"`
		} `json:"profiles"`
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range doc.Profiles {
		want := ""
		if p.Name == "bound" {
			want = "dpop"
		}
		if p.Binding != want || (want != "" && p.JKT != d.Thumbprint()) {
			t.Errorf("status --json profile %s: binding %q jkt %q", p.Name, p.Binding, p.JKT)
		}
	}
	// The thumbprint is base64url of a SHA-256: 43 characters.
	if b, err := base64.RawURLEncoding.DecodeString(d.Thumbprint()); err != nil || len(b) != 32 {
		t.Errorf("thumbprint %q", d.Thumbprint())
	}
}

// TestLoginDPoPFlags: the DPoP flags exclude each other and do not apply
// to API keys.
func TestLoginDPoPFlags(t *testing.T) {
	t.Parallel()
	c := newCLI(t, nil)
	c.fail(cliauth.ExitUsage, "--dpop and --no-dpop exclude each other", "", "login", "--issuer", "https://auth.example.com", "--dpop", "--no-dpop")
	c.fail(cliauth.ExitUsage, "do not apply", "gatehouse_key\n", "login", "--issuer", "https://auth.example.com", "--with-api-key", "--no-dpop")
}
