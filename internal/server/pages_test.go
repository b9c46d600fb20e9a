package server

import (
	"bytes"
	"html"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/server/webpage"
)

func TestHomePageAtTheIssuer(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    func(t *testing.T) *testHarness
	}{
		{"origin", func(t *testing.T) *testHarness { return newHarness(t) }},
		{"base path", func(t *testing.T) *testHarness { return newBaseHarness(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.h(t)
			h.addUser("alice", "correct horse battery")
			paths := []string{h.base + "/"}
			if h.base != "" {
				paths = append(paths, h.base)
			}
			c := h.newBrowser()
			for _, p := range paths {
				page := h.browse(c, strings.TrimPrefix(p, h.base))
				if page.status != http.StatusOK || !strings.Contains(page.body, `href="`+h.base+`/login"`) ||
					!strings.Contains(page.body, `href="`+h.base+`/account"`) || !strings.Contains(page.body, docsURL) {
					t.Fatalf("GET %s: %d %s", p, page.status, page.body)
				}
				if page.header.Get("Content-Security-Policy") == "" {
					t.Errorf("GET %s: no CSP", p)
				}
			}
			h.loginAs(c, "alice", "correct horse battery")
			if page := h.browse(c, "/"); !strings.Contains(page.body, "signed in as <strong>alice</strong>") ||
				!strings.Contains(page.body, `href="`+h.base+`/logout"`) {
				t.Fatalf("signed in: %s", page.body)
			}
			// Anything else is still a 404.
			if page := h.browse(c, "/nothing-here"); page.status != http.StatusNotFound {
				t.Errorf("unknown path: %d", page.status)
			}
		})
	}
}

func TestRateLimitPageSaysHowLongToWait(t *testing.T) {
	h := newHarness(t, func(c *config.Server) { c.Limits.LoginPerIP = perMinute(1) })
	c := h.newBrowser()
	h.submit(c, PathLogin, h.loginForm(c, "x", "wrong"))
	p := h.submit(c, PathLogin, h.loginForm(c, "x", "wrong"))
	if p.status != http.StatusTooManyRequests {
		t.Fatalf("second attempt: %d", p.status)
	}
	ra := p.header.Get("Retry-After")
	if ra == "" || !strings.Contains(p.body, "Try again in "+ra+" seconds.") {
		t.Fatalf("Retry-After %q, body:\n%s", ra, p.body)
	}
}

func TestBrandNameOnEveryPageAndInTheAuthenticator(t *testing.T) {
	h := newHarness(t, func(c *config.Server) { c.UI.BrandName = "Acme" })
	h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	if p := h.browse(c, PathLogout); !strings.Contains(p.body, "Sign out of Acme") {
		t.Errorf("logout page: %s", p.body)
	}
	_, p := h.startEnrol(c)
	uri := regexp.MustCompile(`<code id="totp-uri">([^<]+)</code>`).FindStringSubmatch(p.body)
	if uri == nil {
		t.Fatalf("no URI: %s", p.body)
	}
	u, err := url.Parse(html.UnescapeString(uri[1]))
	if err != nil {
		t.Fatal(err)
	}
	if u.Query().Get("issuer") != "Acme" || u.Path != "/Acme:alice" {
		t.Errorf("otpauth URI %s: want issuer and label prefix Acme", u)
	}
	if strings.Contains(p.body, "Gatehouse") {
		t.Errorf("the default brand on a branded page:\n%s", p.body)
	}
}

func TestAccountPageHierarchyAndRecoveryDownload(t *testing.T) {
	h := newBaseHarness(t)
	h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	p := h.browse(c, PathAccount)
	for _, want := range []string{`href="` + h.base + `/logout">Sign out`, `href="` + h.base + `/">Start page`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("account page without %s", want)
		}
	}
	// One primary button per form: the others are secondary.
	for _, f := range regexp.MustCompile(`(?s)<form.*?</form>`).FindAllString(p.body, -1) {
		if n := strings.Count(f, "<button") - strings.Count(f, `class="secondary`); n > 1 {
			t.Errorf("%d primary buttons in %s", n, f)
		}
	}
	sec, p := h.startEnrol(c)
	p = h.submit(c, PathAccount+"/mfa/confirm", fillForm(p.body, url.Values{"code": {totpCode(t, sec, h.clock.Now())}}))
	codes := recoveryCodeRE.FindAllStringSubmatch(p.body, -1)
	m := regexp.MustCompile(`<a class="button" href="(data:text/plain;charset=utf-8,[^"]+)" download="recovery-codes.txt">`).FindStringSubmatch(p.body)
	if len(codes) == 0 || m == nil {
		t.Fatalf("no recovery codes or no download:\n%s", p.body)
	}
	text, err := url.PathUnescape(strings.TrimPrefix(html.UnescapeString(m[1]), "data:text/plain;charset=utf-8,"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range codes {
		if !strings.Contains(text, "\n"+c[1]+"\n") {
			t.Errorf("download lacks %s:\n%s", c[1], text)
		}
	}
}

func TestStyleSheetUsesRelativeFontSizesAndVisibleControls(t *testing.T) {
	css, err := fs.ReadFile(webpage.Static, "static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`font(-size)?:[^;]*\d+px`).Find(css); m != nil {
		t.Errorf("font size in px: %s", m)
	}
	// WCAG 1.4.11: control borders at least 3:1 against the card, in
	// both colour schemes.
	for _, pair := range [][2]string{{"#767c8a", "#ffffff"}, {"#7f8799", "#1e2129"}} {
		if !bytes.Contains(css, []byte("--control-border: "+pair[0])) || !bytes.Contains(css, []byte("--card: "+pair[1])) {
			t.Fatalf("style sheet lacks %v", pair)
		}
		if r := contrast(pair[0], pair[1]); r < 3 {
			t.Errorf("%s on %s: %.2f:1", pair[0], pair[1], r)
		}
	}
}

// contrast is the WCAG contrast ratio of two #rrggbb colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(hex string) float64 {
	var rgb [3]float64
	for i := range rgb {
		var v int
		for _, c := range hex[1+2*i : 3+2*i] {
			v = v*16 + strings.IndexRune("0123456789abcdef", c)
		}
		x := float64(v) / 255
		if x <= 0.03928 {
			rgb[i] = x / 12.92
		} else {
			rgb[i] = math.Pow((x+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*rgb[0] + 0.7152*rgb[1] + 0.0722*rgb[2]
}
