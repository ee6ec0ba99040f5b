package dcm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
)

// testWriter builds small Part 10 streams for the tests (test-only; explicit or implicit VR,
// either byte order).
type testWriter struct {
	buf      bytes.Buffer
	implicit bool
	big      bool
}

func (w *testWriter) order() binary.ByteOrder {
	if w.big {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func (w *testWriter) tag(t Tag) {
	var b [4]byte
	w.order().PutUint16(b[0:], uint16(t>>16))
	w.order().PutUint16(b[2:], uint16(t))
	w.buf.Write(b[:])
}

func (w *testWriter) u32(v uint32) {
	var b [4]byte
	w.order().PutUint32(b[:], v)
	w.buf.Write(b[:])
}

// header writes an element header with length n.
func (w *testWriter) header(t Tag, vr string, n uint32) {
	w.tag(t)
	if w.implicit {
		w.u32(n)
		return
	}
	w.buf.WriteString(vr)
	if longVR(vr) {
		w.buf.Write([]byte{0, 0})
		w.u32(n)
		return
	}
	var b [2]byte
	w.order().PutUint16(b[:], uint16(n))
	w.buf.Write(b[:])
}

func (w *testWriter) raw(t Tag, vr string, v []byte) {
	w.header(t, vr, uint32(len(v)))
	w.buf.Write(v)
}

func (w *testWriter) str(t Tag, vr, s string) {
	if len(s)%2 == 1 {
		if vr == "UI" {
			s += "\x00"
		} else {
			s += " "
		}
	}
	w.raw(t, vr, []byte(s))
}

func (w *testWriter) us(t Tag, vals ...uint16) {
	b := make([]byte, 2*len(vals))
	for i, v := range vals {
		w.order().PutUint16(b[2*i:], v)
	}
	w.raw(t, "US", b)
}

// seq opens a sequence of undefined length; item/endItem/endSeq follow.
func (w *testWriter) seq(t Tag) { w.header(t, "SQ", undefinedLength) }
func (w *testWriter) item()     { w.tag(tagItem); w.u32(undefinedLength) }
func (w *testWriter) endItem()  { w.tag(tagItemDelim); w.u32(0) }
func (w *testWriter) endSeq()   { w.tag(tagSeqDelim); w.u32(0) }

// part10 wraps a dataset in a preamble and File Meta Information.
func part10(ts, sopInstance string, dataset []byte) []byte {
	var m testWriter
	m.str(0x00020001, "OB", "\x00\x01")
	m.str(0x00020002, "UI", "1.2.840.10008.5.1.4.1.1.2")
	m.str(0x00020003, "UI", sopInstance)
	m.str(0x00020010, "UI", ts)
	var out testWriter
	out.buf.Write(make([]byte, 128))
	out.buf.WriteString("DICM")
	out.raw(0x00020000, "UL", binary.LittleEndian.AppendUint32(nil, uint32(m.buf.Len())))
	out.buf.Write(m.buf.Bytes())
	out.buf.Write(dataset)
	return out.buf.Bytes()
}

// synthetic is a small CT instance in the given transfer syntax: a nested sequence of
// undefined length holding a defined-length one, a private block and rows×cols 16-bit
// native pixel data over frames frames.
func synthetic(ts string, rows, cols, frames int) []byte {
	w := &testWriter{implicit: ts == ImplicitVRLittleEndian, big: ts == ExplicitVRBigEndian}
	w.str(0x00080005, "CS", "ISO_IR 100")
	w.str(0x00080016, "UI", "1.2.840.10008.5.1.4.1.1.2")
	w.str(0x00080018, "UI", "1.2.3.4.5.6")
	w.str(0x00080060, "CS", "CT")
	w.seq(0x00081110) // Referenced Study Sequence, undefined length
	w.item()
	w.str(0x00081150, "UI", "1.2.3")
	inner := &testWriter{implicit: w.implicit, big: w.big}
	inner.str(0x00081155, "UI", "1.2.3.4")
	var it testWriter
	it.big = w.big
	it.tag(tagItem)
	it.u32(uint32(inner.buf.Len()))
	it.buf.Write(inner.buf.Bytes())
	w.header(0x00081199, "SQ", uint32(it.buf.Len())) // defined-length sequence and item
	w.buf.Write(it.buf.Bytes())
	w.endItem()
	w.endSeq()
	w.raw(0x00100010, "PN", []byte("M\xfcller^J\xf6rg "))
	w.str(0x00100020, "LO", "ID-1")
	w.str(0x00180050, "DS", "0.5")
	w.str(0x0020000D, "UI", "1.2.3.4.5")
	w.str(0x0020000E, "UI", "1.2.3.4.5.1")
	w.us(0x00280002, 1)
	w.str(0x00280004, "CS", "MONOCHROME2")
	if frames != 1 {
		w.str(0x00280008, "IS", strconv.Itoa(frames))
	}
	w.us(0x00280010, uint16(rows))
	w.us(0x00280011, uint16(cols))
	w.us(0x00280100, 16)
	w.us(0x00280101, 12)
	w.us(0x00280102, 11)
	w.us(0x00280103, 0)
	w.str(0x00290010, "LO", "ACME 1.0")
	w.raw(0x00291010, "OB", []byte{1, 2, 3, 4})
	n := rows * cols * 2 * frames
	w.header(TagPixelData, "OW", uint32(n))
	px := make([]byte, n)
	for i := range px {
		px[i] = byte(i)
	}
	w.buf.Write(px)
	return part10(ts, "1.2.3.4.5.6", w.buf.Bytes())
}

func inspectBytes(b []byte, lim Limits) (*Instance, error) {
	return Inspect(bytes.NewReader(b), lim)
}

func reasonOf(err error) uint16 {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Reason
	}
	return 0
}

func TestSyntheticSyntaxes(t *testing.T) {
	var want map[Tag][]string
	for _, ts := range []string{ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian} {
		b := synthetic(ts, 4, 4, 1)
		inst, err := inspectBytes(b, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", ts, err)
		}
		if inst.Size != int64(len(b)) {
			t.Errorf("%s: size %d, want %d", ts, inst.Size, len(b))
		}
		if got := inst.Attributes[0x00100010]; len(got) != 1 || got[0] != "Müller^Jörg" {
			t.Errorf("%s: PatientName %q", ts, got)
		}
		p := inst.Pixel
		if p == nil || p.Rows != 4 || p.FrameLength != 32 || p.BigEndian != (ts == ExplicitVRBigEndian) {
			t.Errorf("%s: pixel %+v", ts, p)
		}
		if want == nil {
			want = inst.Attributes
		} else if !equalAttrs(want, inst.Attributes) {
			t.Errorf("%s: attributes differ from Explicit VR LE:\n%v\n%v", ts, inst.Attributes, want)
		}
		px := b[p.Offset : p.Offset+p.FrameLength]
		if px[0] != 0 || px[31] != 31 {
			t.Errorf("%s: pixel offset wrong", ts)
		}
		if !strings.Contains(string(inst.Metadata), `"00081110":{"vr":"SQ","Value":[{"00081150":{"vr":"UI","Value":["1.2.3"]},"00081199":{"vr":"SQ","Value":[{"00081155":{"vr":"UI","Value":["1.2.3.4"]}}]}}]}`) {
			t.Errorf("%s: nested sequences not in metadata: %s", ts, inst.Metadata)
		}
	}
}

func equalAttrs(a, b map[Tag][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\\") != strings.Join(b[k], "\\") {
			return false
		}
	}
	return true
}

