package pdf

import "fmt"

// Style sets the type of a styled paragraph.
type Style struct {
	Font Font
	// Size in points; zero means the body size.
	Size float64
	// Leading is the distance between baselines in points; zero means 1.3 × Size.
	Leading float64
}

// Proportions of the flow layout, as multiples of the font size.
const (
	leadingFactor = 1.3  // body line height
	paraGap       = 0.5  // space after a paragraph
	bulletIndent  = 1.3  // indent of a bulleted item's text
	boxSide       = 0.8  // side of a check box
	boxGap        = 0.4  // between a check box and its label
	optionGap     = 1.5  // between two check box options, and before the first
	checkLeading  = 1.6  // line height of a check box row
	fillLeading   = 2.3  // line height of a fill-in line, leaving room to write
	fillColumnGap = 1.5  // between two fill-in fields on one line
	ruleHeight    = 1.2  // room taken by a horizontal rule
	lineWidth     = 0.5  // points, for rules and fill-in lines
	boxLineWidth  = 0.75 // points, for check boxes
)

// headingScale gives the size of headings of levels 1 to 3 relative to the body size.
var headingScale = [...]float64{1.6, 1.3, 1.1}

// reserve makes room for a line box of height h below the cursor, starting a new page when
// the box does not fit on a page that already has content, and returns the page and the top
// of the box.
func (d *Document) reserve(h float64) (*Page, float64) {
	p := d.Page()
	if d.y-h < d.bottom()-epsilon && d.y < d.top() {
		p = d.NewPage()
	}
	top := d.y
	d.y -= h
	return p, top
}

// baseline returns the baseline that centres text of the given size in a line box.
func baseline(top, leading, size float64) float64 {
	return top - leading/2 - 0.25*size
}

// atTop reports whether nothing has been laid out on the current page yet.
func (d *Document) atTop() bool { return len(d.pages) == 0 || d.y >= d.top() }

// Space moves the cursor pt points down. Space that runs past the bottom of a page is not
// carried over to the next.
func (d *Document) Space(pt float64) {
	if !d.checkSize("space", pt) {
		return
	}
	d.Page()
	d.y -= pt
}

// NeedSpace starts a new page unless pt points are left on the current one. Use it to keep a
// short block on one page.
func (d *Document) NeedSpace(pt float64) {
	if !d.checkSize("space", pt) {
		return
	}
	d.Page()
	if d.y-pt < d.bottom()-epsilon && !d.atTop() {
		d.NewPage()
	}
}

// PageBreak makes the following content start on a new page.
func (d *Document) PageBreak() {
	if d.err != nil || len(d.pages) == 0 {
		return
	}
	d.NewPage()
}

// KeepTogether lays out what f adds to the flow on one page when it fits on one: when f
// crosses a page break and did not start at the top of a page, its output is discarded and f
// runs again on a new page. f may run twice, so it must only lay out; marks it drew on Pages
// obtained during the first run are discarded.
func (d *Document) KeepTogether(f func()) {
	if d.err != nil {
		return
	}
	p := d.Page()
	n, mark, y := len(d.pages), len(p.content), d.y
	f()
	if d.err != nil || len(d.pages) == n || y >= d.top() {
		return
	}
	d.pages = d.pages[:n]
	p.content = p.content[:mark]
	d.NewPage()
	f()
}

// lines lays out encoded lines at x in font f, one line box of the given leading each.
func (d *Document) lines(lines [][]byte, x float64, f Font, size, leading float64) {
	for _, l := range lines {
		p, top := d.reserve(leading)
		p.text(x, baseline(top, leading, size), f, size, l)
	}
}

// Paragraph lays out text in the body font, wrapped to the text width.
func (d *Document) Paragraph(text string) {
	d.StyledParagraph(Style{}, text)
}

// StyledParagraph lays out text in style s, wrapped to the text width. Line breaks in text
// start new lines; text without any word adds nothing.
func (d *Document) StyledParagraph(s Style, text string) {
	size, leading := d.style(s)
	if !d.checkFont(s.Font) || !d.checkSize("font size", size) || !d.checkSize("leading", leading) {
		return
	}
	ls := wrapText(text, s.Font, size, d.TextWidth())
	if len(ls) == 0 {
		return
	}
	d.lines(ls, d.left(), s.Font, size, leading)
	d.Space(paraGap * d.cfg.FontSize)
}

// style returns the size and leading of s with defaults applied.
func (d *Document) style(s Style) (size, leading float64) {
	size, leading = s.Size, s.Leading
	if size == 0 {
		size = d.cfg.FontSize
	}
	if leading == 0 {
		leading = leadingFactor * size
	}
	return size, leading
}

// Heading lays out a bold heading of level 1 (largest) to 3; other levels are taken as the
// nearest of these. It is kept on the same page as the first lines that follow it.
func (d *Document) Heading(level int, text string) {
	if d.err != nil {
		return
	}
	level = min(max(level, 1), len(headingScale))
	body := d.cfg.FontSize
	size := headingScale[level-1] * body
	leading := 1.25 * size
	ls := wrapText(text, HelveticaBold, size, d.TextWidth())
	if len(ls) == 0 {
		return
	}
	if !d.atTop() {
		d.Space(0.8 * size)
	}
	d.NeedSpace(float64(len(ls))*leading + 3*leadingFactor*body)
	d.lines(ls, d.left(), HelveticaBold, size, leading)
	d.Space(0.3 * size)
}

