package pdf

import "fmt"

// Font is one of the standard Type 1 fonts every PDF reader provides. The zero value is
// Helvetica.
type Font int

// The fonts a Document can use. Oblique faces have the widths of their upright face.
const (
	Helvetica Font = iota
	HelveticaBold
	HelveticaOblique
	HelveticaBoldOblique
	Courier
	CourierBold
	CourierOblique
	CourierBoldOblique
	numFonts
)

// fontNames holds the PostScript name of each Font, as written in /BaseFont.
var fontNames = [numFonts]string{
	"Helvetica", "Helvetica-Bold", "Helvetica-Oblique", "Helvetica-BoldOblique",
	"Courier", "Courier-Bold", "Courier-Oblique", "Courier-BoldOblique",
}

// Valid reports whether f is one of the declared fonts.
func (f Font) Valid() bool { return f >= 0 && f < numFonts }

// Name returns the PostScript name of the font, such as "Helvetica-Bold".
func (f Font) Name() string {
	if !f.Valid() {
		return fmt.Sprintf("Font(%d)", int(f))
	}
	return fontNames[f]
}

// String returns Name.
func (f Font) String() string { return f.Name() }

// widths returns the advance widths, in 1/1000 of the font size, of codes 32 to 255.
func (f Font) widths() *[256 - firstChar]uint16 {
	switch f {
	case Helvetica, HelveticaOblique:
		return &helveticaWidths
	case HelveticaBold, HelveticaBoldOblique:
		return &helveticaBoldWidths
	default:
		return &courierWidths
	}
}

// units returns the width of WinAnsi-encoded text in 1/1000 of the font size. Bytes below
// firstChar, which the encoder never writes, count as zero.
func (f Font) units(b []byte) int {
	w := f.widths()
	n := 0
	for _, c := range b {
		if c >= firstChar {
			n += int(w[c-firstChar])
		}
	}
	return n
}

// Width returns the width in points of s set in f at the given size, after the WinAnsi
// encoding Text and the flow layout apply. An invalid font measures 0.
func (f Font) Width(s string, size float64) float64 {
	if !f.Valid() {
		return 0
	}
	return float64(f.units(Encode(s))) * size / 1000
}
