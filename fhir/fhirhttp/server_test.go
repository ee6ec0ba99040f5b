package fhirhttp_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ern-cpms/cpms/fhir"
	"github.com/ern-cpms/cpms/fhir/fhirhttp"
	"github.com/ern-cpms/cpms/internal/sqldb/sqldbtest"
)

// The CapabilityStatement lists exactly what is implemented, and anyone may read it.
func TestMetadata(t *testing.T) {
	e := newEnv(t, sqldbtest.Engines(t)[0], fhirhttp.Config{Version: "1.2.3"})
	cs := e.do("GET", "/fhir/metadata", "", nil).want(200).json()
	if cs["fhirVersion"] != "4.0.1" || cs["kind"] != "instance" || cs["status"] != "active" ||
		cs["software"].(map[string]any)["version"] != "1.2.3" || cs["implementation"].(map[string]any)["url"] != base {
		t.Errorf("statement %v", cs)
	}
	rest := cs["rest"].([]any)[0].(map[string]any)
	for _, name := range []string{"record-label", "enrolment-date", "consent-variant", "enrolling-clinician", "responsible-clinician",
		"frozen", "consent-note", "ern-member", fhir.CPMSIDSystem, fhir.ConsentCategorySystem, fhir.OrganizationTypeSystem} {
		if !strings.Contains(rest["documentation"].(string), name) {
			t.Errorf("%s is not documented", name)
		}
	}
	if sys := rest["interaction"].([]any); len(sys) != 1 || sys[0].(map[string]any)["code"] != "transaction" {
		t.Errorf("system interactions %v", sys)
	}
	wantParams := map[string][]fhir.SearchParam{"Patient": fhir.PatientParams, "Consent": fhir.ConsentParams,
		"Organization": fhir.OrganizationParams, "Practitioner": fhir.PractitionerParams}
	var types []string
	for _, r := range rest["resource"].([]any) {
		res := r.(map[string]any)
		typ := res["type"].(string)
		types = append(types, typ)
		var inter []string
		for _, i := range res["interaction"].([]any) {
			inter = append(inter, i.(map[string]any)["code"].(string))
		}
		switch typ {
		case "Patient", "Consent":
			if strings.Join(inter, ",") != "read,vread,update,history-instance,create,search-type" || res["versioning"] != "versioned" ||
				res["updateCreate"] != false || res["conditionalCreate"] != true || res["conditionalUpdate"] != false || res["readHistory"] != true {
				t.Errorf("%s: %v", typ, res)
			}
		default:
			if strings.Join(inter, ",") != "read,search-type" {
				t.Errorf("%s interactions %v", typ, inter)
			}
		}
		var names []string
		for _, sp := range res["searchParam"].([]any) {
			m := sp.(map[string]any)
			if m["type"] == nil || m["documentation"] == nil {
				t.Errorf("%s search parameter %v", typ, m)
			}
			names = append(names, m["name"].(string))
		}
		var wantNames []string
		for _, sp := range wantParams[typ] {
			wantNames = append(wantNames, sp.Name)
		}
		if !slices.Equal(names, wantNames) {
			t.Errorf("%s search parameters %v, want %v", typ, names, wantNames)
		}
		if typ == "Consent" && (res["searchInclude"] == nil || res["searchInclude"].([]any)[0] != "Consent:patient") {
			t.Errorf("Consent searchInclude %v", res["searchInclude"])
		}
	}
	if strings.Join(types, ",") != "Patient,Consent,Organization,Practitioner" {
		t.Errorf("resources %v", types)
	}
	// Every declared parameter is understood by the search.
	for typ, ps := range wantParams {
		for _, sp := range ps {
			r := e.do("GET", "/fhir/"+typ+"?"+sp.Name+"=x", "bloodnethpuser1", nil, "Prefer", "handling=strict")
			if r.status == 400 {
				if _, d := r.issue(); strings.Contains(d, "unknown search parameter") {
					t.Errorf("%s %s is declared but unknown to the search", typ, sp.Name)
				}
			}
		}
	}
}

