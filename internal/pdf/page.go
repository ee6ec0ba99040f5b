package pdf

import "strconv"

// Page is one page of a Document. Its primitives place marks at absolute positions in points,
// with the origin at the bottom-left corner of the page; they do not move the flow layout.
type Page struct {
	doc     *Document
	n       int
	content []byte // uncompressed content stream
}

// Number returns the page number, starting at 1.
func (p *Page) Number() int { return p.n }

// Text draws s with its baseline starting at (x, y), in font f at size points. The text is
// encoded to WinAnsiEncoding (see the package documentation) and not wrapped; measure it with
// Font.Width.
func (p *Page) Text(x, y float64, f Font, size float64, s string) {
	p.text(x, y, f, size, Encode(s))
}

// text draws WinAnsi-encoded bytes.
func (p *Page) text(x, y float64, f Font, size float64, b []byte) {
	d := p.doc
	if !d.checkFont(f) || !d.checkNumbers("text position", x, y) || !d.checkSize("font size", size) {
		return
	}
	if len(b) == 0 {
		return
	}
	d.used[f] = true
	p.content = appendText(p.content, x, y, f, size, b)
}

// appendText writes the operators that show encoded text at (x, y).
func appendText(c []byte, x, y float64, f Font, size float64, b []byte) []byte {
	c = append(c, "BT /"...)
	c = append(c, fontResource(f)...)
	c = append(c, ' ')
	c = appendNumber(c, size)
	c = append(c, " Tf "...)
	c = appendNumber(c, x)
	c = append(c, ' ')
	c = appendNumber(c, y)
	c = append(c, " Td "...)
	c = appendLiteral(c, b)
	return append(c, " Tj ET\n"...)
}

// Line strokes a straight line from (x1, y1) to (x2, y2), width points thick.
func (p *Page) Line(x1, y1, x2, y2, width float64) {
	d := p.doc
	if !d.checkNumbers("line end", x1, y1, x2, y2) || !d.checkSize("line width", width) {
		return
	}
	c := appendNumber(p.content, width)
	c = append(c, " w "...)
	c = appendNumber(c, x1)
	c = append(c, ' ')
	c = appendNumber(c, y1)
	c = append(c, " m "...)
	c = appendNumber(c, x2)
	c = append(c, ' ')
	c = appendNumber(c, y2)
	p.content = append(c, " l S\n"...)
}

// Rect strokes the outline of the rectangle with its lower-left corner at (x, y), w points
// wide and h points high, with a line width points thick.
func (p *Page) Rect(x, y, w, h, width float64) {
	d := p.doc
	if !d.checkNumbers("rectangle", x, y, w, h) || !d.checkSize("line width", width) {
		return
	}
	c := appendNumber(p.content, width)
	c = append(c, " w "...)
	for i, v := range []float64{x, y, w, h} {
		if i > 0 {
			c = append(c, ' ')
		}
		c = appendNumber(c, v)
	}
	p.content = append(c, " re S\n"...)
}

// fontResource returns the name under which f appears in the resource dictionary.
func fontResource(f Font) string { return "F" + strconv.Itoa(int(f)+1) }
