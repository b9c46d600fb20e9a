package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

// DPoP names of RFC 9449.
const (
	// TokenTypeDPoP is the token_type of a DPoP-bound access token and the
	// scheme of the Authorization header that presents one (§5, §7.1).
	TokenTypeDPoP = protocol.TokenTypeDPoP
	// headerDPoP carries a proof (§4.1); headerDPoPNonce a server's nonce
	// (§8, §9).
	headerDPoP      = "DPoP"
	headerDPoPNonce = "DPoP-Nonce"
	// errUseDPoPNonce is the error of a server that wants a nonce in the
	// proof (§8 at the token endpoint, §9 at a resource).
	errUseDPoPNonce = protocol.ErrUseDPoPNonce
)

// ErrNoDPoPKey is returned for a DPoP-bound access token (token_type DPoP)
// that would have to go out without a proof: the transport has no key.
// A DPoP-bound token is useless as a bearer token (the server refuses it),
// so it is never sent as one.
var ErrNoDPoPKey = errors.New("the access token is DPoP-bound but there is no DPoP key to prove possession with")

// ProofSigner makes DPoP proofs (RFC 9449 §4.2) with one private key;
// *dpop.Signer is one.
type ProofSigner interface {
	// Proof returns a proof for one request: htm method, htu the URL
	// without query and fragment, a fresh jti, iat now, ath the hash of
	// accessToken when it is not empty, nonce when it is not empty.
	Proof(method, rawURL, accessToken, nonce string) (string, error)
	// Thumbprint is the JWK SHA-256 thumbprint (RFC 7638) of the public
	// key: the jkt the server binds tokens to.
	Thumbprint() string
}

// DPoP proves possession of one key to the servers a client talks to
// (RFC 9449): it makes a fresh proof for each request and remembers the
// latest nonce each server (origin) handed out in a DPoP-Nonce header, to
// put in the next proof for it.
//
// A DPoP goes in Config.DPoP (proofs on every token request, tokens bound
// to its key) and in Transport.DPoP (proofs on every resource request
// with a DPoP-bound token); a TokenSource of a login stored with a key
// makes its own. For x/oauth2 token requests, give x/oauth2 the client of
// HTTPClient. A DPoP is safe for concurrent use.
type DPoP struct {
	signer ProofSigner
	// key is the private key in PEM (PKCS #8) when this DPoP made or
	// loaded it, so that a login can store it; "" for NewDPoP.
	key string

	mu     sync.Mutex
	nonces map[string]string // origin → latest nonce
}

// NewDPoP returns a DPoP that signs its proofs with s. Config.UserCredential
// does not store the key of such a DPoP (it does not know it); use
// NewDPoPKey or LoadDPoPKey for a login that is stored.
func NewDPoP(s ProofSigner) *DPoP {
	return &DPoP{signer: s, nonces: map[string]string{}}
}

// Thumbprint returns the JWK thumbprint of the key: the jkt of the tokens
// bound to it (cnf.jkt), and the dpop_jkt of an authorization request.
func (d *DPoP) Thumbprint() string { return d.signer.Thumbprint() }

// PrivateKeyPEM returns the private key, PEM PKCS #8, when d made or
// loaded it (NewDPoPKey, LoadDPoPKey); "" otherwise. It is a secret: keep
// it where the tokens bound to it are kept.
func (d *DPoP) PrivateKeyPEM() string { return d.key }

// Proof returns a proof for a request with method to rawURL carrying
// accessToken ("" for a token request), with the latest nonce the URL's
// origin handed out.
func (d *DPoP) Proof(method, rawURL, accessToken string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("client: dpop proof: %w", err)
	}
	return d.proof(method, u, accessToken)
}

func (d *DPoP) proof(method string, u *url.URL, accessToken string) (string, error) {
	p, err := d.signer.Proof(method, u.String(), accessToken, d.nonce(u))
	if err != nil {
		return "", fmt.Errorf("client: dpop proof: %w", err)
	}
	return p, nil
}

// origin is the key of the nonce memory: scheme and host (with port).
func origin(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
}

func (d *DPoP) nonce(u *url.URL) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.nonces[origin(u)]
}

// observe remembers the nonce of a response from u's origin, if it has
// one. RFC 9449 §8.2: a server "MAY supply the new nonce value in the
// DPoP-Nonce HTTP header of any response", not only of the error that
// asks for it.
func (d *DPoP) observe(u *url.URL, h http.Header) bool {
	n := h.Get(headerDPoPNonce)
	if n == "" {
		return false
	}
	d.mu.Lock()
	d.nonces[origin(u)] = n
	d.mu.Unlock()
	return true
}

// HTTPClient returns a copy of hc (nil: http.DefaultClient) whose
// transport adds a proof to every request (see TokenTransport): the
// client for token requests, for this package's flows and for x/oauth2's
// (oauth2.Config.Exchange, clientcredentials.Config.Token and their token
// sources, through the oauth2.HTTPClient context value).
func (d *DPoP) HTTPClient(hc *http.Client) *http.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := *hc
	c.Transport = d.TokenTransport(hc.Transport)
	return &c
}

