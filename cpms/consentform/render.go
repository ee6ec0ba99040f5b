package consentform

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ern-cpms/cpms/internal/pdf"
)

// Variant selects which consents the form asks for.
type Variant string

// The variants of the form.
const (
	// Standard asks for the consent for care and the two optional consents.
	Standard Variant = "standard"
	// Ukraine is the simplified form for patients displaced from Ukraine: the consent for
	// care only.
	Ukraine Variant = "ukraine"
)

// ErrOptions reports Options that Render cannot use: an unknown variant or no ERN.
var ErrOptions = errors.New("consentform: invalid options")

// Options describe one rendering of the form.
type Options struct {
	// Language is the code of one of the Available Languages; empty means "en".
	Language string
	// Variant is Standard or Ukraine; empty means Standard.
	Variant Variant
	// ERN is the short name of the network, such as "EuroBloodNet". It is required.
	ERN string
	// ERNName is the full name of the network, shown after the short name where the
	// network is introduced; it may be empty.
	ERNName string
	// Centre names the healthcare provider, such as "BE10 - University Hospital Leuven";
	// empty leaves a line to write it on.
	Centre string
	// Created is the creation date recorded in the file; the same Options give the same
	// bytes. The zero time records no date.
	Created time.Time
}

// Render writes the form as a PDF file to w. It returns an error wrapping ErrLanguage for a
// language that is unknown or not written yet, and one wrapping ErrOptions for an unknown
// variant or a missing ERN; in both cases nothing is written.
func Render(w io.Writer, o Options) error {
	o, err := o.withDefaults()
	if err != nil {
		return err
	}
	t, err := textFor(o.Language)
	if err != nil {
		return err
	}
	f := newForm(t, o)
	d, err := pdf.New(pdf.Config{
		Title:     f.sub(t.Title) + " — " + o.ERN,
		Author:    o.ERN,
		Subject:   f.sub(t.Subject),
		Creator:   "CPMS",
		Created:   o.Created,
		Footer:    f.sub(t.Footer),
		PageLabel: f.pageLabel,
	})
	if err != nil {
		return fmt.Errorf("consentform: %w", err)
	}
	f.layout(d)
	if _, err := d.WriteTo(w); err != nil {
		return fmt.Errorf("consentform: %w", err)
	}
	return nil
}

// withDefaults trims o, fills in the defaults and checks the variant and the ERN.
func (o Options) withDefaults() (Options, error) {
	o.Language = strings.TrimSpace(o.Language)
	o.ERN = strings.TrimSpace(o.ERN)
	o.ERNName = strings.TrimSpace(o.ERNName)
	o.Centre = strings.TrimSpace(o.Centre)
	if o.Language == "" {
		o.Language = "en"
	}
	if o.Variant == "" {
		o.Variant = Standard
	}
	if o.Variant != Standard && o.Variant != Ukraine {
		return o, fmt.Errorf("%w: unknown variant %q", ErrOptions, o.Variant)
	}
	if o.ERN == "" {
		return o, fmt.Errorf("%w: the ERN is required", ErrOptions)
	}
	return o, nil
}

// pageLabel returns the footer's page label for page n of total.
func (f *form) pageLabel(n, total int) string {
	return strings.NewReplacer("{n}", strconv.Itoa(n), "{total}", strconv.Itoa(total)).Replace(f.t.PageLabel)
}
