package dcm

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// This file is the streaming scanner behind Inspect: it walks a Part 10 stream element by
// element, keeps the non-bulk values (bounded by Limits.MaxHeader), skips bulk values while
// recording where they lie, and refuses anything truncated or malformed.

const (
	maxDepth         = 32       // sequences nested deeper are refused
	elemOverhead     = 64       // bytes charged to MaxHeader per kept element, besides its value
	maxMetaValue     = 64 << 10 // a File Meta value longer than this is refused
	undefinedLength  = 0xFFFFFFFF
	tagItem          = Tag(0xFFFEE000)
	tagItemDelim     = Tag(0xFFFEE00D)
	tagSeqDelim      = Tag(0xFFFEE0DD)
	tagExtOffsetTab  = Tag(0x7FE00001)
	tagExtOffsetLens = Tag(0x7FE00002)
)

// Dataset ends, for readDataset.
const (
	endOfStream = -1 // the top-level dataset: runs to EOF
	endOfItem   = -2 // an item of undefined length: runs to the item delimiter
)

// elem is one attribute kept by the scanner.
type elem struct {
	tag   Tag
	vr    string
	be    bool   // val is big endian
	val   []byte // the raw value; nil for bulk values and sequences
	bulk  int    // index in scanner.bulk, -1 when the value is in val
	seq   bool   // a sequence (also a VR UN value of undefined length)
	items [][]*elem
	path  string
}

// mode is how elements are encoded where the scanner is.
type mode struct {
	explicit bool
	big      bool
}

