package config

import (
	"strings"
	"testing"
	"time"
)

func TestPasskeyDefaults(t *testing.T) {
	c := Default()
	c.Issuer = "https://login.example.com/auth"
	if got := c.PasskeyRPID(); got != "login.example.com" {
		t.Errorf("RP ID = %q, want the issuer's host", got)
	}
	if got := c.PasskeyOrigins(); len(got) != 1 || got[0] != "https://login.example.com" {
		t.Errorf("origins = %q, want the issuer's origin", got)
	}
	if got := c.PasskeyRPName(); got != "Gatehouse" {
		t.Errorf("RP name = %q, want the brand name", got)
	}
	c.Issuer = "http://127.0.0.1:8080"
	if got := c.PasskeyRPID(); got != "" {
		t.Errorf("RP ID of an IP issuer = %q, want passkeys off", got)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("the default config with an IP issuer: %v", err)
	}
}

func TestValidateWebAuthn(t *testing.T) {
	for _, tc := range []struct {
		name    string
		issuer  string
		rpID    string
		origins []string
		timeout time.Duration
		wantKey string
		wantErr string
	}{
		{name: "defaults", issuer: "https://login.example.com"},
		{name: "parent domain", issuer: "https://login.example.com", rpID: "example.com"},
		{name: "localhost", issuer: "http://localhost:8080"},
		{name: "origins on subdomains", issuer: "https://login.example.com", rpID: "example.com",
			origins: []string{"https://login.example.com", "https://app.example.com:8443"}},
		{name: "ip rp id", issuer: "https://login.example.com", rpID: "10.0.0.1", wantKey: "webauthn.rp_id", wantErr: "not a domain"},
		{name: "rp id with scheme", issuer: "https://login.example.com", rpID: "https://example.com", wantKey: "webauthn.rp_id", wantErr: "not a domain"},
		{name: "rp id elsewhere", issuer: "https://login.example.com", rpID: "other.org", wantKey: "webauthn.rp_id", wantErr: "issuer's host"},
		{name: "origin off the rp id", issuer: "https://login.example.com", origins: []string{"https://evil.com"}, wantKey: "webauthn.origins", wantErr: "not on the RP ID"},
		{name: "origin suffix trick", issuer: "https://example.com", origins: []string{"https://badexample.com"}, wantKey: "webauthn.origins", wantErr: "not on the RP ID"},
		{name: "origin with path", issuer: "https://login.example.com", origins: []string{"https://login.example.com/x"}, wantKey: "webauthn.origins", wantErr: "not an origin"},
		{name: "plain http", issuer: "https://login.example.com", origins: []string{"http://login.example.com"}, wantKey: "webauthn.origins", wantErr: "https"},
		{name: "short timeout", issuer: "https://login.example.com", timeout: time.Second, wantKey: "webauthn.timeout", wantErr: "between"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Issuer = tc.issuer
			c.WebAuthn.RPID = tc.rpID
			c.WebAuthn.Origins = tc.origins
			if tc.timeout != 0 {
				c.WebAuthn.Timeout = Duration(tc.timeout)
			}
			err := c.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantKey) || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error = %v, want one about %s: %q", err, tc.wantKey, tc.wantErr)
			}
		})
	}
}

func TestLoadWebAuthn(t *testing.T) {
	c, err := Load(serverFlags(t, "--config", writeFile(t, "issuer: https://login.example.com\nwebauthn:\n  rp_id: example.com\n  origins: [\"https://login.example.com\"]\n  timeout: 2m\n")), envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.PasskeyRPID() != "example.com" || time.Duration(c.WebAuthn.Timeout) != 2*time.Minute {
		t.Errorf("webauthn = %+v", c.WebAuthn)
	}
	if _, err := Load(serverFlags(t, "--config", writeFile(t, "webauthn:\n  rpid: example.com\n")), envMap(nil)); err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Errorf("misspelt key: error = %v, want unknown key", err)
	}
}
