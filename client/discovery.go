package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Well-known paths of the two discovery documents.
const (
	wellKnownOAuth = "/.well-known/oauth-authorization-server" // RFC 8414 §3
	wellKnownOIDC  = "/.well-known/openid-configuration"       // OpenID Connect Discovery 1.0 §4
)

// maxDocumentBytes bounds every JSON document read from a server.
const maxDocumentBytes = 1 << 20

// errNoDocument means a discovery URL had no usable document, so the next
// one is tried.
var errNoDocument = errors.New("no discovery document")

// Discover fetches the authorization server metadata of issuer: first the
// RFC 8414 document (/.well-known/oauth-authorization-server), then, if
// that is missing, the OpenID Connect one (/.well-known/openid-configuration).
// A nil hc means http.DefaultClient.
//
// RFC 8414 §3.3: "The "issuer" value returned MUST be identical to the
// authorization server's issuer identifier value into which the well-known
// URI string was inserted to create the URL used to retrieve the metadata.
// If these values are not identical, the data contained in the response
// MUST NOT be used." The comparison is byte for byte; a mismatch is
// ErrIssuerMismatch and no other document is tried. One case is no
// mismatch: an issuer that is a bare origin, given with or without the
// trailing "/" (https://auth.example.com vs https://auth.example.com/),
// names the very same metadata URLs, so the document is that issuer's; its
// own spelling is the issuer then (Metadata.Issuer), and tokens are
// compared with it byte for byte.
func Discover(ctx context.Context, hc *http.Client, issuer string) (*protocol.Metadata, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	urls, err := discoveryURLs(issuer)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, u := range urls {
		md, err := fetchMetadata(ctx, hc, u)
		if errors.Is(err, errNoDocument) {
			errs = append(errs, err)
			continue
		}
		if err != nil {
			return nil, err
		}
		if md.Issuer != issuer && !SameBareOrigin(md.Issuer, issuer) {
			return nil, fmt.Errorf("client: discovery %s: document names issuer %q, not %q: %w", u, md.Issuer, issuer, ErrIssuerMismatch)
		}
		if md.TokenEndpoint == "" {
			return nil, fmt.Errorf("client: discovery %s: no token_endpoint", u)
		}
		return md, nil
	}
	return nil, fmt.Errorf("client: discover %s: %w", issuer, errors.Join(errs...))
}

// discoveryURLs lists the metadata URLs to try for issuer, in order.
//
// RFC 8414 §3.1: "If the issuer identifier value contains a path
// component, any terminating "/" MUST be removed before inserting
// "/.well-known/" and the well-known URI suffix between the host component
// and the path component." OpenID Connect Discovery §4.1 appends its
// suffix to the issuer instead; for an issuer without a path both forms
// are the same.
func discoveryURLs(issuer string) ([]string, error) {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil, fmt.Errorf("client: issuer %q: %w", issuer, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("client: issuer %q: want an http(s) URL without query or fragment", issuer)
	}
	origin := u.Scheme + "://" + u.Host
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	urls := []string{origin + wellKnownOAuth + path, origin + path + wellKnownOIDC}
	if path != "" {
		// Some servers publish the RFC 8414 document under the issuer's
		// path too (the OpenID Connect placement); try it last.
		urls = append(urls, origin+path+wellKnownOAuth)
	}
	return urls, nil
}

// fetchMetadata GETs one metadata document. A 404, 405 or a body that is
// not JSON is errNoDocument; other failures are returned as they are.
func fetchMetadata(ctx context.Context, hc *http.Client, u string) (*protocol.Metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("client: discovery %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: discovery: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes))
	if err != nil {
		return nil, fmt.Errorf("client: discovery %s: %w", u, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		return nil, fmt.Errorf("%s: %s: %w", u, resp.Status, errNoDocument)
	case resp.StatusCode >= 500:
		return nil, fmt.Errorf("client: discovery %s: %s: %w", u, resp.Status, errServerStatus)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("client: discovery %s: %s", u, resp.Status)
	}
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct != "" && ct != "application/json" && !strings.HasSuffix(ct, "+json") {
		return nil, fmt.Errorf("%s: content type %s: %w", u, ct, errNoDocument)
	}
	var md protocol.Metadata
	if err := json.Unmarshal(body, &md); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", u, err, errNoDocument)
	}
	return &md, nil
}

// Endpoint returns the oauth2.Endpoint of the metadata. Its AuthStyle is
// how a client with a secret authenticates: HTTP Basic when the server
// supports client_secret_basic (the default when it says nothing, RFC 8414
// §2), else the request body when it supports client_secret_post.
// Clients without a secret always send client_id in the body.
func Endpoint(md *protocol.Metadata) oauth2.Endpoint {
	return oauth2.Endpoint{
		AuthURL:       md.AuthorizationEndpoint,
		TokenURL:      md.TokenEndpoint,
		DeviceAuthURL: md.DeviceAuthorizationEndpoint,
		AuthStyle:     secretAuthStyle(md),
	}
}

// secretAuthStyle picks the token endpoint authentication of a client with
// a secret. It is never AuthStyleAutoDetect: x/oauth2's probing sends a
// request twice, which must not happen with a single-use refresh token.
func secretAuthStyle(md *protocol.Metadata) oauth2.AuthStyle {
	m := md.TokenEndpointAuthMethodsSupported
	if len(m) == 0 || slices.Contains(m, protocol.AuthMethodBasic) || !slices.Contains(m, protocol.AuthMethodPost) {
		return oauth2.AuthStyleInHeader
	}
	return oauth2.AuthStyleInParams
}

// SameBareOrigin reports whether a and b are one issuer that is a bare
// origin (no path but "/"), written with and without its trailing slash.
// Such issuers share their metadata URLs (RFC 8414 §3.1 removes the
// terminating "/"), which is why Hydra's default issuer
// "https://host/" and the "https://host" a person types are the same
// server. Issuers with a path are never treated so: there the slash is
// part of the identifier.
func SameBareOrigin(a, b string) bool { return protocol.SameBareOrigin(a, b) }
