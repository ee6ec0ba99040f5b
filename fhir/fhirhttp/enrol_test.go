package fhirhttp_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/fhir"
)

// kwakkel is a fictitious patient (the demo network has its own, with other names).
var kwakkel = person{first: "Maarten", last: "Kwakkel", gender: "male", birth: "1976-02-05", mrn: "MRN-0042"}

// A hospital system enrols a patient with its three consents in one transaction; the centre's
// clinicians read it, other centres do not see it.
func TestEnrolmentTransaction(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		// BE10 is in two ERNs: its system names the ERN.
		p := kwakkel
		p.extensions = []map[string]any{ernExt("EuroBloodNet"), {"url": fhir.ExtEnrollingClinician,
			"valueReference": map[string]any{"identifier": map[string]any{"system": fhir.UsernameSystem, "value": "bloodnethpuser1"}}}}
		b := e.do("POST", "/fhir", "BE10/his", enrolment(p, "", care, registry, researchNo)).want(200).json()
		if b["type"] != "transaction-response" {
			t.Fatalf("type %v", b["type"])
		}
		list := b["entry"].([]any)
		if len(list) != 4 {
			t.Fatalf("%d entries, want 4", len(list))
		}
		var patientID string
		for i, en := range list {
			resp := en.(map[string]any)["response"].(map[string]any)
			res := en.(map[string]any)["resource"].(map[string]any)
			if resp["status"] != "201 Created" || resp["etag"] != `W/"1"` || resp["lastModified"] == nil ||
				!strings.HasPrefix(resp["location"].(string), base+"/"+res["resourceType"].(string)+"/"+res["id"].(string)+"/_history/1") {
				t.Errorf("entry %d response %v", i, resp)
			}
			if i == 0 {
				patientID = res["id"].(string)
			} else if ref := res["patient"].(map[string]any)["reference"]; ref != "Patient/"+patientID {
				t.Errorf("consent %d references %v", i, ref)
			}
		}

		// The centre's clinician reads it: CPMS ID, clinicians, not frozen.
		r := e.do("GET", "/fhir/Patient/"+patientID, "bloodnethpuser1", nil).want(200)
		if r.header.Get("ETag") != `W/"1"` || r.header.Get("Last-Modified") == "" {
			t.Errorf("headers %v", r.header)
		}
		pat := r.json()
		ids := pat["identifier"].([]any)
		cpmsID := ids[0].(map[string]any)
		if cpmsID["system"] != fhir.CPMSIDSystem || !regexp.MustCompile(`^ERN-BE10-EuroBloodNet-[0-9]{3}$`).MatchString(cpmsID["value"].(string)) {
			t.Errorf("CPMS ID %v", cpmsID)
		}
		if x := extension(pat, fhir.ExtFrozen); x == nil || x["valueBoolean"] != false {
			t.Errorf("frozen %v", x)
		}
		want := "Practitioner/" + e.users["bloodnethpuser1"]
		for _, u := range []string{fhir.ExtEnrollingClinician, fhir.ExtResponsibleClinician} {
			if x := extension(pat, u); x == nil || x["valueReference"].(map[string]any)["reference"] != want {
				t.Errorf("%s = %v, want %s", u, x, want)
			}
		}
		if pat["managingOrganization"].(map[string]any)["reference"] != "Organization/BE10" {
			t.Errorf("managingOrganization %v", pat["managingOrganization"])
		}
		e.do("GET", "/fhir/Patient/"+patientID, "BE10/his", nil).want(200)
		e.do("GET", "/fhir/Patient/"+patientID, "bloodnetguest", nil).want(200)

		// Other centres, their systems and a coordinator see nothing.
		consentID := list[1].(map[string]any)["resource"].(map[string]any)["id"].(string)
		for _, who := range []string{"bloodnethpuser2", "BG07/his", "bloodnetcoord"} {
			r := e.do("GET", "/fhir/Patient/"+patientID, who, nil).want(404)
			if code, _ := r.issue(); code != "not-found" {
				t.Errorf("%s: issue %s", who, code)
			}
			e.do("GET", "/fhir/Consent/"+consentID, who, nil).want(404)
			e.do("GET", "/fhir/Patient/"+patientID+"/_history", who, nil).want(404)
			if got := ids2(e.do("GET", "/fhir/Patient?identifier="+cpmsID["value"].(string), who, nil).want(200).json()); len(got) != 0 {
				t.Errorf("%s finds the patient: %v", who, got)
			}
			if got := ids2(e.do("GET", "/fhir/Consent?patient="+patientID, who, nil).want(200).json()); len(got) != 0 {
				t.Errorf("%s finds its consents: %v", who, got)
			}
		}
		// A PACS token has no FHIR access to patients.
		e.do("GET", "/fhir/Patient/"+patientID, "BE10/pacs", nil).want(403)

		// The enrolling clinician as a Practitioner reference.
		p2 := person{first: "Anna", last: "Bérard", gender: "female", birth: "1990-07-14", mrn: "MRN-0043",
			extensions: []map[string]any{ernExt("EuroBloodNet"), {"url": fhir.ExtEnrollingClinician,
				"valueReference": map[string]any{"reference": "Practitioner/" + e.users["bloodnetguest"]}}}}
		en := e.enrol("BE10/his", p2, care)
		got := e.do("GET", "/fhir/Patient/"+en.id, "bloodnetguest", nil).want(200).json()
		if x := extension(got, fhir.ExtEnrollingClinician); x["valueReference"].(map[string]any)["reference"] != "Practitioner/"+e.users["bloodnetguest"] {
			t.Errorf("enrolling clinician %v", x)
		}
		// A system of another centre cannot enrol at BE10.
		p3 := person{first: "Lena", last: "Costa", gender: "female", birth: "1985-01-01", extensions: []map[string]any{ernExt("EuroBloodNet")}}
		res := p3.resource()
		res["managingOrganization"] = map[string]any{"reference": "Organization/BE10"}
		bundle := enrolment(p3, "", care)
		bundle["entry"].([]any)[0].(map[string]any)["resource"] = res
		e.do("POST", "/fhir", "BG07/his", bundle).want(403)
		// A clinician enrols at their only centre without naming it.
		e.enrol("bloodnethpuser2", p3, care)
	})
}

