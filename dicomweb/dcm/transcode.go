package dcm

import (
	"bufio"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// ErrNotNative is returned (wrapped, test with errors.Is) by WriteExplicitLE for a transfer
// syntax whose pixel data is encapsulated (compressed) or otherwise not rewritable here.
var ErrNotNative = errors.New("dcm: transfer syntax is not native; cannot transcode to Explicit VR Little Endian")

// errTranscode prefixes the errors of a malformed input stream.
const errTranscode = "dcm: transcode: "

// Transcoding limits. xcSpillLimit is a variable so that tests can force the fallback.
var (
	// xcSpillLimit is the most output bytes held back while the length of a defined-length
	// sequence or item is being computed; past it every open sequence and item is rewritten
	// with undefined length and the output streams on.
	xcSpillLimit = 1 << 20
)

const (
	xcMaxDepth         = 64      // nested sequences
	xcMaxMeta          = 1 << 20 // bytes of File Meta Information
	xcCopyBuf          = 64 << 10
	xcUndefined        = 0xFFFFFFFF
	xcTagItem      Tag = 0xFFFEE000
	xcTagItemDelim Tag = 0xFFFEE00D
	xcTagSeqDelim  Tag = 0xFFFEE0DD
	xcTagBitsAlloc Tag = 0x00280100
	xcTagPixelRep  Tag = 0x00280103
)

// WriteExplicitLE reads the complete Part 10 stream r, whose data set is encoded in transfer
// syntax ts (Implicit VR Little Endian, Explicit VR Little Endian, Explicit VR Big Endian or
// Deflated Explicit VR Little Endian; "" means: as the File Meta Information says), and writes
// the same instance to w in Explicit VR Little Endian. It returns the number of bytes written.
//
// The output has a zero preamble, "DICM", the File Meta Information with its
// TransferSyntaxUID set to 1.2.840.10008.1.2.1 and its group length recomputed, then every
// data set element in order:
//   - Implicit VR input takes each VR from the data dictionary: private creators are LO,
//     group lengths UL, other private and unknown tags UN; US/SS follow Pixel Representation
//     and Pixel Data is OB when Bits Allocated <= 8, else OW. A value longer than 0xFFFF in a
//     VR with a 16-bit length is written as UN (PS3.5 6.2.2).
//   - A sequence keeps its length form: undefined stays undefined; a defined length is
//     recomputed. While a defined length is pending the output is held back, at most
//     xcSpillLimit bytes; beyond that the open sequences and items are written with
//     undefined length instead. An element of undefined length that is not SQ (an implicit
//     VR private sequence, or UN of undefined length, whose content is Implicit VR Little
//     Endian per PS3.5 6.2.2) is written as an SQ with its content converted to Explicit VR.
//   - Big endian values are byte-swapped per VR (US SS UL SL FL FD AT OW OF OL OD OV UV SV;
//     Pixel Data in OW by Bits Allocated: 16, 32 or 64 bits, none for <= 8); OB, UN and
//     strings are copied as they are.
//
// Values are streamed through a bounded buffer: memory does not grow with the size of the
// pixel data. An encapsulated transfer syntax gives an error wrapping ErrNotNative, before
// anything is written; a malformed or truncated stream gives an error (the output is then
// incomplete).
func WriteExplicitLE(w io.Writer, r io.Reader, ts string) (n int64, err error) {
	cw := &xcCounter{w: w}
	bw := bufio.NewWriterSize(cw, xcCopyBuf)
	x := &xcT{
		in:  xcIn{r: bufio.NewReaderSize(r, xcCopyBuf)},
		out: xcOut{w: bw, limit: xcSpillLimit},
		cp:  make([]byte, xcCopyBuf),
	}
	defer func() {
		if p := recover(); p != nil {
			n, err = cw.n, fmt.Errorf(errTranscode+"internal error: %v", p)
		}
	}()
	if err = x.run(ts); err == nil {
		err = bw.Flush()
	}
	return cw.n, err
}

type xcCounter struct {
	w io.Writer
	n int64
}

func (c *xcCounter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// xcMode is the encoding of the data set being read.
type xcMode struct{ implicit, big bool }

func (m xcMode) u16(b []byte) uint16 {
	if m.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (m xcMode) u32(b []byte) uint32 {
	if m.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// xcDS is what a data set's own attributes say about how to encode its other attributes.
type xcDS struct{ bitsAlloc, pixelRep int }

type xcIn struct {
	r   *bufio.Reader
	pos int64
	b   [12]byte
}

// full reads exactly len(p) bytes; a short read is io.ErrUnexpectedEOF, none at all io.EOF.
func (in *xcIn) full(p []byte) error {
	n, err := io.ReadFull(in.r, p)
	in.pos += int64(n)
	return err
}

// must is full with any end of input an error.
func (in *xcIn) must(p []byte) error {
	if err := in.full(p); err == io.EOF || err == io.ErrUnexpectedEOF {
		return in.truncated()
	} else if err != nil {
		return fmt.Errorf(errTranscode+"reading: %w", err)
	}
	return nil
}

func (in *xcIn) truncated() error {
	return fmt.Errorf(errTranscode+"truncated at byte %d of the data set: %w", in.pos, io.ErrUnexpectedEOF)
}

type xcT struct {
	in  xcIn
	out xcOut
	cp  []byte
	hb  []byte // header scratch
}

type xcMetaEl struct {
	tag Tag
	raw []byte // the whole element, header included, Explicit VR Little Endian
}

func (x *xcT) run(ts string) error {
	ts = xcTrimUID(ts)
	if ts != "" {
		if _, ok := xcModeOf(ts); !ok {
			return fmt.Errorf("%w: %s", ErrNotNative, ts)
		}
	}
	metaTS, meta, err := x.readMeta()
	if err != nil {
		return err
	}
	switch {
	case ts == "":
		ts = metaTS
	case metaTS != "" && metaTS != ts:
		return fmt.Errorf(errTranscode+"transfer syntax %s does not match the File Meta Information's %s", ts, metaTS)
	}
	mode, ok := xcModeOf(ts)
	if !ok {
		if ts == "" {
			return errors.New(errTranscode + "no transfer syntax")
		}
		return fmt.Errorf("%w: %s", ErrNotNative, ts)
	}
	if err := x.writeMeta(meta); err != nil {
		return err
	}
	if ts == DeflatedExplicitVRLE {
		fr := flate.NewReader(x.in.r)
		defer fr.Close()
		x.in = xcIn{r: bufio.NewReaderSize(fr, xcCopyBuf)}
	}
	x.in.pos = 0
	return x.dataset(mode, -1, true, xcDS{}, 0)
}

func xcTrimUID(s string) string { return strings.TrimRight(s, "\x00 ") }

func xcModeOf(ts string) (xcMode, bool) {
	switch ts {
	case ImplicitVRLittleEndian:
		return xcMode{implicit: true}, true
	case ExplicitVRLittleEndian, DeflatedExplicitVRLE:
		return xcMode{}, true
	case ExplicitVRBigEndian:
		return xcMode{big: true}, true
	}
	return xcMode{}, false
}

// readMeta reads the preamble, the prefix and the File Meta Information (group 0002, Explicit
// VR Little Endian, read for as long as the next tag is in group 0002).
func (x *xcT) readMeta() (string, []xcMetaEl, error) {
	var pre [132]byte
	if err := x.in.full(pre[:]); err != nil || string(pre[128:]) != "DICM" {
		return "", nil, errors.New(errTranscode + "not a DICOM Part 10 stream (no DICM prefix)")
	}
	var ts string
	var els []xcMetaEl
	total := 0
	for {
		p, err := x.in.r.Peek(2)
		if err != nil || binary.LittleEndian.Uint16(p) != 0x0002 {
			break
		}
		var h [12]byte
		if err := x.in.must(h[:8]); err != nil {
			return "", nil, err
		}
		t := Tag(uint32(binary.LittleEndian.Uint16(h[0:]))<<16 | uint32(binary.LittleEndian.Uint16(h[2:])))
		vr := string(h[4:6])
		hl, vl := 8, int64(binary.LittleEndian.Uint16(h[6:]))
		if xcLongVR(vr) || !xcKnownVR(vr) {
			if err := x.in.must(h[8:12]); err != nil {
				return "", nil, err
			}
			hl, vl = 12, int64(binary.LittleEndian.Uint32(h[8:]))
		}
		if vr == "SQ" || vl == xcUndefined || total+hl+int(vl) > xcMaxMeta {
			return "", nil, errors.New(errTranscode + "File Meta Information is malformed or too large")
		}
		raw := make([]byte, hl+int(vl))
		copy(raw, h[:hl])
		if err := x.in.must(raw[hl:]); err != nil {
			return "", nil, err
		}
		total += len(raw)
		switch uint32(t) {
		case 0x00020000:
		case uint32(TagTransferSyntaxUID):
			ts = xcTrimUID(string(raw[hl:]))
		default:
			els = append(els, xcMetaEl{tag: t, raw: raw})
		}
	}
	return ts, els, nil
}

func (x *xcT) writeMeta(els []xcMetaEl) error {
	uid := ExplicitVRLittleEndian + "\x00"
	tsEl := xcMetaEl{tag: TagTransferSyntaxUID, raw: xcAppendHeader(nil, TagTransferSyntaxUID, "UI", uint32(len(uid)))}
	tsEl.raw = append(tsEl.raw, uid...)
	all := make([]xcMetaEl, 0, len(els)+1)
	placed := false
	for _, e := range els {
		if !placed && e.tag > TagTransferSyntaxUID {
			all, placed = append(all, tsEl), true
		}
		all = append(all, e)
	}
	if !placed {
		all = append(all, tsEl)
	}
	glen := 0
	for _, e := range all {
		glen += len(e.raw)
	}
	b := make([]byte, 128, 132+12+glen)
	b = append(b, "DICM"...)
	b = xcAppendHeader(b, 0x00020000, "UL", 4)
	b = binary.LittleEndian.AppendUint32(b, uint32(glen))
	for _, e := range all {
		b = append(b, e.raw...)
	}
	return x.out.write(b)
}

// readHeader reads an element header in mode m. vr is "" for implicit VR and for items and
// delimiters. At a clean end of input it returns io.EOF.
func (x *xcT) readHeader(m xcMode) (t Tag, vr string, length uint32, err error) {
	b := x.in.b[:]
	if err := x.in.full(b[:4]); err != nil {
		if err == io.EOF {
			return 0, "", 0, io.EOF
		}
		if err == io.ErrUnexpectedEOF {
			return 0, "", 0, x.in.truncated()
		}
		return 0, "", 0, fmt.Errorf(errTranscode+"reading: %w", err)
	}
	t = Tag(uint32(m.u16(b[0:]))<<16 | uint32(m.u16(b[2:])))
	if m.implicit || t>>16 == 0xFFFE {
		if err := x.in.must(b[4:8]); err != nil {
			return 0, "", 0, err
		}
		return t, "", m.u32(b[4:]), nil
	}
	if err := x.in.must(b[4:8]); err != nil {
		return 0, "", 0, err
	}
	vr = string(b[4:6])
	if vr[0] < 'A' || vr[0] > 'Z' || vr[1] < 'A' || vr[1] > 'Z' {
		return 0, "", 0, fmt.Errorf(errTranscode+"invalid VR at %s", t)
	}
	if !xcLongVR(vr) && xcKnownVR(vr) {
		return t, vr, uint32(m.u16(b[6:])), nil
	}
	if err := x.in.must(b[8:12]); err != nil {
		return 0, "", 0, err
	}
	return t, vr, m.u32(b[8:]), nil
}

// dataset copies elements until the input position reaches end (end >= 0), an item
// delimiter (end < 0, !top) or the end of the input (top).
func (x *xcT) dataset(m xcMode, end int64, top bool, ds xcDS, depth int) error {
	for {
		if end >= 0 && x.in.pos >= end {
			if x.in.pos > end {
				return errors.New(errTranscode + "element overruns its item")
			}
			return nil
		}
		t, vr, length, err := x.readHeader(m)
		if err == io.EOF {
			if top {
				return nil
			}
			return x.in.truncated()
		}
		if err != nil {
			return err
		}
		if t>>16 == 0xFFFE {
			if t == xcTagItemDelim && end < 0 && !top {
				return nil
			}
			return fmt.Errorf(errTranscode+"unexpected %s in a data set", t)
		}
		if err := x.element(m, t, vr, length, end, &ds, depth); err != nil {
			return err
		}
	}
}

func (x *xcT) element(m xcMode, t Tag, vr string, length uint32, end int64, ds *xcDS, depth int) error {
	if m.implicit {
		vr = xcDictVR(t, length, ds)
	}
	if length == xcUndefined {
		switch {
		case vr == "SQ":
			return x.sequence(m, t, length, end, *ds, depth)
		case vr == "UN" || m.implicit && t != TagPixelData:
			// PS3.5 6.2.2: a sequence whose content is Implicit VR Little Endian.
			return x.sequence(xcMode{implicit: true}, t, length, end, *ds, depth)
		case t == TagPixelData:
			return fmt.Errorf("%w: encapsulated pixel data in a native transfer syntax", ErrNotNative)
		}
		return fmt.Errorf(errTranscode+"undefined length for %s %s", t, vr)
	}
	if end >= 0 && x.in.pos+int64(length) > end {
		return fmt.Errorf(errTranscode+"%s overruns its item", t)
	}
	if vr == "SQ" {
		return x.sequence(m, t, length, end, *ds, depth)
	}
	outVR := vr
	if !xcKnownVR(outVR) || outVR == "NA" {
		outVR = "UN"
	}
	if !xcLongVR(outVR) && length > 0xFFFF {
		outVR = "UN"
	}
	unit := 1
	if m.big && outVR != "UN" {
		unit = xcSwapUnit(t, vr, ds)
	}
	if (t == xcTagBitsAlloc || t == xcTagPixelRep) && length == 2 && outVR != "UN" {
		v := x.in.b[:2]
		if err := x.in.must(v); err != nil {
			return err
		}
		n := int(m.u16(v))
		if t == xcTagBitsAlloc {
			ds.bitsAlloc = n
		} else {
			ds.pixelRep = n
		}
		x.hb = xcAppendHeader(x.hb[:0], t, outVR, 2)
		x.hb = binary.LittleEndian.AppendUint16(x.hb, uint16(n))
		return x.out.write(x.hb)
	}
	x.hb = xcAppendHeader(x.hb[:0], t, outVR, length)
	if err := x.out.write(x.hb); err != nil {
		return err
	}
	return x.copyValue(int64(length), unit)
}

func (x *xcT) copyValue(n int64, unit int) error {
	for n > 0 {
		b := x.cp[:min(n, int64(len(x.cp)))]
		if err := x.in.must(b); err != nil {
			return err
		}
		n -= int64(len(b))
		xcSwap(b, unit)
		if err := x.out.write(b); err != nil {
			return err
		}
	}
	return nil
}

// xcSwap reverses the bytes of each whole unit-byte word of b.
func xcSwap(b []byte, unit int) {
	switch unit {
	case 2:
		i := 0
		for ; i+7 < len(b); i += 8 { // four words at a time
			v := binary.LittleEndian.Uint64(b[i:])
			binary.LittleEndian.PutUint64(b[i:], v&0x00FF00FF00FF00FF<<8|v>>8&0x00FF00FF00FF00FF)
		}
		for ; i+1 < len(b); i += 2 {
			b[i], b[i+1] = b[i+1], b[i]
		}
	case 4:
		for i := 0; i+3 < len(b); i += 4 {
			binary.LittleEndian.PutUint32(b[i:], binary.BigEndian.Uint32(b[i:]))
		}
	case 8:
		for i := 0; i+7 < len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], binary.BigEndian.Uint64(b[i:]))
		}
	}
}

func (x *xcT) sequence(m xcMode, t Tag, length uint32, end int64, ds xcDS, depth int) error {
	if depth >= xcMaxDepth {
		return errors.New(errTranscode + "sequences nested too deeply")
	}
	defined := length != xcUndefined
	seqEnd := int64(-1)
	if defined {
		seqEnd = x.in.pos + int64(length)
	}
	if err := x.out.open(xcAppendHeader(x.hb[:0], t, "SQ", 0), defined); err != nil {
		return err
	}
	for !defined || x.in.pos < seqEnd {
		it, _, ilen, err := x.readHeader(xcMode{big: m.big, implicit: true})
		if err != nil {
			if err == io.EOF {
				err = x.in.truncated()
			}
			return err
		}
		if it == xcTagSeqDelim && !defined {
			break
		}
		if it != xcTagItem {
			return fmt.Errorf(errTranscode+"unexpected %s in sequence %s", it, t)
		}
		itemEnd := int64(-1)
		if ilen != xcUndefined {
			itemEnd = x.in.pos + int64(ilen)
			if defined && itemEnd > seqEnd || end >= 0 && itemEnd > end {
				return fmt.Errorf(errTranscode+"item overruns sequence %s", t)
			}
		}
		hdr := xcAppendTag(x.hb[:0], xcTagItem)
		if err := x.out.open(binary.LittleEndian.AppendUint32(hdr, 0), ilen != xcUndefined); err != nil {
			return err
		}
		if err := x.dataset(m, itemEnd, false, ds, depth+1); err != nil {
			return err
		}
		if err := x.out.close(xcTagItemDelim); err != nil {
			return err
		}
	}
	if defined && x.in.pos > seqEnd {
		return fmt.Errorf(errTranscode+"sequence %s overruns its length", t)
	}
	return x.out.close(xcTagSeqDelim)
}

// xcAppendTag appends a tag in little endian order: group, then element.
func xcAppendTag(b []byte, t Tag) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(t>>16))
	return binary.LittleEndian.AppendUint16(b, uint16(t))
}

