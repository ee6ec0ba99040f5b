package pdftest

import (
	"fmt"
	"strings"

	"github.com/ern-cpms/cpms/internal/pdf"
)

// Op is one operator of a content stream with its operands.
type Op struct {
	Operator string
	Operands []Object
}

// Ops parses the page's content into operators.
func (p Page) Ops() ([]Op, error) {
	ps := parser{lex: lexer{data: p.Content}}
	var ops []Op
	var operands []Object
	for {
		t, err := ps.next()
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", p.Number, err)
		}
		if t.kind == tokEOF {
			break
		}
		obj, op, err := ps.value(t)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", p.Number, err)
		}
		if op == "" {
			if _, isRef := obj.(Ref); isRef {
				return nil, fmt.Errorf("page %d: reference in a content stream", p.Number)
			}
			operands = append(operands, obj)
			continue
		}
		if op == "BI" {
			return nil, fmt.Errorf("page %d: inline images are not read", p.Number)
		}
		ops = append(ops, Op{Operator: op, Operands: operands})
		operands = nil
	}
	if len(operands) > 0 {
		return nil, fmt.Errorf("page %d: operands without an operator at the end", p.Number)
	}
	return ops, nil
}

// Run is one string shown by a text operator.
type Run struct {
	Page int
	// Font is the BaseFont of the font in use, Size its size in points.
	Font string
	Size float64
	// X and Y are the start of the baseline, Width the advance of the whole string as the
	// font's /Widths give it, all in points (text space, which is user space as long as the
	// text matrix only translates).
	X, Y, Width float64
	// Raw is the string as written; Text is Raw decoded to UTF-8.
	Raw  []byte
	Text string
}

// End returns the x coordinate where the run ends.
func (r Run) End() float64 { return r.X + r.Width }

// matrix is a text matrix [a b c d e f].
type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

// translate returns the matrix moved by (tx, ty) in its own coordinates.
func (m matrix) translate(tx, ty float64) matrix {
	m[4], m[5] = tx*m[0]+ty*m[2]+m[4], tx*m[1]+ty*m[3]+m[5]
	return m
}

// textState follows the text operators of one page.
type textState struct {
	page                  Page
	font                  Font
	fontName              string
	size, leading, tc, tw float64
	tm, tlm               matrix
	inText                bool
	runs                  []Run
}

// Runs returns the strings shown by Tj, TJ, ' and " on every page, in content order.
func (f *File) Runs() ([]Run, error) {
	var runs []Run
	for _, p := range f.Pages {
		r, err := p.Runs()
		if err != nil {
			return nil, err
		}
		runs = append(runs, r...)
	}
	return runs, nil
}

// Runs returns the strings shown on the page. Each operand of a TJ array is joined into one
// run, its numbers taken into the width.
func (p Page) Runs() ([]Run, error) {
	ops, err := p.Ops()
	if err != nil {
		return nil, err
	}
	s := textState{page: p, tm: identity, tlm: identity}
	for _, op := range ops {
		if err := s.apply(op); err != nil {
			return nil, fmt.Errorf("page %d: %s: %w", p.Number, op.Operator, err)
		}
	}
	if s.inText {
		return nil, fmt.Errorf("page %d: BT without ET", p.Number)
	}
	return s.runs, nil
}

// nums returns the operands as numbers, which must be n.
func nums(op Op, n int) ([]float64, error) {
	if len(op.Operands) != n {
		return nil, fmt.Errorf("%d operands, want %d", len(op.Operands), n)
	}
	out := make([]float64, n)
	for i, o := range op.Operands {
		v, ok := number(o)
		if !ok {
			return nil, fmt.Errorf("operand %d is %T, not a number", i, o)
		}
		out[i] = v
	}
	return out, nil
}

