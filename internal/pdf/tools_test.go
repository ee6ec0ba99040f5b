package pdf_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ern-cpms/cpms/internal/pdf"
)

// writeSample writes a document of several pages with accented text to a temporary file and
// returns its path and number of pages.
func writeSample(t *testing.T) (string, int) {
	t.Helper()
	b := build(t, pdf.Config{Title: "Échantillon", Created: created, Footer: "Model consent form — test — version 1"}, func(d *pdf.Document) {
		d.Heading(1, "Straße, Ærø, niño – “quoted”")
		for range 40 {
			d.Paragraph(lorem)
		}
		d.Bullet("Prix : 5 €")
		d.Checkboxes("Do you agree?", "Yes", "No")
		d.FillIn("Date:", "Signature:")
	})
	path := filepath.Join(t.TempDir(), "sample.pdf")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	f, _ := parse(t, b)
	return path, len(f.Pages)
}

// TestQPDFCheck runs qpdf's structural check on the output when qpdf is installed.
func TestQPDFCheck(t *testing.T) {
	qpdf, err := exec.LookPath("qpdf")
	if err != nil {
		t.Skip("qpdf not installed")
	}
	path, _ := writeSample(t)
	out, err := exec.Command(qpdf, "--check", path).CombinedOutput()
	if err != nil || strings.Contains(strings.ToLower(string(out)), "warning") {
		t.Errorf("qpdf --check: %v\n%s", err, out)
	}
}

// TestPdftotext extracts the text of the output with poppler's pdftotext when it is installed.
func TestPdftotext(t *testing.T) {
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext not installed")
	}
	path, pages := writeSample(t)
	out, err := exec.Command(pdftotext, "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"Straße, Ærø, niño – “quoted”", "European Reference Networks", "Prix : 5 €",
		"Do you agree?", "Yes", "No", "Signature:", "Model consent form — test — version 1",
		fmt.Sprintf("Page 1 of %d", pages), fmt.Sprintf("Page %d of %d", pages, pages),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext output lacks %q", want)
		}
	}
	if pages < 2 || strings.Count(text, "\f") != pages {
		t.Errorf("pdftotext found %d pages, want %d (at least 2)", strings.Count(text, "\f"), pages)
	}
}
