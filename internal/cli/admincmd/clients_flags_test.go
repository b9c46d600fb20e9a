package admincmd

import (
	"reflect"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// The flags of the clients commands land in their options.
func TestClientsFlags(t *testing.T) {
	t.Parallel()
	create := parse(t, NewCmdClientsCreate, "create", "Billing API", "--id", "billing",
		"--grant", "authorization_code,refresh_token", "--grant", "client_credentials",
		"--redirect-uri", "https://a.example/cb", "--redirect-uri", "https://b.example/cb",
		"--scope", "read", "--scope", "write", "--role", "editor,viewer",
		"--audience", "https://api.example", "--post-logout-redirect-uri", "https://a.example/bye",
		"--public", "--first-party", "--require-par", "--dpop-required", "--terminal-login",
		"--auth-method", "private_key_jwt", "--jwks-file", "keys.json", "--json", "--server", "https://auth.example")
	create.IO = command.IOStreams{}
	wantCreate := &ClientsCreateOptions{Server: "https://auth.example", Name: "Billing API", ID: "billing",
		Grants:       []string{"authorization_code", "refresh_token", "client_credentials"},
		RedirectURIs: []string{"https://a.example/cb", "https://b.example/cb"},
		Scopes:       []string{"read", "write"}, Roles: []string{"editor", "viewer"},
		Audiences: []string{"https://api.example"}, PostLogout: []string{"https://a.example/bye"},
		Public: true, FirstParty: true, RequirePAR: true, DPoPRequired: true, TerminalLogin: true,
		AuthMethod: "private_key_jwt", JWKSFile: "keys.json", JSON: true}
	if !reflect.DeepEqual(create, wantCreate) {
		t.Errorf("clients create:\n got %+v\nwant %+v", create, wantCreate)
	}

	update := parse(t, NewCmdClientsUpdate, "update", "billing", "--require-par=false", "--dpop-required", "--no-terminal-login", "--json", "--server", "https://auth.example")
	wantSettings := admin.ClientSettings{RequirePAR: new(false), DPoPRequired: new(true), TerminalLogin: new(false)}
	if update.ID != "billing" || !reflect.DeepEqual(update.Settings, wantSettings) || !update.JSON || update.Server != "https://auth.example" {
		t.Errorf("clients update: %+v, settings %+v", update, update.Settings)
	}
	if u := parse(t, NewCmdClientsUpdate, "update", "billing", "--terminal-login"); u.Settings.RequirePAR != nil || u.Settings.DPoPRequired != nil || *u.Settings.TerminalLogin != true || u.JSON {
		t.Errorf("clients update --terminal-login: %+v", u.Settings)
	}
	parseFails(t, NewCmdClientsUpdate, "update", "billing")
	parseFails(t, NewCmdClientsUpdate, "update", "billing", "--terminal-login", "--no-terminal-login")

	if d := parse(t, NewCmdClientsDelete, "delete", "billing", "--force", "--server", "https://auth.example"); d.ID != "billing" || !d.Force || d.Server != "https://auth.example" {
		t.Errorf("clients delete: %+v", d)
	}
	if d := parse(t, NewCmdClientsDelete, "delete", "billing"); d.Force {
		t.Errorf("clients delete without --force: %+v", d)
	}
	if l := parse(t, NewCmdClientsList, "list", "--json", "--server", "https://auth.example"); !l.JSON || l.Server != "https://auth.example" {
		t.Errorf("clients list: %+v", l)
	}
	if s := parse(t, NewCmdClientsShow, "show", "billing", "--json", "--server", "https://auth.example"); s.ID != "billing" || !s.JSON || s.Server != "https://auth.example" {
		t.Errorf("clients show: %+v", s)
	}
	if r := parse(t, NewCmdClientsRotateSecret, "rotate-secret", "billing", "--json", "--server", "https://auth.example"); r.ID != "billing" || !r.JSON || r.Server != "https://auth.example" {
		t.Errorf("clients rotate-secret: %+v", r)
	}
}