// TestTruncatedPrefixes cuts a valid instance at every byte: no prefix may be accepted, except
// one ending at the element boundary after (0020,000E), which is a complete, smaller dataset
// (undetectable in DICOM; documented gap).
func TestTruncatedPrefixes(t *testing.T) {
	for _, ts := range []string{ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian} {
		b := synthetic(ts, 2, 2, 1)
		boundary := bytes.Index(b, []byte("1.2.3.4.5.1\x00")) + 12
		for n := 0; n < len(b); n++ {
			inst, err := inspectBytes(b[:n], Limits{})
			if err == nil {
				if n == boundary && inst.Pixel == nil {
					continue
				}
				t.Fatalf("%s: prefix of %d/%d bytes accepted", ts, n, len(b))
			}
			if reasonOf(err) == 0 {
				t.Fatalf("%s: prefix %d: not a refusal: %v", ts, n, err)
			}
		}
		if _, err := inspectBytes(b, Limits{}); err != nil {
			t.Fatalf("%s: full instance refused: %v", ts, err)
		}
	}
}

func TestSyntheticRefusals(t *testing.T) {
	good := synthetic(ExplicitVRLittleEndian, 4, 4, 1)
	replace := func(old, new string) []byte {
		return bytes.Replace(append([]byte(nil), good...), []byte(old), []byte(new), 1)
	}
	// A value length past the end of the stream: the Patient ID (0010,0020) LO length 4 → 0x7FF0.
	long := replace("\x10\x00\x20\x00LO\x04\x00", "\x10\x00\x20\x00LO\xf0\x7f")
	// Pixel Data shorter than its frames.
	short := replace("\x28\x00\x10\x00US\x02\x00\x04\x00", "\x28\x00\x10\x00US\x02\x00\x05\x00")
	noMeta := good[132:]
	unclosed := func() []byte {
		w := &testWriter{}
		w.str(0x00080016, "UI", "1.2")
		w.seq(0x00081110)
		w.item()
		w.str(0x00081150, "UI", "1.2.3")
		return part10(ExplicitVRLittleEndian, "1.2", w.buf.Bytes())
	}()
	deep := func() []byte {
		w := &testWriter{}
		for i := 0; i < 40; i++ {
			w.seq(0x00081110)
			w.item()
		}
		for i := 0; i < 40; i++ {
			w.endItem()
			w.endSeq()
		}
		return part10(ExplicitVRLittleEndian, "1.2", w.buf.Bytes())
	}()
	odd := replace("\x08\x00\x60\x00CS\x02\x00CT", "\x08\x00\x60\x00CS\x01\x00CT")
	for _, c := range []struct {
		name   string
		in     []byte
		lim    Limits
		reason uint16
		msg    string
	}{
		{"unknown ts", part10("1.2.3.999", "1.2.3.4.5.6", good[len(part10(ExplicitVRLittleEndian, "1.2.3.4.5.6", nil)):]), Limits{}, ReasonTransferSyntax, "not supported"},
		{"deflate", part10(DeflatedExplicitVRLE, "1.2.3.4.5.6", nil), Limits{}, ReasonTransferSyntax, "Deflated"},
		{"no meta", noMeta, Limits{}, ReasonCannotUnderstand, "DICM"},
		{"empty", nil, Limits{}, ReasonCannotUnderstand, "DICM"},
		{"value past eof", long, Limits{}, ReasonProcessingFailure, "truncated"},
		{"value past max size", long, Limits{MaxSize: int64(len(good))}, ReasonOutOfResources, "larger"},
		{"max size", good, Limits{MaxSize: int64(len(good) - 1)}, ReasonOutOfResources, "larger"},
		{"max header", good, Limits{MaxHeader: 200}, ReasonOutOfResources, "memory"},
		{"short pixel data", short, Limits{}, ReasonProcessingFailure, "shorter than its frames"},
		{"unclosed sequence", unclosed, Limits{}, ReasonProcessingFailure, "truncated"},
		{"too deep", deep, Limits{}, ReasonProcessingFailure, "nested"},
		{"odd length", odd, Limits{}, ReasonProcessingFailure, "odd"},
		{"sop mismatch", part10(ExplicitVRLittleEndian, "9.9", good[len(part10(ExplicitVRLittleEndian, "1.2.3.4.5.6", nil)):]), Limits{}, ReasonDataSetMismatch, "Media Storage"},
	} {
		_, err := inspectBytes(c.in, c.lim)
		if reasonOf(err) != c.reason || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: got %v (reason %#x), want reason %#x with %q", c.name, err, reasonOf(err), c.reason, c.msg)
		}
	}
	if _, err := inspectBytes(good, Limits{MaxSize: int64(len(good)), MaxHeader: 4096}); err != nil {
		t.Errorf("limits exactly met: %v", err)
	}
}

