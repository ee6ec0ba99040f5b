package fhirhttp_test

import (
	"strings"
	"testing"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/fhir"
)

// given sets a Patient resource's given name.
func given(pat map[string]any, name string) {
	pat["name"].([]any)[0].(map[string]any)["given"] = []any{name}
}

// Updates are versioned: If-Match guards them, the history keeps every version, vread reads
// an old one.
func TestUpdateAndHistory(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		en := e.enrol("bloodnethpuser1", kwakkel)
		path := "/fhir/Patient/" + en.id
		pat := e.do("GET", path, "bloodnethpuser1", nil).want(200).json()

		given(pat, "Maarten Jan")
		r := e.do("PUT", path, "bloodnethpuser1", pat, "If-Match", `W/"1"`).want(200)
		if r.header.Get("ETag") != `W/"2"` || r.header.Get("Location") != base+"/Patient/"+en.id+"/_history/2" {
			t.Errorf("ETag %q, Location %q", r.header.Get("ETag"), r.header.Get("Location"))
		}
		if got := r.json()["name"].([]any)[0].(map[string]any)["given"].([]any)[0]; got != "Maarten Jan" {
			t.Errorf("given %v", got)
		}
		// Stale: 412, nothing changed.
		given(pat, "Stale")
		r = e.do("PUT", path, "bloodnethpuser1", pat, "If-Match", `W/"1"`).want(412)
		if code, _ := r.issue(); code != "conflict" {
			t.Errorf("issue %s", code)
		}
		// Without If-Match: applied.
		given(pat, "Maarten")
		e.do("PUT", path, "BE10/his", pat).want(200)
		e.do("PUT", path, "bloodnethpuser1", pat, "If-Match", "nonsense").want(400)

		// History, newest first, with request and response per entry.
		h := e.do("GET", path+"/_history", "bloodnethpuser1", nil).want(200).json()
		if h["type"] != "history" || h["total"] != float64(3) {
			t.Fatalf("history %v total %v", h["type"], h["total"])
		}
		var versions []string
		for _, en := range h["entry"].([]any) {
			m := en.(map[string]any)
			versions = append(versions, m["resource"].(map[string]any)["meta"].(map[string]any)["versionId"].(string))
			if m["request"] == nil || m["response"] == nil {
				t.Errorf("entry without request or response: %v", m)
			}
		}
		if strings.Join(versions, ",") != "3,2,1" {
			t.Errorf("versions %v", versions)
		}
		v1 := e.do("GET", path+"/_history/1", "bloodnethpuser1", nil).want(200)
		if v1.header.Get("ETag") != `W/"1"` {
			t.Errorf("vread ETag %q", v1.header.Get("ETag"))
		}
		if got := v1.json()["name"].([]any)[0].(map[string]any)["given"].([]any)[0]; got != "Maarten" {
			t.Errorf("version 1 given %v", got)
		}
		if got := e.do("GET", path+"/_history/2", "bloodnethpuser1", nil).want(200).json()["name"].([]any)[0].(map[string]any)["given"].([]any)[0]; got != "Maarten Jan" {
			t.Errorf("version 2 given %v", got)
		}
		e.do("GET", path+"/_history/9", "bloodnethpuser1", nil).want(404)
		e.do("GET", path+"/_history/x", "bloodnethpuser1", nil).want(404)

		// What an update does not change, and the rules.
		bad := e.do("GET", path, "bloodnethpuser1", nil).want(200).json()
		bad["managingOrganization"] = map[string]any{"reference": "Organization/BG07"}
		r = e.do("PUT", path, "bloodnethpuser1", bad).want(422)
		if code, _ := r.issue(); code != "business-rule" {
			t.Errorf("issue %s", code)
		}
		bad = e.do("GET", path, "bloodnethpuser1", nil).want(200).json()
		bad["birthDate"] = "2999-01-01"
		r = e.do("PUT", path, "bloodnethpuser1", bad).want(422)
		if x := r.json()["issue"].([]any)[0].(map[string]any)["expression"].([]any)[0]; x != "Patient.birthDate" {
			t.Errorf("expression %v", x)
		}
		bad = e.do("GET", path, "bloodnethpuser1", nil).want(200).json()
		bad["telecom"] = []any{map[string]any{"system": "phone", "value": "+32 000"}}
		e.do("PUT", path, "bloodnethpuser1", bad).want(422)
		bad = e.do("GET", path, "bloodnethpuser1", nil).want(200).json()
		bad["id"] = "other"
		e.do("PUT", path, "bloodnethpuser1", bad).want(400)

		// No update-as-create; another centre's patient looks the same.
		other := kwakkel.resource()
		other["id"] = "doesnotexist"
		r = e.do("PUT", "/fhir/Patient/doesnotexist", "bloodnethpuser1", other).want(405)
		if code, _ := r.issue(); code != "not-supported" {
			t.Errorf("issue %s", code)
		}
		pat = e.do("GET", path, "bloodnethpuser1", nil).want(200).json()
		e.do("PUT", path, "bloodnethpuser2", pat).want(405)
		e.do("GET", path+"/_history/1", "bloodnethpuser2", nil).want(404)

		// Prefer: return=minimal and return=OperationOutcome.
		r = e.do("PUT", path, "bloodnethpuser1", pat, "Prefer", "return=minimal").want(200)
		if len(r.body) != 0 || r.header.Get("ETag") == "" {
			t.Errorf("minimal: body %q, ETag %q", r.body, r.header.Get("ETag"))
		}
		r = e.do("PUT", path, "bloodnethpuser1", pat, "Prefer", "return=OperationOutcome").want(200)
		if code, _ := r.issue(); code != "informational" {
			t.Errorf("OperationOutcome issue %s", code)
		}
		// If-None-Match on a read.
		cur := e.do("GET", path, "bloodnethpuser1", nil).want(200)
		e.do("GET", path, "bloodnethpuser1", nil, "If-None-Match", cur.header.Get("ETag")).want(304)
	})
}

