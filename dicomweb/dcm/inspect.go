package dcm

import (
	"encoding/binary"
	"io"
	"math"
	"strconv"
	"strings"
)

// syntax is a transfer syntax Inspect can walk.
type syntax struct {
	uid          string
	implicit     bool
	big          bool
	encapsulated bool
	video        bool // frames are not fragments: the whole stream is one "frame"
}

// syntaxes are the transfer syntaxes Inspect accepts. Any other UID, including Deflated
// Explicit VR Little Endian (its dataset cannot be indexed by offsets into the stored bytes
// without inflating it), is refused with ReasonTransferSyntax.
var syntaxes = func() map[string]*syntax {
	m := map[string]*syntax{
		ImplicitVRLittleEndian: {implicit: true},
		ExplicitVRLittleEndian: {},
		ExplicitVRBigEndian:    {big: true},
	}
	for _, uid := range []string{
		"1.2.840.10008.1.2.1.98", // Encapsulated Uncompressed Explicit VR Little Endian
		"1.2.840.10008.1.2.5",    // RLE Lossless
		"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
		"1.2.840.10008.1.2.4.70",                           // JPEG
		"1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", // JPEG-LS
		"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", // JPEG 2000
		"1.2.840.10008.1.2.4.92", "1.2.840.10008.1.2.4.93", // JPEG 2000 Part 2
		"1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203", // HTJ2K
		"1.2.840.10008.1.2.4.110", "1.2.840.10008.1.2.4.111", "1.2.840.10008.1.2.4.112", // JPEG XL
	} {
		m[uid] = &syntax{encapsulated: true}
	}
	for _, uid := range []string{
		"1.2.840.10008.1.2.4.100", "1.2.840.10008.1.2.4.101", // MPEG2
		"1.2.840.10008.1.2.4.102", "1.2.840.10008.1.2.4.103", // MPEG-4 AVC/H.264
		"1.2.840.10008.1.2.4.104", "1.2.840.10008.1.2.4.105", "1.2.840.10008.1.2.4.106",
		"1.2.840.10008.1.2.4.107", "1.2.840.10008.1.2.4.108", // MPEG-4 stereo, HEVC/H.265
	} {
		m[uid] = &syntax{encapsulated: true, video: true}
	}
	for uid, s := range m {
		s.uid = uid
	}
	return m
}()

// Inspect reads one DICOM Part 10 stream from r to its end and describes it. It walks the
// File Meta Information and the dataset in the declared transfer syntax with its own
// scanner, keeps the non-bulk values (at most lim.MaxHeader bytes), skips bulk values while
// recording where they lie, and decodes the attributes to DICOM JSON and Attributes.
//
// On success Size is the number of bytes read, which is all of r. A refused instance gives a
// *Refusal and Inspect stops reading at the point of refusal (the rest of r is not drained);
// an error of r other than EOF is returned wrapped, not as a *Refusal.
//
// Refusals: not Part 10 (no "DICM", no File Meta, no transfer syntax): ReasonCannotUnderstand;
// unknown or deflated transfer syntax: ReasonTransferSyntax; truncated or malformed (a value
// past the end of the stream, unclosed sequences or items, odd lengths, invalid VRs,
// duplicate attributes, sequences nested deeper than 32, pixel data shorter than its frames,
// fragments that cannot be assigned to frames): ReasonProcessingFailure; larger than
// lim.MaxSize or attributes over lim.MaxHeader: ReasonOutOfResources; missing SOP Class,
// SOP Instance, Study or Series Instance UID, or a SOP Instance/Class UID different from the
// File Meta's Media Storage SOP Instance/Class UID: ReasonDataSetMismatch.
func Inspect(r io.Reader, lim Limits) (inst *Instance, err error) {
	defer func() {
		if p := recover(); p != nil {
			inst, err = nil, &Refusal{Reason: ReasonProcessingFailure, Message: "instance could not be read (internal error)"}
		}
	}()
	s := newScanner(r, lim)
	meta, err := s.readMeta()
	if err != nil {
		return nil, err
	}
	tsUID := uidText(meta[TagTransferSyntaxUID])
	if tsUID == "" {
		return nil, refusef(ReasonCannotUnderstand, "not a DICOM Part 10 instance: the File Meta Information has no Transfer Syntax UID")
	}
	if tsUID == DeflatedExplicitVRLE {
		return nil, refusef(ReasonTransferSyntax, "transfer syntax %s (Deflated Explicit VR Little Endian) is not supported: send the instance uncompressed or in Explicit VR Little Endian", tsUID)
	}
	ts := syntaxes[tsUID]
	if ts == nil {
		return nil, refusef(ReasonTransferSyntax, "transfer syntax %q is not supported", tsUID)
	}
	s.ts = ts
	ds, err := s.readDataset(mode{explicit: !ts.implicit, big: ts.big}, endOfStream, "", 0)
	if err != nil {
		return nil, err
	}
	inst = &Instance{Size: s.pos, TransferSyntaxUID: tsUID, Bulk: s.bulk}
	if inst.Bulk == nil {
		inst.Bulk = []BulkRef{}
	}
	top := make(map[Tag]*elem, len(ds))
	for _, e := range ds {
		top[e.tag] = e
	}
	var dec *textDecoder
	if e := top[0x00080005]; e != nil && e.bulk < 0 {
		inst.SpecificCharacterSet = strings.TrimRight(strings.ToValidUTF8(string(e.val), "?"), " \x00")
		dec = newTextDecoder(charsetTerms(e))
	} else {
		dec = newTextDecoder(nil)
	}
	if err := inst.identify(top, meta); err != nil {
		return nil, err
	}
	inst.Attributes = make(map[Tag][]string)
	for _, e := range ds {
		if e.tag>>16 == 0x0002 {
			continue
		}
		if v := attributeValues(e, dec); v != nil {
			inst.Attributes[e.tag] = v
		}
	}
	if inst.Pixel, err = s.pixel(top); err != nil {
		return nil, err
	}
	w := &jsonWriter{bulk: s.bulk}
	w.dataset(ds, dec)
	inst.Metadata = w.buf.Bytes()
	return inst, nil
}

