package oidc

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/connector"
)

func ptr[T any](v T) *T { return &v }

func TestRestrictions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    func(*Config)
		claims func(map[string]any)
		info   func(map[string]any)
		want   string // "" for allowed
	}{
		{name: "allowed domain", cfg: func(c *Config) { c.AllowedEmailDomains = []string{"other.org", "EXAMPLE.com"} }},
		{name: "domain not allowed", cfg: func(c *Config) { c.AllowedEmailDomains = []string{"example.org"} }, want: "email domain"},
		{name: "subdomain not allowed", cfg: func(c *Config) { c.AllowedEmailDomains = []string{"example.com"} },
			claims: func(m map[string]any) { m["email"] = "ada@eu.example.com" }, want: "email domain"},
		{name: "domain suffix trick", cfg: func(c *Config) { c.AllowedEmailDomains = []string{"example.com"} },
			claims: func(m map[string]any) { m["email"] = "ada@evil-example.com" }, want: "email domain"},
		{name: "unverified email with a domain rule", cfg: func(c *Config) { c.AllowedEmailDomains = []string{"example.com"} },
			claims: func(m map[string]any) { m["email_verified"] = false }, want: "not verified"},
		{name: "email_verified missing with a domain rule", cfg: func(c *Config) { c.AllowedEmailDomains = []string{"example.com"} },
			claims: func(m map[string]any) { delete(m, "email_verified") }, want: "not verified"},
		{name: "email_verified as the string true", cfg: func(c *Config) { c.AllowedEmailDomains = []string{"example.com"} },
			claims: func(m map[string]any) { m["email_verified"] = "true" }},
		{name: "no email with a domain rule", cfg: func(c *Config) { c.AllowedEmailDomains = []string{"example.com"}; c.SkipUserinfo = true },
			claims: func(m map[string]any) { delete(m, "email"); delete(m, "email_verified") }, want: "no email"},
		{name: "unverified email without rules", claims: func(m map[string]any) { m["email_verified"] = false }},
		{name: "unverified email, verification required", cfg: func(c *Config) { c.RequireVerifiedEmail = ptr(true) },
			claims: func(m map[string]any) { m["email_verified"] = false }, want: "not verified"},
		{name: "hosted domain matches", cfg: func(c *Config) { c.HostedDomain = "example.com" },
			claims: func(m map[string]any) { m["hd"] = "example.com" }},
		{name: "hosted domain differs", cfg: func(c *Config) { c.HostedDomain = "example.com" },
			claims: func(m map[string]any) { m["hd"] = "example.org" }, want: "hosted domain"},
		{name: "hosted domain missing (personal account)", cfg: func(c *Config) { c.HostedDomain = "example.com" }, want: "no hd"},
		{name: "hosted domain from userinfo is not trusted", cfg: func(c *Config) { c.HostedDomain = "example.com" },
			claims: func(m map[string]any) { delete(m, "name") }, info: func(m map[string]any) { m["hd"] = "example.com" }, want: "no hd"},
		{name: "hosted domain, unverified email", cfg: func(c *Config) { c.HostedDomain = "example.com" },
			claims: func(m map[string]any) { m["hd"] = "example.com"; m["email_verified"] = false }, want: "not verified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.claims, f.userinfo = tc.claims, tc.info
			cfg := f.config(t)
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			c := f.connector(t, cfg)
			if tc.want == "" {
				if _, err := f.login(t, c); err != nil {
					t.Fatal(err)
				}
				return
			}
			expectErr(t, f, c, connector.ErrNotAllowed, tc.want)
		})
	}
}

