package pages

import "net/http"

// The start page at the issuer URL itself: what this server is, where to
// sign in and manage the account, and where its endpoints are described.
// A person who opens the issuer URL in a browser sees it instead of a
// bare 404.

// pageHome is the template name of the start page.
const pageHome = "home"

// docsURL is where the project's documentation lives.
const docsURL = "https://github.com/gatehouse-auth/gatehouse/tree/main/docs"

// homePage is the data of the start page.
type homePage struct {
	page
	// Username is the signed-in user, if any.
	Username string
	DocsURL  string
}

// homeRoutes registers the start page at the base path and at its root
// ("/" for an origin issuer).
func (pg *Pages) homeRoutes(page func(pattern, route string, h http.HandlerFunc)) {
	page("GET /{$}", "home", pg.handleHome)
	if pg.base != "" {
		page("GET ", "home", pg.handleHome) // the base path itself
	}
}

func (pg *Pages) handleHome(w http.ResponseWriter, r *http.Request) {
	u, _, err := pg.sessions.CurrentUser(r)
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	d := homePage{page: page{Title: "Sign-in service"}, DocsURL: docsURL}
	if u != nil {
		d.Username = u.Username
	}
	pg.pages.Render(w, http.StatusOK, pageHome, d)
}
