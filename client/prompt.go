package client

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"golang.org/x/oauth2"
	"golang.org/x/term"
	"rsc.io/qr"
)

// DevicePrompt returns a device flow prompt that writes the verification
// URL and the user code to w, and, when w is a terminal and the server
// sent verification_uri_complete, a QR code of that URL to scan with a
// phone (RFC 8628 §3.3.1).
func DevicePrompt(w io.Writer) func(*oauth2.DeviceAuthResponse) {
	return func(da *oauth2.DeviceAuthResponse) {
		fmt.Fprintf(w, "To sign in, open %s\nand enter the code: %s\n", da.VerificationURI, da.UserCode)
		if da.VerificationURIComplete != "" && isTerminal(w) {
			fmt.Fprintf(w, "\nOr scan this code to open %s\n", da.VerificationURIComplete)
			WriteQR(w, da.VerificationURIComplete)
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

// WriteQR draws a QR code of text to w with Unicode half blocks, two
// modules per character cell vertically. Light modules are drawn as
// blocks and dark ones as blanks, which reads correctly on the usual
// dark terminal background.
func WriteQR(w io.Writer, text string) error {
	code, err := qr.Encode(text, qr.L)
	if err != nil {
		return fmt.Errorf("client: qr code: %w", err)
	}
	light := func(x, y int) bool {
		if x < 0 || y < 0 || x >= code.Size || y >= code.Size {
			return true // quiet zone
		}
		return !code.Black(x, y)
	}
	bw := bufio.NewWriter(w)
	for y := -quietZone; y < code.Size+quietZone; y += 2 {
		for x := -quietZone; x < code.Size+quietZone; x++ {
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
