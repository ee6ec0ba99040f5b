package pdf

import "unicode/utf8"

// winAnsiHigh lists, for the codes 0x80–0x9F of WinAnsiEncoding, the character each one
// stands for; zero marks the five codes the encoding leaves undefined. Codes 0x20–0x7E and
// 0xA0–0xFF stand for the Unicode characters with the same number.
var winAnsiHigh = [32]rune{
	'€', 0, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0, 'Ž', 0,
	0, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0, 'ž', 'Ÿ',
}

// Replacement is the byte Encode writes for a character WinAnsiEncoding cannot represent.
const Replacement = '?'

// EncodeRune returns the WinAnsiEncoding byte for r. Tab, line feed, vertical tab, form feed
// and carriage return become a space. ok is false, and b is Replacement, when the encoding has
// no code for r.
func EncodeRune(r rune) (b byte, ok bool) {
	switch {
	case r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r':
		return ' ', true
	case r >= 0x20 && r <= 0x7E, r >= 0xA0 && r <= 0xFF:
		return byte(r), true
	}
	for i, c := range winAnsiHigh {
		if c != 0 && c == r {
			return byte(0x80 + i), true
		}
	}
	return Replacement, false
}

// Encode converts s to WinAnsiEncoding, one byte per character, as described by EncodeRune.
// Invalid UTF-8 bytes are replaced like unencodable characters.
func Encode(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		b, _ := EncodeRune(r)
		out = append(out, b)
	}
	return out
}

// Decode converts WinAnsiEncoding bytes back to UTF-8. Control bytes and the undefined codes
// 0x81, 0x8D, 0x8F, 0x90 and 0x9D become U+FFFD.
func Decode(b []byte) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		r := utf8.RuneError
		switch {
		case c >= 0x20 && c <= 0x7E, c >= 0xA0:
			r = rune(c)
		case c >= 0x80 && c <= 0x9F && winAnsiHigh[c-0x80] != 0:
			r = winAnsiHigh[c-0x80]
		}
		out = utf8.AppendRune(out, r)
	}
	return string(out)
}