// uidText is a UI value without its padding.
func uidText(b []byte) string {
	return strings.TrimRight(strings.ToValidUTF8(string(b), "?"), " \x00")
}

// readMeta reads the preamble, "DICM" and the File Meta group (always Explicit VR Little
// Endian). Its group length is not relied upon: the group ends before the first element of
// another group.
func (s *scanner) readMeta() (map[Tag][]byte, error) {
	notPart10 := refusef(ReasonCannotUnderstand, "not a DICOM Part 10 instance: no preamble and \"DICM\" prefix")
	if err := s.room(132); err != nil {
		return nil, err
	}
	pre := make([]byte, 132)
	n, err := io.ReadFull(s.br, pre)
	s.pos += int64(n)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return nil, notPart10
	}
	if err != nil {
		return nil, s.ioErr(err, "preamble")
	}
	if string(pre[128:]) != "DICM" {
		return nil, notPart10
	}
	meta := make(map[Tag][]byte)
	for {
		p, err := s.br.Peek(2)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		} else if err != nil {
			return nil, s.ioErr(err, "file meta")
		}
		if binary.LittleEndian.Uint16(p) != 0x0002 {
			break
		}
		t, vr, ln, err := s.header(mode{explicit: true})
		if err != nil {
			return nil, err
		}
		if vr == "SQ" || ln == undefinedLength || ln > maxMetaValue {
			return nil, refusef(ReasonProcessingFailure, "malformed File Meta Information: element %v", t)
		}
		v, err := s.value(int64(ln), "file meta element "+t.String())
		if err != nil {
			return nil, err
		}
		meta[t] = v
	}
	if len(meta) == 0 {
		return nil, refusef(ReasonCannotUnderstand, "not a DICOM Part 10 instance: no File Meta Information")
	}
	return meta, nil
}

// identify fills the UIDs and checks them against the File Meta Information.
func (inst *Instance) identify(top map[Tag]*elem, meta map[Tag][]byte) error {
	get := func(t Tag) string {
		if e := top[t]; e != nil && e.bulk < 0 && !e.seq {
			return uidText(e.val)
		}
		return ""
	}
	inst.SOPClassUID = get(TagSOPClassUID)
	inst.SOPInstanceUID = get(TagSOPInstanceUID)
	inst.StudyInstanceUID = get(TagStudyInstanceUID)
	inst.SeriesInstanceUID = get(TagSeriesInstanceUID)
	for _, c := range []struct{ v, name string }{
		{inst.SOPClassUID, "SOP Class UID (0008,0016)"},
		{inst.SOPInstanceUID, "SOP Instance UID (0008,0018)"},
		{inst.StudyInstanceUID, "Study Instance UID (0020,000D)"},
		{inst.SeriesInstanceUID, "Series Instance UID (0020,000E)"},
	} {
		if c.v == "" {
			return refusef(ReasonDataSetMismatch, "instance refused: missing %s", c.name)
		}
	}
	if m, ok := meta[0x00020003]; ok && uidText(m) != inst.SOPInstanceUID {
		return refusef(ReasonDataSetMismatch, "instance refused: SOP Instance UID differs from the File Meta's Media Storage SOP Instance UID")
	}
	if m, ok := meta[0x00020002]; ok && uidText(m) != inst.SOPClassUID {
		return refusef(ReasonDataSetMismatch, "instance refused: SOP Class UID differs from the File Meta's Media Storage SOP Class UID")
	}
	return nil
}

