package admincmd

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command/commandtest"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func TestUsersProfile(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.ok("correct horse battery\n", "users", "add", "alice", "--email", "Alice@Example.org", "--email-verified",
		"--name", "Alice Liddell", "--password-stdin", "--json")
	u := decode[userJSON](t, r.Out)
	if u.Email != "Alice@Example.org" || !u.EmailVerified || u.Name != "Alice Liddell" {
		t.Errorf("users add --json = %+v", u)
	}
	if !strings.Contains(r.ErrOut, `"email":"Alice@Example.org"`) || strings.Contains(r.ErrOut, "correct horse") {
		t.Errorf("user.created audit event without the email, or with the password:\n%s", r.ErrOut)
	}
	stored, err := h.store().GetUserByName(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if stored.Email != "Alice@Example.org" || !stored.EmailVerified || stored.Name != "Alice Liddell" {
		t.Errorf("stored: %+v", stored)
	}
	table := h.ok("", "users", "list").Out
	for _, want := range []string{"NAME", "EMAIL", "Alice Liddell", "Alice@Example.org"} {
		if !strings.Contains(table, want) {
			t.Errorf("users list without %q:\n%s", want, table)
		}
	}
	if listed := decode[[]userJSON](t, h.ok("", "users", "list", "--json").Out); !cmp.Equal(listed, []userJSON{u}) {
		t.Errorf("users list --json = %+v, want [%+v]", listed, u)
	}
	show := h.ok("", "users", "show", "ALICE").Out
	for _, want := range []string{"Name:", "Alice Liddell", "Email:", "Alice@Example.org", "Email verified:", "yes", "viewer"} {
		if !strings.Contains(show, want) {
			t.Errorf("users show without %q:\n%s", want, show)
		}
	}
	if got := decode[userJSON](t, h.ok("", "users", "show", "alice", "--json").Out); !cmp.Equal(got, u) {
		t.Errorf("users show --json = %+v, want %+v", got, u)
	}

	// Refused before the password is asked for (stdin is empty), or
	// after it when the email is another user's; nothing is stored.
	h.fail(command.ExitUsage, "not an address", "", "users", "add", "bob", "--email", "bob")
	h.fail(command.ExitUsage, "control character", "", "users", "add", "bob", "--email", "bob@example.org\r\nBcc: x@evil.example")
	h.fail(command.ExitUsage, "control character", "", "users", "add", "bob", "--name", "Bob\nAdmin")
	h.fail(command.ExitError, `email "alice@EXAMPLE.org" is already used by another user`, "long enough\n",
		"users", "add", "bob", "--email", "alice@EXAMPLE.org", "--password-stdin")
	if _, err := h.store().GetUserByName(t.Context(), "bob"); err == nil {
		t.Error("a refused user was stored")
	}

	// Only the flags given change; a new address is not verified.
	h.ok("long enough\n", "users", "add", "bob", "--password-stdin")
	if out := h.ok("", "users", "update", "bob", "--name", "Bob").Out; out != "Updated user \"bob\": no email, name \"Bob\".\n" {
		t.Errorf("users update output: %q", out)
	}
	r = h.ok("", "users", "update", "alice", "--email", "alice@new.example")
	if r.Out != "Updated user \"alice\": email alice@new.example (not verified), name \"Alice Liddell\".\n" {
		t.Errorf("users update --email: %q", r.Out)
	}
	if !strings.Contains(r.ErrOut, `"type":"user.updated"`) || !strings.Contains(r.ErrOut, `"previous_email":"Alice@Example.org"`) {
		t.Errorf("user.updated audit event without the change:\n%s", r.ErrOut)
	}
	h.ok("", "users", "update", "alice", "--email-verified")
	got := decode[userJSON](t, h.ok("", "users", "show", "alice", "--json").Out)
	if got.Email != "alice@new.example" || !got.EmailVerified || got.Name != "Alice Liddell" {
		t.Errorf("after updates: %+v", got)
	}
	h.fail(command.ExitError, "already used by another user", "", "users", "update", "bob", "--email", "ALICE@new.example")
	h.fail(command.ExitUsage, "control character", "", "users", "update", "bob", "--name", "B\tob")
	h.fail(command.ExitUsage, "longer than 254 bytes", "", "users", "update", "bob", "--email", "b@"+strings.Repeat("x", 260))
	h.fail(command.ExitUsage, "nothing to change", "", "users", "update", "bob")
	h.fail(command.ExitError, "not found", "", "users", "update", "nobody", "--name", "X")

	h.ok("", "users", "update", "alice", "--email", "", "--name", "")
	got = decode[userJSON](t, h.ok("", "users", "show", "alice", "--json").Out)
	if got.Email != "" || got.EmailVerified || got.Name != "" {
		t.Errorf("after clearing: %+v", got)
	}
	// The cleared address is free again.
	h.ok("", "users", "update", "bob", "--email", "alice@new.example", "--email-verified=false")
}

