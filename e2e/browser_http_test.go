package e2e

import (
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The HTTP "browser": an http.Client with a cookie jar that reads the
// server's HTML pages and submits their forms the way a browser would,
// hidden CSRF fields included. It is how most tests sign in; the Chromium
// tests do the same through a real browser.

// newBrowser returns an HTTP client that acts as a user's browser for the
// server at issuer: it keeps cookies and follows redirects within the
// server's origin, and stops at a redirect to any other origin (a client's
// redirect URI), returning that redirect unfollowed.
func newBrowser(t testing.TB, issuer string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	origin, err := url.Parse(issuer)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Jar:     jar,
		Timeout: 20 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme != origin.Scheme || req.URL.Host != origin.Host {
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			return nil
		},
	}
}

// page is what the browser ended at: an HTML page of the server, or a
// redirect out of the server's origin.
type page struct {
	URL    *url.URL // after the redirects within the server
	Status int
	Body   string
	// Location is the target of a redirect out of the server's origin.
	Location *url.URL
}

// browse requests target (a form POST when form is not nil) and follows
// redirects within the server.
func browse(c *http.Client, method, target string, form url.Values) (*page, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	// What a browser sends for a navigation (the gateway tells pages from
	// API calls by it).
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", resp.Request.URL, err)
	}
	p := &page{URL: resp.Request.URL, Status: resp.StatusCode, Body: string(b)}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		if p.Location, err = resp.Location(); err != nil {
			return nil, fmt.Errorf("redirect from %s without a usable Location: %w", p.URL, err)
		}
	}
	return p, nil
}

func (p *page) String() string {
	if p.Location != nil {
		return fmt.Sprintf("%d at %s redirecting to %s", p.Status, p.URL, p.Location)
	}
	return fmt.Sprintf("%d at %s: %s", p.Status, p.URL, tail(p.Body, 600))
}

// form is an HTML form of a page.
type form struct {
	Action *url.URL // resolved against the page URL
	Method string
	// Fields are the named input fields with their values (hidden ones
	// included); Buttons are the named submit buttons with their values.
	Fields  url.Values
	Buttons url.Values
}

var (
	formRe    = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	controlRe = regexp.MustCompile(`(?is)<(input|button)\b([^>]*)>`)
	attrRe    = regexp.MustCompile(`(?is)([a-z][a-z0-9_:-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?`)
)

// attributes parses the attributes of a start tag.
func attributes(s string) map[string]string {
	out := map[string]string{}
	for _, m := range attrRe.FindAllStringSubmatch(s, -1) {
		out[strings.ToLower(m[1])] = html.UnescapeString(m[2] + m[3] + m[4])
	}
	return out
}

// forms parses the forms of the page.
func (p *page) forms() []*form {
	var out []*form
	for _, m := range formRe.FindAllStringSubmatch(p.Body, -1) {
		a := attributes(m[1])
		action, err := p.URL.Parse(a["action"])
		if err != nil {
			continue
		}
		f := &form{Action: action, Method: strings.ToUpper(a["method"]), Fields: url.Values{}, Buttons: url.Values{}}
		for _, c := range controlRe.FindAllStringSubmatch(m[2], -1) {
			ca := attributes(c[2])
			name := ca["name"]
			if name == "" {
				continue
			}
			typ := strings.ToLower(ca["type"])
			if strings.EqualFold(c[1], "button") || typ == "submit" {
				if typ == "" || typ == "submit" {
					f.Buttons.Add(name, ca["value"])
				}
				continue
			}
			f.Fields.Add(name, ca["value"])
		}
		out = append(out, f)
	}
	return out
}

// form returns the page's form that posts to the given path.
func (p *page) form(actionPath string) (*form, error) {
	for _, f := range p.forms() {
		if f.Action.Path == actionPath {
			return f, nil
		}
	}
	return nil, fmt.Errorf("no form posting to %s on the page %s", actionPath, p)
}

