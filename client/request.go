package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

// postForm sends an OAuth request (a form POST) to endpoint and decodes a
// 2xx JSON answer into out. The client authenticates the way x/oauth2
// does for the given style: RFC 6749 §2.3.1 HTTP Basic with form-encoded
// credentials, or client_id (and client_secret) in the body. An error
// answer is an *oauth2.RetrieveError converted by ParseError, the same
// error the x/oauth2-based flows return.
func postForm(ctx context.Context, hc *http.Client, endpoint string, form url.Values, id, secret string, style oauth2.AuthStyle, out any) error {
	form = cloneValues(form)
	if style == oauth2.AuthStyleInParams || secret == "" {
		form.Set("client_id", id)
		if secret != "" {
			form.Set("client_secret", secret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if style != oauth2.AuthStyleInParams && secret != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes))
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return ParseError(retrieveError(resp, body))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode %s answer: %w", endpoint, err)
	}
	return nil
}

// retrieveError builds the *oauth2.RetrieveError of an error answer,
// reading the RFC 6749 §5.2 members from a JSON (or, for old servers, a
// form-encoded) body.
func retrieveError(resp *http.Response, body []byte) *oauth2.RetrieveError {
	re := &oauth2.RetrieveError{Response: resp, Body: body}
	var e protocol.Error
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded", "text/plain":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return re
		}
		e = protocol.Error{Code: v.Get("error"), Description: v.Get("error_description"), URI: v.Get("error_uri")}
	default:
		if json.Unmarshal(body, &e) != nil {
			return re
		}
	}
	re.ErrorCode, re.ErrorDescription, re.ErrorURI = e.Code, e.Description, e.URI
	return re
}

// tokenFromJSON turns a decoded token response (RFC 6749 §5.1) into an
// *oauth2.Token whose Extra exposes every member, id_token included.
func tokenFromJSON(raw map[string]any) (*oauth2.Token, error) {
	str := func(k string) string { s, _ := raw[k].(string); return s }
	tok := &oauth2.Token{
		AccessToken:  str("access_token"),
		TokenType:    str("token_type"),
		RefreshToken: str("refresh_token"),
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("token response has no access_token")
	}
	switch v := raw["expires_in"].(type) {
	case float64:
		tok.ExpiresIn = int64(v)
	case string: // some servers send a string
		tok.ExpiresIn, _ = strconv.ParseInt(v, 10, 64)
	}
	return tok.WithExtra(raw), nil
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v)+2)
	for k, vv := range v {
		c[k] = append([]string(nil), vv...)
	}
	return c
}
