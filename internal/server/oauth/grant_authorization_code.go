package oauth

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// validVerifier checks RFC 7636 §4.1: code-verifier = 43*128unreserved,
// unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~". (A loop rather than
// a regexp: compiling {43,128} at package initialisation cost every
// gatehouse process, client commands included, a tenth of a millisecond.)
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

var errCodeReplayed = errors.New("authorization code replayed")

// grantAuthorizationCode implements RFC 6749 §4.1.3 with PKCE (RFC 7636).
// jkt is the thumbprint of the request's DPoP proof key ("" without one).
func (e *Endpoints) grantAuthorizationCode(r *http.Request, c *storage.Client, jkt string) (*protocol.TokenResponse, error) {
	if err := requireGrantType(c, protocol.GrantAuthorizationCode); err != nil {
		return nil, err
	}
	code := r.PostForm.Get("code")
	if code == "" {
		return nil, protocol.NewError(protocol.ErrInvalidRequest, "code is required")
	}
	redirectURI := r.PostForm.Get("redirect_uri")
	verifier := r.PostForm.Get("code_verifier")
	now := e.clock.Now()
	grantID := secret.NewID()

	var redeemed storage.AuthCode
	var replayedGrant string
	err := e.store.UpdateAuthCode(r.Context(), secret.Hash(code), func(ac *storage.AuthCode) error {
		replayedGrant = ""
		if ac.ClientID != c.ID {
			// RFC 6749 §4.1.3: the code must have been issued to the
			// authenticated client.
			return protocol.NewError(protocol.ErrInvalidGrant, "invalid authorization code")
		}
		if ac.Redeemed {
			// RFC 6749 §4.1.2: a code used twice must be refused, and
			// the server SHOULD revoke the tokens it issued.
			replayedGrant = ac.GrantID
			return errCodeReplayed
		}
		if !now.Before(ac.ExpiresAt) {
			return protocol.NewError(protocol.ErrInvalidGrant, "authorization code expired")
		}
		// RFC 6749 §4.1.3: redirect_uri is required if it was included
		// in the authorization request, and the values must be identical.
		if ac.RedirectURI != redirectURI {
			return protocol.NewError(protocol.ErrInvalidGrant, "redirect_uri does not match the authorization request")
		}
		if err := checkPKCE(ac, verifier); err != nil {
			return err
		}
		// RFC 9449 §10: a code requested with dpop_jkt is redeemed only
		// with a proof of that key. Checked before the code is spent.
		if ac.DPoPJKT != "" && ac.DPoPJKT != jkt {
			if jkt == "" {
				return protocol.NewError(protocol.ErrInvalidDPoPProof, "the authorization request named a DPoP key (dpop_jkt): send a DPoP proof of that key")
			}
			return protocol.NewError(protocol.ErrInvalidDPoPProof, "the DPoP proof's key is not the dpop_jkt of the authorization request")
		}
		if len(ac.Resources) == 0 {
			ac.Resources = e.defaultAudience(c) // a code issued before resources were stored
		}
		// Checked before the code is spent (RFC 8707 §2.2).
		if _, err := narrowResources(ac.Resources, ResourceParams(r.PostForm)); err != nil {
			return err
		}
		ac.Redeemed = true
		ac.GrantID = grantID
		redeemed = *ac
		return nil
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, protocol.NewError(protocol.ErrInvalidGrant, "invalid authorization code")
	case errors.Is(err, errCodeReplayed):
		e.audit.Log(audit.Event{Type: audit.CodeReplay, Outcome: "failure", ClientID: c.ID, IP: e.clientIP(r),
			Reason: "authorization code used twice; tokens issued from it revoked"})
		if replayedGrant != "" {
			if rerr := e.store.RevokeGrant(r.Context(), replayedGrant, now); rerr != nil && !errors.Is(rerr, storage.ErrNotFound) {
				return nil, fmt.Errorf("revoke replayed grant: %w", rerr)
			}
		}
		return nil, protocol.NewError(protocol.ErrInvalidGrant, "invalid authorization code")
	case err != nil:
		return nil, err
	}

	u, err := e.activeUser(r, redeemed.UserID)
	if err != nil {
		return nil, err
	}
	g, err := e.newGrant(r.Context(), grantID, c, u.ID, redeemed.Scopes, redeemed.Resources, redeemed.AuthTime)
	if err != nil {
		return nil, err
	}
	return e.issueForGrant(r.Context(), r, c, u, g, redeemed.Nonce, jkt)
}

// checkPKCE verifies code_verifier against the stored challenge
// (RFC 7636 §4.6) and refuses a PKCE downgrade: a verifier for a code that
// was issued without a challenge (RFC 9700 §4.8.2).
func checkPKCE(ac *storage.AuthCode, verifier string) error {
	if ac.CodeChallenge == "" {
		if verifier != "" {
			return protocol.NewError(protocol.ErrInvalidGrant, "code_verifier sent for a code issued without code_challenge")
		}
		return nil
	}
	if verifier == "" {
		return protocol.NewError(protocol.ErrInvalidGrant, "code_verifier is required")
	}
	if !validVerifier(verifier) {
		return protocol.NewError(protocol.ErrInvalidGrant, "code_verifier is malformed")
	}
	if ac.CodeChallengeMethod != protocol.CodeChallengeS256 {
		return protocol.NewError(protocol.ErrInvalidGrant, "unsupported code_challenge_method")
	}
	sum := sha256.Sum256([]byte(verifier))
	if !secret.Equal(base64.RawURLEncoding.EncodeToString(sum[:]), ac.CodeChallenge) {
		return protocol.NewError(protocol.ErrInvalidGrant, "code_verifier does not match code_challenge")
	}
	return nil
}

// activeUser loads the user a grant is for; a deleted or disabled user gets
// no more tokens.
func (e *Endpoints) activeUser(r *http.Request, id string) (*storage.User, error) {
	u, err := e.store.GetUser(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, protocol.NewError(protocol.ErrInvalidGrant, "the user no longer exists")
	}
	if err != nil {
		return nil, fmt.Errorf("load user: %w", err)
	}
	if u.Disabled {
		return nil, protocol.NewError(protocol.ErrInvalidGrant, "the user is disabled")
	}
	return u, nil
}
