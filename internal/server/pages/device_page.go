package pages

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/server/webpage"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// The device verification page (RFC 8628 §3.3): the signed-in user types
// the code their device shows, sees which client asks for what, and
// approves or denies.
//
// RFC 8628 §5.1: user codes are guessable, so "the authorization server
// ... SHOULD implement rate limiting"; entry is limited per client IP and
// per user. RFC 8628 §5.4 (remote phishing): a code always leads to a
// confirmation screen naming the client, even when it arrived prefilled in
// a link, so following a link alone never approves anything.

// limitDeviceUser limits code entry per signed-in user, at the per-IP rate.
const limitDeviceUser = "device-user"

// maxUserCodeLen bounds what is looked up; real codes are 8 characters.
const maxUserCodeLen = 64

const msgInvalidUserCode = "Invalid or expired code. Check the code on your device and try again."

// errDeviceCodeGone is returned from the update closure when the code is
// no longer pending.
var errDeviceCodeGone = errors.New("server: device code not pending")

// devicePage is the data of the code entry form.
type devicePage struct {
	page
	Username string
	UserCode string
	Error    string
}

// deviceConfirmPage is the data of the approval screen.
type deviceConfirmPage struct {
	page
	Username   string
	UserCode   string
	ClientName string
	ClientID   string
	Scopes     []scopeView
}

// deviceDonePage is the data of the final page.
type deviceDonePage struct {
	page
	Message string
}

// deviceURL is the device page with an optional prefilled code.
func (pg *Pages) deviceURL(userCode string) string {
	if userCode == "" {
		return pg.at(PathDevice)
	}
	return pg.at(PathDevice) + "?" + url.Values{"user_code": {userCode}}.Encode()
}

// formatUserCode shows a normalised code the way NewUserCode makes it.
func formatUserCode(c string) string {
	if len(c) == secret.UserCodeLength {
		return c[:4] + "-" + c[4:]
	}
	return c
}

func (pg *Pages) handleDevicePage(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("user_code")
	if len(code) > maxUserCodeLen {
		code = ""
	}
	u, _, err := pg.sessions.CurrentUser(r)
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	if u == nil {
		webpage.Redirect(w, pg.loginURL(pg.deviceURL(code), false), http.StatusFound)
		return
	}
	pg.renderDeviceForm(w, r, http.StatusOK, devicePage{Username: u.Username, UserCode: code})
}

func (pg *Pages) renderDeviceForm(w http.ResponseWriter, r *http.Request, status int, d devicePage) {
	d.page = page{Title: "Connect a device", CSRF: pg.sessions.CSRFToken(w, r)}
	pg.pages.Render(w, status, pageDevice, d)
}

func (pg *Pages) handleDeviceSubmit(w http.ResponseWriter, r *http.Request) {
	if !pg.sessions.ParsePostForm(w, r) {
		return
	}
	ctx := r.Context()
	typed := r.PostFormValue("user_code")
	if len(typed) > maxUserCodeLen {
		typed = typed[:maxUserCodeLen]
	}
	u, sess, err := pg.sessions.CurrentUser(r)
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	if u == nil {
		webpage.Redirect(w, pg.loginURL(pg.deviceURL(typed), false), http.StatusSeeOther)
		return
	}
	ip := pg.clientIP(r)
	for _, l := range []struct{ prefix, subject string }{{LimitDeviceIP, ip}, {limitDeviceUser, u.ID}} {
		res, err := pg.allow(ctx, l.prefix, l.subject, pg.cfg.Limits.DeviceEntryPerIP)
		if err != nil {
			pg.log.Error("device rate limiter failed", "err", err)
			pg.pages.Error(w, r, http.StatusServiceUnavailable, "Try again later",
				"The device page is temporarily unavailable. Please try again in a moment.")
			return
		}
		if !res.Allowed {
			pg.audit.Log(audit.Event{Type: audit.RateLimited, Outcome: audit.Failure, Actor: "user:" + u.ID,
				UserID: u.ID, Username: u.Username, IP: ip, Reason: l.prefix})
			pg.pages.TooMany(w, r, oauth.TooManyRequests(res).RetryAfter)
			return
		}
	}

	invalid := func() {
		pg.renderDeviceForm(w, r, http.StatusBadRequest, devicePage{Username: u.Username, UserCode: typed, Error: msgInvalidUserCode})
	}
	code := secret.NormalizeUserCode(typed)
	if code == "" {
		invalid()
		return
	}
	dc, err := pg.store.GetDeviceCodeByUserCode(ctx, code)
	if errors.Is(err, storage.ErrNotFound) {
		invalid()
		return
	}
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	now := pg.clock.Now()
	if dc.Status != storage.DeviceStatusPending || !now.Before(dc.ExpiresAt) {
		invalid()
		return
	}
	client, err := pg.store.GetClient(ctx, dc.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		invalid()
		return
	}
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}

	var status, msg, evType string
	switch r.PostFormValue("decision") {
	case "approve":
		status, msg, evType = storage.DeviceStatusApproved, "Device approved", audit.DeviceApproved
	case "deny":
		status, msg, evType = storage.DeviceStatusDenied, "Request denied", audit.DeviceDenied
	default:
		pg.pages.Render(w, http.StatusOK, pageDeviceConfirm, deviceConfirmPage{
			page:       page{Title: "Approve this device?", CSRF: pg.sessions.CSRFToken(w, r)},
			Username:   u.Username,
			UserCode:   formatUserCode(code),
			ClientName: clientDisplayName(client),
			ClientID:   client.ID,
			Scopes:     scopeViews(dc.Scopes),
		})
		return
	}

	err = pg.store.UpdateDeviceCode(ctx, dc.Hash, func(d *storage.DeviceCode) error {
		// Only a pending, unexpired code moves, exactly once.
		if d.Status != storage.DeviceStatusPending || !now.Before(d.ExpiresAt) {
			return errDeviceCodeGone
		}
		d.Status = status
		if status == storage.DeviceStatusApproved {
			d.UserID = u.ID
			d.AuthTime = sess.AuthTime
		}
		return nil
	})
	if errors.Is(err, errDeviceCodeGone) || errors.Is(err, storage.ErrNotFound) {
		invalid()
		return
	}
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	pg.audit.Log(audit.Event{Type: evType, Outcome: audit.Success, Actor: "user:" + u.ID,
		UserID: u.ID, Username: u.Username, ClientID: client.ID, IP: ip})
	pg.pages.Render(w, http.StatusOK, pageDeviceDone, deviceDonePage{page: page{Title: msg}, Message: deviceDoneMessage(status)})
}

func deviceDoneMessage(status string) string {
	if status == storage.DeviceStatusApproved {
		return "The device is now signed in as you."
	}
	return "Nothing was shared with the device."
}
