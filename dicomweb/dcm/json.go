package dcm

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DICOM JSON (PS3.18 Annex F) of the scanned dataset, and the decoding of values shared with
// Instance.Attributes. Choices where the standard leaves room or the data is bad:
//
//   - keys are in ascending tag order; File Meta (0002,xxxx) and group lengths (gggg,0000)
//     are left out;
//   - a VR UN value of undefined length, parsed as a sequence (PS3.5 6.2.2), is written as SQ;
//   - empty values inside a multi-valued attribute are null; an attribute with no value has
//     only its "vr";
//   - DS and IS are JSON numbers, written as sent when the text is already a valid JSON number
//     and normalised otherwise; if any value of a DS/IS attribute is not a number, or a binary
//     number attribute's length is not a multiple of its size, the "Value" is left out and only
//     the "vr" remains; NaN and infinities of FL/FD are null;
//   - InlineBinary is the value's bytes in little-endian order (OW/OF/OD/OL/OV values of a
//     big-endian instance are swapped; OB and UN are copied as they are).

// textVR reports the VRs whose values are text.
func textVR(vr string) bool {
	switch vr {
	case "AE", "AS", "CS", "DA", "DT", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT":
		return true
	}
	return false
}

// charsetVR reports the text VRs affected by Specific Character Set.
func charsetVR(vr string) bool {
	switch vr {
	case "SH", "LO", "UC", "ST", "LT", "UT", "PN":
		return true
	}
	return false
}

func singleValued(vr string) bool {
	return vr == "LT" || vr == "ST" || vr == "UT" || vr == "UR"
}

func trimLeading(vr string) bool {
	switch vr {
	case "AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "SH", "TM", "UI":
		return true
	}
	return false
}

