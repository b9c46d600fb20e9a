package clientcmd

import (
	"net/url"
	"regexp"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func TestCredentialHelperGit(t *testing.T) {
	t.Parallel()
	env := map[string]string{"GATEHOUSE_TOKEN": "tok-123", "GATEHOUSE_ISSUER": "https://auth.example.com"}
	r := clientRun(t, env, "protocol=https\nhost=auth.example.com\npath=org/repo.git\n\n", "credential-helper", "git", "get")
	if r.Err != nil || r.Out != "username=x-access-token\npassword=tok-123\n" {
		t.Errorf("get for the issuer's host: %v %q", r.Err, r.Out)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"protocol=https\nhost=evil.example.com\n\n", nil, ""},
		{"protocol=http\nhost=auth.example.com\n\n", nil, ""},
		{"protocol=https\nhost=git.example.com\n\n", []string{"--host", "git.example.com"}, "username=x-access-token\npassword=tok-123\n"},
		{"protocol=http\nhost=git.example.com\n\n", []string{"--host", "git.example.com"}, ""},
	} {
		r := clientRun(t, env, tc.stdin, append([]string{"credential-helper", "git", "get"}, tc.args...)...)
		if r.Err != nil || r.Out != tc.want {
			t.Errorf("%q %v: %v, out %q, want %q", tc.stdin, tc.args, r.Err, r.Out, tc.want)
		}
	}
	for _, action := range []string{"store", "erase", "something-new"} {
		r := clientRun(t, env, "protocol=https\nhost=auth.example.com\nusername=x\npassword=y\n\n", "credential-helper", "git", action)
		if r.Err != nil || r.Out != "" {
			t.Errorf("%s: %v, out %q", action, r.Err, r.Out)
		}
	}
	// Another host while not logged in: silence, so git asks the next helper.
	if r := clientRun(t, nil, "protocol=https\nhost=x.example.com\n\n", "credential-helper", "git", "get"); r.Err != nil || r.Out != "" {
		t.Errorf("not logged in, other host: %v %q", r.Err, r.Out)
	}
}

// git erases a credential the server refused; the next get must not hand
// out that same token again.
func TestCredentialHelperGitEraseRenews(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t)
	srv.AddUser(t, "alice", "alice-password-1")
	c := newAccountCLI(t, srv)
	c.storeLogin("alice")
	u, _ := url.Parse(srv.URL)
	req := "protocol=http\nhost=" + u.Host + "\npath=org/repo.git\n\n"
	get := func() string {
		t.Helper()
		r := c.run(nil, req, "credential-helper", "git", "get")
		m := regexp.MustCompile(`(?m)^password=(\S+)$`).FindStringSubmatch(r.Out)
		if r.Err != nil || m == nil {
			t.Fatalf("get: %v %q", r.Err, r.Out)
		}
		return m[1]
	}
	first := get()
	if again := get(); again != first {
		t.Fatalf("a second get without erase changed the token")
	}
	r := c.run(nil, "protocol=http\nhost="+u.Host+"\nusername=x-access-token\npassword="+first+"\n\n", "credential-helper", "git", "erase")
	if r.Err != nil || r.Out != "" {
		t.Fatalf("erase: %v %q", r.Err, r.Out)
	}
	if next := get(); next == first {
		t.Error("after erase, get hands out the refused token again")
	}
	// Erasing a token that is no longer the stored one changes nothing.
	second := get()
	c.run(nil, "protocol=http\nhost="+u.Host+"\nusername=x-access-token\npassword="+first+"\n\n", "credential-helper", "git", "erase")
	if get() != second {
		t.Error("erasing an old token replaced the current one")
	}
}
