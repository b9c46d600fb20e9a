package admin_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/clientreg"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// TestClientOperationsReturnTheirEvents: registering, changing, rotating
// and deleting a client return the events that record them, with the
// details the audit trail has always had; a change that changes nothing
// and a refusal return none.
func TestClientOperationsReturnTheirEvents(t *testing.T) {
	ops, st, _ := newService(t)
	ctx := context.Background()
	c, sec, ev, err := ops.CreateClient(ctx, admin.NewClient{ID: "web", Name: " Web ", GrantTypes: []string{"authorization_code", "refresh_token", "authorization_code"},
		RedirectURIs: []string{"https://web.example/cb", "https://web.example/cb"}, Scopes: []string{"openid"}, Roles: []string{"Viewer"}, FirstParty: true, TerminalLogin: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Web" || c.AuthMethod != protocol.AuthMethodBasic || len(c.GrantTypes) != 2 || len(c.RedirectURIs) != 1 ||
		len(c.Roles) != 1 || c.Roles[0] != "viewer" || !c.CreatedAt.Equal(start) || c.SecretHash != secret.Hash(sec) || sec == "" {
		t.Errorf("created %+v with secret %q", c, sec)
	}
	wantEvent(t, ev, audit.ClientCreated, "", map[string]string{"name": "Web", "type": "confidential", "auth_method": "client_secret_basic",
		"grant_types": "authorization_code refresh_token", "scopes": "openid", "roles": "viewer", "audiences": "",
		"first_party": "true", "require_par": "false", "dpop_required": "false", "terminal_login": "true"})
	if ev.ClientID != "web" {
		t.Errorf("created: event for client %q", ev.ClientID)
	}

	_, ev, err = ops.UpdateClient(ctx, "web", admin.ClientSettings{TerminalLogin: new(false), DPoPRequired: new(true), RequirePAR: new(false)})
	if err != nil {
		t.Fatal(err)
	}
	wantEvent(t, ev, audit.ClientUpdated, "", map[string]string{"change": "terminal_login off, dpop_required on",
		"terminal_login": "false", "dpop_required": "true", "require_par": "false"})
	if _, ev, err = ops.UpdateClient(ctx, "web", admin.ClientSettings{DPoPRequired: new(true)}); err != nil || ev.Type != "" {
		t.Errorf("a change to the same value: event %+v, %v; want none", ev, err)
	}

	_, newSec, ev, err := ops.RotateClientSecret(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	wantEvent(t, ev, audit.ClientUpdated, "", map[string]string{"change": "secret rotated"})
	if stored, err := st.GetClient(ctx, "web"); err != nil || stored.SecretHash != secret.Hash(newSec) {
		t.Errorf("after rotate-secret: %+v, %v", stored, err)
	}

	ev, err = ops.DeleteClient(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	wantEvent(t, ev, audit.ClientDeleted, "", nil)
	if ev.ClientID != "web" {
		t.Errorf("deleted: event for client %q", ev.ClientID)
	}
	if ev, err := ops.DeleteClient(ctx, "web"); admin.KindOf(err) != admin.NotFound || ev.Type != "" {
		t.Errorf("delete again: %+v, %v; want not found and no event", ev, err)
	}
}

// TestCreateClientRefusals: the rules of a registration, each a refusal
// of the kind a front end shows, naming the member it is about when one
// is.
func TestCreateClientRefusals(t *testing.T) {
	ops, st, _ := newService(t)
	ctx := context.Background()
	cc := []string{"client_credentials"}
	for _, tc := range []struct {
		name  string
		nc    admin.NewClient
		kind  admin.Kind
		field string
	}{
		{"empty name", admin.NewClient{ID: "x", Name: " ", GrantTypes: cc}, admin.Invalid, ""},
		{"id with a path", admin.NewClient{ID: "bad id/../x", Name: "X", GrantTypes: cc}, admin.Invalid, ""},
		{"no grant", admin.NewClient{ID: "x", Name: "X"}, admin.Invalid, admin.FieldGrants},
		{"public client credentials", admin.NewClient{ID: "x", Name: "X", Public: true, GrantTypes: cc}, admin.Invalid, admin.FieldGrants},
		{"public with a secret method", admin.NewClient{ID: "x", Name: "X", Public: true, AuthMethod: "client_secret_post", GrantTypes: []string{"device_code"}}, admin.Invalid, admin.FieldAuthMethod},
		{"confidential none", admin.NewClient{ID: "x", Name: "X", AuthMethod: "none", GrantTypes: cc}, admin.Invalid, admin.FieldAuthMethod},
		{"unknown method", admin.NewClient{ID: "x", Name: "X", AuthMethod: "tls_client_auth", GrantTypes: cc}, admin.Invalid, admin.FieldAuthMethod},
		{"private_key_jwt without keys", admin.NewClient{ID: "x", Name: "X", AuthMethod: "private_key_jwt", GrantTypes: cc}, admin.Invalid, admin.FieldJWKS},
		{"keys without private_key_jwt", admin.NewClient{ID: "x", Name: "X", JWKS: `{"keys":[]}`, GrantTypes: cc}, admin.Invalid, admin.FieldJWKS},
		{"post-logout URI with a fragment", admin.NewClient{ID: "x", Name: "X", GrantTypes: cc, PostLogoutRedirectURIs: []string{"https://x.example/#a"}}, admin.Invalid, ""},
		{"unknown role", admin.NewClient{ID: "x", Name: "X", GrantTypes: cc, Roles: []string{"nosuch"}}, admin.Invalid, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, ev, err := ops.CreateClient(ctx, tc.nc)
			var e *admin.Error
			if !errors.As(err, &e) || e.Kind != tc.kind || e.Field != tc.field || ev.Type != "" {
				t.Errorf("%v (%+v), event %+v; want kind %d about %q and no event", err, e, ev, tc.kind, tc.field)
			}
		})
	}
	if cs, err := st.ListClients(ctx); err != nil || len(cs) != 0 {
		t.Errorf("refused registrations stored %d clients (%v)", len(cs), err)
	}
	// A client without a secret has none to rotate.
	if _, _, _, err := ops.CreateClient(ctx, admin.NewClient{ID: "tool", Name: "Tool", Public: true, GrantTypes: []string{"device_code"}}); err != nil {
		t.Fatal(err)
	}
	if _, sec, ev, err := ops.RotateClientSecret(ctx, "tool"); admin.KindOf(err) != admin.Conflict || sec != "" || ev.Type != "" {
		t.Errorf("rotate-secret of a public client: %q, %+v, %v", sec, ev, err)
	}
	if _, _, err := ops.UpdateClient(ctx, "tool", admin.ClientSettings{TerminalLogin: new(true)}); !errors.Is(err, clientreg.ErrTerminalLoginThirdParty) || admin.KindOf(err) != admin.Invalid {
		t.Errorf("terminal sign-in for a third-party client: %v", err)
	}
}
