package clientcmd

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command/commandtest"
)

// run runs `gatehouse args...` with the client groups under the top
// command, on streams whose buffers out and errOut are.
func run(streams command.IOStreams, out, errOut *command.Buffer, args ...string) commandtest.Result {
	f := &command.Factory{IOStreams: streams, Auth: command.NewAuth(streams)}
	cmds := []*cobra.Command{NewCmdAPI(f, nil), NewCmdAccount(f), NewCmdCredentialHelper(f)}
	return commandtest.Run(context.Background(), streams, out, errOut, cmds, args...)
}

// clientRun runs `gatehouse args...` in-process with env as the whole
// environment (a temporary config directory added) and stdin.
func clientRun(t *testing.T, env map[string]string, stdin string, args ...string) commandtest.Result {
	t.Helper()
	streams, out, errOut := command.NewTestIOStreams(stdin)
	all := map[string]string{"GATEHOUSE_CONFIG_DIR": t.TempDir(), "GATEHOUSE_AUTH_STORAGE": "file"}
	for k, v := range env {
		all[k] = v
	}
	streams.Getenv = func(k string) string { return all[k] }
	return run(streams, out, errOut, args...)
}

// echoServer answers every request with what it got, as JSON.
func echoServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/missing" {
			http.Error(w, `{"error":"not here"}`, http.StatusNotFound)
			return
		}
		if r.URL.Path == "/elsewhere" {
			http.Redirect(w, r, "http://192.0.2.1/steal", http.StatusFound)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{
			"method": r.Method, "path": r.URL.Path, "auth": r.Header.Get("Authorization"),
			"type": r.Header.Get("Content-Type"), "x": r.Header.Get("X-Test"), "body": string(body),
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestAPI(t *testing.T) {
	t.Parallel()
	srv := echoServer(t)
	env := map[string]string{"GATEHOUSE_TOKEN": "tok-123", "GATEHOUSE_ISSUER": srv.URL + "/base"}
	decode := func(r commandtest.Result) map[string]string {
		t.Helper()
		if r.Err != nil {
			t.Fatalf("gatehouse api: %v\n%s", r.Err, r.ErrOut)
		}
		var m map[string]string
		if err := json.Unmarshal([]byte(r.Out), &m); err != nil {
			t.Fatalf("output %q: %v", r.Out, err)
		}
		return m
	}

	got := decode(clientRun(t, env, "", "api", "things"))
	if got["method"] != "GET" || got["path"] != "/base/things" || got["auth"] != "Bearer tok-123" {
		t.Errorf("relative GET: %v", got)
	}
	// A path with a leading slash is under the issuer's path too, as the
	// issuer's own endpoints are.
	if got := decode(clientRun(t, env, "", "api", "/oauth2/userinfo")); got["path"] != "/base/oauth2/userinfo" {
		t.Errorf("a path under the issuer's path: %v", got)
	}
	got = decode(clientRun(t, env, "", "api", srv.URL+"/x", "-d", `{"a":1}`, "-H", "X-Test: yes"))
	if got["method"] != "POST" || got["body"] != `{"a":1}` || got["type"] != "application/json" || got["x"] != "yes" {
		t.Errorf("POST with -d: %v", got)
	}
	got = decode(clientRun(t, env, "a=b", "api", "-X", "put", srv.URL+"/x", "-d", "@-"))
	if got["method"] != "PUT" || got["body"] != "a=b" || got["type"] != "application/x-www-form-urlencoded" {
		t.Errorf("PUT from stdin: %v", got)
	}

	r := clientRun(t, env, "", "api", srv.URL+"/missing")
	if r.Code != command.ExitError || !strings.Contains(r.Err.Error(), "HTTP 404 Not Found") || !strings.Contains(r.Out, "not here") {
		t.Errorf("404: exit %d, %v, out %q", r.Code, r.Err, r.Out)
	}
	r = clientRun(t, env, "", "api", "-i", srv.URL+"/elsewhere")
	if r.Err != nil || !strings.HasPrefix(r.Out, "HTTP/1.1 302 Found\n") || !strings.Contains(r.Out, "Location: http://192.0.2.1/steal") {
		t.Errorf("a redirect to another origin must come back unfollowed: %v\n%s", r.Err, r.Out)
	}
	for _, bad := range [][]string{
		{"api", "/x", "-H", "no-colon"},
		{"api", "/x", "-H", "Authorization: Bearer mine"},
		{"api", "ftp://example.com/x"},
		{"api", "-X", "GET /", "/x"},
		{"api"},
	} {
		if r := clientRun(t, env, "", bad...); r.Code != command.ExitUsage {
			t.Errorf("gatehouse %s: exit %d (%v), want %d", strings.Join(bad, " "), r.Code, r.Err, command.ExitUsage)
		}
	}
	if r := clientRun(t, map[string]string{"GATEHOUSE_TOKEN": "t"}, "", "api", "/x"); r.Code != command.ExitUsage || !strings.Contains(r.Err.Error(), "no issuer is known") {
		t.Errorf("relative URL without issuer: exit %d, %v", r.Code, r.Err)
	}
	if r := clientRun(t, nil, "", "api", srv.URL+"/x"); r.Code != command.ExitNotLoggedIn || !strings.Contains(r.Err.Error(), "run `gatehouse login`") {
		t.Errorf("not logged in: exit %d, %v", r.Code, r.Err)
	}
}

// TestAPINeverSendsTheTokenElsewhere: the token goes only to the issuer's
// origin and the profile's api_hosts; "//other-host/..." and absolute
// URLs of another origin are refused before any request, unless
// --allow-any-host.
func TestAPINeverSendsTheTokenElsewhere(t *testing.T) {
	t.Parallel()
	issuer := echoServer(t)
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		json.NewEncoder(w).Encode(map[string]string{"auth": r.Header.Get("Authorization")})
	}))
	t.Cleanup(other.Close)
	ou, _ := url.Parse(other.URL)
	env := map[string]string{"GATEHOUSE_TOKEN": "tok-123", "GATEHOUSE_ISSUER": issuer.URL}

	for _, target := range []string{
		"//" + ou.Host + "/x",
		other.URL + "/x",
		"https://" + ou.Host + "/x",
		strings.Replace(issuer.URL, "http://", "https://", 1) + "/x", // same host, other scheme
	} {
		r := clientRun(t, env, "", "api", target)
		if r.Code != command.ExitUsage || !strings.Contains(r.Err.Error(), "refusing to send the token") {
			t.Errorf("gatehouse api %s: exit %d, %v", target, r.Code, r.Err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the other host got %d requests", n)
	}
	// A static token without any issuer has no origin of its own.
	if r := clientRun(t, map[string]string{"GATEHOUSE_TOKEN": "t"}, "", "api", other.URL+"/x"); r.Code != command.ExitUsage {
		t.Errorf("no issuer: exit %d, %v", r.Code, r.Err)
	}

	r := clientRun(t, env, "", "api", "--allow-any-host", other.URL+"/x")
	if r.Err != nil || !strings.Contains(r.Out, "Bearer tok-123") {
		t.Errorf("--allow-any-host: %v %q", r.Err, r.Out)
	}

	// A profile that lists the host lets the token go there.
	dir := t.TempDir()
	cfg := "profiles:\n  default:\n    issuer: " + issuer.URL + "\n    api_hosts: [\"" + ou.Host + "\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	penv := map[string]string{"GATEHOUSE_TOKEN": "tok-123", "GATEHOUSE_CONFIG_DIR": dir}
	r = clientRun(t, penv, "", "api", other.URL+"/x")
	if r.Err != nil || !strings.Contains(r.Out, "Bearer tok-123") {
		t.Errorf("host in api_hosts: %v %q", r.Err, r.Out)
	}
	// ... but not with a token for another issuer.
	penv["GATEHOUSE_ISSUER"] = "https://auth.example.com"
	if r := clientRun(t, penv, "", "api", other.URL+"/x"); r.Code != command.ExitUsage {
		t.Errorf("api_hosts of a profile whose issuer is not in force: exit %d, %v", r.Code, r.Err)
	}
}
