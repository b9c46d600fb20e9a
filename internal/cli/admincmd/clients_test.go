package admincmd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/clientreg"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("output is not the expected JSON: %v\n%s", err, s)
	}
	return v
}

func TestClientsCreateShowsSecretOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.ok("", "clients", "create", "ci", "--grant", "client_credentials", "--scope", "read", "--role", "viewer", "--json")
	got := decode[map[string]string](t, r.Out)
	id, sec := got["client_id"], got["client_secret"]
	if id != "ci" || len(sec) < 43 {
		t.Fatalf("create printed %v, want client_id ci and a 256-bit secret", got)
	}
	if len(got) != 2 {
		t.Errorf("create --json printed extra keys: %v", got)
	}

	c, err := h.store().GetClient(t.Context(), "ci")
	if err != nil {
		t.Fatal(err)
	}
	if c.SecretHash != secret.Hash(sec) {
		t.Errorf("stored hash %q is not secret.Hash of the printed secret", c.SecretHash)
	}
	if c.Public || c.AuthMethod != protocol.AuthMethodBasic || c.CreatedAt.IsZero() {
		t.Errorf("stored client %+v: want confidential, client_secret_basic, created_at set", c)
	}
	if diff := cmp.Diff([]string{protocol.GrantClientCredentials}, c.GrantTypes); diff != "" {
		t.Errorf("grant types (-want +got):\n%s", diff)
	}
	if !slices.Equal(c.Scopes, []string{"read"}) || !slices.Equal(c.Roles, []string{"viewer"}) {
		t.Errorf("scopes %v roles %v", c.Scopes, c.Roles)
	}
	// The audit event went to stderr (audit.output stdout), without secrets.
	if !strings.Contains(r.ErrOut, `"type":"client.created"`) || !strings.Contains(r.ErrOut, `"actor":"cli"`) {
		t.Errorf("no client.created audit event on stderr:\n%s", r.ErrOut)
	}
	if strings.Contains(r.ErrOut, sec) || strings.Contains(r.ErrOut, c.SecretHash) {
		t.Error("the audit event carries the secret or its hash")
	}

	for _, args := range [][]string{
		{"clients", "list"},
		{"clients", "list", "--json"},
		{"clients", "show", "ci"},
		{"clients", "show", "ci", "--json"},
	} {
		r := h.ok("", args...)
		if !strings.Contains(r.Out, "ci") {
			t.Errorf("%v does not show the client:\n%s", args, r.Out)
		}
		if strings.Contains(r.Out+r.ErrOut, sec) || strings.Contains(r.Out+r.ErrOut, c.SecretHash) {
			t.Errorf("%v prints the secret or its hash:\n%s", args, r.Out)
		}
	}

	shown := decode[clientJSON](t, h.ok("", "clients", "show", "ci", "--json").Out)
	want := clientJSON{
		ClientID: "ci", Name: "ci", Type: "confidential", AuthMethod: "client_secret_basic",
		GrantTypes: []string{"client_credentials"}, RedirectURIs: []string{}, Scopes: []string{"read"},
		Roles: []string{"viewer"}, Audiences: []string{}, PostLogout: []string{}, CreatedAt: shown.CreatedAt, UpdatedAt: shown.UpdatedAt,
	}
	if diff := cmp.Diff(want, shown); diff != "" {
		t.Errorf("show --json (-want +got):\n%s", diff)
	}
	if !strings.HasSuffix(shown.CreatedAt, "Z") {
		t.Errorf("created_at %q is not RFC 3339 UTC", shown.CreatedAt)
	}
	listed := decode[[]clientJSON](t, h.ok("", "clients", "list", "--json").Out)
	if len(listed) != 1 || listed[0].ClientID != "ci" {
		t.Errorf("list --json = %+v", listed)
	}
}

