package fhir_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/fhir"
	"github.com/ern-cpms/cpms/fhir/fhirtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	enrolled = time.Date(2024, 3, 1, 9, 30, 0, 123456000, time.UTC)
	changed  = time.Date(2024, 6, 12, 14, 5, 7, 0, time.UTC)
)

// synthetic is a fictitious patient: every name, date and number in it is made up.
func synthetic() cpms.Patient {
	clinician := cpms.UserRef{ID: "u-hp1", Username: "bloodnethpuser1", DisplayName: "Demo Clinician One"}
	p := cpms.Patient{
		ID: "8f14e45fceea167a5a36dedd4bea2543", CPMSID: "ERN-BE10-EuroBloodNet-013", ERN: "EuroBloodNet", Centre: "BE10", Seq: 13,
		FirstName: "Roger", LastName: "Addel", Gender: cpms.GenderMale, BirthDate: "1976-02-05",
		RecordLabel: "Addel, Roger DOB: 05/02/1976 (M)", EnrolledOn: "2024-03-01",
		Identifiers: []cpms.LocalIdentifier{{System: "urn:oid:1.2.3.4.5.6", Value: "MRN-0042", Type: "MR"}},
		EnrolledBy:  clinician, Clinician: clinician, Variant: cpms.VariantStandard,
		Version: 3, CreatedAt: enrolled, UpdatedAt: changed, UpdatedBy: "bloodnethpuser1",
	}
	p.Consents = []cpms.Consent{
		{ID: "c-care", PatientID: p.ID, Kind: cpms.ConsentCare, Given: true, Date: "2024-02-28", Version: 1, UpdatedAt: enrolled, UpdatedBy: "bloodnethpuser1"},
		{ID: "c-registry", PatientID: p.ID, Kind: cpms.ConsentRegistry, Given: true, Date: "2024-02-28", Note: "EuroBloodNet registry",
			Withdrawn: true, WithdrawnOn: "2024-06-12", Version: 2, UpdatedAt: changed, UpdatedBy: "bloodnethpuser1"},
		{ID: "c-research", PatientID: p.ID, Kind: cpms.ConsentResearch, Given: false, Date: "2024-02-28", Version: 1, UpdatedAt: enrolled, UpdatedBy: "bloodnethpuser1"},
	}
	return p
}

// canonical re-encodes JSON with sorted keys and indentation, so that golden files compare
// by content.
func canonical(t *testing.T, data []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// golden checks v's JSON against testdata/name, a valid R4 resource.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	fhirtest.Check(t, data)
	got := canonical(t, data)
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if d := cmp.Diff(string(canonical(t, want)), string(got)); d != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, d)
	}
}

func TestGolden(t *testing.T) {
	p := synthetic()
	golden(t, "patient.json", fhir.Patient(p))
	for _, c := range p.Consents {
		golden(t, "consent-"+string(c.Kind)+".json", fhir.Consent(c, p.Centre))
	}
	golden(t, "organization-centre.json", fhir.CentreOrganization(cpms.Centre{Code: "BE10", Name: "University Hospital Leuven", Country: "BE"}))
	golden(t, "organization-ern.json", fhir.ERNOrganization(cpms.ERN{Code: "EuroBloodNet",
		Name: "European Reference Network on Rare Haematological Diseases", Centres: []string{"BE10", "FR08"}}))
	golden(t, "practitioner.json", fhir.Practitioner(cpms.User{ID: "u-hp1", Username: "bloodnethpuser1",
		DisplayName: "Demo Clinician One", Email: "hp1@demo.invalid", PasswordHash: "secret", TOTPSecret: "secret"}))
	v := cpms.Validation{}
	v.Add("birthDate", "a date since 1880, not in the future")
	v.Add("consents.care", "the consent for care is required: a patient is enrolled only with it")
	v.Add("consents.registry.note", `for "yes", the register's name or "OK"`)
	e := fhir.Outcome(v.Err(), fhir.EnrolmentLocator("Bundle.entry[0].resource",
		map[cpms.ConsentKind]string{cpms.ConsentRegistry: "Bundle.entry[1].resource"}))
	if e.Status != 422 {
		t.Errorf("validation status = %d, want 422", e.Status)
	}
	golden(t, "outcome-enrolment.json", e.OperationOutcome())
}

func TestPractitionerHasNoCredentials(t *testing.T) {
	data, _ := json.Marshal(fhir.Practitioner(cpms.User{ID: "u1", Username: "x1", DisplayName: "X", Email: "x@example.org",
		PasswordHash: "hash", TOTPSecret: "totp", OIDCSubject: "sub"}))
	for _, s := range []string{"x@example.org", "hash", "totp", "sub"} {
		if bytes.Contains(data, []byte(`"`+s+`"`)) {
			t.Errorf("Practitioner shows %q: %s", s, data)
		}
	}
}

// A patient and its consents come back from their FHIR form as they went in.
func TestRoundTrip(t *testing.T) {
	p := synthetic()
	data, _ := json.Marshal(fhir.Patient(p))
	in, err := fhir.DecodePatient(data)
	if err != nil {
		t.Fatal(err)
	}
	want := fhir.PatientInput{ID: p.ID, ERN: p.ERN, Centre: p.Centre, EnrolledOn: p.EnrolledOn, Variant: p.Variant,
		Clinician: p.EnrolledBy.ID, Demographics: cpms.Demographics{FirstName: p.FirstName, LastName: p.LastName, Gender: p.Gender,
			BirthDate: p.BirthDate, RecordLabel: p.RecordLabel, Identifiers: p.Identifiers}}
	if d := cmp.Diff(want, in); d != "" {
		t.Errorf("patient round trip (-want +got):\n%s", d)
	}
	for _, c := range p.Consents {
		data, _ := json.Marshal(fhir.Consent(c, p.Centre))
		in, err := fhir.DecodeConsent(data)
		if err != nil {
			t.Fatal(err)
		}
		want := fhir.ConsentInput{ID: c.ID, Patient: "Patient/" + p.ID, Answer: cpms.ConsentAnswer{Kind: c.Kind, Given: c.Given,
			Date: c.Date, Note: c.Note, Withdrawn: c.Withdrawn, WithdrawnOn: c.WithdrawnOn}}
		if d := cmp.Diff(want, in); d != "" {
			t.Errorf("consent %s round trip (-want +got):\n%s", c.Kind, d)
		}
	}
}
