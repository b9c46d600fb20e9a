package qrcode

import (
	"bytes"
	"strings"
	"testing"

	"github.com/boombuler/barcode/qr"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/client"
)

var deviceAuth = &oauth2.DeviceAuthResponse{
	UserCode:                "WDJB-MJHT",
	VerificationURI:         "https://auth.example/device",
	VerificationURIComplete: "https://auth.example/device?user_code=WDJB-MJHT",
}

// TestDevicePromptNotTerminal: written to a file or a pipe, the prompt is
// client.DevicePrompt's text, without a QR code.
func TestDevicePromptNotTerminal(t *testing.T) {
	var got, want bytes.Buffer
	DevicePrompt(&got)(deviceAuth)
	client.DevicePrompt(&want)(deviceAuth)
	if got.String() != want.String() {
		t.Errorf("prompt on a non-terminal:\n%s\nwant client.DevicePrompt's:\n%s", got.String(), want.String())
	}
	if strings.ContainsAny(got.String(), "█▀▄") {
		t.Errorf("QR code written to a non-terminal:\n%s", got.String())
	}
}

// TestWrite reads the half blocks back into modules and compares them
// with the QR code itself.
func TestWrite(t *testing.T) {
	const text = "https://auth.example/device?user_code=WDJB-MJHT"
	var buf bytes.Buffer
	if err := Write(&buf, text); err != nil {
		t.Fatal(err)
	}
	checkBlocks(t, buf.String(), text)
}

// checkBlocks checks that out is exactly text's QR code (level L) drawn
// in half blocks with the quiet zone around it.
func checkBlocks(t *testing.T, out, text string) {
	t.Helper()
	code, err := qr.Encode(text, qr.L, qr.Auto)
	if err != nil {
		t.Fatal(err)
	}
	size := code.Bounds().Dx()
	if size < 21 {
		t.Fatalf("QR code of %d modules, want at least 21 (version 1)", size)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	width := size + 2*quietZone
	if want := (width + 1) / 2; len(lines) != want {
		t.Fatalf("%d lines, want %d", len(lines), want)
	}
	for row, line := range lines {
		cells := []rune(line)
		if len(cells) != width {
			t.Fatalf("line %d has %d cells, want %d", row, len(cells), width)
		}
		for col, r := range cells {
			top := r == '█' || r == '▀'
			bottom := r == '█' || r == '▄'
			for i, light := range []bool{top, bottom} {
				x, y := col-quietZone, 2*row+i-quietZone
				want := x < 0 || y < 0 || x >= size || y >= size || !dark(code.At(x, y))
				if light != want {
					t.Fatalf("module (%d,%d): light=%v, want %v", x, y, light, want)
				}
			}
		}
	}
	// The top-left finder pattern: a dark 7×7 ring around a light ring
	// around a dark 3×3 centre, whatever the encoder.
	for y := range 7 {
		for x := range 7 {
			ring := max(abs(x-3), abs(y-3))
			if want := ring != 2; dark(code.At(x, y)) != want {
				t.Fatalf("finder module (%d,%d): dark=%v, want %v", x, y, !want, want)
			}
		}
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