// xcAppendHeader appends an Explicit VR Little Endian element header.
func xcAppendHeader(b []byte, t Tag, vr string, length uint32) []byte {
	b = append(xcAppendTag(b, t), vr...)
	if xcLongVR(vr) {
		return binary.LittleEndian.AppendUint32(append(b, 0, 0), length)
	}
	return binary.LittleEndian.AppendUint16(b, uint16(length))
}

// xcLongVR reports whether the VR has the 12-byte explicit header with a 32-bit length.
func xcLongVR(vr string) bool {
	switch vr {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV":
		return true
	}
	return false
}

func xcKnownVR(vr string) bool {
	switch vr {
	case "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "PN", "SH",
		"SL", "SS", "ST", "TM", "UI", "UL", "US":
		return true
	}
	return xcLongVR(vr)
}

// xcSwapUnit is the size of the words to byte-swap in a big endian value.
func xcSwapUnit(t Tag, vr string, ds *xcDS) int {
	if vr == "OW" && (t == TagPixelData || uint32(t)&0xFF00FFFF == 0x7F000010) {
		switch {
		case ds.bitsAlloc == 32:
			return 4
		case ds.bitsAlloc == 64:
			return 8
		case ds.bitsAlloc > 0 && ds.bitsAlloc <= 8:
			return 1
		}
		return 2
	}
	switch vr {
	case "US", "SS", "OW", "AT":
		return 2
	case "UL", "SL", "FL", "OF", "OL":
		return 4
	case "FD", "OD", "SV", "UV", "OV":
		return 8
	}
	return 1
}

