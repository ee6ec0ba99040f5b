package cpms

import (
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Gender is the administrative gender of a patient, with the values of FHIR R4.
type Gender string

const (
	GenderMale    Gender = "male"
	GenderFemale  Gender = "female"
	GenderOther   Gender = "other"
	GenderUnknown Gender = "unknown"
)

// Valid reports whether g is one of the four genders.
func (g Gender) Valid() bool {
	switch g {
	case GenderMale, GenderFemale, GenderOther, GenderUnknown:
		return true
	}
	return false
}

// Letter is the one-letter form used in record labels: M, F, O or U.
func (g Gender) Letter() string {
	switch g {
	case GenderMale:
		return "M"
	case GenderFemale:
		return "F"
	case GenderOther:
		return "O"
	}
	return "U"
}

// Date is a calendar date without a time zone, as "YYYY-MM-DD".
type Date string

// ParseDate checks s is a real calendar date "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	if _, err := time.Parse(time.DateOnly, s); err != nil || len(s) != 10 {
		return "", Errorf(KindInvalid, "not a date: use YYYY-MM-DD")
	}
	return Date(s), nil
}

// DateOf is the calendar date of t in UTC.
func DateOf(t time.Time) Date { return Date(t.UTC().Format(time.DateOnly)) }

// Time is the date at midnight UTC; the zero time for an invalid date.
func (d Date) Time() time.Time {
	t, _ := time.Parse(time.DateOnly, string(d))
	return t
}

// Valid reports whether d is a real calendar date.
func (d Date) Valid() bool { _, err := ParseDate(string(d)); return err == nil }

// European is the date as dd/mm/yyyy, the form clinicians read.
func (d Date) European() string {
	t := d.Time()
	if t.IsZero() {
		return ""
	}
	return t.Format("02/01/2006")
}

// AgeAt is the age in whole years on date at.
func (d Date) AgeAt(at time.Time) int {
	b := d.Time()
	if b.IsZero() {
		return 0
	}
	y, m, day := at.UTC().Date()
	age := y - b.Year()
	if m < b.Month() || (m == b.Month() && day < b.Day()) {
		age--
	}
	return max(age, 0)
}

// LocalIdentifier is an identifier the patient holds at a hospital: typically the medical record
// number (MRN), in HL7 CX terms the ID and its assigning authority. System is a URI (for an OID,
// "urn:oid:1.2.3…") naming the assigning authority; Type is the HL7 v2-0203 code (default "MR").
type LocalIdentifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
	Type   string `json:"type,omitempty"`
}

// ConsentKind is one of the three consents recorded at enrolment.
type ConsentKind string

const (
	ConsentCare     ConsentKind = "care"             // mandatory: the case may be discussed in the ERN
	ConsentRegistry ConsentKind = "registry"         // optional: ERN databases and registries
	ConsentResearch ConsentKind = "research-contact" // optional: may be contacted for research
)

// ConsentKinds lists the kinds in the order forms show them.
var ConsentKinds = []ConsentKind{ConsentCare, ConsentRegistry, ConsentResearch}

// Valid reports whether k is a known kind.
func (k ConsentKind) Valid() bool {
	return k == ConsentCare || k == ConsentRegistry || k == ConsentResearch
}

// ConsentVariant is the form a patient's consents were asked with.
type ConsentVariant string

const (
	VariantStandard ConsentVariant = "standard" // the three consents
	VariantUkraine  ConsentVariant = "ukraine"  // patients displaced from Ukraine: consent for care only
)

// Valid reports whether v is a known variant.
func (v ConsentVariant) Valid() bool { return v == VariantStandard || v == VariantUkraine }

// Kinds are the consents asked in this variant.
func (v ConsentVariant) Kinds() []ConsentKind {
	if v == VariantUkraine {
		return []ConsentKind{ConsentCare}
	}
	return ConsentKinds
}

// Consent is a patient's answer to one consent question. A withdrawn consent is no longer in
// force, whatever it said; withdrawing the consent for care freezes the patient.
type Consent struct {
	ID        string      `json:"id"`
	PatientID string      `json:"patientId"`
	Kind      ConsentKind `json:"kind"`
	Given     bool        `json:"given"`          // the answer: yes or no
	Date      Date        `json:"date"`           // when the patient answered
	Note      string      `json:"note,omitempty"` // for "yes" to the optional ones: register name or "OK"
	// Withdrawn is set when the patient takes a "yes" back; WithdrawnOn is its date.
	Withdrawn   bool      `json:"withdrawn"`
	WithdrawnOn Date      `json:"withdrawnOn,omitempty"`
	Version     int       `json:"version"`
	UpdatedAt   time.Time `json:"updatedAt"`
	UpdatedBy   string    `json:"updatedBy"` // actor, as in the audit trail
	// Centre is the patient's centre now, filled in when a consent is read (not kept with it:
	// a transfer moves the patient).
	Centre string `json:"-"`
}

// InForce reports whether the consent is a "yes" that has not been withdrawn.
func (c Consent) InForce() bool { return c.Given && !c.Withdrawn }

// Status is the one-word state shown in lists: "yes", "no" or "withdrawn".
func (c Consent) Status() string {
	switch {
	case c.Withdrawn:
		return "withdrawn"
	case c.Given:
		return "yes"
	}
	return "no"
}

