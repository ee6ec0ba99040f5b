package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/fhir"
	"github.com/ern-cpms/cpms/fhir/fhirtest"
	"github.com/ern-cpms/cpms/internal/sqldb/sqldbtest"
)

// fhirBackends are the storage configurations for the FHIR check: those of backends, plus
// PostgreSQL with local files when PostgreSQL is given without S3.
func fhirBackends(t *testing.T) map[string]map[string]string {
	out := backends(t)
	if _, ok := out["postgres+s3"]; !ok {
		if pg := sqldbtest.Postgres(t); pg != nil {
			out["postgres"] = map[string]string{"CPMS_DATABASE_URL": pg.URL(t)}
		}
	}
	return out
}

// fhirDo sends a FHIR request with a bearer token and returns the status, the headers and the
// body, which must be a valid R4 resource when there is one.
func fhirDo(t *testing.T, c *http.Client, method, url, token string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if len(data) > 0 {
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
			t.Fatalf("%s %s: Content-Type %q: %s", method, url, ct, data)
		}
		fhirtest.Check(t, data)
		json.Unmarshal(data, &v)
	}
	return resp.StatusCode, resp.Header, v
}

// The FHIR surface of the real server: a centre's hospital system enrols a patient with a
// transaction, the centre's clinician reads it, another centre's clinician does not see it.
func TestServerFHIR(t *testing.T) {
	for name, env := range fhirBackends(t) {
		t.Run(name, func(t *testing.T) {
			s := startServer(t, env)
			c := &http.Client{Timeout: 20 * time.Second}
			his := lastLine(s.cli(t, "token create", "--centre", "BE10", "--system", "his"))
			hp1 := lastLine(s.cli(t, "token create", "--user", "bloodnethpuser1"))
			hp2 := lastLine(s.cli(t, "token create", "--user", "bloodnethpuser2"))

			st, _, cs := fhirDo(t, c, "GET", s.base+"/fhir/metadata", "", nil)
			if st != 200 || cs["fhirVersion"] != "4.0.1" {
				t.Fatalf("metadata: %d %v", st, cs["fhirVersion"])
			}
			st, h, oo := fhirDo(t, c, "GET", s.base+"/fhir/Patient", "cpms_pat_nonsense", nil)
			if st != 401 || oo["resourceType"] != "OperationOutcome" || h.Get("WWW-Authenticate") == "" {
				t.Errorf("bad token: %d %v", st, oo)
			}

			const ref = "urn:uuid:7d5c1a4e-4b1f-4c5e-9a51-0c7f5b3e2d10"
			consent := func(scope, system, code, note string) map[string]any {
				c := map[string]any{"resourceType": "Consent", "status": "active",
					"scope":      map[string]any{"coding": []any{map[string]any{"system": fhir.ConsentScopeSystem, "code": scope}}},
					"category":   []any{map[string]any{"coding": []any{map[string]any{"system": system, "code": code}}}},
					"patient":    map[string]any{"reference": ref},
					"dateTime":   "2024-05-02",
					"policyRule": map[string]any{"coding": []any{map[string]any{"system": fhir.ActCodeSystem, "code": "OPTIN"}}},
					"provision":  map[string]any{"type": "permit"}}
				if note != "" {
					c["extension"] = []any{map[string]any{"url": fhir.ExtConsentNote, "valueString": note}}
				}
				return c
			}
			bundle := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
				map[string]any{"fullUrl": ref, "request": map[string]any{"method": "POST", "url": "Patient",
					"ifNoneExist": "identifier=urn:oid:1.3.6.1.4.1.99999.7|HIS-000123"},
					"resource": map[string]any{"resourceType": "Patient",
						"extension": []any{
							map[string]any{"url": fhir.ExtERN, "valueReference": map[string]any{"reference": "Organization/EuroBloodNet"}},
							map[string]any{"url": fhir.ExtEnrollingClinician, "valueReference": map[string]any{
								"identifier": map[string]any{"system": fhir.UsernameSystem, "value": "bloodnethpuser1"}}}},
						"identifier": []any{map[string]any{"system": "urn:oid:1.3.6.1.4.1.99999.7", "value": "HIS-000123"}},
						"name":       []any{map[string]any{"family": "Wouters", "given": []any{"Bram"}}},
						"gender":     "male", "birthDate": "1981-08-19"}},
				map[string]any{"request": map[string]any{"method": "POST", "url": "Consent"},
					"resource": consent("treatment", fhir.LOINCSystem, fhir.CodeCareConsent, "")},
				map[string]any{"request": map[string]any{"method": "POST", "url": "Consent"},
					"resource": consent("research", fhir.ConsentCategorySystem, fhir.CodeRegistry, "OK")},
			}}
			st, _, resp := fhirDo(t, c, "POST", s.base+"/fhir", his, bundle)
			if st != 200 || resp["type"] != "transaction-response" {
				t.Fatalf("enrolment: %d %v", st, resp)
			}
			entries := resp["entry"].([]any)
			first := entries[0].(map[string]any)
			if first["response"].(map[string]any)["status"] != "201 Created" ||
				!strings.HasPrefix(first["response"].(map[string]any)["location"].(string), s.base+"/fhir/Patient/") {
				t.Errorf("patient entry %v", first["response"])
			}
			id := first["resource"].(map[string]any)["id"].(string)

			// Sent again, the transaction finds the patient instead of enrolling it twice.
			st, _, again := fhirDo(t, c, "POST", s.base+"/fhir", his, bundle)
			if st != 200 || again["entry"].([]any)[0].(map[string]any)["response"].(map[string]any)["status"] != "200 OK" {
				t.Errorf("the repeated enrolment: %d %v", st, again)
			}

			st, h, pat := fhirDo(t, c, "GET", s.base+"/fhir/Patient/"+id, hp1, nil)
			if st != 200 || h.Get("ETag") != `W/"1"` {
				t.Fatalf("read by the centre's clinician: %d %v", st, pat)
			}
			cpmsID := pat["identifier"].([]any)[0].(map[string]any)
			if cpmsID["system"] != fhir.CPMSIDSystem || !strings.HasPrefix(cpmsID["value"].(string), "ERN-BE10-EuroBloodNet-") {
				t.Errorf("CPMS ID %v", cpmsID)
			}
			st, _, b := fhirDo(t, c, "GET", s.base+"/fhir/Consent?patient="+id+"&_include=Consent:patient", hp1, nil)
			if st != 200 || b["total"] != float64(2) {
				t.Errorf("consents: %d total %v", st, b["total"])
			}

			// Another centre's clinician: 404, and nothing in searches.
			st, _, oo = fhirDo(t, c, "GET", s.base+"/fhir/Patient/"+id, hp2, nil)
			if st != 404 || oo["resourceType"] != "OperationOutcome" {
				t.Errorf("read by another centre: %d %v", st, oo)
			}
			st, _, b = fhirDo(t, c, "GET", s.base+"/fhir/Patient?identifier="+cpmsID["value"].(string), hp2, nil)
			if st != 200 || b["total"] != float64(0) {
				t.Errorf("search by another centre: %d total %v", st, b["total"])
			}
		})
	}
}
