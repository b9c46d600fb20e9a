package pages

import (
	"bytes"
	"image/color"
	"image/png"
	"testing"

	"github.com/boombuler/barcode/qr"
)

// TestQRPNG decodes the enrolment image and compares every module, and
// the light border around them, with the QR code itself.
func TestQRPNG(t *testing.T) {
	const text = "otpauth://totp/Gatehouse:alice?issuer=Gatehouse&secret=JBSWY3DPEHPK3PXP"
	data, err := qrPNG(text)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		t.Fatal(err)
	}
	n := code.Bounds().Dx()
	side := (n + 2*qrQuietModules) * qrModulePixels
	if b := img.Bounds(); b.Dx() != side || b.Dy() != side {
		t.Fatalf("image is %v, want %d×%d", b, side, side)
	}
	dark := func(c color.Color) bool { return color.GrayModel.Convert(c).(color.Gray).Y < 0x80 }
	for py := range side {
		for px := range side {
			x, y := px/qrModulePixels-qrQuietModules, py/qrModulePixels-qrQuietModules
			want := x >= 0 && y >= 0 && x < n && y < n && dark(code.At(x, y))
			if got := dark(img.At(px, py)); got != want {
				t.Fatalf("pixel (%d,%d) of module (%d,%d): dark=%v, want %v", px, py, x, y, got, want)
			}
		}
	}
}
