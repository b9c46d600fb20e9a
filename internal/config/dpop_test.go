package config

import (
	"strings"
	"testing"
	"time"
)

func TestDPoPSettings(t *testing.T) {
	c, err := Load(serverFlags(t, "--config", writeFile(t, "dpop:\n  require_nonce: true\n  nonce_window: 2m\n  proof_window: 30s\n")), envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.DPoP.RequireNonce || c.DPoP.NonceWindow != Duration(2*time.Minute) || c.DPoP.ProofWindow != Duration(30*time.Second) {
		t.Fatalf("dpop %+v", c.DPoP)
	}
	d := Default()
	if d.DPoP.RequireNonce || d.DPoP.ProofWindow != Duration(time.Minute) || d.DPoP.NonceWindow != Duration(5*time.Minute) {
		t.Fatalf("default dpop %+v", d.DPoP)
	}
	c, err = Load(nil, envMap(map[string]string{"GATEHOUSE_DPOP_REQUIRE_NONCE": "true"}))
	if err != nil || !c.DPoP.RequireNonce {
		t.Fatalf("env: %+v %v", c.DPoP, err)
	}
	if _, err := Load(nil, envMap(map[string]string{"GATEHOUSE_DPOP_REQUIRE_NONCE": "sometimes"})); err == nil || !strings.Contains(err.Error(), "GATEHOUSE_DPOP_REQUIRE_NONCE") {
		t.Fatalf("bad env value: %v", err)
	}
	for yaml, key := range map[string]string{
		"dpop:\n  proof_window: 11m\n": "dpop.proof_window",
		"dpop:\n  proof_window: 0s\n":  "dpop.proof_window",
		"dpop:\n  nonce_window: 5s\n":  "dpop.nonce_window",
	} {
		_, err := Load(serverFlags(t, "--config", writeFile(t, yaml)), envMap(nil))
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: err %v, want one naming %s", yaml, err, key)
		}
	}
}