func ids2(b map[string]any) []string { return ids(b) }

func ernExt(code string) map[string]any {
	return map[string]any{"url": fhir.ExtERN, "valueReference": map[string]any{"reference": "Organization/" + code}}
}

// The enrolment is all or nothing: a consent the rules refuse leaves no patient behind, and
// the OperationOutcome points at the entry.
func TestEnrolmentAtomic(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		noNote := func(ref string) map[string]any { return consent(cpms.ConsentRegistry, ref, true, "2024-02-28", "") }
		r := e.do("POST", "/fhir", "bloodnethpuser1", enrolment(kwakkel, "", care, noNote)).want(422)
		oo := r.json()
		is := oo["issue"].([]any)[0].(map[string]any)
		if is["code"] != "business-rule" || !strings.HasPrefix(is["expression"].([]any)[0].(string), "Bundle.entry[2].resource.extension(") {
			t.Errorf("issue %v", is)
		}
		if got := ids(e.do("GET", "/fhir/Patient?family=kwakkel", "bloodnethpuser1", nil).want(200).json()); len(got) != 0 {
			t.Errorf("a refused enrolment left patients %v", got)
		}
		// Without the consent for care: refused, nothing stored.
		r = e.do("POST", "/fhir", "bloodnethpuser1", enrolment(kwakkel, "", registry)).want(422)
		if _, d := r.issue(); !strings.Contains(d, "consent for care") {
			t.Errorf("diagnostics %q", d)
		}
		noCare := func(ref string) map[string]any { return consent(cpms.ConsentCare, ref, false, "2024-02-28", "") }
		e.do("POST", "/fhir", "bloodnethpuser1", enrolment(kwakkel, "", noCare)).want(422)
		e.do("POST", "/fhir", "bloodnethpuser1", enrolment(kwakkel, "")).want(422)
		// Several problems come back at once, each located.
		bad := kwakkel
		bad.birth = "2999-01-01"
		r = e.do("POST", "/fhir", "bloodnethpuser1", enrolment(bad, "", noNote)).want(422)
		var exprs []string
		for _, x := range r.json()["issue"].([]any) {
			exprs = append(exprs, x.(map[string]any)["expression"].([]any)[0].(string))
		}
		if len(exprs) < 3 || exprs[0] != "Bundle.entry[0].resource.birthDate" {
			t.Errorf("expressions %v", exprs)
		}
		// Resources that cannot be read: every problem, located in the Bundle.
		b := enrolment(kwakkel, "", care, registry)
		list := b["entry"].([]any)
		delete(list[0].(map[string]any)["resource"].(map[string]any), "name")
		list[1].(map[string]any)["resource"].(map[string]any)["status"] = "draft"
		list[2].(map[string]any)["resource"].(map[string]any)["nickname"] = "x"
		r = e.do("POST", "/fhir", "bloodnethpuser1", b).want(400)
		exprs = nil
		for _, x := range r.json()["issue"].([]any) {
			if ex, ok := x.(map[string]any)["expression"].([]any); ok {
				exprs = append(exprs, ex[0].(string))
			}
		}
		if strings.Join(exprs, " ") != "Bundle.entry[0].resource.name Bundle.entry[1].resource.status" {
			t.Errorf("expressions %v", exprs)
		}
		b = enrolment(kwakkel, "", care)
		b["entry"].([]any)[1].(map[string]any)["resource"].(map[string]any)["resourceType"] = "Observation"
		e.do("POST", "/fhir", "bloodnethpuser1", b).want(400)
		b = enrolment(kwakkel, "", care)
		b["entry"].([]any)[1].(map[string]any)["resource"].(map[string]any)["patient"] = map[string]any{"reference": "Patient/x"}
		e.do("POST", "/fhir", "bloodnethpuser1", b).want(400)
		b = enrolment(kwakkel, "", care)
		delete(b["entry"].([]any)[0].(map[string]any), "fullUrl")
		b["entry"] = append(b["entry"].([]any), b["entry"].([]any)[1])
		e.do("POST", "/fhir", "bloodnethpuser1", b).want(400)
		// A local identifier taken in the ERN: conflict, and still nothing half-done.
		e.enrol("bloodnethpuser1", kwakkel)
		other := person{first: "Paul", last: "Zeller", gender: "male", birth: "1960-01-01", mrn: kwakkel.mrn}
		e.do("POST", "/fhir", "bloodnethpuser1", enrolment(other, "", care)).want(409)
		if got := ids(e.do("GET", "/fhir/Patient?family=zeller", "bloodnethpuser1", nil).want(200).json()); len(got) != 0 {
			t.Errorf("a refused enrolment left patients %v", got)
		}
		if got := ids(e.do("GET", "/fhir/Patient?family=kwakkel,zeller", "bloodnethpuser1", nil).want(200).json()); len(got) != 1 {
			t.Errorf("%d patients, want the one enrolled", len(got))
		}
	})
}

