package pdf

import (
	"math"
	"testing"
)

func TestFontWidth(t *testing.T) {
	tests := []struct {
		f    Font
		s    string
		size float64
		want float64
	}{
		{Helvetica, "Hello", 10, 22.78},        // 722+556+222+222+556
		{HelveticaOblique, "Hello", 10, 22.78}, // same metrics as upright
		{HelveticaBold, "Hello", 10, 24.45},    // 722+556+278+278+611
		{HelveticaBoldOblique, "Hello", 10, 24.45},
		{Helvetica, "Wé€", 1000, 944 + 556 + 556},
		{HelveticaBold, "ß—", 1000, 611 + 1000},
		{Courier, "any text", 10, 48},
		{CourierBoldOblique, "é", 10, 6},
		{Helvetica, "", 10, 0},
		{Helvetica, "Ω", 1000, 556}, // measured as its replacement '?'
		{Font(99), "Hello", 10, 0},
	}
	for _, tt := range tests {
		if got := tt.f.Width(tt.s, tt.size); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%v.Width(%q, %v) = %v, want %v", tt.f, tt.s, tt.size, got, tt.want)
		}
	}
}

func TestFontName(t *testing.T) {
	tests := []struct {
		f    Font
		want string
	}{
		{Helvetica, "Helvetica"},
		{HelveticaBold, "Helvetica-Bold"},
		{HelveticaOblique, "Helvetica-Oblique"},
		{HelveticaBoldOblique, "Helvetica-BoldOblique"},
		{Courier, "Courier"},
		{CourierBoldOblique, "Courier-BoldOblique"},
		{Font(-1), "Font(-1)"},
		{numFonts, "Font(8)"},
	}
	for _, tt := range tests {
		if got := tt.f.Name(); got != tt.want {
			t.Errorf("Font(%d).Name() = %q, want %q", int(tt.f), got, tt.want)
		}
	}
}
