package cliauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// maxAnswerBytes bounds what is read of a server's answer.
const maxAnswerBytes = 1 << 20

// statusError is an unexpected HTTP status from the server.
type statusError struct {
	endpoint string
	status   int
	oauth    *protocol.Error // the RFC 6749 §5.2 body, when there is one
}

func (e *statusError) Error() string {
	if e.oauth != nil {
		return fmt.Sprintf("%s: %d %s", e.endpoint, e.status, e.oauth)
	}
	return fmt.Sprintf("%s: %d %s", e.endpoint, e.status, http.StatusText(e.status))
}

func (e *statusError) Unwrap() error {
	if e.oauth == nil {
		return nil
	}
	return e.oauth
}

// identity is who a token belongs to, per the userinfo endpoint.
type identity struct {
	Subject  string `json:"sub"`
	Username string `json:"preferred_username"`
}

// userinfo asks the OpenID Connect userinfo endpoint who token belongs
// to (an access token or a Gatehouse API key). A DPoP-bound token goes
// with a proof of d's key.
func (a *App) userinfo(ctx context.Context, endpoint string, token *oauth2.Token, d *client.DPoP) (*identity, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("cliauth: userinfo: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	hc := *a.authClient()
	hc.Transport = &client.Transport{Source: oauth2.StaticTokenSource(token), Base: hc.Transport, DPoP: d}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cliauth: userinfo: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return nil, fmt.Errorf("cliauth: userinfo: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &statusError{endpoint: "userinfo", status: resp.StatusCode}
	}
	var who identity
	if err := json.Unmarshal(body, &who); err != nil {
		return nil, fmt.Errorf("cliauth: userinfo answer: %w", err)
	}
	return &who, nil
}

// revoke asks the server to revoke token (RFC 7009 §2.1) on behalf of
// the client that obtained it: a public client names itself with
// client_id in the body; a confidential one authenticates with its
// secret, by HTTP Basic unless the server only takes it in the body.
// Revoking an unknown or already revoked token succeeds (§2.2).
func (a *App) revoke(ctx context.Context, md *protocol.Metadata, clientID, clientSecret, token, hint string) error {
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	basic := clientSecret != "" && secretInHeader(md)
	if !basic {
		form.Set("client_id", clientID)
		if clientSecret != "" {
			form.Set("client_secret", clientSecret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, md.RevocationEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("cliauth: revoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		// RFC 6749 §2.3.1: both are form-encoded before Basic encoding.
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
	}
	resp, err := a.authClient().Do(req)
	if err != nil {
		return fmt.Errorf("cliauth: revoke: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	se := &statusError{endpoint: "revocation endpoint", status: resp.StatusCode}
	var pe protocol.Error
	if json.Unmarshal(body, &pe) == nil && pe.Code != "" {
		se.oauth = &pe
	}
	return se
}

// secretInHeader reports whether a client with a secret authenticates
// with HTTP Basic at the revocation endpoint: yes unless the server lists
// only client_secret_post (RFC 8414 §2; the default is Basic).
func secretInHeader(md *protocol.Metadata) bool {
	m := md.RevocationEndpointAuthMethodsSupported
	if len(m) == 0 {
		m = md.TokenEndpointAuthMethodsSupported
	}
	return len(m) == 0 || slices.Contains(m, protocol.AuthMethodBasic) || !slices.Contains(m, protocol.AuthMethodPost)
}
