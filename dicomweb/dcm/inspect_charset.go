package dcm

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Character sets (PS3.3 C.12.1.1.2, PS3.5 6.1): text values are decoded to UTF-8 according to
// Specific Character Set (0008,0005).
//
//   - no value, ISO_IR 6, ISO_IR 192 or an unknown term: bytes that are valid UTF-8 are kept
//     and invalid bytes become U+FFFD (instances are never refused for their character set);
//   - single-byte sets without code extensions (ISO_IR 100, 101, 109, 110, 126, 127, 138, 144,
//     148, 166, 203, 13): decoded through their tables;
//   - GB18030 and GBK: decoded as such;
//   - ISO 2022 code extensions (any "ISO 2022 IR …" term, or several terms): escape sequences
//     switch G0/G1 between ASCII, JIS X 0201 (IR 13/14), JIS X 0208 (IR 87), JIS X 0212
//     (IR 159), KS X 1001 (IR 149), GB 2312 (IR 58) and the ISO 8859 parts; every value starts
//     in the state the first term designates.

// g0/g1 states of the ISO 2022 decoder.
const (
	setNone = iota
	setASCII
	setRomaji   // JIS X 0201 Roman (IR 14) in G0
	setKatakana // JIS X 0201 Katakana (IR 13) in G1
	setJIS0208  // G0, two bytes
	setJIS0212  // G0, two bytes
	setKSX1001  // G1, two bytes
	setGB2312   // G1, two bytes
	setCharmap  // G1: an ISO 8859 part, see textDecoder.g1map
)

type textDecoder struct {
	single  *charmap.Charmap  // single-byte set without code extensions
	multi   encoding.Encoding // GB18030 / GBK without code extensions
	jisX201 bool              // ISO_IR 13 without code extensions
	iso2022 bool
	g0, g1  int // initial states
	g1map   *charmap.Charmap
}

// iso8859 maps the final byte of "ESC - F" and the IR number to the ISO 8859 part.
var iso8859 = map[string]*charmap.Charmap{
	"100": charmap.ISO8859_1, "101": charmap.ISO8859_2, "109": charmap.ISO8859_3,
	"110": charmap.ISO8859_4, "144": charmap.ISO8859_5, "127": charmap.ISO8859_6,
	"126": charmap.ISO8859_7, "138": charmap.ISO8859_8, "148": charmap.ISO8859_9,
	"203": charmap.ISO8859_15, "166": charmap.Windows874,
}

var escG1 = map[byte]string{'A': "100", 'B': "101", 'C': "109", 'D': "110", 'L': "144", 'G': "127",
	'F': "126", 'H': "138", 'M': "148", 'b': "203", 'T': "166"}

// newTextDecoder builds the decoder for the values of Specific Character Set.
func newTextDecoder(terms []string) *textDecoder {
	d := &textDecoder{g0: setASCII}
	if len(terms) == 0 {
		return d
	}
	first := terms[0]
	if len(terms) == 1 {
		switch {
		case first == "GB18030":
			d.multi = simplifiedchinese.GB18030
			return d
		case first == "GBK":
			d.multi = simplifiedchinese.GBK
			return d
		case first == "ISO_IR 13":
			d.jisX201 = true
			return d
		case strings.HasPrefix(first, "ISO_IR "):
			d.single = iso8859[strings.TrimPrefix(first, "ISO_IR ")]
			return d
		case !strings.HasPrefix(first, "ISO 2022 IR "):
			return d
		}
	}
	d.iso2022 = true
	ir := strings.TrimPrefix(strings.TrimPrefix(first, "ISO 2022 IR "), "ISO_IR ")
	switch ir {
	case "13":
		d.g0, d.g1 = setRomaji, setKatakana
	case "149":
		d.g1 = setKSX1001
	case "58":
		d.g1 = setGB2312
	default:
		if m := iso8859[ir]; m != nil {
			d.g1, d.g1map = setCharmap, m
		}
	}
	return d
}

