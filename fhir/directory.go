package fhir

import (
	r4 "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/ern-cpms/cpms/cpms"
)

// CentreOrganization is a centre (a healthcare provider) as an Organization: id the centre
// code, type prov, name and country.
func CentreOrganization(c cpms.Centre) r4.Organization {
	out := r4.Organization{
		Id:     ptr(c.Code),
		Active: ptr(true),
		Type: []r4.CodeableConcept{{Coding: []r4.Coding{{System: ptr(HL7OrgTypeSystem), Code: ptr("prov"),
			Display: ptr("Healthcare Provider")}}}},
		Name: ptr(c.Name),
	}
	if c.Country != "" {
		out.Address = []r4.Address{{Country: ptr(c.Country)}}
	}
	return out
}

// ERNOrganization is a European Reference Network as an Organization: id the ERN code, type
// ern of OrganizationTypeSystem, name, and its member centres in ern-member extensions (a
// centre belongs to several networks, so partOf cannot say it).
func ERNOrganization(e cpms.ERN) r4.Organization {
	out := r4.Organization{
		Id:     ptr(e.Code),
		Active: ptr(true),
		Type: []r4.CodeableConcept{{Coding: []r4.Coding{{System: ptr(OrganizationTypeSystem), Code: ptr(CodeERN),
			Display: ptr("European Reference Network")}}}},
		Name: ptr(e.Name),
	}
	for _, c := range e.Centres {
		out.Extension = append(out.Extension, r4.Extension{Url: ExtERNMember,
			ValueReference: &r4.Reference{Reference: ptr(Reference(TypeOrganization, c))}})
	}
	return out
}

// Practitioner is a user as a Practitioner: id the user ID, the username as identifier, the
// display name, active unless disabled. No e-mail address, no credentials, no roles (the
// server has no PractitionerRole).
func Practitioner(u cpms.User) r4.Practitioner {
	out := r4.Practitioner{
		Id:         ptr(u.ID),
		Identifier: []r4.Identifier{{System: ptr(UsernameSystem), Value: ptr(u.Username)}},
		Active:     ptr(!u.Disabled),
	}
	if u.DisplayName != "" {
		out.Name = []r4.HumanName{{Text: ptr(u.DisplayName)}}
	}
	return out
}
