package pdf

import (
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf16"
)

// appendNumber writes v rounded to 1/1000 point, without exponent or trailing zeros.
func appendNumber(b []byte, v float64) []byte {
	v = math.Round(v*1000) / 1000
	if v == 0 {
		v = 0 // no "-0"
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// appendLiteral writes raw bytes as a PDF literal string, escaping the delimiters, the
// backslash, and every byte a reader could take for a line end or misread.
func appendLiteral(b, s []byte) []byte {
	b = append(b, '(')
	for _, c := range s {
		switch {
		case c == '(' || c == ')' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c == 0x7F:
			b = append(b, '\\', '0'+(c>>6), '0'+(c>>3)&7, '0'+c&7)
		default:
			b = append(b, c)
		}
	}
	return append(b, ')')
}

// appendTextString writes s as a PDF text string: a literal for printable ASCII, otherwise
// UTF-16BE with a byte order mark, as a hexadecimal string. Invalid UTF-8 becomes U+FFFD, as
// ranging over the string yields it.
func appendTextString(b []byte, s string) []byte {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7E {
			ascii = false
			break
		}
	}
	if ascii {
		return appendLiteral(b, []byte(s))
	}
	b = append(b, "<FEFF"...)
	for _, r := range s {
		for _, u := range utf16.Encode([]rune{r}) {
			b = fmt.Appendf(b, "%04X", u)
		}
	}
	return append(b, '>')
}

// appendDate writes t as a PDF date string, D:YYYYMMDDHHmmSS followed by the offset from UTC.
func appendDate(b []byte, t time.Time) []byte {
	b = append(b, "(D:"...)
	b = t.AppendFormat(b, "20060102150405")
	_, off := t.Zone()
	switch {
	case off == 0:
		b = append(b, 'Z')
	default:
		sign := byte('+')
		if off < 0 {
			sign, off = '-', -off
		}
		off /= 60
		b = fmt.Appendf(b, "%c%02d'%02d'", sign, off/60, off%60)
	}
	return append(b, ')')
}
