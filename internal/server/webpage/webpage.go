// Package webpage renders the authorization server's HTML pages: it
// parses the embedded templates (templates/) with the shared layout,
// writes a page with the security headers every page carries (the
// Content-Security-Policy, no framing, no caching) and serves the
// embedded style sheet and scripts (static/) under PathStatic.
//
// It also shows the error page (errors.go): every error page gets a
// reference id, written to the log with the request, that a user can quote.
//
// It needs only the server's base path, issuer, brand name and logger;
// the page handlers stay in internal/server and call Render. The package
// does not import the server.
package webpage

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

// Static holds the embedded static files (style sheet, scripts), each
// under "static/".
//
//go:embed static/*
var Static embed.FS

// PathStatic is the path of the static files, under the server's base
// path.
const PathStatic = "/static/"

// PasskeyScript and CopyScript are the file names of the scripts under
// PathStatic.
const (
	PasskeyScript = "passkey.js"
	CopyScript    = "copy.js"
)

// layout is the template every page is parsed together with.
const layout = "layout"

// Pages holds the parsed HTML pages: every file in templates/ but the
// layout, by name without ".html", each parsed together with the layout.
//
// Templates write every link, form action and asset URL as
// {{base}}/path: the function base returns the server's base path (""
// for an origin issuer), so the pages work under an issuer's path.
type Pages struct {
	tmpl   map[string]*template.Template
	static http.Handler
	// formSelf is where the pages' own forms post to, as a
	// form-action source: 'self' for an origin issuer, the issuer URL
	// with a trailing slash (all of the base path) otherwise.
	formSelf string
	// script is the URL of static/passkey.js and copyScript that of
	// static/copy.js: the only scripts a page may run (script-src), each
	// only on the pages that load it.
	script, copyScript string
	// log receives a line for every error page (errors.go).
	log *slog.Logger
}

// New parses every page template for a server whose issuer is issuer
// and whose base path is base; brand is the name the pages show and log
// receives a line for every error page shown.
func New(base, issuer, brand string, log *slog.Logger) (*Pages, error) {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("webpage: list pages: %w", err)
	}
	p := &Pages{tmpl: make(map[string]*template.Template, len(files)), formSelf: "'self'",
		script: issuer + PathStatic + PasskeyScript, copyScript: issuer + PathStatic + CopyScript, log: log}
	if base != "" {
		p.formSelf = issuer + "/"
	}
	funcs := template.FuncMap{"base": func() string { return base }, "brand": func() string { return brand }}
	for _, f := range files {
		n := strings.TrimSuffix(path.Base(f), ".html")
		if n == layout {
			continue
		}
		t, err := template.New(n).Funcs(funcs).ParseFS(templateFS, "templates/"+layout+".html", f)
		if err != nil {
			return nil, fmt.Errorf("webpage: parse page %s: %w", n, err)
		}
		p.tmpl[n] = t
	}
	sub, err := fs.Sub(Static, "static")
	if err != nil {
		return nil, fmt.Errorf("webpage: static files: %w", err)
	}
	static := http.FileServerFS(sub)
	p.static = http.StripPrefix(base+PathStatic[:len(PathStatic)-1], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		static.ServeHTTP(w, r)
	}))
	return p, nil
}

// Static serves the embedded style sheet and scripts under PathStatic
// (below the base path).
func (p *Pages) Static() http.Handler { return p.static }

// Page is what every template sees: the title and the CSRF token for
// forms. Page-specific data structs embed it.
type Page struct {
	Title string
	// CSRF is the value of the hidden csrf_token field of every form.
	CSRF string
	// Script loads static/passkey.js (passkeys need
	// navigator.credentials); pages work without it.
	Script bool
	// Copy loads static/copy.js, which adds copy buttons to the values
	// a page shows once (a new API key, recovery codes); without it the
	// values stay selectable.
	Copy bool
}

// scripts reports whether the page loads the passkey and the copy script.
func (p Page) scripts() (passkey, copy bool) { return p.Script, p.Copy }

// ErrorPage is the data of the error page. It never redirects anywhere:
// it says in plain words what went wrong and offers a way back.
type ErrorPage struct {
	Page
	Message string
	// Detail is the technical reason (an OAuth error description), for
	// whoever runs the application that sent the browser here.
	Detail string
	// Code is the OAuth error code, if any.
	Code string
	// Ref is the reference id of this error, also written to the log,
	// so a user can quote it and an operator can find the log line.
	Ref string
	// Back, when set, is a path to the sign-in page offered instead of
	// the start page.
	Back string
}

// contentSecurityPolicy is the policy of every page. Pages use no
// inline scripts or styles and no third-party resources, so everything
// that is not named is refused. self is the source of the server's own
// forms (Pages.formSelf): under an issuer's path, forms may post under
// that path only, not elsewhere on the origin the server shares with an
// application. formActions lists the origins, besides the server itself,
// that a form submission may end at: Chrome applies form-action to every
// redirect that follows the submission, so a form whose answer is a
// redirect to the client must allow the client's origin. script, when
// not empty, is the URL of the passkey script, which the page may then
// load (by its full URL rather than 'self', so no other script on an
// origin the server shares runs) and which may fetch from the server's
// own paths (connect-src, the same source as the forms). copyScript, when
// not empty, is the URL of the copy script, which fetches nothing.
func contentSecurityPolicy(self, script, copyScript string, formActions []string) string {
	fa := "form-action " + self
	for _, o := range formActions {
		if o != "" {
			fa += " " + o
		}
	}
	scripts := ""
	if src := strings.TrimSpace(script + " " + copyScript); src != "" {
		scripts = "script-src " + src + "; "
	}
	if script != "" {
		scripts += "connect-src " + self + "; "
	}
	return "default-src 'none'; " + scripts + "style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'; " + fa
}

// Render writes page name with data and the security headers every page
// carries; formActions are the origins besides the server's own that a
// form on the page may end at (see contentSecurityPolicy). The page is
// executed into a buffer first, so a template error never leaves half a
// page on the wire. Data that embeds Page loads the scripts it asks for.
func (p *Pages) Render(w http.ResponseWriter, status int, name string, data any, formActions ...string) {
	var buf bytes.Buffer
	t, ok := p.tmpl[name]
	if !ok {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, layout, data); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	passkeySrc, copySrc := "", ""
	if pg, ok := data.(interface{ scripts() (passkey, copy bool) }); ok {
		pk, cp := pg.scripts()
		if pk {
			passkeySrc = p.script
		}
		if cp {
			copySrc = p.copyScript
		}
	}
	h.Set("Content-Security-Policy", contentSecurityPolicy(p.formSelf, passkeySrc, copySrc, slices.Compact(slices.Sorted(slices.Values(formActions)))))
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// Redirect answers with a redirect to loc, which is used exactly as given
// (http.Redirect would clean the path of a relative target).
func Redirect(w http.ResponseWriter, loc string, status int) {
	h := w.Header()
	h.Set("Location", loc)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
}