type failingReader struct{ r io.Reader }

func (f failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, io.ErrClosedPipe
	}
	return n, err
}

func TestReadErrorIsNotRefusal(t *testing.T) {
	b := synthetic(ExplicitVRLittleEndian, 2, 2, 1)
	_, err := Inspect(failingReader{bytes.NewReader(b[:300])}, Limits{})
	if err == nil || reasonOf(err) != 0 || !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("got %v", err)
	}
}

func TestBulkThreshold(t *testing.T) {
	b := synthetic(ExplicitVRLittleEndian, 2, 2, 1)
	inst, err := inspectBytes(b, Limits{BulkThreshold: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(inst.Bulk) != 2 || inst.Bulk[0].Path != "00291010" || inst.Bulk[1].Path != "7FE00010" {
		t.Fatalf("bulk %+v", inst.Bulk)
	}
	r := inst.Bulk[0]
	if !bytes.Equal(b[r.Offset:r.Offset+r.Length], []byte{1, 2, 3, 4}) {
		t.Errorf("bulk range wrong")
	}
	if !strings.Contains(string(inst.Metadata), `"00291010":{"vr":"OB","BulkDataURI":"{bulk}/00291010"}`) {
		t.Errorf("metadata: %s", inst.Metadata)
	}
	inst, _ = inspectBytes(b, Limits{})
	if !strings.Contains(string(inst.Metadata), `"00291010":{"vr":"OB","InlineBinary":"AQIDBA=="}`) {
		t.Errorf("metadata: %s", inst.Metadata)
	}
}

// encapsulated builds an encapsulated instance from fragments with the given BOT.
func encapsulated(frames int, bot []uint32, frags ...[]byte) []byte {
	w := &testWriter{}
	w.str(0x00080016, "UI", "1.2.840.10008.5.1.4.1.1.2")
	w.str(0x00080018, "UI", "1.2.3.4.5.6")
	w.str(0x0020000D, "UI", "1.2.3.4.5")
	w.str(0x0020000E, "UI", "1.2.3.4.5.1")
	w.us(0x00280002, 1)
	w.str(0x00280008, "IS", strconv.Itoa(frames))
	w.us(0x00280010, 8)
	w.us(0x00280011, 8)
	w.us(0x00280100, 8)
	w.header(TagPixelData, "OB", undefinedLength)
	w.tag(tagItem)
	w.u32(uint32(4 * len(bot)))
	for _, o := range bot {
		w.u32(o)
	}
	for _, f := range frags {
		w.tag(tagItem)
		w.u32(uint32(len(f)))
		w.buf.Write(f)
	}
	w.endSeq()
	return part10("1.2.840.10008.1.2.4.50", "1.2.3.4.5.6", w.buf.Bytes())
}

func TestEncapsulatedFrames(t *testing.T) {
	soi := []byte{0xFF, 0xD8, 1, 2}
	cont := []byte{3, 4, 5, 6}
	for _, c := range []struct {
		name   string
		in     []byte
		frames []int // fragments per frame; nil: refused
	}{
		{"one per frame", encapsulated(2, nil, soi, soi), []int{1, 1}},
		{"bot", encapsulated(2, []uint32{0, 24}, soi, cont, soi), []int{2, 1}},
		{"one frame", encapsulated(1, nil, soi, cont, cont), []int{3}},
		{"markers", encapsulated(2, nil, soi, cont, soi, cont), []int{2, 2}},
		{"ambiguous", encapsulated(2, nil, cont, cont, cont), nil},
		{"bad bot", encapsulated(2, []uint32{0, 10}, soi, soi), nil},
		{"bot count", encapsulated(3, []uint32{0, 12}, soi, soi), nil},
	} {
		inst, err := inspectBytes(c.in, Limits{})
		if c.frames == nil {
			if reasonOf(err) != ReasonProcessingFailure {
				t.Errorf("%s: got %v, want refusal", c.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		var got []int
		for _, f := range inst.Pixel.Frames {
			got = append(got, len(f))
			for _, g := range f {
				if g.Offset+g.Length > int64(len(c.in)) {
					t.Errorf("%s: fragment outside the stream", c.name)
				}
			}
		}
		if len(got) != len(c.frames) {
			t.Errorf("%s: frames %v, want %v", c.name, got, c.frames)
			continue
		}
		for i := range got {
			if got[i] != c.frames[i] {
				t.Errorf("%s: frames %v, want %v", c.name, got, c.frames)
			}
		}
		first := inst.Pixel.Frames[0][0]
		if !bytes.Equal(c.in[first.Offset:first.Offset+4], soi) && c.name != "ambiguous" {
			t.Errorf("%s: first fragment offset wrong", c.name)
		}
	}
}

// TestUNSequence: a VR UN element of undefined length is read as an Implicit VR LE sequence.
func TestUNSequence(t *testing.T) {
	w := &testWriter{}
	w.str(0x00080016, "UI", "1.2.840.10008.5.1.4.1.1.2")
	w.str(0x00080018, "UI", "1.2.3.4.5.6")
	w.str(0x0020000D, "UI", "1.2.3.4.5")
	w.str(0x0020000E, "UI", "1.2.3.4.5.1")
	w.str(0x00450010, "LO", "ACME")
	w.header(0x00451001, "UN", undefinedLength)
	w.item()
	in := &testWriter{implicit: true}
	in.str(0x00100020, "LO", "X1")
	w.buf.Write(in.buf.Bytes())
	w.endItem()
	w.endSeq()
	inst, err := inspectBytes(part10(ExplicitVRLittleEndian, "1.2.3.4.5.6", w.buf.Bytes()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(inst.Metadata), `"00451001":{"vr":"SQ","Value":[{"00100020":{"vr":"LO","Value":["X1"]}}]}`) {
		t.Errorf("metadata: %s", inst.Metadata)
	}
}

func BenchmarkInspect(b *testing.B) {
	in := synthetic(ExplicitVRLittleEndian, 512, 512, 1)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	r := bytes.NewReader(in)
	for b.Loop() {
		r.Reset(in)
		if _, err := Inspect(r, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzInspect(f *testing.F) {
	for _, s := range sampleFiles(f) {
		f.Add(s)
	}
	f.Add(synthetic(ExplicitVRLittleEndian, 2, 2, 1))
	f.Add(synthetic(ImplicitVRLittleEndian, 2, 2, 2))
	f.Add(synthetic(ExplicitVRBigEndian, 2, 2, 1))
	f.Add(encapsulated(2, []uint32{0, 12}, []byte{0xFF, 0xD8, 0, 0}, []byte{0xFF, 0xD8, 0, 0}))
	f.Fuzz(func(t *testing.T, in []byte) {
		inst, err := inspectBytes(in, Limits{MaxHeader: 1 << 20, BulkThreshold: 64})
		if err != nil {
			return
		}
		if inst.Size != int64(len(in)) {
			t.Fatalf("size %d, input %d", inst.Size, len(in))
		}
		for _, r := range inst.Bulk {
			if r.Offset < 0 || r.Length < 0 || r.Offset+r.Length > int64(len(in)) {
				t.Fatalf("bulk %+v outside the input", r)
			}
		}
		if p := inst.Pixel; p != nil {
			if !p.Encapsulated && p.Offset+int64(p.NumberOfFrames)*p.FrameLength > int64(len(in)) && p.BitsAllocated != 1 {
				t.Fatalf("native frames outside the input")
			}
			for _, fr := range p.Frames {
				for _, g := range fr {
					if g.Offset < 0 || g.Offset+g.Length > int64(len(in)) {
						t.Fatalf("fragment outside the input")
					}
				}
			}
		}
	})
}
