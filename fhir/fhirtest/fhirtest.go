// Package fhirtest checks the FHIR JSON the server produces with an implementation of FHIR R4
// that shares nothing with ours: Google's FHIR protocol buffers (github.com/google/fhir/go),
// whose unmarshaller, in its validating mode, refuses unknown elements, wrong JSON types,
// primitives that break their regular expressions (id, code, uri, date, dateTime, instant…),
// codes outside required value sets, missing required elements (cardinality 1..) and
// references to the wrong resource type. To that it adds the JSON rules it does not check
// (no null, no empty string, array or object) and the Bundle invariants of R4 that the tests
// rely on (bdl-1…bdl-4, bdl-7, bdl-8) plus Consent's ppc-1. Tests only: it is not imported by
// the server.
package fhirtest

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
)

var (
	once sync.Once
	um   *jsonformat.Unmarshaller
	umEr error
)

func unmarshaller() (*jsonformat.Unmarshaller, error) {
	once.Do(func() {
		um, umEr = jsonformat.NewUnmarshaller("UTC", fhirversion.R4)
		if um != nil {
			um.MaxNestingDepth = 64
		}
	})
	return um, umEr
}

// Validate checks that data is one valid FHIR R4 JSON resource.
func Validate(data []byte) error {
	u, err := unmarshaller()
	if err != nil {
		return err
	}
	if _, err := u.Unmarshal(data); err != nil {
		return fmt.Errorf("R4 validation: %w", err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	if err := checkJSON("", v); err != nil {
		return err
	}
	obj, _ := v.(map[string]any)
	return checkInvariants(obj)
}

// Check fails the test when data is not a valid FHIR R4 resource, showing the resource.
func Check(t testing.TB, data []byte) {
	t.Helper()
	if err := Validate(data); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
}

// checkJSON applies the JSON representation rules: no null, and no empty string, array or object.
func checkJSON(path string, v any) error {
	switch x := v.(type) {
	case nil:
		return fmt.Errorf("%s: null is not allowed in FHIR JSON", path)
	case string:
		if x == "" {
			return fmt.Errorf("%s: empty strings are not allowed in FHIR JSON", path)
		}
	case []any:
		if len(x) == 0 {
			return fmt.Errorf("%s: empty arrays are not allowed in FHIR JSON", path)
		}
		for i, e := range x {
			if err := checkJSON(fmt.Sprintf("%s[%d]", path, i), e); err != nil {
				return err
			}
		}
	case map[string]any:
		if len(x) == 0 {
			return fmt.Errorf("%s: empty objects are not allowed in FHIR JSON", path)
		}
		for k, e := range x {
			if err := checkJSON(path+"."+k, e); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkInvariants(res map[string]any) error {
	switch res["resourceType"] {
	case "Bundle":
		return checkBundle(res)
	case "Consent":
		if res["policy"] == nil && res["policyRule"] == nil {
			return fmt.Errorf("ppc-1: a Consent has a policy or a policyRule")
		}
	}
	return nil
}

func checkBundle(b map[string]any) error {
	typ, _ := b["type"].(string)
	if _, ok := b["total"]; ok && typ != "searchset" && typ != "history" {
		return fmt.Errorf("bdl-1: total only in search or history")
	}
	entries, _ := b["entry"].([]any)
	fullURLs := map[string]bool{}
	for i, e := range entries {
		entry, _ := e.(map[string]any)
		_, hasSearch := entry["search"]
		_, hasRequest := entry["request"]
		_, hasResponse := entry["response"]
		_, hasResource := entry["resource"]
		_, hasFullURL := entry["fullUrl"]
		switch {
		case hasSearch && typ != "searchset":
			return fmt.Errorf("bdl-2: entry[%d].search only in a searchset", i)
		case hasRequest != (typ == "batch" || typ == "transaction" || typ == "history"):
			return fmt.Errorf("bdl-3: entry[%d].request mandatory for batch, transaction and history, otherwise prohibited", i)
		case hasResponse != (typ == "batch-response" || typ == "transaction-response" || typ == "history"):
			return fmt.Errorf("bdl-4: entry[%d].response mandatory for batch-response, transaction-response and history, otherwise prohibited", i)
		case !hasResource && !hasRequest && !hasResponse:
			return fmt.Errorf("bdl-5: entry[%d] must have a resource or a request or a response", i)
		}
		if hasFullURL {
			u, _ := entry["fullUrl"].(string)
			if strings.Contains(u, "/_history/") {
				return fmt.Errorf("bdl-8: entry[%d].fullUrl cannot be a version-specific reference", i)
			}
			if typ != "history" {
				if fullURLs[u] {
					return fmt.Errorf("bdl-7: entry[%d].fullUrl %s is not unique", i, u)
				}
				fullURLs[u] = true
			}
		}
		if res, ok := entry["resource"].(map[string]any); ok {
			if err := checkInvariants(res); err != nil {
				return fmt.Errorf("entry[%d].resource: %w", i, err)
			}
		}
	}
	return nil
}
