package pages

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/boombuler/barcode/qr"
)

// The TOTP enrolment's QR code as a PNG image, 8 pixels a module inside
// the standard light border of 4 modules; the page shows it at 200×200.
const (
	qrModulePixels = 8
	qrQuietModules = 4
)

// qrPNG encodes text as a QR code with error correction level M (15%,
// the usual for a code on a screen) and returns it as a grey PNG.
func qrPNG(text string) ([]byte, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("server: qr code: %w", err)
	}
	n := code.Bounds().Dx()
	side := (n + 2*qrQuietModules) * qrModulePixels
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y := range n {
		for x := range n {
			if color.GrayModel.Convert(code.At(x, y)).(color.Gray).Y >= 0x80 {
				continue
			}
			x0, y0 := (x+qrQuietModules)*qrModulePixels, (y+qrQuietModules)*qrModulePixels
			for py := y0; py < y0+qrModulePixels; py++ {
				clear(img.Pix[py*img.Stride+x0 : py*img.Stride+x0+qrModulePixels])
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("server: qr code: %w", err)
	}
	return buf.Bytes(), nil
}