// Transaction shapes other than the enrolment and a single change are refused, saying what is
// supported.
func TestTransactionShapes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		en := e.enrol("bloodnethpuser1", kwakkel)
		pat := e.do("GET", "/fhir/Patient/"+en.id, "bloodnethpuser1", nil).want(200).json()
		put := func(res map[string]any, ifMatch string) map[string]any {
			req := map[string]any{"method": "PUT", "url": res["resourceType"].(string) + "/" + res["id"].(string)}
			if ifMatch != "" {
				req["ifMatch"] = ifMatch
			}
			return map[string]any{"resource": res, "request": req}
		}
		tx := func(entries ...any) map[string]any {
			return map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries}
		}
		// Two independent changes: refused (they could not be applied atomically).
		r := e.do("POST", "/fhir", "bloodnethpuser1", tx(put(pat, ""), put(pat, ""))).want(400)
		if _, d := r.issue(); !strings.Contains(d, "exactly one entry") {
			t.Errorf("diagnostics %q", d)
		}
		e.do("POST", "/fhir", "bloodnethpuser1", map[string]any{"resourceType": "Bundle", "type": "batch",
			"entry": []any{put(pat, "")}}).want(400)
		e.do("POST", "/fhir", "bloodnethpuser1", map[string]any{"resourceType": "Bundle", "type": "collection"}).want(400)
		e.do("POST", "/fhir", "bloodnethpuser1", pat).want(400)
		e.do("POST", "/fhir", "bloodnethpuser1", tx(map[string]any{"request": map[string]any{"method": "DELETE", "url": "Patient/" + en.id}})).want(400)

		// A single PUT: applied, with ifMatch; a stale one 412.
		pat["name"].([]any)[0].(map[string]any)["given"] = []any{"Rogier"}
		b := e.do("POST", "/fhir", "bloodnethpuser1", tx(put(pat, `W/"1"`))).want(200).json()
		resp := b["entry"].([]any)[0].(map[string]any)["response"].(map[string]any)
		if resp["status"] != "200 OK" || resp["etag"] != `W/"2"` {
			t.Errorf("response %v", resp)
		}
		e.do("POST", "/fhir", "bloodnethpuser1", tx(put(pat, `W/"1"`))).want(412)

		// A single POST Consent for an existing patient of the Ukrainian form: only care is asked.
		ua := person{first: "Olena", last: "Shevchenko", gender: "female", birth: "1982-03-03", extensions: []map[string]any{
			{"url": fhir.ExtConsentVariant, "valueCode": "ukraine"}}}
		uen := e.enrol("bloodnethpuser1", ua, care)
		post := map[string]any{"resource": registry("Patient/" + uen.id), "request": map[string]any{"method": "POST", "url": "Consent"}}
		e.do("POST", "/fhir", "bloodnethpuser1", tx(post)).want(422)
		// With Prefer: return=minimal the entries carry no resource.
		en2 := e.enrol("bloodnethpuser1", person{first: "Ivo", last: "Novak", gender: "male", birth: "1970-10-10"}, care)
		post = map[string]any{"resource": registry("Patient/" + en2.id), "request": map[string]any{"method": "POST", "url": "Consent"}}
		b = e.do("POST", "/fhir", "bloodnethpuser1", tx(post), "Prefer", "return=minimal").want(200).json()
		ent := b["entry"].([]any)[0].(map[string]any)
		if ent["resource"] != nil || ent["response"].(map[string]any)["status"] != "201 Created" {
			t.Errorf("entry %v", ent)
		}
	})
}
