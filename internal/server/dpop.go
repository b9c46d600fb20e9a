package server

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

// newDPoPVerifier builds the proof verifier of the server: proofs within
// dpop.proof_window, nonces from the secret key (so replicas agree) or,
// without one, from a random secret of this process, and the replay
// cache given (in memory when nil).
func newDPoPVerifier(cfg *config.Server, key *secret.Key, replay dpop.ReplayCache, clk clock.Clock) (*dpop.Verifier, error) {
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
func (s *Server) tokenProof(r *http.Request, c *storage.Client) (string, error) {
	proof, ok, err := dpop.FromHeader(r.Header)
	if err != nil {
		return "", s.dpopError(err)
	}
	if !ok {
		if c.DPoPRequired {
			return "", protocol.Errorf(protocol.ErrInvalidDPoPProof,
				"client %q must send a DPoP proof with every token request (RFC 9449); make a proof for POST %s", c.ID, s.issuer+PathToken)
		}
		return "", nil
	}
	p, err := s.dpop.Verify(r.Context(), proof, dpop.Request{Method: r.Method, URL: s.issuer + PathToken})
	if err != nil {
		return "", s.dpopError(err)
	}
	return p.JKT, nil
}

// dpopError turns a refused proof into the OAuth error to answer with; a
// use_dpop_nonce error carries a fresh nonce for the DPoP-Nonce header.
func (s *Server) dpopError(err error) *protocol.Error {
	var de *dpop.Error
	if !errors.As(err, &de) {
		return protocol.AsError(err)
	}
	pe := protocol.NewError(de.Code, de.Description)
	if de.Code == dpop.CodeUseNonce {
		pe.DPoPNonce = s.dpop.Nonces().Nonce()
	}
	return pe
}

// presented is the access token of a request to one of the server's own
// protected resources, and how it came.
type presented struct {
	token string
	dpop  bool // "Authorization: DPoP", else Bearer
}

// presentedToken reads "Authorization: Bearer <token>" (RFC 6750 §2.1)
// or "Authorization: DPoP <token>" (RFC 9449 §7.1).
func presentedToken(r *http.Request) (presented, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !ok || tok == "" {
		return presented{}, false
	}
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		return presented{token: tok}, true
	case strings.EqualFold(scheme, "DPoP"):
		return presented{token: tok, dpop: true}, true
	}
	return presented{}, false
}

// checkBinding applies RFC 9449 §7 to a verified access token presented
// to the server's own resources: a bound token (cnf.jkt) must come with
// the DPoP scheme and a proof of its key for this request (htm, htu, ath,
// iat, jti), and an unbound one must not claim the DPoP scheme.
func (s *Server) checkBinding(r *http.Request, p presented, claims *AccessClaims) *protocol.Error {
	bound := claims.Cnf != nil && claims.Cnf.JKT != ""
	switch {
	case bound && !p.dpop:
		// RFC 9449 §7.2: a DPoP-bound token sent as a bearer token is
		// refused.
		return protocol.NewError(protocol.ErrInvalidToken, "the access token is DPoP-bound: send it as \"Authorization: DPoP\" with a DPoP proof")
	case !bound && p.dpop:
		return protocol.NewError(protocol.ErrInvalidToken, "the access token is not DPoP-bound: send it as a Bearer token")
	case !bound:
		return nil
	}
	_, err := s.dpop.VerifyRequest(r, s.requestURL(r), p.token, claims.Cnf.JKT)
	if err != nil {
		return s.dpopError(err).WithStatus(http.StatusUnauthorized)
	}
	return nil
}

// requestURL is the URI of r as clients address it: the issuer's scheme
// and host (the public URL, whatever proxy is in front) and r's path,
// which carries the issuer's base path.
func (s *Server) requestURL(r *http.Request) string {
	u, err := url.Parse(s.issuer)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host + r.URL.EscapedPath()
}

// writeResourceError answers a request to a protected resource of the
// server: the WWW-Authenticate challenge is DPoP (with the accepted
// algorithms) when the token was sent with the DPoP scheme or the error is
// a DPoP one, else Bearer (RFC 6750 §3, RFC 9449 §7.1).
func (s *Server) writeResourceError(w http.ResponseWriter, p presented, pe *protocol.Error) {
	if !p.dpop && pe.Code != protocol.ErrInvalidDPoPProof && pe.Code != protocol.ErrUseDPoPNonce && !strings.Contains(pe.Description, "DPoP-bound") {
		writeBearerError(w, pe)
		return
	}
	if pe.Status == 0 && (pe.Code == protocol.ErrInvalidDPoPProof || pe.Code == protocol.ErrUseDPoPNonce) {
		pe = pe.WithStatus(http.StatusUnauthorized)
	}
	v := fmt.Sprintf(`DPoP algs="%s"`, strings.Join(s.dpop.Algorithms(), " "))
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
	writeJSON(w, pe.HTTPStatus(), pe)
}
