package proxytest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
)

// start serves a new app on an httptest server.
func start(t *testing.T, opts ...Option) (*App, *httptest.Server) {
	t.Helper()
	app := NewApp(opts...)
	ts := httptest.NewServer(app.Handler())
	t.Cleanup(ts.Close)
	return app, ts
}

// signalClock is a fake clock that reports every timer the app starts,
// so a test advances time only once the app waits on it.
type signalClock struct {
	*clocktest.Fake
	timers chan time.Duration
}

func newSignalClock() *signalClock {
	return &signalClock{Fake: clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), timers: make(chan time.Duration, 100)}
}

func (c *signalClock) NewTimer(d time.Duration) clock.Timer {
	t := c.Fake.NewTimer(d)
	c.timers <- d
	return t
}

// waitTimer waits for the app to start a timer and returns its duration.
func (c *signalClock) waitTimer(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-c.timers:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("the app started no timer")
		return 0
	}
}

// get sends a request and returns the response with its body read.
func get(t *testing.T, method, url string, hdr http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

var htmlAccept = http.Header{"Accept": {"text/html,application/xhtml+xml"}}

func TestPages(t *testing.T) {
	_, ts := start(t)
	for _, p := range []string{"/", "/runs/7?tab=logs", "/assets/a%2Fb"} {
		res, body := get(t, http.MethodGet, ts.URL+p, htmlAccept)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(body, "<title>Test app</title>") || !strings.HasSuffix(body, "</body></html>") {
			t.Errorf("GET %s: %d %q %q", p, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		if res.Header.Get(HeaderApp) != "proxytest" {
			t.Errorf("GET %s: no %s header", p, HeaderApp)
		}
	}
	// The path is shown escaped.
	if _, body := get(t, http.MethodGet, ts.URL+"/%3Cscript%3E", htmlAccept); strings.Contains(body, "<script>") {
		t.Errorf("unescaped path in page: %s", body)
	}
	// Not a page: JSON clients and other methods get 404.
	if res, _ := get(t, http.MethodGet, ts.URL+"/runs", http.Header{"Accept": {"application/json"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("JSON GET of an unknown path: %d", res.StatusCode)
	}
	if res, _ := get(t, http.MethodPost, ts.URL+"/runs", htmlAccept); res.StatusCode != http.StatusNotFound {
		t.Errorf("POST of an unknown path: %d", res.StatusCode)
	}
	if res, body := get(t, http.MethodGet, ts.URL+"/healthz", nil); res.StatusCode != http.StatusOK || body != "ok\n" {
		t.Errorf("healthz: %d %q", res.StatusCode, body)
	}
}

func TestPathsAreNeverCleaned(t *testing.T) {
	_, ts := start(t)
	// net/http's ServeMux would redirect these to a cleaned path; the app
	// must not, or /echo could not show what the gateway forwarded.
	for _, p := range []string{"/echo/../admin", "/echo//x", "/echo/./x", "/echo/%2e%2e/admin", "/echo/%5c..%5cadmin", "/echo/a;b", "/echo/%00"} {
		res, body := get(t, http.MethodGet, ts.URL+p, nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `"request_uri": "`+p+`"`) {
			t.Errorf("GET %s: %d %s", p, res.StatusCode, body)
		}
	}
}

func TestAppLoginAndLogout(t *testing.T) {
	_, ts := start(t)
	res, body := get(t, http.MethodGet, ts.URL+"/login", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Test app login") {
		t.Fatalf("GET /login: %d %s", res.StatusCode, body)
	}
	res, _ = get(t, http.MethodPost, ts.URL+"/login", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" || !strings.HasPrefix(res.Header.Get("Set-Cookie"), AppCookie+"=app-user") {
		t.Fatalf("POST /login: %d %v", res.StatusCode, res.Header)
	}
	res, _ = get(t, http.MethodGet, ts.URL+"/logout", nil)
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("/logout: %d %v", res.StatusCode, res.Header)
	}
}

func TestStatus(t *testing.T) {
	_, ts := start(t)
	for _, code := range []int{200, 204, 302, 404, 500, 503} {
		res, _ := get(t, http.MethodGet, ts.URL+"/status/"+strconv.Itoa(code)+"?location=/elsewhere", nil)
		if res.StatusCode != code {
			t.Errorf("/status/%d: %d", code, res.StatusCode)
		}
		if res.Header.Get("Location") != "/elsewhere" {
			t.Errorf("/status/%d: Location %q", code, res.Header.Get("Location"))
		}
	}
	for _, bad := range []string{"99", "600", "x", ""} {
		if res, _ := get(t, http.MethodGet, ts.URL+"/status/"+bad, nil); res.StatusCode != http.StatusBadRequest {
			t.Errorf("/status/%s: %d", bad, res.StatusCode)
		}
	}
}

func TestBig(t *testing.T) {
	_, ts := start(t)
	res, body := get(t, http.MethodGet, ts.URL+"/big?bytes=200000", nil)
	if res.StatusCode != http.StatusOK || len(body) != 200000 || res.ContentLength != 200000 || body[:16] != "0123456789abcdef" {
		t.Fatalf("/big: %d, %d bytes, length %d", res.StatusCode, len(body), res.ContentLength)
	}
	if res, body := get(t, http.MethodGet, ts.URL+"/big", nil); res.StatusCode != http.StatusOK || len(body) != 1<<20 {
		t.Fatalf("/big default: %d %d", res.StatusCode, len(body))
	}
	for _, bad := range []string{"-1", "x", "2000000000"} {
		if res, _ := get(t, http.MethodGet, ts.URL+"/big?bytes="+bad, nil); res.StatusCode != http.StatusBadRequest {
			t.Errorf("/big?bytes=%s: %d", bad, res.StatusCode)
		}
	}
}

func TestSlowWaitsOnTheClock(t *testing.T) {
	clk := newSignalClock()
	_, ts := start(t, WithClock(clk))
	done := make(chan string, 1)
	go func() {
		res, err := http.Get(ts.URL + "/slow?d=90s")
		if err != nil {
			done <- err.Error()
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		done <- string(b)
	}()
	if d := clk.waitTimer(t); d != 90*time.Second {
		t.Fatalf("timer %s", d)
	}
	clk.Advance(89 * time.Second)
	select {
	case b := <-done:
		t.Fatalf("answered before its time: %q", b)
	default:
	}
	clk.Advance(time.Second)
	if b := <-done; b != "slept 1m30s\n" {
		t.Fatalf("slow: %q", b)
	}
	if res, _ := get(t, http.MethodGet, ts.URL+"/slow?d=6m", nil); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("/slow over MaxSlow: %d", res.StatusCode)
	}
}

func TestSlowStopsWhenTheClientLeaves(t *testing.T) {
	clk := newSignalClock()
	_, ts := start(t, WithClock(clk))
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/slow?d=1m", nil)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()
	clk.waitTimer(t)
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("request completed although cancelled")
	}
	// httptest.Server.Close (in cleanup) waits for the handler, so a
	// handler stuck on the timer would hang the test.
}
