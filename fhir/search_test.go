package fhir_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/fhir"
)

func day(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t, _ = time.Parse(time.DateOnly, s)
	}
	return t
}

func TestParseDateCond(t *testing.T) {
	ok := []struct {
		in       string
		instants bool
		want     cpms.DateCond
	}{
		{"2024", false, cpms.DateCond{Op: "eq", Value: day("2024-01-01"), Until: day("2025-01-01")}},
		{"ge2024-02", false, cpms.DateCond{Op: "ge", Value: day("2024-02-01"), Until: day("2024-03-01")}},
		{"lt2024-02-29", false, cpms.DateCond{Op: "lt", Value: day("2024-02-29"), Until: day("2024-03-01")}},
		{"ne1999-12-31", false, cpms.DateCond{Op: "ne", Value: day("1999-12-31"), Until: day("2000-01-01")}},
		{"gt2024-03-01T10:00Z", true, cpms.DateCond{Op: "gt", Value: day("2024-03-01T10:00:00Z"), Until: day("2024-03-01T10:01:00Z")}},
		{"le2024-03-01T10:00:00+01:00", true, cpms.DateCond{Op: "le", Value: day("2024-03-01T09:00:00Z"), Until: day("2024-03-01T09:00:01Z")}},
		{"2024-03-01T10:00:00.25Z", true, cpms.DateCond{Op: "eq", Value: day("2024-03-01T10:00:00.25Z"), Until: day("2024-03-01T10:00:00.26Z")}},
		{"2024-03-01", true, cpms.DateCond{Op: "eq", Value: day("2024-03-01"), Until: day("2024-03-02")}},
	}
	for _, tc := range ok {
		got, msg := fhir.ParseDateCond(tc.in, tc.instants)
		if msg != "" {
			t.Errorf("%s: %s", tc.in, msg)
			continue
		}
		if !got.Value.Equal(tc.want.Value) || !got.Until.Equal(tc.want.Until) || got.Op != tc.want.Op {
			t.Errorf("%s = %v, want %v", tc.in, got, tc.want)
		}
	}
	for _, in := range []string{"", "24", "2024-13", "2024-02-30", "sa2024", "xx2024", "2024-03-01T10:00Z", "20240301",
		"2024-03-01T10:00:00", "2024-03-01T25:00Z"} {
		instants := in == "2024-03-01T10:00:00" || in == "2024-03-01T25:00Z"
		if _, msg := fhir.ParseDateCond(in, instants); msg == "" {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestParsePatientSearch(t *testing.T) {
	q, _ := url.ParseQuery("family=M%C3%BCl,qu&given=an&identifier=urn:oid:1.2.3%7CX-1,%7CY,Z,2.16.840.1%7CW&gender=female,x" +
		"&birthdate=ge1980&birthdate=lt1990-06&_lastUpdated=gt2024-01-01T00:00:00Z&organization=Organization/BE10" +
		"&_id=a1,bad$id&_count=5000&_offset=40&_sort=-birthdate,family&_format=json&nickname=x")
	f, pg, err := fhir.ParsePatientSearch(q, false)
	if err != nil {
		t.Fatal(err)
	}
	want := cpms.PatientFilter{
		IDs: []string{"a1"}, Centre: "BE10",
		Family: []string{"Mül", "qu"}, Given: []string{"an"},
		Identifier: []cpms.LocalIdentifier{{System: "urn:oid:1.2.3", Value: "X-1"}, {Value: "Z"}, {System: "urn:oid:2.16.840.1", Value: "W"}},
		Gender:     []cpms.Gender{cpms.GenderFemale},
		Birth: []cpms.DateCond{{Op: "ge", Value: day("1980-01-01"), Until: day("1981-01-01")},
			{Op: "lt", Value: day("1990-06-01"), Until: day("1990-07-01")}},
		Updated: []cpms.DateCond{{Op: "gt", Value: day("2024-01-01T00:00:00Z"), Until: day("2024-01-01T00:00:01Z")}},
		Sort:    []cpms.SortKey{{Field: "birthDate", Desc: true}, {Field: "lastName"}, {Field: "id"}},
		Limit:   fhir.MaxCount, Offset: 40, Total: true,
	}
	if d := cmp.Diff(want, f); d != "" {
		t.Errorf("filter (-want +got):\n%s", d)
	}
	if pg.None || pg.Count != fhir.MaxCount || !pg.Total || len(pg.Warnings) != 1 {
		t.Errorf("page %+v", pg)
	}
	if _, ok := pg.Query["nickname"]; ok {
		t.Errorf("an ignored parameter is in the links: %v", pg.Query)
	}
	if _, _, err := fhir.ParsePatientSearch(q, true); err == nil {
		t.Errorf("strict handling accepted an unknown parameter")
	}
	// Criteria that can match nothing.
	for _, s := range []string{"identifier=%7CX", "gender=x", "_id=bad$", "organization=Practitioner/x"} {
		q, _ := url.ParseQuery(s)
		if _, pg, err := fhir.ParsePatientSearch(q, false); err != nil || !pg.None {
			t.Errorf("%s: none %v, err %v", s, pg.None, err)
		}
	}
	// Default order: family, given, id.
	f, pg, _ = fhir.ParsePatientSearch(url.Values{}, false)
	if d := cmp.Diff([]cpms.SortKey{{Field: "lastName"}, {Field: "firstName"}, {Field: "id"}}, f.Sort); d != "" || pg.Count != fhir.DefaultCount {
		t.Errorf("defaults: %s count %d", d, pg.Count)
	}
}

func TestParseConsentSearch(t *testing.T) {
	q, _ := url.ParseQuery("patient=Patient/p1,p2,https://x.example/fhir/Patient/p3&status=inactive&category=" +
		url.QueryEscape(fhir.LOINCSystem+"|"+fhir.CodeCareConsent+",registry,http://example.org|research-contact") +
		"&date=2024&_include=Consent:patient&_sort=-date")
	f, pg, err := fhir.ParseConsentSearch(q, true)
	if err != nil {
		t.Fatal(err)
	}
	want := cpms.ConsentFilter{PatientIDs: []string{"p1", "p2", "p3"}, Status: []string{"inactive"},
		Kinds: []cpms.ConsentKind{cpms.ConsentCare, cpms.ConsentRegistry},
		Date:  []cpms.DateCond{{Op: "eq", Value: day("2024-01-01"), Until: day("2025-01-01")}},
		Sort:  []cpms.SortKey{{Field: "date", Desc: true}, {Field: "id"}}, Limit: fhir.DefaultCount, Total: true}
	if d := cmp.Diff(want, f); d != "" {
		t.Errorf("filter (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"Consent:patient"}, pg.Include); d != "" {
		t.Errorf("include: %s", d)
	}
	for _, s := range []string{"_sort=family", "date=2024,2025", "patient=a&patient=b", "status:not=active", "_include=Patient:organization"} {
		q, _ := url.ParseQuery(s)
		if _, _, err := fhir.ParseConsentSearch(q, true); err == nil {
			t.Errorf("%s accepted", s)
		}
	}
}

// Every parameter the CapabilityStatement declares is one the parser knows.
func TestDeclaredParamsAreParsed(t *testing.T) {
	for name, ps := range map[string][]fhir.SearchParam{fhir.TypePatient: fhir.PatientParams, fhir.TypeConsent: fhir.ConsentParams,
		fhir.TypeOrganization: fhir.OrganizationParams, fhir.TypePractitioner: fhir.PractitionerParams} {
		for _, p := range ps {
			q := url.Values{p.Name: {"x"}}
			var pg fhir.Page
			switch name {
			case fhir.TypePatient:
				_, pg, _ = fhir.ParsePatientSearch(q, false)
			case fhir.TypeConsent:
				_, pg, _ = fhir.ParseConsentSearch(q, false)
			default:
				_, pg, _ = fhir.ParseDirectorySearch(name, q, false)
			}
			if len(pg.Warnings) > 0 {
				t.Errorf("%s %s: %v", name, p.Name, pg.Warnings)
			}
		}
	}
}
