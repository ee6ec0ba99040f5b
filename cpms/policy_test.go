package cpms_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ern-cpms/cpms/cpms"
)

const (
	ebn    = "EuroBloodNet"
	ithaca = "ITHACA"
)

// policyNow is the fixed time of the policy tests.
var policyNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// allowed stands for "no error" where a test expects an error kind.
const allowed = cpms.Kind(-1)

func kindOrAllowed(err error) cpms.Kind {
	if err == nil {
		return allowed
	}
	return cpms.KindOf(err)
}

func kindName(k cpms.Kind) string {
	if k == allowed {
		return "allowed"
	}
	return k.String()
}

func ptr[T any](v T) *T { return &v }

func grant(role cpms.Role, ern, centre string) cpms.RoleGrant {
	return cpms.RoleGrant{ID: string(role) + "/" + ern + "/" + centre, Role: role, ERN: ern, Centre: centre}
}

func expiring(g cpms.RoleGrant, at time.Time) cpms.RoleGrant {
	g.ExpiresAt = &at
	return g
}

func person(id string, grants ...cpms.RoleGrant) *cpms.User {
	return &cpms.User{ID: id, Username: id, DisplayName: id, Roles: grants}
}

func as(u *cpms.User) *cpms.Principal { return &cpms.Principal{User: u, Via: "session"} }

// TestAuthorizeRoleScoping checks, for every action, which single role at EuroBloodNet/BE10
// allows it on a resource of EuroBloodNet at BE10: the permission table of the product.
func TestAuthorizeRoleScoping(t *testing.T) {
	everyone := slices.Clone(cpms.Roles)
	want := map[cpms.Action][]cpms.Role{
		cpms.ActDashboard:        everyone,
		cpms.ActRequestAccess:    everyone,
		cpms.ActDecideAccess:     {cpms.RoleCoordinator, cpms.RoleERNAdmin},
		cpms.ActManageUsers:      {cpms.RoleERNAdmin},
		cpms.ActResetCredentials: {cpms.RoleERNAdmin, cpms.RoleHelpdesk},
		cpms.ActAppointAssistant: {cpms.RoleHP},
		cpms.ActEnrolPatient:     {cpms.RoleHP, cpms.RoleGuest},
		cpms.ActReadIdentified:   {cpms.RoleHP, cpms.RoleGuest},
		cpms.ActDICOMweb:         {cpms.RoleHP, cpms.RoleGuest},
		cpms.ActXDS:              {cpms.RoleHP, cpms.RoleGuest},
		cpms.ActFHIR:             {cpms.RoleHP, cpms.RoleGuest},
		cpms.ActViewKPIs:         {cpms.RoleCoordinator, cpms.RoleDispatcher, cpms.RoleERNAdmin},
		cpms.ActResearch:         {cpms.RoleResearcher},
		cpms.ActReadAudit:        {cpms.RoleERNAdmin, cpms.RoleHelpdesk},
	}
	res := cpms.Resource{ERN: ebn, Centre: "BE10"}
	for action, roles := range want {
		for _, role := range cpms.Roles {
			g := grant(role, ebn, "BE10")
			if role == cpms.RoleGuest {
				g = expiring(g, policyNow.Add(cpms.GuestMinValidity))
			}
			got := kindOrAllowed(cpms.Authorize(as(person("u", g)), action, res, policyNow))
			wantKind := cpms.KindPermission
			if slices.Contains(roles, role) {
				wantKind = allowed
			}
			if got != wantKind {
				t.Errorf("%s with role %s: got %s, want %s", action, role, kindName(got), kindName(wantKind))
			}
		}
	}
}

