// Package qrcode draws QR codes on a terminal: the device flow's
// verification URL, to scan with a phone (RFC 8628 §3.3.1), or any other
// short text such as an authenticator app's otpauth:// URI.
//
// It is a package of its own so that only programs that show a QR code
// link the encoder (github.com/boombuler/barcode); package client's own
// device prompt writes the URL and the code as text.
//
//	tok, err := cfg.DeviceLogin(ctx, client.DeviceOptions{Prompt: qrcode.DevicePrompt(os.Stderr)})
package qrcode

import (
	"bufio"
	"fmt"
	"image/color"
	"io"
	"os"

	"github.com/boombuler/barcode/qr"
	"golang.org/x/oauth2"
	"golang.org/x/term"
)

// DevicePrompt returns a device flow prompt for client.DeviceOptions: it
// writes the verification URL and the user code to w, as
// client.DevicePrompt does, and, when w is a terminal and the server sent
// verification_uri_complete, a QR code of that URL (RFC 8628 §3.3.1).
func DevicePrompt(w io.Writer) func(*oauth2.DeviceAuthResponse) {
	return func(da *oauth2.DeviceAuthResponse) {
		fmt.Fprintf(w, "To sign in, open %s\nand enter the code: %s\n", da.VerificationURI, da.UserCode)
		if da.VerificationURIComplete != "" && isTerminal(w) {
			fmt.Fprintf(w, "\nOr scan this code to open %s\n", da.VerificationURIComplete)
			Write(w, da.VerificationURIComplete)
		}
		fmt.Fprintln(w, "\nWaiting for approval...")
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// quietZone is the light border around a QR code, in modules. The
// standard asks for 4; 2 is enough for phone cameras and saves lines.
const quietZone = 2

// Write draws a QR code of text to w with Unicode half blocks, two
// modules per character cell vertically. Light modules are drawn as
// blocks and dark ones as blanks, which reads correctly on the usual
// dark terminal background.
func Write(w io.Writer, text string) error {
	// Level L (7% error correction) makes the smallest symbol: a terminal
	// has few lines to spare, and a screen does not get scratched.
	code, err := qr.Encode(text, qr.L, qr.Auto)
	if err != nil {
		return fmt.Errorf("qrcode: %w", err)
	}
	size := code.Bounds().Dx()
	light := func(x, y int) bool {
		if x < 0 || y < 0 || x >= size || y >= size {
			return true // quiet zone
		}
		return !dark(code.At(x, y))
	}
	bw := bufio.NewWriter(w)
	for y := -quietZone; y < size+quietZone; y += 2 {
		for x := -quietZone; x < size+quietZone; x++ {
			top, bottom := light(x, y), light(x, y+1)
			switch {
			case top && bottom:
				bw.WriteRune('█')
			case top:
				bw.WriteRune('▀')
			case bottom:
				bw.WriteRune('▄')
			default:
				bw.WriteRune(' ')
			}
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// dark reports whether a module of the encoder's image is dark.
func dark(c color.Color) bool {
	return color.GrayModel.Convert(c).(color.Gray).Y < 0x80
}
