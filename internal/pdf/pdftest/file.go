package pdftest

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
)

// File is a parsed and checked PDF file.
type File struct {
	// Version is the version in the header, such as "1.7".
	Version string
	// Trailer is the trailer dictionary.
	Trailer Dict
	// Objects holds every object in use, by object number.
	Objects map[int]Object
	// Pages are the pages in order.
	Pages []Page
	// Info holds the entries of the document information dictionary that are strings,
	// decoded to UTF-8.
	Info map[string]string
}

// Page is one leaf of the page tree.
type Page struct {
	// Number starts at 1.
	Number int
	// MediaBox is the page size, [llx lly urx ury], own or inherited.
	MediaBox []float64
	// Fonts are the page's font resources by resource name.
	Fonts map[string]Font
	// Content is the page's content, decoded, with the streams of a Contents array joined
	// by line feeds.
	Content []byte
}

// Font is a simple font resource.
type Font struct {
	BaseFont, Subtype, Encoding string
	FirstChar                   int
	// Widths are the glyph widths in 1/1000 of the font size, for codes from FirstChar.
	Widths []float64
}

// Parse reads a PDF file and checks its structure, returning the first problem found:
//
//   - the header is "%PDF-1.n" followed by a comment of at least four bytes above 127, and
//     the file ends with "%%EOF";
//   - startxref gives the offset of the cross-reference table, whose entries are exactly
//     20 bytes with 10-digit offsets, entry 0 being the head of the free list;
//   - each entry in use points at "N G obj" with its own number and generation, and the
//     object there is well formed and ends with endobj;
//   - the trailer's /Size is the number of entries, /Root a catalog, /Info a dictionary
//     and /ID an array of two strings;
//   - each stream's /Length is the number of bytes before the end of line that precedes
//     endstream, and its data decodes with nothing left over (FlateDecode is the only filter
//     read);
//   - the page tree links every page to its parent, counts its leaves in /Count, and every
//     page has a media box, contents and well-formed simple fonts.
func Parse(data []byte) (*File, error) {
	f := &File{Objects: map[int]Object{}, Info: map[string]string{}}
	if err := f.header(data); err != nil {
		return nil, err
	}
	xref, err := startxref(data)
	if err != nil {
		return nil, err
	}
	entries, trailerAt, err := readXref(data, xref)
	if err != nil {
		return nil, err
	}
	p := parser{lex: lexer{data: data, pos: trailerAt}}
	t, err := p.next()
	if err != nil || t.kind != tokKeyword || t.text != "trailer" {
		return nil, fmt.Errorf("offset %d: trailer keyword missing", trailerAt)
	}
	obj, _, err := p.object()
	if err != nil {
		return nil, fmt.Errorf("trailer: %w", err)
	}
	trailer, ok := obj.(Dict)
	if !ok {
		return nil, errors.New("trailer is not a dictionary")
	}
	f.Trailer = trailer
	if t, err := p.next(); err != nil || t.kind != tokKeyword || t.text != "startxref" || t.pos != bytes.LastIndex(data, []byte("startxref")) {
		return nil, errors.New("startxref does not follow the trailer")
	}
	if size, ok := trailer["Size"].(int); !ok || size != len(entries) {
		return nil, fmt.Errorf("trailer /Size %v, want the %d cross-reference entries", trailer["Size"], len(entries))
	}
	r := reader{data: data, entries: entries, objects: f.Objects, busy: map[int]bool{}}
	for num, e := range entries {
		if e.inUse {
			if _, err := r.object(num); err != nil {
				return nil, err
			}
		}
	}
	if err := f.checkTrailer(); err != nil {
		return nil, err
	}
	if err := f.pageTree(); err != nil {
		return nil, err
	}
	return f, nil
}

// header checks the first two lines and the end of the file.
func (f *File) header(data []byte) error {
	const magic = "%PDF-1."
	if !bytes.HasPrefix(data, []byte(magic)) || len(data) < len(magic)+2 {
		return errors.New("header: no %PDF-1.n")
	}
	end := bytes.IndexAny(data, "\r\n")
	if end < 0 {
		return errors.New("header: no end of line")
	}
	f.Version = string(data[len("%PDF-"):end])
	if _, err := strconv.ParseFloat(f.Version, 64); err != nil {
		return fmt.Errorf("header: bad version %q", f.Version)
	}
	rest := bytes.TrimLeft(data[end:], "\r\n")
	high := 0
	if len(rest) > 0 && rest[0] == '%' {
		for _, c := range rest[1:] {
			if c == '\r' || c == '\n' {
				break
			}
			if c > 127 {
				high++
			}
		}
	}
	if high < 4 {
		return errors.New("header: no comment line of binary bytes after the version")
	}
	if !bytes.HasSuffix(bytes.TrimRight(data, "\r\n"), []byte("%%EOF")) {
		return errors.New("file does not end with %%EOF")
	}
	return nil
}

