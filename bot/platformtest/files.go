package platformtest

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
)

// fakePhoto is a real PNG of w by h pixels, striped in a colour of seed's,
// so that two photos differ.
func fakePhoto(w, h int, seed int64) []byte {
	ink := color.RGBA{R: uint8(seed * 37), G: uint8(seed * 91), B: uint8(seed * 13), A: 0xff}
	img := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.White, ink})
	for y := range h {
		for x := range w {
			if (x/16+y/16+int(seed))%2 == 0 {
				img.SetColorIndex(x, y, 1)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(fmt.Sprintf("platformtest: encode a photo: %v", err)) // an in-memory PNG never fails
	}
	return buf.Bytes()
}

// fakeDocument is size bytes of a document named name, which say so.
func fakeDocument(name string, seed int64, size int) []byte {
	line := fmt.Sprintf("document %q number %d from a platformtest fake\n", name, seed)
	return []byte(strings.Repeat(line, size/len(line)+1)[:size])
}
