package clientcmd

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command/commandtest"
)

// storeBoundLogin stores a DPoP-bound user login for issuer in dir, valid
// for an hour, and returns its key.
func storeBoundLogin(t *testing.T, dir, issuer, token string) *client.DPoP {
	t.Helper()
	d, err := client.NewDPoPKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	err = credstore.NewFile(dir).Put(context.Background(), "default", &credstore.Credential{
		Kind: credstore.KindUser, Issuer: issuer, ClientID: "gatehouse-cli", TokenType: "DPoP",
		AccessToken: token, RefreshToken: "rt-bound", Expiry: time.Now().Add(time.Hour), DPoPKey: d.PrivateKeyPEM(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func runIn(t *testing.T, dir, issuer, stdin string, args ...string) commandtest.Result {
	t.Helper()
	streams, out, errOut := command.NewTestIOStreams(stdin)
	env := map[string]string{"GATEHOUSE_CONFIG_DIR": dir, "GATEHOUSE_AUTH_STORAGE": "file", "GATEHOUSE_ISSUER": issuer}
	streams.Getenv = func(k string) string { return env[k] }
	return run(streams, out, errOut, args...)
}

// TestAPIWithDPoPLogin: `gatehouse api` sends a bound login's token as
// "Authorization: DPoP" with a proof of the stored key for the very
// request, and follows a resource's nonce challenge.
func TestAPIWithDPoPLogin(t *testing.T) {
	t.Parallel()
	const token = "bound-access-token"
	v, err := dpop.NewVerifier(dpop.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var d *client.DPoP
	challenged := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p, err := v.VerifyRequest(r, "http://"+r.Host+r.URL.Path, token, d.Thumbprint())
		if err != nil || r.Header.Get("Authorization") != "DPoP "+token {
			w.Header().Set("WWW-Authenticate", `DPoP error="invalid_token"`)
			http.Error(w, "refused: "+err.Error(), http.StatusUnauthorized)
			return
		}
		if p.Nonce != "n-1" {
			challenged++
			w.Header().Set("DPoP-Nonce", "n-1")
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
			http.Error(w, "nonce", http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"method": r.Method, "body": string(body)})
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	d = storeBoundLogin(t, dir, srv.URL, token)

	r := runIn(t, dir, srv.URL, "", "api", "-X", "PATCH", "/things/1?x=y", "-d", `{"a":1}`)
	if r.Err != nil {
		t.Fatalf("gatehouse api: %v\n%s%s", r.Err, r.Out, r.ErrOut)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(r.Out), &got); err != nil || got["method"] != "PATCH" || got["body"] != `{"a":1}` || challenged != 1 {
		t.Errorf("answer %q (%v), %d challenges", r.Out, err, challenged)
	}
}

// TestCredentialHelperGitRefusesDPoPLogin: git cannot send a proof, so the
// helper does not hand out a bound token, and says what to do.
func TestCredentialHelperGitRefusesDPoPLogin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	storeBoundLogin(t, dir, "https://auth.example.com", "bound-access-token")
	r := runIn(t, dir, "https://auth.example.com", "protocol=https\nhost=auth.example.com\n\n", "credential-helper", "git", "get")
	if r.Err == nil || r.Code != command.ExitUsage || strings.Contains(r.Out, "bound-access-token") {
		t.Fatalf("get with a bound login: %v (exit %d), out %q", r.Err, r.Code, r.Out)
	}
	if !strings.Contains(r.Err.Error(), "--no-dpop") || !strings.Contains(r.Err.Error(), "DPoP") {
		t.Errorf("error %q does not say what to do", r.Err)
	}
}