func TestUsersProfileOverAPI(t *testing.T) {
	srv := servertest.Start(t)
	h := newHarness(t)
	h.env["GATEHOUSE_API_KEY"] = addServerAPIKey(t, srv, "admin")

	out := bothModes(t, h, srv, blankUserJSON(t), "first password\n", "users", "add", "carol", "--email", "carol@example.org",
		"--email-verified", "--name", "Carol Ann", "--password-stdin", "--json")
	if !strings.Contains(out, `"email":"carol@example.org"`) || !strings.Contains(out, `"email_verified":true`) || !strings.Contains(out, `"name":"Carol Ann"`) {
		t.Errorf("users add --json: %s", out)
	}
	bothModes(t, h, srv, nil, "second password\n", "users", "add", "dave", "--name", "Dave", "--password-stdin")
	bothModes(t, h, srv, nil, "", "users", "update", "dave", "--email", "Dave@Example.org")
	bothModes(t, h, srv, blankUserJSON(t), "", "users", "update", "dave", "--email-verified", "--json")
	bothModes(t, h, srv, blankUserJSON(t), "", "users", "show", "dave", "--json")
	show := bothModes(t, h, srv, blankVaryingShow, "", "users", "show", "carol")
	if !strings.Contains(show, "carol@example.org") || !strings.Contains(show, "Carol Ann") {
		t.Errorf("users show:\n%s", show)
	}
	u, err := srv.Store.GetUserByName(t.Context(), "dave")
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "Dave@Example.org" || !u.EmailVerified || u.Name != "Dave" {
		t.Errorf("dave on the server: %+v", u)
	}

	// The same errors, with the same exit codes, in both modes.
	for _, args := range [][]string{
		{"users", "add", "erin", "--email", "CAROL@example.org", "--password-stdin"},
		{"users", "add", "carol", "--email", "carol2@example.org", "--password-stdin"},
		{"users", "add", "erin", "--email", "erin@@example.org", "--password-stdin"},
		{"users", "update", "dave", "--email", "carol@EXAMPLE.ORG"},
		{"users", "update", "dave", "--name", "Dave\r\nX"},
		{"users", "update", "nobody", "--name", "Nobody"},
		{"users", "show", "nobody"},
	} {
		db := h.run("some password\n", args...)
		api := h.runCtx(t.Context(), "some password\n", append(args, "--server", srv.URL)...)
		if db.Err == nil || api.Err == nil {
			t.Errorf("gatehouse %s: database error %v, API error %v", strings.Join(args, " "), db.Err, api.Err)
			continue
		}
		if db.Err.Error() != api.Err.Error() || db.Code != api.Code {
			t.Errorf("gatehouse %s: errors differ\ndatabase: %v (exit %d)\nAPI:      %v (exit %d)", strings.Join(args, " "), db.Err, db.Code, api.Err, api.Code)
		}
	}
}

// blankVaryingShow replaces the id and times of users show, which differ
// between two stores.
func blankVaryingShow(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "ID:") || strings.HasPrefix(line, "Created:") || strings.HasPrefix(line, "Updated:") {
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// TestUsersProfileInTokens: an email and name set with the CLI are in the
// ID token and at userinfo for the scopes email and profile.
func TestUsersProfileInTokens(t *testing.T) {
	srv := servertest.Start(t)
	srv.AddUser(t, "frank", "correct horse battery", "viewer")
	h := newHarness(t)
	h.env["GATEHOUSE_API_KEY"] = addServerAPIKey(t, srv, "admin")
	r := h.runCtx(t.Context(), "", "users", "update", "frank", "--email", "Frank@Example.org", "--email-verified", "--name", "Frank Baum", "--server", srv.URL)
	if r.Err != nil {
		t.Fatalf("users update: %v\n%s", r.Err, r.ErrOut)
	}

	tok := commandtest.DeviceLogin(t, srv, "frank", []string{"openid", "email", "profile"})
	idToken, _ := tok["id_token"].(string)
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		t.Fatalf("no ID token: %v", tok)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"email": "Frank@Example.org", "email_verified": true, "name": "Frank Baum"}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("ID token %s = %v, want %v (claims %v)", k, claims[k], v, claims)
		}
	}

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+server.PathUserinfo, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	resp, err := srv.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: %d %v %v", resp.StatusCode, info, err)
	}
	for k, v := range want {
		if info[k] != v {
			t.Errorf("userinfo %s = %v, want %v (%v)", k, info[k], v, info)
		}
	}

	// Without the email scope, no email.
	tok = commandtest.DeviceLogin(t, srv, "frank", []string{"openid"})
	payload, err = base64.RawURLEncoding.DecodeString(strings.Split(tok["id_token"].(string), ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(payload), "Frank@Example.org") {
		t.Errorf("ID token for scope openid alone carries the email: %s", payload)
	}
}