func TestAuthorize(t *testing.T) {
	guestEnd := policyNow.Add(cpms.GuestMinValidity)
	var (
		hpBE10        = person("hp-be10", grant(cpms.RoleHP, ebn, "BE10"))
		coordEBN      = person("coord-ebn", grant(cpms.RoleCoordinator, ebn, "IT10"))
		adminEBN      = person("admin-ebn", grant(cpms.RoleERNAdmin, ebn, ""))
		helpdeskAll   = person("helpdesk", grant(cpms.RoleHelpdesk, "", ""))
		helpdeskEBN   = person("helpdesk-ebn", grant(cpms.RoleHelpdesk, ebn, ""))
		researcherEBN = person("researcher", grant(cpms.RoleResearcher, ebn, ""))
		guestBE10     = person("guest", expiring(grant(cpms.RoleGuest, ebn, "BE10"), guestEnd))
		noRoles       = person("newcomer")
		disabledHP    = &cpms.User{ID: "gone", Username: "gone", Disabled: true, Roles: []cpms.RoleGrant{grant(cpms.RoleHP, ebn, "BE10")}}

		// The clinician holds HP at two centres and an ERN-wide admin grant; the assistant is
		// appointed at BE10 only and holds grants of their own elsewhere.
		clinician = person("clinician", grant(cpms.RoleHP, ebn, "BE10"), grant(cpms.RoleHP, ebn, "FR08"),
			grant(cpms.RoleHP, ithaca, "BE10"), grant(cpms.RoleERNAdmin, ebn, ""))
		assistant = person("assistant", grant(cpms.RoleAssistant, ebn, "BE10"), grant(cpms.RoleResearcher, ebn, ""),
			grant(cpms.RoleHP, ithaca, "IT10"))
		lapsedAssistant   = person("lapsed", expiring(grant(cpms.RoleAssistant, ebn, "BE10"), policyNow.Add(-time.Hour)))
		disabledClinician = &cpms.User{ID: "off", Username: "off", Disabled: true, Roles: clinician.Roles}

		pacsBE10 = &cpms.Principal{System: cpms.SystemPACS, Centre: "BE10", Via: "system-token"}
		hisBE10  = &cpms.Principal{System: cpms.SystemHIS, Centre: "BE10", Via: "system-token"}
		operator = &cpms.Principal{Operator: "root", Via: "cli"}
	)
	onBehalf := func(a, c *cpms.User) *cpms.Principal { return &cpms.Principal{User: a, OnBehalfOf: c, Via: "session"} }
	ebnBE10 := cpms.Resource{ERN: ebn, Centre: "BE10"}
	centre := func(c string) cpms.Resource { return cpms.Resource{Centre: c} }
	ern := func(e string) cpms.Resource { return cpms.Resource{ERN: e} }

	tests := []struct {
		name   string
		p      *cpms.Principal
		action cpms.Action
		res    cpms.Resource
		at     time.Time // zero: policyNow
		want   cpms.Kind
	}{
		// Who is asking at all.
		{"nil principal", nil, cpms.ActDashboard, cpms.Resource{}, time.Time{}, cpms.KindUnauthenticated},
		{"empty principal", &cpms.Principal{}, cpms.ActDashboard, cpms.Resource{}, time.Time{}, cpms.KindUnauthenticated},
		{"operator", operator, cpms.ActManageUsers, ern(ebn), time.Time{}, allowed},
		{"operator reads identified data", operator, cpms.ActReadIdentified, centre("BG07"), time.Time{}, allowed},
		{"unknown action for a user", as(helpdeskAll), cpms.Action("users.delete-everything"), cpms.Resource{}, time.Time{}, cpms.KindPermission},
		{"unknown action for a system", pacsBE10, cpms.Action("dicomweb.everything"), centre("BE10"), time.Time{}, cpms.KindPermission},
		{"user without roles sees the dashboard", as(noRoles), cpms.ActDashboard, cpms.Resource{}, time.Time{}, allowed},
		{"user without roles requests access", as(noRoles), cpms.ActRequestAccess, cpms.Resource{}, time.Time{}, allowed},
		{"user without roles enrols", as(noRoles), cpms.ActEnrolPatient, ebnBE10, time.Time{}, cpms.KindPermission},
		{"disabled user", as(disabledHP), cpms.ActDICOMweb, centre("BE10"), time.Time{}, cpms.KindPermission},
		{"disabled user's dashboard", as(disabledHP), cpms.ActDashboard, cpms.Resource{}, time.Time{}, cpms.KindPermission},

		// ERN boundaries.
		{"coordinator decides own ERN", as(coordEBN), cpms.ActDecideAccess, ern(ebn), time.Time{}, allowed},
		{"coordinator decides other ERN", as(coordEBN), cpms.ActDecideAccess, ern(ithaca), time.Time{}, cpms.KindPermission},
		{"coordinator sees own KPIs", as(coordEBN), cpms.ActViewKPIs, ern(ebn), time.Time{}, allowed},
		{"coordinator sees other KPIs", as(coordEBN), cpms.ActViewKPIs, ern(ithaca), time.Time{}, cpms.KindPermission},
		{"admin manages own ERN", as(adminEBN), cpms.ActManageUsers, ern(ebn), time.Time{}, allowed},
		{"admin manages other ERN", as(adminEBN), cpms.ActManageUsers, ern(ithaca), time.Time{}, cpms.KindPermission},
		{"admin manages the deployment", as(adminEBN), cpms.ActManageUsers, cpms.Resource{}, time.Time{}, cpms.KindPermission},
		{"researcher own ERN", as(researcherEBN), cpms.ActResearch, ern(ebn), time.Time{}, allowed},
		{"researcher other ERN", as(researcherEBN), cpms.ActResearch, ern(ithaca), time.Time{}, cpms.KindPermission},
		{"HP enrols in an ERN not theirs at their centre", as(hpBE10), cpms.ActEnrolPatient, cpms.Resource{ERN: ithaca, Centre: "BE10"}, time.Time{}, cpms.KindPermission},

		// Centre boundaries.
		{"HP own centre DICOMweb", as(hpBE10), cpms.ActDICOMweb, centre("BE10"), time.Time{}, allowed},
		{"HP own centre XDS", as(hpBE10), cpms.ActXDS, centre("BE10"), time.Time{}, allowed},
		{"HP own centre FHIR", as(hpBE10), cpms.ActFHIR, centre("BE10"), time.Time{}, allowed},
		{"HP own centre identified", as(hpBE10), cpms.ActReadIdentified, centre("BE10"), time.Time{}, allowed},
		{"HP enrols at own centre", as(hpBE10), cpms.ActEnrolPatient, ebnBE10, time.Time{}, allowed},
		{"HP other centre DICOMweb", as(hpBE10), cpms.ActDICOMweb, centre("BG07"), time.Time{}, cpms.KindPermission},
		{"HP other centre XDS", as(hpBE10), cpms.ActXDS, centre("BG07"), time.Time{}, cpms.KindPermission},
		{"HP other centre FHIR", as(hpBE10), cpms.ActFHIR, centre("BG07"), time.Time{}, cpms.KindPermission},
		{"HP other centre identified", as(hpBE10), cpms.ActReadIdentified, centre("BG07"), time.Time{}, cpms.KindPermission},
		{"HP enrols at other centre", as(hpBE10), cpms.ActEnrolPatient, cpms.Resource{ERN: ebn, Centre: "BG07"}, time.Time{}, cpms.KindPermission},
		{"HP with no centre in the resource", as(hpBE10), cpms.ActDICOMweb, cpms.Resource{}, time.Time{}, cpms.KindPermission},
		{"HP appoints at own centre", as(hpBE10), cpms.ActAppointAssistant, centre("BE10"), time.Time{}, allowed},
		{"HP appoints at other centre", as(hpBE10), cpms.ActAppointAssistant, centre("BG07"), time.Time{}, cpms.KindPermission},

		// Guests expire.
		{"guest a day before the end", as(guestBE10), cpms.ActEnrolPatient, ebnBE10, guestEnd.Add(-24 * time.Hour), allowed},
		{"guest a microsecond before the end", as(guestBE10), cpms.ActDICOMweb, centre("BE10"), guestEnd.Add(-time.Microsecond), allowed},
		{"guest at the end", as(guestBE10), cpms.ActEnrolPatient, ebnBE10, guestEnd, cpms.KindPermission},
		{"guest after the end", as(guestBE10), cpms.ActDICOMweb, centre("BE10"), guestEnd.Add(time.Hour), cpms.KindPermission},
		{"guest still sees the dashboard after the end", as(guestBE10), cpms.ActDashboard, cpms.Resource{}, guestEnd.Add(time.Hour), allowed},

		// Helpdesk: deployment-wide or per ERN.
		{"deployment helpdesk resets in any ERN", as(helpdeskAll), cpms.ActResetCredentials, ern(ithaca), time.Time{}, allowed},
		{"deployment helpdesk resets deployment-wide", as(helpdeskAll), cpms.ActResetCredentials, cpms.Resource{}, time.Time{}, allowed},
		{"deployment helpdesk reads any audit", as(helpdeskAll), cpms.ActReadAudit, ern(ebn), time.Time{}, allowed},
		{"deployment helpdesk does not manage users", as(helpdeskAll), cpms.ActManageUsers, ern(ebn), time.Time{}, cpms.KindPermission},
		{"ERN helpdesk resets own ERN", as(helpdeskEBN), cpms.ActResetCredentials, ern(ebn), time.Time{}, allowed},
		{"ERN helpdesk resets other ERN", as(helpdeskEBN), cpms.ActResetCredentials, ern(ithaca), time.Time{}, cpms.KindPermission},
		{"ERN helpdesk resets deployment-wide", as(helpdeskEBN), cpms.ActResetCredentials, cpms.Resource{}, time.Time{}, cpms.KindPermission},
		{"ERN helpdesk reads deployment audit", as(helpdeskEBN), cpms.ActReadAudit, cpms.Resource{}, time.Time{}, cpms.KindPermission},

		// System tokens.
		{"pacs DICOMweb own centre", pacsBE10, cpms.ActDICOMweb, centre("BE10"), time.Time{}, allowed},
		{"pacs DICOMweb other centre", pacsBE10, cpms.ActDICOMweb, centre("BG07"), time.Time{}, cpms.KindPermission},
		{"pacs DICOMweb no centre", pacsBE10, cpms.ActDICOMweb, cpms.Resource{}, time.Time{}, cpms.KindPermission},
		{"pacs XDS own centre", pacsBE10, cpms.ActXDS, centre("BE10"), time.Time{}, cpms.KindPermission},
		{"pacs FHIR own centre", pacsBE10, cpms.ActFHIR, centre("BE10"), time.Time{}, cpms.KindPermission},
		{"pacs identified own centre", pacsBE10, cpms.ActReadIdentified, centre("BE10"), time.Time{}, cpms.KindPermission},
		{"pacs dashboard", pacsBE10, cpms.ActDashboard, cpms.Resource{}, time.Time{}, cpms.KindPermission},
		{"pacs requests access", pacsBE10, cpms.ActRequestAccess, cpms.Resource{}, time.Time{}, cpms.KindPermission},
		{"his XDS own centre", hisBE10, cpms.ActXDS, centre("BE10"), time.Time{}, allowed},
		{"his FHIR own centre", hisBE10, cpms.ActFHIR, centre("BE10"), time.Time{}, allowed},
		{"his XDS other centre", hisBE10, cpms.ActXDS, centre("BG07"), time.Time{}, cpms.KindPermission},
		{"his FHIR other centre", hisBE10, cpms.ActFHIR, centre("BG07"), time.Time{}, cpms.KindPermission},
		{"his DICOMweb own centre", hisBE10, cpms.ActDICOMweb, centre("BE10"), time.Time{}, cpms.KindPermission},
		{"his enrols at its centre", hisBE10, cpms.ActEnrolPatient, ebnBE10, time.Time{}, allowed},
		{"his enrols elsewhere", hisBE10, cpms.ActEnrolPatient, cpms.Resource{ERN: ebn, Centre: "BG07"}, time.Time{}, cpms.KindPermission},
		{"pacs enrols", &cpms.Principal{System: cpms.SystemPACS, Centre: "BE10"}, cpms.ActEnrolPatient, ebnBE10, time.Time{}, cpms.KindPermission},
		{"his manages users", hisBE10, cpms.ActManageUsers, ern(ebn), time.Time{}, cpms.KindPermission},
		{"unknown system kind", &cpms.Principal{System: "lis", Centre: "BE10"}, cpms.ActXDS, centre("BE10"), time.Time{}, cpms.KindPermission},

		// Assistants acting on behalf of a clinician.
		{"assistant alone has no clinical rights at BE10", as(assistant), cpms.ActDICOMweb, centre("BE10"), time.Time{}, cpms.KindPermission},
		{"assistant alone uses own HP grant", as(assistant), cpms.ActDICOMweb, centre("IT10"), time.Time{}, allowed},
		{"assistant alone uses own researcher grant", as(assistant), cpms.ActResearch, ern(ebn), time.Time{}, allowed},
		{"on behalf: clinician's rights at the assistant's centre", onBehalf(assistant, clinician), cpms.ActDICOMweb, centre("BE10"), time.Time{}, allowed},
		{"on behalf: clinician's enrolment at the assistant's centre", onBehalf(assistant, clinician), cpms.ActEnrolPatient, ebnBE10, time.Time{}, allowed},
		{"on behalf: clinician's other ERN at the assistant's centre", onBehalf(assistant, clinician), cpms.ActEnrolPatient, cpms.Resource{ERN: ithaca, Centre: "BE10"}, time.Time{}, allowed},
		{"on behalf: not at the clinician's other centre", onBehalf(assistant, clinician), cpms.ActDICOMweb, centre("FR08"), time.Time{}, cpms.KindPermission},
		{"on behalf: not the clinician's ERN-wide grants", onBehalf(assistant, clinician), cpms.ActManageUsers, ern(ebn), time.Time{}, cpms.KindPermission},
		{"on behalf: not the assistant's own HP grant", onBehalf(assistant, clinician), cpms.ActDICOMweb, centre("IT10"), time.Time{}, cpms.KindPermission},
		{"on behalf: not the assistant's own researcher grant", onBehalf(assistant, clinician), cpms.ActResearch, ern(ebn), time.Time{}, cpms.KindPermission},
		{"on behalf with a lapsed assistant grant", onBehalf(lapsedAssistant, clinician), cpms.ActDICOMweb, centre("BE10"), time.Time{}, cpms.KindPermission},
		{"on behalf of a disabled clinician", onBehalf(assistant, disabledClinician), cpms.ActDICOMweb, centre("BE10"), time.Time{}, cpms.KindPermission},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := tt.at
			if at.IsZero() {
				at = policyNow
			}
			err := cpms.Authorize(tt.p, tt.action, tt.res, at)
			if got := kindOrAllowed(err); got != tt.want {
				t.Fatalf("Authorize(%s, %s, %+v) = %v (%s), want %s", tt.p.Actor(), tt.action, tt.res, err, kindName(got), kindName(tt.want))
			}
		})
	}
}

