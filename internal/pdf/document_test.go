package pdf_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/internal/pdf"
	"github.com/ern-cpms/cpms/internal/pdf/pdftest"
)

const lorem = "European Reference Networks bring together clinicians from hospitals across " +
	"Europe to discuss complex or rare diseases and conditions that require highly specialised " +
	"treatment and a concentration of knowledge and resources. A virtual panel reviews the " +
	"pseudonymised case, and the coordinating clinician writes the outcome."

func TestStructureAndInfo(t *testing.T) {
	var a area
	b := build(t, pdf.Config{
		Title:    "Formulaire de consentement – modèle",
		Author:   "EuroBloodNet",
		Subject:  "Consent (model)",
		Keywords: "consent, ERN",
		Creator:  "cpms",
		Created:  created,
	}, func(d *pdf.Document) {
		a = textArea(d)
		d.Heading(1, "Title")
		d.Paragraph(lorem)
	})
	if !bytes.HasPrefix(b, []byte("%PDF-1.7\n%")) {
		t.Errorf("header = %q", b[:12])
	}
	f, runs := parse(t, b)
	if f.Version != "1.7" {
		t.Errorf("version %q", f.Version)
	}
	want := map[string]string{
		"Title":        "Formulaire de consentement – modèle",
		"Author":       "EuroBloodNet",
		"Subject":      "Consent (model)",
		"Keywords":     "consent, ERN",
		"Creator":      "cpms",
		"CreationDate": "D:20250601093000+02'00'",
	}
	for k, v := range want {
		if f.Info[k] != v {
			t.Errorf("Info /%s = %q, want %q", k, f.Info[k], v)
		}
	}
	if len(f.Pages) != 1 {
		t.Fatalf("%d pages, want 1", len(f.Pages))
	}
	if mb := f.Pages[0].MediaBox; !slices.Equal(mb, []float64{0, 0, 595.28, 841.89}) {
		t.Errorf("media box %v, want A4", mb)
	}
	fonts := map[string]bool{}
	for _, ft := range f.Pages[0].Fonts {
		fonts[ft.BaseFont] = true
		if ft.Encoding != "WinAnsiEncoding" || ft.Subtype != "Type1" || ft.FirstChar != 32 || len(ft.Widths) != 224 {
			t.Errorf("font %+v", ft)
		}
	}
	if !fonts["Helvetica"] || !fonts["Helvetica-Bold"] || len(fonts) != 2 {
		t.Errorf("fonts %v, want Helvetica and Helvetica-Bold only", fonts)
	}
	if got := bodyText(a, runs); !strings.Contains(got, "Title "+lorem) {
		t.Errorf("text %q lacks the paragraph", got)
	}
}

func TestNoCreationDate(t *testing.T) {
	f, _ := parse(t, build(t, pdf.Config{}, func(*pdf.Document) {}))
	if _, ok := f.Info["CreationDate"]; ok {
		t.Errorf("CreationDate written for the zero time")
	}
	if len(f.Pages) != 1 {
		t.Errorf("empty document has %d pages, want 1 blank page", len(f.Pages))
	}
}

func TestParagraphWrapsWithinTextWidth(t *testing.T) {
	for _, size := range []float64{7, 10, 14} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			var a area
			text := strings.Repeat(lorem+" ", 3) + "Unbreakable" + strings.Repeat("X", 120)
			b := build(t, pdf.Config{FontSize: size}, func(d *pdf.Document) {
				a = textArea(d)
				d.Paragraph(text)
				d.StyledParagraph(pdf.Style{Font: pdf.HelveticaBold}, lorem)
				d.Bullet(lorem)
			})
			_, runs := parse(t, b)
			runs = body(a, runs)
			checkInside(t, a, runs)
			if len(runs) < 6 {
				t.Errorf("%d lines; the text was not wrapped", len(runs))
			}
			got := strings.Fields(pdftest.Join(runs))
			want := strings.Fields(text + " " + lorem + " • " + lorem)
			// The long word is cut between characters: compare with the cuts joined.
			if strings.Join(got, "") != strings.Join(want, "") {
				t.Errorf("words changed:\n got %q\nwant %q", got, want)
			}
			for i := 1; i < len(runs); i++ {
				if runs[i].Page == runs[i-1].Page && runs[i].Y >= runs[i-1].Y && runs[i-1].Text != "•" {
					t.Errorf("line %q is not below the line before it", runs[i].Text)
				}
			}
		})
	}
}