// firstNumber is the first numeric value of an attribute.
func firstNumber(e *elem) (float64, bool) {
	if e == nil || e.bulk >= 0 || e.seq {
		return 0, false
	}
	vals, ok := numbers(e)
	if !ok || len(vals) == 0 || vals[0] == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(vals[0], 64)
	return f, err == nil
}

// firstItemAttr looks for tag t in the first item of sequence seq, then in the first item of
// sub-sequence sub of that item (functional groups: shared → transformation/VOI LUT).
func firstItemAttr(top map[Tag]*elem, seq, sub, t Tag) *elem {
	e := top[seq]
	if e == nil || len(e.items) == 0 {
		return nil
	}
	for _, x := range e.items[0] {
		if x.tag == sub && len(x.items) > 0 {
			for _, y := range x.items[0] {
				if y.tag == t {
					return y
				}
			}
		}
	}
	return nil
}

// pixel describes the top-level pixel data and checks its layout.
func (s *scanner) pixel(top map[Tag]*elem) (*Pixel, error) {
	pd := top[TagPixelData]
	bits := 0
	if pd == nil {
		if pd = top[TagFloatPixelData]; pd != nil {
			bits = 32
		} else if pd = top[TagDoublePixelData]; pd != nil {
			bits = 64
		}
	}
	if pd == nil {
		// A stream cut just before its pixel data is a well-formed dataset: the Image Pixel
		// attributes are what give the cut away.
		for _, t := range []Tag{0x00280002, 0x00280004, 0x00280010, 0x00280011, 0x00280100, 0x00280101, 0x00280102, 0x00280103} {
			if top[t] != nil {
				return nil, refusef(ReasonProcessingFailure, "truncated instance: image pixel attributes without pixel data")
			}
		}
		return nil, nil
	}
	num := func(t Tag, def float64) float64 {
		if f, ok := firstNumber(top[t]); ok {
			return f
		}
		return def
	}
	const shared = Tag(0x52009229)
	fg := func(t, sub Tag, def float64) float64 {
		if f, ok := firstNumber(top[t]); ok {
			return f
		}
		if f, ok := firstNumber(firstItemAttr(top, shared, sub, t)); ok {
			return f
		}
		return def
	}
	const maxInt = math.MaxInt32
	intOf := func(f float64) int {
		if f < 0 || f > maxInt || f != math.Trunc(f) {
			return -1
		}
		return int(f)
	}
	p := &Pixel{
		Rows:                intOf(num(0x00280010, 0)),
		Columns:             intOf(num(0x00280011, 0)),
		SamplesPerPixel:     intOf(num(0x00280002, 1)),
		BitsAllocated:       intOf(num(0x00280100, float64(bits))),
		BitsStored:          intOf(num(0x00280101, 0)),
		HighBit:             intOf(num(0x00280102, 0)),
		PixelRepresentation: intOf(num(0x00280103, 0)),
		PlanarConfiguration: intOf(num(0x00280006, 0)),
		NumberOfFrames:      intOf(num(0x00280008, 1)),
		RescaleSlope:        fg(0x00281053, 0x00289145, 1),
		RescaleIntercept:    fg(0x00281052, 0x00289145, 0),
		WindowCenter:        fg(0x00281050, 0x00289132, 0),
		WindowWidth:         fg(0x00281051, 0x00289132, 0),
		Encapsulated:        s.bulk[pd.bulk].Encapsulated,
	}
	if e := top[0x00280004]; e != nil && e.bulk < 0 {
		if v := texts(e, nil); len(v) > 0 {
			p.Photometric = v[0]
		}
	}
	if p.BitsStored == 0 {
		p.BitsStored = p.BitsAllocated
	}
	if p.NumberOfFrames == 0 {
		p.NumberOfFrames = 1
	}
	if p.Rows <= 0 || p.Columns <= 0 || p.SamplesPerPixel <= 0 || p.SamplesPerPixel > 4 ||
		p.BitsAllocated <= 0 || p.BitsAllocated > 64 || p.BitsAllocated != 1 && p.BitsAllocated%8 != 0 ||
		p.NumberOfFrames < 0 || p.BitsStored < 0 || p.HighBit < 0 || p.PixelRepresentation < 0 || p.PlanarConfiguration < 0 {
		return nil, refusef(ReasonProcessingFailure, "malformed instance: pixel data with missing or invalid Rows, Columns, Samples per Pixel, Bits Allocated or Number of Frames")
	}
	p.FrameBits = int64(p.Rows) * int64(p.Columns) * int64(p.SamplesPerPixel) * int64(p.BitsAllocated)
	p.FrameLength = (p.FrameBits + 7) / 8
	ref := s.bulk[pd.bulk]
	if !p.Encapsulated {
		p.BigEndian = ref.BigEndian || s.ts.big && ref.VR != "OB"
		p.Offset = ref.Offset
		need := int64(p.NumberOfFrames) * p.FrameLength
		if p.BitsAllocated == 1 {
			need = (int64(p.NumberOfFrames)*p.FrameBits + 7) / 8
		}
		if ref.Length < need {
			return nil, refusef(ReasonProcessingFailure, "truncated instance: pixel data shorter than its frames (%d bytes for %d frames of %d bytes)", ref.Length, p.NumberOfFrames, p.FrameLength)
		}
		return p, nil
	}
	frames, err := s.frames(p.NumberOfFrames)
	if err != nil {
		return nil, err
	}
	p.Frames = frames
	return p, nil
}

