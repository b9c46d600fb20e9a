package client

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

// defaultDeviceInterval is the polling interval when the server names none.
// RFC 8628 §3.2: "If no value is provided, clients MUST use 5 as the
// default."
const defaultDeviceInterval = 5 * time.Second

// slowDownStep is added to the polling interval on every slow_down.
// RFC 8628 §3.5: "the interval MUST be increased by 5 seconds for this and
// all subsequent requests."
const slowDownStep = 5 * time.Second

// DeviceOptions tune DeviceLogin.
type DeviceOptions struct {
	// Prompt shows the user where to go and which code to enter; nil
	// means DevicePrompt(os.Stderr). qrcode.DevicePrompt adds a QR code.
	Prompt func(*oauth2.DeviceAuthResponse)
}

// DeviceLogin runs the device authorization grant (RFC 8628): it asks
// for a device and user code, hands them to the prompt, and polls the
// token endpoint until the user approves, denies, or the code expires.
// It is the login for machines without a browser.
func (c *Config) DeviceLogin(ctx context.Context, opts DeviceOptions) (*oauth2.Token, error) {
	md, err := c.metadata(ctx)
	if err != nil {
		return nil, err
	}
	da, err := c.deviceAuthorization(ctx, md)
	if err != nil {
		return nil, err
	}
	prompt := opts.Prompt
	if prompt == nil {
		prompt = DevicePrompt(os.Stderr)
	}
	prompt(da)
	return c.deviceToken(ctx, md, da)
}

// DeviceAuthorization sends the device authorization request (RFC 8628
// §3.1). The response's Expiry is on c's clock.
func (c *Config) DeviceAuthorization(ctx context.Context) (*oauth2.DeviceAuthResponse, error) {
	md, err := c.metadata(ctx)
	if err != nil {
		return nil, err
	}
	return c.deviceAuthorization(ctx, md)
}

func (c *Config) deviceAuthorization(ctx context.Context, md *protocol.Metadata) (*oauth2.DeviceAuthResponse, error) {
	if md.DeviceAuthorizationEndpoint == "" {
		return nil, fmt.Errorf("client: %s does not support the device flow (no device_authorization_endpoint)", md.Issuer)
	}
	form := url.Values{}
	if len(c.Scopes) > 0 {
		form.Set("scope", strings.Join(c.Scopes, " "))
	}
	for _, r := range c.Resources {
		form.Add("resource", r)
	}
	var resp protocol.DeviceAuthorizationResponse
	err := postForm(ctx, c.HTTPClient, md.DeviceAuthorizationEndpoint, form, c.ClientID, c.ClientSecret, secretAuthStyle(md), &resp)
	if err != nil {
		return nil, fmt.Errorf("client: device authorization: %w", err)
	}
	if resp.DeviceCode == "" || resp.UserCode == "" || resp.VerificationURI == "" {
		return nil, fmt.Errorf("client: device authorization: incomplete response")
	}
	da := &oauth2.DeviceAuthResponse{
		DeviceCode:              resp.DeviceCode,
		UserCode:                resp.UserCode,
		VerificationURI:         resp.VerificationURI,
		VerificationURIComplete: resp.VerificationURIComplete,
		Interval:                resp.Interval,
	}
	if resp.ExpiresIn > 0 {
		da.Expiry = c.clock().Now().Add(time.Duration(resp.ExpiresIn) * time.Second)
	}
	return da, nil
}

// DeviceToken polls the token endpoint for the device code (RFC 8628
// §3.4, §3.5) on c's clock: authorization_pending waits another
// interval, slow_down adds 5 seconds to it, access_denied is
// ErrDeviceDenied, expired_token (or the code's expiry passing) is
// ErrDeviceExpired, and a cancelled ctx stops the polling.
func (c *Config) DeviceToken(ctx context.Context, da *oauth2.DeviceAuthResponse) (*oauth2.Token, error) {
	md, err := c.metadata(ctx)
	if err != nil {
		return nil, err
	}
	return c.deviceToken(ctx, md, da)
}

func (c *Config) deviceToken(ctx context.Context, md *protocol.Metadata, da *oauth2.DeviceAuthResponse) (*oauth2.Token, error) {
	clk := c.clock()
	interval := time.Duration(da.Interval) * time.Second
	if interval <= 0 {
		interval = defaultDeviceInterval
	}
	form := url.Values{
		"grant_type":  {protocol.GrantDeviceCode},
		"device_code": {da.DeviceCode},
	}
	for {
		// RFC 8628 §3.5: the client waits the interval "between polling
		// requests", the first one included.
		t := clk.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("client: device login: %w", ctx.Err())
		case <-t.C():
		}
		if !da.Expiry.IsZero() && !clk.Now().Before(da.Expiry) {
			return nil, fmt.Errorf("client: device login: %w", ErrDeviceExpired)
		}
		var raw map[string]any
		err := postForm(ctx, c.tokenClient(), md.TokenEndpoint, form, c.ClientID, c.ClientSecret, secretAuthStyle(md), &raw)
		switch {
		case err == nil:
			tok, err := tokenFromJSON(raw)
			if err == nil {
				err = checkTokenType(tok)
			}
			if err != nil {
				return nil, fmt.Errorf("client: device login: %w", err)
			}
			return stampExpiry(tok, clk.Now()), nil
		case isCode(err, protocol.ErrAuthorizationPending):
		case isCode(err, protocol.ErrSlowDown):
			interval += slowDownStep
		case isCode(err, protocol.ErrAccessDenied):
			return nil, fmt.Errorf("client: %w: %w", ErrDeviceDenied, err)
		case isCode(err, protocol.ErrExpiredToken):
			return nil, fmt.Errorf("client: %w: %w", ErrDeviceExpired, err)
		default:
			return nil, fmt.Errorf("client: device login: %w", err)
		}
	}
}
