package dcm

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/suyashkumar/dicom"
)

// A tiny DICOM writer for tests: element values are encoded in the byte order of the
// transfer syntax, so that one description gives the same instance in every syntax.

type xctEl struct {
	t     Tag
	vr    string
	v     any  // string, []byte, []uint16, []int16, []uint32, []int32, []float32, []float64, []uint64, []Tag, []xctItem
	undef bool // sequence with undefined length
	raw   bool // v is []byte to copy as is, whatever the VR (e.g. a UN holding an implicit sequence)
}

type xctItem struct {
	els   []xctEl
	undef bool
}

type xctEnc struct{ implicit, big bool }

func xctEncOf(ts string) xctEnc {
	switch ts {
	case ImplicitVRLittleEndian:
		return xctEnc{implicit: true}
	case ExplicitVRBigEndian:
		return xctEnc{big: true}
	}
	return xctEnc{}
}

func (e xctEnc) bo() binary.AppendByteOrder {
	if e.big {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func (e xctEnc) dataset(els []xctEl) []byte {
	els = slices.Clone(els)
	slices.SortStableFunc(els, func(a, b xctEl) int { return int(int64(a.t) - int64(b.t)) })
	var b []byte
	for _, el := range els {
		b = e.element(b, el)
	}
	return b
}

func (e xctEnc) value(el xctEl) []byte {
	bo := e.bo()
	var b []byte
	switch v := el.v.(type) {
	case string:
		b = []byte(v)
		if len(b)%2 == 1 {
			pad := byte(' ')
			if el.vr == "UI" {
				pad = 0
			}
			b = append(b, pad)
		}
	case []byte:
		b = v
	case []uint16:
		for _, x := range v {
			b = bo.AppendUint16(b, x)
		}
	case []int16:
		for _, x := range v {
			b = bo.AppendUint16(b, uint16(x))
		}
	case []uint32:
		for _, x := range v {
			b = bo.AppendUint32(b, x)
		}
	case []int32:
		for _, x := range v {
			b = bo.AppendUint32(b, uint32(x))
		}
	case []uint64:
		for _, x := range v {
			b = bo.AppendUint64(b, x)
		}
	case []float32:
		for _, x := range v {
			b = bo.AppendUint32(b, math.Float32bits(x))
		}
	case []float64:
		for _, x := range v {
			b = bo.AppendUint64(b, math.Float64bits(x))
		}
	case []Tag:
		for _, x := range v {
			b = bo.AppendUint16(bo.AppendUint16(b, uint16(x>>16)), uint16(x))
		}
	case nil:
	default:
		panic(fmt.Sprintf("xctEnc: value %T", v))
	}
	return b
}

func (e xctEnc) header(b []byte, t Tag, vr string, n uint32) []byte {
	bo := e.bo()
	b = bo.AppendUint16(bo.AppendUint16(b, uint16(t>>16)), uint16(t))
	if e.implicit || t>>16 == 0xFFFE {
		return bo.AppendUint32(b, n)
	}
	b = append(b, vr...)
	if xcLongVR(vr) {
		return bo.AppendUint32(append(b, 0, 0), n)
	}
	return bo.AppendUint16(b, uint16(n))
}

func (e xctEnc) element(b []byte, el xctEl) []byte {
	items, isSeq := el.v.([]xctItem)
	if !isSeq {
		v := e.value(el)
		return append(e.header(b, el.t, el.vr, uint32(len(v))), v...)
	}
	var content []byte
	for _, it := range items {
		ds := e.dataset(it.els)
		if it.undef {
			content = e.header(content, xcTagItem, "", xcUndefined)
			content = append(content, ds...)
			content = e.header(content, xcTagItemDelim, "", 0)
		} else {
			content = e.header(content, xcTagItem, "", uint32(len(ds)))
			content = append(content, ds...)
		}
	}
	if el.undef {
		b = e.header(b, el.t, el.vr, xcUndefined)
		b = append(b, content...)
		return e.header(b, xcTagSeqDelim, "", 0)
	}
	b = e.header(b, el.t, el.vr, uint32(len(content)))
	return append(b, content...)
}

// xctPart10 wraps an encoded data set with a preamble and File Meta Information as
// WriteExplicitLE writes them.
func xctPart10(ts string, ds []byte) []byte {
	le := xctEnc{}
	meta := le.dataset([]xctEl{
		{t: 0x00020001, vr: "OB", v: []byte{0, 1}},
		{t: 0x00020002, vr: "UI", v: "1.2.840.10008.5.1.4.1.1.7"},
		{t: 0x00020003, vr: "UI", v: "1.2.3.4.5"},
		{t: TagTransferSyntaxUID, vr: "UI", v: ts},
		{t: 0x00020012, vr: "UI", v: "1.2.3.999"},
	})
	b := make([]byte, 128, 132+12+len(meta)+len(ds))
	b = append(b, "DICM"...)
	b = le.element(b, xctEl{t: 0x00020000, vr: "UL", v: []uint32{uint32(len(meta))}})
	return append(append(b, meta...), ds...)
}

func xctInstance(ts string, els []xctEl) []byte {
	ds := xctEncOf(ts).dataset(els)
	if ts == DeflatedExplicitVRLE {
		var z bytes.Buffer
		fw, _ := flate.NewWriter(&z, flate.BestCompression)
		fw.Write(ds)
		fw.Close()
		ds = z.Bytes()
	}
	return xctPart10(ts, ds)
}

func xctTranscode(t testing.TB, in []byte, ts string) []byte {
	t.Helper()
	var out bytes.Buffer
	n, err := WriteExplicitLE(&out, bytes.NewReader(in), ts)
	if err != nil {
		t.Fatalf("WriteExplicitLE(%s): %v", ts, err)
	}
	if n != int64(out.Len()) {
		t.Fatalf("WriteExplicitLE returned %d, wrote %d bytes", n, out.Len())
	}
	return out.Bytes()
}

// xctSameBytes reports the first difference of two byte strings.
func xctSameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(0, i-16)
	t.Errorf("%s: %d bytes, want %d; first difference at %d:\n got  % x\n want % x", what, len(got), len(want), i,
		got[lo:min(len(got), i+24)], want[lo:min(len(want), i+24)])
}

// xctImage is a data set using every numeric VR, nested sequences of both length forms and
// 16-bit signed pixel data; its VRs are what the dictionary gives for implicit VR.
func xctImage() []xctEl {
	return []xctEl{
		{t: 0x00080005, vr: "CS", v: "ISO_IR 100"},
		{t: 0x00080008, vr: "CS", v: `ORIGINAL\PRIMARY`},
		{t: TagSOPClassUID, vr: "UI", v: "1.2.840.10008.5.1.4.1.1.7"},
		{t: TagSOPInstanceUID, vr: "UI", v: "1.2.3.4.5"},
		{t: 0x00081115, vr: "SQ", v: []xctItem{}},              // empty, defined length
		{t: 0x00081120, vr: "SQ", v: []xctItem{}, undef: true}, // empty, undefined length
		{t: 0x00081140, vr: "SQ", v: []xctItem{
			{els: []xctEl{{t: 0x00081150, vr: "UI", v: "1.2.840.10008.5.1.4.1.1.2"}, {t: 0x00081155, vr: "UI", v: "1.2.3.4.6"}}},
			{els: []xctEl{{t: 0x00081155, vr: "UI", v: "1.2.3.4.7"}}, undef: true},
		}},
		{t: 0x00100010, vr: "PN", v: "Doe^Jane"},
		{t: 0x00180050, vr: "DS", v: "1.5"},
		{t: 0x00200013, vr: "IS", v: "7"},
		{t: 0x00204000, vr: "LT", v: "a comment"},
		{t: 0x00280002, vr: "US", v: []uint16{1}},
		{t: 0x00280004, vr: "CS", v: "MONOCHROME2"},
		{t: 0x00280009, vr: "AT", v: []Tag{0x00181063, 0x00209057}},
		{t: 0x00280010, vr: "US", v: []uint16{4}},
		{t: 0x00280011, vr: "US", v: []uint16{3}},
		{t: 0x00280030, vr: "DS", v: `0.5\0.5`},
		{t: 0x00280100, vr: "US", v: []uint16{16}},
		{t: 0x00280101, vr: "US", v: []uint16{12}},
		{t: 0x00280102, vr: "US", v: []uint16{11}},
		{t: 0x00280103, vr: "US", v: []uint16{1}},
		{t: 0x00280106, vr: "SS", v: []int16{-5}},
		{t: 0x00281050, vr: "DS", v: "40"},
		{t: 0x00281051, vr: "DS", v: "400"},
		{t: 0x00281052, vr: "DS", v: "-1024"},
		{t: 0x00281053, vr: "DS", v: "1"},
		{t: 0x0040A730, vr: "SQ", undef: true, v: []xctItem{
			{undef: true, els: []xctEl{
				{t: 0x0040A010, vr: "CS", v: "CONTAINS"},
				{t: 0x0040A160, vr: "UT", v: "some text"},
				{t: 0x0040A162, vr: "SL", v: []int32{-7, 1 << 30}},
				{t: 0x0040A730, vr: "SQ", v: []xctItem{{els: []xctEl{
					{t: 0x00700022, vr: "FL", v: []float32{1.5, -2.25}},
				}}}},
			}},
			{els: nil},
		}},
		{t: 0x00603020, vr: "UL", v: []uint32{1, 0xDEADBEEF}},
		{t: 0x00640009, vr: "OF", v: []float32{0.25, 3}},
		{t: 0x00660022, vr: "OD", v: []float64{math.Pi, -1}},
		{t: 0x00720074, vr: "FD", v: []float64{2.5}},
		{t: 0x00720075, vr: "OL", v: []uint32{9, 10}},
		{t: 0x00720081, vr: "OV", v: []uint64{1 << 40}},
		{t: 0x00720082, vr: "SV", v: []uint64{uint64(1<<63) + 5}},
		{t: 0x00720083, vr: "UV", v: []uint64{77}},
		{t: TagPixelData, vr: "OW", v: []int16{-1000, -5, 0, 1, 2, 40, 100, 240, 1000, 2047, -2048, 7}},
	}
}

// Every native syntax, and the Deflated one, transcodes to the same Explicit VR Little
// Endian bytes; Explicit VR Little Endian is copied unchanged.
func TestWriteExplicitLESyntaxes(t *testing.T) {
	want := xctInstance(ExplicitVRLittleEndian, xctImage())
	for _, ts := range []string{ImplicitVRLittleEndian, ExplicitVRLittleEndian, ExplicitVRBigEndian, DeflatedExplicitVRLE} {
		in := xctInstance(ts, xctImage())
		xctSameBytes(t, ts, xctTranscode(t, in, ts), want)
		xctSameBytes(t, ts+` with ts ""`, xctTranscode(t, in, ""), want)
	}
}

// Implicit VR: VRs the dictionary cannot give plainly.
func TestWriteExplicitLEImplicitVRs(t *testing.T) {
	long := strings.Repeat("ABCD\\", 14000) // 70000 bytes: too long for a 16-bit length
	privSeq := func(vr string, inner string) xctEl {
		return xctEl{t: 0x00091002, vr: vr, undef: true, v: []xctItem{{undef: true, els: []xctEl{
			{t: 0x00091003, vr: inner, v: []byte{1, 2, 3, 4}},
			{t: 0x00100010, vr: "PN", v: "Inner^Name"},
		}}}}
	}
	// The VRs are what the output must have; the implicit encoding ignores them.
	els := []xctEl{
		{t: 0x00080000, vr: "UL", v: []uint32{100}},
		{t: 0x00080008, vr: "UN", v: long},
		{t: 0x0008FFF0, vr: "UN", v: []byte{9, 9}},
		{t: 0x00090010, vr: "LO", v: "ACME 1.0"},
		{t: 0x00091001, vr: "UN", v: []byte{1, 2, 3, 4, 5, 6}},
		privSeq("SQ", "UN"),
		{t: 0x00280100, vr: "US", v: []uint16{8}},
		{t: 0x00280106, vr: "US", v: []uint16{3}},
		{t: 0x00283006, vr: "US", v: []uint16{1, 2}},
		{t: 0x60020010, vr: "US", v: []uint16{2}},
		{t: 0x60023000, vr: "OW", v: []byte{0xAA, 0x55}},
		{t: TagPixelData, vr: "OB", v: []byte{1, 2, 3, 4, 5, 6}},
	}
	in := xctInstance(ImplicitVRLittleEndian, els)
	want := xctInstance(ExplicitVRLittleEndian, els)
	xctSameBytes(t, "implicit", xctTranscode(t, in, ImplicitVRLittleEndian), want)

	// LUT Data longer than 0xFFFF is OW; Pixel Data without Bits Allocated is OW.
	lut := make([]uint16, 40000)
	in = xctInstance(ImplicitVRLittleEndian, []xctEl{{t: 0x00283006, v: lut}, {t: TagPixelData, v: []byte{1, 2}}})
	want = xctInstance(ExplicitVRLittleEndian, []xctEl{{t: 0x00283006, vr: "OW", v: lut}, {t: TagPixelData, vr: "OW", v: []byte{1, 2}}})
	xctSameBytes(t, "LUT", xctTranscode(t, in, ImplicitVRLittleEndian), want)
}

// A UN of undefined length holds an Implicit VR Little Endian sequence (PS3.5 6.2.2), in
// explicit syntaxes of either byte order; it is rewritten as an explicit SQ.
func TestWriteExplicitLEUNSequence(t *testing.T) {
	content := xctEnc{implicit: true}.element(nil, xctEl{t: 0xFFFF0000, undef: true, v: []xctItem{
		{undef: true, els: []xctEl{{t: 0x00100010, v: "Inner^Name"}, {t: 0x00091003, v: []byte{1, 2}}}},
		{els: []xctEl{{t: 0x00280010, v: []uint16{513}}}},
	}})
	content = content[8:] // the items and the sequence delimiter, without the element header
	want := xctInstance(ExplicitVRLittleEndian, []xctEl{
		{t: 0x00091002, vr: "SQ", undef: true, v: []xctItem{
			{undef: true, els: []xctEl{{t: 0x00100010, vr: "PN", v: "Inner^Name"}, {t: 0x00091003, vr: "UN", v: []byte{1, 2}}}},
			{els: []xctEl{{t: 0x00280010, vr: "US", v: []uint16{513}}}},
		}},
		{t: 0x00100020, vr: "LO", v: "ID"},
	})
	for _, ts := range []string{ExplicitVRLittleEndian, ExplicitVRBigEndian} {
		e := xctEncOf(ts)
		ds := e.header(nil, 0x00091002, "UN", xcUndefined)
		ds = append(ds, content...)
		ds = e.element(ds, xctEl{t: 0x00100020, vr: "LO", v: "ID"})
		xctSameBytes(t, ts, xctTranscode(t, xctPart10(ts, ds), ts), want)
	}
}

func TestWriteExplicitLEBigEndianPixels(t *testing.T) {
	for _, c := range []struct {
		ba uint16
		vr string
		v  any
	}{
		{8, "OB", []byte{1, 2, 3, 4}},
		{8, "OW", []byte{1, 2, 3, 4}},
		{16, "OW", []uint16{0x0102, 0x0304}},
		{32, "OW", []uint32{0x01020304, 0xA0B0C0D0}},
	} {
		els := []xctEl{{t: xcTagBitsAlloc, vr: "US", v: []uint16{c.ba}}, {t: TagPixelData, vr: c.vr, v: c.v}}
		got := xctTranscode(t, xctInstance(ExplicitVRBigEndian, els), ExplicitVRBigEndian)
		xctSameBytes(t, fmt.Sprint(c.ba, c.vr), got, xctInstance(ExplicitVRLittleEndian, els))
	}
}

// When a defined length would need more than xcSpillLimit bytes held back, the open
// sequences and items get undefined length; later ones are defined again.
func TestWriteExplicitLESpill(t *testing.T) {
	old := xcSpillLimit
	xcSpillLimit = 256
	t.Cleanup(func() { xcSpillLimit = old })
	big := bytes.Repeat([]byte{7}, 1000)
	mk := func(spilled bool) []xctEl {
		return []xctEl{
			{t: 0x00081140, vr: "SQ", undef: spilled, v: []xctItem{
				{els: []xctEl{{t: 0x00081155, vr: "UI", v: "1.2.3"}}},
				{undef: spilled, els: []xctEl{
					{t: 0x00081155, vr: "UI", v: "1.2.4"},
					{t: 0x00089215, vr: "SQ", undef: spilled, v: []xctItem{{undef: spilled, els: []xctEl{
						{t: 0x00091001, vr: "OB", v: big},
					}}}},
					{t: 0x00100010, vr: "SQ", v: []xctItem{{els: []xctEl{{t: 0x00100010, vr: "PN", v: "X"}}}}},
				}},
			}},
			{t: 0x00400275, vr: "SQ", v: []xctItem{{els: []xctEl{{t: 0x00401001, vr: "SH", v: "X"}}}}},
		}
	}
	got := xctTranscode(t, xctInstance(ExplicitVRLittleEndian, mk(false)), ExplicitVRLittleEndian)
	want := xctInstance(ExplicitVRLittleEndian, mk(true))
	xctSameBytes(t, "spilled", got, want)
	xctSameBytes(t, "again", xctTranscode(t, got, ExplicitVRLittleEndian), want)
}

func TestWriteExplicitLEErrors(t *testing.T) {
	good := xctInstance(ExplicitVRLittleEndian, xctImage())
	for _, c := range []struct {
		name string
		in   []byte
		ts   string
		is   error
	}{
		{"encapsulated ts", good, "1.2.840.10008.1.2.4.50", ErrNotNative},
		{"encapsulated meta", xctInstance("1.2.840.10008.1.2.5", nil), "", ErrNotNative},
		{"ts mismatch", good, ImplicitVRLittleEndian, nil},
		{"no DICM", good[4:], "", nil},
		{"truncated value", good[:len(good)-3], "", io.ErrUnexpectedEOF},
		{"truncated header", good[:len(good)-26], "", io.ErrUnexpectedEOF},
		{"encapsulated in native", xctInstance(ExplicitVRLittleEndian, []xctEl{{t: TagPixelData, vr: "OB", undef: true, v: []xctItem{}}}), "", ErrNotNative},
		{"item overrun", xctPart10(ExplicitVRLittleEndian, append(xctEnc{}.header(nil, 0x00081140, "SQ", 8), xctEnc{}.header(nil, xcTagItem, "", 100)...)), "", nil},
		{"stray delimiter", xctPart10(ExplicitVRLittleEndian, xctEnc{}.header(nil, xcTagItemDelim, "", 0)), "", nil},
		{"bad VR", xctPart10(ExplicitVRLittleEndian, []byte{8, 0, 0x20, 0, 'a', 'b', 0, 0}), "", nil},
		{"too deep", xctPart10(ImplicitVRLittleEndian, bytes.Repeat(append(xctEnc{implicit: true}.header(nil, 0x00081140, "", xcUndefined), xctEnc{implicit: true}.header(nil, xcTagItem, "", xcUndefined)...), 100)), "", nil},
	} {
		var out bytes.Buffer
		n, err := WriteExplicitLE(&out, bytes.NewReader(c.in), c.ts)
		if err == nil || c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.is)
		}
		if n != int64(out.Len()) {
			t.Errorf("%s: n = %d, wrote %d", c.name, n, out.Len())
		}
		if errors.Is(c.is, ErrNotNative) && c.name != "encapsulated in native" && n != 0 {
			t.Errorf("%s: wrote %d bytes before refusing", c.name, n)
		}
	}
}

