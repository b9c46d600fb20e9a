package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Terminal sign-in: the password grant (RFC 6749 §4.3) and, for a user
// with a second factor, Gatehouse's mfa-otp grant. RFC 9700 §2.4 forbids
// the password grant in general, so a Gatehouse server refuses it
// (unsupported_grant_type) unless an admin enabled it for the first-party
// client; prefer BrowserLogin or DeviceLogin wherever they work.

var (
	// ErrTerminalLoginDisabled means the server does not let this client
	// sign users in with a password (unauthorized_client or
	// unsupported_grant_type for the password grant).
	ErrTerminalLoginDisabled = errors.New("terminal sign-in is not enabled for this client")

	// ErrBadCredentials means the username or password was refused
	// (invalid_grant on the password grant).
	ErrBadCredentials = errors.New("invalid username or password")

	// ErrBadCode means the one-time code was refused (invalid_grant on the
	// mfa-otp grant): wrong, already used, or the second step expired.
	ErrBadCode = errors.New("the code was not accepted")

	// ErrMFARequired means the user must give a one-time code and
	// PasswordOptions.Code is nil.
	ErrMFARequired = errors.New("a code from an authenticator app is required")
)

// PasswordOptions are the answers of a person signing in at a terminal.
type PasswordOptions struct {
	Username string
	Password string
	// Code is asked for a one-time code (TOTP or recovery code) when the
	// server answers mfa_required; nil makes that ErrMFARequired.
	Code func(ctx context.Context) (string, error)
}

// PasswordLogin signs a user in with their username and password, and a
// one-time code when the server asks for one (mfa_required with an
// mfa_token, then the GrantMFAOTP request). It returns the same tokens as
// BrowserLogin; with c.DPoP set both requests carry a proof, so the
// tokens are bound to that key as a browser login's are. Refusals wrap a *protocol.Error and one of
// ErrTerminalLoginDisabled, ErrBadCredentials, ErrBadCode; a rate-limited
// attempt wraps the too_many_requests error, whose wait RetryAfter reads.
func (c *Config) PasswordLogin(ctx context.Context, opts PasswordOptions) (*oauth2.Token, error) {
	md, err := c.metadata(ctx)
	if err != nil {
		return nil, err
	}
	form := url.Values{"grant_type": {protocol.GrantPassword}, "username": {opts.Username}, "password": {opts.Password}}
	if len(c.Scopes) > 0 {
		form.Set("scope", strings.Join(c.Scopes, " "))
	}
	for _, r := range c.Resources {
		form.Add("resource", r)
	}
	tok, err := c.passwordRequest(ctx, md, form)
	switch {
	case err == nil:
		return tok, nil
	case isCode(err, protocol.ErrUnauthorizedClient), isCode(err, protocol.ErrUnsupportedGrantType):
		return nil, fmt.Errorf("client: terminal sign-in: %w: %w", ErrTerminalLoginDisabled, err)
	case isCode(err, protocol.ErrInvalidGrant):
		return nil, fmt.Errorf("client: terminal sign-in: %w: %w", ErrBadCredentials, err)
	case !isCode(err, protocol.ErrMFARequired):
		return nil, fmt.Errorf("client: terminal sign-in: %w", err)
	}
	mfaToken := mfaTokenOf(err)
	if mfaToken == "" {
		return nil, fmt.Errorf("client: terminal sign-in: mfa_required without an mfa_token: %w", err)
	}
	if opts.Code == nil {
		return nil, fmt.Errorf("client: terminal sign-in: %w", ErrMFARequired)
	}
	code, err := opts.Code(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: terminal sign-in: read the code: %w", err)
	}
	tok, err = c.passwordRequest(ctx, md, url.Values{"grant_type": {protocol.GrantMFAOTP}, "mfa_token": {mfaToken}, "otp": {code}})
	switch {
	case err == nil:
		return tok, nil
	case isCode(err, protocol.ErrInvalidGrant):
		return nil, fmt.Errorf("client: terminal sign-in: %w: %w", ErrBadCode, err)
	}
	return nil, fmt.Errorf("client: terminal sign-in: %w", err)
}

func (c *Config) passwordRequest(ctx context.Context, md *protocol.Metadata, form url.Values) (*oauth2.Token, error) {
	var raw map[string]any
	if err := postForm(ctx, c.tokenClient(), md.TokenEndpoint, form, c.ClientID, c.ClientSecret, secretAuthStyle(md), &raw); err != nil {
		return nil, err
	}
	tok, err := tokenFromJSON(raw)
	if err == nil {
		err = checkTokenType(tok)
	}
	if err != nil {
		return nil, err
	}
	return stampExpiry(tok, c.clock().Now()), nil
}

// mfaTokenOf is the mfa_token of an mfa_required error answer.
func mfaTokenOf(err error) string {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return ""
	}
	var body struct {
		MFAToken string `json:"mfa_token"`
	}
	if json.Unmarshal(re.Body, &body) != nil {
		return ""
	}
	return body.MFAToken
}

// RetryAfter is how long an error answer of the server asked to wait
// (its Retry-After header in seconds), or 0.
func RetryAfter(err error) time.Duration {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		return 0
	}
	s, perr := strconv.Atoi(strings.TrimSpace(re.Response.Header.Get("Retry-After")))
	if perr != nil || s <= 0 {
		return 0
	}
	return time.Duration(s) * time.Second
}
