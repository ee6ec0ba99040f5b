package fhir_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/fhir"
	"github.com/ern-cpms/cpms/fhir/fhirtest"
)

func TestOutcome(t *testing.T) {
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{cpms.Errorf(cpms.KindInvalid, "bad"), 400, "invalid"},
		{cpms.Validationf("gender", "male, female, other or unknown"), 422, "business-rule"},
		{cpms.PatientNotFound, 404, "not-found"},
		{cpms.Errorf(cpms.KindPermission, "no"), 403, "forbidden"},
		{cpms.Errorf(cpms.KindUnauthenticated, "sign in"), 401, "login"},
		{cpms.Errorf(cpms.KindConflict, "changed").WithCode(cpms.ErrVersionMismatch), 412, "conflict"},
		{cpms.Errorf(cpms.KindConflict, "taken").WithCode("duplicate"), 409, "duplicate"},
		{cpms.Errorf(cpms.KindConflict, "state"), 409, "conflict"},
		{&cpms.Error{Kind: cpms.KindUnavailable, Msg: "cannot now", Err: errors.New("dial tcp 10.0.0.1: refused")}, 503, "transient"},
		{cpms.Errorf(cpms.KindTooMany, "slow down"), 429, "throttled"},
		{errors.New("pq: relation patients does not exist"), 500, "exception"},
		{fhir.Errorf(413, fhir.IssueTooLong, "too big"), 413, "too-long"},
	}
	for _, tc := range cases {
		e := fhir.Outcome(tc.err, fhir.PatientLocator("Patient"))
		data, _ := json.Marshal(e.OperationOutcome())
		if err := fhirtest.Validate(data); err != nil {
			t.Errorf("%v: %v", tc.err, err)
		}
		if e.Status != tc.status || e.Issues[0].Code.Code() != tc.code {
			t.Errorf("%v: %d %s, want %d %s", tc.err, e.Status, e.Issues[0].Code.Code(), tc.status, tc.code)
		}
		for _, leak := range []string{"10.0.0.1", "relation"} {
			if strings.Contains(string(data), leak) {
				t.Errorf("%v: the outcome shows internals: %s", tc.err, data)
			}
		}
	}
	e := fhir.Outcome(cpms.Validationf("gender", "male, female, other or unknown"), fhir.PatientLocator("Bundle.entry[0].resource"))
	if got := e.Issues[0].Expression; len(got) != 1 || got[0] != "Bundle.entry[0].resource.gender" {
		t.Errorf("expression %v", got)
	}
	// A field without a path keeps its name in the diagnostics.
	e = fhir.Outcome(cpms.Validationf("sort", "cannot sort by x"), nil)
	if e.Issues[0].Diagnostics != "sort: cannot sort by x" || e.Issues[0].Expression != nil {
		t.Errorf("issue %+v", e.Issues[0])
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := map[string]struct {
		body, code, expr string
		status           int
	}{
		"not JSON":           {`{"resourceType":"Patient",`, "structure", "", 400},
		"array":              {`[]`, "structure", "", 400},
		"no resourceType":    {`{"gender":"male"}`, "structure", "resourceType", 400},
		"other type":         {`{"resourceType":"Observation"}`, "structure", "resourceType", 400},
		"unknown element":    {`{"resourceType":"Patient","nickname":"x"}`, "structure", "", 400},
		"primitive ext":      {`{"resourceType":"Patient","_birthDate":{"extension":[]}}`, "structure", "", 400},
		"wrong type":         {`{"resourceType":"Patient","birthDate":19760205}`, "structure", "", 400},
		"bad code":           {`{"resourceType":"Patient","gender":"M"}`, "code-invalid", "", 400},
		"trailing data":      {`{"resourceType":"Patient"} {}`, "structure", "", 400},
		"contained":          {`{"resourceType":"Patient","contained":[{"resourceType":"Consent"}]}`, "not-supported", "Patient.contained", 422},
		"no name":            {`{"resourceType":"Patient","gender":"male","birthDate":"1976-02-05"}`, "required", "Patient.name", 422},
		"partial birth date": {`{"resourceType":"Patient","name":[{"family":"X","given":["Y"]}],"gender":"male","birthDate":"1976"}`, "value", "Patient.birthDate", 422},
		"address":            {`{"resourceType":"Patient","name":[{"family":"X","given":["Y"]}],"gender":"male","birthDate":"1976-02-05","address":[{"city":"Leuven"}]}`, "not-supported", "Patient.address", 422},
		"inactive":           {`{"resourceType":"Patient","active":false,"name":[{"family":"X","given":["Y"]}],"gender":"male","birthDate":"1976-02-05"}`, "not-supported", "Patient.active", 422},
		"bad ern":            {`{"resourceType":"Patient","extension":[{"url":"` + fhir.ExtERN + `","valueString":"x"}],"name":[{"family":"X","given":["Y"]}],"gender":"male","birthDate":"1976-02-05"}`, "value", "Patient.extension[0]", 422},
		"identifier system":  {`{"resourceType":"Patient","identifier":[{"value":"1"}],"name":[{"family":"X","given":["Y"]}],"gender":"male","birthDate":"1976-02-05"}`, "required", "Patient.identifier[0]", 422},
	}
	for name, tc := range cases {
		_, err := fhir.DecodePatient([]byte(tc.body))
		var fe *fhir.Error
		if !errors.As(err, &fe) {
			t.Errorf("%s: %v", name, err)
			continue
		}
		is := fe.Issues[0]
		if fe.Status != tc.status || is.Code.Code() != tc.code || (tc.expr != "" && (len(is.Expression) == 0 || is.Expression[0] != tc.expr)) {
			t.Errorf("%s: %d %s %v (%s), want %d %s %s", name, fe.Status, is.Code.Code(), is.Expression, is.Diagnostics, tc.status, tc.code, tc.expr)
		}
		if strings.Contains(is.Diagnostics, "19760205") || strings.Contains(is.Diagnostics, `"M"`) || strings.Contains(is.Diagnostics, "Leuven") {
			t.Errorf("%s: diagnostics echo the request's values: %s", name, is.Diagnostics)
		}
	}
	consents := map[string]string{
		"status":    `{"resourceType":"Consent","scope":{"coding":[{"system":"` + fhir.ConsentScopeSystem + `","code":"treatment"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/p"},"dateTime":"2024-01-01","provision":{"type":"permit"}}`,
		"draft":     `{"resourceType":"Consent","status":"draft","scope":{"coding":[{"system":"` + fhir.ConsentScopeSystem + `","code":"treatment"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/p"},"dateTime":"2024-01-01","provision":{"type":"permit"}}`,
		"provision": `{"resourceType":"Consent","status":"active","scope":{"coding":[{"system":"` + fhir.ConsentScopeSystem + `","code":"treatment"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/p"},"dateTime":"2024-01-01"}`,
		"actors":    `{"resourceType":"Consent","status":"active","scope":{"coding":[{"system":"` + fhir.ConsentScopeSystem + `","code":"treatment"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/p"},"dateTime":"2024-01-01","provision":{"type":"permit","action":[{"text":"x"}]}}`,
		"end":       `{"resourceType":"Consent","status":"active","scope":{"coding":[{"system":"` + fhir.ConsentScopeSystem + `","code":"treatment"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/p"},"dateTime":"2024-01-01","provision":{"type":"permit","period":{"end":"2024-02-02"}}}`,
		"two kinds": `{"resourceType":"Consent","status":"active","scope":{"coding":[{"system":"` + fhir.ConsentScopeSystem + `","code":"research"}]},"category":[{"coding":[{"system":"` + fhir.ConsentCategorySystem + `","code":"registry"}]},{"coding":[{"system":"` + fhir.ConsentCategorySystem + `","code":"research-contact"}]}],"patient":{"reference":"Patient/p"},"dateTime":"2024-01-01","provision":{"type":"permit"}}`,
		"source":    `{"resourceType":"Consent","status":"active","sourceAttachment":{"url":"http://x"},"scope":{"coding":[{"system":"` + fhir.ConsentScopeSystem + `","code":"treatment"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/p"},"dateTime":"2024-01-01","provision":{"type":"permit"}}`,
	}
	for name, body := range consents {
		if _, err := fhir.DecodeConsent([]byte(body)); fhir.Outcome(err, nil).Status != 422 {
			t.Errorf("consent %s: %v", name, err)
		}
	}
	// A dateTime with a time is the date where it was written.
	in, err := fhir.DecodeConsent([]byte(strings.Replace(consents["status"], `"resourceType":"Consent",`, `"resourceType":"Consent","status":"active",`, 1)))
	if err != nil || in.Answer.Kind != cpms.ConsentCare || !in.Answer.Given {
		t.Errorf("care consent: %+v %v", in, err)
	}
}

