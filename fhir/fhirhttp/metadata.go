package fhirhttp

import (
	r4 "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/ern-cpms/cpms/fhir"
)

var searchTypes = map[string]r4.SearchParamType{
	"number": r4.SearchParamTypeNumber, "date": r4.SearchParamTypeDate, "string": r4.SearchParamTypeString,
	"token": r4.SearchParamTypeToken, "reference": r4.SearchParamTypeReference, "special": r4.SearchParamTypeSpecial,
}

func searchParams(ps []fhir.SearchParam) []r4.CapabilityStatementRestResourceSearchParam {
	out := make([]r4.CapabilityStatementRestResourceSearchParam, len(ps))
	for i, p := range ps {
		out[i] = r4.CapabilityStatementRestResourceSearchParam{Name: p.Name, Type: searchTypes[p.Type], Documentation: ptr(p.Documentation)}
		if p.Definition != "" {
			out[i].Definition = ptr(p.Definition)
		}
	}
	return out
}

func interactions(codes ...r4.TypeRestfulInteraction) []r4.CapabilityStatementRestResourceInteraction {
	out := make([]r4.CapabilityStatementRestResourceInteraction, len(codes))
	for i, c := range codes {
		out[i] = r4.CapabilityStatementRestResourceInteraction{Code: c}
	}
	return out
}

const restDoc = "Patients and consents of the centre tier (identifying): a principal sees the patients of its centres " +
	"(or, per deployment, only its own), a centre's hospital system (his token) those of its centre; any other patient is " +
	"answered 404 and left out of searches. Project artefacts under " + fhir.Canonical + ": identifier systems " +
	fhir.CPMSIDSystem + " (CPMS ID) and " + fhir.UsernameSystem + "; code systems " + fhir.ConsentCategorySystem +
	" (registry, research-contact) and " + fhir.OrganizationTypeSystem + " (ern); extensions ern, record-label, " +
	"enrolment-date, consent-variant, enrolling-clinician, responsible-clinician and frozen on Patient, consent-note on " +
	"Consent, ern-member on an ERN's Organization (each " + fhir.Canonical + "StructureDefinition/{name}). Result " +
	"parameters: _count (default 20, at most 1000), _offset, _sort, _total; paging links hold the search sealed in _page " +
	"(valid 24 hours), never the searched values; unknown parameters are ignored with a warning " +
	"in an OperationOutcome entry, or refused with Prefer: handling=strict."

