package oauth

import (
	"regexp"
	"strings"
	"testing"
)

// TestValidVerifierMatchesGrammar checks the hand-written code_verifier
// check against the RFC 7636 §4.1 grammar written as a regexp.
func TestValidVerifierMatchesGrammar(t *testing.T) {
	grammar := regexp.MustCompile(`^[A-Za-z0-9\-._~]{43,128}$`)
	ok := strings.Repeat("aZ09-._~", 6)[:43]
	inputs := []string{
		"", ok, ok[:42], ok + strings.Repeat("x", 85), ok + strings.Repeat("x", 86),
		ok[:42] + "+", ok[:42] + "/", ok[:42] + "=", ok[:42] + " ", ok[:42] + "é", "é" + ok,
		ok + "\n", strings.Repeat("~", 128), strings.Repeat("A", 129),
	}
	for c := 0; c < 256; c++ {
		inputs = append(inputs, ok[:42]+string(rune(c)), string([]byte{byte(c)})+ok[:42])
	}
	for _, in := range inputs {
		if got, want := validVerifier(in), grammar.MatchString(in); got != want {
			t.Errorf("validVerifier(%q) = %v, grammar says %v", in, got, want)
		}
	}
}
