package hearthtest

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
)

// PNG is a real PNG image, padded to size bytes when size is larger
// (decoders stop at IEND; type detection reads the signature).
func PNG(t testing.TB, size int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if size > b.Len() {
		b.Write(make([]byte, size-b.Len()))
	}
	return b.Bytes()
}
