package fhir

import (
	"maps"
	"slices"

	r4 "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/ern-cpms/cpms/cpms"
)

// consentCoding is how each kind of consent is coded: its scope and its category.
type consentCoding struct {
	scope, scopeDisplay           string
	category, categoryCode, label string
}

var consentCodings = map[cpms.ConsentKind]consentCoding{
	cpms.ConsentCare:     {"treatment", "Treatment", LOINCSystem, CodeCareConsent, "Patient Consent"},
	cpms.ConsentRegistry: {"research", "Research", ConsentCategorySystem, CodeRegistry, "Consent for ERN databases and registries"},
	cpms.ConsentResearch: {"research", "Research", ConsentCategorySystem, CodeResearchContact, "Consent to be contacted for research"},
}

// ConsentKindOf recognises the kind of consent of a category coding; false for any other.
func ConsentKindOf(system, code string) (cpms.ConsentKind, bool) {
	for _, k := range cpms.ConsentKinds {
		if c := consentCodings[k]; c.category == system && c.categoryCode == code {
			return k, true
		}
	}
	return "", false
}

// ConsentCategory is the category coding of a kind: system and code.
func ConsentCategory(k cpms.ConsentKind) (system, code string) {
	c := consentCodings[k]
	return c.category, c.categoryCode
}

// Consent is the FHIR form of a patient's answer to one consent question; centre is the
// patient's centre (Consent.organization), left out when empty.
func Consent(c cpms.Consent, centre string) r4.Consent {
	cc := consentCodings[c.Kind]
	out := r4.Consent{
		Id:     ptr(c.ID),
		Meta:   &r4.Meta{VersionId: ptr(VersionID(c.Version)), LastUpdated: ptr(Instant(c.UpdatedAt))},
		Status: r4.ConsentStateActive,
		Scope: r4.CodeableConcept{Coding: []r4.Coding{{System: ptr(ConsentScopeSystem), Code: ptr(cc.scope),
			Display: ptr(cc.scopeDisplay)}}},
		Category: []r4.CodeableConcept{{Coding: []r4.Coding{{System: ptr(cc.category), Code: ptr(cc.categoryCode),
			Display: ptr(cc.label)}}}},
		Patient: &r4.Reference{Reference: ptr(Reference(TypePatient, c.PatientID))},
		PolicyRule: &r4.CodeableConcept{Coding: []r4.Coding{{System: ptr(ActCodeSystem), Code: ptr("OPTIN"),
			Display: ptr("opt-in")}}},
		Provision: &r4.ConsentProvision{Type: ptr(r4.ConsentProvisionTypeDeny)},
	}
	if c.Note != "" {
		out.Extension = []r4.Extension{{Url: ExtConsentNote, ValueString: ptr(c.Note)}}
	}
	if c.Withdrawn {
		out.Status = r4.ConsentStateInactive
	}
	if c.Date != "" {
		out.DateTime = ptr(string(c.Date))
		out.Provision.Period = &r4.Period{Start: ptr(string(c.Date))}
		if c.Withdrawn && c.WithdrawnOn != "" {
			out.Provision.Period.End = ptr(string(c.WithdrawnOn))
		}
	}
	if c.Given {
		out.Provision.Type = ptr(r4.ConsentProvisionTypePermit)
	}
	if centre != "" {
		out.Organization = []r4.Reference{{Reference: ptr(Reference(TypeOrganization, centre))}}
	}
	return out
}

// ConsentInput is what a Consent resource of a create or an update says.
type ConsentInput struct {
	ID string // the resource's id element, if any
	// Patient is the patient reference as written: "Patient/{id}" or, in a transaction, the
	// fullUrl of the Patient entry ("urn:uuid:…").
	Patient string
	Answer  cpms.ConsentAnswer
}

type consentJSON struct {
	r4.OtherConsent
	ResourceType string `json:"resourceType"`
}

var supportedConsent = map[string]bool{"resourceType": true, "id": true, "meta": true, "text": true,
	"language": true, "extension": true, "status": true, "scope": true, "category": true, "patient": true,
	"dateTime": true, "organization": true, "policyRule": true, "provision": true}

