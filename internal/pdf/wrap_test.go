package pdf

import (
	"slices"
	"strings"
	"testing"
)

func TestWrapText(t *testing.T) {
	// At size 1000 a width in points equals a width in font units. In Helvetica "a" and
	// "b" are 556 wide, "i" 222, the space 278.
	tests := []struct {
		name  string
		in    string
		width float64
		want  []string
	}{
		{"empty", "", 5000, nil},
		{"only spaces", "   \t ", 5000, nil},
		{"one line", "aa bb", 5000, []string{"aa bb"}},
		{"exact fit", "aa bb", 556*4 + 278, []string{"aa bb"}},
		{"one unit short", "aa bb", 556*4 + 277, []string{"aa", "bb"}},
		{"spaces collapse", "  aa \t  bb  ", 5000, []string{"aa bb"}},
		{"no-break space joins", "aaa aa\u00a0bb", 556*5 + 278, []string{"aaa", "aa\u00a0bb"}},
		{"long word is cut", "aaaaa", 556 * 2, []string{"aa", "aa", "a"}},
		{"cut word continues the line", "aaa i", 556*2 + 278 + 222, []string{"aa", "a i"}},
		{"narrower than one letter", "ab", 100, []string{"a", "b"}},
		{"line break", "aa\nbb", 5000, []string{"aa", "bb"}},
		{"CR LF and CR", "aa\r\nbb\rcc", 5000, []string{"aa", "bb", "cc"}},
		{"blank line kept", "aa\n\nbb", 5000, []string{"aa", "", "bb"}},
		{"unencodable", "Ωmega", 5000, []string{"?mega"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, l := range wrapText(tt.in, Helvetica, 1000, tt.width) {
				got = append(got, Decode(l))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("wrapText(%q, %v) = %q, want %q", tt.in, tt.width, got, tt.want)
			}
		})
	}
}

func TestWrapKeepsInput(t *testing.T) {
	// Appending to a line must not overwrite words still to come.
	in := "aa  bb   cc dd    ee"
	var got []string
	for _, l := range wrapText(in, Helvetica, 1000, 556*5) {
		got = append(got, Decode(l))
	}
	if want := []string{"aa bb", "cc dd", "ee"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if joined := strings.Join(got, " "); joined != strings.Join(strings.Fields(in), " ") {
		t.Errorf("words changed: %q", joined)
	}
}

func TestTruncate(t *testing.T) {
	// "…" is 1000 units wide in Helvetica.
	tests := []struct {
		in    string
		width float64
		want  string
	}{
		{"aaa", 556 * 3, "aaa"},
		{"aaaa", 556*3 + 100, "a…"},
		{"aaaa", 1000 + 556, "a…"},
		{"aaaa", 1000 + 555, "…"},
		{"aaaa", 999, ""},
		{"", 0, ""},
	}
	for _, tt := range tests {
		if got := Decode(truncate(Encode(tt.in), Helvetica, 1000, tt.width)); got != tt.want {
			t.Errorf("truncate(%q, %v) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}
