package fhir

import (
	"maps"
	"slices"
	"strings"

	r4 "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/ern-cpms/cpms/cpms"
)

var genders = map[cpms.Gender]r4.AdministrativeGender{
	cpms.GenderMale:    r4.AdministrativeGenderMale,
	cpms.GenderFemale:  r4.AdministrativeGenderFemale,
	cpms.GenderOther:   r4.AdministrativeGenderOther,
	cpms.GenderUnknown: r4.AdministrativeGenderUnknown,
}

// identifierTypes are the displays of the HL7 v2-0203 codes hospitals commonly use.
var identifierTypes = map[string]string{
	"MR":  "Medical record number",
	"PI":  "Patient internal identifier",
	"PN":  "Person number",
	"NI":  "National unique individual identifier",
	"PPN": "Passport number",
	"SS":  "Social Security number",
	"JHN": "Jurisdictional health number (Canada)",
	"AN":  "Account number",
}

// Patient is the FHIR form of a patient: identity (the centre tier), CPMS ID, centre, ERN,
// clinicians, consent variant and frozen state. Its consents are separate Consent resources.
func Patient(p cpms.Patient) r4.Patient {
	out := r4.Patient{
		Id:   ptr(p.ID),
		Meta: &r4.Meta{VersionId: ptr(VersionID(p.Version)), LastUpdated: ptr(Instant(p.UpdatedAt))},
	}
	if p.ERN != "" {
		out.Extension = append(out.Extension, r4.Extension{Url: ExtERN, ValueReference: &r4.Reference{Reference: ptr(Reference(TypeOrganization, p.ERN))}})
	}
	if p.RecordLabel != "" {
		out.Extension = append(out.Extension, r4.Extension{Url: ExtRecordLabel, ValueString: ptr(p.RecordLabel)})
	}
	if p.EnrolledOn != "" {
		out.Extension = append(out.Extension, r4.Extension{Url: ExtEnrolmentDate, ValueDate: ptr(string(p.EnrolledOn))})
	}
	if p.Variant != "" {
		out.Extension = append(out.Extension, r4.Extension{Url: ExtConsentVariant, ValueCode: ptr(string(p.Variant))})
	}
	if p.EnrolledBy.ID != "" {
		out.Extension = append(out.Extension, r4.Extension{Url: ExtEnrollingClinician, ValueReference: practitionerRef(p.EnrolledBy)})
	}
	if p.Clinician.ID != "" {
		out.Extension = append(out.Extension, r4.Extension{Url: ExtResponsibleClinician, ValueReference: practitionerRef(p.Clinician)})
	}
	out.Extension = append(out.Extension, r4.Extension{Url: ExtFrozen, ValueBoolean: ptr(p.Frozen)})
	if p.CPMSID != "" {
		out.Identifier = append(out.Identifier, r4.Identifier{Use: ptr(r4.IdentifierUseOfficial), System: ptr(CPMSIDSystem), Value: ptr(p.CPMSID)})
	}
	for _, id := range p.Identifiers {
		typ := id.Type
		if typ == "" {
			typ = "MR"
		}
		coding := r4.Coding{System: ptr(IdentifierTypeSystem), Code: ptr(typ)}
		if d, ok := identifierTypes[typ]; ok {
			coding.Display = ptr(d)
		}
		out.Identifier = append(out.Identifier, r4.Identifier{
			Type:   &r4.CodeableConcept{Coding: []r4.Coding{coding}},
			System: ptr(id.System), Value: ptr(id.Value)})
	}
	if p.LastName != "" || p.FirstName != "" {
		n := r4.HumanName{Use: ptr(r4.NameUseOfficial)}
		if p.LastName != "" {
			n.Family = ptr(p.LastName)
		}
		if p.FirstName != "" {
			n.Given = []string{p.FirstName}
		}
		out.Name = []r4.HumanName{n}
	}
	if g, ok := genders[p.Gender]; ok {
		out.Gender = ptr(g)
	}
	if p.BirthDate != "" {
		out.BirthDate = ptr(string(p.BirthDate))
	}
	if p.Centre != "" {
		out.ManagingOrganization = &r4.Reference{Reference: ptr(Reference(TypeOrganization, p.Centre))}
	}
	return out
}

