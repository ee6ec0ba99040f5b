package pdf

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
)

// Object numbers of the fixed objects; fonts follow, then each page and its content stream.
const (
	catalogObj   = 1
	pagesObj     = 2
	infoObj      = 3
	resourcesObj = 4
	firstFontObj = 5
)

// WriteTo writes the document as a PDF file to w and returns the number of bytes written. It
// writes nothing and returns Err when a drawing call failed. A document without pages is
// written with one blank page. WriteTo does not change the document: it can be called again,
// and layout can go on afterwards.
func (d *Document) WriteTo(w io.Writer) (int64, error) {
	if d.err != nil {
		return 0, d.err
	}
	b, err := d.encode()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	return int64(n), err
}

// encode returns the whole file.
func (d *Document) encode() ([]byte, error) {
	pages := d.pages
	if len(pages) == 0 {
		pages = []*Page{{doc: d, n: 1}}
	}
	used := d.used
	contents := make([][]byte, len(pages))
	footer := Encode(d.cfg.Footer)
	var z deflater
	for i, p := range pages {
		foot := d.footer(footer, p.n, len(pages))
		if len(foot) > 0 {
			used[Helvetica] = true
		}
		c, err := z.deflate(p.content, foot)
		if err != nil {
			return nil, err
		}
		contents[i] = c
	}
	var fonts []Font
	for f := range numFonts {
		if used[f] {
			fonts = append(fonts, f)
		}
	}
	firstPageObj := firstFontObj + len(fonts)
	size := firstPageObj + 2*len(pages)

	o := objWriter{offsets: make([]int, size)}
	o.b = append(o.b, "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n"...)

	o.begin(catalogObj)
	o.b = fmt.Appendf(o.b, "<< /Type /Catalog /Pages %d 0 R >>", pagesObj)
	o.end()

	o.begin(pagesObj)
	o.b = append(o.b, "<< /Type /Pages /Kids ["...)
	for i := range pages {
		if i > 0 {
			o.b = append(o.b, ' ')
		}
		o.b = fmt.Appendf(o.b, "%d 0 R", firstPageObj+2*i)
	}
	o.b = fmt.Appendf(o.b, "] /Count %d >>", len(pages))
	o.end()

	o.begin(infoObj)
	o.b = d.appendInfo(o.b)
	o.end()

	o.begin(resourcesObj)
	o.b = append(o.b, "<< /Font <<"...)
	for i, f := range fonts {
		o.b = fmt.Appendf(o.b, " /%s %d 0 R", fontResource(f), firstFontObj+i)
	}
	o.b = append(o.b, " >> /ProcSet [/PDF /Text] >>"...)
	o.end()

	for i, f := range fonts {
		o.begin(firstFontObj + i)
		o.b = appendFont(o.b, f)
		o.end()
	}

	for i, c := range contents {
		o.begin(firstPageObj + 2*i)
		o.b = fmt.Appendf(o.b, "<< /Type /Page /Parent %d 0 R /MediaBox [0 0 ", pagesObj)
		o.b = appendNumber(o.b, PageWidth)
		o.b = append(o.b, ' ')
		o.b = appendNumber(o.b, PageHeight)
		o.b = fmt.Appendf(o.b, "] /Resources %d 0 R /Contents %d 0 R >>", resourcesObj, firstPageObj+2*i+1)
		o.end()

		o.begin(firstPageObj + 2*i + 1)
		o.b = fmt.Appendf(o.b, "<< /Length %d /Filter /FlateDecode >>\nstream\n", len(c))
		o.b = append(o.b, c...)
		o.b = append(o.b, "\nendstream"...)
		o.end()
	}

	// The file identifier is derived from the content, so that equal documents get equal
	// files and different documents, in practice, different identifiers.
	sum := sha256.Sum256(o.b)
	id := hex.EncodeToString(sum[:16])

	xref := len(o.b)
	o.b = fmt.Appendf(o.b, "xref\n0 %d\n0000000000 65535 f \n", size)
	for _, off := range o.offsets[1:] {
		o.b = fmt.Appendf(o.b, "%010d 00000 n \n", off)
	}
	o.b = fmt.Appendf(o.b, "trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\n",
		size, catalogObj, infoObj, id, id)
	o.b = fmt.Appendf(o.b, "startxref\n%d\n%%%%EOF\n", xref)
	return o.b, nil
}

// objWriter accumulates the file and the offset of each object.
type objWriter struct {
	b       []byte
	offsets []int
}

func (o *objWriter) begin(num int) {
	o.offsets[num] = len(o.b)
	o.b = fmt.Appendf(o.b, "%d 0 obj\n", num)
}

func (o *objWriter) end() { o.b = append(o.b, "\nendobj\n"...) }

// appendInfo writes the document information dictionary.
func (d *Document) appendInfo(b []byte) []byte {
	b = append(b, "<<"...)
	for _, e := range []struct{ key, value string }{
		{"Title", d.cfg.Title},
		{"Author", d.cfg.Author},
		{"Subject", d.cfg.Subject},
		{"Keywords", d.cfg.Keywords},
		{"Creator", d.cfg.Creator},
	} {
		if e.value != "" {
			b = append(b, " /"+e.key+" "...)
			b = appendTextString(b, e.value)
		}
	}
	if !d.cfg.Created.IsZero() {
		b = append(b, " /CreationDate "...)
		b = appendDate(b, d.cfg.Created)
	}
	return append(b, " >>"...)
}

// appendFont writes the font dictionary of f, with the widths of the WinAnsi codes.
func appendFont(b []byte, f Font) []byte {
	b = fmt.Appendf(b, "<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding", f.Name())
	b = fmt.Appendf(b, " /FirstChar %d /LastChar 255 /Widths [", firstChar)
	for i, w := range f.widths() {
		if i > 0 {
			sep := byte(' ')
			if i%16 == 0 {
				sep = '\n'
			}
			b = append(b, sep)
		}
		b = strconv.AppendUint(b, uint64(w), 10)
	}
	return append(b, "] >>"...)
}
