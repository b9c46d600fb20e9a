package servercmd

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

var demoAppListeningRE = regexp.MustCompile(`Demo app listening on (http://127\.0\.0\.1:\d+)\n`)

func TestDemoAppServesAndStops(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	streams, _, errOut := command.NewTestIOStreams("")
	root := newRoot(streams)
	root.SetArgs([]string{"demo-app", "--addr", "127.0.0.1:0"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	var base string
	deadline := time.Now().Add(10 * time.Second)
	for base == "" {
		if m := demoAppListeningRE.FindStringSubmatch(errOut.String()); m != nil {
			base = m[1]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("demo-app exited early: %v\n%s", err, errOut)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo-app did not start:\n%s", errOut)
		}
	}

	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/", nil)
	req.Header.Set("X-Gatehouse-User", "vera")
	req.Header.Set("X-Gatehouse-Roles", "viewer")
	req.Header.Set("X-Gatehouse-Auth", "session")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "Hello vera (roles viewer; signed in with a browser session).\n"; string(body) != want {
		t.Errorf("GET / = %q, want %q", body, want)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("demo-app after SIGINT: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("demo-app did not stop")
	}
}

// TestDemoAppOnlyOnLoopback: an address other machines could reach is bad
// input, refused before anything listens.
func TestDemoAppOnlyOnLoopback(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, addr := range []string{"0.0.0.0:3000", ":3000", "192.0.2.1:3000", "nonsense"} {
		r := h.RunCtx(t.Context(), "", "demo-app", "--addr", addr)
		if r.Code != command.ExitUsage {
			t.Errorf("demo-app --addr %s: exit %d (%v), want %d", addr, r.Code, r.Err, command.ExitUsage)
		}
	}
}
