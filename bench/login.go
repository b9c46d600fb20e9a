package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// maxPage bounds what is read of a page or a response body.
const maxPage = 1 << 20

// maxSteps bounds the redirects and form posts of one authorization.
const maxSteps = 10

// setupClient makes the setup requests that need no cookies.
var setupClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil}}

// tokenResponse is the part of a token response the benchmark reads.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// postJSON posts form with the Authorization header auth and decodes a 200
// JSON answer into out.
func postJSON(ctx context.Context, target, auth string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", auth)
	resp, err := setupClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, snippet(body))
	}
	return json.Unmarshal(body, out)
}

// browser is a minimal user agent for the login and consent pages: a
// cookie jar, redirects followed by hand (and only on the server), forms
// filled from their hidden fields. It signs in as user with password.
type browser struct {
	base     *url.URL
	user     string
	password string
	client   *http.Client
}

func newBrowser(base, user, password string) *browser {
	u, _ := url.Parse(base)
	jar, _ := cookiejar.New(nil)
	return &browser{
		base: u, user: user, password: password,
		client: &http.Client{
			Jar:           jar,
			Timeout:       30 * time.Second,
			Transport:     &http.Transport{Proxy: nil},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// pkce returns a code verifier and its S256 challenge (RFC 7636 §4.1-4.2).
func pkce() (verifier, challenge string) {
	verifier = randomToken(32)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorize runs an authorization request with PKCE the way a browser
// would: GET /oauth2/authorize, the login form when not signed in, the
// consent form when asked, until the server redirects to redirectURI. It
// returns the code and the verifier to redeem it with.
func (b *browser) authorize(ctx context.Context, clientID, redirectURI, scope string) (code, verifier string, err error) {
	verifier, challenge := pkce()
	state := randomToken(16)
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {redirectURI},
		"scope":                 {scope},
		"state":                 {state},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
	start := b.base.ResolveReference(&url.URL{Path: "/oauth2/authorize", RawQuery: q.Encode()})
	loc, err := b.walk(ctx, start, func(u *url.URL, redirect bool) bool {
		return redirect && strings.HasPrefix(u.String(), redirectURI)
	})
	if err != nil {
		return "", "", err
	}
	return codeFrom(loc, state, verifier)
}

// walk goes from start the way a browser would: it follows redirects on
// the server's host and, on a page answered with 200, fills in and submits
// its first POST form, until done accepts a redirect's location or a
// page's URL (redirect false), which it returns.
func (b *browser) walk(ctx context.Context, start *url.URL, done func(u *url.URL, redirect bool) bool) (*url.URL, error) {
	next, method, post := start, http.MethodGet, url.Values(nil)
	for step := 0; step < maxSteps; step++ {
		resp, page, err := b.do(ctx, method, next, post)
		if err != nil {
			return nil, err
		}
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc, err := next.Parse(resp.Header.Get("Location"))
			if err != nil {
				return nil, fmt.Errorf("bad redirect %q: %w", resp.Header.Get("Location"), err)
			}
			if done(loc, true) {
				return loc, nil
			}
			if loc.Host != b.base.Host {
				return nil, fmt.Errorf("unexpected redirect to %s", loc.Redacted())
			}
			next, method, post = loc, http.MethodGet, nil
		case resp.StatusCode == http.StatusOK:
			if done(next, false) {
				return next, nil
			}
			action, form, err := b.fill(page)
			if err != nil {
				return nil, fmt.Errorf("page %s: %w", next.Path, err)
			}
			target, err := next.Parse(action)
			if err != nil || target.Host != b.base.Host {
				return nil, fmt.Errorf("page %s: form posts to %q", next.Path, action)
			}
			next, method, post = target, http.MethodPost, form
		default:
			return nil, fmt.Errorf("%s %s: %s: %s", method, next.Path, resp.Status, snippet(page))
		}
	}
	return nil, fmt.Errorf("%s: not done after %d steps", start.Path, maxSteps)
}

// codeFrom reads the authorization response at the client's redirect URI.
func codeFrom(loc *url.URL, state, verifier string) (string, string, error) {
	q := loc.Query()
	if e := q.Get("error"); e != "" {
		return "", "", fmt.Errorf("authorization error %s: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != state {
		return "", "", fmt.Errorf("authorization response with the wrong state")
	}
	if q.Get("code") == "" {
		return "", "", fmt.Errorf("authorization response without a code")
	}
	return q.Get("code"), verifier, nil
}

// do sends one browser request and reads the page.
func (b *browser) do(ctx context.Context, method string, u *url.URL, form url.Values) (*http.Response, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	// A navigation: the gateway sends such requests to its login page
	// rather than answering 401.
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	return resp, page, err
}

var (
	formRE  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	fieldRE = regexp.MustCompile(`(?is)<(input|button)\b([^>]*)>`)
	attrRE  = regexp.MustCompile(`(?is)([a-z_:][-a-z0-9_:.]*)\s*=\s*"([^"]*)"`)
)

// attrs parses the double-quoted attributes of a tag (html/template always
// quotes them so).
func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(tag, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// fill fills in the first POST form of page as the user would: hidden
// fields as they are, username and password, and "Allow" on a consent
// screen. It returns the form's action and values.
func (b *browser) fill(page []byte) (string, url.Values, error) {
	for _, f := range formRE.FindAllSubmatch(page, -1) {
		fa := attrs(string(f[1]))
		if !strings.EqualFold(fa["method"], "post") {
			continue
		}
		form := url.Values{}
		var decision string
		for _, fld := range fieldRE.FindAllSubmatch(f[2], -1) {
			a := attrs(string(fld[2]))
			name := a["name"]
			switch {
			case name == "":
			case strings.EqualFold(string(fld[1]), "button"):
				if decision == "" || a["value"] == "allow" {
					decision = name + "=" + a["value"]
				}
			case a["type"] == "hidden":
				form.Set(name, a["value"])
			case name == "username":
				form.Set(name, b.user)
			case name == "password":
				form.Set(name, b.password)
			}
		}
		if k, v, ok := strings.Cut(decision, "="); ok {
			form.Set(k, v)
		}
		return fa["action"], form, nil
	}
	return "", nil, fmt.Errorf("no form to submit: %s", snippet(page))
}

var tagRE = regexp.MustCompile(`(?s)<[^>]*>`)

// snippet is the start of a response body for an error message, with HTML
// tags and runs of white space removed.
func snippet(body []byte) string {
	s := html.UnescapeString(tagRE.ReplaceAllString(string(body), " "))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
