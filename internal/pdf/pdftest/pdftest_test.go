package pdftest_test

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/ern-cpms/cpms/internal/pdf/pdftest"
)

// assemble builds a file from the bodies of objects 1, 2, …, with a correct cross-reference
// table. Object 1 must be the catalog.
func assemble(objects ...string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f\r\n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n\r\n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /ID [<01> <01>] >>\nstartxref\n%d\n%%%%EOF", len(objects)+1, xref)
	return b.Bytes()
}

// onePage returns a file with one page whose content is given, uncompressed, with its
// length in an indirect object, and a font F1 whose glyphs are all 500 units wide.
func onePage(content string) []byte {
	widths := strings.TrimSpace(strings.Repeat("500 ", 224))
	return assemble(
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 200 100] >>",
		"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> >>",
		"<< /Length 5 0 R >>\nstream\r\n"+content+"\r\nendstream",
		fmt.Sprint(len(content)),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Mono /Encoding /WinAnsiEncoding /FirstChar 32 /LastChar 255 /Widths ["+widths+"] >>",
	)
}

func TestRuns(t *testing.T) {
	type run struct {
		text        string
		x, y, width float64
	}
	tests := []struct {
		name    string
		content string
		want    []run
	}{
		{"Tj after Td", "BT /F1 10 Tf 5 6 Td (ab) Tj ET", []run{{"ab", 5, 6, 10}}},
		{"runs advance", "BT /F1 10 Tf 5 6 Td (ab) Tj (c) Tj ET", []run{{"ab", 5, 6, 10}, {"c", 15, 6, 5}}},
		{"TJ adjustments", "BT /F1 10 Tf [(a) -1000 (b)] TJ ET", []run{{"ab", 0, 0, 20}}},
		{"TD T* and quote", "BT /F1 10 Tf 1 50 TD (a) Tj 0 -12 TD (b) Tj T* (c) Tj (d) ' ET",
			[]run{{"a", 1, 50, 5}, {"b", 1, 38, 5}, {"c", 1, 26, 5}, {"d", 1, 14, 5}}},
		{"Tm and TL", "BT /F1 10 Tf 14 TL 1 0 0 1 20 80 Tm (a) Tj T* (b) Tj ET", []run{{"a", 20, 80, 5}, {"b", 20, 66, 5}}},
		{"spacing", "BT /F1 10 Tf 2 Tc 3 Tw (a b) Tj ET", []run{{"a b", 0, 0, 15 + 6 + 3}}},
		{"double quote", `BT /F1 10 Tf 10 TL 0 20 Td 1 2 (x y) " ET`, []run{{"x y", 0, 10, 15 + 6 + 1}}},
		{"escapes", `BT /F1 1 Tf (\(n\) \\ \101\102 \x (a(b)c) \
d \351\200) Tj ET`, []run{{`(n) \ AB x (a(b)c) d é€`, 0, 0, 11.5}}},
		{"hex string", "BT /F1 1 Tf <48 65 6c6C 6f2> Tj ET", []run{{"Hello ", 0, 0, 3}}},
		{"graphics ignored", "q 1 0 0 1 0 0 cm 0.5 w 0 0 m 10 10 l S 0 0 5 5 re S Q", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := pdftest.Parse(onePage(tt.content))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			runs, err := f.Runs()
			if err != nil {
				t.Fatalf("Runs: %v", err)
			}
			var got []run
			for _, r := range runs {
				got = append(got, run{r.Text, r.X, r.Y, r.Width})
			}
			if len(got) != len(tt.want) {
				t.Fatalf("runs %+v, want %+v", got, tt.want)
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.text != w.text || math.Abs(g.x-w.x) > 1e-9 || math.Abs(g.y-w.y) > 1e-9 || math.Abs(g.width-w.width) > 1e-9 {
					t.Errorf("run %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestRunsErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"text outside BT", "/F1 10 Tf (a) Tj", "outside BT"},
		{"no font", "BT (a) Tj ET", "no font"},
		{"unknown font", "BT /F9 10 Tf (a) Tj ET", "/F9"},
		{"unterminated BT", "BT /F1 10 Tf (a) Tj", "BT without ET"},
		{"unterminated string", "BT /F1 10 Tf (a Tj ET", "unterminated"},
		{"inline image", "BI /W 1 ID x EI", "inline images"},
		{"dangling operands", "1 2", "without an operator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := pdftest.Parse(onePage(tt.content))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if _, err := f.Runs(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Runs error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestParseStreams(t *testing.T) {
	deflated := func(s string) string {
		var b bytes.Buffer
		z := zlib.NewWriter(&b)
		z.Write([]byte(s))
		z.Close()
		return b.String()
	}
	page := func(stream string) []byte {
		return assemble(
			"<< /Type /Catalog /Pages 2 0 R >>",
			"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
			"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 1 1] /Resources << >> /Contents 4 0 R >>",
			stream,
		)
	}
	z := deflated("0 0 m")
	tests := []struct {
		name, stream, want string // want is "" for a file Parse accepts
	}{
		{"flate", fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", len(z), z), ""},
		{"plain with CR LF", "<< /Length 5 >>\nstream\r\n0 0 m\r\nendstream", ""},
		{"no end of line before endstream", "<< /Length 5 >>\nstream\n0 0 mendstream", "end of line"},
		{"CR alone after stream", "<< /Length 5 >>\nstream\r0 0 m\nendstream", "CR LF or LF"},
		{"length too short", "<< /Length 4 >>\nstream\n0 0 m\nendstream", "/Length"},
		{"garbage after the compressed data", fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%sxy\nendstream", len(z)+2, z), "after its compressed data"},
		{"unknown filter", "<< /Length 5 /Filter /LZWDecode >>\nstream\n0 0 m\nendstream", "LZWDecode"},
		{"missing length", "<< >>\nstream\n0 0 m\nendstream", "/Length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pdftest.Parse(page(tt.stream))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Parse: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Parse error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestParsePageTree(t *testing.T) {
	tests := []struct {
		name  string
		pages string
		page  string
		want  string
	}{
		{"good", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 1 1] /Resources << >> /Contents [] >>", ""},
		{"wrong count", "<< /Type /Pages /Kids [3 0 R] /Count 2 >>", "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 1 1] /Resources << >> /Contents [] >>", "/Count"},
		{"wrong parent", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", "<< /Type /Page /Parent 3 0 R /MediaBox [0 0 1 1] /Resources << >> /Contents [] >>", "/Parent"},
		{"no media box", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", "<< /Type /Page /Parent 2 0 R /Resources << >> /Contents [] >>", "media box"},
		{"no resources", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 1 1] /Contents [] >>", "resource"},
		{"kid twice", "<< /Type /Pages /Kids [3 0 R 3 0 R] /Count 2 >>", "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 1 1] /Resources << >> /Contents [] >>", "twice"},
		{"duplicate key", "<< /Type /Pages /Type /Pages /Kids [3 0 R] /Count 1 >>", "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 1 1] /Resources << >> /Contents [] >>", "duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pdftest.Parse(assemble("<< /Type /Catalog /Pages 2 0 R >>", tt.pages, tt.page))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Parse: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Parse error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
