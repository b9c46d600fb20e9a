package browser

import (
	"strings"
	"unicode/utf8"
)

// MaxUserAgent bounds the User-Agent a session keeps, in bytes. Real
// browsers send 100-200; the bound keeps a client from storing a large
// header with every sign-in.
const MaxUserAgent = 256

// boundUserAgent is ua cut to at most MaxUserAgent bytes at a character
// boundary, without control characters.
func boundUserAgent(ua string) string {
	ua = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToValidUTF8(ua, ""))
	if len(ua) <= MaxUserAgent {
		return ua
	}
	cut := MaxUserAgent
	for cut > 0 && !utf8.RuneStart(ua[cut]) {
		cut--
	}
	return ua[:cut]
}
