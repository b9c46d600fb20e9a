package cliauth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/client/qrcode"
	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// loginUser runs the browser flow, or the device flow, and returns the
// credential to store.
func (a *App) loginUser(ctx context.Context, cc *client.Config, cfg *configFile, o *loginOptions, t *loginTarget, flow int, open func(string) error) (*credstore.Credential, error) {
	w := a.IO.errOut()
	if flow == flowBrowser {
		stop := func() {}
		tok, err := cc.BrowserLogin(ctx, client.BrowserOptions{
			Ports:       cfg.RedirectPorts,
			OpenBrowser: open,
			AppName:     a.Name,
			ShowURL: func(u string) {
				fmt.Fprintf(w, "Opening the sign-in page of %s in your browser.\nIf it does not open, visit:\n\n    %s\n\n", cc.Metadata.Issuer, u)
				stop = a.progress("Waiting for you to sign in in the browser... (Ctrl-C to cancel)")
			},
		})
		stop()
		switch {
		case err == nil:
			return a.userCredential(ctx, cc, tok)
		case errors.Is(err, client.ErrBrowserUnavailable) && a.IO.isTTY() && cc.Metadata.DeviceAuthorizationEndpoint != "":
			fmt.Fprintf(w, "Could not open a browser (%v); signing in with a code instead.\n", openFailure(err))
		case errors.Is(err, client.ErrBrowserUnavailable):
			return nil, a.headlessError(o, t, openFailure(err).Error())
		case errors.Is(err, client.ErrCallbackPortBusy):
			return nil, &Error{Code: ExitError, Err: err, Msg: fmt.Sprintf(
				"cannot receive the browser's answer: no port of redirect_ports (%s) is free on this machine (%v); "+
					"free it, or choose others with `%s config set redirect_ports PORT,PORT` (an empty value picks any free port)",
				portList(cfg.RedirectPorts), err, a.Name)}
		case errors.Is(err, client.ErrBrowserTimeout):
			return nil, &Error{Code: ExitError, Err: err, Msg: fmt.Sprintf("no sign-in came back from the browser in time; to sign in with a code instead, run `%s`", a.deviceHint(o, t))}
		default:
			return nil, err
		}
	}
	tok, err := cc.DeviceLogin(ctx, client.DeviceOptions{Prompt: qrcode.DevicePrompt(w)})
	switch {
	case errors.Is(err, client.ErrDeviceDenied):
		return nil, &Error{Code: ExitError, Err: err, Msg: "the sign-in was denied; nothing was stored"}
	case errors.Is(err, client.ErrDeviceExpired):
		return nil, &Error{Code: ExitError, Err: err, Msg: fmt.Sprintf("the code expired before it was approved; run `%s` again", a.deviceHint(o, t))}
	case err != nil:
		return nil, err
	}
	return a.userCredential(ctx, cc, tok)
}

// portList writes ports as "8085" or "8085, 8086".
func portList(ports []int) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

// openFailure is why the browser did not open: the opener's own error
// inside client.BrowserLogin's "open browser: %w: %w".
func openFailure(err error) error {
	var multi interface{ Unwrap() []error }
	if errors.As(err, &multi) {
		if errs := multi.Unwrap(); len(errs) > 0 && !errors.Is(errs[0], client.ErrBrowserUnavailable) {
			return errs[0]
		}
	}
	return err
}

// headlessError is the failure of a browser login where nobody can sign
// in: no browser, no terminal. It says what to run instead.
func (a *App) headlessError(o *loginOptions, t *loginTarget, why string) error {
	return &Error{Code: ExitUsage, Err: client.ErrBrowserUnavailable, Msg: fmt.Sprintf(`cannot log in here: no browser can open (%s) and stdin is not a terminal. Instead:
  %s
      sign in with a code on any device (prints a URL and a code, then waits)
  %s and %s
      client credentials, for CI and scripts
  %s
      an access token you already have`,
		why, a.deviceHint(o, t), a.envName(envClientID), a.envName(envClientSecret), a.envName(envToken))}
}

// deviceHint is this login's command line with --device.
func (a *App) deviceHint(o *loginOptions, t *loginTarget) string {
	s := a.Name + " login --device"
	if o.issuer != "" {
		s += " --issuer " + shellQuote(t.issuer)
	}
	if o.clientID != "" {
		s += " --client-id " + shellQuote(t.clientID)
	}
	if a.profile.set {
		s += " --profile " + shellQuote(t.profile)
	}
	return s
}

