package cliauth_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// statusDoc is the part of `status --json` the tests read.
type statusDoc struct {
	InUse struct {
		Source     string   `json:"source"`
		Profile    string   `json:"profile"`
		Kind       string   `json:"kind"`
		Issuer     string   `json:"issuer"`
		Subject    string   `json:"subject"`
		Overridden []string `json:"overridden"`
	} `json:"in_use"`
	Storage struct {
		Mode, Source string
	} `json:"storage"`
	Profiles []struct {
		Name     string `json:"name"`
		InUse    bool   `json:"in_use"`
		LoggedIn bool   `json:"logged_in"`
	} `json:"profiles"`
}

func (c *testCLI) status(args ...string) statusDoc {
	c.t.Helper()
	r := c.run("", append([]string{"status", "--json"}, args...)...)
	var doc statusDoc
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		c.t.Fatalf("status --json: %v\n%s", err, r.out)
	}
	return doc
}

func TestStatusJSONGolden(t *testing.T) {
	t.Parallel()
	c := fixedCLI(t)
	c.env["GATEHOUSE_API_KEY"] = "gatehouse_abcdefgh01234567_secretsecretsecret"
	c.env["GATEHOUSE_ISSUER"] = "https://auth.example.com"
	r := c.ok("", "status", "--json")
	golden(t, "status.json", strings.ReplaceAll(r.out, c.dir, "$CONFIG_DIR"))
	if strings.Contains(r.out, "secretsecretsecret") || strings.Contains(r.out, "ci-secret-0123456789") ||
		strings.Contains(r.out, "access-token-signature") || strings.Contains(r.out, "refresh-token-0123456789abcdef") {
		t.Errorf("status --json shows a secret:\n%s", r.out)
	}
}

// SECURITY-CASES 40: no token or secret in status, profiles or config
// output; masked values identify them.
func TestStatusMasksSecrets(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	sec := srv.addClient(t, "ci-bot", []string{protocol.GrantClientCredentials}, nil)
	c := newCLI(t, srv)
	c.loginBrowser()
	c.ok(sec+"\n", "login", "--issuer", srv.URL, "--client-credentials", "--client-id", "ci-bot", "--client-secret-stdin", "--profile", "ci")
	user, ci := c.stored("default"), c.stored("ci")
	c.env["GATEHOUSE_TOKEN"] = "static-token-from-the-environment"

	var all strings.Builder
	for _, args := range [][]string{
		{"status"}, {"status", "--json"}, {"profiles", "list"}, {"profiles", "list", "--json"},
		{"profiles", "show", "default"}, {"profiles", "show", "ci", "--json"}, {"config", "list"},
	} {
		r := c.run("", args...)
		all.WriteString(r.out + r.errOut)
		if r.err != nil {
			all.WriteString(r.err.Error())
		}
	}
	out := all.String()
	for name, s := range map[string]string{
		"access token": user.AccessToken, "refresh token": user.RefreshToken, "ID token": user.IDToken,
		"client secret": sec, "client token": ci.AccessToken, "env token": "static-token-from-the-environment",
	} {
		if strings.Contains(out, s) {
			t.Errorf("the %s is shown", name)
		}
	}
	for _, want := range []string{credstore.Mask(user.AccessToken), credstore.Mask(user.RefreshToken), credstore.Mask(sec), "GATEHOUSE_TOKEN=" + credstore.Mask("static-token-from-the-environment")} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks the masked %q", want)
		}
	}
	text := c.ok("", "status").out
	for _, want := range []string{
		"In use: bearer token from env GATEHOUSE_TOKEN",
		"(overriding default profile)",
		"  default (default)\n    issuer:   " + srv.URL + "\n    client:   gatehouse-cli\n    login:    user, alice (subject ",
		"expires 2026-01-02T03:19:05Z (in 15m0s)",
		"Storage: file " + c.dir,
		"(from env GATEHOUSE_AUTH_STORAGE)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("status lacks %q:\n%s", want, text)
		}
	}
}

// The precedence of DESIGN.md, and Resolved.Source naming the winner.
func TestCredentialPrecedence(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	sec := srv.addClient(t, "ci-bot", []string{protocol.GrantClientCredentials}, nil)
	key := srv.addAPIKey(t)
	c := newCLI(t, srv)
	c.loginBrowser()
	c.ok(sec+"\n", "login", "--issuer", srv.URL, "--client-credentials", "--client-id", "ci-bot", "--client-secret-stdin", "--profile", "other")
	defaultTok, otherTok := c.stored("default").AccessToken, c.stored("other").AccessToken
	base := map[string]string{"GATEHOUSE_CONFIG_DIR": c.dir, "GATEHOUSE_AUTH_STORAGE": "file"}
	envCC := map[string]string{"GATEHOUSE_CLIENT_ID": "ci-bot", "GATEHOUSE_CLIENT_SECRET": sec, "GATEHOUSE_ISSUER": srv.URL}
	all := map[string]string{"GATEHOUSE_TOKEN": "tok-from-env", "GATEHOUSE_API_KEY": key, "GATEHOUSE_PROFILE": "other"}
	for k, v := range envCC {
		all[k] = v
	}
	for _, tc := range []struct {
		name   string
		env    map[string]string
		args   []string
		source string
		want   string // the token printed; "" means a fresh client-credentials token
	}{
		{"default profile", nil, nil, "default profile", defaultTok},
		{"GATEHOUSE_PROFILE", map[string]string{"GATEHOUSE_PROFILE": "other"}, nil, "env GATEHOUSE_PROFILE", otherTok},
		{"client credentials over the profile", merge(envCC, map[string]string{"GATEHOUSE_PROFILE": "other"}), nil, "env GATEHOUSE_CLIENT_ID", ""},
		{"API key over client credentials", merge(envCC, map[string]string{"GATEHOUSE_API_KEY": key}), nil, "env GATEHOUSE_API_KEY", key},
		{"token over everything in the environment", all, nil, "env GATEHOUSE_TOKEN", "tok-from-env"},
		{"--profile over the environment", all, []string{"--profile", "default"}, "flag --profile", defaultTok},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.env = merge(base, tc.env)
			got := strings.TrimSpace(c.ok("", append([]string{"token"}, tc.args...)...).out)
			if tc.want == "" {
				if got == defaultTok || got == otherTok || !srv.active(t, got) {
					t.Errorf("token is not a fresh client-credentials token")
				}
			} else if got != tc.want {
				t.Errorf("token = %q, want %q", got, tc.want)
			}
			res, err := resolveWith(c.app("", &syncBuffer{}, &syncBuffer{}), tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if res.Source != tc.source {
				t.Errorf("Resolved.Source = %q, want %q", res.Source, tc.source)
			}
			if doc := c.status(tc.args...); doc.InUse.Source != tc.source {
				t.Errorf("status in_use.source = %q, want %q", doc.InUse.Source, tc.source)
			}
		})
	}
}

func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// resolveWith resolves the credentials of app in a host command of its
// own, run with args (flags), as a tool using the library does.
func resolveWith(app *cliauth.App, args []string) (*cliauth.Resolved, error) {
	var res *cliauth.Resolved
	cmd := &cobra.Command{Use: "whoami", SilenceErrors: true, SilenceUsage: true}
	app.AddFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var err error
		res, err = app.Resolve(cmd.Context())
		return err
	}
	cmd.SetArgs(append([]string{}, args...))
	if err := cmd.Execute(); err != nil {
		return nil, err
	}
	return res, nil
}
