package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// The command-line tools of the interop suite: kubectl consuming
// `gatehouse token --output exec-credential` against a tiny API server,
// and git cloning and pushing through `gatehouse credential-helper git`
// against git http-backend. Both servers accept only access tokens of the
// gatehouse server, checked the way a resource server would.

// seenTokens records the access tokens a test resource server accepted.
type seenTokens struct {
	mu     sync.Mutex
	tokens []string
	denied int
}

func (s *seenTokens) add(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = append(s.tokens, tok)
}

func (s *seenTokens) deny() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied++
}

func (s *seenTokens) snapshot() (tokens []string, denied int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tokens), s.denied
}

// caFile writes the certificate of the TLS test server srv to a PEM file
// for the tools to trust.
func caFile(t *testing.T, srv *httptest.Server) (path string, pemBytes []byte) {
	t.Helper()
	pemBytes = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	path = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, pemBytes
}

// lookTool finds a command-line tool or skips the test.
func lookTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not on PATH; skipping its interop test", name)
	}
	return path
}

// TestInteropKubectl: kubectl runs `gatehouse token --output
// exec-credential` as its exec credential plugin (client credentials from
// the environment, as in CI) and sends the token to an API server that
// verifies it against the gatehouse JWKS with its own audience (RFC 8707),
// for both exec API versions kubectl speaks.
func TestInteropKubectl(t *testing.T) {
	t.Parallel()
	kubectl := lookTool(t, "kubectl")
	g := startServer(t)
	const apiAudience = "https://kubernetes.interop.test"
	id, secret := createClient(t, g, "kubectl-ci", "--grant", "client_credentials", "--role", "viewer", "--audience", apiAudience)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	p, _ := discover(t, ctx, g)
	verifier := p.VerifierContext(ctx, &oidc.Config{ClientID: apiAudience})

	var seen seenTokens
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			seen.deny()
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}`)
			return
		}
		if _, err := verifier.Verify(r.Context(), raw); err != nil {
			seen.deny()
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","message":%q,"code":401}`, err.Error())
			return
		}
		seen.add(raw)
		if r.URL.Path != "/api/v1/namespaces" {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
			return
		}
		fmt.Fprint(w, `{"kind":"NamespaceList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"interop"}}]}`)
	}))
	t.Cleanup(api.Close)
	_, caPEM := caFile(t, api)

	for _, version := range []string{"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"} {
		t.Run(strings.TrimPrefix(version, "client.authentication.k8s.io/"), func(t *testing.T) {
			dir := t.TempDir()
			kubeconfig := filepath.Join(dir, "kubeconfig")
			// kubeconfig is YAML; JSON is YAML.
			cfg := map[string]any{
				"apiVersion":      "v1",
				"kind":            "Config",
				"current-context": "interop",
				"clusters": []any{map[string]any{"name": "interop", "cluster": map[string]any{
					"server":                     api.URL,
					"certificate-authority-data": base64.StdEncoding.EncodeToString(caPEM),
				}}},
				"contexts": []any{map[string]any{"name": "interop", "context": map[string]any{"cluster": "interop", "user": "gatehouse"}}},
				"users": []any{map[string]any{"name": "gatehouse", "user": map[string]any{"exec": map[string]any{
					"apiVersion":      version,
					"command":         binary,
					"args":            []string{"token", "--output", "exec-credential"},
					"interactiveMode": "Never",
					"env": []any{
						map[string]any{"name": "GATEHOUSE_ISSUER", "value": g.URL},
						map[string]any{"name": "GATEHOUSE_CLIENT_ID", "value": id},
					},
				}}}},
			}
			b, err := json.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(kubeconfig, b, 0o600); err != nil {
				t.Fatal(err)
			}
			before, _ := seen.snapshot()
			cmd := exec.CommandContext(ctx, kubectl, "--kubeconfig", kubeconfig, "get", "--raw", "/api/v1/namespaces")
			// The secret comes from the environment, as in a CI job.
			cmd.Env = append(baseEnv(), "HOME="+dir, "GATEHOUSE_CLIENT_SECRET="+secret)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("kubectl get --raw /api/v1/namespaces: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), `"name":"interop"`) {
				t.Errorf("kubectl printed %s; want the namespace list", out)
			}
			after, denied := seen.snapshot()
			if len(after) <= len(before) {
				t.Fatalf("the API server saw no valid token (denied %d)", denied)
			}
			tok, err := verifier.Verify(ctx, after[len(after)-1])
			if err != nil {
				t.Fatal(err)
			}
			var c userClaims
			if err := tok.Claims(&c); err != nil {
				t.Fatal(err)
			}
			if c.Subject != id || c.ClientID != id || !slices.Equal(c.Roles, []string{"viewer"}) {
				t.Errorf("token claims = %+v; want sub = client_id = %s, roles [viewer]", c, id)
			}
		})
	}

	// A token for another audience is refused: the plugin's token is
	// accepted above because of its aud, not in spite of it.
	other, osecret := createClient(t, g, "other-ci", "--grant", "client_credentials")
	out, errOut, code := runCLIEnv(t, []string{"GATEHOUSE_ISSUER=" + g.URL, "GATEHOUSE_CLIENT_ID=" + other, "GATEHOUSE_CLIENT_SECRET=" + osecret}, "token")
	if code != 0 {
		t.Fatalf("gatehouse token: exit %d: %s", code, errOut)
	}
	if _, err := verifier.Verify(ctx, strings.TrimSpace(out)); err == nil {
		t.Errorf("the API server's verifier accepts a token of a client without its audience")
	}
}

