package pdf

import "fmt"

// Document is a PDF document being laid out. Create one with New, add content with the flow
// methods or with the primitives of its pages, then call WriteTo. A Document is not safe for
// concurrent use.
type Document struct {
	cfg   Config
	pages []*Page
	used  [numFonts]bool // fonts drawn with, written to the resource dictionary
	err   error          // first invalid argument; later drawing calls do nothing
	y     float64        // top of the next flow element on the last page
}

// New returns an empty Document, or an error wrapping ErrConfig when c leaves no room for
// text. The first page is started by the first drawing call, NewPage or Page.
func New(c Config) (*Document, error) {
	c, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Document{cfg: c}, nil
}

// Err returns the first invalid argument given to a drawing call, or nil.
func (d *Document) Err() error { return d.err }

// fail records err unless an earlier error is already recorded.
func (d *Document) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// checkNumbers records an ErrNumber error and returns false when a value is not finite.
func (d *Document) checkNumbers(what string, vs ...float64) bool {
	if d.err != nil {
		return false
	}
	for _, v := range vs {
		if !finite(v) {
			d.fail(fmt.Errorf("%w: %s %v", ErrNumber, what, v))
			return false
		}
	}
	return true
}

// checkSize records an ErrNumber error and returns false when a size or width is negative or
// not finite.
func (d *Document) checkSize(what string, v float64) bool {
	if !d.checkNumbers(what, v) {
		return false
	}
	if v < 0 {
		d.fail(fmt.Errorf("%w: negative %s %v", ErrNumber, what, v))
		return false
	}
	return true
}

// checkFont records an ErrFont error and returns false when f is not a declared font.
func (d *Document) checkFont(f Font) bool {
	if d.err != nil {
		return false
	}
	if !f.Valid() {
		d.fail(fmt.Errorf("%w: %d", ErrFont, int(f)))
		return false
	}
	return true
}

// NewPage starts a new page, makes it the page the flow layout continues on, and returns it.
func (d *Document) NewPage() *Page {
	p := &Page{doc: d, n: len(d.pages) + 1}
	d.pages = append(d.pages, p)
	d.y = d.top()
	return p
}

// Page returns the page the flow layout is on, starting the first page if there is none.
func (d *Document) Page() *Page {
	if len(d.pages) == 0 {
		return d.NewPage()
	}
	return d.pages[len(d.pages)-1]
}

// PageCount returns the number of pages started so far.
func (d *Document) PageCount() int { return len(d.pages) }

// TextWidth returns the width of the text area in points: the page width less the left and
// right margins.
func (d *Document) TextWidth() float64 { return d.right() - d.left() }

// FontSize returns the body text size in points.
func (d *Document) FontSize() float64 { return d.cfg.FontSize }

// Margins returns the margins in force, with defaults applied.
func (d *Document) Margins() Margins { return d.cfg.Margins }

// Cursor returns the vertical position, in points from the bottom of the page, where the next
// flow element will start on the current page.
func (d *Document) Cursor() float64 {
	if len(d.pages) == 0 {
		return d.top()
	}
	return d.y
}

// Remaining returns the height, in points, left for flow elements on the current page.
func (d *Document) Remaining() float64 {
	return d.Cursor() - d.bottom()
}

func (d *Document) left() float64   { return d.cfg.Margins.Left }
func (d *Document) right() float64  { return PageWidth - d.cfg.Margins.Right }
func (d *Document) top() float64    { return PageHeight - d.cfg.Margins.Top }
func (d *Document) bottom() float64 { return d.cfg.Margins.Bottom }
