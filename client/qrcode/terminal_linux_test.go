package qrcode

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY returns both ends of a new pseudo-terminal; the second is a
// terminal to the program, as a user's shell is.
func openPTY(t *testing.T) (control, term *os.File) {
	t.Helper()
	control, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { control.Close() })
	if err := unix.IoctlSetPointerInt(int(control.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(control.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pseudo-terminal number: %v", err)
	}
	term, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { term.Close() })
	return control, term
}

// TestDevicePromptTerminal: on a terminal the prompt adds the QR code of
// verification_uri_complete between the code and "Waiting for approval".
func TestDevicePromptTerminal(t *testing.T) {
	control, term := openPTY(t)
	read := make(chan string, 1)
	go func() {
		var out strings.Builder
		buf := make([]byte, 4096)
		for !strings.Contains(out.String(), "Waiting for approval") {
			n, err := control.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				break
			}
		}
		read <- out.String()
	}()
	DevicePrompt(term)(deviceAuth)
	// The terminal turns each "\n" into "\r\n".
	out := strings.ReplaceAll(<-read, "\r\n", "\n")

	head := "To sign in, open https://auth.example/device\nand enter the code: WDJB-MJHT\n\n" +
		"Or scan this code to open " + deviceAuth.VerificationURIComplete + "\n"
	tail := "\nWaiting for approval...\n"
	if !strings.HasPrefix(out, head) || !strings.HasSuffix(out, tail) {
		t.Fatalf("prompt on a terminal:\n%s", out)
	}
	checkBlocks(t, strings.TrimSuffix(strings.TrimPrefix(out, head), tail), deviceAuth.VerificationURIComplete)
}
