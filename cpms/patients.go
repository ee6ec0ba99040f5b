package cpms

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Enrolment is what a clinician (or a hospital system) gives to enrol a patient.
type Enrolment struct {
	// ERN and Centre may be left empty when the principal enrols at one centre for one ERN.
	ERN    string
	Centre string
	// ID, when set, is the patient's ID (a FHIR transaction may reference it); otherwise the
	// service makes one.
	ID          string
	FirstName   string
	LastName    string
	Gender      Gender
	BirthDate   Date
	RecordLabel string // empty: generated from the name, birth date and gender
	EnrolledOn  Date   // empty: today
	Identifiers []LocalIdentifier
	Variant     ConsentVariant // empty: standard
	Consents    []ConsentAnswer
	// Clinician is the username of the responsible clinician when a system enrols; a person
	// enrolling is the clinician (an assistant's enrolment belongs to the clinician served).
	Clinician string
}

// ConsentAnswer is one consent as a form gives it.
type ConsentAnswer struct {
	ID          string // optional, as Enrolment.ID
	Kind        ConsentKind
	Given       bool
	Date        Date
	Note        string
	Withdrawn   bool
	WithdrawnOn Date
}

// Demographics are the identifying fields of a patient that can be corrected after enrolment.
type Demographics struct {
	FirstName   string
	LastName    string
	Gender      Gender
	BirthDate   Date
	RecordLabel string // empty: generated
	Identifiers []LocalIdentifier
}

// Centre visibility (SPEC, privacy tiers): whether a centre's users see the identity of its
// patients, or only the responsible clinician and their assistants do.
const (
	VisibilityCentre    = "centre"
	VisibilityClinician = "clinician"
)

// ErrVersionMismatch is the code of a conflict raised when a change names a version that is no
// longer the current one (FHIR If-Match).
const ErrVersionMismatch = "version_mismatch"

// PatientNotFound is the one answer for a patient that does not exist or that the principal may
// not see: the two are not told apart.
var PatientNotFound = Errorf(KindNotFound, "no such patient")

