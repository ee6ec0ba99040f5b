package pdf

import (
	"fmt"
	"math"
	"time"
)

// A4 page size in points.
const (
	PageWidth  = 595.28
	PageHeight = 841.89
)

// mm is one millimetre in points.
const mm = 72 / 25.4

// defaultMargins are used when Config.Margins is the zero value.
var defaultMargins = Margins{Top: 20 * mm, Right: 20 * mm, Bottom: 22 * mm, Left: 20 * mm}

// DefaultFontSize is the body text size, in points, when Config.FontSize is zero.
const DefaultFontSize = 10

// Margins are the distances, in points, from the page edges to the text area. The footer is
// drawn inside the bottom margin.
type Margins struct {
	Top, Right, Bottom, Left float64
}

// Config describes a Document.
type Config struct {
	// Title, Author, Subject, Keywords and Creator go to the document information
	// dictionary, which readers show as the file's properties. Any Unicode text is kept.
	Title, Author, Subject, Keywords, Creator string
	// Created is the creation date recorded in the file. It is given by the caller so that
	// output is reproducible; the zero time leaves the date out.
	Created time.Time
	// Margins around the text area; the zero value means 20 mm at the top and sides and
	// 22 mm at the bottom, which leaves room for the footer.
	Margins Margins
	// FontSize is the size of body text in points; zero means DefaultFontSize. Headings,
	// bullets, check boxes and fill-in lines are sized from it.
	FontSize float64
	// Footer is drawn at the bottom left of every page, shortened with an ellipsis when it
	// would run into the page label. Empty means no footer text.
	Footer string
	// PageLabel returns the label drawn at the bottom right of page n of total; nil means
	// "Page n of total", and a function returning "" draws no label.
	PageLabel func(n, total int) string
}

// withDefaults returns c with zero fields replaced by their defaults, or an error wrapping
// ErrConfig when c leaves no room for text.
func (c Config) withDefaults() (Config, error) {
	if c.Margins == (Margins{}) {
		c.Margins = defaultMargins
	}
	if c.FontSize == 0 {
		c.FontSize = DefaultFontSize
	}
	if c.PageLabel == nil {
		c.PageLabel = func(n, total int) string { return fmt.Sprintf("Page %d of %d", n, total) }
	}
	m := c.Margins
	for _, v := range []float64{m.Top, m.Right, m.Bottom, m.Left} {
		if !finite(v) || v < 0 {
			return c, fmt.Errorf("%w: margin %v", ErrConfig, v)
		}
	}
	if m.Left+m.Right >= PageWidth || m.Top+m.Bottom >= PageHeight {
		return c, fmt.Errorf("%w: margins leave no text area", ErrConfig)
	}
	if !finite(c.FontSize) || c.FontSize < 0 {
		return c, fmt.Errorf("%w: font size %v", ErrConfig, c.FontSize)
	}
	return c, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
