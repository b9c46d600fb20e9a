package oauth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/respond"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// DPoP (RFC 9449) at the authorization server.
//
// At the token endpoint a request may carry one DPoP proof; when it does
// and the proof is good, the access token is bound to the proof's key
// (token_type DPoP, cnf.jkt), and so is a public client's refresh token,
// which then works only with a proof of the same key. A DPoP-required
// client must always send a proof. /userinfo and the account and admin
// APIs take "Authorization: DPoP <token>" with a proof for a bound token,
// and refuse a bound token sent as a bearer token.

// NewDPoPVerifier builds the proof verifier of the server: proofs within
// dpop.proof_window, nonces from the secret key (so replicas agree) or,
// without one, from a random secret of this process, and the replay
// cache given (in memory when nil).
func NewDPoPVerifier(cfg *config.Server, key *secret.Key, replay dpop.ReplayCache, clk clock.Clock) (*dpop.Verifier, error) {
	var nonceSecret []byte
	if key != nil {
		nonceSecret = key.Derive("dpop nonce")
	} else {
		nonceSecret = make([]byte, 32)
		if _, err := rand.Read(nonceSecret); err != nil {
			return nil, err
		}
	}
	nonces, err := dpop.NewNonces(nonceSecret, time.Duration(cfg.DPoP.NonceWindow), clk)
	if err != nil {
		return nil, err
	}
	if replay == nil {
		replay = dpop.NewMemoryReplayCache(0, clk)
	}
	return dpop.NewVerifier(dpop.Config{
		Window:       time.Duration(cfg.DPoP.ProofWindow),
		Clock:        clk,
		Replay:       replay,
		Nonces:       nonces,
		RequireNonce: cfg.DPoP.RequireNonce,
	})
}

// tokenProof checks the DPoP proof of a token request and returns the
// thumbprint of its key, or "" when the request has none (and the client
// does not require one). RFC 9449 §5: the proof's htu is the token
// endpoint's URL as published in the metadata.
func (e *Endpoints) tokenProof(r *http.Request, c *storage.Client) (string, error) {
	proof, ok, err := dpop.FromHeader(r.Header)
	if err != nil {
		return "", e.dpopError(err)
	}
	if !ok {
		if c.DPoPRequired {
			return "", protocol.Errorf(protocol.ErrInvalidDPoPProof,
				"client %q must send a DPoP proof with every token request (RFC 9449); make a proof for POST %s", c.ID, e.issuer+PathToken)
		}
		return "", nil
	}
	p, err := e.dpop.Verify(r.Context(), proof, dpop.Request{Method: r.Method, URL: e.issuer + PathToken})
	if err != nil {
		return "", e.dpopError(err)
	}
	return p.JKT, nil
}

// dpopError turns a refused proof into the OAuth error to answer with; a
// use_dpop_nonce error carries a fresh nonce for the DPoP-Nonce header.
func (e *Endpoints) dpopError(err error) *protocol.Error {
	var de *dpop.Error
	if !errors.As(err, &de) {
		return protocol.AsError(err)
	}
	pe := protocol.NewError(de.Code, de.Description)
	if de.Code == dpop.CodeUseNonce {
		pe.DPoPNonce = e.dpop.Nonces().Nonce()
	}
	return pe
}

// Presented is the access token of a request to one of the server's own
// protected resources, and how it came.
type Presented struct {
	Token string
	DPoP  bool // "Authorization: DPoP", else Bearer
}

// PresentedToken reads "Authorization: Bearer <token>" (RFC 6750 §2.1)
// or "Authorization: DPoP <token>" (RFC 9449 §7.1).
func PresentedToken(r *http.Request) (Presented, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !ok || tok == "" {
		return Presented{}, false
	}
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		return Presented{Token: tok}, true
	case strings.EqualFold(scheme, "DPoP"):
		return Presented{Token: tok, DPoP: true}, true
	}
	return Presented{}, false
}

// checkBinding applies RFC 9449 §7 to a verified access token presented
// to the server's own resources: a bound token (cnf.jkt) must come with
// the DPoP scheme and a proof of its key for this request (htm, htu, ath,
// iat, jti), and an unbound one must not claim the DPoP scheme.
func (e *Endpoints) checkBinding(r *http.Request, p Presented, claims *AccessClaims) *protocol.Error {
	bound := claims.Cnf != nil && claims.Cnf.JKT != ""
	switch {
	case bound && !p.DPoP:
		// RFC 9449 §7.2: a DPoP-bound token sent as a bearer token is
		// refused.
		return protocol.NewError(protocol.ErrInvalidToken, "the access token is DPoP-bound: send it as \"Authorization: DPoP\" with a DPoP proof")
	case !bound && p.DPoP:
		return protocol.NewError(protocol.ErrInvalidToken, "the access token is not DPoP-bound: send it as a Bearer token")
	case !bound:
		return nil
	}
	_, err := e.dpop.VerifyRequest(r, e.requestURL(r), p.Token, claims.Cnf.JKT)
	if err != nil {
		return e.dpopError(err).WithStatus(http.StatusUnauthorized)
	}
	return nil
}

// requestURL is the URI of r as clients address it: the issuer's scheme
// and host (the public URL, whatever proxy is in front) and r's path,
// which carries the issuer's base path.
func (e *Endpoints) requestURL(r *http.Request) string {
	u, err := url.Parse(e.issuer)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host + r.URL.EscapedPath()
}

// writeResourceError answers a request to a protected resource of the
// server: the WWW-Authenticate challenge is DPoP (with the accepted
// algorithms) when the token was sent with the DPoP scheme or the error is
// a DPoP one, else Bearer (RFC 6750 §3, RFC 9449 §7.1).
func (e *Endpoints) writeResourceError(w http.ResponseWriter, p Presented, pe *protocol.Error) {
	if !p.DPoP && pe.Code != protocol.ErrInvalidDPoPProof && pe.Code != protocol.ErrUseDPoPNonce && !strings.Contains(pe.Description, "DPoP-bound") {
		respond.BearerError(w, pe)
		return
	}
	if pe.Status == 0 && (pe.Code == protocol.ErrInvalidDPoPProof || pe.Code == protocol.ErrUseDPoPNonce) {
		pe = pe.WithStatus(http.StatusUnauthorized)
	}
	v := fmt.Sprintf(`DPoP algs="%s"`, strings.Join(e.dpop.Algorithms(), " "))
	if pe.Code != "" {
		v += `, error="` + pe.Code + `"`
	}
	if pe.Description != "" {
		v += `, error_description="` + respond.HeaderValue(pe.Description) + `"`
	}
	w.Header().Set("WWW-Authenticate", v)
	if pe.DPoPNonce != "" {
		w.Header().Set(dpop.NonceHeader, pe.DPoPNonce)
	}
	respond.JSON(w, pe.HTTPStatus(), pe)
}
