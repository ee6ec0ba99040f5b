package pdf_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ern-cpms/cpms/internal/pdf"
	"github.com/ern-cpms/cpms/internal/pdf/pdftest"
)

// FuzzParagraph lays out arbitrary text with every flow element and checks that the file
// still passes the structural checks and keeps its text inside the text area.
func FuzzParagraph(f *testing.F) {
	for _, s := range []string{
		"",
		" ",
		lorem,
		"((unbalanced \\ back)slash)",
		"\\(\\)\\\\",
		"line\nbreaks\r\nand\rreturns\n\n",
		"Ærøskøbing, Straße, niño, façade, „Zitat“ – 5 € — ‘x’",
		"Ελληνικά Українська 日本語 😀",
		"\x00\x01\x7f\xff\xfe",
		strings.Repeat("W", 500),
		strings.Repeat("ab ", 2000),
		"endstream endobj xref trailer %%EOF",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := pdf.New(pdf.Config{Title: s, Author: s, Footer: s})
		if err != nil {
			t.Fatal(err)
		}
		a := textArea(d)
		d.Heading(1, s)
		d.Paragraph(s)
		d.StyledParagraph(pdf.Style{Font: pdf.CourierOblique, Size: 8}, s)
		d.Bullet(s)
		d.Checkboxes(s, "Yes", s)
		d.FillIn(s)
		d.FillIn(s, s, s)
		d.Rule()
		d.Page().Text(100, 30, pdf.HelveticaBold, 10, s)
		var buf bytes.Buffer
		if _, err := d.WriteTo(&buf); err != nil {
			t.Fatalf("WriteTo: %v", err)
		}
		file, err := pdftest.Parse(buf.Bytes())
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		runs, err := file.Runs()
		if err != nil {
			t.Fatalf("Runs: %v", err)
		}
		// Leave out the primitive text, which is not wrapped.
		var flow []pdftest.Run
		for _, r := range runs {
			if r.Y != 30 {
				flow = append(flow, r)
			}
		}
		checkInside(t, a, flow)
		if got, want := file.Info["Title"], string([]rune(s)); s != "" && got != want {
			t.Errorf("title %q, want %q", got, want)
		}
	})
}
