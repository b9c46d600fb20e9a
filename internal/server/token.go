package server

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
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

// handleToken is the token endpoint (RFC 6749 §3.2).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	resp, c, err := s.token(w, r)
	if err != nil {
		pe := protocol.AsError(err)
		s.metrics.tokenError(pe.Code)
		if pe.Code != protocol.ErrAuthorizationPending && pe.Code != protocol.ErrSlowDown && pe.Code != protocol.ErrServerError {
			ev := audit.Event{Type: audit.TokenRefused, Outcome: "failure", IP: s.clientIP(r),
				Reason: pe.Error(), Details: map[string]string{"grant_type": r.PostForm.Get("grant_type")}}
			if c != nil {
				ev.ClientID = c.ID
			}
			s.audit.Log(ev)
		}
		s.writeError(w, r, err)
		return
	}
	if s.cfg.DPoP.RequireNonce {
		// RFC 9449 §8.2: a fresh nonce with every response, so a client
		// keeps one without another round trip.
		w.Header().Set(dpop.NonceHeader, s.dpop.Nonces().Nonce())
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) (*protocol.TokenResponse, *storage.Client, error) {
	if err := parsePostForm(w, r); err != nil {
		return nil, nil, err
	}
	ip := s.clientIP(r)
	c, err := s.authenticateClient(r)
	if err != nil {
		var pe *protocol.Error
		if errors.As(err, &pe) && pe.Code == protocol.ErrInvalidClient {
			// Failed client authentications are limited per IP
			// (SECURITY-CASES 30).
			if res, lerr := s.allow(r.Context(), limitClientAuth, ip, s.cfg.Limits.LoginPerIP); lerr == nil && !res.Allowed {
				return nil, nil, tooManyRequests(res)
			}
		}
		return nil, nil, err
	}
	if res, err := s.allow(r.Context(), limitTokenClient, c.ID, s.cfg.Limits.TokenPerClient); err == nil && !res.Allowed {
		return nil, c, tooManyRequests(res)
	}
	// Fail closed before anything is spent (a code, a refresh token)
	// while the audit trail cannot take the token.issued event.
	if !s.cfg.Audit.FailOpen && !s.audit.Healthy() {
		return nil, c, audit.ErrUnavailable
	}
	// RFC 9449 §5: a DPoP proof binds what the grant issues to its key;
	// checked before any grant spends a code or a refresh token.
	jkt, err := s.tokenProof(r, c)
	if err != nil {
		return nil, c, err
	}
	gt := r.PostForm.Get("grant_type")
	var resp *protocol.TokenResponse
	switch gt {
	case protocol.GrantClientCredentials:
		resp, err = s.grantClientCredentials(r, c, jkt)
	case protocol.GrantAuthorizationCode:
		resp, err = s.grantAuthorizationCode(r, c, jkt)
	case protocol.GrantRefreshToken:
		resp, err = s.grantRefreshToken(r, c, jkt)
	case protocol.GrantDeviceCode:
		resp, err = s.grantDeviceCode(r, c, jkt)
	case "":
		err = protocol.NewError(protocol.ErrInvalidRequest, "grant_type is required")
	default:
		// The password grant (ROPC) is deliberately not offered
		// (RFC 9700 §2.4).
		err = protocol.Errorf(protocol.ErrUnsupportedGrantType, "grant type %q is not supported", gt)
	}
	if err != nil {
		return nil, c, err
	}
	// No token is acknowledged whose event a crash could lose
	// (SECURITY-CASES 71): wait for the event's group commit.
	actx, cancel := context.WithTimeout(r.Context(), time.Duration(s.cfg.Audit.Timeout))
	defer cancel()
	if err := s.audit.Record(actx, audit.Event{Type: audit.TokenIssued, Outcome: "success", ClientID: c.ID, IP: ip,
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
