package consentform

import (
	"fmt"
	"strings"

	"github.com/ern-cpms/cpms/internal/pdf"
)

// form lays out the form's text for one set of Options.
type form struct {
	t   *text
	o   Options
	rep *strings.Replacer
}

func newForm(t *text, o Options) *form {
	network := o.ERN
	if o.ERNName != "" {
		network = o.ERN + " (" + o.ERNName + ")"
	}
	return &form{t: t, o: o, rep: strings.NewReplacer("{ERN}", o.ERN, "{network}", network)}
}

// sub fills in the network's names.
func (f *form) sub(s string) string { return f.rep.Replace(s) }

// consent is one of the consents the form asks for.
type consent struct {
	heading, body, statement string
	optional                 bool
}

// consents returns the consents of the variant, numbered when there are several.
func (f *form) consents() []consent {
	t := f.t
	cs := []consent{{heading: t.CareHeading, body: t.CareBody, statement: t.CareStatement}}
	if f.o.Variant == Standard {
		cs = append(cs,
			consent{t.RegistryHeading, t.RegistryBody, t.RegistryStatement, true},
			consent{t.ResearchHeading, t.ResearchBody, t.ResearchStatement, true},
		)
	}
	if len(cs) > 1 {
		for i := range cs {
			cs[i].heading = fmt.Sprintf("%d. %s", i+1, cs[i].heading)
		}
	}
	return cs
}

// layout lays out the whole form: the explanations, then the signature part on a new page.
func (f *form) layout(d *pdf.Document) {
	f.opening(d)
	f.explanations(d)
	d.PageBreak()
	f.signatures(d)
}

func (f *form) opening(d *pdf.Document) {
	t := f.t
	d.Heading(1, f.sub(t.Title))
	d.Heading(3, f.sub(t.Subtitle))
	if f.o.Centre != "" {
		d.Paragraph(f.sub(t.Centre) + " " + f.o.Centre)
	} else {
		d.FillIn(f.sub(t.Centre))
		d.Space(d.FontSize() / 2)
	}
	if f.o.Variant == Ukraine {
		d.StyledParagraph(pdf.Style{Font: pdf.HelveticaBoldOblique}, f.sub(t.UkraineNote))
	}
	d.Paragraph(f.sub(t.Intro))
}

func (f *form) explanations(d *pdf.Document) {
	t := f.t
	d.Heading(2, f.sub(t.ERNHeading))
	d.Paragraph(f.sub(t.ERNBody))
	d.Heading(2, f.sub(t.PlatformHeading))
	d.Paragraph(f.sub(t.PlatformBody))

	d.Heading(2, f.sub(t.SharedHeading))
	d.Paragraph(f.sub(t.SharedIntro))
	for _, s := range t.Shared {
		d.Bullet(f.sub(s))
	}
	d.Space(d.FontSize() / 4)
	d.Paragraph(f.sub(t.NotSharedIntro))
	for _, s := range t.NotShared {
		d.Bullet(f.sub(s))
	}
	d.Space(d.FontSize() / 4)
	d.Paragraph(f.sub(t.IdentityNote))

	d.Heading(2, f.sub(t.ChoicesHeading))
	if f.o.Variant == Ukraine {
		d.Paragraph(f.sub(t.ChoicesIntroUkraine))
	} else {
		d.Paragraph(f.sub(t.ChoicesIntro))
	}
	optional := false
	for _, c := range f.consents() {
		d.Heading(3, f.sub(c.heading))
		d.Paragraph(f.sub(c.body))
		optional = optional || c.optional
	}
	if optional {
		d.Paragraph(f.sub(t.OptionalNote))
	}

	d.Heading(2, f.sub(t.WithdrawHeading))
	for _, p := range t.WithdrawBody {
		d.Paragraph(f.sub(p))
	}
	if optional {
		d.Paragraph(f.sub(t.WithdrawOptional))
	}
	d.Heading(2, f.sub(t.DataHeading))
	for _, p := range t.DataBody {
		d.Paragraph(f.sub(p))
	}
}

func (f *form) signatures(d *pdf.Document) {
	t := f.t
	d.Heading(2, f.sub(t.SignHeading))
	d.Paragraph(f.sub(t.SignIntro))
	d.FillIn(f.sub(t.PatientName))
	d.FillIn(f.sub(t.BirthDate))
	for _, c := range f.consents() {
		d.KeepTogether(func() {
			d.Heading(3, f.sub(c.heading))
			d.Paragraph(f.sub(c.statement))
			d.Checkboxes(f.sub(t.Answer), f.sub(t.Yes), f.sub(t.No))
			d.FillIn(f.sub(t.Date))
			if c.optional {
				d.FillIn(f.sub(t.Remarks))
			}
		})
	}
	d.KeepTogether(func() {
		d.Heading(3, f.sub(t.SignaturesHeading))
		d.FillIn(f.sub(t.PatientSignature), f.sub(t.Date))
		d.Space(d.FontSize() / 2)
		d.Paragraph(f.sub(t.GuardianNote))
		d.FillIn(f.sub(t.GuardianName))
		d.FillIn(f.sub(t.GuardianSignature), f.sub(t.Date))
		d.Space(d.FontSize() / 2)
		d.Paragraph(f.sub(t.ClinicianNote))
		d.FillIn(f.sub(t.ClinicianName))
		d.FillIn(f.sub(t.ClinicianSignature), f.sub(t.Date))
	})
}
