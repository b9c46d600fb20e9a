package oauth

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/server/respond"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// parsePostForm reads an application/x-www-form-urlencoded body of bounded
// size. Parameters are read from the body only; the query string does not
// count (RFC 6749 §3.2).
func parsePostForm(w http.ResponseWriter, r *http.Request) error {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return protocol.NewError(protocol.ErrInvalidRequest, "the request body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return protocol.NewError(protocol.ErrInvalidRequest, "malformed form body")
	}
	// RFC 6749 §3.2: parameters sent without a value are treated as
	// omitted; parameters must not be repeated — except resource, which
	// RFC 8707 §2 lets a client send several times.
	for k, v := range r.PostForm {
		if len(v) > 1 && k != "resource" {
			return protocol.Errorf(protocol.ErrInvalidRequest, "parameter %q is repeated", k)
		}
	}
	return nil
}

// authenticateClientLimited is authenticateClient with the token
// endpoint's limits: failed authentications per IP (SECURITY-CASES 30) and
// requests per client. A client over its limit comes back with the error.
func (e *Endpoints) authenticateClientLimited(r *http.Request) (*storage.Client, error) {
	c, err := e.authenticateClient(r)
	if err != nil {
		var pe *protocol.Error
		if errors.As(err, &pe) && pe.Code == protocol.ErrInvalidClient {
			if res, lerr := e.allow(r.Context(), LimitClientAuthIP, e.clientIP(r), e.cfg.Limits.LoginPerIP); lerr == nil && !res.Allowed {
				return nil, TooManyRequests(res)
			}
		}
		return nil, err
	}
	if res, err := e.allow(r.Context(), LimitTokenClient, c.ID, e.cfg.Limits.TokenPerClient); err == nil && !res.Allowed {
		return c, TooManyRequests(res)
	}
	return c, nil
}

// handleToken is the token endpoint (RFC 6749 §3.2).
func (e *Endpoints) handleToken(w http.ResponseWriter, r *http.Request) {
	resp, c, err := e.token(w, r)
	if err != nil {
		pe := protocol.AsError(err)
		e.tokenRefused(pe.Code)
		if pe.Code != protocol.ErrAuthorizationPending && pe.Code != protocol.ErrSlowDown && pe.Code != protocol.ErrServerError {
			ev := audit.Event{Type: audit.TokenRefused, Outcome: "failure", IP: e.clientIP(r),
				Reason: pe.Error(), Details: map[string]string{"grant_type": r.PostForm.Get("grant_type")}}
			if c != nil {
				ev.ClientID = c.ID
			}
			e.audit.Log(ev)
		}
		e.writeError(w, r, err)
		return
	}
	if e.cfg.DPoP.RequireNonce {
		// RFC 9449 §8.2: a fresh nonce with every response, so a client
		// keeps one without another round trip.
		w.Header().Set(dpop.NonceHeader, e.dpop.Nonces().Nonce())
	}
	respond.JSON(w, http.StatusOK, resp)
}

func (e *Endpoints) token(w http.ResponseWriter, r *http.Request) (*protocol.TokenResponse, *storage.Client, error) {
	if err := parsePostForm(w, r); err != nil {
		return nil, nil, err
	}
	ip := e.clientIP(r)
	c, err := e.authenticateClientLimited(r)
	if err != nil {
		return nil, c, err // c is nil unless only its limit was hit
	}
	// Fail closed before anything is spent (a code, a refresh token)
	// while the audit trail cannot take the token.issued event.
	if !e.cfg.Audit.FailOpen && !e.audit.Healthy() {
		return nil, c, audit.ErrUnavailable
	}
	// RFC 9449 §5: a DPoP proof binds what the grant issues to its key;
	// checked before any grant spends a code or a refresh token.
	jkt, err := e.tokenProof(r, c)
	if err != nil {
		return nil, c, err
	}
	gt := r.PostForm.Get("grant_type")
	var resp *protocol.TokenResponse
	switch gt {
	case protocol.GrantClientCredentials:
		resp, err = e.grantClientCredentials(r, c, jkt)
	case protocol.GrantAuthorizationCode:
		resp, err = e.grantAuthorizationCode(r, c, jkt)
	case protocol.GrantRefreshToken:
		resp, err = e.grantRefreshToken(r, c, jkt)
	case protocol.GrantDeviceCode:
		resp, err = e.grantDeviceCode(r, c, jkt)
	case protocol.GrantPassword:
		// Only for clients an admin opened to terminal sign-in
		// (grant_password.go; RFC 9700 §2.4).
		resp, err = e.grantPassword(r, c, jkt)
	case protocol.GrantMFAOTP:
		resp, err = e.grantMFAOTP(r, c, jkt)
	case "":
		err = protocol.NewError(protocol.ErrInvalidRequest, "grant_type is required")
	default:
		err = protocol.Errorf(protocol.ErrUnsupportedGrantType, "grant type %q is not supported", gt)
	}
	if err != nil {
		return nil, c, err
	}
	// No token is acknowledged whose event a crash could lose
	// (SECURITY-CASES 71): wait for the event's group commit.
	actx, cancel := context.WithTimeout(r.Context(), time.Duration(e.cfg.Audit.Timeout))
	defer cancel()
	if err := e.audit.Record(actx, audit.Event{Type: audit.TokenIssued, Outcome: "success", ClientID: c.ID, IP: ip,
		Details: map[string]string{"grant_type": gt, "scope": resp.Scope}}); err != nil {
		return nil, c, err
	}
	return resp, c, nil
}

// requireGrantType refuses a grant the client is not registered for
// (RFC 6749 §5.2 unauthorized_client).
func requireGrantType(c *storage.Client, gt string) error {
	if !hasGrantType(c, gt) {
		return protocol.Errorf(protocol.ErrUnauthorizedClient, "client is not allowed to use the %s grant", gt)
	}
	return nil
}