// Authentication errors are OperationOutcomes, also those of the shared authenticator.
func TestAuthAndNegotiation(t *testing.T) {
	e := newEnv(t, sqldbtest.Engines(t)[0], fhirhttp.Config{MaxBody: 4096})
	r := e.do("GET", "/fhir/Patient", "", nil).want(401)
	if code, _ := r.issue(); code != "login" || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("anonymous: %s, %q", code, r.header.Get("WWW-Authenticate"))
	}
	r = e.do("GET", "/fhir/Patient", "", nil, "Authorization", "Bearer cpms_pat_nonsense").want(401)
	if code, _ := r.issue(); code != "login" || !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("bad token: %s, %q", code, r.header.Get("WWW-Authenticate"))
	}
	e.do("GET", "/fhir/Patient", "", nil, "Authorization", "Basic eDp5").want(401)
	// A PACS token: no patients, but the directory.
	e.do("GET", "/fhir/Patient", "BE10/pacs", nil).want(403)
	e.do("GET", "/fhir/Organization/BE10", "BE10/pacs", nil).want(200)

	// Formats.
	e.do("GET", "/fhir/metadata?_format=json", "", nil).want(200)
	e.do("GET", "/fhir/metadata?_format=xml", "", nil).want(406)
	e.do("GET", "/fhir/metadata", "", nil, "Accept", "application/fhir+xml").want(406)
	e.do("GET", "/fhir/metadata", "", nil, "Accept", "text/html,application/xhtml+xml,*/*;q=0.8").want(200)
	r = e.do("GET", "/fhir/metadata", "", nil, "Accept", "application/json").want(200)
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q for Accept: application/json", ct)
	}
	r = e.do("GET", "/fhir/Patient?_count=1", "bloodnethpuser1", nil).want(200)
	if ct := r.header.Get("Content-Type"); ct != "application/fhir+json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	e.do("POST", "/fhir/Consent", "bloodnethpuser1", "<Consent/>", "Content-Type", "application/fhir+xml").want(415)
	// Bodies: too large, malformed, of the wrong type, with unknown elements.
	r = e.do("POST", "/fhir", "bloodnethpuser1", strings.Repeat(" ", 5000)+"{}").want(413)
	if code, _ := r.issue(); code != "too-long" {
		t.Errorf("too large: %s", code)
	}
	for body, wantCode := range map[string]string{
		`{"resourceType":"Consent",`: "structure",
		`[1,2]`:                      "structure",
		`{"resourceType":"Observation","status":"final"}`: "structure",
		`{"resourceType":"Consent","nickname":"x"}`:       "structure",
		`{"resourceType":"Consent","status":3}`:           "code-invalid",
		`{"resourceType":"Consent","status":"maybe"}`:     "code-invalid",
		`{"resourceType":"Consent","_status":{"id":"x"}}`: "structure",
	} {
		r := e.do("POST", "/fhir/Consent", "bloodnethpuser1", body).want(400)
		if code, d := r.issue(); code != wantCode {
			t.Errorf("%s: %s (%s), want %s", body, code, d, wantCode)
		}
	}
	// Paths and methods.
	r = e.do("GET", "/fhir/Observation", "bloodnethpuser1", nil).want(404)
	if code, _ := r.issue(); code != "not-supported" {
		t.Errorf("unknown type: %s", code)
	}
	e.do("GET", "/fhir/Patient/x/y/z/w", "bloodnethpuser1", nil).want(404)
	for _, path := range []string{"/fhir/Patient/_history", "/fhir/Patient/$everything", "/fhir/Patient/p1/$everything", "/fhir/Consent/c1/_history/1/x"} {
		if code, _ := e.do("GET", path, "bloodnethpuser1", nil).want(404).issue(); code != "not-supported" {
			t.Errorf("%s: %s", path, code)
		}
	}
	e.do("GET", "/fhir/Patient/no$such", "bloodnethpuser1", nil).want(404)
	for _, path := range []string{"/fhir/Patient/0123456789abcdef", "/fhir/Consent/0123456789abcdef", "/fhir/Patient/0123456789abcdef/_history",
		"/fhir/Consent/0123456789abcdef/_history/1", "/fhir/Organization/XX99", "/fhir/Practitioner/0123456789abcdef"} {
		r := e.do("GET", path, "bloodnethpuser1", nil).want(404)
		if code, _ := r.issue(); code != "not-found" {
			t.Errorf("%s: %s", path, code)
		}
	}
	r = e.do("DELETE", "/fhir/Patient/x", "bloodnethpuser1", nil).want(405)
	if r.header.Get("Allow") == "" {
		t.Errorf("405 without Allow")
	}
	e.do("PATCH", "/fhir/Consent/x", "bloodnethpuser1", nil).want(405)
	e.do("POST", "/fhir/Organization", "bloodnethpuser1", `{"resourceType":"Organization"}`).want(405)
	e.do("PUT", "/fhir/Practitioner/x", "bloodnethpuser1", `{"resourceType":"Practitioner"}`).want(405)
	e.do("GET", "/fhir", "bloodnethpuser1", nil).want(405)
	e.do("POST", "/fhir/metadata", "", nil).want(405)
	e.do("GET", "/fhir/Organization/BE10/_history", "bloodnethpuser1", nil).want(404)
}

