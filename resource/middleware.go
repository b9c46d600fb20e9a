package resource

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

type identityKey struct{}

// FromContext returns the Identity that Middleware put in ctx.
func FromContext(ctx context.Context) (*Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(*Identity)
	return id, ok && id != nil
}

// WithIdentity returns a copy of ctx carrying id, as Middleware does; it
// lets tests of handlers that use FromContext run without a token.
func WithIdentity(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// Middleware admits requests that carry a good credential in the
// Authorization header — a bearer token (RFC 6750 §2.1), or a DPoP-bound
// token with the DPoP scheme and a proof (RFC 9449 §7.1, see
// VerifyRequest) — and puts its Identity in the request context (see
// FromContext). Other requests are answered per RFC 6750 §3 with a
// WWW-Authenticate challenge (DPoP, with the accepted algs, when the
// request used the DPoP scheme or the token is bound):
//
//   - no credential, or another scheme: 401 without an error code, with
//     both a Bearer and a DPoP challenge;
//   - an empty one, or several Authorization headers: 400 invalid_request;
//   - a bad, expired or revoked one, or a bound one sent as Bearer: 401
//     invalid_token;
//   - a bound one whose proof is missing or bad: 401 invalid_dpop_proof;
//   - a good one without Config.RequiredScopes: 403 insufficient_scope;
//   - the issuer unreachable: 503 temporarily_unavailable.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	algs := `DPoP algs="` + strings.Join(v.proofs.Algorithms(), " ") + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, f := credentialOf(r)
		if f != nil {
			f.dpopAlgs = algs
			f.write(w)
			return
		}
		id, err := v.verifyCredential(r, c, v.requestURL(r))
		if err != nil {
			f := v.failureFor(err)
			if c.dpop || errors.Is(err, ErrBoundToken) || errors.Is(err, ErrInvalidProof) {
				f.dpop, f.dpopAlgs = true, algs
			}
			f.write(w)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithIdentity(r.Context(), id)))
	})
}

// RequireRoles returns middleware, to be placed after Verifier.Middleware,
// that answers 403 unless the caller has at least one of roles. It panics
// when roles is empty, since nothing could pass.
func RequireRoles(roles ...string) func(http.Handler) http.Handler {
	if len(roles) == 0 {
		panic("resource: RequireRoles needs at least one role")
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, ok := FromContext(r.Context())
			if !ok {
				missingCredential.write(w)
				return
			}
			for _, role := range roles {
				if id.HasRole(role) {
					next.ServeHTTP(w, r)
					return
				}
			}
			(&failure{status: http.StatusForbidden, code: protocol.ErrAccessDenied, desc: "The caller has none of the roles this resource requires"}).write(w)
		})
	}
}

