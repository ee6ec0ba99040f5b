package pdf

import (
	"bytes"
	"testing"
)

func TestEncodeRune(t *testing.T) {
	tests := []struct {
		r    rune
		want byte
		ok   bool
	}{
		{'A', 'A', true},
		{'~', '~', true},
		{'é', 0xE9, true},
		{'ü', 0xFC, true},
		{'ñ', 0xF1, true},
		{'ß', 0xDF, true},
		{'ø', 0xF8, true},
		{'Å', 0xC5, true},
		{'Æ', 0xC6, true},
		{'ÿ', 0xFF, true},
		{'\u00a0', 0xA0, true},
		{'€', 0x80, true},
		{'‚', 0x82, true},
		{'„', 0x84, true},
		{'…', 0x85, true},
		{'Š', 0x8A, true},
		{'Œ', 0x8C, true},
		{'Ž', 0x8E, true},
		{'‘', 0x91, true},
		{'’', 0x92, true},
		{'“', 0x93, true},
		{'”', 0x94, true},
		{'•', 0x95, true},
		{'–', 0x96, true},
		{'—', 0x97, true},
		{'™', 0x99, true},
		{'š', 0x9A, true},
		{'œ', 0x9C, true},
		{'ž', 0x9E, true},
		{'Ÿ', 0x9F, true},
		{'\t', ' ', true},
		{'\n', ' ', true},
		{'\r', ' ', true},
		{0, '?', false},
		{0x1B, '?', false},
		{0x7F, '?', false},
		{0x81, '?', false},     // a C1 control, not the undefined code 0x81
		{0x80, '?', false},     // U+0080 is not '€'
		{'Ω', '?', false},      // Greek
		{'Ж', '?', false},      // Cyrillic
		{'ő', '?', false},      // Hungarian double acute is outside cp1252
		{'ł', '?', false},      // Polish
		{'\u0301', '?', false}, // combining accent
		{'😀', '?', false},
		{0xFFFD, '?', false},
	}
	for _, tt := range tests {
		b, ok := EncodeRune(tt.r)
		if b != tt.want || ok != tt.ok {
			t.Errorf("EncodeRune(%U) = %#x, %v; want %#x, %v", tt.r, b, ok, tt.want, tt.ok)
		}
	}
}

func TestEncode(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
	}{
		{"", []byte{}},
		{"Ærø – 5 €", []byte{0xC6, 'r', 0xF8, ' ', 0x96, ' ', '5', ' ', 0x80}},
		{"a\xffb", []byte{'a', '?', 'b'}}, // invalid UTF-8
		{"e\u0301", []byte{'e', '?'}},     // decomposed é is not composed
		{"Київ", []byte("????")},
	}
	for _, tt := range tests {
		if got := Encode(tt.in); !bytes.Equal(got, tt.want) {
			t.Errorf("Encode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	for c := 0x20; c <= 0xFF; c++ {
		s := Decode([]byte{byte(c)})
		undefined := c == 0x7F || c == 0x81 || c == 0x8D || c == 0x8F || c == 0x90 || c == 0x9D
		if undefined {
			if s != "\uFFFD" {
				t.Errorf("Decode(%#x) = %q, want U+FFFD", c, s)
			}
			continue
		}
		if got := Encode(s); !bytes.Equal(got, []byte{byte(c)}) {
			t.Errorf("Encode(Decode(%#x)) = %#x via %q", c, got, s)
		}
	}
}