// Patient is a person enrolled at a centre for an ERN. Everything but the CPMS ID, ERN, centre,
// gender and age is identifying and stays in the centre tier (see Service.canSeeIdentified).
type Patient struct {
	ID          string            `json:"id"`     // the product's opaque ID (also the FHIR logical ID)
	CPMSID      string            `json:"cpmsId"` // ERN-{centre}-{ERN}-{NNN}
	ERN         string            `json:"ern"`
	Centre      string            `json:"centre"`
	Seq         int               `json:"seq"` // the NNN of the CPMS ID
	FirstName   string            `json:"firstName"`
	LastName    string            `json:"lastName"`
	Gender      Gender            `json:"gender"`
	BirthDate   Date              `json:"birthDate"`
	RecordLabel string            `json:"recordLabel"`
	EnrolledOn  Date              `json:"enrolledOn"`
	Identifiers []LocalIdentifier `json:"identifiers"`
	// EnrolledBy is the clinician who enrolled the patient (for an assistant's enrolment, the
	// clinician the assistant acted for); Clinician is the one responsible now (changes with a
	// transfer).
	EnrolledBy UserRef        `json:"enrolledBy"`
	Clinician  UserRef        `json:"clinician"`
	Variant    ConsentVariant `json:"consentVariant"`
	Consents   []Consent      `json:"consents"` // the current answer per kind
	Frozen     bool           `json:"frozen"`
	FrozenAt   *time.Time     `json:"frozenAt,omitempty"`
	Version    int            `json:"version"`
	CreatedAt  time.Time      `json:"createdAt"`
	UpdatedAt  time.Time      `json:"updatedAt"`
	UpdatedBy  string         `json:"updatedBy"`
}

// LogValue keeps identity out of logs: only the IDs.
func (p Patient) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", p.ID), slog.String("cpms_id", p.CPMSID))
}

var _ slog.LogValuer = Patient{}

// Consent returns the patient's current answer of kind k.
func (p *Patient) Consent(k ConsentKind) (Consent, bool) {
	for _, c := range p.Consents {
		if c.Kind == k {
			return c, true
		}
	}
	return Consent{}, false
}

// ConsentStatus is the answer of kind k as shown in lists ("" when not asked).
func (p *Patient) ConsentStatus(k ConsentKind) string {
	if c, ok := p.Consent(k); ok {
		return c.Status()
	}
	return ""
}

// CareConsentInForce reports whether the patient's case may be discussed.
func (p *Patient) CareConsentInForce() bool {
	c, ok := p.Consent(ConsentCare)
	return ok && c.InForce()
}

// CPMSID formats the patient identifier of the ERN: ERN-{centre}-{ERN}-{NNN}, at least three digits.
func CPMSID(centre, ern string, seq int) string {
	return fmt.Sprintf("ERN-%s-%s-%03d", centre, ern, seq)
}

var cpmsIDRE = regexp.MustCompile(`^ERN-([A-Z]{2}[0-9]{2,3})-([A-Za-z][A-Za-z0-9-]{1,39})-([0-9]{3,})$`)

// ParseCPMSID splits a CPMS ID into its centre, ERN and sequence number.
func ParseCPMSID(s string) (centre, ern string, seq int, ok bool) {
	m := cpmsIDRE.FindStringSubmatch(s)
	if m == nil {
		return "", "", 0, false
	}
	n, err := strconv.Atoi(m[3])
	if err != nil || n < 1 {
		return "", "", 0, false
	}
	return m[1], m[2], n, true
}

// RecordLabel is the default label of a patient record: "Addel, Roger DOB: 05/02/1976 (M)".
func RecordLabel(last, first string, birth Date, g Gender) string {
	return fmt.Sprintf("%s, %s DOB: %s (%s)", last, first, birth.European(), g.Letter())
}

// NormalizeName is the form names are searched in: letters folded to lower case without
// accents, so that "Müller" is found by "muller" and "MÜLLER".
func NormalizeName(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.TrimSpace(s)) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		switch r {
		case 'ß':
			b.WriteString("ss")
			continue
		case 'ø', 'Ø':
			r = 'o'
		case 'æ', 'Æ':
			b.WriteString("ae")
			continue
		case 'ł', 'Ł':
			r = 'l'
		case 'đ', 'Đ':
			r = 'd'
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// validName accepts a person's name: 1–100 characters, no control characters.
func validName(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > 100 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

var identifierSystemRE = regexp.MustCompile(`^(urn:oid:[0-2](\.(0|[1-9][0-9]*))+|urn:uuid:[0-9a-f-]{36}|https?://\S+|[0-2](\.(0|[1-9][0-9]*))+)$`)

// NormalizeIdentifierSystem turns a bare OID into "urn:oid:…" and checks the form.
func NormalizeIdentifierSystem(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if !identifierSystemRE.MatchString(s) || len(s) > 200 {
		return "", false
	}
	if s[0] >= '0' && s[0] <= '2' {
		s = "urn:oid:" + s
	}
	return s, true
}

// PseudonymousPatient is what the ERN tier shows of a patient: never a name, a birth date or a
// local identifier. It is the one view every surface outside the centre tier uses.
type PseudonymousPatient struct {
	CPMSID   string `json:"cpmsId"`
	ERN      string `json:"ern"`
	Centre   string `json:"centre"`
	Gender   Gender `json:"gender"`
	AgeYears int    `json:"ageYears"`
	Frozen   bool   `json:"frozen"`
	// RegistryConsent tells whether the patient's pseudonymised data may go to ERN registries
	// (and, anonymised, to the research tier).
	RegistryConsent bool `json:"registryConsent"`
}

// Pseudonymise is the ERN-tier view of p on date now.
func Pseudonymise(p Patient, now time.Time) PseudonymousPatient {
	reg, ok := p.Consent(ConsentRegistry)
	return PseudonymousPatient{CPMSID: p.CPMSID, ERN: p.ERN, Centre: p.Centre, Gender: p.Gender,
		AgeYears: p.BirthDate.AgeAt(now), Frozen: p.Frozen, RegistryConsent: ok && reg.InForce()}
}