func TestPageBreaksAndFooter(t *testing.T) {
	var a area
	const paragraphs = 60
	b := build(t, pdf.Config{Footer: "Model consent form — EuroBloodNet — version 1"}, func(d *pdf.Document) {
		a = textArea(d)
		for i := range paragraphs {
			d.Heading(2, fmt.Sprintf("Section %d", i+1))
			d.Paragraph(lorem)
		}
	})
	f, runs := parse(t, b)
	n := len(f.Pages)
	if n < 4 {
		t.Fatalf("%d pages for %d paragraphs; no page breaks", n, paragraphs)
	}
	checkInside(t, a, runs)
	footers := map[int][]string{}
	for _, r := range runs {
		if r.Y < a.bottom {
			footers[r.Page] = append(footers[r.Page], r.Text)
		}
	}
	for p := 1; p <= n; p++ {
		want := []string{fmt.Sprintf("Page %d of %d", p, n), "Model consent form — EuroBloodNet — version 1"}
		if !slices.Equal(footers[p], want) {
			t.Errorf("page %d footer %q, want %q", p, footers[p], want)
		}
	}
	// Every section is laid out once, in order, and its heading is on the page of its text.
	next := 1
	for i, r := range runs {
		if r.Font != "Helvetica-Bold" {
			continue
		}
		if r.Text != fmt.Sprintf("Section %d", next) {
			t.Fatalf("heading %q, want Section %d", r.Text, next)
		}
		if i+1 >= len(runs) || runs[i+1].Page != r.Page || runs[i+1].Y < a.bottom {
			t.Errorf("heading %q is the last line of page %d", r.Text, r.Page)
		}
		next++
	}
	if next != paragraphs+1 {
		t.Errorf("%d headings, want %d", next-1, paragraphs)
	}
}

