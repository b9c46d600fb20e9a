package proxytest

import (
	"encoding/json"
	"io"
	"net/http"
)

// MaxEchoBody is how much of a request body /echo returns; the rest is
// read and counted in Echo.BodySize.
const MaxEchoBody = 1 << 20

// Echo is what /echo answers: the request exactly as it reached the app.
type Echo struct {
	Method        string              `json:"method"`
	Proto         string              `json:"proto"`
	Host          string              `json:"host"`
	Path          string              `json:"path"`
	RawPath       string              `json:"raw_path"`
	RequestURI    string              `json:"request_uri"`
	Query         map[string][]string `json:"query"`
	Headers       map[string][]string `json:"headers"`
	Cookies       map[string]string   `json:"cookies"`
	CookieList    []EchoCookie        `json:"cookie_list"`
	RemoteAddr    string              `json:"remote_addr"`
	ContentLength int64               `json:"content_length"`
	Body          string              `json:"body"`
	BodySize      int64               `json:"body_size"`
	BodyTruncated bool                `json:"body_truncated"`
}

// EchoCookie is one cookie of a request, in the order sent.
type EchoCookie struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Header returns the values of header name under any letter case of the
// key (but not under look-alikes spelt with "_").
func (e *Echo) Header(name string) []string {
	var out []string
	for k, v := range e.Headers {
		if http.CanonicalHeaderKey(k) == http.CanonicalHeaderKey(name) {
			out = append(out, v...)
		}
	}
	return out
}

// NewEcho describes r, reading at most MaxEchoBody bytes of its body into
// Body and counting the rest.
func NewEcho(r *http.Request) (*Echo, error) {
	e := &Echo{
		Method:        r.Method,
		Proto:         r.Proto,
		Host:          r.Host,
		Path:          r.URL.Path,
		RawPath:       r.URL.RawPath,
		RequestURI:    r.RequestURI,
		Query:         r.URL.Query(),
		Headers:       make(map[string][]string, len(r.Header)),
		Cookies:       map[string]string{},
		CookieList:    []EchoCookie{},
		RemoteAddr:    r.RemoteAddr,
		ContentLength: r.ContentLength,
	}
	// Keys exactly as net/http stored them: a look-alike such as
	// "X_forwarded_user" stays distinct from "X-Forwarded-User".
	for k, v := range r.Header {
		e.Headers[k] = append([]string(nil), v...)
	}
	for _, c := range r.Cookies() {
		if _, seen := e.Cookies[c.Name]; !seen {
			e.Cookies[c.Name] = c.Value
		}
		e.CookieList = append(e.CookieList, EchoCookie{Name: c.Name, Value: c.Value})
	}
	if r.Body != nil {
		head, err := io.ReadAll(io.LimitReader(r.Body, MaxEchoBody))
		if err != nil {
			return nil, err
		}
		rest, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			return nil, err
		}
		e.Body = string(head)
		e.BodySize = int64(len(head)) + rest
		e.BodyTruncated = rest > 0
	}
	return e, nil
}

func (a *App) serveEcho(w http.ResponseWriter, r *http.Request) {
	e, err := NewEcho(r)
	if err != nil {
		http.Error(w, "echo: read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(e)
}