func TestEffectiveGrants(t *testing.T) {
	clinicianHP := grant(cpms.RoleHP, ebn, "BE10")
	clinician := person("clinician", clinicianHP, grant(cpms.RoleHP, ebn, "FR08"), grant(cpms.RoleCoordinator, ebn, ""))
	assistant := person("assistant", grant(cpms.RoleAssistant, ebn, "BE10"), grant(cpms.RoleResearcher, ebn, ""))
	lapsed := expiring(grant(cpms.RoleGuest, ebn, "BE10"), policyNow)
	guest := person("guest", lapsed, grant(cpms.RoleHP, ebn, "CY01"))

	tests := []struct {
		name string
		p    *cpms.Principal
		want []cpms.RoleGrant
	}{
		{"nil", nil, nil},
		{"system", &cpms.Principal{System: cpms.SystemPACS, Centre: "BE10"}, nil},
		{"own grants", as(assistant), assistant.Roles},
		{"expired grants left out", as(guest), []cpms.RoleGrant{grant(cpms.RoleHP, ebn, "CY01")}},
		{"on behalf: the clinician's grants at the assistant's centres only", &cpms.Principal{User: assistant, OnBehalfOf: clinician}, []cpms.RoleGrant{clinicianHP}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, cpms.EffectiveGrants(tt.p, policyNow)); diff != "" {
				t.Errorf("EffectiveGrants (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCanActFor(t *testing.T) {
	clinician := person("clinician", grant(cpms.RoleHP, ebn, "BE10"))
	assistantBE10 := person("assistant", grant(cpms.RoleAssistant, ebn, "BE10"))
	assistantOtherERN := person("assistant-ithaca", grant(cpms.RoleAssistant, ithaca, "BE10"))
	assistantBG07 := person("assistant-bg07", grant(cpms.RoleAssistant, ebn, "BG07"))
	expired := person("expired", expiring(grant(cpms.RoleAssistant, ebn, "BE10"), policyNow))
	notYetExpired := person("not-yet", expiring(grant(cpms.RoleAssistant, ebn, "BE10"), policyNow.Add(time.Second)))
	both := person("both", grant(cpms.RoleHP, ebn, "BE10"), grant(cpms.RoleAssistant, ebn, "BE10"))
	noAssistantRole := person("colleague", grant(cpms.RoleHP, ebn, "BE10"))
	coordinatorAtBE10 := person("coordinator", grant(cpms.RoleCoordinator, ebn, "BE10"))
	lapsedClinician := person("lapsed-clinician", expiring(grant(cpms.RoleHP, ebn, "BE10"), policyNow))
	disabledAssistant := &cpms.User{ID: "disabled", Disabled: true, Roles: assistantBE10.Roles}
	disabledClinician := &cpms.User{ID: "disabled-clinician", Disabled: true, Roles: clinician.Roles}

	tests := []struct {
		name                 string
		assistant, clinician *cpms.User
		appointed            bool
		want                 bool
	}{
		{"appointed at the clinician's centre", assistantBE10, clinician, true, true},
		{"assistant role in another ERN at the same centre", assistantOtherERN, clinician, true, true},
		{"grant ending later", notYetExpired, clinician, true, true},
		{"not appointed", assistantBE10, clinician, false, false},
		{"different centre", assistantBG07, clinician, true, false},
		{"expired assistant grant", expired, clinician, true, false},
		{"self", both, both, true, false},
		{"no assistant role", noAssistantRole, clinician, true, false},
		{"clinician is no HP at that centre", assistantBE10, coordinatorAtBE10, true, false},
		{"clinician's HP grant expired", assistantBE10, lapsedClinician, true, false},
		{"disabled assistant", disabledAssistant, clinician, true, false},
		{"disabled clinician", assistantBE10, disabledClinician, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cpms.CanActFor(tt.assistant, tt.clinician, tt.appointed, policyNow); got != tt.want {
				t.Errorf("CanActFor = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRoleGrantValidate(t *testing.T) {
	in := func(d time.Duration) *time.Time { return ptr(policyNow.Add(d)) }
	month := 30 * 24 * time.Hour
	tests := []struct {
		name string
		g    cpms.RoleGrant
		want []string // fields reported; nil when valid
	}{
		{"HP at a centre", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"}, nil},
		{"HP without centre", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn}, []string{"centre"}},
		{"assistant without centre", cpms.RoleGrant{Role: cpms.RoleAssistant, ERN: ebn}, []string{"centre"}},
		{"HP with a malformed centre", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "be10"}, []string{"centre"}},
		{"coordinator without centre", cpms.RoleGrant{Role: cpms.RoleCoordinator, ERN: ebn}, nil},
		{"coordinator at a centre", cpms.RoleGrant{Role: cpms.RoleCoordinator, ERN: ebn, Centre: "IT10"}, nil},
		{"admin with a malformed centre", cpms.RoleGrant{Role: cpms.RoleERNAdmin, ERN: ebn, Centre: "nowhere"}, []string{"centre"}},
		{"coordinator without ERN", cpms.RoleGrant{Role: cpms.RoleCoordinator}, []string{"ern"}},
		{"HP without ERN or centre", cpms.RoleGrant{Role: cpms.RoleHP}, []string{"ern", "centre"}},
		{"helpdesk without ERN", cpms.RoleGrant{Role: cpms.RoleHelpdesk}, nil},
		{"helpdesk of an ERN", cpms.RoleGrant{Role: cpms.RoleHelpdesk, ERN: ebn}, nil},
		{"helpdesk with a malformed ERN", cpms.RoleGrant{Role: cpms.RoleHelpdesk, ERN: "-"}, []string{"ern"}},
		{"unknown role", cpms.RoleGrant{Role: "Boss", ERN: ebn}, []string{"role"}},
		{"guest for six months", cpms.RoleGrant{Role: cpms.RoleGuest, ERN: ebn, Centre: "BE10", ExpiresAt: in(6 * month)}, nil},
		{"guest for the longest time", cpms.RoleGrant{Role: cpms.RoleGuest, ERN: ebn, Centre: "BE10", ExpiresAt: in(cpms.GuestMaxValidity)}, nil},
		{"guest without expiry", cpms.RoleGrant{Role: cpms.RoleGuest, ERN: ebn, Centre: "BE10"}, []string{"expiresAt"}},
		{"guest for 13 months", cpms.RoleGrant{Role: cpms.RoleGuest, ERN: ebn, Centre: "BE10", ExpiresAt: in(13 * month)}, []string{"expiresAt"}},
		{"guest a second too long", cpms.RoleGrant{Role: cpms.RoleGuest, ERN: ebn, Centre: "BE10", ExpiresAt: in(cpms.GuestMaxValidity + time.Second)}, []string{"expiresAt"}},
		{"guest ending now", cpms.RoleGrant{Role: cpms.RoleGuest, ERN: ebn, Centre: "BE10", ExpiresAt: in(0)}, []string{"expiresAt"}},
		{"HP grant ended", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10", ExpiresAt: in(-time.Hour)}, []string{"expiresAt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.g.Validate(policyNow)
			var got []string
			if err != nil {
				var de *cpms.Error
				if !errors.As(err, &de) || de.Kind != cpms.KindInvalid {
					t.Fatalf("Validate = %v, want an invalid-kind *cpms.Error", err)
				}
				for _, f := range de.Fields {
					got = append(got, f.Field)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("fields in error (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}
