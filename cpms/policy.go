package cpms

import (
	"log/slog"
	"slices"
	"time"
)

// System names a centre's machine client: its PACS or its hospital information system.
type System string

const (
	SystemPACS System = "pacs" // may use the centre's DICOMweb scope
	SystemHIS  System = "his"  // may use the centre's XDS and FHIR surfaces
)

// Valid reports whether s is a known system kind.
func (s System) Valid() bool { return s == SystemPACS || s == SystemHIS }

// Principal is who makes a request: a user (possibly an assistant acting on behalf of a
// clinician) or a centre's system.
type Principal struct {
	User       *User  // the person authenticated; nil for a system
	OnBehalfOf *User  // the clinician whose permissions an assistant is using
	System     System // set for a system token
	Centre     string // the system's centre
	Via        string // "session", "token", "system-token"
	SessionID  string // the session's public ID, for "log out" and the audit trail
	TokenID    string
	// MustEnrolTOTP is set for a session whose user must set up a second factor before doing
	// anything else; the edges allow only the account pages then.
	MustEnrolTOTP bool
	// Operator is the local administrator running a command on the server (the OS user).
	Operator string
}

// Actor names the principal in the audit trail: a username or "system:BE10/pacs".
func (p *Principal) Actor() string {
	switch {
	case p == nil:
		return "anonymous"
	case p.User != nil:
		return p.User.Username
	case p.System != "":
		return "system:" + p.Centre + "/" + string(p.System)
	case p.Operator != "":
		return "operator:" + p.Operator
	}
	return "anonymous"
}

// LogValue keeps the principal's identity down to identifiers.
func (p *Principal) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("actor", p.Actor())}
	if p != nil && p.OnBehalfOf != nil {
		attrs = append(attrs, slog.String("on_behalf_of", p.OnBehalfOf.Username))
	}
	return slog.GroupValue(attrs...)
}

// Action is something a principal asks to do; Authorize decides.
type Action string

const (
	ActDashboard        Action = "dashboard.view"
	ActRequestAccess    Action = "access.request"
	ActDecideAccess     Action = "access.decide"       // Resource.ERN
	ActManageUsers      Action = "users.manage"        // Resource.ERN: users and their roles
	ActResetCredentials Action = "users.reset"         // Resource.ERN ("" only for deployment helpdesk)
	ActAppointAssistant Action = "assistant.appoint"   // Resource.Centre
	ActEnrolPatient     Action = "patient.enrol"       // Resource.ERN and Centre
	ActReadIdentified   Action = "patient.read-centre" // Resource.Centre: the identifying tier
	ActDICOMweb         Action = "dicomweb.centre"     // Resource.Centre: identified images
	ActXDS              Action = "xds.centre"          // Resource.Centre: documents
	ActFHIR             Action = "fhir.centre"         // Resource.Centre: patients and consents
	ActViewKPIs         Action = "kpi.view"            // Resource.ERN
	ActResearch         Action = "research.query"      // Resource.ERN: the anonymised tier
	ActReadAudit        Action = "audit.read"          // Resource.ERN ("" for the deployment)
	ActPatientAudit     Action = "patient.audit"       // Resource.ERN and Centre: who accessed a patient
	ActDecideTransfer   Action = "patient.transfer"    // Resource.ERN and Centre: take over a patient
)

// Resource is what an action is about: its ERN and centre where they matter.
type Resource struct {
	ERN    string
	Centre string
}

// rule says which roles allow an action and whether the grant must match the resource's ERN
// and/or centre.
type rule struct {
	roles       []Role
	matchERN    bool
	matchCentre bool
	anyUser     bool     // every signed-in user
	systems     []System // system tokens of the resource's centre
}