// RequireScopes returns middleware, to be placed after
// Verifier.Middleware, that answers 403 insufficient_scope unless the
// caller was granted every one of scopes (RFC 6750 §3.1).
func RequireScopes(scopes ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, ok := FromContext(r.Context())
			if !ok {
				missingCredential.write(w)
				return
			}
			for _, s := range scopes {
				if !id.HasScope(s) {
					insufficientScope(scopes).write(w)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// failure is an error response of a protected resource (RFC 6750 §3).
type failure struct {
	status int
	code   string // empty: no error code (RFC 6750 §3.1, last paragraph)
	desc   string
	scope  string // the scope needed, for insufficient_scope
	// dpop makes the challenge a DPoP one (RFC 9449 §7.1); dpopAlgs is
	// its scheme and algs parameter, also added as a second challenge
	// to a request without credentials.
	dpop     bool
	dpopAlgs string
}

// missingCredential answers a request without a bearer credential. RFC
// 6750 §3.1: "If the request lacks any authentication information ..., the
// resource server SHOULD NOT include an error code or other error
// information."
var missingCredential = &failure{status: http.StatusUnauthorized}

func insufficientScope(scopes []string) *failure {
	return &failure{
		status: http.StatusForbidden,
		code:   protocol.ErrInsufficientScope,
		desc:   "The access token lacks a scope this resource requires",
		scope:  strings.Join(scopes, " "),
	}
}

// credentialOf reads the credential from "Authorization: Bearer <token>"
// (RFC 6750 §2.1) or "Authorization: DPoP <token>" (RFC 9449 §7.1); the
// scheme is case-insensitive (RFC 9110 §11.1).
func credentialOf(r *http.Request) (credential, *failure) {
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return credential{}, &failure{status: http.StatusUnauthorized}
	case 1:
	default:
		return credential{}, &failure{status: http.StatusBadRequest, code: protocol.ErrInvalidRequest, desc: "More than one Authorization header"}
	}
	scheme, rest, _ := strings.Cut(values[0], " ")
	var c credential
	switch {
	case strings.EqualFold(scheme, "Bearer"):
	case strings.EqualFold(scheme, dpop.TokenType):
		c.dpop = true
	default:
		return credential{}, &failure{status: http.StatusUnauthorized}
	}
	c.token = strings.Trim(rest, " ")
	if c.token == "" {
		return credential{}, &failure{status: http.StatusBadRequest, code: protocol.ErrInvalidRequest, desc: "The " + scheme + " credential is empty", dpop: c.dpop}
	}
	return c, nil
}

// failureFor maps a Verify error to a response. The descriptions are fixed
// texts: nothing from the request is echoed.
func (v *Verifier) failureFor(err error) *failure {
	switch {
	case errors.Is(err, ErrInsufficientScope):
		return insufficientScope(v.requiredScopes)
	case errors.Is(err, ErrUnavailable):
		return &failure{status: http.StatusServiceUnavailable, code: protocol.ErrTemporarilyUnavailable, desc: "The token issuer cannot be reached; try again later"}
	case errors.Is(err, ErrInvalidProof):
		return &failure{status: http.StatusUnauthorized, code: protocol.ErrInvalidDPoPProof, desc: "The DPoP proof is missing, invalid, replayed or not made with the token's key"}
	case errors.Is(err, ErrBoundToken):
		return &failure{status: http.StatusUnauthorized, code: protocol.ErrInvalidToken, desc: "The access token is DPoP-bound: send it with the DPoP scheme and a proof"}
	case errors.Is(err, ErrExpiredToken):
		return &failure{status: http.StatusUnauthorized, code: protocol.ErrInvalidToken, desc: "The access token expired"}
	default:
		return &failure{status: http.StatusUnauthorized, code: protocol.ErrInvalidToken, desc: "The access token is invalid"}
	}
}

// challenge is the WWW-Authenticate value (RFC 6750 §3, RFC 9449 §7.1).
func (f *failure) challenge() string {
	scheme := "Bearer"
	if f.dpop && f.dpopAlgs != "" {
		scheme = f.dpopAlgs + ","
	}
	if f.code == "" {
		return strings.TrimSuffix(scheme, ",")
	}
	c := scheme + ` error="` + f.code + `", error_description="` + f.desc + `"`
	if f.scope != "" {
		c += `, scope="` + f.scope + `"`
	}
	return c
}

func (f *failure) write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	switch f.status {
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", strconv.Itoa(int(MinJWKSRefetchInterval.Seconds())))
	case http.StatusBadRequest, http.StatusUnauthorized:
		h.Set("WWW-Authenticate", f.challenge())
		if f.code == "" && f.dpopAlgs != "" {
			// No credential: both schemes are offered (RFC 9449 §7.1).
			h.Add("WWW-Authenticate", f.dpopAlgs)
		}
	case http.StatusForbidden:
		if f.code == protocol.ErrInsufficientScope {
			h.Set("WWW-Authenticate", f.challenge())
		}
	}
	if f.code == "" {
		w.WriteHeader(f.status)
		return
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	_ = json.NewEncoder(w).Encode(protocol.Error{Code: f.code, Description: f.desc})
}