// enrolTargets are the ERN/centre pairs where p may enrol patients.
func (s *Service) enrolTargets(p *Principal) []Resource {
	var out []Resource
	add := func(r Resource) {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	for _, g := range EffectiveGrants(p, s.Now()) {
		if (g.Role == RoleHP || g.Role == RoleGuest) && g.ERN != "" && g.Centre != "" {
			add(Resource{ERN: g.ERN, Centre: g.Centre})
		}
	}
	return out
}

// EnrolTargets lists where the principal may enrol, for the enrol form.
func (s *Service) EnrolTargets(ctx context.Context, p *Principal) ([]Resource, error) {
	if p == nil {
		return nil, Errorf(KindUnauthenticated, "sign in first")
	}
	if p.System == SystemHIS {
		erns, err := s.store.ERNs(ctx)
		if err != nil {
			return nil, s.storeErr(err, "read the networks")
		}
		var out []Resource
		for _, e := range erns {
			if slices.Contains(e.Centres, p.Centre) {
				out = append(out, Resource{ERN: e.Code, Centre: p.Centre})
			}
		}
		return out, nil
	}
	return s.enrolTargets(p), nil
}

// Enrol enrols a patient with their consents. The consent for care is required and must be a
// "yes": without it there is no enrolment.
func (s *Service) Enrol(ctx context.Context, p *Principal, e Enrolment, ri RequestInfo) (Patient, error) {
	if p == nil || (p.User == nil && p.System == "" && p.Operator == "") {
		return Patient{}, Errorf(KindUnauthenticated, "sign in first")
	}
	if e.ERN == "" || e.Centre == "" {
		targets, err := s.EnrolTargets(ctx, p)
		if err != nil {
			return Patient{}, err
		}
		var match []Resource
		for _, t := range targets {
			if (e.ERN == "" || t.ERN == e.ERN) && (e.Centre == "" || t.Centre == e.Centre) {
				match = append(match, t)
			}
		}
		switch len(match) {
		case 1:
			e.ERN, e.Centre = match[0].ERN, match[0].Centre
		case 0:
			if len(targets) == 0 {
				return Patient{}, s.Authorize(ctx, p, ActEnrolPatient, Resource{ERN: e.ERN, Centre: e.Centre}, ri)
			}
			return Patient{}, Validationf("centre", "you do not enrol patients at that centre for that ERN")
		default:
			var v Validation
			v.Check(e.ERN != "", "ern", "choose the ERN")
			v.Check(e.Centre != "", "centre", "choose the centre")
			return Patient{}, v.Err()
		}
	}
	if err := s.Authorize(ctx, p, ActEnrolPatient, Resource{ERN: e.ERN, Centre: e.Centre}, ri); err != nil {
		return Patient{}, err
	}
	if err := s.checkNetwork(ctx, e.ERN, e.Centre); err != nil {
		return Patient{}, err
	}
	now := s.Now()
	if e.Variant == "" {
		e.Variant = VariantStandard
	}
	if e.EnrolledOn == "" {
		e.EnrolledOn = DateOf(now)
	}
	d := Demographics{FirstName: e.FirstName, LastName: e.LastName, Gender: e.Gender, BirthDate: e.BirthDate,
		RecordLabel: e.RecordLabel, Identifiers: e.Identifiers}
	var v Validation
	s.checkDemographics(&v, &d, now)
	v.Check(e.EnrolledOn.Valid() && !e.EnrolledOn.Time().After(now), "enrolledOn", "a date, not in the future")
	v.Check(e.Variant.Valid(), "consentVariant", "standard or ukraine")
	v.Check(e.ID == "" || validResourceID(e.ID), "id", "1–64 letters, digits, - or .")
	var care bool
	seen := map[ConsentKind]bool{}
	for i, c := range e.Consents {
		f := "consents." + string(c.Kind)
		if !c.Kind.Valid() {
			v.Add("consents", "unknown consent")
			continue
		}
		if seen[c.Kind] {
			v.Add(f, "given twice")
			continue
		}
		seen[c.Kind] = true
		if !slices.Contains(e.Variant.Kinds(), c.Kind) {
			v.Add(f, "not asked in the "+string(e.Variant)+" consent form")
			continue
		}
		s.checkConsent(&v, f, &e.Consents[i], now)
		if c.Kind == ConsentCare && c.Given && !c.Withdrawn {
			care = true
		}
	}
	if !care {
		v.Add("consents.care", "the consent for care is required: a patient is enrolled only with it")
	}
	if err := v.Err(); err != nil {
		return Patient{}, err
	}
	pat := Patient{ID: e.ID, ERN: e.ERN, Centre: e.Centre, FirstName: d.FirstName, LastName: d.LastName,
		Gender: d.Gender, BirthDate: d.BirthDate, RecordLabel: d.RecordLabel, EnrolledOn: e.EnrolledOn,
		Identifiers: d.Identifiers, Variant: e.Variant, Version: 1, CreatedAt: now, UpdatedAt: now, UpdatedBy: p.Actor()}
	if pat.ID == "" {
		pat.ID = s.newID()
	}
	switch {
	case p.OnBehalfOf != nil:
		pat.EnrolledBy = p.OnBehalfOf.Ref()
	case p.User != nil:
		pat.EnrolledBy = p.User.Ref()
	case e.Clinician == "" && !s.centreVisibility():
		// Only the responsible clinician would see the patient: a system must name them.
		return Patient{}, Validationf("clinician", "name the responsible clinician (this deployment shows patients to their clinician only)")
	case e.Clinician != "":
		u, err := s.store.UserByUsername(ctx, e.Clinician)
		if err != nil || Authorize(&Principal{User: &u}, ActEnrolPatient, Resource{ERN: e.ERN, Centre: e.Centre}, now) != nil {
			return Patient{}, Validationf("clinician", "not a clinician of the centre in this ERN")
		}
		pat.EnrolledBy = u.Ref()
	}
	pat.Clinician = pat.EnrolledBy
	for _, c := range e.Consents {
		pat.Consents = append(pat.Consents, Consent{ID: c.ID, PatientID: pat.ID, Kind: c.Kind, Given: c.Given,
			Date: c.Date, Note: c.Note, Withdrawn: c.Withdrawn, WithdrawnOn: c.WithdrawnOn,
			Version: 1, UpdatedAt: now, UpdatedBy: p.Actor()})
		if pat.Consents[len(pat.Consents)-1].ID == "" {
			pat.Consents[len(pat.Consents)-1].ID = s.newID()
		}
	}
	created, err := s.store.CreatePatient(ctx, pat)
	if err != nil {
		if errors.Is(err, ErrConflict) {
			return Patient{}, Errorf(KindConflict, "a patient of this ERN already holds that local identifier (or that ID)").WithCode("duplicate")
		}
		return Patient{}, s.storeErr(err, "enrol the patient")
	}
	return created, s.audit(ctx, p, ri, AuditEvent{Action: "patient.enrol", ObjectType: "patient",
		ObjectID: created.ID, PatientID: created.ID, Detail: created.CPMSID})
}

// Validationf is a validation error about one field.
func Validationf(field, msg string) error {
	var v Validation
	v.Add(field, msg)
	return v.Err()
}

func validResourceID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func (s *Service) checkDemographics(v *Validation, d *Demographics, now time.Time) {
	d.FirstName, d.LastName = strings.TrimSpace(d.FirstName), strings.TrimSpace(d.LastName)
	v.Check(validName(d.FirstName), "firstName", "required, at most 100 characters")
	v.Check(validName(d.LastName), "lastName", "required, at most 100 characters")
	v.Check(d.Gender.Valid(), "gender", "male, female, other or unknown")
	v.Check(d.BirthDate.Valid() && !d.BirthDate.Time().After(now) && d.BirthDate.Time().Year() >= 1880,
		"birthDate", "a date since 1880, not in the future")
	d.RecordLabel = strings.TrimSpace(d.RecordLabel)
	if d.RecordLabel == "" && validName(d.FirstName) && validName(d.LastName) {
		d.RecordLabel = RecordLabel(d.LastName, d.FirstName, d.BirthDate, d.Gender)
	}
	v.Check(utf8.RuneCountInString(d.RecordLabel) <= 200 && validName(d.RecordLabel), "recordLabel", "at most 200 characters")
	v.Check(len(d.Identifiers) <= 10, "identifiers", "at most 10")
	for i := range d.Identifiers {
		id := &d.Identifiers[i]
		sys, ok := NormalizeIdentifierSystem(id.System)
		v.Check(ok, "identifiers.system", "the assigning authority as an OID or a URI")
		id.System = sys
		id.Value = strings.TrimSpace(id.Value)
		v.Check(id.Value != "" && len(id.Value) <= 64 && validName(id.Value), "identifiers.value", "1–64 characters")
		if id.Type == "" {
			id.Type = "MR"
		}
		v.Check(len(id.Type) <= 10, "identifiers.type", "an HL7 identifier type code such as MR")
		for _, o := range d.Identifiers[:i] {
			if o.System == id.System && o.Value == id.Value {
				v.Add("identifiers", "the same identifier twice")
			}
		}
	}
}

func (s *Service) checkConsent(v *Validation, f string, c *ConsentAnswer, now time.Time) {
	c.Note = strings.TrimSpace(c.Note)
	v.Check(c.Date.Valid() && !c.Date.Time().After(now), f+".date", "the date of the answer, not in the future")
	if c.Given && c.Kind != ConsentCare {
		v.Check(c.Note != "", f+".note", `for "yes", the register's name or "OK"`)
	}
	v.Check(utf8.RuneCountInString(c.Note) <= 500, f+".note", "at most 500 characters")
	if c.Withdrawn {
		v.Check(c.Given, f, "only a \"yes\" can be withdrawn")
		if c.WithdrawnOn == "" {
			c.WithdrawnOn = DateOf(now)
		}
		v.Check(c.WithdrawnOn.Valid() && !c.WithdrawnOn.Time().After(now) && c.WithdrawnOn >= c.Date,
			f+".withdrawnOn", "a date between the answer and today")
	} else {
		c.WithdrawnOn = ""
	}
}

// centreVisibility reports whether the deployment shows the centre's patients to all its users.
func (s *Service) centreVisibility() bool { return s.cfg.PatientVisibility != VisibilityClinician }

// visibility is what p may see of the centre tier; nil for the operator (everything).
func (s *Service) visibility(p *Principal) *Visibility {
	v := &Visibility{}
	switch {
	case p == nil:
	case p.Operator != "" && p.User == nil:
		return nil
	case p.System == SystemHIS:
		v.Centres = []string{p.Centre}
	case p.User != nil:
		if p.User.Disabled || (p.OnBehalfOf != nil && p.OnBehalfOf.Disabled) {
			return v
		}
		if p.OnBehalfOf != nil {
			v.Clinicians = []string{p.OnBehalfOf.ID}
		} else {
			v.Clinicians = []string{p.User.ID}
		}
		if s.centreVisibility() {
			for _, g := range EffectiveGrants(p, s.Now()) {
				if (g.Role == RoleHP || g.Role == RoleGuest) && g.Centre != "" && !slices.Contains(v.Centres, g.Centre) {
					v.Centres = append(v.Centres, g.Centre)
				}
			}
		}
	}
	return v
}

// canSeeIdentified reports whether p may see pat's identity (the centre tier): the responsible
// clinician, their assistants acting for them, the centre's clinical users when the deployment
// shows patients to the whole centre, and the centre's hospital system.
func (s *Service) canSeeIdentified(p *Principal, pat *Patient) bool {
	v := s.visibility(p)
	if v == nil {
		return true
	}
	return (pat.Clinician.ID != "" && slices.Contains(v.Clinicians, pat.Clinician.ID)) || slices.Contains(v.Centres, pat.Centre)
}

// patient reads a patient for p: not found unless p may see it identified.
func (s *Service) patient(ctx context.Context, p *Principal, id string) (Patient, error) {
	if p == nil {
		return Patient{}, Errorf(KindUnauthenticated, "sign in first")
	}
	pat, err := s.store.Patient(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Patient{}, PatientNotFound
	} else if err != nil {
		return Patient{}, s.storeErr(err, "read the patient")
	}
	if !s.canSeeIdentified(p, &pat) {
		return Patient{}, PatientNotFound
	}
	return pat, nil
}

// Patient returns a patient the principal may see, and audits the access.
func (s *Service) Patient(ctx context.Context, p *Principal, id string, ri RequestInfo) (Patient, error) {
	pat, err := s.patient(ctx, p, id)
	if err != nil {
		return Patient{}, err
	}
	return pat, s.audit(ctx, p, ri, AuditEvent{Action: "patient.read", ObjectType: "patient", ObjectID: pat.ID, PatientID: pat.ID})
}

// PatientByCPMSID finds a patient by CPMS ID, as Patient.
func (s *Service) PatientByCPMSID(ctx context.Context, p *Principal, cpmsID string, ri RequestInfo) (Patient, error) {
	pat, err := s.store.PatientByCPMSID(ctx, cpmsID)
	if errors.Is(err, ErrNotFound) {
		return Patient{}, PatientNotFound
	} else if err != nil {
		return Patient{}, s.storeErr(err, "read the patient")
	}
	return s.Patient(ctx, p, pat.ID, ri)
}

// SearchPatients returns the patients matching f among those the principal may see, and audits
// that each one returned was shown.
func (s *Service) SearchPatients(ctx context.Context, p *Principal, f PatientFilter, ri RequestInfo) ([]Patient, int, error) {
	vis, err := s.searchable(p, f.Sort, PatientSortFields)
	if err != nil {
		return nil, 0, err
	}
	f.Visible, f.Limit = vis, min(f.Limit, 1000)
	pats, total, err := s.store.SearchPatients(ctx, f)
	if err != nil {
		return nil, 0, s.storeErr(err, "search patients")
	}
	return pats, total, s.auditShown(ctx, p, ri, "patient.search", pats)
}

func (s *Service) auditShown(ctx context.Context, p *Principal, ri RequestInfo, action string, pats []Patient) error {
	events := make([]AuditEvent, len(pats))
	for i, pat := range pats {
		events[i] = AuditEvent{Action: action, ObjectType: "patient", ObjectID: pat.ID, PatientID: pat.ID}
	}
	return s.auditAll(ctx, p, ri, events)
}

// auditAll records several events of one request together.
func (s *Service) auditAll(ctx context.Context, p *Principal, ri RequestInfo, events []AuditEvent) error {
	if s.auditor == nil || len(events) == 0 {
		return nil
	}
	for i := range events {
		events[i] = s.auditEvent(p, ri, events[i])
	}
	return s.auditor.RecordAll(ctx, events)
}

// searchable checks a search by p sorted by keys among fields, and returns what p may see.
func (s *Service) searchable(p *Principal, keys []SortKey, fields []string) (*Visibility, error) {
	if p == nil || (p.User == nil && p.System == "" && p.Operator == "") {
		return nil, Errorf(KindUnauthenticated, "sign in first")
	}
	for _, k := range keys {
		if !slices.Contains(fields, k.Field) {
			return nil, Validationf("sort", "cannot sort by "+k.Field)
		}
	}
	return s.visibility(p), nil
}

// UpdateDemographics corrects a patient's identifying fields. ifVersion, when not zero, must be
// the current version (else a conflict with code ErrVersionMismatch).
func (s *Service) UpdateDemographics(ctx context.Context, p *Principal, id string, d Demographics, ifVersion int, ri RequestInfo) (Patient, error) {
	if _, err := s.patient(ctx, p, id); err != nil {
		return Patient{}, err
	}
	now := s.Now()
	var v Validation
	s.checkDemographics(&v, &d, now)
	if err := v.Err(); err != nil {
		return Patient{}, err
	}
	pat, err := s.store.UpdatePatient(ctx, id, func(pat *Patient) error {
		if ifVersion != 0 && pat.Version != ifVersion {
			return Errorf(KindConflict, "the patient was changed meanwhile: read it again").WithCode(ErrVersionMismatch)
		}
		pat.FirstName, pat.LastName, pat.Gender, pat.BirthDate = d.FirstName, d.LastName, d.Gender, d.BirthDate
		pat.RecordLabel, pat.Identifiers = d.RecordLabel, d.Identifiers
		pat.Version++
		pat.UpdatedAt, pat.UpdatedBy = now, p.Actor()
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrConflict) && KindOf(err) != KindConflict {
			return Patient{}, Errorf(KindConflict, "a patient of this ERN already holds that local identifier").WithCode("duplicate")
		}
		return Patient{}, s.storeErr(err, "update the patient")
	}
	return pat, s.audit(ctx, p, ri, AuditEvent{Action: "patient.update", ObjectType: "patient", ObjectID: id, PatientID: id})
}

// SetConsent records a patient's answer to one consent, replacing the previous one of its kind
// (kept in the history). A consent for care that is no longer in force freezes the patient;
// given again, it unfreezes them. ifVersion, when not zero, must be the consent's current version.
func (s *Service) SetConsent(ctx context.Context, p *Principal, patientID string, a ConsentAnswer, ifVersion int, ri RequestInfo) (Patient, Consent, error) {
	cur, err := s.patient(ctx, p, patientID)
	if err != nil {
		return Patient{}, Consent{}, err
	}
	return s.setConsent(ctx, p, cur, a, ifVersion, ri)
}

// setConsent is SetConsent on a patient already read for p.
func (s *Service) setConsent(ctx context.Context, p *Principal, cur Patient, a ConsentAnswer, ifVersion int, ri RequestInfo) (Patient, Consent, error) {
	patientID := cur.ID
	now := s.Now()
	var v Validation
	f := "consents." + string(a.Kind)
	if !a.Kind.Valid() {
		v.Add("kind", "care, registry or research-contact")
	} else if !slices.Contains(cur.Variant.Kinds(), a.Kind) {
		v.Add(f, "not asked in the "+string(cur.Variant)+" consent form")
	} else {
		s.checkConsent(&v, f, &a, now)
	}
	if err := v.Err(); err != nil {
		return Patient{}, Consent{}, err
	}
	var (
		wasFrozen bool
		out       Consent
	)
	pat, err := s.store.UpdatePatient(ctx, patientID, func(pat *Patient) error {
		wasFrozen = pat.Frozen
		i := slices.IndexFunc(pat.Consents, func(c Consent) bool { return c.Kind == a.Kind })
		if i >= 0 && a.ID != "" && pat.Consents[i].ID != a.ID {
			return Errorf(KindConflict, "the patient already has a consent of this kind: update that one")
		}
		if ifVersion != 0 && (i < 0 || pat.Consents[i].Version != ifVersion) {
			return Errorf(KindConflict, "the consent was changed meanwhile: read it again").WithCode(ErrVersionMismatch)
		}
		c := Consent{ID: a.ID, PatientID: pat.ID, Kind: a.Kind, Version: 1}
		if i >= 0 {
			c = pat.Consents[i]
			c.Version++
		} else if c.ID == "" {
			c.ID = s.newID()
		}
		c.Given, c.Date, c.Note, c.Withdrawn, c.WithdrawnOn = a.Given, a.Date, a.Note, a.Withdrawn, a.WithdrawnOn
		c.UpdatedAt, c.UpdatedBy = now, p.Actor()
		if i >= 0 {
			pat.Consents[i] = c
		} else {
			pat.Consents = append(pat.Consents, c)
		}
		out = c
		out.Centre = pat.Centre
		s.applyFreeze(pat, now)
		// The patient's own record changes (a new version) only when it freezes or unfreezes;
		// the consent keeps its own versions.
		if pat.Frozen != wasFrozen {
			pat.Version++
			pat.UpdatedAt, pat.UpdatedBy = now, p.Actor()
		}
		return nil
	})
	if err != nil {
		return Patient{}, Consent{}, s.storeErr(err, "record the consent")
	}
	if err := s.audit(ctx, p, ri, AuditEvent{Action: "consent.update", ObjectType: "consent", ObjectID: out.ID,
		PatientID: pat.ID, Detail: string(out.Kind) + " " + out.Status()}); err != nil {
		return pat, out, err
	}
	return pat, out, s.auditFreeze(ctx, p, ri, wasFrozen, pat)
}

// applyFreeze sets the frozen state from the consent for care.
func (s *Service) applyFreeze(pat *Patient, now time.Time) {
	frozen := !pat.CareConsentInForce()
	if frozen && !pat.Frozen {
		pat.Frozen, pat.FrozenAt = true, &now
	} else if !frozen {
		pat.Frozen, pat.FrozenAt = false, nil
	}
}

func (s *Service) auditFreeze(ctx context.Context, p *Principal, ri RequestInfo, was bool, pat Patient) error {
	switch {
	case pat.Frozen && !was:
		return s.audit(ctx, p, ri, AuditEvent{Action: "patient.freeze", ObjectType: "patient", ObjectID: pat.ID,
			PatientID: pat.ID, Detail: "consent for care withdrawn"})
	case !pat.Frozen && was:
		return s.audit(ctx, p, ri, AuditEvent{Action: "patient.unfreeze", ObjectType: "patient", ObjectID: pat.ID,
			PatientID: pat.ID, Detail: "consent for care given again"})
	}
	return nil
}

// WithdrawConsent takes back a "yes" on date on (empty: today). Withdrawing the consent for care
// freezes the patient.
func (s *Service) WithdrawConsent(ctx context.Context, p *Principal, patientID string, k ConsentKind, on Date, ri RequestInfo) (Patient, Consent, error) {
	cur, err := s.patient(ctx, p, patientID)
	if err != nil {
		return Patient{}, Consent{}, err
	}
	c, ok := cur.Consent(k)
	if !ok || !c.InForce() {
		return Patient{}, Consent{}, Errorf(KindConflict, "there is no consent of this kind in force to withdraw")
	}
	return s.setConsent(ctx, p, cur, ConsentAnswer{ID: c.ID, Kind: k, Given: true, Date: c.Date, Note: c.Note,
		Withdrawn: true, WithdrawnOn: on}, c.Version, ri)
}

// PatientHistory returns every version of a patient's own fields, oldest first.
func (s *Service) PatientHistory(ctx context.Context, p *Principal, id string, ri RequestInfo) ([]Patient, error) {
	if _, err := s.patient(ctx, p, id); err != nil {
		return nil, err
	}
	vs, err := s.store.PatientVersions(ctx, id)
	if err != nil {
		return nil, s.storeErr(err, "read the patient's history")
	}
	return vs, s.audit(ctx, p, ri, AuditEvent{Action: "patient.history", ObjectType: "patient", ObjectID: id, PatientID: id})
}

// ConsentChanges returns every answer a patient's consents have had, oldest first: when each
// was given, changed or withdrawn, and by whom.
func (s *Service) ConsentChanges(ctx context.Context, p *Principal, patientID string, ri RequestInfo) ([]Consent, error) {
	if _, err := s.patient(ctx, p, patientID); err != nil {
		return nil, err
	}
	vs, err := s.store.PatientConsentVersions(ctx, patientID)
	if err != nil {
		return nil, s.storeErr(err, "read the consents' history")
	}
	return vs, s.audit(ctx, p, ri, AuditEvent{Action: "consent.history", ObjectType: "patient", ObjectID: patientID, PatientID: patientID})
}

// Consent returns a consent of a patient the principal may see.
func (s *Service) Consent(ctx context.Context, p *Principal, id string, ri RequestInfo) (Consent, error) {
	c, err := s.store.Consent(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Consent{}, Errorf(KindNotFound, "no such consent")
	} else if err != nil {
		return Consent{}, s.storeErr(err, "read the consent")
	}
	if _, err := s.patient(ctx, p, c.PatientID); err != nil {
		return Consent{}, Errorf(KindNotFound, "no such consent")
	}
	return c, s.audit(ctx, p, ri, AuditEvent{Action: "consent.read", ObjectType: "consent", ObjectID: c.ID, PatientID: c.PatientID})
}

// ConsentHistory returns every version of a consent, oldest first.
func (s *Service) ConsentHistory(ctx context.Context, p *Principal, id string, ri RequestInfo) ([]Consent, error) {
	c, err := s.Consent(ctx, p, id, ri)
	if err != nil {
		return nil, err
	}
	vs, err := s.store.ConsentVersions(ctx, c.ID)
	return vs, s.storeErr(err, "read the consent's history")
}

// SearchConsents returns the consents matching f among those of patients the principal may see.
func (s *Service) SearchConsents(ctx context.Context, p *Principal, f ConsentFilter, ri RequestInfo) ([]Consent, int, error) {
	vis, err := s.searchable(p, f.Sort, ConsentSortFields)
	if err != nil {
		return nil, 0, err
	}
	f.Visible, f.Limit = vis, min(f.Limit, 1000)
	cs, total, err := s.store.SearchConsents(ctx, f)
	if err != nil {
		return nil, 0, s.storeErr(err, "search consents")
	}
	events := make([]AuditEvent, len(cs))
	for i, c := range cs {
		events[i] = AuditEvent{Action: "consent.search", ObjectType: "consent", ObjectID: c.ID, PatientID: c.PatientID}
	}
	return cs, total, s.auditAll(ctx, p, ri, events)
}

// PatientAccessLog is the audit trail of one patient (by ID or CPMS ID): who accessed it, when,
// how. The centre's data-protection officer and the ERN's administrators read it; it shows no
// identity.
func (s *Service) PatientAccessLog(ctx context.Context, p *Principal, id string, limit int, ri RequestInfo) (PseudonymousPatient, []AuditEvent, error) {
	if p == nil || (p.User == nil && p.Operator == "") {
		return PseudonymousPatient{}, nil, Errorf(KindUnauthenticated, "sign in first")
	}
	// The officer does not see the centre's list: the CPMS ID (on a panel, a letter, a
	// request) finds the patient too.
	var pat Patient
	var err error
	if _, _, _, ok := ParseCPMSID(id); ok {
		pat, err = s.store.PatientByCPMSID(ctx, id)
	} else {
		pat, err = s.store.Patient(ctx, id)
	}
	if errors.Is(err, ErrNotFound) {
		return PseudonymousPatient{}, nil, PatientNotFound
	} else if err != nil {
		return PseudonymousPatient{}, nil, s.storeErr(err, "read the patient")
	}
	id = pat.ID
	now := s.Now()
	if Authorize(p, ActPatientAudit, Resource{ERN: pat.ERN, Centre: pat.Centre}, now) != nil &&
		Authorize(p, ActReadAudit, Resource{ERN: pat.ERN}, now) != nil {
		s.audit(ctx, p, ri, AuditEvent{Action: "denied." + string(ActPatientAudit), Outcome: OutcomeMinorFailure,
			ObjectType: "patient", ObjectID: id})
		return PseudonymousPatient{}, nil, PatientNotFound
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	events, err := s.store.AuditEvents(ctx, AuditFilter{PatientID: id, Limit: limit})
	if err != nil {
		return PseudonymousPatient{}, nil, s.storeErr(err, "read the audit trail")
	}
	return Pseudonymise(pat, now), events, s.audit(ctx, p, ri, AuditEvent{Action: "patient.audit-read",
		ObjectType: "patient", ObjectID: id, PatientID: id})
}
