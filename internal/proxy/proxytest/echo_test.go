package proxytest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// rawRequest writes req verbatim to the app and returns the decoded echo,
// so header spellings and paths reach it exactly as a proxy might send them.
func rawRequest(t *testing.T, addr, req string) (*http.Response, *Echo) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var e Echo
	if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
		t.Fatalf("echo: status %d: %v", res.StatusCode, err)
	}
	return res, &e
}

func TestEchoDescribesTheRequestExactly(t *testing.T) {
	_, ts := start(t)
	addr := strings.TrimPrefix(ts.URL, "http://")
	body := `{"hello":"world"}`
	req := "POST /echo/a%2Fb/../c?x=1&x=2&y=%20 HTTP/1.1\r\n" +
		"Host: app.example\r\n" +
		"X-Forwarded-User: alice\r\n" +
		"x_forwarded_user: mallory\r\n" +
		"X-Multi: one\r\n" +
		"X-Multi: two\r\n" +
		"Cookie: a=1; _gatehouse_session=s3cret; a=2\r\n" +
		"Content-Type: application/json\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n", len(body)) +
		"Connection: close\r\n\r\n" + body
	res, e := rawRequest(t, addr, req)
	if res.StatusCode != http.StatusOK || res.Header.Get(HeaderApp) != "proxytest" {
		t.Fatalf("status %d, headers %v", res.StatusCode, res.Header)
	}
	if e.Method != "POST" || e.Host != "app.example" || e.Path != "/echo/a/b/../c" || e.RawPath != "/echo/a%2Fb/../c" ||
		e.RequestURI != "/echo/a%2Fb/../c?x=1&x=2&y=%20" {
		t.Errorf("request line: %+v", e)
	}
	if !slices.Equal(e.Query["x"], []string{"1", "2"}) || !slices.Equal(e.Query["y"], []string{" "}) {
		t.Errorf("query %v", e.Query)
	}
	// The underscore spelling is a different key and must stay one.
	if !slices.Equal(e.Headers["X-Forwarded-User"], []string{"alice"}) || !slices.Equal(e.Headers["X_forwarded_user"], []string{"mallory"}) {
		t.Errorf("headers %v", e.Headers)
	}
	if !slices.Equal(e.Header("x-forwarded-user"), []string{"alice"}) || !slices.Equal(e.Header("X-MULTI"), []string{"one", "two"}) {
		t.Errorf("Header lookup: %v %v", e.Header("x-forwarded-user"), e.Header("X-MULTI"))
	}
	if e.Cookies["a"] != "1" || e.Cookies["_gatehouse_session"] != "s3cret" || len(e.CookieList) != 3 || e.CookieList[2] != (EchoCookie{"a", "2"}) {
		t.Errorf("cookies %v %v", e.Cookies, e.CookieList)
	}
	if e.Body != body || e.BodySize != int64(len(body)) || e.BodyTruncated || e.ContentLength != int64(len(body)) {
		t.Errorf("body %q size %d truncated %v", e.Body, e.BodySize, e.BodyTruncated)
	}
	if e.RemoteAddr == "" || e.Proto != "HTTP/1.1" {
		t.Errorf("remote %q proto %q", e.RemoteAddr, e.Proto)
	}
}

func TestEchoBoundsTheBody(t *testing.T) {
	_, ts := start(t)
	big := strings.Repeat("x", MaxEchoBody+10)
	res, err := http.Post(ts.URL+"/echo", "text/plain", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var e Echo
	if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	if len(e.Body) != MaxEchoBody || e.BodySize != int64(len(big)) || !e.BodyTruncated {
		t.Fatalf("body %d bytes, size %d, truncated %v", len(e.Body), e.BodySize, e.BodyTruncated)
	}
}

func TestEchoAnyMethodAndSubpath(t *testing.T) {
	_, ts := start(t)
	for _, m := range []string{"GET", "PUT", "DELETE", "PATCH", "OPTIONS", "CUSTOM"} {
		res, body := get(t, m, ts.URL+"/echo/sub/path", nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `"method": "`+m+`"`) || !strings.Contains(body, `"path": "/echo/sub/path"`) {
			t.Errorf("%s: %d %s", m, res.StatusCode, body)
		}
	}
	// /echoes is not /echo.
	if res, _ := get(t, http.MethodGet, ts.URL+"/echoes", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("/echoes: %d", res.StatusCode)
	}
}