// xcDictVR is the VR of an implicit VR element, from the data dictionary.
func xcDictVR(t Tag, length uint32, ds *xcDS) string {
	g, e := uint16(t>>16), uint16(t)
	if e == 0 {
		return "UL"
	}
	if g%2 == 1 {
		if e >= 0x10 && e <= 0xFF {
			return "LO"
		}
		return "UN"
	}
	if hi := g >> 8; hi == 0x50 || hi == 0x60 { // repeating groups (50xx,eeee), (60xx,eeee)
		g &= 0xFF00
	}
	info, err := tag.Find(tag.Tag{Group: g, Element: e})
	if err != nil || len(info.VRs) == 0 {
		return "UN"
	}
	vrs := info.VRs
	if len(vrs) == 1 {
		return vrs[0]
	}
	has := func(vr string) bool {
		for _, v := range vrs {
			if v == vr {
				return true
			}
		}
		return false
	}
	switch {
	case has("OB") && has("OW"):
		if t == TagPixelData && ds.bitsAlloc > 0 && ds.bitsAlloc <= 8 {
			return "OB"
		}
		return "OW"
	case has("OW") && length > 0xFFFF:
		return "OW"
	case has("SS") && ds.pixelRep == 1:
		return "SS"
	case has("US"):
		return "US"
	}
	return vrs[0]
}

