package servercmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// SECURITY-CASES 54: a policy that does not load stops the gateway before
// it listens, with the file and line of the fault.
func TestProxyRefusesBadPolicyAndFlags(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	up := []string{"proxy", "--addr", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9"}
	h.Fail(command.ExitUsage, "a policy is required", "", up...)
	h.Fail(command.ExitUsage, "not both", "", append(up, "--preset", "dagster", "--policy", "x.yaml")...)
	h.Fail(command.ExitUsage, "unknown preset", "", append(up, "--preset", "dagstr")...)

	bad := filepath.Join(t.TempDir(), "policy.yaml")
	body := "version: 1\nrules:\n  - name: read\n    role: [viewer]\n    methods: [GET]\n"
	if err := os.WriteFile(bad, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	r := h.Fail(command.ExitUsage, "policy.yaml:4", "", append(up, "--policy", bad)...)
	if r.Err == nil {
		t.Fatal("a misspelt policy key did not stop the gateway")
	}
	h.Fail(command.ExitUsage, "no such file", "", append(up, "--policy", filepath.Join(t.TempDir(), "missing.yaml"))...)
	h.Fail(command.ExitUsage, "unknown flag", "", append(up, "--preset", "dagster", "--policy-file", "x")...)
}

func TestProxyRefusesBadURLs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	base := []string{"proxy", "--addr", "127.0.0.1:0", "--preset", "dagster"}
	if r := h.Run("", append(base, "--upstream", "ftp://x")...); r.Err == nil {
		t.Fatal("an ftp upstream was accepted")
	}
	if r := h.Run("", append(base, "--upstream", "http://127.0.0.1:9", "--public-url", "http://app.example.com")...); r.Err == nil {
		t.Fatal("an http public URL on a non-loopback host was accepted")
	}
	if r := h.Run("", append(base, "--upstream", "http://127.0.0.1:9", "--issuer", "https://id.example.com")...); r.Err == nil {
		t.Fatal("--issuer without a client was accepted")
	}
}

func TestProxyJWTAlgFlag(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	base := []string{"proxy", "--addr", "127.0.0.1:0", "--preset", "dagster", "--upstream", "http://127.0.0.1:9",
		"--data-dir", t.TempDir()}
	// Refused before anything is opened: the embedded server signs with
	// ES256 or EdDSA, and HMAC is never a public-key algorithm.
	if r := h.Run("", append(base, "--jwt-alg", "RS256")...); r.Err == nil || !strings.Contains(r.Err.Error(), "--jwt-alg") {
		t.Fatalf("--jwt-alg without --issuer: err = %v", r.Err)
	}
	if r := h.Run("", append(base, "--issuer", "http://127.0.0.1:9", "--client-id", "x", "--jwt-alg", "HS256")...); r.Err == nil || !strings.Contains(r.Err.Error(), "HS256") {
		t.Fatalf("--jwt-alg HS256: err = %v", r.Err)
	}
}
