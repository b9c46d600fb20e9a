package main

import "testing"

// TestEvaluateDPoPRatio: each DPoP workload is held to the ≥ 70% target
// against plain client_credentials, the EdDSA one under its own name.
func TestEvaluateDPoPRatio(t *testing.T) {
	r := &Report{Workloads: []WorkloadResult{
		{Name: wlClientCredentials, RPS: 1000},
		{Name: wlClientCredentialsDPoP, RPS: 650},
		{Name: wlClientCredentialsDPoPEdDSA, RPS: 720},
	}}
	r.evaluate()
	want := map[string]bool{"client_credentials with DPoP": false, "client_credentials with DPoP (EdDSA)": true}
	for _, tg := range r.Targets {
		if pass, ok := want[tg.Name]; ok {
			if tg.Pass != pass {
				t.Errorf("%s: pass = %v (%s), want %v", tg.Name, tg.Pass, tg.Measured, pass)
			}
			delete(want, tg.Name)
		}
	}
	if len(want) > 0 {
		t.Fatalf("targets missing: %v", want)
	}
}

func TestParseFlagsDPoPWorkloads(t *testing.T) {
	o, err := parseFlags([]string{"--workloads", "cc,cc-dpop,cc-dpop-eddsa"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Workloads) != 3 || o.Workloads[2] != wlClientCredentialsDPoPEdDSA {
		t.Fatalf("workloads %v", o.Workloads)
	}
}
