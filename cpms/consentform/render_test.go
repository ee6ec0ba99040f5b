package consentform_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/cpms/consentform"
	"github.com/ern-cpms/cpms/internal/pdf"
	"github.com/ern-cpms/cpms/internal/pdf/pdftest"
)

var created = time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC)

// render renders the form, checks the file structure and returns the file and its text.
func render(t *testing.T, o consentform.Options) (*pdftest.File, []pdftest.Run) {
	t.Helper()
	var buf bytes.Buffer
	if err := consentform.Render(&buf, o); err != nil {
		t.Fatalf("Render: %v", err)
	}
	f, err := pdftest.Parse(buf.Bytes())
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	runs, err := f.Runs()
	if err != nil {
		t.Fatalf("Runs: %v", err)
	}
	return f, runs
}

func join(runs []pdftest.Run) string { return pdftest.Join(runs) }

// options returns the options of the tests for variant v.
func options(v consentform.Variant) consentform.Options {
	return consentform.Options{
		Language: "en",
		Variant:  v,
		ERN:      "EuroBloodNet",
		ERNName:  "European Reference Network on Rare Haematological Diseases",
		Centre:   "BE10 - University Hospital Leuven",
		Created:  created,
	}
}

func TestRenderEnglish(t *testing.T) {
	common := []string{
		"Patient consent form",
		"Sharing your case with EuroBloodNet (European Reference Network on Rare Haematological Diseases)",
		"Hospital: BE10 - University Hospital Leuven",
		"What is a European Reference Network?",
		"How is your case discussed?",
		"Clinical Patient Management System (CPMS)",
		"What is shared, and what is not",
		"pseudonymised",
		"your name and address;",
		"your date of birth;",
		"your patient number at the hospital and other local identifiers.",
		"Your identity stays in your hospital.",
		"Your choices",
		"Consent for care (required)",
		"Without this consent your case cannot be discussed in the network.",
		"Changing your mind",
		"by telling your doctor",
		"frozen",
		"Protecting your data",
		"General Data Protection Regulation (GDPR)",
		"Your hospital is the controller",
		"as long as the law requires medical records to be kept",
		"Patient's name:",
		"Date of birth:",
		"Answer: Yes No",
		"Date:",
		"Signature of the patient:",
		"Name of parent or legal guardian:",
		"Name of the clinician:",
		"Signature:",
	}
	optional := []string{
		"1. Consent for care (required)",
		"2. Consent for ERN databases and registries (optional)",
		"3. Consent to be contacted about research (optional)",
		"kept in a database or registry of EuroBloodNet",
		"Data used for research are anonymised",
		"I agree to be contacted about research",
		"You can say no to one or both optional consents. This has no effect at all on your care",
		"Register name / remarks:",
		"If you withdraw an optional consent",
	}
	tests := []struct {
		variant   consentform.Variant
		want      []string
		wantNot   []string
		consents  int
		optionals int
	}{
		{consentform.Standard, append(common, optional...), []string{"Ukraine"}, 3, 2},
		{consentform.Ukraine, append(common, "simplified consent form for patients displaced from Ukraine",
			"This form asks for one consent"), append(optional, "registries", "research", "optional"), 1, 0},
	}
	for _, tt := range tests {
		t.Run(string(tt.variant), func(t *testing.T) {
			f, runs := render(t, options(tt.variant))
			text := join(runs)
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("form lacks %q", w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(text, w) {
					t.Errorf("form has %q", w)
				}
			}
			rects := 0
			for _, p := range f.Pages {
				ops, err := p.Ops()
				if err != nil {
					t.Fatal(err)
				}
				for _, op := range ops {
					if op.Operator == "re" {
						rects++
					}
				}
			}
			if rects != 2*tt.consents {
				t.Errorf("%d check boxes, want Yes and No for %d consents", rects, tt.consents)
			}
			if n := strings.Count(text, "Answer: Yes No"); n != tt.consents {
				t.Errorf("%d answer rows, want %d", n, tt.consents)
			}
			if n := strings.Count(text, "Register name / remarks:"); n != tt.optionals {
				t.Errorf("%d remarks lines, want %d", n, tt.optionals)
			}
			checkPages(t, f, runs)
		})
	}
}