func practitionerRef(u cpms.UserRef) *r4.Reference {
	r := &r4.Reference{Reference: ptr(Reference(TypePractitioner, u.ID))}
	if u.DisplayName != "" {
		r.Display = ptr(u.DisplayName)
	}
	return r
}

// PatientInput is what a Patient resource of a create or an update says.
type PatientInput struct {
	ID           string // the resource's id element, if any
	Demographics cpms.Demographics
	// ERN (ern extension) and Centre (managingOrganization) are where the patient is enrolled;
	// empty when the resource leaves them out.
	ERN, Centre string
	EnrolledOn  cpms.Date           // enrolment-date extension
	Variant     cpms.ConsentVariant // consent-variant extension
	// Clinician is the enrolling-clinician extension: a user ID (Practitioner/{id}) or, with
	// ByUsername, a username (an identifier of the username system).
	Clinician  string
	ByUsername bool
}

// Enrolment is the enrolment the input asks for, without consents. Clinician must be a
// username: resolve a Practitioner ID first.
func (in PatientInput) Enrolment() cpms.Enrolment {
	d := in.Demographics
	e := cpms.Enrolment{ERN: in.ERN, Centre: in.Centre, FirstName: d.FirstName, LastName: d.LastName,
		Gender: d.Gender, BirthDate: d.BirthDate, RecordLabel: d.RecordLabel, EnrolledOn: in.EnrolledOn,
		Identifiers: d.Identifiers, Variant: in.Variant}
	if in.ByUsername {
		e.Clinician = in.Clinician
	}
	return e
}

type patientJSON struct {
	r4.OtherPatient
	ResourceType string `json:"resourceType"`
}

// supportedPatient are the Patient elements the server keeps or accepts and ignores; anything
// else is refused rather than silently dropped.
var supportedPatient = map[string]bool{"resourceType": true, "id": true, "meta": true, "text": true,
	"language": true, "implicitRules": false, "extension": true, "identifier": true, "active": true, "name": true,
	"gender": true, "birthDate": true, "managingOrganization": true}