// Bullet lays out text as a bulleted item: a bullet, then the text wrapped with a hanging
// indent. An item is kept on one page when it fits on one.
func (d *Document) Bullet(text string) {
	if d.err != nil {
		return
	}
	size := d.cfg.FontSize
	leading := leadingFactor * size
	indent := bulletIndent * size
	ls := wrapText(text, Helvetica, size, d.TextWidth()-indent)
	if len(ls) == 0 {
		return
	}
	d.KeepTogether(func() {
		for i, l := range ls {
			p, top := d.reserve(leading)
			y := baseline(top, leading, size)
			if i == 0 {
				p.text(d.left()+0.3*size, y, Helvetica, size, []byte{0x95})
			}
			p.text(d.left()+indent, y, Helvetica, size, l)
		}
	})
	d.Space(0.25 * size)
}

// Rule draws a thin horizontal line across the text width.
func (d *Document) Rule() {
	if d.err != nil {
		return
	}
	h := ruleHeight * d.cfg.FontSize
	p, top := d.reserve(h)
	y := top - h/2
	p.Line(d.left(), y, d.right(), y, lineWidth)
}

// Checkboxes lays out a row of empty check boxes, drawn as squares, each followed by its
// option, such as "Yes" and "No". A non-empty label comes first, wrapped to the room left of
// the boxes, which are aligned with the right margin; when the options leave too little room,
// the label takes the full width and the boxes follow on the next line. An option too long for
// a line is shortened with an ellipsis.
func (d *Document) Checkboxes(label string, options ...string) {
	if d.err != nil {
		return
	}
	size := d.cfg.FontSize
	leading := checkLeading * size
	width := d.TextWidth()
	items := make([][]byte, len(options))
	itemW := make([]float64, len(options))
	total := 0.0
	for i, o := range options {
		items[i] = truncate(Encode(o), Helvetica, size, width-(boxSide+boxGap)*size)
		itemW[i] = (boxSide+boxGap)*size + float64(Helvetica.units(items[i]))*size/1000
		if i > 0 {
			total += optionGap * size
		}
		total += itemW[i]
	}
	room := width - total - optionGap*size
	if len(options) == 0 || (label != "" && room >= width/3) {
		if len(options) == 0 {
			room = width
		}
		ls := wrapText(label, Helvetica, size, room)
		if len(ls) == 0 {
			ls = [][]byte{nil}
		}
		d.KeepTogether(func() {
			for i, l := range ls {
				p, top := d.reserve(leading)
				y := baseline(top, leading, size)
				p.text(d.left(), y, Helvetica, size, l)
				if i == 0 {
					d.options(p, d.right()-total, y, items, itemW)
				}
			}
		})
		d.Space(0.3 * size)
		return
	}
	d.KeepTogether(func() {
		d.lines(wrapText(label, Helvetica, size, width), d.left(), Helvetica, size, leading)
		for start := 0; start < len(items); {
			end, w := start+1, itemW[start]
			for end < len(items) && w+optionGap*size+itemW[end] <= width+epsilon {
				w += optionGap*size + itemW[end]
				end++
			}
			p, top := d.reserve(leading)
			d.options(p, d.left(), baseline(top, leading, size), items[start:end], itemW[start:end])
			start = end
		}
	})
	d.Space(0.3 * size)
}

// options draws check box options from x along the baseline y.
func (d *Document) options(p *Page, x, y float64, items [][]byte, widths []float64) {
	size := d.cfg.FontSize
	side := boxSide * size
	for i, it := range items {
		p.Rect(x, y-0.1*size, side, side, boxLineWidth)
		p.text(x+side+boxGap*size, y, Helvetica, size, it)
		x += widths[i] + optionGap*size
	}
}

// FillIn lays out one line of fill-in fields: each label followed by a line to write on. The
// fields share the text width equally; a label too long for its field is shortened with an
// ellipsis so that some line is left. With no label, FillIn draws one line across the text
// width.
func (d *Document) FillIn(labels ...string) {
	if d.err != nil {
		return
	}
	if len(labels) == 0 {
		labels = []string{""}
	}
	size := d.cfg.FontSize
	leading := fillLeading * size
	gap := fillColumnGap * size
	n := float64(len(labels))
	col := (d.TextWidth() - gap*(n-1)) / n
	if col <= 0 {
		d.fail(fmt.Errorf("%w: %d fill-in fields do not fit on a line", ErrNumber, len(labels)))
		return
	}
	p, top := d.reserve(leading)
	y := top - leading + 0.6*size
	for i, l := range labels {
		x := d.left() + float64(i)*(col+gap)
		minLine := min(4*size, col/2)
		b := truncate(Encode(l), Helvetica, size, col-minLine)
		start := x
		if len(b) > 0 {
			p.text(x, y, Helvetica, size, b)
			start += float64(Helvetica.units(b))*size/1000 + 0.3*size
		}
		p.Line(start, y-1.5, x+col, y-1.5, lineWidth)
	}
	d.Space(0.2 * size)
}