func TestPageLabel(t *testing.T) {
	tests := []struct {
		name  string
		label func(n, total int) string
		want  []string
	}{
		{"none", func(int, int) string { return "" }, nil},
		{"custom", func(n, total int) string { return fmt.Sprintf("Seite %d von %d", n, total) }, []string{"Seite 1 von 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, runs := parse(t, build(t, pdf.Config{PageLabel: tt.label}, func(d *pdf.Document) { d.Paragraph("x") }))
			var got []string
			for _, r := range runs[1:] {
				got = append(got, r.Text)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("footer %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLongFooterIsShortened(t *testing.T) {
	var a area
	_, runs := parse(t, build(t, pdf.Config{Footer: strings.Repeat("footer ", 40)}, func(d *pdf.Document) { a = textArea(d) }))
	checkInside(t, a, runs)
	if len(runs) != 2 || !strings.HasSuffix(runs[1].Text, "…") || runs[1].End() > runs[0].X {
		t.Errorf("footer runs %+v", runs)
	}
}

func TestDeterministic(t *testing.T) {
	layout := func(d *pdf.Document) {
		d.Heading(1, "Consent")
		for range 30 {
			d.Paragraph(lorem)
			d.Checkboxes("Do you agree?", "Yes", "No")
			d.FillIn("Date:")
		}
	}
	c := pdf.Config{Title: "Déterminisme", Created: created, Footer: "f"}
	first := build(t, c, layout)
	if second := build(t, c, layout); !bytes.Equal(first, second) {
		t.Errorf("two builds of the same document differ")
	}
	d, err := pdf.New(c)
	if err != nil {
		t.Fatal(err)
	}
	layout(d)
	var w1, w2 bytes.Buffer
	if _, err := d.WriteTo(&w1); err != nil {
		t.Fatal(err)
	}
	if _, err := d.WriteTo(&w2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w1.Bytes(), first) || !bytes.Equal(w2.Bytes(), first) {
		t.Errorf("WriteTo called twice gives different files")
	}
	c.Created = created.Add(time.Second)
	if other := build(t, c, layout); bytes.Equal(first, other) {
		t.Errorf("a different creation date gives the same file")
	}
	f1, _ := parse(t, first)
	f2, _ := parse(t, build(t, pdf.Config{Created: created}, func(d *pdf.Document) { d.Paragraph("other") }))
	if f1.Trailer["ID"].(pdftest.Array)[0] == f2.Trailer["ID"].(pdftest.Array)[0] {
		t.Errorf("different documents share the file identifier")
	}
}

func TestWinAnsiBytes(t *testing.T) {
	tests := []struct {
		in, text string
		raw      []byte
	}{
		{"café", "café", []byte("caf\xe9")},
		{"Müller", "Müller", []byte("M\xfcller")},
		{"España", "España", []byte("Espa\xf1a")},
		{"Straße", "Straße", []byte("Stra\xdfe")},
		{"Ørsted", "Ørsted", []byte("\xd8rsted")},
		{"Ångström", "Ångström", []byte("\xc5ngstr\xf6m")},
		{"œuvre", "œuvre", []byte("\x9cuvre")},
		{"5 €", "5 €", []byte("5 \x80")},
		{"“quoted”", "“quoted”", []byte("\x93quoted\x94")},
		{"‘single’", "‘single’", []byte("\x91single\x92")},
		{"a–b—c", "a–b—c", []byte("a\x96b\x97c")},
		{"Ελλάδα", "??????", []byte("??????")},
		{"(paren) \\", "(paren) \\", []byte("(paren) \\")},
		{"a ( b", "a ( b", []byte("a ( b")},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b := build(t, pdf.Config{PageLabel: func(int, int) string { return "" }}, func(d *pdf.Document) {
				d.Page().Text(100, 700, pdf.Helvetica, 12, tt.in)
			})
			f, runs := parse(t, b)
			if len(runs) != 1 {
				t.Fatalf("%d runs, want 1", len(runs))
			}
			if r := runs[0]; !bytes.Equal(r.Raw, tt.raw) || r.Text != tt.text || r.X != 100 || r.Y != 700 || r.Size != 12 {
				t.Errorf("run %+v, want raw %q text %q at 100,700 size 12", r, tt.raw, tt.text)
			}
			if strings.ContainsAny(tt.in, "()\\") && !bytes.Contains(f.Pages[0].Content, []byte(`\(`)) && !bytes.Contains(f.Pages[0].Content, []byte(`\\`)) {
				t.Errorf("content %q does not escape", f.Pages[0].Content)
			}
		})
	}
}

func TestCheckboxes(t *testing.T) {
	tests := []struct {
		name    string
		label   string
		options []string
		rows    int  // rows the options take
		right   bool // options aligned with the right margin
	}{
		{"yes no", "I agree that my case is shared:", []string{"Yes", "No"}, 1, true},
		{"no label", "", []string{"Yes", "No", "Not asked"}, 1, false},
		{"long label wraps beside the boxes", strings.Repeat("label ", 40), []string{"Yes", "No"}, 1, true},
		{"many options below the label", "Choose:", strings.Fields(strings.Repeat("option ", 30)), 4, false}, // 9 a row,
		{"option longer than a line", "L", []string{strings.Repeat("o", 300)}, 1, false},
		{"no option", "Only a label", nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a area
			b := build(t, pdf.Config{}, func(d *pdf.Document) {
				a = textArea(d)
				d.Checkboxes(tt.label, tt.options...)
			})
			f, runs := parse(t, b)
			runs = body(a, runs)
			checkInside(t, a, runs)
			if got := count(t, f.Pages[0], "re"); got != len(tt.options) {
				t.Errorf("%d rectangles, want %d", got, len(tt.options))
			}
			var label, options []pdftest.Run
			for _, r := range runs {
				if slices.Contains(tt.options, r.Text) || strings.HasSuffix(r.Text, "…") {
					options = append(options, r)
				} else {
					label = append(label, r)
				}
			}
			if got, want := pdftest.Join(label), strings.Join(strings.Fields(tt.label), " "); got != want {
				t.Errorf("label %q, want %q", got, want)
			}
			if len(options) != len(tt.options) {
				t.Fatalf("%d options drawn, want %d", len(options), len(tt.options))
			}
			rows := map[float64]bool{}
			for _, o := range options {
				rows[o.Y] = true
			}
			if len(rows) != tt.rows {
				t.Errorf("options on %d rows, want %d", len(rows), tt.rows)
			}
			if len(options) > 0 {
				last := options[len(options)-1]
				if tt.right != (math.Abs(last.End()-a.right) < 0.01) {
					t.Errorf("last option ends at %.3f, right margin %.3f; want aligned %v", last.End(), a.right, tt.right)
				}
				if tt.right && len(label) > 0 && last.Y != label[0].Y {
					t.Errorf("options not on the first line of the label")
				}
			}
		})
	}
}

func TestFillInRuleAndPrimitives(t *testing.T) {
	var a area
	b := build(t, pdf.Config{}, func(d *pdf.Document) {
		a = textArea(d)
		d.FillIn("Patient's name:")
		d.FillIn("Date:", "Signature:")
		d.FillIn()
		d.FillIn(strings.Repeat("very long label ", 20))
		d.Rule()
		d.Space(12)
		p := d.Page()
		p.Line(10, 10, 20, 20, 1)
		p.Rect(30, 40, 50, 60, 0.5)
		p.Text(300, 400, pdf.CourierBold, 9, "at 300,400")
	})
	f, runs := parse(t, b)
	// 1 + 2 + 1 + 1 fill-in lines, the rule, and the explicit line.
	if got := count(t, f.Pages[0], "l"); got != 7 {
		t.Errorf("%d lines, want 7", got)
	}
	if got := count(t, f.Pages[0], "re"); got != 1 {
		t.Errorf("%d rectangles, want 1", got)
	}
	checkInside(t, a, body(a, runs[:len(runs)-2]))
	var found bool
	for _, r := range runs {
		if r.Text == "at 300,400" {
			found = r.X == 300 && r.Y == 400 && r.Font == "Courier-Bold" && math.Abs(r.Width-10*5.4) < 1e-9
		}
	}
	if !found {
		t.Errorf("primitive text not found at 300,400 in Courier-Bold: %+v", runs)
	}
	joined := bodyText(a, runs)
	for _, w := range []string{"Patient's name:", "Date:", "Signature:", "very long label", "…"} {
		if !strings.Contains(joined, w) {
			t.Errorf("text lacks %q", w)
		}
	}
}

func TestKeepTogether(t *testing.T) {
	var a area
	var before int
	b := build(t, pdf.Config{}, func(d *pdf.Document) {
		a = textArea(d)
		for d.Remaining() > 60 {
			d.Paragraph("filler")
		}
		before = d.PageCount()
		d.KeepTogether(func() {
			d.Heading(3, "Block")
			for range 5 {
				d.Paragraph("kept")
			}
		})
	})
	_, runs := parse(t, b)
	for _, r := range body(a, runs) {
		if (r.Text == "kept" || r.Text == "Block") && r.Page != before+1 {
			t.Errorf("%q on page %d, want all on page %d", r.Text, r.Page, before+1)
		}
	}
	if n := strings.Count(bodyText(a, runs), "kept"); n != 5 {
		t.Errorf("%d kept paragraphs, want 5", n)
	}
}

func TestHeadingLevelsAndPageBreak(t *testing.T) {
	_, runs := parse(t, build(t, pdf.Config{PageLabel: func(int, int) string { return "" }}, func(d *pdf.Document) {
		d.PageBreak() // before the first page: nothing to break
		d.Heading(0, "one")
		d.Heading(2, "two")
		d.Heading(9, "three")
		d.PageBreak()
		d.Paragraph("second page")
	}))
	want := []struct {
		text string
		size float64
		page int
	}{{"one", 16, 1}, {"two", 13, 1}, {"three", 11, 1}, {"second page", 10, 2}}
	if len(runs) != len(want) {
		t.Fatalf("%d runs, want %d", len(runs), len(want))
	}
	for i, w := range want {
		if r := runs[i]; r.Text != w.text || math.Abs(r.Size-w.size) > 1e-9 || r.Page != w.page {
			t.Errorf("run %d = %q size %v page %d, want %q size %v page %d", i, r.Text, r.Size, r.Page, w.text, w.size, w.page)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name   string
		layout func(d *pdf.Document)
		want   error
	}{
		{"unknown font", func(d *pdf.Document) { d.Page().Text(1, 1, pdf.Font(42), 10, "x") }, pdf.ErrFont},
		{"styled paragraph font", func(d *pdf.Document) { d.StyledParagraph(pdf.Style{Font: -1}, "x") }, pdf.ErrFont},
		{"NaN position", func(d *pdf.Document) { d.Page().Text(math.NaN(), 1, pdf.Helvetica, 10, "x") }, pdf.ErrNumber},
		{"negative size", func(d *pdf.Document) { d.Page().Text(1, 1, pdf.Helvetica, -1, "x") }, pdf.ErrNumber},
		{"infinite line", func(d *pdf.Document) { d.Page().Line(0, 0, math.Inf(1), 0, 1) }, pdf.ErrNumber},
		{"negative line width", func(d *pdf.Document) { d.Page().Rect(0, 0, 1, 1, -1) }, pdf.ErrNumber},
		{"negative space", func(d *pdf.Document) { d.Space(-5) }, pdf.ErrNumber},
		{"too many fill-ins", func(d *pdf.Document) { d.FillIn(make([]string, 1000)...) }, pdf.ErrNumber},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := pdf.New(pdf.Config{})
			if err != nil {
				t.Fatal(err)
			}
			tt.layout(d)
			d.Paragraph("after the error")
			if !errors.Is(d.Err(), tt.want) {
				t.Errorf("Err() = %v, want %v", d.Err(), tt.want)
			}
			var buf bytes.Buffer
			if n, err := d.WriteTo(&buf); !errors.Is(err, tt.want) || n != 0 || buf.Len() != 0 {
				t.Errorf("WriteTo = %d, %v and %d bytes; want 0, %v and nothing written", n, err, buf.Len(), tt.want)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		c    pdf.Config
	}{
		{"negative margin", pdf.Config{Margins: pdf.Margins{Top: -1, Left: 10}}},
		{"NaN margin", pdf.Config{Margins: pdf.Margins{Top: math.NaN()}}},
		{"margins wider than the page", pdf.Config{Margins: pdf.Margins{Left: 300, Right: 300}}},
		{"margins taller than the page", pdf.Config{Margins: pdf.Margins{Top: 500, Bottom: 400}}},
		{"negative font size", pdf.Config{FontSize: -10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := pdf.New(tt.c); !errors.Is(err, pdf.ErrConfig) {
				t.Errorf("New = %v, want ErrConfig", err)
			}
		})
	}
}

func TestCustomMargins(t *testing.T) {
	var a area
	b := build(t, pdf.Config{Margins: pdf.Margins{Top: 100, Right: 150, Bottom: 120, Left: 90}}, func(d *pdf.Document) {
		a = textArea(d)
		for range 40 {
			d.Paragraph(lorem)
		}
	})
	if a != (area{90, pdf.PageWidth - 150, 120, pdf.PageHeight - 100}) {
		t.Fatalf("text area %+v", a)
	}
	f, runs := parse(t, b)
	checkInside(t, a, runs)
	if len(f.Pages) < 3 {
		t.Errorf("%d pages", len(f.Pages))
	}
	for _, r := range body(a, runs) {
		// The lowest line's descenders may reach just below the margin: its baseline not.
		if r.Y < a.bottom {
			t.Errorf("line %q below the bottom margin", r.Text)
		}
	}
}
