package oauth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/respond"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// handleDeviceAuthorization is the device authorization endpoint
// (RFC 8628 §3.1, §3.2).
func (e *Endpoints) handleDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	resp, err := e.deviceAuthorization(w, r)
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, resp)
}

func (e *Endpoints) deviceAuthorization(w http.ResponseWriter, r *http.Request) (*protocol.DeviceAuthorizationResponse, error) {
	if err := parsePostForm(w, r); err != nil {
		return nil, err
	}
	c, err := e.authenticateClient(r)
	if err != nil {
		return nil, err
	}
	if err := requireGrantType(c, protocol.GrantDeviceCode); err != nil {
		return nil, err
	}
	if res, err := e.allow(r.Context(), LimitTokenClient, c.ID, e.cfg.Limits.TokenPerClient); err == nil && !res.Allowed {
		return nil, TooManyRequests(res)
	}
	if err := e.limitDeviceAuthorization(r, c); err != nil {
		return nil, err
	}
	scopes, err := resolveScopes(c, ParseScope(r.PostForm.Get("scope")))
	if err != nil {
		return nil, err
	}
	resources, err := e.ResolveResources(c, ResourceParams(r.PostForm))
	if err != nil {
		return nil, err
	}
	now := e.clock.Now().UTC()
	ttl := time.Duration(e.cfg.Tokens.DeviceCodeTTL)
	interval := time.Duration(e.cfg.Tokens.DeviceInterval)
	deviceCode := secret.NewToken()
	// A user code collision is possible but rare; try a few times.
	for range 5 {
		userCode := secret.NewUserCode()
		d := &storage.DeviceCode{
			Hash:      secret.Hash(deviceCode),
			UserCode:  secret.NormalizeUserCode(userCode),
			ClientID:  c.ID,
			Scopes:    scopes,
			Resources: resources,
			Status:    storage.DeviceStatusPending,
			Interval:  interval,
			CreatedAt: now,
			ExpiresAt: now.Add(ttl),
		}
		err := e.store.CreateDeviceCode(r.Context(), d)
		if errors.Is(err, storage.ErrAlreadyExists) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("create device code: %w", err)
		}
		verify := e.devicePage
		return &protocol.DeviceAuthorizationResponse{
			DeviceCode:              deviceCode,
			UserCode:                userCode,
			VerificationURI:         verify,
			VerificationURIComplete: verify + "?user_code=" + url.QueryEscape(userCode),
			ExpiresIn:               int64(ttl / time.Second),
			Interval:                int64(interval / time.Second),
		}, nil
	}
	return nil, errors.New("device authorization: could not allocate a unique user code")
}

// limitDeviceAuthorization counts a device authorization request per client
// address and per client: each one stores a device code, and the public
// CLI client needs no secret, so without these limits anyone could fill
// the table. A refused request is a 429 with Retry-After and an audit
// event. Like the token endpoint (and unlike login), a limiter failure lets
// the request through.
func (e *Endpoints) limitDeviceAuthorization(r *http.Request, c *storage.Client) error {
	ip := e.clientIP(r)
	for _, l := range []struct {
		prefix, subject string
		rate            config.Rate
	}{
		{LimitDeviceAuthIP, ip, e.cfg.Limits.DeviceAuthPerIP},
		{LimitDeviceAuthClient, c.ID, e.cfg.Limits.DeviceAuthPerClient},
	} {
		res, err := e.allow(r.Context(), l.prefix, l.subject, l.rate)
		if err != nil {
			e.log.Warn("device authorization rate limiter failed", "err", err)
			continue
		}
		if !res.Allowed {
			e.audit.Log(audit.Event{Type: audit.RateLimited, Outcome: audit.Failure, ClientID: c.ID, IP: ip, Reason: l.prefix})
			return TooManyRequests(res)
		}
	}
	return nil
}
