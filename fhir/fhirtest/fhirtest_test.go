package fhirtest_test

import (
	"testing"

	"github.com/ern-cpms/cpms/fhir/fhirtest"
)

// The validator refuses what it is there to catch.
func TestValidateRefuses(t *testing.T) {
	bad := map[string]string{
		"unknown element":         `{"resourceType":"Patient","id":"p1","nickname":"x"}`,
		"wrong type":              `{"resourceType":"Patient","id":"p1","birthDate":19760205}`,
		"bad date":                `{"resourceType":"Patient","id":"p1","birthDate":"05/02/1976"}`,
		"bad code":                `{"resourceType":"Patient","id":"p1","gender":"M"}`,
		"bad id":                  `{"resourceType":"Patient","id":"p 1"}`,
		"missing status":          `{"resourceType":"Consent","scope":{"text":"x"},"category":[{"text":"x"}],"policyRule":{"text":"x"}}`,
		"wrong reference":         `{"resourceType":"Patient","managingOrganization":{"reference":"Practitioner/x"}}`,
		"null":                    `{"resourceType":"Patient","id":"p1","gender":null}`,
		"empty array":             `{"resourceType":"Patient","id":"p1","name":[]}`,
		"no policy":               `{"resourceType":"Consent","status":"active","scope":{"text":"x"},"category":[{"text":"x"}]}`,
		"search outside search":   `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient"},"search":{"mode":"match"}}]}`,
		"history without request": `{"resourceType":"Bundle","type":"history","entry":[{"resource":{"resourceType":"Patient"},"response":{"status":"200"}}]}`,
		"duplicate fullUrl": `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"http://x/Patient/1","resource":{"resourceType":"Patient"}},
			{"fullUrl":"http://x/Patient/1","resource":{"resourceType":"Patient"}}]}`,
		"instant without zone": `{"resourceType":"Patient","meta":{"lastUpdated":"2024-01-01T10:00:00"}}`,
		"not JSON":             `{"resourceType":`,
	}
	for name, doc := range bad {
		if err := fhirtest.Validate([]byte(doc)); err == nil {
			t.Errorf("%s: accepted %s", name, doc)
		}
	}
	good := `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"fullUrl":"http://x/fhir/Patient/1","resource":{"resourceType":"Patient","id":"1","gender":"male"},"search":{"mode":"match"}}]}`
	if err := fhirtest.Validate([]byte(good)); err != nil {
		t.Errorf("refused a valid searchset: %v", err)
	}
}