// frames assigns the fragments of the top-level encapsulated pixel data to frames:
//  1. a non-empty Basic Offset Table: its offsets must point at fragment items, one per frame;
//  2. else an Extended Offset Table (7FE0,0001), the same way;
//  3. else, for video transfer syntaxes, all fragments form one stream, given as one frame;
//  4. else as many fragments as frames: one fragment per frame;
//  5. else one frame: all fragments;
//  6. else, when exactly NumberOfFrames fragments begin with a JPEG SOI or J2K SOC marker,
//     and the first does, each such fragment starts a frame;
//  7. else the instance is refused.
func (s *scanner) frames(n int) ([][]Fragment, error) {
	fr := s.frags
	if len(fr) == 0 {
		return nil, refusef(ReasonProcessingFailure, "malformed instance: encapsulated pixel data without fragments")
	}
	var offsets []int64
	if len(s.bot) > 0 {
		if len(s.bot)%4 != 0 {
			return nil, refusef(ReasonProcessingFailure, "malformed instance: Basic Offset Table length is not a multiple of 4")
		}
		for b := s.bot; len(b) > 0; b = b[4:] {
			offsets = append(offsets, int64(binary.LittleEndian.Uint32(b)))
		}
	} else if e := s.eot(); e != nil {
		offsets = e
	}
	if offsets != nil {
		if len(offsets) != n {
			return nil, refusef(ReasonProcessingFailure, "malformed instance: the offset table lists %d frames, Number of Frames is %d", len(offsets), n)
		}
		base := fr[0].itemStart
		starts := make([]int, 0, n)
		j := 0
		for _, off := range offsets {
			for j < len(fr) && fr[j].itemStart-base < off {
				j++
			}
			if j == len(fr) || fr[j].itemStart-base != off || len(starts) > 0 && starts[len(starts)-1] == j {
				return nil, refusef(ReasonProcessingFailure, "malformed instance: the offset table does not match the pixel data fragments")
			}
			starts = append(starts, j)
		}
		if starts[0] != 0 {
			return nil, refusef(ReasonProcessingFailure, "malformed instance: the offset table does not start at the first fragment")
		}
		return group(fr, starts), nil
	}
	switch {
	case s.ts.video, n == 1:
		return group(fr, []int{0}), nil
	case len(fr) == n:
		starts := make([]int, n)
		for i := range starts {
			starts[i] = i
		}
		return group(fr, starts), nil
	}
	if len(fr) > n && fr[0].marker {
		var starts []int
		for i, f := range fr {
			if f.marker {
				starts = append(starts, i)
			}
		}
		if len(starts) == n {
			return group(fr, starts), nil
		}
	}
	return nil, refusef(ReasonProcessingFailure, "malformed instance: cannot tell which of %d fragments form each of %d frames (no offset table)", len(fr), n)
}

func group(fr []fragment, starts []int) [][]Fragment {
	out := make([][]Fragment, len(starts))
	for i, st := range starts {
		end := len(fr)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		for _, f := range fr[st:end] {
			out[i] = append(out[i], Fragment{Offset: f.off, Length: f.length})
		}
	}
	return out
}

// eot is the Extended Offset Table (7FE0,0001), kept in memory by the scanner, or nil.
func (s *scanner) eot() []int64 {
	if s.eotVal == nil || len(s.eotVal)%8 != 0 {
		return nil
	}
	var out []int64
	for b := s.eotVal; len(b) > 0; b = b[8:] {
		v := binary.LittleEndian.Uint64(b)
		if v > math.MaxInt64 {
			return []int64{-1}
		}
		out = append(out, int64(v))
	}
	return out
}