// startxref returns the offset given after the last startxref keyword, which must be that of
// an xref keyword.
func startxref(data []byte) (int, error) {
	i := bytes.LastIndex(data, []byte("startxref"))
	if i < 0 {
		return 0, errors.New("no startxref")
	}
	l := lexer{data: data, pos: i + len("startxref")}
	t, err := l.next()
	if err != nil || t.kind != tokNumber {
		return 0, errors.New("startxref: no offset")
	}
	off, err := strconv.Atoi(t.text)
	if err != nil || off < 0 || off >= len(data) || !bytes.HasPrefix(data[off:], []byte("xref")) {
		return 0, fmt.Errorf("startxref %s does not point at an xref keyword", t.text)
	}
	if t, err := l.next(); err != nil || t.kind != tokEOF {
		return 0, errors.New("startxref: more than an offset before %%EOF")
	}
	return off, nil
}

// xrefEntry is one line of the cross-reference table.
type xrefEntry struct {
	offset, gen int
	inUse       bool
}

// readXref reads a cross-reference table of one or more subsections that together number
// objects from 0, and returns the entries and the offset just past them.
func readXref(data []byte, at int) ([]xrefEntry, int, error) {
	pos := at + len("xref")
	pos = skipEOL(data, pos)
	if pos == at+len("xref") {
		return nil, 0, errors.New("xref: no end of line after the keyword")
	}
	var entries []xrefEntry
	for {
		end := bytes.IndexAny(data[pos:], "\r\n")
		if end < 0 {
			return nil, 0, errors.New("xref: truncated")
		}
		line := string(data[pos : pos+end])
		if bytes.HasPrefix(data[pos:], []byte("trailer")) {
			break
		}
		var first, count int
		if _, err := fmt.Sscanf(line, "%d %d", &first, &count); err != nil || first != len(entries) || count < 0 {
			return nil, 0, fmt.Errorf("xref: bad subsection header %q", line)
		}
		pos = skipEOL(data, pos+end)
		for range count {
			e, err := xrefLine(data, pos)
			if err != nil {
				return nil, 0, err
			}
			entries = append(entries, e)
			pos += 20
		}
	}
	if len(entries) == 0 {
		return nil, 0, errors.New("xref: no entries")
	}
	if e := entries[0]; e.inUse || e.gen != 65535 {
		return nil, 0, errors.New("xref: entry 0 is not the free-list head with generation 65535")
	}
	return entries, pos, nil
}