func TestClientsCreateHumanOutput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.ok("", "clients", "create", "My Web App!", "--grant", "authorization_code,refresh_token",
		"--redirect-uri", "https://app.example/callback", "--scope", "openid profile", "--first-party")
	if !strings.Contains(r.Out, "Client ID:     my-web-app\n") || !strings.Contains(r.Out, "shown only this once") {
		t.Errorf("human output:\n%s", r.Out)
	}
	sec := ""
	for line := range strings.Lines(r.Out) {
		if v, ok := strings.CutPrefix(line, "Client secret: "); ok {
			sec = strings.TrimSpace(v)
		}
	}
	c, err := h.store().GetClient(t.Context(), "my-web-app")
	if err != nil {
		t.Fatal(err)
	}
	if sec == "" || c.SecretHash != secret.Hash(sec) {
		t.Errorf("printed secret %q does not match the stored hash", sec)
	}
	if c.Name != "My Web App!" || !c.FirstParty || !slices.Equal(c.Scopes, []string{"openid", "profile"}) {
		t.Errorf("stored %+v", c)
	}
}

func TestClientsCreatePublicAndDeviceAlias(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.ok("", "clients", "create", "tool", "--public", "--grant", "authorization_code", "--grant", "device_code",
		"--grant", "refresh_token", "--redirect-uri", "http://127.0.0.1/callback", "--redirect-uri", "com.example.tool:/cb", "--json")
	got := decode[map[string]any](t, r.Out)
	if _, ok := got["client_secret"]; ok || got["client_id"] != "tool" {
		t.Errorf("public client create printed %v; want client_id only", got)
	}
	c, err := h.store().GetClient(t.Context(), "tool")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Public || c.AuthMethod != protocol.AuthMethodNone || c.SecretHash != "" {
		t.Errorf("stored %+v: want public, auth method none, no secret", c)
	}
	if !slices.Contains(c.GrantTypes, protocol.GrantDeviceCode) {
		t.Errorf("device_code alias not resolved: %v", c.GrantTypes)
	}
	h.fail(command.ExitError, "public", "", "clients", "rotate-secret", "tool")
	if !strings.Contains(h.ok("", "clients", "list").Out, "device_code") {
		t.Error("list does not show the device grant")
	}
}

func TestClientsPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, k any) string {
		data, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	h.fail(command.ExitUsage, "private key", "", "clients", "create", "svc", "--grant", "client_credentials",
		"--auth-method", "private_key_jwt", "--jwks-file", write("private.json", key))

	r := h.ok("", "clients", "create", "svc", "--grant", "client_credentials",
		"--auth-method", "private_key_jwt", "--jwks-file", write("public.json", &key.PublicKey), "--json")
	if got := decode[map[string]any](t, r.Out); got["client_secret"] != nil {
		t.Errorf("private_key_jwt client got a secret: %v", got)
	}
	shown := decode[clientJSON](t, h.ok("", "clients", "show", "svc", "--json").Out)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(shown.JWKS, &set); err != nil || len(set.Keys) != 1 || set.Keys[0].KeyID != "k1" {
		t.Errorf("show --json jwks = %s (%v)", shown.JWKS, err)
	}
	if shown.AuthMethod != "private_key_jwt" {
		t.Errorf("show: auth method %q", shown.AuthMethod)
	}
	h.fail(command.ExitError, "private_key_jwt", "", "clients", "rotate-secret", "svc")
}

func TestClientsRotateSecret(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	first := decode[map[string]string](t, h.ok("", "clients", "create", "ci", "--grant", "client_credentials", "--json").Out)
	r := h.ok("", "clients", "rotate-secret", "ci", "--json")
	second := decode[map[string]string](t, r.Out)
	if second["client_id"] != "ci" || second["client_secret"] == "" || second["client_secret"] == first["client_secret"] {
		t.Fatalf("rotate printed %v after %v", second, first)
	}
	c, err := h.store().GetClient(t.Context(), "ci")
	if err != nil {
		t.Fatal(err)
	}
	if c.SecretHash != secret.Hash(second["client_secret"]) {
		t.Error("stored hash is not that of the new secret")
	}
	if !strings.Contains(r.ErrOut, `"type":"client.updated"`) || strings.Contains(r.ErrOut, second["client_secret"]) {
		t.Errorf("audit event missing or leaking the secret:\n%s", r.ErrOut)
	}
	human := h.ok("", "clients", "rotate-secret", "ci")
	if !strings.Contains(human.Out, "shown only this once") {
		t.Errorf("human rotate output:\n%s", human.Out)
	}
	h.fail(command.ExitError, "not found", "", "clients", "rotate-secret", "nope")
}

