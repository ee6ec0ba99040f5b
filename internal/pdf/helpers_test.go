package pdf_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/internal/pdf"
	"github.com/ern-cpms/cpms/internal/pdf/pdftest"
)

// created is the creation date of the test documents.
var created = time.Date(2025, 6, 1, 9, 30, 0, 0, time.FixedZone("CEST", 2*3600))

// build lays out a document with Config c and returns the file.
func build(t testing.TB, c pdf.Config, layout func(d *pdf.Document)) []byte {
	t.Helper()
	d, err := pdf.New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	layout(d)
	var buf bytes.Buffer
	n, err := d.WriteTo(&buf)
	if err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo returned %d, wrote %d bytes", n, buf.Len())
	}
	return buf.Bytes()
}

// parse checks the file structure and returns the file and its text runs.
func parse(t testing.TB, b []byte) (*pdftest.File, []pdftest.Run) {
	t.Helper()
	f, err := pdftest.Parse(b)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	runs, err := f.Runs()
	if err != nil {
		t.Fatalf("Runs: %v", err)
	}
	return f, runs
}

// area is the text area of a document with default margins.
type area struct{ left, right, bottom, top float64 }

func textArea(d *pdf.Document) area {
	m := d.Margins()
	return area{m.Left, pdf.PageWidth - m.Right, m.Bottom, pdf.PageHeight - m.Top}
}

// checkInside reports runs that start left of the text area or end right of it, and body
// runs (those above the bottom margin, which holds the footer) above the top margin.
func checkInside(t testing.TB, a area, runs []pdftest.Run) {
	t.Helper()
	const tolerance = 0.01 // coordinates are written to 1/1000 point
	for _, r := range runs {
		if r.X < a.left-tolerance || r.End() > a.right+tolerance {
			t.Errorf("page %d: run %q spans %.3f–%.3f, outside %.3f–%.3f", r.Page, r.Text, r.X, r.End(), a.left, a.right)
		}
		if r.Y > a.top {
			t.Errorf("page %d: run %q at y %.3f above the top margin %.3f", r.Page, r.Text, r.Y, a.top)
		}
	}
}

// body returns the runs above the bottom margin, leaving out the footer.
func body(a area, runs []pdftest.Run) []pdftest.Run {
	var out []pdftest.Run
	for _, r := range runs {
		if r.Y >= a.bottom {
			out = append(out, r)
		}
	}
	return out
}

// bodyText joins the text of the runs above the bottom margin with single spaces.
func bodyText(a area, runs []pdftest.Run) string { return pdftest.Join(body(a, runs)) }

// count returns how many times operator op occurs on the page.
func count(t testing.TB, p pdftest.Page, op string) int {
	t.Helper()
	ops, err := p.Ops()
	if err != nil {
		t.Fatalf("Ops: %v", err)
	}
	n := 0
	for _, o := range ops {
		if o.Operator == op {
			n++
		}
	}
	return n
}
