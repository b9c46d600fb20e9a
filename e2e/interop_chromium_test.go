package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-auth/gatehouse/internal/chromiumtest"
)

// TestInteropOpenIDClientChromium: the openid-client login of
// TestInteropOpenIDClient through a real headless Chromium, which also
// enforces the pages' Content-Security-Policy (form-action across the
// consent form's redirect to the client), SameSite cookies and the
// cross-origin checks, ending at the client's own loopback callback.
func TestInteropOpenIDClientChromium(t *testing.T) {
	t.Parallel()
	dir := nodeSuite(t)
	ctx := chromiumtest.New(t)
	g := startServer(t)
	addUser(t, g, interopUser, "viewer", interopPassword)
	cb := startLoopbackCallback(t)
	id, secret := createClient(t, g, "node-openid-client", "--grant", "authorization_code", "--grant", "refresh_token",
		"--redirect-uri", "http://127.0.0.1/callback", "--scope", "openid", "--scope", "profile", "--scope", "offline_access")

	authorize := func(s nodeStep) string {
		t.Helper()
		if err := browserDo(ctx, chromedp.Navigate(s.URL)); err != nil {
			t.Fatalf("open the authorization URL: %v", err)
		}
		if err := browserLogin(ctx, interopUser, interopPassword); err != nil {
			t.Fatalf("login form at %s: %v", browserLocation(ctx), err)
		}
		allow := chromedp.CSS(`button[name="decision"][value="allow"]`)
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if q := cb.wait(300 * time.Millisecond); q != nil {
				u := mustParse(cb.URL)
				u.RawQuery = q.Encode()
				return u.String()
			}
			if strings.Contains(browserLocation(ctx), "/oauth2/authorize") {
				c, cancel := context.WithTimeout(ctx, 2*time.Second)
				err := chromedp.Do(c, chromedp.WaitVisible(allow), chromedp.Click(allow))
				cancel()
				if err != nil {
					t.Logf("consent page at %s: %v", browserLocation(ctx), err)
				}
			}
		}
		t.Fatalf("the loopback callback got no request; browser at %s", browserLocation(ctx))
		return ""
	}
	var r struct {
		Iss           string     `json:"iss"`
		IDTokenClaims userClaims `json:"id_token_claims"`
		Userinfo      userClaims `json:"userinfo"`
		Refreshed     struct {
			Rotated bool `json:"rotated"`
		} `json:"refreshed"`
	}
	runNode(t, dir, scriptEnv(g, "CLIENT_ID="+id, "CLIENT_SECRET="+secret, "REDIRECT_URI="+cb.URL),
		authorize, &r, "openid-client.mjs", "authcode")
	if r.Iss != g.URL || r.IDTokenClaims.Username != interopUser || r.Userinfo.Subject != r.IDTokenClaims.Subject || !r.Refreshed.Rotated {
		t.Errorf("openid-client through Chromium: iss %q, ID token %+v, userinfo %+v, refresh rotated %v", r.Iss, r.IDTokenClaims, r.Userinfo, r.Refreshed.Rotated)
	}
}