func TestUserinfo(t *testing.T) {
	t.Run("fills what the ID token lacks", func(t *testing.T) {
		f := newFake(t)
		f.claims = func(m map[string]any) {
			delete(m, "email")
			delete(m, "email_verified")
			delete(m, "name")
			delete(m, "groups")
		}
		f.userinfo = func(m map[string]any) {
			m["email"], m["email_verified"], m["name"], m["groups"] = "ada@example.org", true, "Ada from userinfo", []string{"from-userinfo"}
		}
		id, err := f.login(t, f.connector(t, f.config(t)))
		if err != nil {
			t.Fatal(err)
		}
		if id.Email != "ada@example.org" || !id.EmailVerified || id.Name != "Ada from userinfo" || !slices.Equal(id.Groups, []string{"from-userinfo"}) {
			t.Errorf("identity = %+v", *id)
		}
		if f.count("/userinfo") != 1 {
			t.Errorf("userinfo called %d times", f.count("/userinfo"))
		}
	})
	t.Run("the ID token wins", func(t *testing.T) {
		f := newFake(t)
		f.claims = func(m map[string]any) { delete(m, "groups") }
		f.userinfo = func(m map[string]any) { m["email"], m["name"] = "other@example.org", "Other" }
		id, err := f.login(t, f.connector(t, f.config(t)))
		if err != nil {
			t.Fatal(err)
		}
		if id.Email != "ada@example.com" || id.Name != "Ada Lovelace" || !slices.Equal(id.Groups, []string{"ops-admins"}) {
			t.Errorf("identity = %+v", *id)
		}
	})
	t.Run("sub mismatch", func(t *testing.T) {
		f := newFake(t)
		f.claims = func(m map[string]any) { delete(m, "name") }
		f.userinfo = func(m map[string]any) { m["sub"] = "someone-else" }
		expectErr(t, f, f.connector(t, f.config(t)), connector.ErrInvalidCredentials, "does not match the ID token")
	})
	t.Run("sub missing", func(t *testing.T) {
		f := newFake(t)
		f.claims = func(m map[string]any) { delete(m, "name") }
		f.userinfo = func(m map[string]any) { delete(m, "sub") }
		expectErr(t, f, f.connector(t, f.config(t)), connector.ErrInvalidCredentials, "userinfo: sub")
	})
	t.Run("skipped", func(t *testing.T) {
		f := newFake(t)
		f.claims = func(m map[string]any) { delete(m, "name") }
		f.userinfo = func(m map[string]any) { m["sub"] = "someone-else" }
		cfg := f.config(t)
		cfg.SkipUserinfo = true
		id, err := f.login(t, f.connector(t, cfg))
		if err != nil {
			t.Fatal(err)
		}
		if id.Name != "" || f.count("/userinfo") != 0 {
			t.Errorf("userinfo was read: %+v", *id)
		}
	})
	t.Run("not advertised", func(t *testing.T) {
		f := newFake(t)
		f.claims = func(m map[string]any) { delete(m, "name") }
		delete(f.doc, "userinfo_endpoint")
		if _, err := f.login(t, f.connector(t, f.config(t))); err != nil {
			t.Fatal(err)
		}
		if f.count("/userinfo") != 0 {
			t.Error("userinfo called though not advertised")
		}
	})
}

func TestClaimMapping(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    func(*Config)
		claims func(map[string]any)
		check  func(t *testing.T, id *connector.Identity)
	}{
		{name: "Keycloak realm roles", cfg: func(c *Config) { c.GroupsClaim = "realm_access.roles" },
			claims: func(m map[string]any) {
				m["realm_access"] = map[string]any{"roles": []string{"admin", "offline_access"}}
			},
			check: func(t *testing.T, id *connector.Identity) {
				if !slices.Equal(id.Groups, []string{"admin", "offline_access"}) {
					t.Errorf("groups %q", id.Groups)
				}
			}},
		{name: "nested single string", cfg: func(c *Config) { c.GroupsClaim = "org.team.name" },
			claims: func(m map[string]any) { m["org"] = map[string]any{"team": map[string]any{"name": "platform"}} },
			check: func(t *testing.T, id *connector.Identity) {
				if !slices.Equal(id.Groups, []string{"platform"}) {
					t.Errorf("groups %q", id.Groups)
				}
			}},
		{name: "top-level single string", claims: func(m map[string]any) { m["groups"] = "solo" },
			check: func(t *testing.T, id *connector.Identity) {
				if !slices.Equal(id.Groups, []string{"solo"}) {
					t.Errorf("groups %q", id.Groups)
				}
			}},
		{name: "claim name with dots", cfg: func(c *Config) { c.GroupsClaim = "https://example.com/groups" },
			claims: func(m map[string]any) { m["https://example.com/groups"] = []string{"namespaced"} },
			check: func(t *testing.T, id *connector.Identity) {
				if !slices.Equal(id.Groups, []string{"namespaced"}) {
					t.Errorf("groups %q", id.Groups)
				}
			}},
		{name: "path through a non-object", cfg: func(c *Config) { c.GroupsClaim = "realm_access.roles"; c.SkipUserinfo = true },
			claims: func(m map[string]any) { m["realm_access"] = "oops" },
			check: func(t *testing.T, id *connector.Identity) {
				if len(id.Groups) != 0 {
					t.Errorf("groups %q", id.Groups)
				}
			}},
		{name: "non-strings in the array are left out", claims: func(m map[string]any) { m["groups"] = []any{"a", 7, map[string]any{}, "b", ""} },
			check: func(t *testing.T, id *connector.Identity) {
				if !slices.Equal(id.Groups, []string{"a", "b"}) {
					t.Errorf("groups %q", id.Groups)
				}
			}},
		{name: "Entra object id subject and upn username", cfg: func(c *Config) { c.SubjectClaim = "oid"; c.UsernameClaim = "upn" },
			claims: func(m map[string]any) {
				m["oid"] = "00000000-0000-0000-0000-000000000001"
				m["upn"] = "ada@corp.example"
			},
			check: func(t *testing.T, id *connector.Identity) {
				if id.Subject != "00000000-0000-0000-0000-000000000001" || id.Username != "ada@corp.example" {
					t.Errorf("subject %q username %q", id.Subject, id.Username)
				}
			}},
		{name: "username falls back to email, then sub", claims: func(m map[string]any) { delete(m, "preferred_username") },
			check: func(t *testing.T, id *connector.Identity) {
				if id.Username != "ada@example.com" {
					t.Errorf("username %q", id.Username)
				}
			}},
		{name: "custom email and name claims", cfg: func(c *Config) { c.EmailClaim = "mail"; c.NameClaim = "displayName" },
			claims: func(m map[string]any) { m["mail"] = "a@example.net"; m["displayName"] = "A. L." },
			check: func(t *testing.T, id *connector.Identity) {
				if id.Email != "a@example.net" || id.Name != "A. L." {
					t.Errorf("email %q name %q", id.Email, id.Name)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.claims = tc.claims
			cfg := f.config(t)
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			id, err := f.login(t, f.connector(t, cfg))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, id)
		})
	}
	t.Run("missing subject claim", func(t *testing.T) {
		f := newFake(t)
		cfg := f.config(t)
		cfg.SubjectClaim = "oid"
		expectErr(t, f, f.connector(t, cfg), connector.ErrInvalidCredentials, `"oid" is missing`)
	})
}

