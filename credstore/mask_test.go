package credstore_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/credstore"
)

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		"a":                      "****",
		"12345678":               "****",
		"123456789":              "****6789",
		"gh_live_abcdefghijwxyz": "****wxyz",
		"jeton-ünïcødé-日本語テキスト": "****テキスト",
	} {
		if got := credstore.Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

// secretCredential has a distinct, recognisable value in every secret field.
func secretCredential() *credstore.Credential {
	return &credstore.Credential{
		Kind:              credstore.KindClientCredentials,
		Issuer:            "https://id.example.com",
		ClientID:          "ci-bot",
		ClientSecret:      "SECRET-client-secret-0001",
		APIKey:            "SECRET-api-key-0002",
		AccessToken:       "SECRET-access-token-0003",
		RefreshToken:      "SECRET-refresh-token-0004",
		IDToken:           "SECRET-id-token-0005",
		Scopes:            []string{"read", "write"},
		Subject:           "bot",
		DPoPKey:           "-----BEGIN PRIVATE KEY-----\nSECRET-dpop-key-0006\n-----END PRIVATE KEY-----\n",
		PendingRefreshKey: "SECRET-pending-key-0007",
	}
}

func TestRedacted(t *testing.T) {
	c := secretCredential()
	got := c.Redacted()
	want := *secretCredential()
	want.ClientSecret, want.APIKey = "****0001", "****0002"
	want.AccessToken, want.RefreshToken, want.IDToken = "****0003", "****0004", "****0005"
	want.DPoPKey = "****"
	want.PendingRefreshKey = "****0007"
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Redacted (-want +got):\n%s", d)
	}
	got.Scopes[0] = "changed"
	if d := cmp.Diff(secretCredential(), c); d != "" {
		t.Errorf("Redacted changed the original (-want +got):\n%s", d)
	}
	var nilCred *credstore.Credential
	if d := cmp.Diff(credstore.Credential{}, nilCred.Redacted()); d != "" {
		t.Errorf("nil Redacted (-want +got):\n%s", d)
	}
}

// TestCredentialNeverPrintsSecrets formats a credential every way a log
// line or an error message might (SECURITY-CASES 40).
func TestCredentialNeverPrintsSecrets(t *testing.T) {
	c := secretCredential()
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, *c), fmt.Sprintf(verb, c))
	}
	outputs = append(outputs,
		fmt.Sprint(c), fmt.Sprintln(*c), c.String(),
		fmt.Errorf("refresh failed for %v", c).Error(),
		fmt.Sprintf("%v", []*credstore.Credential{c}),
		fmt.Sprintf("%+v", struct{ C credstore.Credential }{*c}),
	)
	var logged bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logged, nil))
	logger.Info("stored", "credential", c)
	logger.Info("stored", "credential", *c)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("stored", "credential", c)
	outputs = append(outputs, logged.String())

	for _, out := range outputs {
		if strings.Contains(out, "SECRET") {
			t.Errorf("a secret leaked: %s", out)
		}
	}
	if s := c.String(); !strings.Contains(s, "access_token:****0003") || !strings.Contains(s, "client_id:ci-bot") {
		t.Errorf("String() = %q, want masked secrets and the other fields", s)
	}
	if s := c.String(); !strings.Contains(s, "dpop_key:**** ") {
		t.Errorf("String() = %q, want the DPoP key shown as set and masked", s)
	}
	if !strings.Contains(logged.String(), `"access_token":"****0003"`) {
		t.Errorf("slog output %s lacks the masked access token", logged.String())
	}
}

func TestValidateProfile(t *testing.T) {
	for _, ok := range []string{"default", "prod:eu", "ünï cødé", "a.b@c", "x", strings.Repeat("x", credstore.MaxProfileLen), "Credentials"} {
		if err := credstore.ValidateProfile(ok); err != nil {
			t.Errorf("ValidateProfile(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "a/b", `a\b`, "\x00", "a\tb", " x", "x ", "credentials", "credentials-keyring", "\xc3", strings.Repeat("x", credstore.MaxProfileLen+1)} {
		err := credstore.ValidateProfile(bad)
		if !errors.Is(err, credstore.ErrInvalidProfile) {
			t.Errorf("ValidateProfile(%q) = %v, want ErrInvalidProfile", bad, err)
		}
	}
}