// DecodePatient reads a Patient resource for a create or an update. The CPMS ID identifier,
// meta, text and the output-only extensions (frozen, responsible-clinician) are ignored; the
// elements the centre tier does not keep (telecom, address, contacts…) are refused.
func DecodePatient(data []byte) (PatientInput, error) {
	var res patientJSON
	top, err := decode(data, TypePatient, &res)
	if err != nil {
		return PatientInput{}, err
	}
	p := r4.Patient(res.OtherPatient)
	var v issues
	for _, k := range slices.Sorted(maps.Keys(top)) {
		if !supportedPatient[k] {
			v.add(IssueNotSupported, "Patient."+k, "this element is not kept: the centre tier holds the name, gender, birth date and local identifiers")
		}
	}
	if len(p.ModifierExtension) > 0 {
		v.add(IssueNotSupported, "Patient.modifierExtension", "modifier extensions are not supported")
	}
	if p.Active != nil && !*p.Active {
		v.add(IssueNotSupported, "Patient.active", "a patient record cannot be made inactive")
	}
	var in PatientInput
	if p.Id != nil {
		in.ID = *p.Id
	}
	// Name: the official one, else the first.
	var name *r4.HumanName
	for i := range p.Name {
		if p.Name[i].Use != nil && *p.Name[i].Use == r4.NameUseOfficial {
			name = &p.Name[i]
			break
		}
	}
	if name == nil && len(p.Name) > 0 {
		name = &p.Name[0]
	}
	if name == nil {
		v.add(IssueRequired, "Patient.name", "the patient's name (family and given) is required")
	} else {
		if name.Family != nil {
			in.Demographics.LastName = *name.Family
		}
		in.Demographics.FirstName = strings.Join(name.Given, " ")
		v.check(in.Demographics.LastName != "", IssueRequired, "Patient.name.family", "the family name is required")
		v.check(in.Demographics.FirstName != "", IssueRequired, "Patient.name.given", "a given name is required")
	}
	if p.Gender == nil {
		v.add(IssueRequired, "Patient.gender", "the gender is required")
	} else {
		in.Demographics.Gender = cpms.Gender(p.Gender.Code())
	}
	if p.BirthDate == nil {
		v.add(IssueRequired, "Patient.birthDate", "the birth date is required")
	} else {
		in.Demographics.BirthDate = cpms.Date(*p.BirthDate)
		v.check(in.Demographics.BirthDate.Valid(), IssueValue, "Patient.birthDate", "the full birth date is required: YYYY-MM-DD")
	}
	for i, id := range p.Identifier {
		if id.System != nil && *id.System == CPMSIDSystem {
			continue // the server assigns the CPMS ID
		}
		path := "Patient.identifier[" + itoa(i) + "]"
		if id.System == nil || id.Value == nil {
			v.add(IssueRequired, path, "a local identifier needs its system (the assigning authority) and value")
			continue
		}
		li := cpms.LocalIdentifier{System: *id.System, Value: *id.Value}
		if id.Type != nil {
			for _, c := range id.Type.Coding {
				if c.System != nil && *c.System == IdentifierTypeSystem && c.Code != nil {
					li.Type = *c.Code
				}
			}
			v.check(li.Type != "", IssueCodeInvalid, path+".type", "the identifier type is coded in "+IdentifierTypeSystem)
		}
		in.Demographics.Identifiers = append(in.Demographics.Identifiers, li)
	}
	if p.ManagingOrganization != nil {
		typ, id, ok := ParseReference(deref(p.ManagingOrganization.Reference))
		if !ok || typ != TypeOrganization {
			v.add(IssueValue, "Patient.managingOrganization", "a reference Organization/{centre code}")
		} else {
			in.Centre = id
		}
	}
	for i, e := range p.Extension {
		path := "Patient.extension[" + itoa(i) + "]"
		switch e.Url {
		case ExtERN:
			typ, id, ok := "", "", false
			if e.ValueReference != nil {
				typ, id, ok = ParseReference(deref(e.ValueReference.Reference))
			}
			if !ok || typ != TypeOrganization {
				v.add(IssueValue, path, "the ern extension holds a valueReference Organization/{ERN code}")
			} else {
				in.ERN = id
			}
		case ExtRecordLabel:
			v.check(e.ValueString != nil, IssueValue, path, "the record-label extension holds a valueString")
			in.Demographics.RecordLabel = deref(e.ValueString)
		case ExtEnrolmentDate:
			v.check(e.ValueDate != nil, IssueValue, path, "the enrolment-date extension holds a valueDate")
			in.EnrolledOn = cpms.Date(deref(e.ValueDate))
		case ExtConsentVariant:
			in.Variant = cpms.ConsentVariant(deref(e.ValueCode))
			v.check(in.Variant.Valid(), IssueCodeInvalid, path, "the consent-variant extension holds a valueCode standard or ukraine")
		case ExtEnrollingClinician:
			r := e.ValueReference
			switch {
			case r != nil && r.Reference != nil:
				typ, id, ok := ParseReference(*r.Reference)
				if !ok || typ != TypePractitioner {
					v.add(IssueValue, path, "the enrolling-clinician extension references Practitioner/{id}")
				}
				in.Clinician = id
			case r != nil && r.Identifier != nil && deref(r.Identifier.System) == UsernameSystem && deref(r.Identifier.Value) != "":
				in.Clinician, in.ByUsername = *r.Identifier.Value, true
			default:
				v.add(IssueValue, path, "the enrolling-clinician extension holds a valueReference: Practitioner/{id}, or an identifier of system "+UsernameSystem)
			}
		}
	}
	return in, v.err()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// issues collects the problems of a resource so that a client gets all of them at once.
type issues struct{ list []Issue }

func (v *issues) add(code IssueType, path, msg string) {
	v.list = append(v.list, Issue{Severity: SeverityError, Code: code, Diagnostics: msg, Expression: []string{path}})
}

func (v *issues) check(ok bool, code IssueType, path, msg string) {
	if !ok {
		v.add(code, path, msg)
	}
}

// err is nil without issues, else an error answered with 422.
func (v *issues) err() error {
	if len(v.list) == 0 {
		return nil
	}
	return &Error{Status: StatusUnprocessable, Issues: v.list}
}
