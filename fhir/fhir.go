// Package fhir maps the domain's patients, consents, centres, networks and users to FHIR R4
// resources and back, parses FHIR search parameters into the domain's filters, and turns
// domain errors into OperationOutcomes with their HTTP status. It speaks no HTTP: the REST
// edge is fhir/fhirhttp. The wire types are those of github.com/samply/golang-fhir-models.
//
// The project's own FHIR artefacts (naming systems, code systems, extensions) live under
// Canonical; docs/fhir.md describes each of them.
package fhir

import (
	"strconv"
	"strings"
	"time"

	"github.com/ern-cpms/cpms/cpms"
)

// Canonical is the base of the project's own FHIR artefacts.
const Canonical = "https://ern-cpms.org/fhir/"

// Naming and code systems.
const (
	// CPMSIDSystem names the CPMS ID (ERN-{centre}-{ERN}-{NNN}) of a patient.
	CPMSIDSystem = cpms.CPMSIDSystem
	// UsernameSystem names a user's username (Practitioner.identifier).
	UsernameSystem = Canonical + "NamingSystem/username"
	// ConsentCategorySystem codes the two optional consents: CodeRegistry and CodeResearchContact.
	ConsentCategorySystem = Canonical + "CodeSystem/consent-category"
	// OrganizationTypeSystem codes the ERN organisation type (CodeERN).
	OrganizationTypeSystem = Canonical + "CodeSystem/organization-type"

	CodeRegistry        = "registry"         // consent for ERN databases and registries
	CodeResearchContact = "research-contact" // consent to be contacted for research
	CodeERN             = "ern"              // a European Reference Network

	LOINCSystem     = "http://loinc.org"
	CodeCareConsent = "59284-0" // LOINC "Patient Consent": the consent for care

	ConsentScopeSystem   = "http://terminology.hl7.org/CodeSystem/consentscope"
	ActCodeSystem        = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	IdentifierTypeSystem = "http://terminology.hl7.org/CodeSystem/v2-0203"
	HL7OrgTypeSystem     = "http://terminology.hl7.org/CodeSystem/organization-type"
	GenderSystem         = "http://hl7.org/fhir/administrative-gender"
)

// Extensions, all defined under Canonical + "StructureDefinition/".
const (
	ExtERN                  = Canonical + "StructureDefinition/ern"                   // valueReference Organization/{ERN}
	ExtRecordLabel          = Canonical + "StructureDefinition/record-label"          // valueString
	ExtEnrolmentDate        = Canonical + "StructureDefinition/enrolment-date"        // valueDate
	ExtConsentVariant       = Canonical + "StructureDefinition/consent-variant"       // valueCode standard | ukraine
	ExtEnrollingClinician   = Canonical + "StructureDefinition/enrolling-clinician"   // valueReference Practitioner/{user ID}
	ExtResponsibleClinician = Canonical + "StructureDefinition/responsible-clinician" // valueReference Practitioner/{user ID}
	ExtFrozen               = Canonical + "StructureDefinition/frozen"                // valueBoolean
	ExtConsentNote          = Canonical + "StructureDefinition/consent-note"          // valueString
	ExtERNMember            = Canonical + "StructureDefinition/ern-member"            // valueReference Organization/{centre}
)

// Resource types the mapping knows.
const (
	TypePatient      = "Patient"
	TypeConsent      = "Consent"
	TypeOrganization = "Organization"
	TypePractitioner = "Practitioner"
)

func ptr[T any](v T) *T { return &v }

// Instant formats t as a FHIR instant (UTC, to the microsecond the database keeps).
func Instant(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00") }

// VersionID is a version number as a FHIR versionId.
func VersionID(v int) string { return strconv.Itoa(v) }

// Reference is "Type/id".
func Reference(typ, id string) string { return typ + "/" + id }

// ParseReference splits a literal reference "Type/id" (optionally absolute, ending in
// "…/Type/id", or version-specific "Type/id/_history/n") into its type and id. It reports false
// for anything else, such as "urn:uuid:…" or a contained "#id".
func ParseReference(ref string) (typ, id string, ok bool) {
	ref = strings.TrimSpace(ref)
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	parts := strings.Split(ref, "/")
	if len(parts) < 2 {
		return "", "", false
	}
	typ, id = parts[len(parts)-2], parts[len(parts)-1]
	if !ValidID(id) || typ == "" || typ[0] < 'A' || typ[0] > 'Z' {
		return "", "", false
	}
	if len(parts) > 2 && !strings.Contains(ref, "://") {
		return "", "", false
	}
	return typ, id, true
}

// ValidID reports whether s is a FHIR id: 1–64 letters, digits, '-' or '.'.
func ValidID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}
