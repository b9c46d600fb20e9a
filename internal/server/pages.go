package server

import (
	"crypto/rand"
	"encoding/base32"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/server/webpage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// page is what every template sees (webpage.Page); the data of each page
// embeds it.
type page = webpage.Page

// errorPage is the data of the error page (webpage.ErrorPage).
type errorPage = webpage.ErrorPage

// Page template names (files in webpage/templates/ without ".html").
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

// newErrorRef returns a short random reference id for an error page.
func newErrorRef() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}

// renderError shows the error page with status and logs its reference id.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	s.showError(w, r, status, errorPage{Page: page{Title: title}, Message: message})
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
	s.pages.Render(w, status, pageError, d)
}

// renderRequestError shows the error page for a request an application
// sent the browser with (authorization or sign-out) that cannot go on:
// plain words for the user, the OAuth code and description as details
// for whoever runs the application.
func (s *Server) renderRequestError(w http.ResponseWriter, r *http.Request, title string, perr *protocol.Error) {
	s.showError(w, r, http.StatusBadRequest, errorPage{
		Page: page{Title: title},
		Message: "The application that sent you here asked for something this server cannot do, " +
			"so it stopped here. Go back to the application and try again; if this keeps happening, " +
			"tell whoever runs it, with the reference below.",
		Detail: perr.Description,
		Code:   perr.Code,
	})
}

// renderServerError logs err and shows a generic error page.
func (s *Server) renderServerError(w http.ResponseWriter, r *http.Request, err error) {
	s.showError(w, r, http.StatusInternalServerError, errorPage{Page: page{Title: "Something went wrong"},
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
