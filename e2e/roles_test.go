package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"
)

// TestCustomRoles drives `gatehouse roles` over the admin API of a real
// server: a client holding a custom role gets its permissions in access
// tokens and introspection, a change shows in the next token, and a held
// role cannot be deleted.
func TestCustomRoles(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	g := startServer(t)
	p, m := discover(t, ctx, g)
	_, key := createAPIKey(t, g, "ops", "--role", "admin")
	u := newCLIUser(t)
	env := []string{"GATEHOUSE_API_KEY=" + key}

	out := u.ok(env, "roles", "create", "operator", "--permission", "runs:launch", "--permission", "assets:materialize", "--server", g.URL)
	if !strings.Contains(out, `Created role "operator"`) {
		t.Fatalf("roles create over the API: %q", out)
	}
	if _, errOut, code := u.run(env, "", "clients", "create", "ci", "--grant", "client_credentials", "--role", "operatr", "--server", g.URL); code == 0 ||
		!strings.Contains(errOut, `unknown role "operatr"`) {
		t.Errorf("clients create with an unknown role: exit %d\n%s", code, errOut)
	}
	// The role is in the server's database, and the client made there
	// may hold it.
	if db := gatehouseAdmin(t, g, "roles", "show", "operator"); !strings.Contains(db, "assets:materialize runs:launch") {
		t.Errorf("roles show on the database:\n%s", db)
	}
	id, secret := createClient(t, g, "ci", "--grant", "client_credentials", "--role", "operator")

	token := func() string {
		t.Helper()
		cfg := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: p.Endpoint().TokenURL}
		tok, err := cfg.Token(ctx)
		if err != nil {
			t.Fatalf("client credentials grant: %v", err)
		}
		return tok.AccessToken
	}
	perms := func(v any) []string {
		var out []string
		l, _ := v.([]any)
		for _, x := range l {
			s, _ := x.(string)
			out = append(out, s)
		}
		return out
	}
	first := token()
	want := []string{"assets:materialize", "runs:launch"}
	if got := perms(payload(t, first)["permissions"]); !slices.Equal(got, want) {
		t.Errorf("access token permissions %v, want %v", got, want)
	}
	if got := perms(introspectKey(t, ctx, m, id, secret, first)["permissions"]); !slices.Equal(got, want) {
		t.Errorf("introspection permissions %v, want %v", got, want)
	}

	u.ok(env, "roles", "update", "operator", "--add-permission", "runs:cancel", "--remove-permission", "assets:materialize", "--server", g.URL)
	if got := perms(payload(t, token())["permissions"]); !slices.Equal(got, []string{"runs:cancel", "runs:launch"}) {
		t.Errorf("permissions after the update %v", got)
	}
	if got := perms(introspectKey(t, ctx, m, id, secret, first)["permissions"]); !slices.Equal(got, want) {
		t.Errorf("the earlier token changed its permissions: %v", got)
	}

	_, errOut, code := u.run(env, "", "roles", "delete", "operator", "--server", g.URL)
	if code != 1 || !strings.Contains(errOut, "client ci") {
		t.Errorf("deleting a held role: exit %d, want 1 naming client ci\n%s", code, errOut)
	}
	gatehouseAdmin(t, g, "clients", "delete", "ci")
	u.ok(env, "roles", "delete", "operator", "--server", g.URL)
	if out := gatehouseAdmin(t, g, "audit", "list", "--type", "role.deleted"); !strings.Contains(out, "role.deleted") {
		t.Errorf("no role.deleted audit event:\n%s", out)
	}
}
