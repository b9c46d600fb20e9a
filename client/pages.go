package client

import (
	"errors"
	"html/template"
	"net/http"
	"sync"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Pages shown in the browser tab at the end of a loopback login.
var (
	pageSuccess = browserPage{
		Title:   "Signed in",
		Message: "You are signed in. You can close this tab and return to the terminal.",
	}
	pageNotFound = browserPage{
		Title:   "Not found",
		Message: "This address only receives a login response.",
	}
	pageNotAResponse = browserPage{
		Title:   "Waiting for the login",
		Message: "This address receives the login response from your sign-in page. The terminal is still waiting for it.",
	}
	pageStray = browserPage{
		Title:   "Not this login's response",
		Message: "This response does not belong to the login in progress, so it was ignored. The terminal is still waiting for the sign-in you started there.",
	}
	pageFinished = browserPage{
		Title:   "Login already finished",
		Message: "This login has already finished. Look at the terminal for the result; you can close this tab.",
	}
)

// browserPage is the content of a page; Detail is shown below Message.
type browserPage struct {
	Title   string
	Message string
	Detail  string
	Failed  bool
	// App names the program in the page title.
	App string
}

// pageTemplate is parsed on first use, not at package initialisation,
// which every program importing the package would pay at start-up.
var pageTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} · {{.App}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}{{if .Failed}}h1{color:#b00020}{{end}}p.detail{color:#555}</style></head>
<body><h1>{{.Title}}</h1><p>{{.Message}}</p>{{if .Detail}}<p class="detail">{{.Detail}}</p>{{end}}</body></html>
`))
})

// render writes p, with the program's name in its title. Every value is
// HTML-escaped by html/template; the page loads nothing and runs no
// script.
func (cb *callback) render(w http.ResponseWriter, status int, p browserPage, detail string) {
	if detail != "" {
		p.Detail = detail
	}
	p.App = cb.app
	if p.App == "" {
		p.App = "Gatehouse"
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	pageTemplate().Execute(w, p)
}

// renderFailure tells the browser why the login failed, in words; the
// terminal gets the error itself.
func (cb *callback) renderFailure(w http.ResponseWriter, err error) {
	p := browserPage{Title: "Sign-in failed", Failed: true}
	var pe *protocol.Error
	switch {
	case errors.Is(err, ErrStateMismatch):
		p.Message = "This response does not belong to the login in progress, so it was refused and nothing was saved. Start the login again from the terminal."
	case errors.Is(err, ErrIssuerMismatch):
		p.Message = "This response came from a different server than the one you are signing in to, so it was refused and nothing was saved."
	case errors.Is(err, ErrMissingCode):
		p.Message = "The response carried no authorization code, so nothing was saved. Start the login again from the terminal."
	case errors.As(err, &pe) && pe.Code == protocol.ErrAccessDenied:
		p.Message = "The sign-in was denied, so nothing was saved."
		p.Detail = pe.Description
	case errors.As(err, &pe):
		p.Message = "The server refused the sign-in (" + pe.Code + "), so nothing was saved."
		p.Detail = pe.Description
	default:
		p.Message = "The sign-in could not be completed: " + err.Error() + ". Look at the terminal for details."
	}
	cb.render(w, http.StatusBadRequest, p, "")
}