func (m mode) order() binary.ByteOrder {
	if m.big {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// fragment is one item of the top-level encapsulated pixel data.
type fragment struct {
	off, length int64
	itemStart   int64 // offset of the item tag
	marker      bool  // the value starts like a frame (JPEG SOI / J2K SOC)
}

type scanner struct {
	br        *bufio.Reader
	pos       int64
	maxSize   int64
	maxHeader int64
	threshold int64
	used      int64 // bytes charged against maxHeader
	buf       [12]byte

	ts       *syntax
	pixelRep int // the top-level PixelRepresentation seen so far, for implicit US/SS
	bulk     []BulkRef

	// Top-level encapsulated pixel data.
	bot    []byte
	frags  []fragment
	eotVal []byte // Extended Offset Table
}

func newScanner(r io.Reader, lim Limits) *scanner {
	s := &scanner{
		br:        bufio.NewReaderSize(r, 64<<10),
		maxSize:   lim.MaxSize,
		maxHeader: lim.MaxHeader,
		threshold: lim.BulkThreshold,
	}
	if s.maxHeader <= 0 {
		s.maxHeader = 64 << 20
	}
	if s.threshold <= 0 {
		s.threshold = 1024
	}
	return s
}

func refusef(reason uint16, format string, args ...any) *Refusal {
	return &Refusal{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

func (s *scanner) truncated(what string) error {
	return refusef(ReasonProcessingFailure, "truncated instance: %s ends past the end of the stream (at byte %d)", what, s.pos)
}

// ioErr turns a read error into a refusal when the stream simply ended, and keeps other
// errors (the sender's connection, the caller's reader) as they are.
func (s *scanner) ioErr(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return s.truncated(what)
	}
	return fmt.Errorf("dcm: reading instance at byte %d: %w", s.pos, err)
}

// room refuses n more bytes when they would take the stream past MaxSize.
func (s *scanner) room(n int64) error {
	if n < 0 || (s.maxSize > 0 && n > s.maxSize-s.pos) {
		return refusef(ReasonOutOfResources, "instance larger than the %d bytes allowed", s.maxSize)
	}
	return nil
}

// charge counts n bytes kept in memory against MaxHeader.
func (s *scanner) charge(n int64) error {
	if n > s.maxHeader-s.used {
		return refusef(ReasonOutOfResources, "attributes need more than the %d bytes of memory allowed", s.maxHeader)
	}
	s.used += n
	return nil
}

// read fills s.buf[:n] (n <= 12).
func (s *scanner) read(n int, what string) ([]byte, error) {
	if err := s.room(int64(n)); err != nil {
		return nil, err
	}
	b := s.buf[:n]
	k, err := io.ReadFull(s.br, b)
	s.pos += int64(k)
	if err != nil {
		return nil, s.ioErr(err, what)
	}
	return b, nil
}

// atEOF reports whether the stream has ended.
func (s *scanner) atEOF() (bool, error) {
	_, err := s.br.Peek(1)
	if err == io.EOF {
		return true, nil
	}
	if err != nil {
		return false, s.ioErr(err, "element")
	}
	return false, nil
}

// skip discards n bytes of a value without keeping them.
func (s *scanner) skip(n int64, what string) error {
	if err := s.room(n); err != nil {
		return err
	}
	for n > 0 {
		c := n
		if c > 1<<30 {
			c = 1 << 30
		}
		k, err := s.br.Discard(int(c))
		s.pos += int64(k)
		n -= int64(k)
		if err != nil {
			return s.ioErr(err, what)
		}
	}
	return nil
}

// value reads an n-byte value into memory, charged against MaxHeader.
func (s *scanner) value(n int64, what string) ([]byte, error) {
	if err := s.room(n); err != nil {
		return nil, err
	}
	if err := s.charge(n); err != nil {
		return nil, err
	}
	b := make([]byte, n)
	k, err := io.ReadFull(s.br, b)
	s.pos += int64(k)
	if err != nil {
		return nil, s.ioErr(err, what)
	}
	return b, nil
}

// longVR reports the VRs with a 2-byte reserved field and a 4-byte length in explicit VR.
func longVR(vr string) bool {
	switch vr {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
		return true
	}
	return false
}

// binaryVR reports the VRs whose values are opaque bytes (bulk candidates).
func binaryVR(vr string) bool {
	switch vr {
	case "OB", "OD", "OF", "OL", "OV", "OW", "UN":
		return true
	}
	return false
}

func knownVR(vr string) bool {
	switch vr {
	case "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "PN", "SH",
		"SL", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UR", "US", "UT", "UV", "SQ":
		return true
	}
	return binaryVR(vr)
}

// dictVR is the VR of t in Implicit VR, from the data dictionary.
func (s *scanner) dictVR(t Tag) string {
	group, el := uint16(t>>16), uint16(t)
	if el == 0 {
		return "UL" // group length
	}
	if group%2 == 1 {
		if el >= 0x10 && el <= 0xFF {
			return "LO" // private creator
		}
		return "UN"
	}
	if (group >= 0x5000 && group <= 0x501E) || (group >= 0x6000 && group <= 0x601E) {
		group &= 0xFF00 // repeating groups: curves and overlays
	}
	info, err := tag.Find(tag.Tag{Group: group, Element: el})
	if err != nil || len(info.VRs) == 0 {
		return "UN"
	}
	vrs := info.VRs
	if len(vrs) == 1 {
		if knownVR(vrs[0]) {
			return vrs[0]
		}
		return "UN"
	}
	var us, ss bool
	for _, v := range vrs {
		switch v {
		case "OW":
			return "OW"
		case "US":
			us = true
		case "SS":
			ss = true
		}
	}
	if us && ss {
		if s.pixelRep == 1 {
			return "SS"
		}
		return "US"
	}
	if knownVR(vrs[0]) {
		return vrs[0]
	}
	return "UN"
}

// header reads one element header: tag, VR ("" for the item tags) and value length.
func (s *scanner) header(m mode) (Tag, string, uint32, error) {
	b, err := s.read(4, "element header")
	if err != nil {
		return 0, "", 0, err
	}
	o := m.order()
	t := Tag(uint32(o.Uint16(b[0:2]))<<16 | uint32(o.Uint16(b[2:4])))
	if t>>16 == 0xFFFE || !m.explicit {
		b, err = s.read(4, "element header")
		if err != nil {
			return 0, "", 0, err
		}
		n := o.Uint32(b)
		if t>>16 == 0xFFFE {
			return t, "", n, nil
		}
		return t, s.dictVR(t), n, nil
	}
	b, err = s.read(4, "element header")
	if err != nil {
		return 0, "", 0, err
	}
	vr := string(b[0:2])
	if !knownVR(vr) {
		return 0, "", 0, refusef(ReasonProcessingFailure, "malformed instance: element %v has an invalid VR at byte %d", t, s.pos-4)
	}
	if !longVR(vr) {
		return t, vr, uint32(o.Uint16(b[2:4])), nil
	}
	b, err = s.read(4, "element header")
	if err != nil {
		return 0, "", 0, err
	}
	return t, vr, o.Uint32(b), nil
}

// readDataset reads elements until end: an absolute offset, endOfStream or endOfItem.
func (s *scanner) readDataset(m mode, end int64, prefix string, depth int) ([]*elem, error) {
	var out []*elem
	sorted := true
	for {
		if end == endOfStream {
			eof, err := s.atEOF()
			if err != nil {
				return nil, err
			}
			if eof {
				break
			}
		} else if end >= 0 && s.pos >= end {
			break
		}
		t, vr, n, err := s.header(m)
		if err != nil {
			return nil, err
		}
		if end >= 0 && s.pos > end {
			return nil, refusef(ReasonProcessingFailure, "malformed instance: element %v overruns its item", t)
		}
		if t == tagItemDelim {
			if end != endOfItem {
				return nil, refusef(ReasonProcessingFailure, "malformed instance: unexpected item delimiter at byte %d", s.pos-8)
			}
			if n != 0 {
				return nil, refusef(ReasonProcessingFailure, "malformed instance: item delimiter with a length at byte %d", s.pos-8)
			}
			return finish(out, sorted)
		}
		if vr == "" {
			return nil, refusef(ReasonProcessingFailure, "malformed instance: unexpected %v at byte %d", t, s.pos-8)
		}
		if n != undefinedLength && end >= 0 && int64(n) > end-s.pos {
			return nil, refusef(ReasonProcessingFailure, "malformed instance: element %v overruns its item", t)
		}
		e, err := s.element(m, t, vr, n, prefix, depth)
		if err != nil {
			return nil, err
		}
		if len(out) > 0 && out[len(out)-1].tag >= t {
			sorted = false
		}
		out = append(out, e)
	}
	if end == endOfItem {
		return nil, s.truncated("an item of undefined length")
	}
	return finish(out, sorted)
}

// finish puts a dataset in tag order and refuses duplicate attributes.
func finish(els []*elem, sorted bool) ([]*elem, error) {
	if !sorted {
		sort.SliceStable(els, func(i, j int) bool { return els[i].tag < els[j].tag })
		for i := 1; i < len(els); i++ {
			if els[i].tag == els[i-1].tag {
				return nil, refusef(ReasonProcessingFailure, "malformed instance: attribute %v appears twice", els[i].tag)
			}
		}
	}
	return els, nil
}

// element reads the value of one element whose header has been read.
func (s *scanner) element(m mode, t Tag, vr string, n uint32, prefix string, depth int) (*elem, error) {
	if err := s.charge(elemOverhead); err != nil {
		return nil, err
	}
	e := &elem{tag: t, vr: vr, be: m.big, bulk: -1, path: prefix + t.Hex()}
	isPixel := t == TagPixelData || t == TagFloatPixelData || t == TagDoublePixelData
	switch {
	case t == TagPixelData && n == undefinedLength:
		if !s.ts.encapsulated {
			return nil, refusef(ReasonProcessingFailure, "malformed instance: encapsulated pixel data in the native transfer syntax %s", s.ts.uid)
		}
		return e, s.fragments(e, depth == 0)
	case vr == "SQ" || n == undefinedLength && (vr == "UN" || !m.explicit):
		// PS3.5 6.2.2: a VR UN value of undefined length is a sequence in Implicit VR LE.
		inner := m
		if vr == "UN" {
			inner = mode{}
		}
		e.seq = true
		return e, s.sequence(e, inner, n, depth+1)
	case n == undefinedLength:
		return nil, refusef(ReasonProcessingFailure, "malformed instance: %v (%s) has an undefined length", t, vr)
	case n%2 == 1:
		return nil, refusef(ReasonProcessingFailure, "malformed instance: %v has an odd value length %d", t, n)
	}
	if err := s.room(int64(n)); err != nil {
		return nil, err
	}
	if isPixel || binaryVR(vr) && int64(n) >= s.threshold && t != tagExtOffsetTab && t != tagExtOffsetLens {
		e.bulk = len(s.bulk)
		s.bulk = append(s.bulk, BulkRef{
			Path: e.path, Tag: t, VR: vr, Offset: s.pos, Length: int64(n),
			BigEndian: m.big && vr != "OB" && vr != "UN",
		})
		return e, s.skip(int64(n), "value of "+t.String())
	}
	v, err := s.value(int64(n), "value of "+t.String())
	if err != nil {
		return nil, err
	}
	e.val = v
	if depth == 0 && t == tagExtOffsetTab {
		s.eotVal = v
	}
	if depth == 0 && t == 0x00280103 && len(v) >= 2 {
		s.pixelRep = int(m.order().Uint16(v))
	}
	return e, nil
}

// sequence reads the items of a sequence of length n (possibly undefined).
func (s *scanner) sequence(e *elem, m mode, n uint32, depth int) error {
	if depth > maxDepth {
		return refusef(ReasonProcessingFailure, "malformed instance: sequences nested deeper than %d", maxDepth)
	}
	end := int64(-1)
	if n != undefinedLength {
		if err := s.room(int64(n)); err != nil {
			return err
		}
		end = s.pos + int64(n)
	}
	for end < 0 || s.pos < end {
		if end < 0 {
			if eof, err := s.atEOF(); err != nil {
				return err
			} else if eof {
				return s.truncated("sequence " + e.tag.String() + " (no sequence delimiter)")
			}
		}
		t, _, ln, err := s.header(mode{big: m.big})
		if err != nil {
			return err
		}
		if t == tagSeqDelim && end < 0 {
			if ln != 0 {
				return refusef(ReasonProcessingFailure, "malformed instance: sequence delimiter with a length at byte %d", s.pos-8)
			}
			return nil
		}
		if t != tagItem {
			return refusef(ReasonProcessingFailure, "malformed instance: %v in sequence %v where an item was expected", t, e.tag)
		}
		if err := s.charge(elemOverhead); err != nil {
			return err
		}
		prefix := e.path + "/" + strconv.Itoa(len(e.items)) + "/"
		var item []*elem
		if ln == undefinedLength {
			item, err = s.readDataset(m, endOfItem, prefix, depth)
		} else {
			if end >= 0 && int64(ln) > end-s.pos {
				return refusef(ReasonProcessingFailure, "malformed instance: an item overruns sequence %v", e.tag)
			}
			if err := s.room(int64(ln)); err != nil {
				return err
			}
			item, err = s.readDataset(m, s.pos+int64(ln), prefix, depth)
		}
		if err != nil {
			return err
		}
		e.items = append(e.items, item)
	}
	if s.pos != end {
		return refusef(ReasonProcessingFailure, "malformed instance: sequence %v overruns its length", e.tag)
	}
	return nil
}

// fragments reads encapsulated pixel data: the Basic Offset Table item, then one item per
// fragment, up to the sequence delimiter. Item lengths alone drive the walk (a fragment may
// contain delimiter-like bytes).
func (s *scanner) fragments(e *elem, top bool) error {
	e.bulk = len(s.bulk)
	s.bulk = append(s.bulk, BulkRef{Path: e.path, Tag: e.tag, VR: e.vr, Offset: s.pos, Encapsulated: true})
	for i := 0; ; i++ {
		if eof, err := s.atEOF(); err != nil {
			return err
		} else if eof {
			return s.truncated("encapsulated pixel data (no sequence delimiter)")
		}
		start := s.pos
		t, _, n, err := s.header(mode{})
		if err != nil {
			return err
		}
		if t == tagSeqDelim {
			if n != 0 {
				return refusef(ReasonProcessingFailure, "malformed instance: sequence delimiter with a length at byte %d", s.pos-8)
			}
			if i == 0 {
				return refusef(ReasonProcessingFailure, "malformed instance: encapsulated pixel data without a Basic Offset Table item")
			}
			s.bulk[e.bulk].Length = start - s.bulk[e.bulk].Offset
			return nil
		}
		if t != tagItem || n == undefinedLength {
			return refusef(ReasonProcessingFailure, "malformed instance: %v in encapsulated pixel data at byte %d", t, start)
		}
		if n%2 == 1 {
			return refusef(ReasonProcessingFailure, "malformed instance: pixel data fragment with odd length %d", n)
		}
		if err := s.room(int64(n)); err != nil {
			return err
		}
		if i == 0 && top {
			if s.bot, err = s.value(int64(n), "basic offset table"); err != nil {
				return err
			}
			continue
		}
		if top {
			if err := s.charge(32); err != nil {
				return err
			}
			f := fragment{off: s.pos, length: int64(n), itemStart: start}
			if n >= 4 {
				if p, err := s.br.Peek(4); err == nil {
					f.marker = p[0] == 0xFF && (p[1] == 0xD8 || p[1] == 0x4F && p[2] == 0xFF && p[3] == 0x51)
				}
			}
			s.frags = append(s.frags, f)
		}
		if err := s.skip(int64(n), "pixel data fragment"); err != nil {
			return err
		}
	}
}
