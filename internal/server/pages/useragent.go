package pages

import "strings"

// The session list on /account says which browser on which system each
// session signed in from ("Firefox on Windows", "Safari on iPhone"), so a
// user recognises their own devices. The session keeps the raw
// User-Agent, bounded (browser.MaxUserAgent); the description is made when
// the list is shown, so a better description applies to old sessions too.

// unknownBrowser describes a User-Agent that names no browser this file
// knows (or none at all).
const unknownBrowser = "Unknown browser"

// userAgentBrowsers are the browsers describeUserAgent names, by the
// token that marks each, first match wins: Edge, Opera and Samsung
// Internet also say "Chrome", and every Chromium-based browser and
// Chrome on iOS also say "Safari", so the more specific come first.
var userAgentBrowsers = []struct{ token, name string }{
	{"Edg/", "Edge"},
	{"EdgA/", "Edge"},
	{"EdgiOS/", "Edge"},
	{"OPR/", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"Firefox/", "Firefox"},
	{"FxiOS/", "Firefox"},
	{"CriOS/", "Chrome"},
	{"Chromium/", "Chromium"},
	{"HeadlessChrome/", "Headless Chrome"},
	{"Chrome/", "Chrome"},
	{"Safari/", "Safari"},
	{"curl/", "curl"},
}

// userAgentSystems are the operating systems describeUserAgent names, by
// their token, first match wins: Android also says "Linux", and iPhones
// say "like Mac OS X".
var userAgentSystems = []struct{ token, name string }{
	{"iPhone", "iPhone"},
	{"iPad", "iPad"},
	{"Android", "Android"},
	{"CrOS", "ChromeOS"},
	{"Windows", "Windows"},
	{"Macintosh", "macOS"},
	{"Mac OS X", "macOS"},
	{"Linux", "Linux"},
}

// describeUserAgent is a short description of the browser and system of
// ua: "Chrome on Linux", "Safari on iPhone", "Firefox" when the system is
// not known, unknownBrowser when the browser is not.
func describeUserAgent(ua string) string {
	browser := ""
	for _, b := range userAgentBrowsers {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	if browser == "" {
		return unknownBrowser
	}
	for _, s := range userAgentSystems {
		if strings.Contains(ua, s.token) {
			return browser + " on " + s.name
		}
	}
	return browser
}