// userCredential is the credential of a user login, with who logged in
// from the ID token or, without one, from the userinfo endpoint.
func (a *App) userCredential(ctx context.Context, cc *client.Config, tok *oauth2.Token) (*credstore.Credential, error) {
	cred := cc.UserCredential(tok)
	if cred.Subject == "" && cc.Metadata.UserinfoEndpoint != "" {
		if who, err := a.userinfo(ctx, cc.Metadata.UserinfoEndpoint, tok, cc.DPoP); err == nil {
			cred.Subject, cred.Username = who.Subject, who.Username
		}
	}
	if cred.RefreshToken == "" {
		a.warn("the server issued no refresh token (ask for the offline_access scope?): log in again when the access token expires")
	}
	return cred, nil
}

// loginClientCredentials checks the client's credentials by getting a
// token, and returns the credential to store: the secret, to fetch the
// next tokens, and this first token.
func (a *App) loginClientCredentials(ctx context.Context, cc *client.Config) (*credstore.Credential, error) {
	tok, err := cc.ClientCredentialsToken(ctx)
	if err != nil {
		var pe *protocol.Error
		if errors.As(err, &pe) && (pe.Code == protocol.ErrInvalidClient || pe.Code == protocol.ErrUnauthorizedClient || pe.Code == protocol.ErrInvalidScope) {
			return nil, &Error{Code: ExitError, Err: err, Msg: fmt.Sprintf("the server refused the client credentials of %q: %v", cc.ClientID, pe)}
		}
		return nil, err
	}
	cred := cc.ClientCredential()
	cred.AccessToken, cred.TokenType, cred.Expiry = tok.AccessToken, tok.Type(), tok.Expiry
	cred.Subject = cc.ClientID
	return cred, nil
}

// loginAPIKey checks an API key at the userinfo endpoint, when the server
// has one, and returns the credential to store.
func (a *App) loginAPIKey(ctx context.Context, md *protocol.Metadata, key string) (*credstore.Credential, error) {
	cred := &credstore.Credential{Kind: credstore.KindAPIKey, Issuer: md.Issuer, APIKey: key, UpdatedAt: a.clock().Now().UTC()}
	if md.UserinfoEndpoint == "" {
		return cred, nil
	}
	who, err := a.userinfo(ctx, md.UserinfoEndpoint, &oauth2.Token{AccessToken: key, TokenType: protocol.TokenTypeBearer}, nil)
	var se *statusError
	if errors.As(err, &se) && se.status == 401 {
		return nil, &Error{Code: ExitError, Err: err, Msg: "the server does not accept this API key (401 at its userinfo endpoint); nothing was stored"}
	}
	if err != nil {
		return nil, err
	}
	cred.Subject, cred.Username = who.Subject, who.Username
	return cred, nil
}

// revokeReplaced revokes the refresh token of the login a new one just
// replaced, so that no forgotten login stays valid on the server. It is
// best effort: a failure is only logged with --debug.
func (a *App) revokeReplaced(ctx context.Context, md *protocol.Metadata, old, cred *credstore.Credential) {
	if old == nil || old.RefreshToken == "" || old.RefreshToken == cred.RefreshToken || old.Issuer != md.Issuer || md.RevocationEndpoint == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := a.revoke(ctx, md, old.ClientID, old.ClientSecret, old.RefreshToken, "refresh_token"); err != nil {
		a.logger().Info("login: could not revoke the replaced login", "error", err)
	}
}

// describeLogin says who a credential logs in as: "as alice", "as client
// ci", "with API key ****abcd as alice".
func describeLogin(c *credstore.Credential) string {
	who := c.Username
	if who == "" {
		who = c.Subject
	}
	switch c.Kind {
	case credstore.KindClientCredentials:
		return "as client " + c.ClientID
	case credstore.KindAPIKey:
		s := "with API key " + credstore.Mask(c.APIKey)
		if who != "" {
			s += " as " + who
		}
		return s
	}
	if who == "" {
		return "(the server did not say as whom)"
	}
	return "as " + who
}

// shadowWarnings tells the user when the login just stored is not what
// the next commands will use: an environment credential takes
// precedence, or another profile is selected.
func (a *App) shadowWarnings(cfg *configFile, profile string) {
	for _, e := range []string{envToken, envAPIKey, envClientID} {
		if a.env(e) != "" {
			a.warn(fmt.Sprintf("%s is set and takes precedence over this login; unset it to use profile %q", a.envName(e), profile))
		}
	}
	if p := a.env(envProfile); p != "" {
		if p != profile {
			a.warn(fmt.Sprintf("%s=%s selects another profile; commands use this login only with --profile %s", a.envName(envProfile), p, shellQuote(profile)))
		}
		return
	}
	if d := cfg.defaultProfile(); d != profile {
		fmt.Fprintf(a.IO.errOut(), "Profile %q is not the default (%q): pass --profile %s, or run `%s profiles use %s`.\n",
			profile, d, shellQuote(profile), a.Name, shellQuote(profile))
	}
}
