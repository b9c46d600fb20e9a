package secret

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// TestNewTokenEntropy is the property test of SECURITY-CASES 28: tokens
// carry 256 random bits (≥ 128) and never repeat.
func TestNewTokenEntropy(t *testing.T) {
	const n = 10000
	seen := make(map[string]bool, n)
	var ones, bits int
	for range n {
		tok := NewToken()
		if len(tok) != 43 {
			t.Fatalf("NewToken() = %q: length %d, want 43", tok, len(tok))
		}
		b, err := base64.RawURLEncoding.Strict().DecodeString(tok)
		if err != nil {
			t.Fatalf("NewToken() = %q is not unpadded base64url: %v", tok, err)
		}
		if len(b)*8 < 128 || len(b) != TokenBytes {
			t.Fatalf("NewToken() decodes to %d bytes, want %d", len(b), TokenBytes)
		}
		if seen[tok] {
			t.Fatalf("NewToken() repeated %q", tok)
		}
		seen[tok] = true
		for _, c := range b {
			for i := range 8 {
				ones += int(c>>i) & 1
			}
			bits += 8
		}
	}
	// A fair source gives half ones; 2.56M bits make ±1% a > 30σ bound.
	if frac := float64(ones) / float64(bits); frac < 0.49 || frac > 0.51 {
		t.Errorf("fraction of one bits = %.4f, want about 0.5", frac)
	}
}

func TestHash(t *testing.T) {
	// SHA-256("abc") from FIPS 180-2.
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := Hash("abc"); got != want {
		t.Errorf("Hash(abc) = %s, want %s", got, want)
	}
	if Hash("a") == Hash("b") {
		t.Error("Hash(a) == Hash(b)")
	}
}

func TestEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "ab", false},
		{"", "a", false},
	} {
		if got := Equal(tc.a, tc.b); got != tc.want {
			t.Errorf("Equal(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestNewUserCode checks SECURITY-CASES 26: 8 characters from the 20-letter
// alphabet, formatted XXXX-XXXX, all letters used, no repeats in a sample.
func TestNewUserCode(t *testing.T) {
	const n = 20000
	seen := make(map[string]bool, n)
	counts := make(map[byte]int)
	for range n {
		c := NewUserCode()
		if len(c) != 9 || c[4] != '-' {
			t.Fatalf("NewUserCode() = %q, want XXXX-XXXX", c)
		}
		norm := NormalizeUserCode(c)
		if len(norm) != UserCodeLength {
			t.Fatalf("NormalizeUserCode(%q) = %q, want %d characters", c, norm, UserCodeLength)
		}
		for i := range len(norm) {
			if !strings.ContainsRune(UserCodeAlphabet, rune(norm[i])) {
				t.Fatalf("NewUserCode() = %q has %q outside the alphabet", c, norm[i])
			}
			counts[norm[i]]++
		}
		// 20^8 = 2.56e10 codes; 20000 draws collide with p ≈ 0.8%.
		// Allow one collision so the test is not flaky, catch a broken
		// generator that repeats a lot.
		if seen[c] {
			t.Logf("repeated user code %q", c)
		}
		seen[c] = true
	}
	if len(seen) < n-2 {
		t.Errorf("%d distinct user codes in %d draws", len(seen), n)
	}
	if len(counts) != len(UserCodeAlphabet) {
		t.Errorf("used %d letters, want all %d", len(counts), len(UserCodeAlphabet))
	}
	// Each letter should appear n*8/20 = 8000 times; a modulo-biased or
	// broken generator is far off. 8000 ± 5% is beyond 5σ (σ ≈ 87).
	for ch, c := range counts {
		if c < 7600 || c > 8400 {
			t.Errorf("letter %q appeared %d times, want about 8000", ch, c)
		}
	}
}

func TestNormalizeUserCode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"WDJB-MJHT", "WDJBMJHT"},
		{"wdjb-mjht", "WDJBMJHT"},
		{" wdjb mjht\n", "WDJBMJHT"},
		{"WD-JB\tMJ-HT", "WDJBMJHT"},
		{"WDJB-MJH0", "WDJBMJH0"}, // a mistyped character stays wrong
		{"WDJB-MJHſ", "WDJBMJHſ"}, // no Unicode case folding to 'S'
		{"", ""},
	} {
		if got := NormalizeUserCode(tc.in); got != tc.want {
			t.Errorf("NormalizeUserCode(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestKeySealOpen(t *testing.T) {
	k := NewKey()
	msg := []byte("private key bytes")
	ad := []byte("kid-1")
	c1, err := k.Seal(msg, ad)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := k.Seal(msg, ad)
	if string(c1) == string(c2) {
		t.Error("two seals of the same message are equal; nonce not random")
	}
	if c1[0] != sealVersion {
		t.Errorf("version byte = %d, want %d", c1[0], sealVersion)
	}
	if strings.Contains(string(c1), string(msg)) {
		t.Error("sealed message contains the plaintext")
	}
	got, err := k.Open(c1, ad)
	if err != nil || string(got) != string(msg) {
		t.Fatalf("Open = %q, %v; want %q", got, err, msg)
	}

	other := NewKey()
	tampered := append([]byte(nil), c1...)
	tampered[len(tampered)-1] ^= 1
	badVersion := append([]byte(nil), c1...)
	badVersion[0] = 99
	for name, tc := range map[string]struct {
		k  *Key
		c  []byte
		ad []byte
	}{
		"wrong key":          {other, c1, ad},
		"wrong ad":           {k, c1, []byte("kid-2")},
		"no ad":              {k, c1, nil},
		"tampered":           {k, tampered, ad},
		"unknown version":    {k, badVersion, ad},
		"truncated":          {k, c1[:10], ad},
		"empty":              {k, nil, ad},
		"ciphertext removed": {k, c1[:1+nonceSize], ad},
	} {
		if _, err := tc.k.Open(tc.c, tc.ad); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: Open error = %v, want ErrOpen", name, err)
		}
	}

	var zero Key
	if _, err := zero.Seal(msg, nil); err == nil {
		t.Error("zero Key sealed")
	}
}

func TestKeyNotPrinted(t *testing.T) {
	k := NewKey()
	for _, s := range []string{k.String(), k.GoString()} {
		if strings.Contains(s, k.Encode()) {
			t.Errorf("String leaks the key: %s", s)
		}
	}
}

func TestParseKey(t *testing.T) {
	raw := make([]byte, KeySize)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	want := hex.EncodeToString(raw)
	for name, in := range map[string]string{
		"hex":        want,
		"hex upper":  strings.ToUpper(want),
		"hex spaces": "  " + want + "\n",
		"std":        base64.StdEncoding.EncodeToString(raw),
		"raw std":    base64.RawStdEncoding.EncodeToString(raw),
		"url":        base64.URLEncoding.EncodeToString(raw),
		"raw url":    base64.RawURLEncoding.EncodeToString(raw),
	} {
		k, err := ParseKey(in)
		if err != nil {
			t.Errorf("%s: ParseKey: %v", name, err)
			continue
		}
		if k.Encode() != want {
			t.Errorf("%s: key = %s, want %s", name, k.Encode(), want)
		}
	}
	secretish := strings.Repeat("z", 63)
	for name, in := range map[string]string{
		"empty":       "",
		"short hex":   want[:62],
		"bad hex":     secretish + "!",
		"16 bytes":    base64.StdEncoding.EncodeToString(raw[:16]),
		"48 bytes":    base64.StdEncoding.EncodeToString(append(raw, raw[:16]...)),
		"garbage":     "not a key",
		"63 hex + z":  want[:63] + "z",
		"hex+newline": want[:32] + "\n" + want[32:],
	} {
		_, err := ParseKey(in)
		if err == nil {
			t.Errorf("%s: ParseKey(%q) succeeded", name, in)
			continue
		}
		if len(in) > 8 && strings.Contains(err.Error(), in) {
			t.Errorf("%s: error repeats the input: %v", name, err)
		}
	}
}

func TestDerive(t *testing.T) {
	k := NewKey()
	a, b := k.Derive("one"), k.Derive("two")
	if len(a) != 32 || string(a) == string(b) {
		t.Fatalf("Derive gave %x and %x", a, b)
	}
	same, err := ParseKey(k.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if string(same.Derive("one")) != string(a) {
		t.Fatal("the same key derived different values")
	}
	if string(NewKey().Derive("one")) == string(a) {
		t.Fatal("another key derived the same value")
	}
}
