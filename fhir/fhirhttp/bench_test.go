package fhirhttp_test

import (
	"fmt"
	"testing"

	"github.com/ern-cpms/cpms/fhir/fhirhttp"
	"github.com/ern-cpms/cpms/internal/sqldb/sqldbtest"
)

// The FHIR surface in-process on SQLite, audited as in production: an enrolment transaction,
// a read, and a search page of 20 patients.
func BenchmarkFHIR(b *testing.B) {
	for _, eng := range sqldbtest.Engines(b) {
		b.Run(eng.Name, func(b *testing.B) {
			e := newEnv(b, eng, fhirhttp.Config{})
			e.raw = true
			var (
				id string
				n  int // enrolments so far: each run of the loop goes on numbering
			)
			b.Run("enrol", func(b *testing.B) {
				for range b.N {
					n++
					i := n
					p := person{first: "Bench", last: fmt.Sprintf("Patient%06d", i), gender: "female", birth: "1980-01-01",
						mrn: fmt.Sprintf("B-%d", i)}
					r := e.do("POST", "/fhir", "bloodnethpuser1", enrolment(p, "", care, registry, researchNo))
					if r.status != 200 {
						b.Fatalf("%d %s", r.status, r.body)
					}
					if id == "" {
						id = r.json()["entry"].([]any)[0].(map[string]any)["resource"].(map[string]any)["id"].(string)
					}
				}
			})
			b.Run("read", func(b *testing.B) {
				for range b.N {
					if r := e.do("GET", "/fhir/Patient/"+id, "bloodnethpuser1", nil); r.status != 200 {
						b.Fatalf("%d", r.status)
					}
				}
			})
			b.Run("search", func(b *testing.B) {
				for range b.N {
					if r := e.do("GET", "/fhir/Patient?family=patient&_count=20", "bloodnethpuser1", nil); r.status != 200 {
						b.Fatalf("%d", r.status)
					}
				}
			})
		})
	}
}