// DecodeConsent reads a Consent resource for a create or an update. The kind is recognised
// from scope and category: the consent for care has scope treatment and category LOINC
// 59284-0; the optional ones scope research and a category of ConsentCategorySystem. Status
// active or inactive (withdrawn), provision.type permit ("yes") or deny ("no"), dateTime (or
// provision.period.start) the date of the answer, provision.period.end the withdrawal date,
// and the consent-note extension are read; organization and policyRule are ignored.
func DecodeConsent(data []byte) (ConsentInput, error) {
	var res consentJSON
	top, err := decode(data, TypeConsent, &res)
	if err != nil {
		return ConsentInput{}, err
	}
	c := r4.Consent(res.OtherConsent)
	var v issues
	for _, k := range slices.Sorted(maps.Keys(top)) {
		if !supportedConsent[k] {
			v.add(IssueNotSupported, "Consent."+k, "this element is not kept: a consent is its kind, answer, dates, status and note")
		}
	}
	if len(c.ModifierExtension) > 0 {
		v.add(IssueNotSupported, "Consent.modifierExtension", "modifier extensions are not supported")
	}
	var in ConsentInput
	if c.Id != nil {
		in.ID = *c.Id
	}
	// The kind, from the category and the scope.
	var kinds []cpms.ConsentKind
	for _, cat := range c.Category {
		for _, cd := range cat.Coding {
			if k, ok := ConsentKindOf(deref(cd.System), deref(cd.Code)); ok && !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	var scope string
	for _, cd := range c.Scope.Coding {
		if deref(cd.System) == ConsentScopeSystem {
			scope = deref(cd.Code)
		}
	}
	const which = "the consent for care has scope treatment (" + ConsentScopeSystem + ") and category " + LOINCSystem + "|" + CodeCareConsent +
		"; the optional consents scope research and category " + ConsentCategorySystem + "|" + CodeRegistry + " or |" + CodeResearchContact
	switch {
	case len(kinds) == 0:
		v.add(IssueCodeInvalid, "Consent.category", "not a consent this server records: "+which)
	case len(kinds) > 1:
		v.add(IssueCodeInvalid, "Consent.category", "one consent per resource: "+which)
	case scope != consentCodings[kinds[0]].scope:
		v.add(IssueCodeInvalid, "Consent.scope", "scope and category do not go together: "+which)
	default:
		in.Answer.Kind = kinds[0]
	}
	if c.Patient == nil || c.Patient.Reference == nil {
		v.add(IssueRequired, "Consent.patient", "the patient is required: a reference Patient/{id}")
	} else {
		in.Patient = *c.Patient.Reference
	}
	if _, ok := top["status"]; !ok {
		v.add(IssueRequired, "Consent.status", "the status is required: active, or inactive for a withdrawn consent")
	} else {
		switch c.Status {
		case r4.ConsentStateActive:
		case r4.ConsentStateInactive:
			in.Answer.Withdrawn = true
		default:
			v.add(IssueCodeInvalid, "Consent.status", "active, or inactive for a withdrawn consent")
		}
	}
	p := c.Provision
	switch {
	case p == nil || p.Type == nil:
		v.add(IssueRequired, "Consent.provision.type", "the answer is required: provision.type permit (yes) or deny (no)")
	default:
		in.Answer.Given = *p.Type == r4.ConsentProvisionTypePermit
		if len(p.Actor)+len(p.Action)+len(p.SecurityLabel)+len(p.Purpose)+len(p.Class)+len(p.Code)+len(p.Data)+len(p.Provision) > 0 ||
			p.DataPeriod != nil || len(p.ModifierExtension) > 0 {
			v.add(IssueNotSupported, "Consent.provision", "the provision holds only type and period: the consent covers the whole case")
		}
	}
	date := deref(c.DateTime)
	if date == "" && p != nil && p.Period != nil {
		date = deref(p.Period.Start)
	}
	if date == "" {
		v.add(IssueRequired, "Consent.dateTime", "the date of the answer is required")
	} else {
		in.Answer.Date = dateOf(date)
		v.check(in.Answer.Date.Valid(), IssueValue, "Consent.dateTime", "the full date of the answer is required: YYYY-MM-DD")
	}
	if p != nil && p.Period != nil && p.Period.End != nil {
		if !in.Answer.Withdrawn {
			v.add(IssueValue, "Consent.provision.period.end", "the end of the period is the withdrawal date: only for an inactive consent")
		} else {
			in.Answer.WithdrawnOn = dateOf(*p.Period.End)
			v.check(in.Answer.WithdrawnOn.Valid(), IssueValue, "Consent.provision.period.end", "the full withdrawal date is required: YYYY-MM-DD")
		}
	}
	for i, e := range c.Extension {
		if e.Url == ExtConsentNote {
			v.check(e.ValueString != nil, IssueValue, "Consent.extension["+itoa(i)+"]", "the consent-note extension holds a valueString")
			in.Answer.Note = deref(e.ValueString)
		}
	}
	return in, v.err()
}

// dateOf is the calendar date of a FHIR date or dateTime ("2024-03-01T10:00:00+01:00" is
// 2024-03-01, the date where it was written); partial dates are left as they are, invalid.
func dateOf(s string) cpms.Date {
	if len(s) > 10 && s[10] == 'T' {
		s = s[:10]
	}
	return cpms.Date(s)
}