// runCLIEnv is runCLI with extra environment.
func runCLIEnv(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(baseEnv(), env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("gatehouse %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// TestInteropGit: git clones and pushes over HTTPS through
// `gatehouse credential-helper git` to git http-backend behind a server
// that takes the password as a gatehouse access token and asks the
// introspection endpoint about it (so that revocation counts). When the
// server refuses a revoked token, git's erase drops it and the helper
// renews the login, so the next git command succeeds.
func TestInteropGit(t *testing.T) {
	t.Parallel()
	gitPath := lookTool(t, "git")
	execPath, err := exec.Command(gitPath, "--exec-path").Output()
	if err != nil {
		t.Skipf("git --exec-path: %v", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		t.Skipf("git-http-backend is missing (%v); skipping the git interop test", err)
	}
	g := startServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	_, m := discover(t, ctx, g)
	id, secret := createClient(t, g, "git-ci", "--grant", "client_credentials", "--role", "editor")
	iid, isecret := createClient(t, g, "git-server", "--grant", "client_credentials")

	// The bare repository the server serves.
	root := t.TempDir()
	git := func(dir string, env []string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, gitPath, args...)
		cmd.Dir = dir
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	home := t.TempDir()
	globalConfig := filepath.Join(home, ".gitconfig")
	// Nothing of the developer's git configuration applies.
	gitEnv := append(baseEnv(), "HOME="+home, "XDG_CONFIG_HOME="+home, "GIT_CONFIG_GLOBAL="+globalConfig,
		"GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "SSH_ASKPASS=")
	if out, err := git(root, gitEnv, "init", "--bare", "--initial-branch=main", "repo.git"); err != nil {
		t.Fatalf("git init --bare: %v\n%s", err, out)
	}

	var seen seenTokens
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, token, ok := r.BasicAuth()
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="gatehouse interop"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		in, err := introspectToken(r.Context(), m.IntrospectionEndpoint, iid, isecret, token)
		if err != nil {
			http.Error(w, "introspection failed", http.StatusBadGateway)
			return
		}
		if user != "x-access-token" || !in.Active || in.ClientID != id {
			seen.deny()
			w.Header().Set("WWW-Authenticate", `Basic realm="gatehouse interop"`)
			http.Error(w, "token refused", http.StatusUnauthorized)
			return
		}
		seen.add(token)
		h := &cgi.Handler{
			Path: backend,
			Root: "/git",
			Env: []string{
				"GIT_PROJECT_ROOT=" + root,
				"GIT_HTTP_EXPORT_ALL=1",
				"REMOTE_USER=" + in.Subject,
			},
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ca, _ := caFile(t, srv)
	host := strings.TrimPrefix(srv.URL, "https://")
	remote := srv.URL + "/git/repo.git"

	// The client side: a stored client-credentials login (so the helper
	// has a token to reuse and to renew), and git configured to ask the
	// helper for this host only. git sends the token as a password, with
	// no DPoP proof: the login is a bearer one (--no-dpop); the helper
	// refuses a DPoP-bound login (internal/cli/clientcmd TestCredentialHelperGitRefusesDPoPLogin).
	u := newCLIUser(t)
	if out, errOut, code := u.run(nil, secret+"\n", "login", "--client-credentials", "--no-dpop", "--issuer", g.URL, "--client-id", id, "--client-secret-stdin"); code != 0 {
		t.Fatalf("gatehouse login --client-credentials: exit %d\n%s%s", code, out, errOut)
	}
	helper := fmt.Sprintf("!%s credential-helper git --host %s", binary, host)
	gitconfig := fmt.Sprintf("[user]\n\tname = Interop\n\temail = interop@example.invalid\n[init]\n\tdefaultBranch = main\n[credential %q]\n\thelper = %q\n",
		srv.URL, strings.ReplaceAll(helper, `\`, `\\`))
	if err := os.WriteFile(globalConfig, []byte(gitconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	clientEnv := append(u.environ(nil), "HOME="+home, "XDG_CONFIG_HOME="+home, "GIT_CONFIG_GLOBAL="+globalConfig,
		"GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "SSH_ASKPASS=", "GIT_SSL_CAINFO="+ca)

	work := filepath.Join(t.TempDir(), "work")
	if out, err := git("", clientEnv, "clone", remote, work); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	push := func(file string) (string, error) {
		if err := os.WriteFile(filepath.Join(work, file), []byte(file+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := git(work, clientEnv, "add", file); err != nil {
			t.Fatalf("git add: %v\n%s", err, out)
		}
		if out, err := git(work, clientEnv, "commit", "-q", "-m", "add "+file); err != nil {
			t.Fatalf("git commit: %v\n%s", err, out)
		}
		return git(work, clientEnv, "push", "origin", "HEAD:main")
	}
	if out, err := push("one.txt"); err != nil {
		t.Fatalf("git push: %v\n%s", err, out)
	}
	if out, err := git(root, gitEnv, "--git-dir", filepath.Join(root, "repo.git"), "log", "--format=%s", "main"); err != nil || !strings.Contains(out, "add one.txt") {
		t.Fatalf("the pushed commit is not in the served repository: %v\n%s", err, out)
	}
	tokens, _ := seen.snapshot()
	if len(tokens) == 0 {
		t.Fatal("the git server saw no token")
	}
	used := tokens[len(tokens)-1]
	if slices.ContainsFunc(tokens, func(s string) bool { return s != used }) {
		t.Errorf("the helper handed out %d different tokens for one login; want the stored one reused", len(slices.Compact(slices.Clone(tokens))))
	}

	// The client revokes the token behind the helper's back: the next
	// push is refused, git erases the credential, the helper renews the
	// login, and the push after that goes through with a new token.
	resp := postForm(t, ctx, m.RevocationEndpoint, url.Values{"token": {used}}, id, secret)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revocation: status %d", resp.StatusCode)
	}
	out, err := push("two.txt")
	_, denied := seen.snapshot()
	if err == nil {
		t.Logf("git push with a revoked token succeeded at once (git retried after erase): %s", out)
	} else {
		if denied == 0 {
			t.Fatalf("git push failed without the server refusing a token: %v\n%s", err, out)
		}
		t.Logf("git push with the revoked token was refused, as it should be: %s", strings.TrimSpace(out))
		if out, err := git(work, clientEnv, "push", "origin", "HEAD:main"); err != nil {
			t.Fatalf("git push after the helper's erase: %v\n%s", err, out)
		}
	}
	tokens, denied = seen.snapshot()
	if denied == 0 || tokens[len(tokens)-1] == used {
		t.Errorf("after the revocation: %d refusals, last token new %v; want a refusal and a new token", denied, tokens[len(tokens)-1] != used)
	}
	if out, err := git(root, gitEnv, "--git-dir", filepath.Join(root, "repo.git"), "log", "--format=%s", "main"); err != nil || !strings.Contains(out, "add two.txt") {
		t.Fatalf("the second commit is not in the served repository: %v\n%s", err, out)
	}
}

// introspectToken asks the introspection endpoint about token as the
// confidential client id (client_secret_basic); unlike introspect it
// reports errors instead of failing the test, for use in handlers.
func introspectToken(ctx context.Context, endpoint, id, secret, token string) (introspection, error) {
	var in introspection
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return in, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return in, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return in, fmt.Errorf("introspection: status %d", resp.StatusCode)
	}
	return in, json.NewDecoder(resp.Body).Decode(&in)
}