func TestClientsUpdateRequirePAR(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("", "clients", "create", "portal", "--grant", "authorization_code", "--redirect-uri", "https://portal.example/cb", "--require-par")
	get := func() bool {
		c, err := h.store().GetClient(t.Context(), "portal")
		if err != nil {
			t.Fatal(err)
		}
		return c.RequirePAR
	}
	if !get() {
		t.Fatal("create --require-par did not set it")
	}
	r := h.ok("", "clients", "update", "portal", "--require-par=false")
	if get() || !strings.Contains(r.Out, "sent in full or pushed") || !strings.Contains(r.ErrOut, `"type":"client.updated"`) {
		t.Errorf("update --require-par=false: stored %v, out %q, err %q", get(), r.Out, r.ErrOut)
	}
	shown := decode[map[string]any](t, h.ok("", "clients", "update", "portal", "--require-par", "--json").Out)
	if shown["require_pushed_authorization_requests"] != true || !get() {
		t.Errorf("update --require-par --json: %v", shown)
	}
	h.fail(command.ExitUsage, "nothing to change", "", "clients", "update", "portal")
	h.fail(command.ExitError, "not found", "", "clients", "update", "nope", "--require-par")
}

func TestClientsDelete(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("", "clients", "create", "ci", "--grant", "client_credentials")
	h.fail(command.ExitError, "already exists", "", "clients", "create", "ci", "--grant", "client_credentials")
	r := h.ok("", "clients", "delete", "ci")
	if !strings.Contains(r.ErrOut, `"type":"client.deleted"`) {
		t.Errorf("no audit event:\n%s", r.ErrOut)
	}
	h.fail(command.ExitError, "not found", "", "clients", "show", "ci")
	h.fail(command.ExitError, "not found", "", "clients", "delete", "ci")
	h.fail(command.ExitUsage, "--force", "", "clients", "delete", "gatehouse-cli")
	h.fail(command.ExitError, "not found", "", "clients", "delete", "gatehouse-cli", "--force")
}

func TestClientsCreateValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no grant", []string{"x"}, "--grant"},
		{"unknown grant", []string{"x", "--grant", "password"}, "unknown grant type"},
		{"public client_credentials", []string{"x", "--public", "--grant", "client_credentials"}, "public client cannot use client_credentials"},
		{"code without redirect", []string{"x", "--grant", "authorization_code"}, "--redirect-uri"},
		{"redirect without code", []string{"x", "--grant", "client_credentials", "--redirect-uri", "https://a.example/cb"}, "only used by the authorization_code"},
		{"refresh alone", []string{"x", "--grant", "client_credentials", "--grant", "refresh_token"}, "refresh_token grant needs"},
		{"http non-loopback", []string{"x", "--grant", "authorization_code", "--redirect-uri", "http://app.example/cb"}, "non-loopback"},
		{"fragment", []string{"x", "--grant", "authorization_code", "--redirect-uri", "https://app.example/cb#x"}, "fragment"},
		{"relative", []string{"x", "--grant", "authorization_code", "--redirect-uri", "/cb"}, "absolute"},
		{"javascript scheme", []string{"x", "--grant", "authorization_code", "--redirect-uri", "javascript:alert(1)"}, "private-use scheme"},
		{"user info", []string{"x", "--grant", "authorization_code", "--redirect-uri", "https://u@app.example/cb"}, "user info"},
		{"bad role", []string{"x", "--grant", "client_credentials", "--role", "root"}, "unknown role"},
		{"bad scope", []string{"x", "--grant", "client_credentials", "--scope", `a"b`}, "scope"},
		{"comma scope", []string{"x", "--grant", "client_credentials", "--scope", "a,b"}, "repeat --scope"},
		{"unknown auth method", []string{"x", "--grant", "client_credentials", "--auth-method", "tls_client_auth"}, "unknown auth method"},
		{"confidential none", []string{"x", "--grant", "client_credentials", "--auth-method", "none"}, "--public"},
		{"public with secret method", []string{"x", "--public", "--grant", "device_code", "--auth-method", "client_secret_basic"}, "public client"},
		{"pkjwt without jwks", []string{"x", "--grant", "client_credentials", "--auth-method", "private_key_jwt"}, "--jwks-file"},
		{"jwks without pkjwt", []string{"x", "--grant", "client_credentials", "--jwks-file", "f.json"}, "--jwks-file is only used"},
		{"bad id", []string{"x", "--grant", "client_credentials", "--id", "has space"}, "client ID"},
		{"name without slug", []string{"!!!", "--grant", "client_credentials"}, "--id"},
		{"empty name", []string{" ", "--grant", "client_credentials"}, "must not be empty"},
		{"missing name", []string{"--grant", "client_credentials"}, "accepts 1 arg"},
		{"unknown flag", []string{"x", "--grant", "client_credentials", "--colour"}, "unknown flag"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			r := h.fail(command.ExitUsage, tc.want, "", append([]string{"clients", "create"}, tc.args...)...)
			var ue *command.UsageError
			if !errors.As(r.Err, &ue) || ue.Command != "gatehouse clients create" {
				t.Errorf("error %v is not a usage error naming the command", r.Err)
			}
		})
	}
	h.t = t
	if got := decode[[]clientJSON](t, h.ok("", "clients", "list", "--json").Out); len(got) != 0 {
		t.Errorf("rejected clients were stored: %+v", got)
	}
}