// A 64 MiB big-endian pixel data value goes through with a bounded amount of memory.
func TestWriteExplicitLEStreams(t *testing.T) {
	const size = 64 << 20
	e := xctEnc{big: true}
	ds := e.element(nil, xctEl{t: xcTagBitsAlloc, vr: "US", v: []uint16{16}})
	ds = e.header(ds, TagPixelData, "OW", size)
	in := io.MultiReader(bytes.NewReader(xctPart10(ExplicitVRBigEndian, ds)), io.LimitReader(xctPattern{}, size))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, err := WriteExplicitLE(io.Discard, in, ExplicitVRBigEndian)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(xctPart10(ExplicitVRLittleEndian, nil)) + 10 + 12 + size); n != want {
		t.Errorf("wrote %d bytes, want %d", n, want)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("allocated %d bytes for a %d-byte value", alloc, size)
	}
}

type xctPattern struct{}

func (xctPattern) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i)
	}
	return len(p), nil
}

// ---- samples

func xctSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir, name))
	if err != nil {
		t.Skipf("sample %s not available: %v", name, err)
	}
	return b
}

// xctMetaEnd is the offset of the data set in a Part 10 stream with a meta group length.
func xctMetaEnd(b []byte) int {
	return 132 + 12 + int(binary.LittleEndian.Uint32(b[140:]))
}

