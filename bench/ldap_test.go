package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/connector/ldap/ldaptest"
)

func TestParseFlagsLDAP(t *testing.T) {
	o, err := parseFlags([]string{"--ldap"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !o.LDAP || o.LDAPPool != 8 || strings.Join(o.Workloads, ",") != "starttls,ldaps,wrong" {
		t.Errorf("defaults: %+v", o)
	}
	o, err = parseFlags([]string{"--ldap", "--workloads", "ldap,wrong-password", "--ldap-pool", "2"}, io.Discard)
	if err != nil || strings.Join(o.Workloads, ",") != "starttls,wrong" || o.LDAPPool != 2 {
		t.Errorf("given: %+v, %v", o, err)
	}
	for _, args := range [][]string{
		{"--ldap", "--postgres"},
		{"--ldap", "--gateway"},
		{"--ldap", "--workloads", "cc"},
		{"--ldap", "--ldap-pool", "0"},
		{"--workloads", "starttls"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

// TestRunLDAP runs the benchmark briefly against a real slapd and checks
// the bound it reports: one bind and two searches per sign-in.
func TestRunLDAP(t *testing.T) {
	if !ldaptest.Available() {
		t.Skip("no slapd")
	}
	o, err := parseFlags([]string{"--ldap", "--duration", "300ms", "--warmup", "100ms", "--concurrency", "4", "--ldap-pool", "2"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := runLDAP(ctx, o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	rep.writeTable(io.Discard)
	if len(rep.Workloads) != 3 {
		t.Fatalf("workloads: %+v", rep.Workloads)
	}
	for _, w := range rep.Workloads {
		if w.OK == 0 || w.Errors != 0 {
			t.Errorf("%s: %d ok, %d errors (%s)", w.Name, w.OK, w.Errors, w.FirstError)
		}
		wantSearches := 2.0
		if w.Name == ldapWrong {
			wantSearches = 1
		}
		if w.BindsPerSignIn != 1 || w.SearchesPerSignIn != wantSearches {
			t.Errorf("%s: %.2f binds and %.2f searches per sign-in", w.Name, w.BindsPerSignIn, w.SearchesPerSignIn)
		}
	}
}