// checkPages checks the footer of every page, that text stays inside the margins, and that
// the signature part starts a page of its own.
func checkPages(t *testing.T, f *pdftest.File, runs []pdftest.Run) {
	t.Helper()
	d, err := pdf.New(pdf.Config{})
	if err != nil {
		t.Fatal(err)
	}
	m := d.Margins()
	left, right := m.Left, pdf.PageWidth-m.Right
	n := len(f.Pages)
	if n < 2 {
		t.Fatalf("%d pages; the signature part should have a page of its own", n)
	}
	footers := map[int]string{}
	signHeadings := 0
	for i, r := range runs {
		if r.X < left-0.01 || r.End() > right+0.01 {
			t.Errorf("page %d: %q runs outside the margins", r.Page, r.Text)
		}
		if r.Y < m.Bottom {
			footers[r.Page] += r.Text + "|"
			continue
		}
		if r.Text == "Consent" && r.Font == "Helvetica-Bold" {
			signHeadings++
			if i == 0 || runs[i-1].Page == r.Page {
				t.Errorf("the signature part does not start a page")
			}
		}
	}
	if signHeadings != 1 {
		t.Errorf("%d signature headings, want 1", signHeadings)
	}
	for p := 1; p <= n; p++ {
		want := fmt.Sprintf("Page %d of %d|Model consent form — EuroBloodNet — version 1|", p, n)
		if footers[p] != want {
			t.Errorf("page %d footer %q, want %q", p, footers[p], want)
		}
	}
}

func TestRenderProperties(t *testing.T) {
	f, _ := render(t, options(consentform.Standard))
	want := map[string]string{
		"Title":        "Patient consent form — EuroBloodNet",
		"Author":       "EuroBloodNet",
		"Subject":      "Consent to share a patient's case with a European Reference Network",
		"CreationDate": "D:20250602140000Z",
	}
	for k, v := range want {
		if f.Info[k] != v {
			t.Errorf("/%s = %q, want %q", k, f.Info[k], v)
		}
	}
}

func TestRenderCentre(t *testing.T) {
	tests := []struct {
		name, centre, ernName string
		opening               string
		lines                 int // lines drawn on the first page
	}{
		{"named", "BE10 - University Hospital Leuven", "European Reference Network on Rare Haematological Diseases",
			"Sharing your case with EuroBloodNet (European Reference Network on Rare Haematological Diseases) " +
				"Hospital: BE10 - University Hospital Leuven Your doctor", 0},
		{"blank", "", "", "Sharing your case with EuroBloodNet Hospital: Your doctor", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := options(consentform.Standard)
			o.Centre, o.ERNName = tt.centre, tt.ernName
			f, runs := render(t, o)
			if text := join(runs); !strings.Contains(text, tt.opening) {
				t.Errorf("opening is not %q: %q", tt.opening, text[:200])
			}
			ops, err := f.Pages[0].Ops()
			if err != nil {
				t.Fatal(err)
			}
			lines := 0
			for _, op := range ops {
				if op.Operator == "l" {
					lines++
				}
			}
			if lines != tt.lines {
				t.Errorf("%d lines on the first page, want %d", lines, tt.lines)
			}
		})
	}
}

func TestRenderDeterministic(t *testing.T) {
	for _, v := range []consentform.Variant{consentform.Standard, consentform.Ukraine} {
		var a, b, c bytes.Buffer
		o := options(v)
		if err := consentform.Render(&a, o); err != nil {
			t.Fatal(err)
		}
		if err := consentform.Render(&b, o); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s: two renderings with the same options differ", v)
		}
		o.Created = o.Created.Add(time.Minute)
		if err := consentform.Render(&c, o); err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(a.Bytes(), c.Bytes()) {
			t.Errorf("%s: the creation date is not in the file", v)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(*consentform.Options)
		want   error
		code   string
	}{
		{"prepared but not written", func(o *consentform.Options) { o.Language = "de" }, consentform.ErrLanguage, `"de"`},
		{"Ukrainian not written", func(o *consentform.Options) { o.Language = "uk" }, consentform.ErrLanguage, `"uk"`},
		{"unknown language", func(o *consentform.Options) { o.Language = "xx" }, consentform.ErrLanguage, `"xx"`},
		{"case matters", func(o *consentform.Options) { o.Language = "EN" }, consentform.ErrLanguage, `"EN"`},
		{"unknown variant", func(o *consentform.Options) { o.Variant = "short" }, consentform.ErrOptions, `"short"`},
		{"no ERN", func(o *consentform.Options) { o.ERN = " " }, consentform.ErrOptions, "ERN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := options(consentform.Standard)
			tt.change(&o)
			var buf bytes.Buffer
			err := consentform.Render(&buf, o)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.code) {
				t.Errorf("Render = %v, want %v naming %s", err, tt.want, tt.code)
			}
			if buf.Len() != 0 {
				t.Errorf("%d bytes written despite the error", buf.Len())
			}
		})
	}
}

func TestRenderDefaults(t *testing.T) {
	var a, b bytes.Buffer
	o := options(consentform.Standard)
	if err := consentform.Render(&a, o); err != nil {
		t.Fatal(err)
	}
	o.Language, o.Variant = "", ""
	if err := consentform.Render(&b, o); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("empty language and variant do not default to the English standard form")
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRenderWriteError(t *testing.T) {
	if err := consentform.Render(failWriter{}, options(consentform.Standard)); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Render = %v, want the writer's error", err)
	}
}