func TestCheckRedirectURI(t *testing.T) {
	t.Parallel()
	good := []string{
		"https://app.example/cb",
		"https://app.example:8443/cb?x=1",
		"http://127.0.0.1/callback",
		"http://127.0.0.1:8000/callback",
		"http://[::1]/callback",
		"http://localhost:3000/cb",
		"com.example.app:/oauth2redirect",
	}
	bad := []string{
		"", "cb", "//app.example/cb", "https:///cb", "HTTPS://app.example/cb",
		"http://app.example/cb", "http://10.0.0.1/cb", "https://app.example/cb#", "https://app.example/c b",
		"https://app.example\\@evil.example/", "myapp:/cb", "data:text/html,x", "file:///etc/passwd",
	}
	for _, u := range good {
		if err := clientreg.CheckRedirectURI(u); err != nil {
			t.Errorf("checkRedirectURI(%q) = %v, want nil", u, err)
		}
	}
	for _, u := range bad {
		if err := clientreg.CheckRedirectURI(u); err == nil {
			t.Errorf("checkRedirectURI(%q) accepted it", u)
		}
	}
}

func TestSlugClientID(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"ci":             "ci",
		"My Web App!":    "my-web-app",
		"  Grafana  ":    "grafana",
		"a__b--c":        "a-b-c",
		"Ünïcode Client": "n-code-client",
	}
	for name, want := range cases {
		got, err := slugClientID(name)
		if err != nil || got != want {
			t.Errorf("slugClientID(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := slugClientID("***"); err == nil {
		t.Error("slugClientID accepted a name without letters or digits")
	}
}

// TestClientsCreateRun drives the run function without flag parsing, on a
// fake clock, and checks the audit event it writes.
func TestClientsCreateRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	st := h.store()
	clk := clocktest.New(time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC))
	var auditBuf command.Buffer
	env := &adminbackend.Env{Store: st, Clock: clk, Audit: audit.New(&auditBuf, clk)}
	streams, out, _ := command.NewTestIOStreams("")
	opts := &ClientsCreateOptions{IO: streams, Backend: adminbackend.NewDatabase(streams, env), Name: "Billing API", Grants: []string{"client_credentials"}, Roles: []string{"Editor"}, JSON: true}
	if err := clientsCreateRun(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	if err := env.Audit.Close(); err != nil {
		t.Fatal(err)
	}
	printed := decode[clientSecretJSON](t, out.String())
	c, err := st.GetClient(t.Context(), "billing-api")
	if err != nil {
		t.Fatal(err)
	}
	if !c.CreatedAt.Equal(clk.Now()) || !slices.Equal(c.Roles, []string{"editor"}) || c.SecretHash != secret.Hash(printed.ClientSecret) {
		t.Errorf("stored %+v", c)
	}
	ev := decode[audit.Event](t, auditBuf.String())
	if ev.Type != audit.ClientCreated || ev.Actor != "cli" || ev.ClientID != "billing-api" || !ev.Time.Equal(clk.Now()) {
		t.Errorf("audit event %+v", ev)
	}
}
