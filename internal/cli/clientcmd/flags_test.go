package clientcmd

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command/commandtest"
)

// factory is a Factory for flag tests: test streams and the gatehouse
// client side on them.
func factory(t *testing.T) *command.Factory {
	t.Helper()
	streams, _, _ := command.NewTestIOStreams("")
	return &command.Factory{IOStreams: streams, Auth: command.NewAuth(streams)}
}

func TestAPIFlags(t *testing.T) {
	t.Parallel()
	got, err := commandtest.Parse(t.Context(), factory(t), NewCmdAPI, "api", "-X", "PUT", "https://api.example/x",
		"-d", `{"a":1}`, "-H", "X-A: 1", "--header", "X-B: 2", "-i", "--allow-any-host")
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != "PUT" || got.URL != "https://api.example/x" || got.Data != `{"a":1}` ||
		!reflect.DeepEqual(got.Headers, []string{"X-A: 1", "X-B: 2"}) || !got.Include || !got.AllowAnyHost || got.Auth == nil {
		t.Errorf("api flags: %+v", got)
	}
	// The method is GET, or POST when a body is given without -X.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"api", "/x"}, http.MethodGet},
		{[]string{"api", "/x", "-d", "a=b"}, http.MethodPost},
		{[]string{"api", "/x", "--data", "a=b", "--method", "PATCH"}, http.MethodPatch},
	} {
		got, err := commandtest.Parse(t.Context(), factory(t), NewCmdAPI, tc.args...)
		if err != nil || got.Method != tc.want || got.Include || got.AllowAnyHost {
			t.Errorf("%v: %v %+v, want method %s", tc.args, err, got, tc.want)
		}
	}
	if got, err := commandtest.Parse(t.Context(), factory(t), NewCmdAPI, "api"); got != nil || command.ExitCode(err) != command.ExitUsage {
		t.Errorf("api without a URL: %v, ran with %+v", err, got)
	}
}

func TestGitCredentialFlags(t *testing.T) {
	t.Parallel()
	got, err := commandtest.Parse(t.Context(), factory(t), NewCmdGitCredential, "git", "get", "--host", "git.example.com", "--host", "git2.example.com:8443")
	if err != nil || got.Action != "get" || !reflect.DeepEqual(got.Hosts, []string{"git.example.com", "git2.example.com:8443"}) || got.Auth == nil {
		t.Errorf("credential-helper git flags: %v %+v", err, got)
	}
	if got, err := commandtest.Parse(t.Context(), factory(t), NewCmdGitCredential, "git"); got != nil || command.ExitCode(err) != command.ExitUsage {
		t.Errorf("credential-helper git without an action: %v, ran with %+v", err, got)
	}
}

func TestAccountMFAEnrollOptions(t *testing.T) {
	t.Parallel()
	f := factory(t)
	got, err := commandtest.Parse(t.Context(), f, NewCmdAccountMFAEnroll, "enroll")
	if err != nil || got == nil || got.Auth != f.Auth {
		t.Errorf("account mfa enroll: %v %+v, want the factory's Auth", err, got)
	}
	if got, err := commandtest.Parse(t.Context(), f, NewCmdAccountMFAEnroll, "enroll", "extra"); got != nil || command.ExitCode(err) != command.ExitUsage {
		t.Errorf("account mfa enroll extra: %v, ran with %+v", err, got)
	}
}
