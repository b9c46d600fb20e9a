package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestGraphQLWSClientSettles runs the standard graphql-ws client (npm,
// e2e/testdata/graphqlws, installed with `npm ci` into a temporary
// directory) against the gateway as a viewer: the refused mutation ends
// with a FORBIDDEN GraphQL error for that operation, the subscription on
// the same client still runs, and the client connected once and never saw
// the socket close (no reconnect loop).
func TestGraphQLWSClientSettles(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: skipping the graphql-ws client test")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed: skipping the graphql-ws client test")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "client.mjs"} {
		b, err := os.ReadFile(filepath.Join(root, "e2e", "testdata", "graphqlws", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	install.Dir = dir
	install.Env = append(os.Environ(), "npm_config_cache="+filepath.Join(dir, ".npm"), "npm_config_update_notifier=false")
	if out, err := install.CombinedOutput(); err != nil {
		t.Skipf("npm ci failed (no registry?): %v\n%s", err, out)
	}

	gw := startGateway(t)
	vera := gw.addUser(t, "vera", "viewer")
	c := gw.browserLogin(t, "vera", vera)
	run := exec.CommandContext(ctx, node, "client.mjs", "ws"+strings.TrimPrefix(gw.URL, "http")+"/graphql", cookieHeader(c, gw.URL))
	run.Dir = dir
	out, err := run.Output()
	if err != nil {
		t.Fatalf("client: %v\n%s", err, out)
	}
	var got struct {
		Timeout bool
		Refused struct {
			Error []struct {
				Message    string
				Extensions map[string]string
			}
			Complete bool
		}
		Allowed struct {
			Next     []json.RawMessage
			Error    json.RawMessage
			Complete bool
		}
		Stats struct {
			Connected, Closed int
			CloseCodes        []int
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("client output %s: %v", out, err)
	}
	if got.Timeout {
		t.Fatalf("the client did not settle: %s", out)
	}
	if len(got.Refused.Error) != 1 || got.Refused.Error[0].Extensions["code"] != "FORBIDDEN" ||
		!strings.Contains(got.Refused.Error[0].Message, "Remove") {
		t.Errorf("refused mutation: %s", out)
	}
	if !got.Allowed.Complete || len(got.Allowed.Next) == 0 || string(got.Allowed.Error) != "null" {
		t.Errorf("allowed subscription: %s", out)
	}
	// The client connects once; the only close is its own lazy close
	// (1000) once no operation is left, never the 1006 of a dropped socket.
	if got.Stats.Connected != 1 || slices.ContainsFunc(got.Stats.CloseCodes, func(c int) bool { return c != 1000 }) {
		t.Errorf("the client reconnected or saw the socket drop: %s", out)
	}
	if m := gw.app.Mutations(); len(m) != 0 {
		t.Fatalf("mutations reached the app: %v", m)
	}
}