// Consents: one per kind, created with POST, changed with PUT; withdrawing the consent for
// care freezes the patient.
func TestConsents(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		en := e.enrol("bloodnethpuser1", kwakkel, care)
		ref := "Patient/" + en.id

		r := e.do("POST", "/fhir/Consent", "bloodnethpuser1", registry(ref)).want(201)
		loc := r.header.Get("Location")
		c := r.json()
		if !strings.HasPrefix(loc, base+"/Consent/"+c["id"].(string)+"/_history/1") || r.header.Get("ETag") != `W/"1"` {
			t.Errorf("Location %q ETag %q", loc, r.header.Get("ETag"))
		}
		if c["organization"].([]any)[0].(map[string]any)["reference"] != "Organization/BE10" {
			t.Errorf("organization %v", c["organization"])
		}
		// A second consent of the kind: 409, pointing to PUT.
		r = e.do("POST", "/fhir/Consent", "bloodnethpuser1", registry(ref)).want(409)
		if _, d := r.issue(); !strings.Contains(d, "PUT") || !strings.Contains(d, c["id"].(string)) {
			t.Errorf("diagnostics %q", d)
		}
		// Other centres cannot add consents to the patient.
		e.do("POST", "/fhir/Consent", "bloodnethpuser2", consent(cpms.ConsentResearch, ref, false, "2024-02-28", "")).want(404)
		// Unrecognised consents are refused with a clear message.
		odd := registry(ref)
		odd["category"] = []any{map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "64292-6"}}}}
		r = e.do("POST", "/fhir/Consent", "bloodnethpuser1", odd).want(422)
		if _, d := r.issue(); !strings.Contains(d, "not a consent this server records") {
			t.Errorf("diagnostics %q", d)
		}
		mixed := registry(ref)
		mixed["scope"] = map[string]any{"coding": []any{map[string]any{"system": fhir.ConsentScopeSystem, "code": "treatment"}}}
		e.do("POST", "/fhir/Consent", "bloodnethpuser1", mixed).want(422)

		// Withdraw the consent for care: inactive, with an end; the patient is frozen.
		careID := en.consents[0]
		cc := e.do("GET", "/fhir/Consent/"+careID, "bloodnethpuser1", nil).want(200).json()
		cc["status"] = "inactive"
		cc["provision"].(map[string]any)["period"] = map[string]any{"start": "2024-02-28", "end": "2024-09-01"}
		r = e.do("PUT", "/fhir/Consent/"+careID, "bloodnethpuser1", cc, "If-Match", `W/"1"`).want(200)
		if got := r.json(); got["status"] != "inactive" || got["provision"].(map[string]any)["period"].(map[string]any)["end"] != "2024-09-01" {
			t.Errorf("withdrawn consent %v", got)
		}
		pat := e.do("GET", "/fhir/"+ref, "bloodnethpuser1", nil).want(200).json()
		if x := extension(pat, fhir.ExtFrozen); x["valueBoolean"] != true {
			t.Errorf("frozen after withdrawal: %v", x)
		}
		e.do("PUT", "/fhir/Consent/"+careID, "bloodnethpuser1", cc, "If-Match", `W/"1"`).want(412)
		// Given again: unfrozen. A deny freezes again.
		cc["status"] = "active"
		delete(cc["provision"].(map[string]any), "period")
		e.do("PUT", "/fhir/Consent/"+careID, "bloodnethpuser1", cc).want(200)
		if x := extension(e.do("GET", "/fhir/"+ref, "bloodnethpuser1", nil).want(200).json(), fhir.ExtFrozen); x["valueBoolean"] != false {
			t.Errorf("frozen after consent given again: %v", x)
		}
		cc["provision"].(map[string]any)["type"] = "deny"
		e.do("PUT", "/fhir/Consent/"+careID, "bloodnethpuser1", cc).want(200)
		if x := extension(e.do("GET", "/fhir/"+ref, "bloodnethpuser1", nil).want(200).json(), fhir.ExtFrozen); x["valueBoolean"] != true {
			t.Errorf("frozen after deny: %v", x)
		}
		// A consent keeps its kind and its patient.
		other := e.enrol("bloodnethpuser1", person{first: "Ivo", last: "Novak", gender: "male", birth: "1970-10-10"}, care)
		cc["patient"] = map[string]any{"reference": "Patient/" + other.id}
		e.do("PUT", "/fhir/Consent/"+careID, "bloodnethpuser1", cc).want(422)

		// History and vread of the consent.
		h := e.do("GET", "/fhir/Consent/"+careID+"/_history", "bloodnethpuser1", nil).want(200).json()
		if h["total"] != float64(4) {
			t.Errorf("consent history total %v", h["total"])
		}
		if got := e.do("GET", "/fhir/Consent/"+careID+"/_history/2", "bloodnethpuser1", nil).want(200).json(); got["status"] != "inactive" {
			t.Errorf("version 2 status %v", got["status"])
		}
		e.do("GET", "/fhir/Consent/"+careID+"/_history", "bloodnethpuser2", nil).want(404)
		e.do("PUT", "/fhir/Consent/nosuch", "bloodnethpuser1", map[string]any{"resourceType": "Consent", "id": "nosuch"}).want(422)
		nosuch := registry(ref)
		nosuch["id"] = "nosuch"
		e.do("PUT", "/fhir/Consent/nosuch", "bloodnethpuser1", nosuch).want(405)
	})
}

