package main

import (
	"strings"
	"testing"
)

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

// TestEvaluateDPoPServerCPU: with the server's CPU per request measured,
// the DPoP target also shows the ratio of CPU per request, and PASS or
// MISS still follows req/s.
func TestEvaluateDPoPServerCPU(t *testing.T) {
	r := &Report{Workloads: []WorkloadResult{
		{Name: wlClientCredentials, RPS: 1000, ServerCPUPerRequestUs: 150},
		{Name: wlClientCredentialsDPoP, RPS: 650, ServerCPUPerRequestUs: 200},
	}}
	r.evaluate()
	for _, tg := range r.Targets {
		if tg.Name != "client_credentials with DPoP" {
			continue
		}
		if tg.Pass || !strings.Contains(tg.Measured, "65% (650 vs 1,000 req/s)") || !strings.Contains(tg.Measured, "server CPU 200 vs 150 µs/req, 75%") {
			t.Fatalf("measured %q, pass %v", tg.Measured, tg.Pass)
		}
		return
	}
	t.Fatal("no DPoP target")
}

func TestParseFlagsPerfDir(t *testing.T) {
	if _, err := parseFlags([]string{"--ldap", "--perf-dir", t.TempDir()}, nil); err == nil {
		t.Fatal("--perf-dir with --ldap accepted")
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
