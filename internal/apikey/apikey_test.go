package apikey

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestGenerateProperties is the property test of SECURITY-CASES 28 for API
// keys: the secret carries at least 128 random bits, keys never repeat,
// every key parses back to its parts, and id characters are uniform.
func TestGenerateProperties(t *testing.T) {
	const n = 10000
	seenKeys := make(map[string]bool, n)
	seenIDs := make(map[string]bool, n)
	counts := map[byte]int{}
	var ones, bits int
	for range n {
		id, key := Generate()
		if len(key) != Len || !strings.HasPrefix(key, Prefix+id+"_") {
			t.Fatalf("Generate() = %q, %q: want %q + id + \"_\" + secret, %d characters", id, key, Prefix, Len)
		}
		gotID, sec, ok := Parse(key)
		if !ok || gotID != id || key != Prefix+gotID+"_"+sec {
			t.Fatalf("Parse(%q) = %q, %q, %v; want the id %q back", key, gotID, sec, ok, id)
		}
		raw, err := base64.RawURLEncoding.Strict().DecodeString(sec)
		if err != nil {
			t.Fatalf("secret %q is not unpadded base64url: %v", sec, err)
		}
		if len(raw)*8 < 128 {
			t.Fatalf("secret decodes to %d bits, want ≥ 128", len(raw)*8)
		}
		if seenKeys[key] || seenIDs[id] {
			t.Fatalf("Generate() repeated key or id %q", id)
		}
		seenKeys[key], seenIDs[id] = true, true
		for i := 0; i < len(id); i++ {
			counts[id[i]]++
		}
		for _, c := range raw {
			for i := range 8 {
				ones += int(c>>i) & 1
			}
			bits += 8
		}
	}
	if frac := float64(ones) / float64(bits); frac < 0.49 || frac > 0.51 {
		t.Errorf("fraction of one bits in secrets = %.4f, want about 0.5", frac)
	}
	// 160,000 id characters over 36 symbols: about 4,444 each, σ ≈ 66.
	// A modulo bias (bytes ≥ 252 not redrawn) would not show at this
	// size, but a broken alphabet or a stuck source would.
	if len(counts) != len(idAlphabet) {
		t.Errorf("ids use %d distinct characters, want %d", len(counts), len(idAlphabet))
	}
	want := float64(n*IDLen) / float64(len(idAlphabet))
	for c, k := range counts {
		if float64(k) < 0.9*want || float64(k) > 1.1*want {
			t.Errorf("character %q appears %d times in ids, want about %.0f", c, k, want)
		}
	}
}

func TestForIDKeepsID(t *testing.T) {
	id, old := Generate()
	key := ForID(id)
	gotID, sec, ok := Parse(key)
	if !ok || gotID != id {
		t.Fatalf("Parse(ForID(%q)) = %q, %v", id, gotID, ok)
	}
	if key == old || strings.HasSuffix(old, sec) {
		t.Errorf("ForID returned the old secret again")
	}
}

// TestParseSecretWithUnderscores checks that the split happens at the
// first two underscores only: a secret may start with, end with and
// contain "_" and "-".
func TestParseSecretWithUnderscores(t *testing.T) {
	const id = "abcdefghij012345"
	for _, sec := range []string{
		"_" + strings.Repeat("A", 42),
		strings.Repeat("-", 42) + "_",
		strings.Repeat("a_b-", 10) + "xyz",
		strings.Repeat("_", 43),
	} {
		gotID, gotSec, ok := Parse(Prefix + id + "_" + sec)
		if !ok || gotID != id || gotSec != sec {
			t.Errorf("Parse(... %q) = %q, %q, %v; want %q, %q, true", sec, gotID, gotSec, ok, id, sec)
		}
	}
}

func TestParseRejectsMalformed(t *testing.T) {
	// A fixed key, so that no case passes by the chance of a random
	// secret starting with "_".
	const id, sec = "k3y1d00000000000", "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg"
	key := Prefix + id + "_" + sec
	if _, _, ok := Parse(key); !ok {
		t.Fatalf("Parse(%q) refused a well-formed key", key)
	}
	for name, bad := range map[string]string{
		"empty":                "",
		"prefix only":          Prefix,
		"no prefix":            id + "_" + sec,
		"other prefix":         "gatehous_" + id + "_" + sec + "x",
		"upper-case prefix":    "Gatehouse_" + id + "_" + sec,
		"missing separator":    Prefix + id + sec + "x",
		"id too short":         Prefix + id[1:] + "_" + sec + "x",
		"id too long":          Prefix + id + "a_" + sec[1:],
		"upper-case id":        Prefix + strings.ToUpper(id[:1]) + id[1:] + "_" + sec,
		"id with dash":         Prefix + id[:15] + "-_" + sec,
		"empty id":             Prefix + "_" + sec + strings.Repeat("a", IDLen),
		"secret too short":     Prefix + id + "_" + sec[1:],
		"secret too long":      key + "A",
		"secret with +":        Prefix + id + "_" + sec[:42] + "+",
		"secret with /":        Prefix + id + "_/" + sec[1:],
		"secret with =":        Prefix + id + "_" + sec[:42] + "=",
		"padded":               key[:len(key)-1] + "=",
		"trailing newline":     key[:len(key)-1] + "\n",
		"leading space":        " " + key[1:],
		"space inside":         key[:40] + " " + key[41:],
		"non-ASCII":            key[:len(key)-2] + "é",
		"a refresh token":      sec,
		"JWT-shaped":           Prefix + id + "_" + sec[:20] + "." + sec[21:],
		"double underscore id": Prefix + "_" + id[1:] + "_" + sec,
	} {
		if gotID, gotSec, ok := Parse(bad); ok {
			t.Errorf("%s: Parse(%q) = %q, %q, true; want rejected", name, bad, gotID, gotSec)
		}
	}
	if !ValidID(id) || ValidID(id[1:]) || ValidID(strings.ToUpper(id)+"!") || ValidID("") {
		t.Error("ValidID does not match the id format")
	}
}

// TestParseRejectsEveryBadByte changes each position of a valid key to
// bytes outside its alphabet and expects every result to be refused.
func TestParseRejectsEveryBadByte(t *testing.T) {
	_, key := Generate()
	for i := 0; i < len(key); i++ {
		for _, c := range []byte{' ', '+', '/', '=', '.', '\x00', 0xff} {
			b := []byte(key)
			b[i] = c
			if _, _, ok := Parse(string(b)); ok {
				t.Errorf("Parse accepted %q (byte %d set to %q)", b, i, c)
			}
		}
	}
}
