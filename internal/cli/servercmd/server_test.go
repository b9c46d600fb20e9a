package servercmd

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/password"
)

var listeningRE = regexp.MustCompile(`Gatehouse listening on (http://127\.0\.0\.1:\d+) \(issuer (\S+)\)`)

func TestServerServesAndShutsDown(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	streams, _, errOut := command.NewTestIOStreams("")
	streams.Getenv = func(string) string { return "" }
	root := newRoot(streams)
	root.SetArgs([]string{"server", "--addr", "127.0.0.1:0", "--data-dir", h.DataDir, "--audit-output", "off", "--log-level", "warn"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	var base, issuer string
	deadline := time.Now().Add(20 * time.Second)
	for base == "" {
		if m := listeningRE.FindStringSubmatch(errOut.String()); m != nil {
			base, issuer = m[1], m[2]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("server exited early: %v\n%s", err, errOut)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", errOut)
		}
	}
	if issuer != base {
		t.Errorf("issuer %q, want the bound address %q", issuer, base)
	}

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get("/healthz"); code != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	code, body := get("/.well-known/openid-configuration")
	var meta struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal([]byte(body), &meta); code != http.StatusOK || err != nil || meta.Issuer != base {
		t.Errorf("discovery = %d, issuer %q (%v)", code, meta.Issuer, err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("server returned %v after cancel, want nil\n%s", err, errOut)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("server did not shut down after cancel")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("server still answers after shutdown")
	}

	// First start created the admin with a generated password, printed once.
	m := regexp.MustCompile(`Created user "admin" with password: (\S+)`).FindStringSubmatch(errOut.String())
	if m == nil {
		t.Fatalf("no generated admin password printed:\n%s", errOut)
	}
	u, err := h.Store().GetUserByName(t.Context(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := password.NewHasher(password.DefaultParams, 1).Verify(t.Context(), u.PasswordHash, m[1]); !ok || err != nil {
		t.Errorf("printed admin password does not verify: %v", err)
	}
	if _, err := h.Store().GetClient(t.Context(), "gatehouse-cli"); err != nil {
		t.Errorf("gatehouse-cli client not created: %v", err)
	}
}

func TestServerRejectsBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.Env["GATEHOUSE_ADMIN_PASSWORD"] = "short"
	h.Fail(command.ExitUsage, "GATEHOUSE_ADMIN_PASSWORD", "", "server", "--addr", "127.0.0.1:0")
	delete(h.Env, "GATEHOUSE_ADMIN_PASSWORD")
	h.Fail(command.ExitUsage, "non-loopback", "", "server", "--addr", "127.0.0.1:0", "--issuer", "http://auth.example")
	h.Fail(command.ExitUsage, "unknown command", "", "server", "now")
	h.Fail(command.ExitUsage, "unknown flag", "", "server", "--port", "80")
}