var policy = map[Action]rule{
	ActDashboard:        {anyUser: true},
	ActRequestAccess:    {anyUser: true},
	ActDecideAccess:     {roles: []Role{RoleERNAdmin, RoleCoordinator}, matchERN: true},
	ActManageUsers:      {roles: []Role{RoleERNAdmin}, matchERN: true},
	ActResetCredentials: {roles: []Role{RoleERNAdmin, RoleHelpdesk}, matchERN: true},
	ActAppointAssistant: {roles: []Role{RoleHP}, matchCentre: true},
	ActEnrolPatient:     {roles: []Role{RoleHP, RoleGuest}, matchERN: true, matchCentre: true, systems: []System{SystemHIS}},
	ActReadIdentified:   {roles: []Role{RoleHP, RoleGuest}, matchCentre: true},
	ActDICOMweb:         {roles: []Role{RoleHP, RoleGuest}, matchCentre: true, systems: []System{SystemPACS}},
	ActXDS:              {roles: []Role{RoleHP, RoleGuest}, matchCentre: true, systems: []System{SystemHIS}},
	ActFHIR:             {roles: []Role{RoleHP, RoleGuest}, matchCentre: true, systems: []System{SystemHIS}},
	ActViewKPIs:         {roles: []Role{RoleCoordinator, RoleDispatcher, RoleERNAdmin}, matchERN: true},
	ActResearch:         {roles: []Role{RoleResearcher}, matchERN: true},
	ActReadAudit:        {roles: []Role{RoleERNAdmin, RoleHelpdesk}, matchERN: true},
	ActPatientAudit:     {roles: []Role{RoleDataProtection}, matchCentre: true},
	ActDecideTransfer:   {roles: []Role{RoleHP}, matchERN: true, matchCentre: true},
}

// Authorize is the one permission check every edge calls. It returns nil when p may do a on r
// at time now, else a permission error (or an unauthenticated one for a nil principal).
//
// Grants count only while active (guests expire). A Helpdesk grant without an ERN covers every
// ERN. An assistant acting on behalf of a clinician has the clinician's grants, but only at the
// centres where the assistant is appointed; the assistant's own grants do not add to them.
func Authorize(p *Principal, a Action, r Resource, now time.Time) error {
	if p == nil || (p.User == nil && p.System == "" && p.Operator == "") {
		return Errorf(KindUnauthenticated, "sign in first")
	}
	ru, ok := policy[a]
	if !ok {
		return Errorf(KindPermission, "unknown action")
	}
	if p.User == nil && p.Operator != "" {
		return nil // whoever runs commands on the server's data administers the deployment
	}
	if p.User == nil {
		if slices.Contains(ru.systems, p.System) && r.Centre != "" && r.Centre == p.Centre {
			return nil
		}
		return Errorf(KindPermission, "this system token may not do that")
	}
	if p.User.Disabled || (p.OnBehalfOf != nil && p.OnBehalfOf.Disabled) {
		return Errorf(KindPermission, "the account is disabled")
	}
	if ru.anyUser {
		return nil
	}
	for _, g := range EffectiveGrants(p, now) {
		if !slices.Contains(ru.roles, g.Role) {
			continue
		}
		if ru.matchERN && g.ERN != r.ERN && !(g.Role == RoleHelpdesk && g.ERN == "") {
			continue
		}
		if ru.matchCentre && (r.Centre == "" || g.Centre != r.Centre) {
			continue
		}
		return nil
	}
	return Errorf(KindPermission, "your roles do not allow this")
}

// EffectiveGrants are the grants whose permissions the principal uses at time now.
func EffectiveGrants(p *Principal, now time.Time) []RoleGrant {
	if p == nil || p.User == nil {
		return nil
	}
	if p.OnBehalfOf == nil {
		return p.User.ActiveRoles(now)
	}
	var centres []string
	for _, g := range p.User.ActiveRoles(now) {
		if g.Role == RoleAssistant {
			centres = append(centres, g.Centre)
		}
	}
	var out []RoleGrant
	for _, g := range p.OnBehalfOf.ActiveRoles(now) {
		if g.Centre != "" && slices.Contains(centres, g.Centre) {
			out = append(out, g)
		}
	}
	return out
}

// CanActFor reports whether assistant may act on behalf of clinician: the assistant holds an
// active Assistant grant at a centre where the clinician holds an active HP grant, and the
// clinician appointed them (appointed is the store's answer to that).
func CanActFor(assistant, clinician *User, appointed bool, now time.Time) bool {
	if !appointed || assistant.Disabled || clinician.Disabled || assistant.ID == clinician.ID {
		return false
	}
	for _, a := range assistant.ActiveRoles(now) {
		if a.Role != RoleAssistant {
			continue
		}
		for _, c := range clinician.ActiveRoles(now) {
			if c.Role == RoleHP && c.Centre == a.Centre {
				return true
			}
		}
	}
	return false
}
