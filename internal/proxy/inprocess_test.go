package proxy

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestInProcessRoundTrip(t *testing.T) {
	h := http.NewServeMux()
	h.HandleFunc("GET /plain", func(w http.ResponseWriter, r *http.Request) {
		if r.RemoteAddr == "" || r.RequestURI != "/plain?x=1" {
			t.Errorf("request as the handler sees it: RemoteAddr %q, RequestURI %q", r.RemoteAddr, r.RequestURI)
		}
		io.WriteString(w, "<html>hello")
		w.Header().Set("X-Late", "1") // after the status: not sent
	})
	h.HandleFunc("POST /json", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "2")
		w.WriteHeader(http.StatusEarlyHints) // informational: not the answer
		w.WriteHeader(http.StatusCreated)
		w.WriteHeader(http.StatusTeapot) // a second status is ignored
		if string(b) == "in" {
			io.WriteString(w, "{}")
		}
	})
	h.HandleFunc("GET /empty", func(http.ResponseWriter, *http.Request) {})
	c := &http.Client{Transport: inProcess{h: h, host: "gw.test"}}

	res, err := c.Get("https://gw.test/plain?x=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || string(body) != "<html>hello" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
		res.Header.Get("X-Late") != "" || res.ContentLength != -1 || res.Request == nil {
		t.Errorf("GET /plain: %d %v %q (length %d)", res.StatusCode, res.Header, body, res.ContentLength)
	}

	res, err = c.Post("https://gw.test/json", "text/plain", strings.NewReader("in"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated || res.Status != "201 Created" || string(body) != "{}" ||
		res.Header.Get("Content-Type") != "application/json" || res.ContentLength != 2 {
		t.Errorf("POST /json: %s %v %q (length %d)", res.Status, res.Header, body, res.ContentLength)
	}

	res, err = c.Get("https://gw.test/empty")
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := io.ReadAll(res.Body); res.StatusCode != 200 || len(body) != 0 {
		t.Errorf("GET /empty: %d %q", res.StatusCode, body)
	}

	if _, err := c.Get("https://elsewhere.test/plain"); err == nil || !strings.Contains(err.Error(), "unexpected host") {
		t.Errorf("another host: %v", err)
	}
}
