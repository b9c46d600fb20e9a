package webpage

import (
	"crypto/rand"
	"encoding/base32"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

// pageError is the template of the error page.
const pageError = "error"

// NewErrorRef returns a short random reference id for an error page (or
// any answer that asks a user to quote one).
func NewErrorRef() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}

// Error shows the error page with status and logs its reference id.
func (p *Pages) Error(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	p.ShowError(w, r, status, ErrorPage{Page: Page{Title: title}, Message: message})
}

// ShowError logs d with a new reference id, the request and logArgs
// (at error level for a status of 500 or more), and shows it.
func (p *Pages) ShowError(w http.ResponseWriter, r *http.Request, status int, d ErrorPage, logArgs ...any) {
	d.Ref = NewErrorRef()
	args := append([]any{"ref", d.Ref, "status", status, "method", r.Method, "path", r.URL.Path}, logArgs...)
	if d.Code != "" {
		args = append(args, "code", d.Code, "detail", d.Detail)
	}
	if status >= 500 {
		p.log.Error("error page", args...)
	} else {
		p.log.Info("error page", args...)
	}
	p.Render(w, status, pageError, d)
}

// RequestError shows the error page for a request an application sent
// the browser with (authorization or sign-out) that cannot go on: plain
// words for the user, the OAuth code and description as details for
// whoever runs the application.
func (p *Pages) RequestError(w http.ResponseWriter, r *http.Request, title string, perr *protocol.Error) {
	p.ShowError(w, r, http.StatusBadRequest, ErrorPage{
		Page: Page{Title: title},
		Message: "The application that sent you here asked for something this server cannot do, " +
			"so it stopped here. Go back to the application and try again; if this keeps happening, " +
			"tell whoever runs it, with the reference below.",
		Detail: perr.Description,
		Code:   perr.Code,
	})
}

// ServerError logs err and shows a generic error page.
func (p *Pages) ServerError(w http.ResponseWriter, r *http.Request, err error) {
	p.ShowError(w, r, http.StatusInternalServerError, ErrorPage{Page: Page{Title: "Something went wrong"},
		Message: "The server could not complete the request. Please try again in a moment."}, "err", err)
}

// TooMany shows the rate-limit page. retryAfter is the wait in seconds
// the limiter gave; when positive it is sent as Retry-After and the page
// says how long to wait.
func (p *Pages) TooMany(w http.ResponseWriter, r *http.Request, retryAfter int) {
	msg := "Too many attempts. Wait a moment and try again."
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		msg = "Too many attempts. Try again in " + waitText(retryAfter) + "."
	}
	p.Error(w, r, http.StatusTooManyRequests, "Too many attempts", msg)
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