// TokenTransport returns an http.RoundTripper for requests to a token
// endpoint: each one gets a fresh proof in its DPoP header (RFC 9449 §5),
// and an answer asking for a nonce — 400 (or 401) with error
// use_dpop_nonce and a DPoP-Nonce header (§8) — is followed once: the
// request is sent again with a proof carrying that nonce, when it can be
// replayed (no body, or GetBody set, as for every request x/oauth2 and
// this package make). base nil means http.DefaultTransport.
func (d *DPoP) TokenTransport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &tokenTransport{d: d, base: base}
}

type tokenTransport struct {
	d    *DPoP
	base http.RoundTripper
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	send := func(body io.ReadCloser) (*http.Response, error) {
		p, err := t.d.proof(req.Method, req.URL, "")
		if err != nil {
			if body != nil {
				body.Close()
			}
			return nil, err
		}
		r := req.Clone(req.Context())
		r.Body = body
		r.Header.Set(headerDPoP, p)
		resp, err := t.base.RoundTrip(r)
		if err == nil {
			t.d.observe(req.URL, resp.Header)
		}
		return resp, err
	}
	resp, err := send(req.Body)
	if err != nil || !tokenNonceChallenge(resp) || !replayable(req) {
		return resp, err
	}
	body, ok := replayBody(req)
	if !ok {
		return resp, nil
	}
	discard(resp)
	return send(body)
}

// tokenNonceChallenge reports whether a token endpoint's answer asks for a
// proof with the nonce in its DPoP-Nonce header (RFC 9449 §8): a 400 (401
// from some servers) whose error is use_dpop_nonce. The body is read and
// put back, so a response that is not a challenge reaches the caller whole.
func tokenNonceChallenge(resp *http.Response) bool {
	if (resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusUnauthorized) || resp.Header.Get(headerDPoPNonce) == "" {
		return false
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return false
	}
	var e struct {
		Error string `json:"error"`
	}
	return json.Unmarshal(body, &e) == nil && e.Error == errUseDPoPNonce
}

// resourceNonceChallenge reports whether a resource's 401 asks for a proof
// with the nonce in its DPoP-Nonce header (RFC 9449 §9):
//
//	WWW-Authenticate: DPoP error="use_dpop_nonce", ...
func resourceNonceChallenge(resp *http.Response) bool {
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get(headerDPoPNonce) == "" {
		return false
	}
	for _, v := range resp.Header.Values("WWW-Authenticate") {
		for _, ch := range splitChallenges(v) {
			scheme, params, _ := strings.Cut(strings.TrimSpace(ch), " ")
			if strings.EqualFold(scheme, TokenTypeDPoP) && authParam(params, "error") == errUseDPoPNonce {
				return true
			}
		}
	}
	return false
}

// splitChallenges splits a WWW-Authenticate value into its challenges: a
// new one starts at a token that follows a comma and is not a parameter
// (no "=" after it).
func splitChallenges(v string) []string {
	var out []string
	var cur strings.Builder
	inQuote := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"' && (i == 0 || v[i-1] != '\\'):
			inQuote = !inQuote
		case c == ',' && !inQuote:
			rest := strings.TrimLeft(v[i+1:], " \t")
			tok := rest
			if j := strings.IndexAny(rest, " \t=,"); j >= 0 {
				tok = rest[:j]
			}
			after := strings.TrimLeft(rest[len(tok):], " \t")
			if tok != "" && !strings.HasPrefix(after, "=") {
				out = append(out, cur.String())
				cur.Reset()
				continue
			}
		}
		cur.WriteByte(c)
	}
	return append(out, cur.String())
}

// authParam returns the value of the auth-param name in params
// (`error="use_dpop_nonce", algs="ES256"`), unquoted.
func authParam(params, name string) string {
	for params != "" {
		params = strings.TrimLeft(params, " \t,")
		k, rest, ok := strings.Cut(params, "=")
		if !ok {
			return ""
		}
		k = strings.TrimSpace(k)
		rest = strings.TrimLeft(rest, " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(rest) && rest[i] != '"'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
				}
				b.WriteByte(rest[i])
			}
			val, params = b.String(), rest[min(i+1, len(rest)):]
		} else {
			val, params, _ = strings.Cut(rest, ",")
			val = strings.TrimSpace(val)
		}
		if strings.EqualFold(k, name) {
			return val
		}
	}
	return ""
}

// replayBody returns a new copy of req's body for sending it again.
func replayBody(req *http.Request) (io.ReadCloser, bool) {
	if req.Body == nil || req.Body == http.NoBody {
		return req.Body, true
	}
	if req.GetBody == nil {
		return nil, false
	}
	b, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	return b, true
}

// discard reads what is left of a response that is not returned (a
// little, so the connection can be reused) and closes it.
func discard(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// isDPoP reports whether tok's type is DPoP (any case, RFC 9449 §5 and
// RFC 6749 §5.1: token_type is case-insensitive).
func isDPoPType(tokenType string) bool { return strings.EqualFold(tokenType, TokenTypeDPoP) }

// IsDPoP reports whether tok is DPoP-bound: its token_type is DPoP (any
// case; RFC 6749 §5.1 token types are case-insensitive). Such a token
// must go with a proof of its key (Transport does it).
func IsDPoP(tok *oauth2.Token) bool { return tok != nil && isDPoPType(tok.TokenType) }
