package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// The example gets a token from a real server with its client's secret
// and calls the API with it.
func TestRun(t *testing.T) {
	as := servertest.Start(t)
	secret := as.AddClient(t, storage.Client{ID: "reports", GrantTypes: []string{protocol.GrantClientCredentials}, Scopes: []string{"read"}})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if tok, ok := strings.CutPrefix(auth, "Bearer "); !ok || strings.Count(tok, ".") != 2 {
			http.Error(w, "want a bearer JWT, got "+auth, http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "report for a signed-in service")
	}))
	t.Cleanup(api.Close)

	env := map[string]string{"ISSUER": as.URL, "CLIENT_ID": "reports", "CLIENT_SECRET": secret, "SCOPE": "read"}
	var out strings.Builder
	if err := run(t.Context(), []string{api.URL}, func(k string) string { return env[k] }, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "report for a signed-in service" {
		t.Errorf("output = %q", out.String())
	}

	env["CLIENT_SECRET"] = "wrong"
	if err := run(t.Context(), []string{api.URL}, func(k string) string { return env[k] }, &out); err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("with a wrong secret: error = %v, want invalid_client", err)
	}
	delete(env, "CLIENT_SECRET")
	if err := run(t.Context(), []string{api.URL}, func(k string) string { return env[k] }, &out); err == nil || !strings.Contains(err.Error(), "CLIENT_SECRET is not set") {
		t.Errorf("without a secret: error = %v, want one naming CLIENT_SECRET", err)
	}
}
