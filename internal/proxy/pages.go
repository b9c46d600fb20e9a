package proxy

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/resource"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/*
var staticFS embed.FS

// Page names (files in templates/ without ".html").
const (
	pageStatus    = "status"
	pageForbidden = "forbidden"
	pageLogout    = "logout"
	pageSignedOut = "signed_out"
)

// contentSecurityPolicy of the gateway's pages: nothing but its own
// stylesheet, forms only to itself.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// pageData is what every page template may show. html/template escapes
// every value (SECURITY-CASES 32 applies to the gateway's pages too).
type pageData struct {
	Title   string
	Brand   string
	Message string
	User    string
	Return  string
	Login   string
	Logout  string
}

type pages struct {
	tmpl map[string]*template.Template
}

func newPages() (*pages, error) {
	p := &pages{tmpl: map[string]*template.Template{}}
	for _, n := range []string{pageStatus, pageForbidden, pageLogout, pageSignedOut} {
		t, err := template.New(n).ParseFS(templateFS, "templates/layout.html", "templates/"+n+".html")
		if err != nil {
			return nil, fmt.Errorf("proxy: parse page %s: %w", n, err)
		}
		p.tmpl[n] = t
	}
	return p, nil
}

// render writes a page with the security headers every page carries.
func (p *pages) render(w http.ResponseWriter, status int, name string, data pageData) {
	var buf bytes.Buffer
	if err := p.tmpl[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeStatus answers with a status page for browsers and a JSON error
// for everything else.
func (g *Gateway) writeStatus(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	if wantsHTML(r) {
		g.pages.render(w, status, pageStatus, pageData{Title: title, Brand: g.cfg.BrandName, Message: message})
		return
	}
	writeJSONError(w, status, errorCode(status), message)
}

func errorCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusTooManyRequests:
		return "too_many_requests"
	case http.StatusBadGateway:
		return "bad_gateway"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	return "error"
}

// writeJSONError writes {"error": code, "error_description": msg}.
func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": msg})
}

// GraphQL error codes of the gateway's refusals (extensions.code, as
// Apollo Server and GraphQL Yoga name them).
const (
	gqlUnauthenticated = "UNAUTHENTICATED"
	gqlForbidden       = "FORBIDDEN"
)

// graphQLErrors is a GraphQL response with errors and no data (GraphQL
// over HTTP: clients such as GraphiQL and Apollo show its messages).
type graphQLErrors struct {
	Errors []graphQLError `json:"errors"`
}

type graphQLError struct {
	Message    string            `json:"message"`
	Extensions map[string]string `json:"extensions"`
}

func newGraphQLErrors(code, msg string) graphQLErrors {
	return graphQLErrors{Errors: []graphQLError{{Message: msg, Extensions: map[string]string{"code": code}}}}
}

// writeGraphQLError answers a refused GraphQL request with a GraphQL
// response, so that GraphQL clients show the reason.
func writeGraphQLError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, newGraphQLErrors(code, msg))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// serverError logs err and answers 500 without details.
func (g *Gateway) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, resource.ErrUnavailable) {
		// The issuer's keys or introspection could not be reached: not
		// the gateway's fault nor the caller's, and it may pass.
		g.log.Warn("issuer unavailable", "method", methodLabel(r.Method), "err", err)
		w.Header().Set("Retry-After", "5")
		g.writeStatus(w, r, http.StatusServiceUnavailable, "Try again shortly", "The identity provider could not be reached to check the credential.")
		return
	}
	g.log.Error("internal error", "method", methodLabel(r.Method), "err", err)
	g.writeStatus(w, r, http.StatusInternalServerError, "Something went wrong", "The gateway could not complete the request. Try again later.")
}

// staticHandler serves the gateway's stylesheet and menu script.
func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(sub)
	return http.StripPrefix(PathStatic[:len(PathStatic)-1], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	}))
}