// capabilities is the CapabilityStatement: exactly what this server implements.
func (s *Server) capabilities(rq *request) r4.CapabilityStatement {
	versioned := ptr(r4.ResourceVersionPolicyVersioned)
	noVersion := ptr(r4.ResourceVersionPolicyNoVersion)
	f, t := ptr(false), ptr(true)
	return r4.CapabilityStatement{
		Url:         ptr(rq.base + "/metadata"),
		Name:        ptr("CPMSFHIRServer"),
		Title:       ptr("CPMS FHIR R4 server"),
		Status:      r4.PublicationStatusActive,
		Date:        fhir.Instant(s.started),
		Publisher:   ptr("ERN CPMS open-source project"),
		Description: ptr("Patients and consents of a CPMS deployment (European Reference Networks' clinical patient management), with the organisations and practitioners they refer to."),
		Kind:        r4.CapabilityStatementKindInstance,
		Software:    &r4.CapabilityStatementSoftware{Name: "CPMS", Version: ptr(s.version)},
		Implementation: &r4.CapabilityStatementImplementation{Description: "CPMS FHIR R4 surface",
			Url: ptr(rq.base)},
		FhirVersion: r4.FHIRVersion4_0_1,
		Format:      []string{"json", "application/fhir+json"},
		Rest: []r4.CapabilityStatementRest{{
			Mode:          r4.RestfulCapabilityModeServer,
			Documentation: ptr(restDoc),
			Security: &r4.CapabilityStatementRestSecurity{Cors: f, Description: ptr("Authorization: Bearer with a personal " +
				"access token (cpms_pat_…) or a centre's system token (his), or the web application's session. Without one, " +
				"everything but this statement answers 401.")},
			Resource: []r4.CapabilityStatementRestResource{
				{
					Type: r4.ResourceTypePatient,
					Documentation: ptr("A patient enrolled at a centre for an ERN. Enrolment is a transaction Bundle with the " +
						"Patient and its Consents (a Patient POSTed alone is refused: the consent for care is required); POST " +
						"[base]/Patient with If-None-Exist only finds an existing one. Update corrects the identifying fields."),
					Interaction: interactions(r4.TypeRestfulInteractionRead, r4.TypeRestfulInteractionVread,
						r4.TypeRestfulInteractionUpdate, r4.TypeRestfulInteractionHistoryInstance,
						r4.TypeRestfulInteractionCreate, r4.TypeRestfulInteractionSearchType),
					Versioning: versioned, ReadHistory: t, UpdateCreate: f, ConditionalCreate: t, ConditionalUpdate: f,
					ConditionalRead: ptr(r4.ConditionalReadStatusNotSupported), ConditionalDelete: ptr(r4.ConditionalDeleteStatusNotSupported),
					SearchParam: searchParams(fhir.PatientParams),
				},
				{
					Type: r4.ResourceTypeConsent,
					Documentation: ptr("A patient's answer to one consent question: care (scope treatment, LOINC 59284-0), " +
						"registry or research-contact (scope research, " + fhir.ConsentCategorySystem + "). Status inactive " +
						"is a withdrawn consent; a consent for care withdrawn or denied freezes the patient."),
					Interaction: interactions(r4.TypeRestfulInteractionRead, r4.TypeRestfulInteractionVread,
						r4.TypeRestfulInteractionUpdate, r4.TypeRestfulInteractionHistoryInstance,
						r4.TypeRestfulInteractionCreate, r4.TypeRestfulInteractionSearchType),
					Versioning: versioned, ReadHistory: t, UpdateCreate: f, ConditionalCreate: t, ConditionalUpdate: f,
					ConditionalRead: ptr(r4.ConditionalReadStatusNotSupported), ConditionalDelete: ptr(r4.ConditionalDeleteStatusNotSupported),
					SearchInclude: fhir.Includes,
					SearchParam:   searchParams(fhir.ConsentParams),
				},
				{
					Type: r4.ResourceTypeOrganization,
					Documentation: ptr("Centres (id the centre code, type prov) and European Reference Networks (id the " +
						"ERN code, type " + fhir.OrganizationTypeSystem + "|ern, members in ern-member extensions). Read-only."),
					Interaction: interactions(r4.TypeRestfulInteractionRead, r4.TypeRestfulInteractionSearchType),
					Versioning:  noVersion, ReadHistory: f, UpdateCreate: f, ConditionalCreate: f, ConditionalUpdate: f,
					SearchParam: searchParams(fhir.OrganizationParams),
				},
				{
					Type: r4.ResourceTypePractitioner,
					Documentation: ptr("The deployment's users (id the user ID, identifier the username, name the display " +
						"name); no contact details, no roles (no PractitionerRole). Read-only."),
					Interaction: interactions(r4.TypeRestfulInteractionRead, r4.TypeRestfulInteractionSearchType),
					Versioning:  noVersion, ReadHistory: f, UpdateCreate: f, ConditionalCreate: f, ConditionalUpdate: f,
					SearchParam: searchParams(fhir.PractitionerParams),
				},
			},
			Interaction: []r4.CapabilityStatementRestInteraction{{Code: r4.SystemRestfulInteractionTransaction,
				Documentation: ptr("Atomic. Either an enrolment (one Patient, POST, fullUrl urn:uuid:…, optionally with " +
					"ifNoneExist; and its Consents, POST, patient.reference that urn:uuid) or a single POST Consent, PUT " +
					"Patient or PUT Consent. batch is not supported.")}},
			SearchParam: searchParams(fhir.ResultParams),
		}},
	}
}