// texts decodes a text (or DS/IS) value into its values, trimmed of insignificant padding.
func texts(e *elem, dec *textDecoder) []string {
	var s string
	if charsetVR(e.vr) && dec != nil {
		s = dec.decode(e.val)
	} else {
		s = strings.ToValidUTF8(string(e.val), "\uFFFD")
	}
	s = strings.TrimRight(s, " \x00")
	if s == "" {
		return nil
	}
	var vals []string
	if singleValued(e.vr) {
		vals = []string{s}
	} else {
		vals = strings.Split(s, `\`)
	}
	for i, v := range vals {
		v = strings.TrimRight(v, " \x00")
		if trimLeading(e.vr) {
			v = strings.TrimLeft(v, " ")
		}
		vals[i] = v
	}
	return vals
}

// numbers decodes a DS, IS or binary number value into JSON number texts ("" for a null
// entry). ok is false when the value cannot be represented (see above).
func numbers(e *elem) (vals []string, ok bool) {
	switch e.vr {
	case "DS", "IS":
		for _, v := range texts(e, nil) {
			if v == "" {
				vals = append(vals, "")
				continue
			}
			n, good := numberText(v, e.vr == "IS")
			if !good {
				return nil, false
			}
			vals = append(vals, n)
		}
		return vals, true
	}
	size := map[string]int{"US": 2, "SS": 2, "UL": 4, "SL": 4, "FL": 4, "FD": 8, "UV": 8, "SV": 8}[e.vr]
	if size == 0 || len(e.val)%size != 0 {
		return nil, false
	}
	o := binary.ByteOrder(binary.LittleEndian)
	if e.be {
		o = binary.BigEndian
	}
	for b := e.val; len(b) > 0; b = b[size:] {
		var v string
		switch e.vr {
		case "US":
			v = strconv.FormatUint(uint64(o.Uint16(b)), 10)
		case "SS":
			v = strconv.FormatInt(int64(int16(o.Uint16(b))), 10)
		case "UL":
			v = strconv.FormatUint(uint64(o.Uint32(b)), 10)
		case "SL":
			v = strconv.FormatInt(int64(int32(o.Uint32(b))), 10)
		case "UV":
			v = strconv.FormatUint(o.Uint64(b), 10)
		case "SV":
			v = strconv.FormatInt(int64(o.Uint64(b)), 10)
		case "FL":
			f := math.Float32frombits(o.Uint32(b))
			if !math.IsInf(float64(f), 0) && !math.IsNaN(float64(f)) {
				v = strconv.FormatFloat(float64(f), 'g', -1, 32)
			}
		case "FD":
			f := math.Float64frombits(o.Uint64(b))
			if !math.IsInf(f, 0) && !math.IsNaN(f) {
				v = strconv.FormatFloat(f, 'g', -1, 64)
			}
		}
		vals = append(vals, v)
	}
	return vals, true
}

// numberText validates a DS/IS text and returns it as a JSON number.
func numberText(s string, integer bool) (string, bool) {
	if integer {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return strconv.FormatInt(n, 10), true
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return "", false
	}
	if integer {
		if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return "", false
		}
		return strconv.FormatInt(int64(f), 10), true
	}
	if jsonNumber(s) {
		return s, true
	}
	return strconv.FormatFloat(f, 'g', -1, 64), true
}

// jsonNumber reports whether s has the JSON number syntax (RFC 8259 section 6).
func jsonNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	start := i
	if n := digits(); n == 0 || n > 1 && s[start] == '0' {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// atTexts renders AT values as 8-hex tags.
func atTexts(e *elem) ([]string, bool) {
	if len(e.val)%4 != 0 {
		return nil, false
	}
	o := binary.ByteOrder(binary.LittleEndian)
	if e.be {
		o = binary.BigEndian
	}
	var vals []string
	for b := e.val; len(b) > 0; b = b[4:] {
		vals = append(vals, Tag(uint32(o.Uint16(b))<<16|uint32(o.Uint16(b[2:]))).Hex())
	}
	return vals, true
}

// charsetTerms splits a Specific Character Set value into its terms.
func charsetTerms(e *elem) []string {
	terms := strings.Split(strings.ToValidUTF8(string(e.val), "?"), `\`)
	for i := range terms {
		terms[i] = strings.Trim(terms[i], " \x00")
	}
	for len(terms) > 0 && terms[len(terms)-1] == "" {
		terms = terms[:len(terms)-1]
	}
	return terms
}

// itemDecoder is the decoder for a dataset: its own Specific Character Set if it has one,
// else the enclosing dataset's.
func itemDecoder(els []*elem, outer *textDecoder) *textDecoder {
	for _, e := range els {
		if e.tag == 0x00080005 && e.bulk < 0 {
			return newTextDecoder(charsetTerms(e))
		}
	}
	return outer
}

type jsonWriter struct {
	buf  bytes.Buffer
	bulk []BulkRef
}

func (w *jsonWriter) dataset(els []*elem, dec *textDecoder) {
	dec = itemDecoder(els, dec)
	w.buf.WriteByte('{')
	first := true
	for _, e := range els {
		if e.tag>>16 == 0x0002 || uint16(e.tag) == 0 {
			continue
		}
		if !first {
			w.buf.WriteByte(',')
		}
		first = false
		w.buf.WriteByte('"')
		w.buf.WriteString(e.tag.Hex())
		w.buf.WriteString(`":`)
		w.element(e, dec)
	}
	w.buf.WriteByte('}')
}

func (w *jsonWriter) element(e *elem, dec *textDecoder) {
	vr := e.vr
	if e.seq {
		vr = "SQ"
	}
	w.buf.WriteString(`{"vr":"`)
	w.buf.WriteString(vr)
	w.buf.WriteByte('"')
	defer w.buf.WriteByte('}')
	switch {
	case e.bulk >= 0:
		w.buf.WriteString(`,"BulkDataURI":`)
		w.str("{bulk}/" + w.bulk[e.bulk].Path)
	case e.seq:
		if len(e.items) == 0 {
			return
		}
		w.buf.WriteString(`,"Value":[`)
		for i, it := range e.items {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			w.dataset(it, dec)
		}
		w.buf.WriteByte(']')
	case binaryVR(vr):
		if len(e.val) == 0 {
			return
		}
		w.buf.WriteString(`,"InlineBinary":"`)
		w.buf.WriteString(base64.StdEncoding.EncodeToString(littleEndian(e)))
		w.buf.WriteByte('"')
	case vr == "PN":
		vals := texts(e, dec)
		if len(vals) == 0 {
			return
		}
		w.buf.WriteString(`,"Value":[`)
		for i, v := range vals {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			w.personName(v)
		}
		w.buf.WriteByte(']')
	case textVR(vr):
		w.values(texts(e, dec), true)
	case vr == "AT":
		vals, ok := atTexts(e)
		if ok {
			w.values(vals, true)
		}
	default: // numbers
		vals, ok := numbers(e)
		if ok {
			w.values(vals, false)
		}
	}
}

// values writes "Value":[…] for non-empty vals, empty entries as null.
func (w *jsonWriter) values(vals []string, quote bool) {
	if len(vals) == 0 {
		return
	}
	w.buf.WriteString(`,"Value":[`)
	for i, v := range vals {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		switch {
		case v == "":
			w.buf.WriteString("null")
		case quote:
			w.str(v)
		default:
			w.buf.WriteString(v)
		}
	}
	w.buf.WriteByte(']')
}

func (w *jsonWriter) personName(v string) {
	groups := strings.SplitN(v, "=", 3)
	names := [3]string{"Alphabetic", "Ideographic", "Phonetic"}
	wrote := false
	for i, g := range groups {
		g = strings.TrimRight(g, " ")
		if g == "" {
			continue
		}
		if wrote {
			w.buf.WriteByte(',')
		} else {
			w.buf.WriteByte('{')
		}
		wrote = true
		w.buf.WriteString(`"` + names[i] + `":`)
		w.str(g)
	}
	if !wrote {
		w.buf.WriteString("null")
		return
	}
	w.buf.WriteByte('}')
}

// str writes s (valid UTF-8) as a JSON string.
func (w *jsonWriter) str(s string) {
	const hex = "0123456789abcdef"
	w.buf.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			w.buf.WriteByte('\\')
			w.buf.WriteByte(c)
		case c == '\n':
			w.buf.WriteString(`\n`)
		case c == '\r':
			w.buf.WriteString(`\r`)
		case c == '\t':
			w.buf.WriteString(`\t`)
		case c < 0x20 || c == 0x7F:
			w.buf.WriteString(`\u00`)
			w.buf.WriteByte(hex[c>>4])
			w.buf.WriteByte(hex[c&0xF])
		case c < utf8.RuneSelf:
			w.buf.WriteByte(c)
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				w.buf.WriteString("\uFFFD")
			} else {
				w.buf.WriteString(s[i : i+n])
			}
			i += n
			continue
		}
		i++
	}
	w.buf.WriteByte('"')
}

// littleEndian is the value's bytes in little-endian order.
func littleEndian(e *elem) []byte {
	size := map[string]int{"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}[e.vr]
	if !e.be || size == 0 || len(e.val)%size != 0 {
		return e.val
	}
	out := make([]byte, len(e.val))
	for i := 0; i < len(out); i += size {
		for k := 0; k < size; k++ {
			out[i+k] = e.val[i+size-1-k]
		}
	}
	return out
}

// attributeValues renders a top-level attribute for Instance.Attributes (nil: left out).
func attributeValues(e *elem, dec *textDecoder) []string {
	if e.bulk >= 0 || e.seq || binaryVR(e.vr) {
		return nil
	}
	var vals []string
	switch {
	case textVR(e.vr):
		vals = texts(e, dec)
	case e.vr == "AT":
		vals, _ = atTexts(e)
	default:
		vals, _ = numbers(e)
	}
	for _, v := range vals {
		if v != "" {
			return vals
		}
	}
	return nil
}
