package sqlindex

import (
	"strings"
	"unicode"
)

// latinFolds lists, for each ASCII spelling, the Latin letters with diacritics (and the
// ligatures and special letters) that fold to it, upper and lower case alike.
var latinFolds = []string{
	"A ÀÁÂÃÄÅĀĂĄǍǞǠǺȀȂȦȺàáâãäåāăąǎǟǡǻȁȃȧạảấầẩẫậắằẳẵặẠẢẤẦẨẪẬẮẰẲẴẶ",
	"AE ÆǢǼæǣǽ",
	"B ƁƂɃƀƃḂḃ",
	"C ÇĆĈĊČƇȻçćĉċčƈȼ",
	"D ÐĎĐƉƊďđɗḊḋ",
	"E ÈÉÊËĒĔĖĘĚȄȆȨɆèéêëēĕėęěȅȇȩɇẸẺẼẾỀỂỄỆẹẻẽếềểễệ",
	"F ƑƒḞḟ",
	"G ĜĞĠĢƓǤǦǴĝğġģǥǧǵɠ",
	"H ĤĦȞĥħȟ",
	"I ÌÍÎÏĨĪĬĮİƗǏȈȊìíîïĩīĭįıǐȉȋỈỊỉị",
	"IJ Ĳĳ",
	"J Ĵĵǰ",
	"K ĶƘǨķĸƙǩ",
	"L ĹĻĽĿŁȽĺļľŀłƚ",
	"N ÑŃŅŇŉŊǸñńņňŋǹ",
	"O ÒÓÔÕÖØŌŎŐƟƠǑǪǬǾȌȎȪȬȮȰòóôõöøōŏőơǒǫǭǿȍȏȫȭȯȱọỏốồổỗộớờởỡợỌỎỐỒỔỖỘỚỜỞỠỢ",
	"OE Œœ",
	"P ƤṖƥṗ",
	"R ŔŖŘȐȒɌŕŗřȑȓɍ",
	"S ŚŜŞŠȘśŝşšșſṠṡ",
	"SS ßẞ",
	"T ŢŤŦȚƬƮţťŧțƭṪṫ",
	"TH Þþ",
	"U ÙÚÛÜŨŪŬŮŰŲƯǓǕǗǙǛȔȖùúûüũūŭůűųưǔǖǘǚǜȕȗụủứừửữựỤỦỨỪỬỮỰ",
	"W ŴŵẀẁẂẃẄẅ",
	"Y ÝŶŸƳȲýÿŷƴȳỲỳỴỵỶỷỸỹ",
	"Z ŹŻŽƵȤźżžƶȥ",
}

var foldTable = func() map[rune]string {
	m := map[rune]string{}
	for _, line := range latinFolds {
		to, from, _ := strings.Cut(line, " ")
		for _, r := range from {
			m[r] = to
		}
	}
	return m
}()

// fold upper-cases s and spells its Latin letters in ASCII ("Müller" → "MULLER", "Łódź" →
// "LODZ", "Straße" → "STRASSE"). Letters of other scripts are only upper-cased.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	afterLatin := false // the last letter written was spelt in ASCII
	for _, r := range s {
		switch {
		case r < 0x80:
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			afterLatin = 'A' <= r && r <= 'Z'
		case foldTable[r] != "":
			b.WriteString(foldTable[r])
			afterLatin = true
		case unicode.Is(unicode.Mn, r):
			// A combining mark of decomposed input: dropped after a Latin letter, kept otherwise.
			if !afterLatin {
				b.WriteRune(r)
			}
		default:
			b.WriteRune(unicode.ToUpper(r))
			afterLatin = false
		}
	}
	return b.String()
}

// upper is how PN values are compared case-insensitively: Unicode upper case.
func upper(s string) string { return strings.ToUpper(s) }

// nameWordSep separates the words of a person name: components (^), groups (=), spaces and
// hyphens.
func nameWordSep(r rune) bool { return r == '^' || r == '=' || r == ' ' || r == '-' }

// nameWords splits a name into its folded words.
func nameWords(s string) []string { return strings.FieldsFunc(fold(s), nameWordSep) }

// wordsColumn is the value of a *_words column: the folded words between spaces
// (" MULLER HANS "), so that " W" finds a word starting with W.
func wordsColumn(name string) string {
	w := nameWords(name)
	if len(w) == 0 {
		return " "
	}
	return " " + strings.Join(w, " ") + " "
}

// normTime pads a TM value to HHMMSS.FFFFFF, so that times compare as text ("1010" →
// "101000.000000"); colons of the old "HH:MM:SS" form are dropped. With high set, the missing
// parts are the largest instead ("1010" → "101059.999999"), for the upper end of a range.
// An empty value stays empty.
func normTime(tm string, high bool) string {
	tm = strings.TrimSpace(strings.ReplaceAll(tm, ":", ""))
	if tm == "" {
		return ""
	}
	whole, frac, hasFrac := strings.Cut(tm, ".")
	fill := "000000"
	if high {
		fill = "235959"
	}
	if len(whole) < 6 {
		whole += fill[len(whole):]
	}
	switch {
	case len(frac) >= 6:
		frac = frac[:6]
	case high && !hasFrac:
		frac = "999999"
	case high:
		frac += strings.Repeat("9", 6-len(frac))
	default:
		frac += strings.Repeat("0", 6-len(frac))
	}
	return whole + "." + frac
}

// normDate keeps the digits of a DA value ("2024-01-02" and "2024.01.02" → "20240102").
func normDate(da string) string {
	return strings.Map(func(r rune) rune {
		if '0' <= r && r <= '9' {
			return r
		}
		return -1
	}, da)
}

// likeEscaper escapes a literal for LIKE … ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// globEscaper escapes a literal for SQLite's GLOB.
var globEscaper = strings.NewReplacer(`[`, `[[]`, `*`, `[*]`, `?`, `[?]`)

// wildcardPattern translates a DICOM wildcard value ("*" any run, "?" one character) to a LIKE
// pattern (PostgreSQL, ESCAPE '\') or a GLOB pattern (SQLite, whose LIKE ignores ASCII case),
// and returns its literal prefix, for an index range.
func wildcardPattern(v string, glob bool) (pattern, prefix string) {
	var b strings.Builder
	prefixDone := false
	for i, r := range v {
		switch r {
		case '*', '?':
			if !prefixDone {
				prefix, prefixDone = v[:i], true
			}
			if glob {
				b.WriteRune(r)
			} else if r == '*' {
				b.WriteByte('%')
			} else {
				b.WriteByte('_')
			}
		default:
			if glob {
				b.WriteString(globEscaper.Replace(string(r)))
			} else {
				b.WriteString(likeEscaper.Replace(string(r)))
			}
		}
	}
	if !prefixDone {
		prefix = v
	}
	return b.String(), prefix
}

// containsPattern matches values containing lit, taken literally.
func containsPattern(lit string, glob bool) string {
	if glob {
		return "*" + globEscaper.Replace(lit) + "*"
	}
	return "%" + likeEscaper.Replace(lit) + "%"
}

// upperPrefix returns a string greater than every string starting with p, for a range scan
// (byte-wise comparison).
func upperPrefix(p string) string { return p + "\U0010FFFF" }
