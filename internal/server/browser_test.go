package server

import (
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/server/browser"
)

// A small browser for the page tests and for the token tests that run the
// whole code flow: a cookie jar, redirects followed while they stay on the
// server, and the hidden fields of the page's form read back for the next
// POST.

// withIssuer sets the configured issuer (e.g. an https URL, which turns on
// Secure __Host- cookies). Such a harness is driven through
// h.srv.Handler() with httptest.NewRecorder.
func withIssuer(iss string) harnessOption {
	return func(c *config.Server) { c.Issuer = iss }
}

// perMinute is a rate limit of n events a minute, all of them at once.
func perMinute(n int) config.Rate {
	return config.Rate{Requests: n, Per: config.Duration(time.Minute), Burst: n}
}

// newBrowser returns a client that keeps cookies and follows redirects on
// the server, but stops at a redirect that leaves it (to a client's
// redirect URI, which usually is not listening) and returns that response
// so its Location can be read.
func (h *testHarness) newBrowser() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		h.t.Fatal(err)
	}
	iss, err := url.Parse(h.ts.URL)
	if err != nil {
		h.t.Fatal(err)
	}
	return &http.Client{
		Jar: jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme != iss.Scheme || req.URL.Host != iss.Host {
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}
}

// browserPage is one response as the browser saw it.
type browserPage struct {
	status int
	header http.Header
	body   string
	url    *url.URL // the URL that answered (after redirects)
}

// location is the Location header parsed.
func (p *browserPage) location() *url.URL {
	u, err := url.Parse(p.header.Get("Location"))
	if err != nil || p.header.Get("Location") == "" {
		return nil
	}
	return u
}

func (h *testHarness) do(c *http.Client, req *http.Request) *browserPage {
	h.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return &browserPage{status: resp.StatusCode, header: resp.Header, body: string(b), url: resp.Request.URL}
}

// browse GETs path (relative to the server's base path) with c.
func (h *testHarness) browse(c *http.Client, path string) *browserPage {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.url(path), nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.do(c, req)
}

// submit POSTs form to path (relative to the base path) with c.
func (h *testHarness) submit(c *http.Client, path string, form url.Values) *browserPage {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url(path), strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return h.do(c, req)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)

// formFields are the hidden fields of the page's form, unescaped.
func formFields(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

// fillForm is the page's hidden fields plus extra.
func fillForm(body string, extra url.Values) url.Values {
	v := formFields(body)
	for k, vs := range extra {
		v[k] = vs
	}
	return v
}

// loginAs signs c in as user through the login form.
func (h *testHarness) loginAs(c *http.Client, user, pass string) {
	h.t.Helper()
	p := h.browse(c, PathLogin+"?prompt=login")
	if p.status != http.StatusOK || formFields(p.body).Get(browser.CSRFField) == "" {
		h.t.Fatalf("login page: %d %s", p.status, p.body)
	}
	p = h.submit(c, PathLogin, fillForm(p.body, url.Values{"username": {user}, "password": {pass}}))
	if p.status != http.StatusOK || !strings.Contains(p.body, "You are signed in as") {
		h.t.Fatalf("login as %s: %d %s", user, p.status, p.body)
	}
}

// authorizeCode sends c (signed in) through the authorization endpoint
// with q, allowing the consent screen if one is shown, and returns the
// redirect to the client: it carries code (or error), state and iss.
func (h *testHarness) authorizeCode(c *http.Client, q url.Values) *url.URL {
	h.t.Helper()
	p := h.browse(c, PathAuthorize+"?"+q.Encode())
	if p.status == http.StatusOK && strings.Contains(p.body, `action="`+h.base+PathAuthorize+`"`) {
		p = h.submit(c, PathAuthorize, fillForm(p.body, url.Values{"decision": {"allow"}}))
	}
	loc := p.location()
	if p.status != http.StatusFound && p.status != http.StatusSeeOther || loc == nil {
		h.t.Fatalf("authorize: want a redirect to the client, got %d at %s: %s", p.status, p.url, p.body)
	}
	return loc
}