// xrefLine parses the 20-byte entry at pos: "oooooooooo ggggg n" and a two-byte end of line.
func xrefLine(data []byte, pos int) (xrefEntry, error) {
	if pos+20 > len(data) {
		return xrefEntry{}, errors.New("xref: truncated entry")
	}
	l := data[pos : pos+20]
	digits := func(b []byte) (int, bool) {
		v := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	off, ok1 := digits(l[0:10])
	gen, ok2 := digits(l[11:16])
	eol := string(l[18:20])
	if !ok1 || !ok2 || l[10] != ' ' || l[16] != ' ' || (l[17] != 'n' && l[17] != 'f') ||
		(eol != " \n" && eol != " \r" && eol != "\r\n") {
		return xrefEntry{}, fmt.Errorf("xref: malformed entry %q at offset %d", l, pos)
	}
	return xrefEntry{offset: off, gen: gen, inUse: l[17] == 'n'}, nil
}

// skipEOL passes one end of line (CR, LF or CR LF) at pos.
func skipEOL(data []byte, pos int) int {
	if pos < len(data) && data[pos] == '\r' {
		pos++
	}
	if pos < len(data) && data[pos] == '\n' {
		pos++
	}
	return pos
}

// reader parses indirect objects on demand, so that a stream's indirect /Length can be read
// before the stream.
type reader struct {
	data    []byte
	entries []xrefEntry
	objects map[int]Object
	busy    map[int]bool // objects being parsed, to reject reference cycles
}

// object parses object num at the offset its cross-reference entry gives.
func (r *reader) object(num int) (Object, error) {
	if o, ok := r.objects[num]; ok {
		return o, nil
	}
	if num <= 0 || num >= len(r.entries) || !r.entries[num].inUse {
		return nil, fmt.Errorf("object %d: not in the cross-reference table", num)
	}
	if r.busy[num] {
		return nil, fmt.Errorf("object %d: refers to itself for its stream length", num)
	}
	r.busy[num] = true
	defer delete(r.busy, num)
	e := r.entries[num]
	if e.offset >= len(r.data) {
		return nil, fmt.Errorf("object %d: offset %d past the end of the file", num, e.offset)
	}
	p := parser{lex: lexer{data: r.data, pos: e.offset}}
	head := make([]token, 3)
	for i := range head {
		t, err := p.lex.next()
		if err != nil {
			return nil, fmt.Errorf("object %d: %w", num, err)
		}
		head[i] = t
	}
	if head[0].pos != e.offset || head[0].text != strconv.Itoa(num) || head[1].text != strconv.Itoa(e.gen) ||
		head[2].kind != tokKeyword || head[2].text != "obj" {
		return nil, fmt.Errorf("object %d: offset %d does not point at \"%d %d obj\"", num, e.offset, num, e.gen)
	}
	obj, op, err := p.object()
	if err != nil {
		return nil, fmt.Errorf("object %d: %w", num, err)
	}
	if op != "" {
		return nil, fmt.Errorf("object %d: keyword %q instead of a value", num, op)
	}
	t, err := p.next()
	if err != nil {
		return nil, fmt.Errorf("object %d: %w", num, err)
	}
	if d, ok := obj.(Dict); ok && t.kind == tokKeyword && t.text == "stream" {
		s, end, err := r.stream(d, t.pos+len("stream"))
		if err != nil {
			return nil, fmt.Errorf("object %d: %w", num, err)
		}
		obj = s
		p = parser{lex: lexer{data: r.data, pos: end}}
		if t, err = p.next(); err != nil {
			return nil, fmt.Errorf("object %d: %w", num, err)
		}
	}
	if t.kind != tokKeyword || t.text != "endobj" {
		return nil, fmt.Errorf("object %d: no endobj", num)
	}
	r.objects[num] = obj
	return obj, nil
}

// stream reads the data of a stream whose keyword ends at pos and returns the stream and the
// offset after endstream.
func (r *reader) stream(d Dict, pos int) (*Stream, int, error) {
	switch {
	case bytes.HasPrefix(r.data[pos:], []byte("\r\n")):
		pos += 2
	case bytes.HasPrefix(r.data[pos:], []byte("\n")):
		pos++
	default:
		return nil, 0, errors.New("stream keyword not followed by CR LF or LF")
	}
	lo := d["Length"]
	if ref, ok := lo.(Ref); ok {
		o, err := r.object(ref.Num)
		if err != nil {
			return nil, 0, fmt.Errorf("stream /Length: %w", err)
		}
		lo = o
	}
	n, ok := lo.(int)
	if !ok || n < 0 || pos+n > len(r.data) {
		return nil, 0, fmt.Errorf("stream /Length %v is not a length within the file", d["Length"])
	}
	raw := r.data[pos : pos+n]
	end := skipEOL(r.data, pos+n)
	if end == pos+n || !bytes.HasPrefix(r.data[end:], []byte("endstream")) {
		return nil, 0, fmt.Errorf("stream /Length %d is not followed by an end of line and endstream", n)
	}
	s := &Stream{Dict: d, Raw: raw, Decoded: raw}
	switch fl := d["Filter"].(type) {
	case nil:
	case Name:
		if fl != "FlateDecode" {
			return nil, 0, fmt.Errorf("stream filter /%s not supported", fl)
		}
		br := bytes.NewReader(raw)
		z, err := zlib.NewReader(br)
		if err != nil {
			return nil, 0, fmt.Errorf("stream does not inflate: %w", err)
		}
		dec, err := io.ReadAll(z)
		if err != nil {
			return nil, 0, fmt.Errorf("stream does not inflate: %w", err)
		}
		if br.Len() != 0 {
			return nil, 0, fmt.Errorf("stream has %d bytes after its compressed data", br.Len())
		}
		s.Decoded = dec
	default:
		return nil, 0, fmt.Errorf("stream /Filter %v not supported", fl)
	}
	return s, end + len("endstream"), nil
}

// resolve follows a reference; other objects are returned as they are.
func (f *File) resolve(o Object) Object {
	if r, ok := o.(Ref); ok {
		return f.Objects[r.Num]
	}
	return o
}

// dict resolves o and returns it as a dictionary.
func (f *File) dict(o Object) (Dict, bool) {
	d, ok := f.resolve(o).(Dict)
	return d, ok
}

// checkTrailer checks /Root, /Info and /ID and decodes the information dictionary.
func (f *File) checkTrailer() error {
	root, ok := f.Trailer["Root"].(Ref)
	if !ok {
		return errors.New("trailer /Root is not a reference")
	}
	if cat, ok := f.dict(root); !ok || cat["Type"] != Name("Catalog") {
		return errors.New("trailer /Root is not a catalog")
	}
	if infoObj, present := f.Trailer["Info"]; present {
		ref, ok := infoObj.(Ref)
		info, isDict := f.dict(ref)
		if !ok || !isDict {
			return errors.New("trailer /Info is not a reference to a dictionary")
		}
		for k, v := range info {
			if s, ok := v.(String); ok {
				f.Info[string(k)] = textString(s)
			}
		}
	}
	id, ok := f.Trailer["ID"].(Array)
	if !ok || len(id) != 2 {
		return errors.New("trailer /ID is not an array of two strings")
	}
	for _, s := range id {
		if s, ok := s.(String); !ok || len(s) == 0 {
			return errors.New("trailer /ID is not an array of two strings")
		}
	}
	return nil
}

// textString decodes a text string: UTF-16BE after a byte order mark, else bytes taken as
// Latin-1 (PDFDocEncoding agrees with it on letters).
func textString(s String) string {
	if len(s) >= 2 && s[0] == 0xFE && s[1] == 0xFF {
		u := make([]uint16, 0, len(s)/2)
		for i := 2; i+1 < len(s); i += 2 {
			u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
		}
		return string(utf16.Decode(u))
	}
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}
