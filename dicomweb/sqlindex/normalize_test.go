package sqlindex

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Müller^Hans":       "MULLER^HANS",
		"MÜLLER":            "MULLER",
		"Mu\u0308ller":      "MULLER", // decomposed
		"Straße":            "STRASSE",
		"Øster^Ærø":         "OSTER^AERO",
		"Łódź":              "LODZ",
		"Dvořák^Antonín":    "DVORAK^ANTONIN",
		"Şahin^Ğül":         "SAHIN^GUL",
		"Nguyễn^Văn":        "NGUYEN^VAN",
		"Þórr":              "THORR",
		"Œuvre":             "OEUVRE",
		"Αθήνα":             "ΑΘΉΝΑ",
		"Иванов^Пётр":       "ИВАНОВ^ПЁТР",
		"山田^太郎":             "山田^太郎",
		"か\u3099":           "か\u3099", // a decomposed kana keeps its mark
		"a%b_c":             "A%B_C",
		"":                  "",
		"o'brien-smith jr.": "O'BRIEN-SMITH JR.",
	} {
		if got := fold(in); got != want {
			t.Errorf("fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWordsColumn(t *testing.T) {
	for in, want := range map[string]string{
		"Müller^Hans":          " MULLER HANS ",
		"smith-jones^mary":     " SMITH JONES MARY ",
		"Yamada^Tarou=山田^太郎":   " YAMADA TAROU 山田 太郎 ",
		"^^":                   " ",
		"  van der Berg^Anna ": " VAN DER BERG ANNA ",
	} {
		if got := wordsColumn(in); got != want {
			t.Errorf("wordsColumn(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormTime(t *testing.T) {
	for _, c := range []struct {
		in   string
		high bool
		want string
	}{
		{"", false, ""},
		{"10", false, "100000.000000"},
		{"1010", false, "101000.000000"},
		{"101010", false, "101010.000000"},
		{"101010.5", false, "101010.500000"},
		{"101010.1234567", false, "101010.123456"},
		{"10:10:10", false, "101010.000000"},
		{"10", true, "105959.999999"},
		{"1010", true, "101059.999999"},
		{"101010", true, "101010.999999"},
		{"101010.5", true, "101010.599999"},
	} {
		if got := normTime(c.in, c.high); got != c.want {
			t.Errorf("normTime(%q, %v) = %q, want %q", c.in, c.high, got, c.want)
		}
	}
	if !(normTime("1010", false) < normTime("101010.5", false)) {
		t.Error(`"1010" does not sort before "101010.5"`)
	}
}

func TestWildcardPattern(t *testing.T) {
	for _, c := range []struct {
		in              string
		glob            bool
		pattern, prefix string
	}{
		{"SMITH*", false, "SMITH%", "SMITH"},
		{"SMITH*", true, "SMITH*", "SMITH"},
		{"*100%", false, `%100\%`, ""},
		{"100_?x", false, `100\__x`, "100_"},
		{"100_?x", true, "100_?x", "100_"},
		{`a\b[c]`, false, `a\\b[c]`, `a\b[c]`},
		{`a\b[c]*`, true, `a\b[[]c]*`, `a\b[c]`},
		{"M?LLER", true, "M?LLER", "M"},
	} {
		p, prefix := wildcardPattern(c.in, c.glob)
		if diff := cmp.Diff([]string{c.pattern, c.prefix}, []string{p, prefix}); diff != "" {
			t.Errorf("wildcardPattern(%q, %v) (-want +got):\n%s", c.in, c.glob, diff)
		}
	}
}
