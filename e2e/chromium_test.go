package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/internal/chromiumtest"
)

// The same logins as the HTTP-browser tests, through a real headless
// Chromium: it enforces what the HTTP client does not (Content-Security-
// Policy form-action across the redirect to the client, SameSite cookies,
// Sec-Fetch-* and Origin headers seen by the cross-origin protection).

// browserDo runs steps in the tab with a time limit.
func browserDo(ctx context.Context, steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return chromedp.Do(ctx, steps...)
}

// browserLocation is the tab's current URL, for error messages.
func browserLocation(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return fmt.Sprintf("(location unknown: %v)", err)
	}
	return loc
}

// loopbackCallback is a client's loopback redirect endpoint
// (http://127.0.0.1:PORT/callback) that records the authorization
// responses it receives.
type loopbackCallback struct {
	URL string
	got chan url.Values
}

func startLoopbackCallback(t *testing.T) *loopbackCallback {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cb := &loopbackCallback{URL: "http://" + ln.Addr().String() + "/callback", got: make(chan url.Values, 8)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		select {
		case cb.got <- r.URL.Query():
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>Signed in</title><h1 id="done">Signed in. You may close this window.</h1>`)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return cb
}

// wait returns the next authorization response, or nil after timeout.
func (cb *loopbackCallback) wait(timeout time.Duration) url.Values {
	select {
	case q := <-cb.got:
		return q
	case <-time.After(timeout):
		return nil
	}
}

// browserLogin fills in and submits the login form shown in the tab.
func browserLogin(ctx context.Context, user, pass string) error {
	return browserDo(ctx,
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), pass),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
	)
}

func TestChromium(t *testing.T) {
	t.Parallel()
	ctx := chromiumtest.New(t)
	g := startServer(t)
	p, _ := discover(t, t.Context(), g)
	cb := startLoopbackCallback(t)
	cfg := cliConfig(p, cb.URL)

	t.Run("authorization code", func(t *testing.T) {
		ar := newAuthRequest(cfg)
		if err := browserDo(ctx, chromedp.Navigate(ar.URL)); err != nil {
			t.Fatalf("open the authorization URL: %v", err)
		}
		if err := browserLogin(ctx, "admin", adminPassword); err != nil {
			t.Fatalf("login form at %s: %v", browserLocation(ctx), err)
		}
		q := cb.wait(20 * time.Second)
		if q == nil {
			t.Fatalf("the loopback callback got no request; browser at %s", browserLocation(ctx))
		}
		code := checkCallback(t, q, ar, g.URL)
		// The browser shows the client's page, not an error.
		if err := browserDo(ctx, chromedp.WaitVisible(chromedp.ID("done"))); err != nil {
			t.Errorf("callback page not shown: %v (at %s)", err, browserLocation(ctx))
		}
		tok, err := cfg.Exchange(t.Context(), code, oauth2.VerifierOption(ar.Verifier))
		if err != nil {
			t.Fatalf("code exchange: %v", err)
		}
		_, idc := verifyIDToken(t, t.Context(), p, tok, cliClientID, ar.Nonce)
		if idc.Username != "admin" {
			t.Errorf("ID token preferred_username = %q, want admin", idc.Username)
		}
		verifyAccessToken(t, t.Context(), p, g, tok.AccessToken)
	})

	t.Run("device", func(t *testing.T) {
		da := deviceAuth(t, t.Context(), g, cfg)
		tok, err := pollWhileBrowsing(t.Context(), cfg, da, func() error {
			// verification_uri_complete carries the code; the user still
			// has to confirm it (RFC 8628 §5.4).
			if err := browserDo(ctx, chromedp.Navigate(da.VerificationURIComplete)); err != nil {
				return fmt.Errorf("open %s: %w", da.VerificationURIComplete, err)
			}
			if strings.Contains(browserLocation(ctx), "/login") {
				// Not signed in yet (the first subtest failed early).
				if err := browserLogin(ctx, "admin", adminPassword); err != nil {
					return fmt.Errorf("login: %w", err)
				}
			}
			if err := browserDo(ctx, chromedp.WaitVisible(chromedp.ID("user_code"))); err != nil {
				return fmt.Errorf("device page at %s: %w", browserLocation(ctx), err)
			}
			ctx2, cancel := context.WithTimeout(ctx, 10*time.Second)
			prefilled, err := chromedp.Run(ctx2, chromedp.Value(chromedp.ID("user_code")))
			cancel()
			if err != nil {
				return err
			}
			if prefilled != da.UserCode {
				return fmt.Errorf("device page prefilled %q, want %q", prefilled, da.UserCode)
			}
			approve := chromedp.CSS(`button[name="decision"][value="approve"]`)
			if err := browserDo(ctx,
				chromedp.Click(chromedp.CSS(`form[action="/device"] button[type="submit"]`)),
				chromedp.WaitVisible(approve),
				chromedp.Click(approve),
				chromedp.WaitNotPresent(approve),
			); err != nil {
				return fmt.Errorf("confirm at %s: %w", browserLocation(ctx), err)
			}
			ctx3, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			title, err := chromedp.Run(ctx3, chromedp.Text(chromedp.CSS("h1")))
			if err != nil {
				return err
			}
			if !strings.Contains(strings.ToLower(title), "approved") {
				return errors.New("after approving, the page says " + title)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("device flow through Chromium: %v", err)
		}
		at := verifyAccessToken(t, t.Context(), p, g, tok.AccessToken)
		if at.Username != "admin" {
			t.Errorf("device flow token preferred_username = %q, want admin", at.Username)
		}
	})
}
