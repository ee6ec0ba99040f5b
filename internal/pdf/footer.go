package pdf

// footerScale is the footer size relative to the body size.
const footerScale = 0.8

// footer returns the content stream operators that draw the footer, the encoded text
// footer and the page label, on page n of total.
func (d *Document) footer(footer []byte, n, total int) []byte {
	size := footerScale * d.cfg.FontSize
	y := d.bottom()/2 - 0.25*size
	var c []byte
	label := truncate(Encode(d.cfg.PageLabel(n, total)), Helvetica, size, d.TextWidth())
	labelW := float64(Helvetica.units(label)) * size / 1000
	if len(label) > 0 {
		c = appendText(c, d.right()-labelW, y, Helvetica, size, label)
		labelW += 2 * size
	}
	if text := truncate(footer, Helvetica, size, d.TextWidth()-labelW); len(text) > 0 {
		c = appendText(c, d.left(), y, Helvetica, size, text)
	}
	return c
}
