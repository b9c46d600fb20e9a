package clientreg

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"CI", "Grafana (prod)", "Ünïcode", strings.Repeat("x", MaxNameLen)} {
		if err := CheckName("name", ok); err != nil {
			t.Errorf("CheckName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "  ", "a\rb", "a\nb", "a\x00", "a\tb", "a\x7f", "a\u0085b", "a\u2028b", "\xff", strings.Repeat("x", MaxNameLen+1)} {
		if err := CheckName("name", bad); err == nil {
			t.Errorf("CheckName(%q) accepted it", bad)
		}
	}
}

func TestCheckClientID(t *testing.T) {
	for _, ok := range []string{"ci", "my-app.v2", "A~b_c"} {
		if err := CheckClientID(ok); err != nil {
			t.Errorf("CheckClientID(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "bad id/../x", "a/b", "-x", "a b", "a\n", strings.Repeat("a", 129)} {
		if err := CheckClientID(bad); err == nil {
			t.Errorf("CheckClientID(%q) accepted it", bad)
		}
	}
}

func TestCheckScopeList(t *testing.T) {
	if got, err := CheckScopeList([]string{"read", "write", "read"}); err != nil || len(got) != 2 {
		t.Errorf("good list: %v %v", got, err)
	}
	for _, bad := range [][]string{{"a b"}, {""}, {"a\tb"}, {`a"b`}, {"a,b"}} {
		if _, err := CheckScopeList(bad); err == nil {
			t.Errorf("CheckScopeList(%q) accepted it", bad)
		}
	}
	// CheckScopes (the CLI's flags) splits instead.
	if got, err := CheckScopes([]string{"a b"}); err != nil || len(got) != 2 {
		t.Errorf("CheckScopes split: %v %v", got, err)
	}
}

func TestCheckGrants(t *testing.T) {
	const code, cc, rt, dev = "authorization_code", "client_credentials", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"
	uris := []string{"https://a.example/cb"}
	for _, tc := range []struct {
		grants []string
		uris   []string
		public bool
		ok     bool
	}{
		{[]string{code, rt}, uris, false, true},
		{[]string{dev, rt}, nil, true, true},
		{[]string{cc}, nil, false, true},
		{nil, nil, false, false},
		{[]string{code}, nil, false, false},
		{[]string{cc}, uris, false, false},
		{[]string{cc, rt}, nil, false, false},
		{[]string{rt}, nil, false, false},
		{[]string{cc}, nil, true, false},
	} {
		if err := CheckGrants(tc.grants, tc.uris, tc.public); (err == nil) != tc.ok {
			t.Errorf("CheckGrants(%v, %v, public=%v) = %v, want ok=%v", tc.grants, tc.uris, tc.public, err, tc.ok)
		}
	}
}

func TestCheckTerminalLogin(t *testing.T) {
	if err := CheckTerminalLogin(false, true); !errors.Is(err, ErrTerminalLoginThirdParty) {
		t.Errorf("third party with terminal sign-in: %v", err)
	}
	for _, ok := range [][2]bool{{true, true}, {true, false}, {false, false}} {
		if err := CheckTerminalLogin(ok[0], ok[1]); err != nil {
			t.Errorf("CheckTerminalLogin(%v, %v) = %v", ok[0], ok[1], err)
		}
	}
}