var xctELESamples = []string{"CT_small.dcm", "MR_small.dcm", "CT_enhanced_multiframe_native.dcm",
	"PT_nested_sq_icon.dcm", "CR_small_pcir.dcm", "test-SR.dcm", "examples_overlay.dcm",
	"liver_1frame.dcm", "chrGerm.dcm", "chrH31.dcm"}

func TestWriteExplicitLESamplesRoundTrip(t *testing.T) {
	for _, name := range xctELESamples {
		in := xctSample(t, name)
		out := xctTranscode(t, in, ExplicitVRLittleEndian)
		xctSameBytes(t, name, out[xctMetaEnd(out):], in[xctMetaEnd(in):])
	}
	for _, name := range []string{"MR_small_RLE.dcm", "examples_ybr_color.dcm", "JPGExtended.dcm"} {
		if _, err := WriteExplicitLE(io.Discard, bytes.NewReader(xctSample(t, name)), ""); !errors.Is(err, ErrNotNative) {
			t.Errorf("%s: err = %v, want ErrNotNative", name, err)
		}
	}
	if _, err := WriteExplicitLE(io.Discard, bytes.NewReader(xctSample(t, "MR_truncated.dcm")), ""); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("MR_truncated.dcm: err = %v, want truncated", err)
	}
}

