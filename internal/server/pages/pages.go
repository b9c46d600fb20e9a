package pages

import "github.com/gatehouse-auth/gatehouse/internal/server/webpage"

// Paths of the pages, under the server's base path; the second login
// step, the account page, passkeys and connector sign-in have theirs
// beside their handlers.
const (
	PathAuthorize = "/oauth2/authorize"
	PathDevice    = "/device"
	PathLogin     = "/login"
	PathLogout    = "/logout"
)

// page is what every template sees (webpage.Page); the data of each page
// embeds it.
type page = webpage.Page

// errorPage is the data of the error page (webpage.ErrorPage).
type errorPage = webpage.ErrorPage

// Page template names (files in webpage/templates/ without ".html"). The
// error page is webpage's (webpage.Pages.Error and the like).
const (
	pageLogin         = "login"
	pageSignedIn      = "signed_in"
	pageLogout        = "logout"
	pageLoggedOut     = "logged_out"
	pageConsent       = "consent"
	pageDevice        = "device"
	pageDeviceConfirm = "device_confirm"
	pageDeviceDone    = "device_done"
)
