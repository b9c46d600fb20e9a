package jwtcmd

import (
	"reflect"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command/commandtest"
	"github.com/gatehouse-auth/gatehouse/resource"
)

// parse runs `gatehouse args...` with newCmd's run function replaced by
// one that records the options, and returns them (nil when the command
// did not get that far) and the exit code.
func parse[O any](t *testing.T, stdin string, newCmd func(*command.Factory, func(*O) error) *cobra.Command, args ...string) (*O, int) {
	t.Helper()
	streams, _, _ := command.NewTestIOStreams(stdin)
	got, err := commandtest.Parse(t.Context(), &command.Factory{IOStreams: streams}, newCmd, args...)
	if err != nil {
		t.Logf("gatehouse %v: %v", args, err)
	}
	return got, command.ExitCode(err)
}

func TestSignFlags(t *testing.T) {
	t.Parallel()
	got, r := parse(t, "", NewCmdSign, "sign", "--key", "k.pem", "--alg", "ES384", "--kid", "k1", "--typ", "at+jwt",
		"--claim", "role=admin", "--claim", "n:=1", "--claims", "c.json", "--iss", "me", "--sub", "alice",
		"--aud", "a1", "--aud", "a2", "--exp", "5m", "--jti", "j1",
		"--assertion", "--client-id", "svc", "--token-endpoint", "https://auth.example/token")
	if r != command.ExitOK {
		t.Fatalf("exit %d", r)
	}
	got.IO = command.IOStreams{}
	want := &SignOptions{
		KeyFile: "k.pem", Alg: "ES384", KID: "k1", Typ: "at+jwt",
		Claims: []string{"role=admin", "n:=1"}, ClaimsFile: "c.json",
		Issuer: "me", Subject: "alice", Audience: []string{"a1", "a2"}, Expiry: 5 * time.Minute, JTI: "j1",
		Assertion: true, ClientID: "svc", TokenEndpoint: "https://auth.example/token",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("jwt sign flags:\n got %+v\nwant %+v", got, want)
	}

	// Defaults: typ JWT, nothing else.
	got, r = parse(t, "", NewCmdSign, "sign")
	if r != command.ExitOK || got.Typ != "JWT" || got.KeyFile != "" || got.Expiry != 0 || got.Assertion {
		t.Errorf("jwt sign defaults: exit %d %+v", r, got)
	}
	// A non-positive --exp is a usage error before anything runs.
	if got, r = parse(t, "", NewCmdSign, "sign", "--exp", "-1s"); got != nil || r != command.ExitUsage {
		t.Errorf("jwt sign --exp -1s: exit %d, ran with %+v", r, got)
	}
}

func TestVerifyFlags(t *testing.T) {
	t.Parallel()
	got, r := parse(t, "", NewCmdVerify, "verify", "tok.en.x", "--issuer", "https://auth.example", "--jwks", "keys.json",
		"--key", "k.pem", "--audience", "a1", "--audience", "a2", "--leeway", "3s", "--json")
	if r != command.ExitOK {
		t.Fatalf("exit %d", r)
	}
	if got.Token != "tok.en.x" || got.Issuer != "https://auth.example" || got.JWKS != "keys.json" || got.KeyFile != "k.pem" ||
		!reflect.DeepEqual(got.Audience, []string{"a1", "a2"}) || got.Leeway != 3*time.Second || !got.JSON {
		t.Errorf("jwt verify flags: %+v", got)
	}
	if got.HTTPClient == nil || got.HTTPClient.Timeout != jwtHTTPTimeout {
		t.Errorf("jwt verify: HTTP client %+v, want one with a %v timeout", got.HTTPClient, jwtHTTPTimeout)
	}
	// "-" reads the token from stdin; the leeway defaults to resource's.
	got, r = parse(t, " tok.from.stdin\n", NewCmdVerify, "verify", "-")
	if r != command.ExitOK || got.Token != " tok.from.stdin\n" || got.Leeway != resource.DefaultLeeway || got.JSON {
		t.Errorf("jwt verify -: exit %d %+v", r, got)
	}
}

func TestDecodeFlags(t *testing.T) {
	t.Parallel()
	got, r := parse(t, "", NewCmdDecode, "decode", "a.b.c", "--json")
	if r != command.ExitOK || got.Token != "a.b.c" || !got.JSON {
		t.Errorf("jwt decode a.b.c --json: exit %d %+v", r, got)
	}
	got, r = parse(t, "x.y.z", NewCmdDecode, "decode")
	if r != command.ExitOK || got.Token != "x.y.z" || got.JSON {
		t.Errorf("jwt decode from stdin: exit %d %+v", r, got)
	}
}

func TestKeygenFlags(t *testing.T) {
	t.Parallel()
	got, r := parse(t, "", NewCmdKeygen, "keygen", "--alg", "EdDSA", "--out", "k.jwk", "--jwks-out", "k.jwks.json", "--kid", "2026-01", "--force")
	if r != command.ExitOK {
		t.Fatalf("exit %d", r)
	}
	got.IO = command.IOStreams{}
	want := &KeygenOptions{Alg: "EdDSA", Out: "k.jwk", JWKSOut: "k.jwks.json", KID: "2026-01", Force: true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("jwt keygen flags:\n got %+v\nwant %+v", got, want)
	}
	if got, r = parse(t, "", NewCmdKeygen, "keygen"); r != command.ExitOK || got.Alg != "ES256" || got.Force {
		t.Errorf("jwt keygen defaults: exit %d %+v", r, got)
	}
}
