package pages

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// The consent screen. First-party clients (the gatehouse CLI and apps the
// operator marks as such) skip it; a third-party client needs the user's
// approval once for each set of scopes, which is stored and reused until it
// no longer covers what the client asks for. prompt=consent always asks.

// scopeDescriptions explain well-known scopes on the consent and device
// pages.
var scopeDescriptions = map[string]string{
	"openid":           "confirm who you are",
	"profile":          "see your username and roles",
	"email":            "see your email address",
	"offline_access":   "stay signed in when you are away (refresh tokens)",
	oauth.ScopeAdmin:   "administer this server: users, clients, roles, keys and the audit trail",
	oauth.ScopeAccount: "change your account's security settings (two-step verification)",
}

// consentResourcePrefix marks a resource among the scopes of a stored
// consent: a consent covers the scopes and the resources (audiences) the
// user allowed, and asking for a new resource asks again.
const consentResourcePrefix = "resource:"

// consentItems are what a consent for ar must cover.
func consentItems(ar *oauth.AuthorizeRequest) []string {
	items := slices.Clone(ar.Scopes)
	for _, res := range ar.Resources {
		items = append(items, consentResourcePrefix+res)
	}
	return items
}

// resourceViews describe the audiences of a request in words.
func (pg *Pages) resourceViews(resources []string) []scopeView {
	out := make([]scopeView, 0, len(resources))
	for _, res := range resources {
		v := scopeView{Name: res}
		switch res {
		case oauth.AdminResource(pg.issuer):
			v.Description = "this server's admin API"
		case oauth.AccountResource(pg.issuer):
			v.Description = "this server's account API"
		}
		out = append(out, v)
	}
	return out
}

// scopeView is one scope as the pages show it.
type scopeView struct {
	Name        string
	Description string
}

func scopeViews(scopes []string) []scopeView {
	out := make([]scopeView, 0, len(scopes))
	for _, sc := range scopes {
		out = append(out, scopeView{Name: sc, Description: scopeDescriptions[sc]})
	}
	return out
}

// hiddenField is a request parameter the consent form posts back.
type hiddenField struct {
	Name, Value string
}

// consentPage is the data of the consent screen.
type consentPage struct {
	page
	ClientName string
	ClientID   string
	Username   string
	RedirectTo string
	Scopes     []scopeView
	Resources  []scopeView
	Params     []hiddenField
}

// clientDisplayName is the client's name, or its id when it has none.
func clientDisplayName(c *storage.Client) string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

// needsConsent reports whether the user must be asked before ar's client
// gets a code.
func (pg *Pages) needsConsent(ctx context.Context, ar *oauth.AuthorizeRequest, u *storage.User) (bool, error) {
	if ar.HasPrompt("consent") {
		return true, nil
	}
	if ar.Client.FirstParty {
		return false, nil
	}
	c, err := pg.store.GetConsent(ctx, u.ID, ar.Client.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("server: get consent: %w", err)
	}
	return !oauth.SubsetOf(consentItems(ar), c.Scopes), nil
}

// renderConsent shows the consent screen. Its form posts the request back
// to the authorization endpoint, which answers with a redirect to the
// client, so the client's origin joins form-action.
func (pg *Pages) renderConsent(w http.ResponseWriter, r *http.Request, ar *oauth.AuthorizeRequest, u *storage.User) {
	d := consentPage{
		page:       page{Title: "Allow access?", CSRF: pg.sessions.CSRFToken(w, r)},
		ClientName: clientDisplayName(ar.Client),
		ClientID:   ar.Client.ID,
		Username:   u.Username,
		RedirectTo: ar.RedirectURI,
		Scopes:     scopeViews(ar.Scopes),
		Resources:  pg.resourceViews(ar.Resources),
	}
	if ar.RequestURI != "" {
		// A pushed request comes back by its request_uri alone.
		d.Params = append(d.Params, hiddenField{Name: "client_id", Value: ar.Client.ID},
			hiddenField{Name: "request_uri", Value: ar.RequestURI})
	} else {
		for _, p := range oauth.AuthorizeParams {
			// prompt stays behind: the POST is the answer to it.
			if p == "prompt" || !ar.Params.Has(p) {
				continue
			}
			d.Params = append(d.Params, hiddenField{Name: p, Value: ar.Params.Get(p)})
		}
		for _, res := range ar.Params["resource"] {
			d.Params = append(d.Params, hiddenField{Name: "resource", Value: res})
		}
	}
	pg.pages.Render(w, http.StatusOK, pageConsent, d, redirectOrigin(ar.RedirectURI))
}

// grantConsent records that u allowed ar's scopes, adding to what they
// allowed the client before.
func (pg *Pages) grantConsent(r *http.Request, ar *oauth.AuthorizeRequest, u *storage.User) error {
	ctx := r.Context()
	scopes := consentItems(ar)
	prev, err := pg.store.GetConsent(ctx, u.ID, ar.Client.ID)
	switch {
	case err == nil:
		for _, sc := range prev.Scopes {
			if !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	case !errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("server: get consent: %w", err)
	}
	c := &storage.Consent{UserID: u.ID, ClientID: ar.Client.ID, Scopes: scopes, CreatedAt: pg.clock.Now().UTC()}
	if err := pg.store.SaveConsent(ctx, c); err != nil {
		return fmt.Errorf("server: save consent: %w", err)
	}
	pg.audit.Log(audit.Event{Type: audit.ConsentGranted, Outcome: audit.Success,
		Actor: "user:" + u.ID, UserID: u.ID, Username: u.Username, ClientID: ar.Client.ID, IP: pg.clientIP(r),
		Details: map[string]string{"scope": oauth.JoinScope(ar.Scopes)}})
	return nil
}