// xcOut writes the output, holding it back while the length of an open defined-length
// sequence or item is not known yet.
type xcOut struct {
	w       io.Writer
	buf     []byte
	at      []int   // per open container: index in buf of its length field, -1 if undefined
	start   []int64 // per open container: output offset just after its header
	pending int     // open containers with at >= 0
	written int64   // bytes given to w
	limit   int
}

func (o *xcOut) offset() int64 { return o.written + int64(len(o.buf)) }

func (o *xcOut) write(p []byte) error {
	if o.pending == 0 {
		n, err := o.w.Write(p)
		o.written += int64(n)
		return err
	}
	o.buf = append(o.buf, p...)
	if len(o.buf) > o.limit {
		return o.spill()
	}
	return nil
}

// spill gives up on the pending lengths: they become undefined and the output streams on.
func (o *xcOut) spill() error {
	for i, at := range o.at {
		if at >= 0 {
			binary.LittleEndian.PutUint32(o.buf[at:], xcUndefined)
			o.at[i] = -1
		}
	}
	o.pending = 0
	return o.flush()
}

func (o *xcOut) flush() error {
	n, err := o.w.Write(o.buf)
	o.written += int64(n)
	o.buf = o.buf[:0]
	return err
}

// open writes hdr, a header ending with a 4-byte length field, and starts a container.
func (o *xcOut) open(hdr []byte, defined bool) error {
	if !defined {
		binary.LittleEndian.PutUint32(hdr[len(hdr)-4:], xcUndefined)
		if err := o.write(hdr); err != nil {
			return err
		}
		o.at = append(o.at, -1)
		o.start = append(o.start, o.offset())
		return nil
	}
	o.pending++
	o.buf = append(o.buf, hdr...)
	o.at = append(o.at, len(o.buf)-4)
	o.start = append(o.start, o.offset())
	if len(o.buf) > o.limit {
		return o.spill()
	}
	return nil
}

// close ends the innermost container: its length is filled in, or the delimiter delim
// (an item or sequence delimitation tag) is written.
func (o *xcOut) close(delim Tag) error {
	i := len(o.at) - 1
	at, start := o.at[i], o.start[i]
	o.at, o.start = o.at[:i], o.start[:i]
	if at < 0 {
		var d [8]byte
		return o.write(append(xcAppendTag(d[:0], delim), 0, 0, 0, 0))
	}
	binary.LittleEndian.PutUint32(o.buf[at:], uint32(o.offset()-start))
	o.pending--
	if o.pending == 0 {
		return o.flush()
	}
	return nil
}