// submit posts the form with its fields, overridden or extended by set
// (which also names the submit button pressed, if any).
func (f *form) submit(c *http.Client, set url.Values) (*page, error) {
	v := url.Values{}
	for k, vs := range f.Fields {
		v[k] = slices.Clone(vs)
	}
	for k, vs := range set {
		v[k] = vs
	}
	method := f.Method
	if method == "" {
		method = http.MethodGet
	}
	if method != http.MethodPost {
		return nil, fmt.Errorf("form to %s uses method %q; only POST forms are expected", f.Action, method)
	}
	return browse(c, method, f.Action.String(), v)
}

// isLoginForm reports whether the page shows the login form.
func (p *page) isLoginForm() bool {
	f, err := p.form("/login")
	return err == nil && f.Fields.Has("password")
}

// submitLogin fills in and submits the login form on p, which must show it.
func submitLogin(c *http.Client, p *page, user, pass string) (*page, error) {
	f, err := p.form("/login")
	if err != nil {
		return nil, err
	}
	if !f.Fields.Has("csrf_token") || f.Fields.Get("csrf_token") == "" {
		return nil, fmt.Errorf("login form without a csrf_token field on %s", p)
	}
	return f.submit(c, url.Values{"username": {user}, "password": {pass}})
}

// loginHTTP signs the browser c in at issuer as user: it opens /login,
// submits the form and checks that the server took the password.
func loginHTTP(c *http.Client, issuer, user, pass string) error {
	p, err := browse(c, http.MethodGet, issuer+"/login", nil)
	if err != nil {
		return fmt.Errorf("open login page: %w", err)
	}
	if p.Status != http.StatusOK || !p.isLoginForm() {
		return fmt.Errorf("login page: got %s", p)
	}
	next, err := submitLogin(c, p, user, pass)
	if err != nil {
		return fmt.Errorf("submit login form: %w", err)
	}
	if next.Status != http.StatusOK || next.isLoginForm() {
		return fmt.Errorf("login as %s refused: got %s", user, next)
	}
	return nil
}

// mustParse parses a URL the test built itself.
func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// approveDeviceHTTP enters userCode on the device page of a signed-in
// browser and presses the button for decision ("approve" or "deny").
func approveDeviceHTTP(c *http.Client, issuer, userCode, decision string) error {
	p, err := browse(c, http.MethodGet, issuer+"/device", nil)
	if err != nil {
		return fmt.Errorf("open device page: %w", err)
	}
	if p.Status != http.StatusOK {
		return fmt.Errorf("device page: got %s", p)
	}
	// The device page of an issuer with a path (the gateway's embedded
	// server) is under that path.
	devicePath := mustParse(issuer).Path + "/device"
	f, err := p.form(devicePath)
	if err != nil {
		return err
	}
	if !f.Fields.Has("user_code") {
		return fmt.Errorf("device page has no user_code field: %s", p)
	}
	confirm, err := f.submit(c, url.Values{"user_code": {userCode}})
	if err != nil {
		return fmt.Errorf("submit user code: %w", err)
	}
	if confirm.Status != http.StatusOK {
		return fmt.Errorf("after entering the user code: got %s", confirm)
	}
	cf, err := confirm.form(devicePath)
	if err != nil {
		return err
	}
	if !slices.Contains(cf.Buttons["decision"], decision) {
		return fmt.Errorf("confirmation form has no %q button (buttons %v): %s", decision, cf.Buttons, confirm)
	}
	done, err := cf.submit(c, url.Values{"decision": {decision}})
	if err != nil {
		return fmt.Errorf("submit %s: %w", decision, err)
	}
	// The final page says what happened ("Device approved", "Request
	// denied") and offers nothing more to submit.
	word := map[string]string{"approve": "approved", "deny": "denied"}[decision]
	if done.Status != http.StatusOK || len(done.forms()) != 0 || !strings.Contains(strings.ToLower(done.Body), word) {
		return fmt.Errorf("after %s: got %s", decision, done)
	}
	return nil
}
