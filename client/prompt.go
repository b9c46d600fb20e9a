package client

import (
	"fmt"
	"io"

	"golang.org/x/oauth2"
)

// DevicePrompt returns a device flow prompt that writes the verification
// URL and the user code to w. DeviceLogin uses it, on os.Stderr, when
// DeviceOptions.Prompt is nil. qrcode.DevicePrompt (package
// github.com/gatehouse-auth/gatehouse/client/qrcode) writes the same and,
// on a terminal, a QR code of the URL to scan with a phone; it is a
// separate package so that a program that does not show one does not link
// the QR encoder.
func DevicePrompt(w io.Writer) func(*oauth2.DeviceAuthResponse) {
	return func(da *oauth2.DeviceAuthResponse) {
		fmt.Fprintf(w, "To sign in, open %s\nand enter the code: %s\n", da.VerificationURI, da.UserCode)
		fmt.Fprintln(w, "\nWaiting for approval...")
	}
}
