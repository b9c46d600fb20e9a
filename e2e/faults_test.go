package e2e

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/faultnet"
)

// TestDependencyFaults runs a real server on PostgreSQL and Redis, each
// behind a fault-injecting TCP proxy, and checks SECURITY-CASES 70: a
// stalled or cut dependency makes requests fail within their bound with
// 503 and Retry-After (or, for the token endpoint's Redis limit, succeed:
// it fails open), never hang; /readyz says so within its 2 s budget; and
// everything works again once the link is back.
func TestDependencyFaults(t *testing.T) {
	db, redisURL := sharedBackends(t)
	dbURL, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	pg := faultnet.Start(t, dbURL.Host)
	dbURL.Host = pg.Addr()
	rURL, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rd := faultnet.Start(t, rURL.Host)
	rURL.Host = rd.Addr()

	cfgFile := filepath.Join(t.TempDir(), "server.yaml")
	const dbTimeout, auditTimeout = time.Second, time.Second
	if err := os.WriteFile(cfgFile, []byte("timeouts:\n  database: 1s\n  redis: 300ms\naudit:\n  timeout: 1s\n  output: off\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startServer(t, "--db", dbURL.String(), "--redis", rURL.String(), "--config", cfgFile)
	id, secret := createClient(t, g, "faults", "--grant", "client_credentials")
	httpc := &http.Client{Timeout: 30 * time.Second}

	token := func() (int, string, time.Duration) {
		start := time.Now()
		req, _ := http.NewRequest(http.MethodPost, g.URL+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		resp, err := httpc.Do(req)
		if err != nil {
			t.Fatalf("token request: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After"), time.Since(start)
	}
	ready := func() (int, time.Duration) {
		start := time.Now()
		resp, err := httpc.Get(g.URL + "/readyz")
		if err != nil {
			t.Fatalf("readyz: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode, time.Since(start)
	}
	waitRecovered := func(t *testing.T) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			st, _, _ := token()
			rs, _ := ready()
			if st == http.StatusOK && rs == http.StatusOK {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("not recovered 20s after the link came back: token %d, readyz %d", st, rs)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if st, _, _ := token(); st != http.StatusOK {
		t.Fatalf("token with healthy dependencies: %d", st)
	}

	for _, f := range []struct {
		name  string
		apply func()
	}{{"stall", rd.Stall}, {"cut", rd.Cut}} {
		t.Run("redis "+f.name, func(t *testing.T) {
			f.apply()
			defer rd.Resume()
			for i := range 5 {
				st, _, d := token()
				if st != http.StatusOK || d > 1500*time.Millisecond {
					t.Errorf("token %d with redis %s: %d after %v; want 200 (limits fail open) within the redis timeout", i, f.name, st, d)
				}
			}
			if st, d := ready(); st != http.StatusServiceUnavailable || d > 2*time.Second {
				t.Errorf("readyz with redis %s: %d after %v, want 503 within 2s", f.name, st, d)
			}
			rd.Resume()
			waitRecovered(t)
		})
	}
	for _, f := range []struct {
		name  string
		apply func()
	}{{"stall", pg.Stall}, {"cut", pg.Cut}} {
		t.Run("postgres "+f.name, func(t *testing.T) {
			f.apply()
			defer pg.Resume()
			bound := dbTimeout + auditTimeout + 500*time.Millisecond
			var fast int
			for i := range 8 {
				st, retry, d := token()
				if st != http.StatusServiceUnavailable || retry == "" {
					t.Errorf("token %d with postgres %s: %d, Retry-After %q; want 503 with Retry-After", i, f.name, st, retry)
				}
				if d > bound {
					t.Errorf("token %d with postgres %s took %v, more than its %v bound", i, f.name, d, bound)
				}
				if d < 100*time.Millisecond {
					fast++
				}
			}
			if fast < 4 {
				t.Errorf("only %d of 8 requests failed fast: the breaker does not spare requests the timeout", fast)
			}
			if st, d := ready(); st != http.StatusServiceUnavailable || d > 2*time.Second {
				t.Errorf("readyz with postgres %s: %d after %v, want 503 within 2s", f.name, st, d)
			}
			pg.Resume()
			waitRecovered(t)
		})
	}
}