// Conditional create: no match creates (or, for a Patient alone, is refused), one match
// returns it, several are 412.
func TestConditionalCreate(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		cond := "identifier=" + mrnSystem + "|" + kwakkel.mrn
		// Patient POSTed alone: refused without a match …
		r := e.do("POST", "/fhir/Patient", "bloodnethpuser1", kwakkel.resource(), "If-None-Exist", cond).want(422)
		if _, d := r.issue(); !strings.Contains(d, "transaction") {
			t.Errorf("diagnostics %q", d)
		}
		e.do("POST", "/fhir/Patient", "bloodnethpuser1", kwakkel.resource()).want(422)
		// … an enrolment transaction with ifNoneExist creates it once …
		b := e.do("POST", "/fhir", "bloodnethpuser1", enrolment(kwakkel, cond, care, registry)).want(200).json()
		id := b["entry"].([]any)[0].(map[string]any)["resource"].(map[string]any)["id"].(string)
		// … and again finds it: 200, nothing new.
		b = e.do("POST", "/fhir", "bloodnethpuser1", enrolment(kwakkel, cond, care, registry)).want(200).json()
		for i, en := range b["entry"].([]any) {
			if st := en.(map[string]any)["response"].(map[string]any)["status"]; st != "200 OK" {
				t.Errorf("entry %d status %v", i, st)
			}
		}
		if got := b["entry"].([]any)[0].(map[string]any)["resource"].(map[string]any)["id"]; got != id {
			t.Errorf("matched %v, want %s", got, id)
		}
		e.do("POST", "/fhir", "bloodnethpuser1", enrolment(kwakkel, cond, care, researchNo)).want(409)
		r = e.do("POST", "/fhir/Patient", "bloodnethpuser1", kwakkel.resource(), "If-None-Exist", cond).want(200)
		if r.json()["id"] != id {
			t.Errorf("conditional create matched another patient")
		}
		// Two matches: 412.
		twin := person{first: "Jan", last: "Kwakkel", gender: "male", birth: "1950-05-05", mrn: "MRN-0099"}
		e.enrol("bloodnethpuser1", twin, care)
		e.do("POST", "/fhir/Patient", "bloodnethpuser1", kwakkel.resource(), "If-None-Exist", "family=kwakkel").want(412)
		e.do("POST", "/fhir", "bloodnethpuser1", enrolment(kwakkel, "family=kwakkel", care)).want(412)
		// Unknown criteria are an error, not ignored.
		e.do("POST", "/fhir/Patient", "bloodnethpuser1", kwakkel.resource(), "If-None-Exist", "nickname=x").want(400)
		// Another centre does not match the patient: its enrolment collides only on the ERN-wide
		// local identifier.
		e.do("POST", "/fhir/Patient", "bloodnethpuser2", kwakkel.resource(), "If-None-Exist", cond).want(422)

		// Consent: 0 matches creates, 1 returns it, 2 is 412.
		ccond := "patient=Patient/" + id + "&category=" + fhir.ConsentCategorySystem + "|research-contact"
		r = e.do("POST", "/fhir/Consent", "bloodnethpuser1", researchNo("Patient/"+id), "If-None-Exist", ccond).want(201)
		cid := r.json()["id"]
		r = e.do("POST", "/fhir/Consent", "bloodnethpuser1", researchNo("Patient/"+id), "If-None-Exist", ccond).want(200)
		if r.json()["id"] != cid {
			t.Errorf("conditional consent matched %v, want %v", r.json()["id"], cid)
		}
		e.do("POST", "/fhir/Consent", "bloodnethpuser1", researchNo("Patient/"+id), "If-None-Exist", "patient=Patient/"+id).want(412)
	})
}
