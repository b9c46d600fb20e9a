package cli

import "testing"

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