func (s *textState) apply(op Op) error {
	textOnly := func() error {
		if !s.inText {
			return fmt.Errorf("outside BT … ET")
		}
		return nil
	}
	switch op.Operator {
	case "BT":
		if s.inText {
			return fmt.Errorf("nested BT")
		}
		s.inText, s.tm, s.tlm = true, identity, identity
	case "ET":
		if err := textOnly(); err != nil {
			return err
		}
		s.inText = false
	case "Tf":
		if len(op.Operands) != 2 {
			return fmt.Errorf("%d operands", len(op.Operands))
		}
		name, ok := op.Operands[0].(Name)
		size, ok2 := number(op.Operands[1])
		if !ok || !ok2 {
			return fmt.Errorf("operands are not a name and a size")
		}
		font, ok := s.page.Fonts[string(name)]
		if !ok {
			return fmt.Errorf("font /%s not in the page resources", name)
		}
		s.font, s.fontName, s.size = font, string(name), size
	case "TL", "Tc", "Tw":
		v, err := nums(op, 1)
		if err != nil {
			return err
		}
		switch op.Operator {
		case "TL":
			s.leading = v[0]
		case "Tc":
			s.tc = v[0]
		default:
			s.tw = v[0]
		}
	case "Td", "TD":
		if err := textOnly(); err != nil {
			return err
		}
		v, err := nums(op, 2)
		if err != nil {
			return err
		}
		if op.Operator == "TD" {
			s.leading = -v[1]
		}
		s.tlm = s.tlm.translate(v[0], v[1])
		s.tm = s.tlm
	case "Tm":
		if err := textOnly(); err != nil {
			return err
		}
		v, err := nums(op, 6)
		if err != nil {
			return err
		}
		s.tlm = matrix(v)
		s.tm = s.tlm
	case "T*":
		if err := textOnly(); err != nil {
			return err
		}
		s.nextLine()
	case "Tj", "'", "\"":
		if err := textOnly(); err != nil {
			return err
		}
		args := op.Operands
		if op.Operator == "\"" {
			v, err := nums(Op{Operands: args[:min(2, len(args))]}, 2)
			if err != nil || len(args) != 3 {
				return fmt.Errorf("want word spacing, character spacing and a string")
			}
			s.tw, s.tc = v[0], v[1]
			args = args[2:]
		}
		if op.Operator != "Tj" {
			s.nextLine()
		}
		if len(args) != 1 {
			return fmt.Errorf("%d operands", len(args))
		}
		str, ok := args[0].(String)
		if !ok {
			return fmt.Errorf("operand is %T, not a string", args[0])
		}
		return s.show([]Object{str})
	case "TJ":
		if err := textOnly(); err != nil {
			return err
		}
		if len(op.Operands) != 1 {
			return fmt.Errorf("%d operands", len(op.Operands))
		}
		arr, ok := op.Operands[0].(Array)
		if !ok {
			return fmt.Errorf("operand is not an array")
		}
		return s.show(arr)
	}
	return nil
}

func (s *textState) nextLine() {
	s.tlm = s.tlm.translate(0, -s.leading)
	s.tm = s.tlm
}

// show records one run for the strings and adjustments of a Tj or TJ and advances the text
// matrix past it.
func (s *textState) show(items []Object) error {
	if s.fontName == "" {
		return fmt.Errorf("no font selected")
	}
	if s.font.Widths == nil {
		return fmt.Errorf("font %s has no /Widths", s.font.BaseFont)
	}
	var raw []byte
	advance := 0.0
	for _, it := range items {
		switch v := it.(type) {
		case String:
			for i := 0; i < len(v); i++ {
				c := v[i]
				w := 0.0
				if k := int(c) - s.font.FirstChar; k >= 0 && k < len(s.font.Widths) {
					w = s.font.Widths[k]
				}
				advance += w*s.size/1000 + s.tc
				if c == ' ' {
					advance += s.tw
				}
			}
			raw = append(raw, v...)
		case int, float64:
			n, _ := number(v)
			advance -= n / 1000 * s.size
		default:
			return fmt.Errorf("%T in a TJ array", it)
		}
	}
	s.runs = append(s.runs, Run{
		Page: s.page.Number, Font: s.font.BaseFont, Size: s.size,
		X: s.tm[4], Y: s.tm[5], Width: advance,
		Raw: raw, Text: decode(s.font, raw),
	})
	s.tm = s.tm.translate(advance, 0)
	return nil
}

// decode converts a string shown in font f to UTF-8: WinAnsiEncoding as package pdf defines
// it, any other encoding byte by byte as Latin-1.
func decode(f Font, raw []byte) string {
	if f.Encoding == "WinAnsiEncoding" {
		return pdf.Decode(raw)
	}
	r := make([]rune, len(raw))
	for i, c := range raw {
		r[i] = rune(c)
	}
	return string(r)
}

// Join returns the text of the runs separated by single spaces, so that a phrase can be
// found whatever line breaks fell inside it.
func Join(runs []Run) string {
	parts := make([]string, len(runs))
	for i, r := range runs {
		parts[i] = r.Text
	}
	return strings.Join(parts, " ")
}
