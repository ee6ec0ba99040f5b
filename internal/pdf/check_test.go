package pdf_test

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ern-cpms/cpms/internal/pdf"
	"github.com/ern-cpms/cpms/internal/pdf/pdftest"
)

// TestParseRejectsDamage checks that the structural checks the other tests rely on do catch
// damaged files. Each change keeps the file length, so that only the damaged part is wrong.
func TestParseRejectsDamage(t *testing.T) {
	good := build(t, pdf.Config{Created: created}, func(d *pdf.Document) {
		d.Heading(1, "Damage")
		d.Paragraph(lorem)
	})
	if _, err := pdftest.Parse(good); err != nil {
		t.Fatalf("undamaged file: %v", err)
	}
	// bump changes the last digit of the first number matched by re's group 1.
	bump := func(re string) func([]byte) []byte {
		return func(b []byte) []byte {
			m := regexp.MustCompile(re).FindSubmatchIndex(b)
			if m == nil {
				t.Fatalf("%s not found", re)
			}
			out := bytes.Clone(b)
			i := m[3] - 1
			if out[i] == '9' {
				out[i] = '8'
			} else {
				out[i]++
			}
			return out
		}
	}
	replace := func(old, new string) func([]byte) []byte {
		return func(b []byte) []byte {
			if len(old) != len(new) || !bytes.Contains(b, []byte(old)) {
				t.Fatalf("cannot replace %q with %q", old, new)
			}
			return bytes.Replace(b, []byte(old), []byte(new), 1)
		}
	}
	tests := []struct {
		name   string
		damage func([]byte) []byte
		want   string
	}{
		{"no binary comment", func(b []byte) []byte {
			out := bytes.Clone(b)
			copy(out[10:14], "abcd")
			return out
		}, "binary"},
		{"no %%EOF", func(b []byte) []byte {
			out := bytes.Clone(b)
			copy(out[len(out)-6:], "%%EOX\n")
			return out
		}, "%%EOF"},
		{"startxref offset", bump(`startxref\n(\d+)`), "startxref"},
		{"xref offset", bump(`65535 f \n(\d{10})`), "does not point at"},
		{"xref entry form", replace(" 00000 n \n", " 00000 n\n\n"), "malformed entry"},
		{"object number", replace("2 0 obj", "9 0 obj"), "does not point at"},
		{"trailer size", bump(`/Size (\d+)`), "/Size"},
		{"stream length", bump(`/Length (\d+)`), "/Length"},
		{"compressed data", func(b []byte) []byte {
			out := bytes.Clone(b)
			i := bytes.Index(out, []byte("stream\n")) + len("stream\n") + 8
			out[i] ^= 0xFF
			return out
		}, "inflate"},
		{"page count", replace("/Count 1", "/Count 2"), "/Count"},
		{"no endobj", replace("endobj", "endobk"), "endobj"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := tt.damage(good)
			if len(bad) != len(good) {
				t.Fatalf("damage changed the length")
			}
			_, err := pdftest.Parse(bad)
			if err == nil {
				t.Fatalf("Parse accepted the damaged file")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error %q does not mention %q", err, tt.want)
			}
		})
	}
}

// TestXrefOffsets reads the cross-reference table independently of pdftest: ten-digit
// offsets, each pointing at its own object.
func TestXrefOffsets(t *testing.T) {
	b := build(t, pdf.Config{}, func(d *pdf.Document) {
		for range 80 {
			d.Paragraph(lorem)
		}
	})
	i := bytes.LastIndex(b, []byte("startxref\n"))
	end := bytes.IndexByte(b[i+10:], '\n')
	xref, err := strconv.Atoi(string(b[i+10 : i+10+end]))
	if err != nil || !bytes.HasPrefix(b[xref:], []byte("xref\n0 ")) {
		t.Fatalf("startxref %q does not point at the table", b[i+10:i+10+end])
	}
	entries := regexp.MustCompile(`(?m)^(\d{10}) (\d{5}) ([nf]) \n`).FindAllSubmatch(b[xref:], -1)
	size := regexp.MustCompile(`/Size (\d+)`).FindSubmatch(b[xref:])
	if size == nil || strconv.Itoa(len(entries)) != string(size[1]) {
		t.Fatalf("%d entries, trailer %q", len(entries), size)
	}
	for num, e := range entries[1:] {
		off, _ := strconv.Atoi(string(e[1]))
		want := strconv.Itoa(num+1) + " 0 obj\n"
		if !bytes.HasPrefix(b[off:], []byte(want)) {
			t.Errorf("entry %d points at %q, want %q", num+1, b[off:off+len(want)], want)
		}
	}
}
