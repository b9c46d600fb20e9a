package server

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base32"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/*
var staticFS embed.FS

// pages holds the parsed HTML pages of the login, consent and device
// screens. Each page is parsed together with the shared layout.
//
// Templates write every link, form action and asset URL as
// {{base}}/path: the function base returns the server's base path (""
// for an origin issuer), so the pages work under an issuer's path.
type pages struct {
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
}

// Page template names (files in templates/ without ".html").
const (
	pageLogin         = "login"
	pageSignedIn      = "signed_in"
	pageLogout        = "logout"
	pageLoggedOut     = "logged_out"
	pageConsent       = "consent"
	pageDevice        = "device"
	pageDeviceConfirm = "device_confirm"
	pageDeviceDone    = "device_done"
	pageError         = "error"
)

// newPages parses every page template for a server whose issuer is issuer
// and whose base path is base; brand is the name the pages show.
func newPages(base, issuer, brand string) (*pages, error) {
	names := []string{pageLogin, pageSignedIn, pageLogout, pageLoggedOut, pageConsent,
		pageDevice, pageDeviceConfirm, pageDeviceDone, pageError, pageMFA, pageAccount, pageHome}
	p := &pages{tmpl: make(map[string]*template.Template, len(names)), formSelf: "'self'",
		script: issuer + PathStatic + passkeyScript, copyScript: issuer + PathStatic + copyScript}
	if base != "" {
		p.formSelf = issuer + "/"
	}
	funcs := template.FuncMap{"base": func() string { return base }, "brand": func() string { return brand }}
	for _, n := range names {
		t, err := template.New(n).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+n+".html")
		if err != nil {
			return nil, fmt.Errorf("server: parse page %s: %w", n, err)
		}
		p.tmpl[n] = t
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("server: static files: %w", err)
	}
	files := http.FileServerFS(sub)
	p.static = http.StripPrefix(base+PathStatic[:len(PathStatic)-1], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	}))
	return p, nil
}

// staticHandler serves the embedded style sheet and images under
// PathStatic (below the base path).
func (p *pages) staticHandler() http.Handler { return p.static }

// page is what every template sees: the title and the CSRF token for
// forms. Page-specific data structs embed it.
type page struct {
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

// contentSecurityPolicy is the policy of every page. Pages use no
// inline scripts or styles and no third-party resources, so everything
// that is not named is refused. self is the source of the server's own
// forms (pages.formSelf): under an issuer's path, forms may post under
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

// render writes page name with data and the security headers every page
// carries. The page is executed into a buffer first, so a template error
// never leaves half a page on the wire.
func (p *pages) render(w http.ResponseWriter, status int, name string, data any, formActions ...string) {
	var buf bytes.Buffer
	t, ok := p.tmpl[name]
	if !ok {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
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

// scripts reports whether the page loads the passkey and the copy script.
func (p page) scripts() (passkey, copy bool) { return p.Script, p.Copy }

// passkeyScript and copyScript are the file names of the scripts under
// PathStatic.
const (
	passkeyScript = "passkey.js"
	copyScript    = "copy.js"
)

// redirect answers with a redirect to loc, which is used exactly as given
// (http.Redirect would clean the path of a relative target).
func redirect(w http.ResponseWriter, loc string, status int) {
	h := w.Header()
	h.Set("Location", loc)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
}

// errorPage is the data of the error page. It never redirects anywhere:
// it says in plain words what went wrong and offers a way back.
type errorPage struct {
	page
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

// newErrorRef returns a short random reference id for an error page.
func newErrorRef() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}

// renderError shows the error page with status and logs its reference id.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	s.showError(w, r, status, errorPage{page: page{Title: title}, Message: message})
}

// showError logs d with a new reference id and shows it.
func (s *Server) showError(w http.ResponseWriter, r *http.Request, status int, d errorPage, logArgs ...any) {
	d.Ref = newErrorRef()
	args := append([]any{"ref", d.Ref, "status", status, "method", r.Method, "path", r.URL.Path}, logArgs...)
	if d.Code != "" {
		args = append(args, "code", d.Code, "detail", d.Detail)
	}
	if status >= 500 {
		s.log.Error("error page", args...)
	} else {
		s.log.Info("error page", args...)
	}
	s.pages.render(w, status, pageError, d)
}

// renderRequestError shows the error page for a request an application
// sent the browser with (authorization or sign-out) that cannot go on:
// plain words for the user, the OAuth code and description as details
// for whoever runs the application.
func (s *Server) renderRequestError(w http.ResponseWriter, r *http.Request, title string, perr *protocol.Error) {
	s.showError(w, r, http.StatusBadRequest, errorPage{
		page: page{Title: title},
		Message: "The application that sent you here asked for something this server cannot do, " +
			"so it stopped here. Go back to the application and try again; if this keeps happening, " +
			"tell whoever runs it, with the reference below.",
		Detail: perr.Description,
		Code:   perr.Code,
	})
}

// renderServerError logs err and shows a generic error page.
func (s *Server) renderServerError(w http.ResponseWriter, r *http.Request, err error) {
	s.showError(w, r, http.StatusInternalServerError, errorPage{page: page{Title: "Something went wrong"},
		Message: "The server could not complete the request. Please try again in a moment."}, "err", err)
}

// renderTooMany shows the rate-limit page with Retry-After and says how
// long to wait.
func (s *Server) renderTooMany(w http.ResponseWriter, r *http.Request, res ratelimit.Result) {
	pe := tooManyRequests(res)
	msg := "Too many attempts. Wait a moment and try again."
	if pe.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(pe.RetryAfter))
		msg = "Too many attempts. Try again in " + waitText(pe.RetryAfter) + "."
	}
	s.renderError(w, r, http.StatusTooManyRequests, "Too many attempts", msg)
}

// waitText says how long secs seconds is, rounded up to whole minutes
// from two minutes on: "1 second", "45 seconds", "3 minutes".
func waitText(secs int) string {
	switch {
	case secs <= 1:
		return "1 second"
	case secs < 120:
		return strconv.Itoa(secs) + " seconds"
	default:
		return strconv.Itoa((secs+59)/60) + " minutes"
	}
}

// renderForbidden is the answer to a form without a valid CSRF token.
func (s *Server) renderForbidden(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, http.StatusForbidden, "Request refused",
		"The form was stale or was not sent from this site. Go back, reload the page and try again.")
}
