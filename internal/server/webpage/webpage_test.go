package webpage

import (
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestContentSecurityPolicy(t *testing.T) {
	const tail = "style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'; "
	for _, tc := range []struct {
		name, self, script, copyScript string
		formActions                    []string
		want                           string
	}{
		{"no scripts, own forms only", "'self'", "", "", nil,
			"default-src 'none'; " + tail + "form-action 'self'"},
		{"extra form-action origins, empty ones skipped", "'self'", "", "", []string{"https://a.example", "", "https://b.example"},
			"default-src 'none'; " + tail + "form-action 'self' https://a.example https://b.example"},
		{"passkey script may fetch from the forms' source", "https://h.example/gh/", "https://h.example/gh/static/passkey.js", "", nil,
			"default-src 'none'; script-src https://h.example/gh/static/passkey.js; connect-src https://h.example/gh/; " + tail + "form-action https://h.example/gh/"},
		{"copy script fetches nothing", "'self'", "", "https://h.example/static/copy.js", nil,
			"default-src 'none'; script-src https://h.example/static/copy.js; " + tail + "form-action 'self'"},
		{"both scripts", "'self'", "https://h.example/static/passkey.js", "https://h.example/static/copy.js", nil,
			"default-src 'none'; script-src https://h.example/static/passkey.js https://h.example/static/copy.js; connect-src 'self'; " + tail + "form-action 'self'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := contentSecurityPolicy(tc.self, tc.script, tc.copyScript, tc.formActions); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func newPages(t *testing.T, base, issuer string) *Pages {
	t.Helper()
	p, err := New(base, issuer, "Acme Sign-in", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewParsesEveryPageButTheLayout(t *testing.T) {
	p := newPages(t, "", "https://h.example")
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.tmpl) != len(files)-1 {
		t.Errorf("%d pages parsed from %d files", len(p.tmpl), len(files))
	}
	for _, n := range []string{"login", "error", "account", "device_done"} {
		if p.tmpl[n] == nil {
			t.Errorf("page %s not parsed", n)
		}
	}
	if p.tmpl[layout] != nil {
		t.Error("the layout is a page")
	}
}

func TestRenderUnderBasePath(t *testing.T) {
	p := newPages(t, "/gh", "https://h.example/gh")
	w := httptest.NewRecorder()
	p.Render(w, http.StatusOK, "error", ErrorPage{Page: Page{Title: "Oops", Script: true, Copy: true}, Message: "m"})
	body := w.Body.String()
	for _, s := range []string{`href="/gh/static/style.css"`, `src="/gh/static/passkey.js"`, `src="/gh/static/copy.js"`, `href="/gh/"`, "Oops · Acme Sign-in"} {
		if !strings.Contains(body, s) {
			t.Errorf("page lacks %s", s)
		}
	}
	csp := w.Header().Get("Content-Security-Policy")
	if want := "script-src https://h.example/gh/static/passkey.js https://h.example/gh/static/copy.js; connect-src https://h.example/gh/;"; !strings.Contains(csp, want) {
		t.Errorf("CSP %q lacks %q", csp, want)
	}
	if !strings.HasSuffix(csp, "form-action https://h.example/gh/") {
		t.Errorf("CSP %q: forms may post outside the base path", csp)
	}
}

func TestRenderAtOrigin(t *testing.T) {
	p := newPages(t, "", "https://h.example")
	w := httptest.NewRecorder()
	p.Render(w, http.StatusNotFound, "error", ErrorPage{Page: Page{Title: "Not found"}, Message: "gone", Code: "c1"},
		"https://b.example", "https://a.example", "https://b.example")
	if w.Code != http.StatusNotFound {
		t.Errorf("status %d", w.Code)
	}
	h := w.Header()
	for k, v := range map[string]string{"Content-Type": "text/html; charset=utf-8", "X-Frame-Options": "DENY",
		"Cache-Control": "no-store", "Pragma": "no-cache"} {
		if h.Get(k) != v {
			t.Errorf("%s: %q, want %q", k, h.Get(k), v)
		}
	}
	csp := h.Get("Content-Security-Policy")
	if strings.Contains(csp, "script-src") || strings.Contains(csp, "connect-src") {
		t.Errorf("CSP %q allows scripts on a page without any", csp)
	}
	if !strings.HasSuffix(csp, "form-action 'self' https://a.example https://b.example") {
		t.Errorf("CSP %q: form-action origins not sorted and unique", csp)
	}
	body := w.Body.String()
	if !strings.Contains(body, `href="/static/style.css"`) || !strings.Contains(body, "<code>c1</code>") || strings.Contains(body, "<script") {
		t.Errorf("page:\n%s", body)
	}
}

func TestRenderFailsWholly(t *testing.T) {
	p := newPages(t, "", "https://h.example")
	for name, data := range map[string]any{"nosuchpage": Page{}, "error": struct{}{}} {
		w := httptest.NewRecorder()
		p.Render(w, http.StatusOK, name, data)
		if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "<html") || w.Header().Get("Content-Security-Policy") != "" {
			t.Errorf("%s: %d %q", name, w.Code, w.Body.String())
		}
	}
}

func TestStatic(t *testing.T) {
	for _, base := range []string{"", "/gh"} {
		p := newPages(t, base, "https://h.example"+base)
		srv := httptest.NewServer(p.Static())
		res, err := http.Get(srv.URL + base + PathStatic + "style.css")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		want, err := fs.ReadFile(Static, "static/style.css")
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusOK || string(got) != string(want) || res.Header.Get("Cache-Control") != "public, max-age=3600" {
			t.Errorf("base %q: %d, Cache-Control %q, %d bytes", base, res.StatusCode, res.Header.Get("Cache-Control"), len(got))
		}
		res, err = http.Get(srv.URL + base + PathStatic)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("base %q: directory listing answered %d", base, res.StatusCode)
		}
		srv.Close()
	}
}

func TestRedirectKeepsTheTargetAsGiven(t *testing.T) {
	w := httptest.NewRecorder()
	Redirect(w, "../a/./b?x=1", http.StatusSeeOther)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "../a/./b?x=1" || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("%d %v", w.Code, w.Header())
	}
}