// xctParse parses with suyashkumar/dicom, which may panic on odd input.
func xctParse(b []byte) (ds dicom.Dataset, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return dicom.Parse(bytes.NewReader(b), int64(len(b)), nil)
}

// xctValues flattens a parsed data set to tag path -> value text, ignoring group 0002 and
// the differences an implicit VR parse makes (bytes vs strings for private creators).
func xctValues(ds dicom.Dataset) map[string]string {
	m := map[string]string{}
	var walk func(prefix string, els []*dicom.Element)
	walk = func(prefix string, els []*dicom.Element) {
		for _, e := range els {
			key := prefix + e.Tag.String()
			if e.Tag.Group == 2 {
				continue
			}
			switch v := e.Value.GetValue().(type) {
			case []*dicom.SequenceItemValue:
				for i, it := range v {
					walk(fmt.Sprintf("%s/%d/", key, i), it.GetValue().([]*dicom.Element))
				}
			case dicom.PixelDataInfo:
				for i, f := range v.Frames {
					if nf, err := f.GetNativeFrame(); err == nil {
						m[fmt.Sprintf("%s#%d", key, i)] = fmt.Sprint(nf.RawDataSlice())
					}
				}
			case []byte:
				m[key] = strings.TrimRight(string(v), " \x00")
			case []string:
				m[key] = strings.TrimRight(strings.Join(v, `\`), " \x00")
			default:
				m[key] = fmt.Sprint(v)
			}
		}
	}
	walk("", ds.Elements)
	return m
}

// Each native sample parses to the same values before and after transcoding; the implicit and
// big endian MR_small variants give MR_small's values, pixels included.
func TestWriteExplicitLESamplesValues(t *testing.T) {
	ref := xctSample(t, "MR_small.dcm")
	refDS, err := xctParse(ref)
	if err != nil {
		t.Fatal(err)
	}
	refVals := xctValues(refDS)
	for _, name := range append([]string{"MR_small_implicit.dcm", "MR_small_bigendian.dcm", "rtdose.dcm", "image_dfl.dcm"}, xctELESamples...) {
		in := xctSample(t, name)
		out := xctTranscode(t, in, "")
		inDS, err1 := xctParse(in)
		outDS, err2 := xctParse(out)
		if err1 != nil || err2 != nil {
			t.Logf("%s: suyashkumar/dicom cannot parse: original %v, transcoded %v", name, err1, err2)
			if err2 != nil && err1 == nil {
				t.Errorf("%s: transcoded output does not parse: %v", name, err2)
			}
			continue
		}
		got := xctValues(outDS)
		if diff := cmp.Diff(xctValues(inDS), got); diff != "" {
			t.Errorf("%s: values differ after transcoding (-original +transcoded):\n%s", name, diff)
		}
		if strings.HasPrefix(name, "MR_small_") {
			frames := 0
			for k, v := range refVals {
				if strings.HasPrefix(k, "(7fe0,0010)#") {
					frames++
					if got[k] != v {
						t.Errorf("%s: pixel data %s differs from MR_small.dcm", name, k)
					}
				}
			}
			if frames != 1 {
				t.Errorf("%s: compared %d frames, want 1", name, frames)
			}
		}
	}
}

// ---- fuzz and benchmark

func FuzzWriteExplicitLE(f *testing.F) {
	for _, ts := range []string{ImplicitVRLittleEndian, ExplicitVRLittleEndian, ExplicitVRBigEndian} {
		f.Add(xctInstance(ts, xctImage()), byte(0))
	}
	f.Add(xctInstance(ImplicitVRLittleEndian, []xctEl{{t: 0x00091002, undef: true, v: []xctItem{{undef: true, els: []xctEl{{t: 0x00100010, v: "A"}}}}}}), byte(1))
	for _, name := range []string{"MR_small_implicit.dcm", "CR_small_pcir.dcm", "test-SR.dcm", "UN_sequence.dcm"} {
		if b, err := os.ReadFile(filepath.Join(samplesDir, name)); err == nil {
			f.Add(b, byte(0))
		}
	}
	syntaxes := []string{"", ImplicitVRLittleEndian, ExplicitVRLittleEndian, ExplicitVRBigEndian, DeflatedExplicitVRLE}
	f.Fuzz(func(t *testing.T, in []byte, which byte) {
		old := xcSpillLimit
		xcSpillLimit = 512 // exercise the fallback too
		defer func() { xcSpillLimit = old }()
		var out bytes.Buffer
		n, err := WriteExplicitLE(&out, bytes.NewReader(in), syntaxes[int(which)%len(syntaxes)])
		if n != int64(out.Len()) {
			t.Fatalf("n = %d, wrote %d", n, out.Len())
		}
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatal(err)
			}
			return
		}
		// The output reads back, and transcoding is idempotent.
		var again bytes.Buffer
		if _, err := WriteExplicitLE(&again, bytes.NewReader(out.Bytes()), ExplicitVRLittleEndian); err != nil {
			t.Fatalf("output does not read back: %v", err)
		}
		if !bytes.Equal(again.Bytes(), out.Bytes()) {
			t.Fatalf("transcoding the output changed it")
		}
	})
}

func BenchmarkWriteExplicitLE(b *testing.B) {
	pix := make([]uint16, 512*512*8)
	for i := range pix {
		pix[i] = uint16(i)
	}
	for _, ts := range []string{ImplicitVRLittleEndian, ExplicitVRLittleEndian, ExplicitVRBigEndian} {
		els := append(xctImage()[:len(xctImage())-1], xctEl{t: TagPixelData, vr: "OW", v: pix})
		in := xctInstance(ts, els)
		b.Run(ts, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := WriteExplicitLE(io.Discard, bytes.NewReader(in), ts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