// decode turns one raw text value into valid UTF-8.
func (d *textDecoder) decode(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 || c == 0x1B {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	switch {
	case d.iso2022:
		return d.decode2022(b)
	case d.single != nil:
		var sb strings.Builder
		for _, c := range b {
			sb.WriteRune(d.single.DecodeByte(c))
		}
		return sb.String()
	case d.multi != nil:
		return decodeWith(d.multi, b)
	case d.jisX201:
		var sb strings.Builder
		for _, c := range b {
			sb.WriteRune(jisX0201(c))
		}
		return sb.String()
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func decodeWith(e encoding.Encoding, b []byte) string {
	out, err := e.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

func jisX0201(c byte) rune {
	switch {
	case c < 0x80:
		return rune(c)
	case c >= 0xA1 && c <= 0xDF:
		return 0xFF61 + rune(c-0xA1)
	}
	return utf8.RuneError
}

// decode2022 runs the ISO 2022 state machine over one value.
func (d *textDecoder) decode2022(b []byte) string {
	var sb strings.Builder
	g0, g1, g1map := d.g0, d.g1, d.g1map
	for i := 0; i < len(b); {
		c := b[i]
		if c == 0x1B {
			n := d.escape(b[i:], &g0, &g1, &g1map)
			if n == 0 {
				sb.WriteRune(utf8.RuneError)
				n = 1
			}
			i += n
			continue
		}
		if c < 0x80 {
			if g0 == setJIS0208 || g0 == setJIS0212 {
				// A run of two-byte characters, up to the next escape or control.
				j := i
				for j+1 < len(b) && b[j] >= 0x21 && b[j] <= 0x7E && b[j+1] >= 0x21 && b[j+1] <= 0x7E {
					j += 2
				}
				if j > i {
					euc := make([]byte, 0, (j-i)*3/2)
					for k := i; k < j; k += 2 {
						if g0 == setJIS0212 {
							euc = append(euc, 0x8F)
						}
						euc = append(euc, b[k]|0x80, b[k+1]|0x80)
					}
					sb.WriteString(decodeWith(japanese.EUCJP, euc))
					i = j
					continue
				}
			}
			switch {
			case g0 == setRomaji && c == 0x5C:
				sb.WriteRune('\u00A5')
			case g0 == setRomaji && c == 0x7E:
				sb.WriteRune('\u203E')
			default:
				sb.WriteByte(c)
			}
			i++
			continue
		}
		switch g1 {
		case setCharmap:
			sb.WriteRune(g1map.DecodeByte(c))
			i++
		case setKatakana:
			sb.WriteRune(jisX0201(c))
			i++
		case setKSX1001, setGB2312:
			j := i
			for j+1 < len(b) && b[j] >= 0xA1 && b[j+1] >= 0xA1 {
				j += 2
			}
			if j == i {
				sb.WriteRune(utf8.RuneError)
				i++
				continue
			}
			if g1 == setKSX1001 {
				sb.WriteString(decodeWith(korean.EUCKR, b[i:j]))
			} else {
				sb.WriteString(decodeWith(simplifiedchinese.GBK, b[i:j]))
			}
			i = j
		default:
			sb.WriteRune(utf8.RuneError)
			i++
		}
	}
	return sb.String()
}

// escape applies the escape sequence at the start of b and returns its length (0: unknown).
func (d *textDecoder) escape(b []byte, g0, g1 *int, g1map **charmap.Charmap) int {
	has := func(s string) bool { return len(b) > len(s) && string(b[1:1+len(s)]) == s }
	switch {
	case has("(B"):
		*g0 = setASCII
	case has("(J"):
		*g0 = setRomaji
	case has(")I"):
		*g1 = setKatakana
	case has("$B"), has("$@"):
		*g0 = setJIS0208
	case has("$(D"):
		*g0 = setJIS0212
		return 4
	case has("$)C"):
		*g1 = setKSX1001
		return 4
	case has("$)A"):
		*g1 = setGB2312
		return 4
	case len(b) >= 3 && b[1] == '-':
		m := iso8859[escG1[b[2]]]
		if m == nil {
			return 0
		}
		*g1, *g1map = setCharmap, m
	default:
		return 0
	}
	return 3
}
