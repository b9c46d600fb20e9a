package cliauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/credstore"
)

// An Elevation is a second, stronger sign-in that some commands of a CLI
// need: an access token for another resource (RFC 8707) with more scopes,
// kept apart from the everyday login of the same profile, so that the
// token `token` prints and `api` sends never carries it.
//
// Gatehouse's own CLI has two: "admin" (the admin API: the resource
// ISSUER/admin and the admin scope) and "account" (the account API).
// login gets a --NAME flag for each; ElevatedClient uses the elevated
// login, and signs in for it first on a terminal.
type Elevation struct {
	// Name is the flag of login (--NAME) and the name of the credential,
	// stored beside the profile's as "PROFILE#NAME".
	Name string
	// Purpose says in a few words what it opens ("the admin API").
	Purpose string
	// Resource is the resource indicator of the issuer's API to ask for.
	Resource func(issuer string) string
	// Scopes are asked for on top of the profile's.
	Scopes []string
}

// elevationSep separates a profile's name from an elevation's in the name
// of the elevated credential; profile names cannot contain it.
const elevationSep = "#"

// elevatedProfile is where the elevated login name of profile is stored.
func elevatedProfile(profile, name string) string { return profile + elevationSep + name }

// isElevatedSlot reports whether a stored credential's name is an
// elevated login rather than a profile.
func isElevatedSlot(name string) bool { return strings.Contains(name, elevationSep) }

// validateProfile checks a profile name: what every credential store
// accepts, without elevationSep.
func validateProfile(name string) error {
	if err := credstore.ValidateProfile(name); err != nil {
		return err
	}
	if strings.Contains(name, elevationSep) {
		return fmt.Errorf("%w %q: contains %q", credstore.ErrInvalidProfile, name, elevationSep)
	}
	return nil
}

func (a *App) elevation(name string) (*Elevation, error) {
	for i := range a.Elevations {
		if a.Elevations[i].Name == name {
			return &a.Elevations[i], nil
		}
	}
	return nil, fmt.Errorf("cliauth: no elevation %q", name)
}

// ElevatedClient returns an *http.Client whose requests carry an access
// token for elevation name's resource and scopes, and what it resolved.
//
//   - An API key or a static token (flags, environment or a stored
//     API-key login) is used as it is: the server decides what it may do.
//   - Client credentials ask the token endpoint for the resource and
//     scopes directly.
//   - A user login uses the profile's elevated login ("PROFILE#NAME"). When
//     there is none for the profile's issuer, on a terminal it signs in
//     for it now (browser, or a code), saying why; without a terminal it
//     fails with the login command to run.
func (a *App) ElevatedClient(ctx context.Context, name string) (*http.Client, *Resolved, error) {
	el, err := a.elevation(name)
	if err != nil {
		return nil, nil, err
	}
	r, err := a.Resolve(ctx)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case r.Kind == "":
		return nil, r, a.notLoggedIn(r)
	case r.Kind == KindToken || r.Kind == credstore.KindAPIKey:
		return a.Client(ctx)
	case r.Kind == credstore.KindClientCredentials:
		secret := r.secret
		if !r.fromEnv {
			cred, err := getCredential(ctx, r.store, r.Profile)
			if err != nil || cred == nil {
				return nil, r, fmt.Errorf("cliauth: read profile %q: %w", r.Profile, err)
			}
			secret = cred.ClientSecret
		}
		cc := &client.Config{Issuer: r.Issuer, ClientID: r.ClientID, ClientSecret: secret, Scopes: el.Scopes,
			Resources: []string{el.Resource(r.Issuer)}, HTTPClient: a.authClient(), Clock: a.clock()}
		return a.authorizedClient(cc.ClientCredentialsSource()), r, nil
	}
	slot := elevatedProfile(r.Profile, el.Name)
	cred, err := getCredential(ctx, r.store, slot)
	if err != nil {
		return nil, r, err
	}
	if cred == nil || cred.Issuer != r.Issuer {
		if !a.IO.isTTY() {
			return nil, r, &Error{Code: ExitNotLoggedIn, Msg: fmt.Sprintf("this command needs a sign-in to %s for %s; run `%s login --%s%s` first",
				r.Issuer, el.Purpose, a.Name, el.Name, a.profileArg(r.Profile))}
		}
		fmt.Fprintf(a.IO.errOut(), "This command needs %s of %s, which your everyday login does not open. Signing in for it (stored apart, as %s).\n",
			el.Purpose, r.Issuer, slot)
		if err := a.loginRun(ctx, &loginOptions{elevation: el.Name}); err != nil {
			return nil, r, err
		}
	}
	ts, err := client.NewTokenSource(client.TokenSourceOptions{
		Store: r.store, Profile: slot, HTTPClient: a.authClient(), Clock: a.clock(), Logger: a.logger(),
	})
	if err != nil {
		return nil, r, err
	}
	return a.authorizedClient(&source{app: a, res: r, ts: ts, stored: ts}), r, nil
}

// profileArg is " --profile NAME" unless name is the profile used anyway.
func (a *App) profileArg(name string) string {
	cfg, err := a.loadConfig()
	if err == nil {
		if cur, _ := a.selectProfile(cfg); cur == name && !a.profile.set {
			return ""
		}
	}
	return " --profile " + shellQuote(name)
}

// logoutElevated revokes and removes the elevated logins of profile,
// quietly: the profile's own logout speaks for them.
func (a *App) logoutElevated(ctx context.Context, st credstore.Store, profile string) error {
	if st == nil {
		return nil
	}
	names, err := st.List(ctx)
	if err != nil {
		return fmt.Errorf("cliauth: list stored credentials: %w", err)
	}
	for _, n := range names {
		if !strings.HasPrefix(n, profile+elevationSep) {
			continue
		}
		if cred, _ := getCredential(ctx, st, n); cred != nil {
			if err := a.revokeCredential(ctx, cred); err != nil {
				a.warn(fmt.Sprintf("could not revoke the tokens of %s at %s: %v; they stay valid until they expire", n, cred.Issuer, err))
			}
		}
		if err := st.Delete(ctx, n); err != nil && !errors.Is(err, credstore.ErrNotFound) {
			return fmt.Errorf("cliauth: remove the credentials of %q: %w", n, err)
		}
	}
	return nil
}

// withScopes is scopes with extra added, without duplicates.
func withScopes(scopes, extra []string) []string {
	out := slices.Clone(scopes)
	for _, s := range extra {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