// The decoders never panic, and what they accept maps back to FHIR the validator accepts.
func FuzzDecodePatient(f *testing.F) {
	p := synthetic()
	data, _ := json.Marshal(fhir.Patient(p))
	f.Add(data)
	f.Add([]byte(`{"resourceType":"Patient","name":[{"family":"X","given":["Y"]}],"gender":"male","birthDate":"1976-02-05"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := fhir.DecodePatient(data)
		if err != nil {
			return
		}
		d := in.Demographics
		if !d.Gender.Valid() || !d.BirthDate.Valid() || d.FirstName == "" || d.LastName == "" {
			t.Fatalf("accepted an incomplete patient: %+v", in)
		}
	})
}

func FuzzDecodeConsent(f *testing.F) {
	p := synthetic()
	for _, c := range p.Consents {
		data, _ := json.Marshal(fhir.Consent(c, p.Centre))
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := fhir.DecodeConsent(data)
		if err != nil {
			return
		}
		if !in.Answer.Kind.Valid() || !in.Answer.Date.Valid() || in.Patient == "" {
			t.Fatalf("accepted an incomplete consent: %+v", in)
		}
		out, err := json.Marshal(fhir.Consent(cpms.Consent{ID: "c1", PatientID: "p1", Kind: in.Answer.Kind, Given: in.Answer.Given,
			Date: in.Answer.Date, Note: in.Answer.Note, Withdrawn: in.Answer.Withdrawn, WithdrawnOn: in.Answer.WithdrawnOn, Version: 1}, ""))
		if err != nil {
			t.Fatal(err)
		}
		// The service trims notes and refuses control characters; others must map to valid FHIR.
		if err := fhirtest.Validate(out); err != nil && (in.Answer.Note == "" || plain(in.Answer.Note)) {
			t.Fatalf("%v: %s", err, out)
		}
	})
}

// plain reports whether s is a trimmed string of printable characters.
func plain(s string) bool {
	if strings.TrimSpace(s) != s || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}
