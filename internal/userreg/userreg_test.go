package userreg

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

func TestCheckEmail(t *testing.T) {
	for _, ok := range []string{"a@b", "alice@example.org", "Alice.Liddell+tag@Example.ORG", "ünï@bücher.example",
		strings.Repeat("a", 64) + "@" + strings.Repeat("b", MaxEmailLen-65)} {
		if err := CheckEmail(ok); err != nil {
			t.Errorf("CheckEmail(%q) = %v", ok, err)
		}
	}
	for bad, want := range map[string]string{
		"":                          "must not be empty",
		"alice":                     "not an address",
		"@example.org":              "not an address",
		"alice@":                    "not an address",
		"a@b@c":                     "not an address",
		"alice @example.org":        "space",
		"alice@example.org\r\nBcc:": "control character",
		"alice@example.org\n":       "control character",
		"alice\x00@example.org":     "control character",
		"alice\u2028@example.org":   "control character",
		"alice@exa\tmple.org":       "control character",
		"alice\u00a0@example.org":   "space",
		"\xff@example.org":          "UTF-8",
		"a@" + strings.Repeat("b", MaxEmailLen-1): "longer than 254 bytes",
	} {
		err := CheckEmail(bad)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckEmail(%q) = %v, want an error mentioning %q", bad, err, want)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"", "Alice Liddell", "Ünïcode Ñame", strings.Repeat("é", MaxNameLen)} {
		if err := CheckName(ok); err != nil {
			t.Errorf("CheckName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"  ", "a\rb", "a\nb", "a\x00", "a\tb", "a\x7f", "a\u2029b", "\xff", strings.Repeat("x", MaxNameLen+1)} {
		if err := CheckName(bad); err == nil {
			t.Errorf("CheckName(%q) accepted it", bad)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestProfileApplyAndChanges(t *testing.T) {
	u := storage.User{Email: "alice@example.org", EmailVerified: true, Name: "Alice"}
	before := u
	if (Profile{}).Apply(&u); !cmp.Equal(u, before) || Changes(&before, &u) != nil {
		t.Errorf("empty profile changed %+v", u)
	}
	// Only the case changes: still verified.
	Profile{Email: ptr("Alice@Example.org")}.Apply(&u)
	if !u.EmailVerified {
		t.Error("a change of case unverified the email")
	}
	// A new address is not verified unless the change says so.
	Profile{Email: ptr("alice@new.example"), Name: ptr("")}.Apply(&u)
	want := storage.User{Email: "alice@new.example"}
	if diff := cmp.Diff(want, u); diff != "" {
		t.Errorf("after a new email (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"email": "alice@new.example", "previous_email": "alice@example.org",
		"email_verified": "false", "name": "", "previous_name": "Alice"}, Changes(&before, &u)); diff != "" {
		t.Errorf("Changes (-want +got):\n%s", diff)
	}
	Profile{Email: ptr("bob@example.org"), EmailVerified: ptr(true)}.Apply(&u)
	if !u.EmailVerified {
		t.Error("email_verified given with a new email was not set")
	}
	Profile{Email: ptr(""), EmailVerified: ptr(true)}.Apply(&u)
	if u.Email != "" || u.EmailVerified {
		t.Errorf("verified without an address: %+v", u)
	}
	if err := (Profile{Email: ptr(""), Name: ptr("")}).Check(); err != nil {
		t.Errorf("clearing: %v", err)
	}
	if err := (Profile{Email: ptr("x")}).Check(); err == nil {
		t.Error("a bad email passed Check")
	}
	if err := (Profile{Name: ptr("a\nb")}).Check(); err == nil {
		t.Error("a bad name passed Check")
	}
}

// FuzzCheckEmail: whatever CheckEmail accepts has one @ between non-empty
// parts, no space or control character, and fits MaxEmailLen.
func FuzzCheckEmail(f *testing.F) {
	for _, s := range []string{"alice@example.org", "a@b", "a@b@c", "a\r\n@b", "ünï@bücher.example", " a@b", "@", "a@b\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckEmail(s) != nil {
			return
		}
		local, domain, _ := strings.Cut(s, "@")
		if strings.Count(s, "@") != 1 || local == "" || domain == "" || len(s) > MaxEmailLen ||
			strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }) ||
			!utf8.ValidString(s) {
			t.Errorf("CheckEmail accepted %q", s)
		}
	})
}