func TestConfigValidate(t *testing.T) {
	good := Config{Issuer: "https://accounts.google.com", ClientID: "id", ClientSecretEnv: "X"}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, tc := range []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Issuer = "" }, "issuer is required"},
		{func(c *Config) { c.Issuer = "accounts.google.com" }, "issuer"},
		{func(c *Config) { c.Issuer = "http://idp.example" }, "non-loopback"},
		{func(c *Config) { c.Issuer = "https://a.example/?x=1" }, "no query"},
		{func(c *Config) { c.Issuer = "https://login.microsoftonline.com/{tenantid}/v2.0" }, "tenant's issuer"},
		{func(c *Config) { c.ClientID = "" }, "client_id is required"},
		{func(c *Config) { c.ClientSecretEnv = "" }, "public_client: true"},
		{func(c *Config) { c.ClientSecretFile = "/x" }, "both set"},
		{func(c *Config) { c.PublicClient = true }, "public_client: true, but a client secret"},
		{func(c *Config) { c.TokenAuthMethod = "private_key_jwt" }, "token_auth_method"},
		{func(c *Config) { c.Scopes = []string{"openid email"} }, "scopes"},
		{func(c *Config) { c.AuthParams = map[string]string{"nonce": "x"} }, "auth_params"},
		{func(c *Config) { c.GroupsClaim = "realm_access..roles" }, "groups_claim"},
		{func(c *Config) { c.AllowedEmailDomains = []string{"@example.com"} }, "allowed_email_domains"},
		{func(c *Config) { c.HostedDomain = "a b" }, "hosted_domain"},
		{func(c *Config) { c.AllowedEmailDomains = []string{"example.com"}; c.RequireVerifiedEmail = ptr(false) }, "require_verified_email"},
		{func(c *Config) { c.IDTokenAlgorithms = []string{"none"} }, `"none" is never accepted`},
		{func(c *Config) { c.IDTokenAlgorithms = []string{"HS512"} }, "not supported"},
		{func(c *Config) {
			c.ClientSecretEnv = ""
			c.PublicClient = true
			c.IDTokenAlgorithms = []string{"HS256"}
		}, "public client has none"},
		{func(c *Config) { c.Timeout = 10 }, "too short"},
	} {
		c := good
		tc.change(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", c, err, tc.want)
		}
	}
}

func TestNewReadsSecret(t *testing.T) {
	base := Config{Issuer: "https://idp.example", ClientID: "id"}
	t.Run("file", func(t *testing.T) {
		p := t.TempDir() + "/secret"
		if err := writeFile(p, "  s3cret\n"); err != nil {
			t.Fatal(err)
		}
		cfg := base
		cfg.ClientSecretFile = p
		c, err := New("x", "X", cfg)
		if err != nil || c.secret != "s3cret" {
			t.Fatalf("secret %q, err %v", c.secret, err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		cfg := base
		cfg.ClientSecretFile = t.TempDir() + "/none"
		if _, err := New("x", "X", cfg); err == nil || !strings.Contains(err.Error(), "client_secret_file") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("empty env", func(t *testing.T) {
		cfg := base
		cfg.ClientSecretEnv = "OIDC_TEST_UNSET_SECRET"
		t.Setenv("OIDC_TEST_UNSET_SECRET", "")
		if _, err := New("x", "X", cfg); err == nil || !strings.Contains(err.Error(), "OIDC_TEST_UNSET_SECRET") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("HS256 with a short secret", func(t *testing.T) {
		cfg := base
		cfg.ClientSecretEnv = "OIDC_TEST_SHORT_SECRET"
		cfg.IDTokenAlgorithms = []string{"HS256"}
		t.Setenv("OIDC_TEST_SHORT_SECRET", "short")
		if _, err := New("x", "X", cfg); err == nil || !strings.Contains(err.Error(), "shorter than") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("invalid config names the connector", func(t *testing.T) {
		if _, err := New("corp", "X", Config{}); err == nil || !strings.Contains(err.Error(), "oidc connector corp: issuer is required") {
			t.Fatalf("err = %v", err)
		}
	})
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
