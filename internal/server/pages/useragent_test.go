package pages

import (
	"strings"
	"testing"
)

func TestDescribeUserAgent(t *testing.T) {
	for _, c := range []struct{ ua, want string }{
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on Linux"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iPhone"},
		{"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1", "Chrome on iPad"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Safari on macOS"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Windows"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", "Edge on Windows"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36", "Chrome on Android"},
		{"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", "Samsung Internet on Android"},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Chrome on ChromeOS"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0", "Opera on Windows"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", "Headless Chrome on Linux"},
		{"curl/8.5.0", "curl"},
		{"Go-http-client/1.1", unknownBrowser},
		{"", unknownBrowser},
	} {
		if got := describeUserAgent(c.ua); got != c.want {
			t.Errorf("describeUserAgent(%q) = %q, want %q", c.ua, got, c.want)
		}
	}
}

// FuzzDescribeUserAgent: whatever a client sends, the description is one
// of the known browser names, optionally "on" a known system, or
// unknownBrowser.
func FuzzDescribeUserAgent(f *testing.F) {
	for _, s := range []string{"", "Chrome/1 Linux", "Safari/1 iPhone", "Edg/ Windows", "\xff\xfe", strings.Repeat("é", 200)} {
		f.Add(s)
	}
	known := map[string]bool{unknownBrowser: true}
	for _, b := range userAgentBrowsers {
		known[b.name] = true
		for _, s := range userAgentSystems {
			known[b.name+" on "+s.name] = true
		}
	}
	f.Fuzz(func(t *testing.T, ua string) {
		if d := describeUserAgent(ua); !known[d] {
			t.Errorf("describeUserAgent(%q) = %q, not a known description", ua, d)
		}
	})
}
