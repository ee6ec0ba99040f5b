package pdf

import (
	"math"
	"testing"
	"time"
)

func TestAppendNumber(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "0"},
		{-0.0001, "0"},
		{1, "1"},
		{595.28, "595.28"},
		{56.69291338582677, "56.693"},
		{-12.5, "-12.5"},
		{1e7, "10000000"},
		{0.0005, "0.001"},
	}
	for _, tt := range tests {
		if got := string(appendNumber(nil, tt.v)); got != tt.want {
			t.Errorf("appendNumber(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestAppendLiteral(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", "()"},
		{"plain", "(plain)"},
		{"(a)", `(\(a\))`},
		{`back\slash`, `(back\\slash)`},
		{"))((", `(\)\)\(\()`},
		{"\r\n", `(\015\012)`},
		{"\x00\x7f", `(\000\177)`},
		{"\xe9\x80", "(\xe9\x80)"},
	}
	for _, tt := range tests {
		if got := string(appendLiteral(nil, []byte(tt.in))); got != tt.want {
			t.Errorf("appendLiteral(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAppendTextString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"Consent form", "(Consent form)"},
		{"a(b)", `(a\(b\))`},
		{"é", "<FEFF00E9>"},
		{"€ 😀", "<FEFF20AC0020D83DDE00>"},
		{"tab\there", "<FEFF00740061006200090068006500720065>"},
		{"\xff", "<FEFFFFFD>"},
	}
	for _, tt := range tests {
		if got := string(appendTextString(nil, tt.in)); got != tt.want {
			t.Errorf("appendTextString(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAppendDate(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC), "(D:20250304050607Z)"},
		{time.Date(2025, 12, 31, 23, 59, 59, 999, time.FixedZone("CET", 3600)), "(D:20251231235959+01'00')"},
		{time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("", -(3*3600+30*60))), "(D:20250102030405-03'30')"},
	}
	for _, tt := range tests {
		if got := string(appendDate(nil, tt.t)); got != tt.want {
			t.Errorf("appendDate(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}
