package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// addServerAPIKey stores an API key with roles on the server's database
// and returns it.
func addServerAPIKey(t *testing.T, srv *servertest.Server, roles ...string) string {
	t.Helper()
	id, key := apikey.Generate()
	_, sec, _ := apikey.Parse(key)
	err := srv.Store.CreateAPIKey(context.Background(), &storage.APIKey{ID: id, Name: "cli test", SecretHash: secret.Hash(sec),
		Roles: roles, CreatedAt: srv.Clock.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestAdminListsOverAPI(t *testing.T) {
	srv := servertest.Start(t)
	srv.AddUser(t, "carol", "correct horse battery", "editor")
	srv.AddClient(t, storage.Client{ID: "svc", Name: "Service", GrantTypes: []string{"client_credentials"}, Roles: []string{"viewer"}})
	h := newHarness(t)
	h.env["GATEHOUSE_API_KEY"] = addServerAPIKey(t, srv, "admin")

	r := h.runCtx(t.Context(), "", "users", "list", "--json", "--server", srv.URL)
	if r.Err != nil {
		t.Fatalf("users list: %v\n%s", r.Err, r.ErrOut)
	}
	users := decode[[]userJSON](t, r.Out)
	var names []string
	for _, u := range users {
		names = append(names, u.Username)
	}
	if !strings.Contains(strings.Join(names, " "), "carol") {
		t.Errorf("users over the API: %v", names)
	}

	r = h.runCtx(t.Context(), "", "clients", "list", "--server", srv.URL)
	if r.Err != nil {
		t.Fatalf("clients list: %v\n%s", r.Err, r.ErrOut)
	}
	if !strings.Contains(r.Out, "svc") || !strings.Contains(r.Out, "Service") {
		t.Errorf("clients over the API:\n%s", r.Out)
	}

	// The database flags still win: the empty data dir has no carol.
	r = h.ok("", "users", "list", "--json")
	if strings.Contains(r.Out, "carol") {
		t.Errorf("--data-dir listed the server's users:\n%s", r.Out)
	}

	// A key without the admin role is refused by the server.
	h.env["GATEHOUSE_API_KEY"] = addServerAPIKey(t, srv, "viewer")
	r = h.runCtx(t.Context(), "", "users", "list", "--server", srv.URL)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "insufficient_scope") {
		t.Errorf("viewer key: err %v, want insufficient_scope", r.Err)
	}
}
