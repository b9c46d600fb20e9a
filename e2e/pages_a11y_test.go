package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/internal/chromiumtest"
)

// Every page of the server and the gateway, seen by a real Chromium at a
// desktop (1280×800) and a phone (390×844) size: axe-core, injected into
// the page, finds no violation of the WCAG 2.x A and AA rules at either
// size, and each is saved as a PNG screenshot into the directory named by
// GATEHOUSE_SCREENSHOT_DIR (CI keeps them as artifacts; unset, nothing is
// written).

// screenshotDirEnv names the directory the screenshots are written to.
const screenshotDirEnv = "GATEHOUSE_SCREENSHOT_DIR"

// axeTags are the axe-core rule tags the pages must pass: WCAG 2.0, 2.1
// and 2.2 at levels A and AA.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"}

// viewports are the sizes every page is checked and photographed at.
var viewports = []struct {
	name          string
	width, height int64
	mobile        bool
}{
	{"desktop", 1280, 800, false},
	{"phone", 390, 844, true},
}

var (
	axeOnce   sync.Once
	axeScript string // the source of axe.min.js
	axeErr    string // why axe-core could not be installed
)

// axeSource installs axe-core once per test run (npm ci from
// e2e/testdata/axe's package-lock.json, into a directory under the user's
// cache directory keyed by the lock file, reused by later runs) and
// returns axe.min.js. Without npm or a registry the test is skipped, or
// fails with CI=true: CI must run the checks.
func axeSource(t *testing.T) string {
	t.Helper()
	axeOnce.Do(func() { axeScript, axeErr = installAxe() })
	if axeErr != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(axeErr)
		}
		t.Skip(axeErr)
	}
	return axeScript
}

func installAxe() (script, whyNot string) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", "npm is not on PATH; skipping the accessibility checks (install Node.js and npm)"
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err.Error()
	}
	src := filepath.Join(root, "e2e", "testdata", "axe")
	lock, err := os.ReadFile(filepath.Join(src, "package-lock.json"))
	if err != nil {
		return "", err.Error()
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	sum := sha256.Sum256(lock)
	dir := filepath.Join(cache, "gatehouse-test", "axe-"+hex.EncodeToString(sum[:8]))
	minJS := filepath.Join(dir, "node_modules", "axe-core", "axe.min.js")
	if b, err := os.ReadFile(minJS); err == nil {
		return string(b), ""
	}
	// Installed beside the final directory and renamed into place, so a
	// run that stops half-way leaves nothing another run would trust.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err.Error()
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "axe-install-")
	if err != nil {
		return "", err.Error()
	}
	defer os.RemoveAll(tmp)
	for _, f := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err == nil {
			err = os.WriteFile(filepath.Join(tmp, f), b, 0o644)
		}
		if err != nil {
			return "", err.Error()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error")
	install.Dir = tmp
	install.Env = append(os.Environ(), "npm_config_cache="+filepath.Join(filepath.Dir(dir), "npm-cache"), "npm_config_update_notifier=false")
	if out, err := install.CombinedOutput(); err != nil {
		return "", fmt.Sprintf("npm ci of axe-core failed (no registry?): %v\n%s", err, tail(string(out), 2000))
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(minJS); statErr != nil { // not another run's install
			return "", err.Error()
		}
	}
	b, err := os.ReadFile(minJS)
	if err != nil {
		return "", err.Error()
	}
	return string(b), ""
}

