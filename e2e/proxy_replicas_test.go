package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/proxy/proxytest"
)

// TestGatewayReplicas runs two gateways behind one public URL, on one
// PostgreSQL schema with sessions in one Redis database: a login on one is
// a session on the other, a logout on one ends it on both, and a role
// change made with the CLI reaches both.
func TestGatewayReplicas(t *testing.T) {
	db, redisURL := sharedBackends(t)
	key := make([]byte, 32)
	rand.Read(key)
	env := []string{"GATEHOUSE_SECRET_KEY=" + hex.EncodeToString(key)}

	app := proxytest.NewApp()
	ts := httptest.NewServer(app.Handler())
	t.Cleanup(ts.Close)
	addrA, addrB := freeAddr(t), freeAddr(t)
	args := []string{"--upstream", ts.URL, "--preset", "dagster", "--audit-output", "off",
		"--db", db, "--redis", redisURL, "--sessions", redisURL, "--public-url", "http://" + addrA}
	a := spawnCommand(t, "proxy", "/_gatehouse/healthz", addrA, t.TempDir(), env, args...)
	b := spawnCommand(t, "proxy", "/_gatehouse/healthz", addrB, t.TempDir(), env, args...)
	a.waitHealthy(t)
	b.waitHealthy(t)
	gwA, gwB := &gateway{gatehouse: a, app: app}, &gateway{gatehouse: b, app: app}

	pass := gwA.addUser(t, "vera", "viewer")
	c := gwA.browserLogin(t, "vera", pass)
	// The cookie jar sends the same cookie to B (cookies ignore ports).
	if got := gwB.graphql(t, c, nil, queryRuns); got != http.StatusOK {
		t.Fatalf("A's session at B: %d", got)
	}
	if got := gwB.graphql(t, c, nil, mutLaunch); got != http.StatusForbidden {
		t.Fatalf("viewer mutation at B: %d", got)
	}

	// Promoted with the CLI on the database: both replicas apply it.
	gatehouseAdmin(t, a, "users", "set-role", "vera", "editor")
	for _, gw := range []*gateway{gwA, gwB} {
		deadline := time.Now().Add(10 * time.Second)
		for gw.graphql(t, c, nil, mutLaunch) != http.StatusOK {
			if time.Now().After(deadline) {
				t.Fatalf("promotion never reached %s", gw.URL)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	// Logout at B ends the session at A too (within A's 5 s session
	// cache). The browser forgets its cookie at logout; a stolen copy of
	// it is what must stop working.
	var stolen *http.Cookie
	for _, ck := range c.Jar.Cookies(mustURL(t, a.URL)) {
		if ck.Name == "gatehouse_proxy" {
			stolen = ck
		}
	}
	if stolen == nil {
		t.Fatal("no gatehouse_proxy cookie after login")
	}
	thief := &http.Client{Timeout: 10 * time.Second}
	withStolen := http.Header{"Cookie": {stolen.Name + "=" + stolen.Value}}
	if got := gwA.graphql(t, thief, withStolen, queryRuns); got != http.StatusOK {
		t.Fatalf("the copied cookie before logout: %d", got)
	}
	p, err := browse(c, http.MethodGet, b.URL+"/_gatehouse/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := p.form("/_gatehouse/logout")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.submit(c, nil); err != nil {
		t.Fatal(err)
	}
	if got := gwB.graphql(t, thief, withStolen, queryRuns); got != http.StatusUnauthorized {
		t.Fatalf("after logout at B: %d", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for gwA.graphql(t, thief, withStolen, queryRuns) != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatal("the logout at B never reached A")
		}
		time.Sleep(250 * time.Millisecond)
	}
}