// Organizations and Practitioners: read and search, no credentials, no e-mail.
func TestDirectory(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		org := e.do("GET", "/fhir/Organization/BE10", "bloodnethpuser1", nil).want(200).json()
		if org["name"] != "University Hospital Leuven" || org["address"].([]any)[0].(map[string]any)["country"] != "BE" {
			t.Errorf("centre %v", org)
		}
		ern := e.do("GET", "/fhir/Organization/EuroBloodNet", "BE10/his", nil).want(200).json()
		if ern["type"].([]any)[0].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"] != "ern" || len(ern["extension"].([]any)) != 6 {
			t.Errorf("ERN %v", ern)
		}
		e.do("GET", "/fhir/Organization/XX99", "bloodnethpuser1", nil).want(404)
		b := e.do("GET", "/fhir/Organization?name=university", "bloodnethpuser1", nil).want(200).json()
		var got []string
		for _, r := range mustEntries(b) {
			got = append(got, r["id"].(string))
		}
		if !slices.Contains(got, "BE10") || slices.Contains(got, "EuroBloodNet") {
			t.Errorf("name=university: %v", got)
		}
		b = e.do("GET", "/fhir/Organization?_count=2", "bloodnethpuser1", nil).want(200).json()
		if b["total"] != float64(8) || link(b, "next") == "" {
			t.Errorf("organisations: total %v, next %q", b["total"], link(b, "next"))
		}

		id := e.users["bloodnethpuser1"]
		pr := e.do("GET", "/fhir/Practitioner/"+id, "BE10/his", nil)
		pr.want(200)
		if strings.Contains(string(pr.body), "@demo.invalid") || strings.Contains(string(pr.body), "password") {
			t.Errorf("practitioner shows contact or credential data: %s", pr.body)
		}
		p := pr.json()
		if p["identifier"].([]any)[0].(map[string]any)["value"] != "bloodnethpuser1" || p["name"].([]any)[0].(map[string]any)["text"] != "Demo Clinician One" || p["active"] != true {
			t.Errorf("practitioner %v", p)
		}
		e.do("GET", "/fhir/Practitioner/nosuch", "bloodnethpuser1", nil).want(404)
		b = e.do("GET", "/fhir/Practitioner?identifier="+fhir.UsernameSystem+"|bloodnetguest", "bloodnethpuser2", nil).want(200).json()
		if got := ids2(b); len(got) != 1 || got[0] != e.users["bloodnetguest"] {
			t.Errorf("practitioner by username: %v", got)
		}
		b = e.do("GET", "/fhir/Practitioner?name=clinician", "bloodnethpuser2", nil).want(200).json()
		if b["total"] != float64(5) {
			t.Errorf("name=clinician: %v", b["total"])
		}
		e.do("GET", "/fhir/Practitioner?_sort=name", "bloodnethpuser2", nil).want(400)
	})
}

func mustEntries(b map[string]any) []map[string]any {
	res, _ := entries(b)
	return res
}