// axeViolation is the part of an axe-core violation a failure shows.
type axeViolation struct {
	ID    string `json:"id"`
	Help  string `json:"help"`
	Nodes []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// pageChecker runs the checks on the page open in a Chromium tab.
type pageChecker struct {
	ctx  context.Context
	axe  string
	dir  string // the screenshot directory, "" for none
	seen map[string]bool
}

func newPageChecker(t *testing.T, ctx context.Context) *pageChecker {
	c := &pageChecker{ctx: ctx, axe: axeSource(t), dir: os.Getenv(screenshotDirEnv), seen: map[string]bool{}}
	if c.dir != "" {
		if err := os.MkdirAll(c.dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// setViewport sizes the tab like a desktop window or a phone.
func setViewport(ctx context.Context, width, height int64, mobile bool) error {
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
	}
	return browserDo(ctx, chromedp.EmulateViewport(width, height, opts...))
}

// check runs axe-core on the page the tab shows at each viewport size,
// failing the test for any violation, and saves a full-page screenshot
// as NAME-desktop.png and NAME-phone.png. It leaves the tab at the
// desktop size.
func (c *pageChecker) check(t *testing.T, name string) {
	t.Helper()
	if c.seen[name] {
		t.Fatalf("two pages named %s", name)
	}
	c.seen[name] = true
	tags, _ := json.Marshal(axeTags)
	for _, vp := range viewports {
		if err := setViewport(c.ctx, vp.width, vp.height, vp.mobile); err != nil {
			t.Fatalf("%s: viewport %s: %v", name, vp.name, err)
		}
		ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
		// Evaluated through the DevTools protocol, which the page's
		// Content-Security-Policy does not govern: the page itself runs
		// no inline script.
		_, err := chromedp.Run(ctx, chromedp.Evaluate[any](c.axe+"\n;0"))
		if err != nil {
			cancel()
			t.Fatalf("%s: inject axe-core: %v", name, err)
		}
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](
			`axe.run(document, {runOnly: {type: "tag", values: `+string(tags)+`}, resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))`,
			chromedp.EvalAwaitPromise))
		cancel()
		if err != nil {
			t.Fatalf("%s: run axe-core: %v", name, err)
		}
		var violations []axeViolation
		if err := json.Unmarshal([]byte(raw), &violations); err != nil {
			t.Fatalf("%s: axe-core result: %v", name, err)
		}
		for _, v := range violations {
			for _, n := range v.Nodes {
				t.Errorf("%s (%s, %s): %s: %s at %v: %s", name, vp.name, browserLocation(c.ctx), v.ID, v.Help, n.Target, n.Summary)
			}
		}
		if c.dir == "" {
			continue
		}
		ctx, cancel = context.WithTimeout(c.ctx, 30*time.Second)
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		cancel()
		if err != nil {
			t.Fatalf("%s: screenshot: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(c.dir, name+"-"+vp.name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := setViewport(c.ctx, viewports[0].width, viewports[0].height, false); err != nil {
		t.Fatal(err)
	}
}

// open navigates the tab to target and waits for sel.
func open(t *testing.T, ctx context.Context, target, sel string) {
	t.Helper()
	if err := browserDo(ctx, chromedp.Navigate(target), chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		t.Fatalf("open %s (waiting for %s): %v (at %s)", target, sel, err, browserLocation(ctx))
	}
}

// evalIn evaluates js in the tab.
func evalIn[T any](t *testing.T, ctx context.Context, js string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, opts...))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// TestPagesAccessible walks through every page of the server, at an
// issuer on localhost so that the passkey parts show: start page, sign-in
// (with the rate-limit page), error page, signed-in page, account with a
// new API key, two-step set-up and recovery codes, consent, device,
// sign-out.
func TestPagesAccessible(t *testing.T) {
	t.Parallel()
	ctx := chromiumtest.New(t)
	check := newPageChecker(t, ctx)
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	base := "http://localhost:" + port
	cfgFile := filepath.Join(t.TempDir(), "server.yaml")
	// A small per-user sign-in limit, so that the rate-limit page is
	// reached with a few wrong passwords of one user.
	if err := os.WriteFile(cfgFile, []byte("limits:\n  login_per_user: {requests: 3, per: 1h, burst: 3}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := launch(t, addr, t.TempDir(), adminPassword, "--issuer", base, "--config", cfgFile)
	const user, pass = "eddie", "pw-eddie-e2e-12345"
	addUser(t, g, user, "viewer", pass)
	clientID, _ := createClient(t, g, "report-app", "--grant", "authorization_code",
		"--redirect-uri", "http://127.0.0.1:9/callback", "--scope", "openid", "--scope", "profile")
	// The test reads the clipboard back to see what the copy buttons put
	// there; the buttons themselves only write.
	err := chromedp.Do(ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			if _, err := cdp.Call(ctx, tg, browser.SetPermission, browser.SetPermissionParams{
				Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: base,
			}); err != nil {
				return chromedp.Void{}, err
			}
		}
		return chromedp.Void{}, nil
	})
	if err != nil {
		t.Fatalf("grant clipboard permissions: %v", err)
	}

	open(t, ctx, base+"/", "h1")
	check.check(t, "start")
	open(t, ctx, base+"/login", "#username")
	check.check(t, "login")

	// The rate-limit page says how long to wait.
	for i := 0; i < 4; i++ {
		open(t, ctx, base+"/login", "#username")
		if err := browserLogin(ctx, "mallory", "wrong password"); err != nil {
			t.Fatal(err)
		}
		// The answer: the sign-in page with its error, or the rate-limit
		// page.
		if err := browserDo(ctx, chromedp.WaitVisible(chromedp.CSS("#login-error, p.lead"))); err != nil {
			t.Fatalf("wrong password %d: %v (at %s)", i+1, err, browserLocation(ctx))
		}
	}
	if h1 := evalIn[string](t, ctx, `document.querySelector("h1").textContent`); h1 != "Too many attempts" {
		t.Fatalf("after four wrong passwords the page says %q", h1)
	}
	check.check(t, "rate-limit")

	open(t, ctx, base+"/oauth2/authorize?response_type=code&client_id=no-such-app&redirect_uri=http://127.0.0.1:9/callback", "h1")
	check.check(t, "error")

	open(t, ctx, base+"/login", "#username")
	if err := browserLogin(ctx, user, pass); err != nil {
		t.Fatal(err)
	}
	if err := browserDo(ctx, chromedp.WaitVisible(chromedp.CSS(`a[href="/account"]`))); err != nil {
		t.Fatalf("signed-in page: %v (at %s)", err, browserLocation(ctx))
	}
	check.check(t, "signed-in")

	open(t, ctx, base+"/account", "#passkeys-heading")
	if !evalIn[bool](t, ctx, `!document.querySelector("[data-passkey-box]").hidden`) {
		t.Error("the passkey form is hidden on a localhost issuer")
	}
	check.check(t, "account")

	t.Run("new API key on a phone", func(t *testing.T) {
		// Made at the phone size: the page the form returns to shows the
		// new key without scrolling, and its copy button copies it.
		if err := setViewport(ctx, 390, 844, true); err != nil {
			t.Fatal(err)
		}
		if err := browserDo(ctx,
			chromedp.SendKeys(chromedp.ID("api-key-name"), "laptop"),
			chromedp.Click(chromedp.CSS(`form[action="/account/apikeys#api-keys"] button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.ID("new-api-key")),
		); err != nil {
			t.Fatalf("make a key: %v (at %s)", err, browserLocation(ctx))
		}
		inView := evalIn[bool](t, ctx, `["#new-api-key", 'button[data-copy="new-api-key"]'].every(sel => {
			const r = document.querySelector(sel).getBoundingClientRect();
			return r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth;
		})`)
		if !inView {
			t.Errorf("the new key or its copy button is outside the 390×844 view (scrolled to %v)", evalIn[float64](t, ctx, `window.scrollY`))
		}
		key := evalIn[string](t, ctx, `document.getElementById("new-api-key").textContent`)
		if err := browserDo(ctx, chromedp.Click(chromedp.CSS(`button[data-copy="new-api-key"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-copy-status="new-api-key"]`))); err != nil {
			t.Fatal(err)
		}
		copied := evalIn[string](t, ctx, `navigator.clipboard.readText()`, chromedp.EvalAwaitPromise)
		if !strings.HasPrefix(key, "gatehouse_") || copied != key {
			t.Errorf("copy button copied %q, the key is %q", copied, key)
		}
		check.check(t, "account-new-key")
	})

	t.Run("two-step set-up and recovery codes", func(t *testing.T) {
		open(t, ctx, base+"/account", "#mfa-heading")
		if err := browserDo(ctx, chromedp.Click(chromedp.CSS(`form[action="/account/mfa/enroll#mfa"] button`)),
			chromedp.WaitVisible(chromedp.ID("totp-secret"))); err != nil {
			t.Fatalf("set up: %v (at %s)", err, browserLocation(ctx))
		}
		check.check(t, "account-mfa-setup")
		secret := evalIn[string](t, ctx, `document.getElementById("totp-secret").textContent`)
		code, err := totp.GenerateCode(secret, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := browserDo(ctx, chromedp.SendKeys(chromedp.ID("confirm-code"), code),
			chromedp.Click(chromedp.CSS(`form[action="/account/mfa/confirm#mfa"] button`)),
			chromedp.WaitVisible(chromedp.ID("recovery-code-list"))); err != nil {
			t.Fatalf("confirm: %v (at %s)", err, browserLocation(ctx))
		}
		codes := evalIn[[]string](t, ctx, `[...document.querySelectorAll("#recovery-code-list li")].map(li => li.textContent)`)
		if err := browserDo(ctx, chromedp.Click(chromedp.CSS(`button[data-copy="recovery-code-list"]`))); err != nil {
			t.Fatal(err)
		}
		copied := evalIn[string](t, ctx, `navigator.clipboard.readText()`, chromedp.EvalAwaitPromise)
		if len(codes) == 0 || copied != strings.Join(codes, "\n")+"\n" {
			t.Errorf("copy button copied %q, the codes are %q", copied, codes)
		}
		// The download is a .txt file of the same codes.
		link := evalIn[[]string](t, ctx, `(a => [a.getAttribute("download"), a.href])(document.querySelector("a[download]"))`)
		text, err := url.PathUnescape(strings.TrimPrefix(link[1], "data:text/plain;charset=utf-8,"))
		if err != nil || link[0] != "recovery-codes.txt" || !strings.HasSuffix(text, strings.Join(codes, "\n")+"\n") {
			t.Errorf("download %q of %q (%v), the codes are %q", link[0], text, err, codes)
		}
		check.check(t, "account-recovery-codes")
	})

	t.Run("consent", func(t *testing.T) {
		q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {"http://127.0.0.1:9/callback"},
			"scope": {"openid profile"}, "state": {"s-a11y"}, "code_challenge_method": {"S256"},
			"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}}
		open(t, ctx, base+"/oauth2/authorize?"+q.Encode(), `button[name="decision"][value="allow"]`)
		check.check(t, "consent")
	})

	t.Run("device", func(t *testing.T) {
		open(t, ctx, base+"/device", "#user_code")
		check.check(t, "device")
	})

	t.Run("sign out", func(t *testing.T) {
		open(t, ctx, base+"/logout", `form[action="/logout"] button[type="submit"]`)
		check.check(t, "logout")
		if err := browserDo(ctx, chromedp.Click(chromedp.CSS(`form[action="/logout"] button[type="submit"]`)),
			chromedp.WaitNotPresent(chromedp.CSS(`form[action="/logout"]`))); err != nil {
			t.Fatal(err)
		}
		check.check(t, "logged-out")
	})
}

// TestGatewayPagesAccessible: the gateway's own pages and the embedded
// server's sign-in page under it, with a brand name.
func TestGatewayPagesAccessible(t *testing.T) {
	t.Parallel()
	ctx := chromiumtest.New(t)
	check := newPageChecker(t, ctx)
	gw := startGateway(t, "--brand-name", "Acme Data")
	pass := gw.addUser(t, "vera", "viewer")

	open(t, ctx, gw.URL+"/runs", "#username")
	check.check(t, "gateway-login")
	if err := browserDo(ctx,
		chromedp.SendKeys(chromedp.ID("username"), "vera"),
		chromedp.SendKeys(chromedp.ID("password"), pass),
		chromedp.Click(chromedp.CSS(`form[action="`+authPrefix+`/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("body")),
	); err != nil {
		t.Fatal(err)
	}
	open(t, ctx, gw.URL+"/_gatehouse/no-such-page", "h1")
	check.check(t, "gateway-status")
	open(t, ctx, gw.URL+"/_gatehouse/logout", `form[action="/_gatehouse/logout"] button`)
	check.check(t, "gateway-logout")
	if err := browserDo(ctx, chromedp.Click(chromedp.CSS(`form[action="/_gatehouse/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/_gatehouse/login"]`))); err != nil {
		t.Fatalf("sign out: %v (at %s)", err, browserLocation(ctx))
	}
	check.check(t, "gateway-signed-out")

	// A user whose only role the policy does not name may sign in but
	// not see the app.
	if out, errOut, code := runCLI(t, "", append([]string{"roles", "create", "guest"}, gw.storage...)...); code != 0 {
		t.Fatalf("roles create guest: exit %d: %s %s", code, out, errOut)
	}
	noraPass := gw.addUser(t, "nora", "guest")
	open(t, ctx, gw.URL+"/runs", "#username")
	if err := browserDo(ctx,
		chromedp.SendKeys(chromedp.ID("username"), "nora"),
		chromedp.SendKeys(chromedp.ID("password"), noraPass),
		chromedp.Click(chromedp.CSS(`form[action="`+authPrefix+`/login"] button[type="submit"]`)),
		chromedp.WaitNotPresent(chromedp.ID("username")),
		chromedp.WaitVisible(chromedp.CSS("body")),
	); err != nil {
		t.Fatalf("nora's sign-in: %v (at %s)", err, browserLocation(ctx))
	}
	if h1 := evalIn[string](t, ctx, `(document.querySelector("h1") || document.body).textContent`); h1 != "Access denied" {
		t.Fatalf("nora sees %q at %s", h1, browserLocation(ctx))
	}
	check.check(t, "gateway-forbidden")
}
