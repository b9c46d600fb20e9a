package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestListenAddr(t *testing.T) {
	for _, tc := range []struct {
		line string
		want string
		ok   bool
	}{
		{"listening on 127.0.0.1:41234\n", "127.0.0.1:41234", true},
		{"listening on 127.0.0.1:1", "127.0.0.1:1", true},
		{"listening on 0.0.0.0:80\n", "", false},
		{"listening on [::1]:80\n", "", false},
		{"listening on 127.0.0.1:0\n", "", false},
		{"listening on 127.0.0.1:70000\n", "", false},
		{"listening on 127.0.0.1\n", "", false},
		{"testapp: listen: address in use\n", "", false},
		{"", "", false},
	} {
		got, ok := listenAddr(tc.line)
		if got != tc.want || ok != tc.ok {
			t.Errorf("listenAddr(%q) = %q, %v; want %q, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCompareToDirect(t *testing.T) {
	latency := []WorkloadResult{
		{Name: gwDirect, OK: 100, P50Ms: 0.15, P99Ms: 0.40},
		{Name: gwSession, OK: 100, P50Ms: 0.35, P99Ms: 0.90},
		{Name: gwJWT, OK: 90, Errors: 10, P50Ms: 0.30, P99Ms: 0.50},
		{Name: gwAPIKey, OK: 100, P50Ms: 0.30, P99Ms: 0.50},
		{Name: gwBare, OK: 100, P50Ms: 0.25, P99Ms: 0.60},
	}
	throughput := []WorkloadResult{
		{Name: gwDirect, OK: 1000, RPS: 10000},
		{Name: gwBare, OK: 1000, RPS: 8000},
		{Name: gwSession, OK: 1000, RPS: 6500},
		{Name: gwJWT, OK: 1000, RPS: 5000},
		// apikey has no throughput run: left out.
	}
	got := compareToDirect(latency, throughput)
	if len(got) != 3 {
		t.Fatalf("got %d comparisons, want session, jwt and bare: %+v", len(got), got)
	}
	s, j, b := got[0], got[1], got[2]
	if s.Name != gwSession || !near(s.AddedP50Ms, 0.20) || !near(s.AddedP99Ms, 0.50) || !near(s.ThroughputRatio, 0.65) || !s.Valid ||
		!near(s.AddedOverBareP50Ms, 0.10) || !near(s.BareRatio, 0.8125) {
		t.Errorf("session: %+v", s)
	}
	if b.Name != gwBare || !near(b.AddedP50Ms, 0.10) || !near(b.ThroughputRatio, 0.8) || b.BareRatio != 0 || !b.Valid {
		t.Errorf("bare: %+v", b)
	}
	if j.Name != gwJWT || !near(j.ThroughputRatio, 0.5) || j.Valid {
		t.Errorf("jwt (errors in its latency run): %+v", j)
	}
	if c := compareToDirect(latency[1:], throughput); c != nil {
		t.Errorf("without a direct run: %+v", c)
	}
}

func TestGatewayEvaluate(t *testing.T) {
	r := &GatewayReport{
		Concurrency: 32,
		Latency: []WorkloadResult{
			{Name: gwDirect, OK: 100, P50Ms: 0.10},
			{Name: gwSession, OK: 100, P50Ms: 0.40}, // +0.30: met
			{Name: gwAPIKey, OK: 100, P50Ms: 0.41},  // +0.31: missed
			{Name: gwJWT, OK: 100, P50Ms: 0.20},
			{Name: gwBare, OK: 100, P50Ms: 0.15},
		},
		Throughput: []WorkloadResult{
			{Name: gwDirect, OK: 1000, RPS: 10000},
			{Name: gwSession, OK: 1000, RPS: 5999}, // 59.99%: missed
			{Name: gwAPIKey, OK: 1000, RPS: 6000},  // 60%: met
			{Name: gwJWT, OK: 1000, Errors: 1, RPS: 9000},
			{Name: gwBare, OK: 1000, RPS: 9000},
		},
	}
	r.evaluate()
	want := map[string]bool{
		"added latency, p50, 1 worker (session)": true,
		"throughput, 32 workers (session)":       false,
		"added latency, p50, 1 worker (apikey)":  false,
		"throughput, 32 workers (apikey)":        true,
		// Errors in either run: never met.
		"added latency, p50, 1 worker (jwt)": false,
		"throughput, 32 workers (jwt)":       false,
		// bare is the floor: no targets.
	}
	if len(r.Targets) != len(want) {
		t.Fatalf("targets: %+v", r.Targets)
	}
	for _, tg := range r.Targets {
		pass, ok := want[tg.Name]
		if !ok || tg.Pass != pass {
			t.Errorf("%q: pass %v, want %v (measured %s)", tg.Name, tg.Pass, pass, tg.Measured)
		}
	}
	jwt := r.Targets[5]
	if !strings.Contains(jwt.Measured, "(1 errors)") {
		t.Errorf("jwt throughput does not mention the error: %s", jwt.Measured)
	}
	var out strings.Builder
	r.writeTable(&out)
	for _, s := range []string{"MISS", "PASS", "TestCachedSessionDoesNoStoreQuery", "+0.300"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, out.String())
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestParseFlagsGateway(t *testing.T) {
	o, err := parseFlags([]string{"--gateway"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Duration != gatewayDefaultDuration || o.Concurrency != 32 || strings.Join(o.Workloads, ",") != "bare,session,apikey,jwt" {
		t.Errorf("defaults: %+v", o)
	}
	o, err = parseFlags([]string{"--gateway", "--duration", "2s", "--workloads", "direct,jwt,cookie,jwt"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Duration != 2*time.Second || strings.Join(o.Workloads, ",") != "jwt,session" {
		t.Errorf("given: %+v", o)
	}
	for _, args := range [][]string{
		{"--gateway", "--postgres"},
		{"--gateway", "--workloads", "cc"},
		{"--workloads", "session"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
	// The server benchmark keeps its defaults.
	o, err = parseFlags(nil, io.Discard)
	if err != nil || o.Duration != 10*time.Second || len(o.Workloads) != 4 {
		t.Errorf("server defaults: %+v, %v", o, err)
	}
}

// fakeGateway imitates the gateway's login: a page without the session
// cookie goes to a login form (with a hidden csrf_token) and, after it, back
// to the page with the cookie set.
func fakeGateway(t *testing.T, password string) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+gatewayLoginPage, func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(gatewayCookie); err == nil && c.Value == "session-id" {
			w.Write([]byte("<html>Test app</html>"))
			return
		}
		if !strings.Contains(r.Header.Get("Accept"), "text/html") {
			http.Error(w, "log in", http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, "/_gatehouse/login?rd="+gatewayLoginPage, http.StatusFound)
	})
	mux.HandleFunc("GET /_gatehouse/login", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/_gatehouse/auth/login?return=x", http.StatusFound)
	})
	mux.HandleFunc("GET /_gatehouse/auth/login", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<form method="post" action="/_gatehouse/auth/login">
<input type="hidden" name="csrf_token" value="tok&amp;1">
<input name="username"><input type="password" name="password">
<button type="submit">Sign in</button></form>`))
	})
	mux.HandleFunc("POST /_gatehouse/auth/login", func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("csrf_token") != "tok&1" || r.PostFormValue("username") != benchUser || r.PostFormValue("password") != password {
			http.Error(w, "bad login", http.StatusForbidden)
			return
		}
		http.Redirect(w, r, "/_gatehouse/callback?code=c", http.StatusFound)
	})
	mux.HandleFunc("GET /_gatehouse/callback", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: gatewayCookie, Value: "session-id", Path: "/"})
		http.Redirect(w, r, gatewayLoginPage, http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestGatewaySession(t *testing.T) {
	srv := fakeGateway(t, "pw-1")
	ctx := context.Background()
	got, err := gatewaySession(ctx, srv.URL, benchUser, "pw-1")
	if err != nil || got != "session-id" {
		t.Fatalf("gatewaySession = %q, %v", got, err)
	}
	if _, err := gatewaySession(ctx, srv.URL, benchUser, "wrong"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("wrong password: %v", err)
	}
}

func TestGetWorker(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "Bearer good":
			w.Header().Set(appHeader, "proxytest")
		case "Bearer gateway-page":
			// a 200 the application did not send
		default:
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"status":200}`))
	}))
	defer srv.Close()
	ctx := context.Background()
	for tok, ok := range map[string]bool{"good": true, "gateway-page": false, "bad": false} {
		w := &getWorker{target: srv.URL + gatewayPath, header: [2]string{"Authorization", "Bearer " + tok}}
		if err := w.do(ctx, srv.Client()); (err == nil) != ok {
			t.Errorf("%s: err %v", tok, err)
		}
	}
}
