package cliauth

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strings"

	"github.com/cli/browser"
)

// browserOpener decides how to open the login page: it returns the
// opener, or nil with the reason when no browser can open here.
//
// In order: App.Browser; the setting EnvPrefix_BROWSER, then the config's
// browser, then BROWSER — "none" means never, anything else is a command
// run with the URL as its last argument; else the system browser, when
// there is a display to show it on.
func (a *App) browserOpener(ctx context.Context, cfg *configFile) (open func(string) error, why string) {
	if a.Browser != nil {
		return a.Browser, ""
	}
	setting, from := a.env(envBrowser), "$"+a.envName(envBrowser)
	if setting == "" {
		setting, from = strings.TrimSpace(cfg.Browser), "the browser setting"
	}
	if setting == "" {
		setting, from = strings.TrimSpace(a.IO.getenv("BROWSER")), "$BROWSER"
	}
	if strings.EqualFold(setting, browserNone) {
		return nil, from + " is " + browserNone
	}
	if setting != "" {
		return commandOpener(ctx, setting), ""
	}
	if why := a.noDisplay(); why != "" {
		return nil, why
	}
	return func(url string) error {
		browser.Stdout, browser.Stderr = io.Discard, io.Discard
		return browser.OpenURL(url)
	}, ""
}

// noDisplay says why the system browser cannot be shown to the user, or
// "" when it probably can: a remote (SSH) session, or a Unix without a
// graphical display (and not WSL, which opens the Windows browser).
func (a *App) noDisplay() string {
	env := a.IO.getenv
	graphical := env("DISPLAY") != "" || env("WAYLAND_DISPLAY") != ""
	if (env("SSH_CONNECTION") != "" || env("SSH_TTY") != "") && !graphical {
		return "this is a remote (SSH) session"
	}
	switch runtime.GOOS {
	case "darwin", "windows", "android", "ios":
		return ""
	}
	if graphical || env("WSL_DISTRO_NAME") != "" {
		return ""
	}
	return "there is no display: DISPLAY and WAYLAND_DISPLAY are unset"
}

// commandOpener runs a browser command: the words of command, then the
// URL. A command that fails means no browser.
func commandOpener(ctx context.Context, command string) func(string) error {
	words := strings.Fields(command)
	return func(url string) error {
		cmd := exec.CommandContext(ctx, words[0], append(words[1:], url)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			msg := strings.TrimSpace(string(out))
			if len(msg) > 200 {
				msg = msg[:200] + "..."
			}
			if msg != "" {
				return fmt.Errorf("%s: %w: %s", words[0], err, msg)
			}
			return fmt.Errorf("%s: %w", words[0], err)
		}
		return nil
	}
}
