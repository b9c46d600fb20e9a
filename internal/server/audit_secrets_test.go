package server

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// chainOutput is the JSON-lines output of a Logger with a store.
type chainOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *chainOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *chainOutput) Bytes() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return bytes.Clone(o.buf.Bytes())
}

// TestAuditTrailHoldsNoSecrets drives logins, every grant, refresh,
// revocation, the device flow, replays and failed client authentication
// through a server whose audit Logger appends to the database, and then
// looks for every password, secret, code and token used in the JSON lines
// and in the stored chain. None may be there; the chain must verify.
func TestAuditTrailHoldsNoSecrets(t *testing.T) {
	f := newUserFixture(t)
	var out chainOutput
	al := audit.NewWithStore(&out, f.store, f.clock)
	f.srv.audit = al // before the first request: handlers read it per request
	f.srv.rewire()

	const password = "correct horse battery"
	secrets := map[string]string{
		"password":            password,
		"web client secret":   f.webSecret,
		"other client secret": f.otherSecret,
		"rs client secret":    f.rsSecret,
		"PKCE verifier":       testVerifier,
	}
	keep := func(what string, v any) {
		t.Helper()
		s, _ := v.(string)
		if s == "" {
			t.Fatalf("no %s to look for", what)
		}
		secrets[what] = s
	}
	keepTokens := func(prefix string, body map[string]any) {
		t.Helper()
		keep(prefix+" access token", body["access_token"])
		for _, k := range []string{"refresh_token", "id_token"} {
			if body[k] != nil {
				keep(prefix+" "+k, body[k])
			}
		}
	}

	// Logins: a wrong password, then the right one.
	c := f.newBrowser()
	wrong := "Wrong-" + secret.NewToken()
	secrets["wrong password"] = wrong
	if p := f.submit(c, PathLogin, f.loginForm(c, "alice", wrong)); strings.Contains(p.body, "You are signed in as") {
		t.Fatal("a wrong password signed in")
	}
	f.loginAs(c, "alice", password)
	keep("session cookie", f.sessionCookie(c))

	// Browser code flow of the public CLI client, its refresh, and a
	// replay of the code.
	loc := f.authorizeCode(c, cliRequest())
	code := loc.Query().Get("code")
	keep("authorization code", code)
	codeForm := url.Values{"grant_type": {"authorization_code"}, "client_id": {CLIClientID},
		"code": {code}, "redirect_uri": {cliRedirect}, "code_verifier": {testVerifier}}
	st, cli, _ := f.postForm(PathToken, codeForm, "", "")
	if st != http.StatusOK {
		t.Fatalf("code exchange: %d %v", st, cli)
	}
	keepTokens("cli", cli)
	st, refreshed := f.refresh("", "", cli["refresh_token"].(string), url.Values{"client_id": {CLIClientID}})
	if st != http.StatusOK {
		t.Fatalf("refresh: %d %v", st, refreshed)
	}
	keepTokens("cli refreshed", refreshed)
	if st, body := f.refresh("", "", cli["refresh_token"].(string), url.Values{"client_id": {CLIClientID}}); st != http.StatusBadRequest {
		t.Errorf("refresh token reuse: %d %v", st, body)
	}
	if st, body, _ := f.postForm(PathToken, codeForm, "", ""); st != http.StatusBadRequest {
		t.Errorf("code replay: %d %v", st, body)
	}

	// A confidential client's code exchange, then revocation of its
	// refresh token and access token.
	web := f.codeTokens("openid", "read")
	keepTokens("web", web)
	for _, tok := range []string{web["refresh_token"].(string), web["access_token"].(string)} {
		if st, body, _ := f.postForm(PathRevoke, url.Values{"token": {tok}}, "web", f.webSecret); st != http.StatusOK {
			t.Fatalf("revoke: %d %v", st, body)
		}
	}

	// Client credentials, and failed client authentication.
	st, machine, _ := f.postForm(PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}, "other", f.otherSecret)
	if st != http.StatusOK {
		t.Fatalf("client credentials: %d %v", st, machine)
	}
	keepTokens("machine", machine)
	badSecret := secret.NewToken()
	secrets["wrong client secret"] = badSecret
	if st, body, _ := f.postForm(PathToken, url.Values{"grant_type": {"client_credentials"}}, "other", badSecret); st != http.StatusUnauthorized {
		t.Errorf("wrong client secret: %d %v", st, body)
	}

	// The device flow, approved on the /device page.
	dev := f.startDevice(t)
	keep("device code", dev["device_code"])
	keep("user code", dev["user_code"])
	keep("user code (normalised)", secret.NormalizeUserCode(dev["user_code"].(string)))
	p := f.browse(c, PathDevice)
	p = f.submit(c, PathDevice, fillForm(p.body, url.Values{"user_code": {dev["user_code"].(string)}}))
	p = f.submit(c, PathDevice, fillForm(p.body, url.Values{"decision": {"approve"}}))
	if p.status != http.StatusOK {
		t.Fatalf("device approval: %d %s", p.status, p.body)
	}
	f.clock.Advance(10 * time.Second)
	st, device := f.pollDevice(dev["device_code"].(string), CLIClientID)
	if st != http.StatusOK {
		t.Fatalf("device token: %d %v", st, device)
	}
	keepTokens("device", device)

	if err := al.Close(); err != nil {
		t.Fatal(err)
	}

	// Every event went to both places, chained.
	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	var stored [][]byte
	n, err := audit.Verify(t.Context(), f.store, func(r *storage.AuditRecord) {
		stored = append(stored, audit.RecordLine(r))
	})
	if err != nil || int(n) != len(lines) {
		t.Fatalf("Verify = %d, %v; the output has %d lines", n, err, len(lines))
	}
	for i := range lines {
		if !bytes.Equal(append(bytes.Clone(lines[i]), '\n'), stored[i]) {
			t.Fatalf("line %d differs from the stored record:\n%s\n%s", i, lines[i], stored[i])
		}
	}
	all := out.Bytes()
	for _, typ := range []string{
		audit.LoginFailure, audit.LoginSuccess, audit.TokenIssued, audit.TokenRefused, audit.RefreshReuse,
		audit.CodeReplay, audit.TokenRevoked, audit.DeviceApproved,
	} {
		if !bytes.Contains(all, []byte(`"type":"`+typ+`"`)) {
			t.Errorf("no %s event in the trail", typ)
		}
	}
	for what, s := range secrets {
		if bytes.Contains(all, []byte(s)) {
			t.Errorf("the audit trail contains the %s", what)
		}
		// Also the signature alone, and the hash the store keeps.
		if i := strings.LastIndexByte(s, '.'); i > 0 && bytes.Contains(all, []byte(s[i+1:])) {
			t.Errorf("the audit trail contains the signature of the %s", what)
		}
		if bytes.Contains(all, []byte(secret.Hash(s))) {
			t.Errorf("the audit trail contains the hash of the %s", what)
		}
	}
}
