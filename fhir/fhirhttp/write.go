package fhirhttp

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/fhir"
)

// outcome is the result of a create or an update: the status, the resource and its version.
type outcome struct {
	status int
	res    any
	m      *meta
}

// enrolByTransaction is the answer to a Patient created alone.
const enrolByTransaction = "a patient is enrolled together with its consent for care: POST a transaction Bundle to the base URL " +
	"holding this Patient (request POST Patient, fullUrl urn:uuid:…) and its Consent(s) (request POST Consent, patient.reference the " +
	"Patient's urn:uuid), the consent for care among them"

// create answers POST [type], conditional (If-None-Exist) or not.
func (s *Server) create(rq *request, typ string) error {
	data, err := rq.body()
	if err != nil {
		return err
	}
	var out outcome
	switch typ {
	case fhir.TypePatient:
		out, err = s.createPatient(rq, data, rq.r.Header.Get("If-None-Exist"), "Patient")
	case fhir.TypeConsent:
		out, err = s.createConsent(rq, data, rq.r.Header.Get("If-None-Exist"), "Consent")
	}
	if err != nil {
		var fe *fhir.Error
		if errors.As(err, &fe) {
			return err
		}
		loc := fhir.PatientLocator("Patient")
		if typ == fhir.TypeConsent {
			loc = fhir.ConsentLocator("Consent")
		}
		return located(err, loc)
	}
	rq.writeResult(out.status, out.res, out.m)
	return nil
}

// createPatient is a conditional create of a Patient: an existing match is returned, anything
// else is refused (patients are enrolled by transaction). path locates the resource in
// errors.
func (s *Server) createPatient(rq *request, data []byte, ifNoneExist, path string) (outcome, error) {
	if _, err := fhir.DecodePatient(data); err != nil {
		return outcome{}, relocate(err, "Patient", path)
	}
	if ifNoneExist != "" {
		pats, err := s.matchPatients(rq, ifNoneExist)
		if err != nil {
			return outcome{}, err
		}
		switch len(pats) {
		case 0:
		case 1:
			return outcome{http.StatusOK, fhir.Patient(pats[0]), patientMeta(pats[0])}, nil
		default:
			return outcome{}, multipleMatches()
		}
	}
	return outcome{}, fhir.Errorf(http.StatusUnprocessableEntity, fhir.IssueBusinessRule, enrolByTransaction, path)
}

func multipleMatches() error {
	return fhir.Errorf(http.StatusPreconditionFailed, fhir.IssueMultiple, "the If-None-Exist criteria match more than one resource")
}

// matchPatients runs the criteria of a conditional create (strictly: an unknown parameter is
// an error, not a warning), returning at most two matches.
func (s *Server) matchPatients(rq *request, criteria string) ([]cpms.Patient, error) {
	q, err := conditionQuery(criteria)
	if err != nil {
		return nil, err
	}
	f, pg, err := fhir.ParsePatientSearch(q, true)
	if err != nil {
		return nil, err
	}
	if pg.None {
		return nil, nil
	}
	f.Limit, f.Offset, f.Total = 2, 0, false
	pats, _, err := s.svc.SearchPatients(rq.r.Context(), rq.p, f, rq.ri)
	return pats, err
}

func conditionQuery(criteria string) (url.Values, error) {
	criteria = strings.TrimSpace(criteria)
	if i := strings.Index(criteria, "?"); i >= 0 {
		criteria = criteria[i+1:]
	}
	q, err := url.ParseQuery(criteria)
	if err != nil || len(q) == 0 {
		return nil, fhir.Errorf(http.StatusBadRequest, fhir.IssueInvalid, "If-None-Exist holds search parameters, e.g. identifier=system|value")
	}
	for k := range q {
		if strings.HasPrefix(k, "_") && k != "_id" && k != "_lastUpdated" {
			return nil, fhir.Errorf(http.StatusBadRequest, fhir.IssueInvalid, "If-None-Exist holds search criteria only")
		}
	}
	return q, nil
}

// createConsent records a consent of a kind the patient does not have yet.
func (s *Server) createConsent(rq *request, data []byte, ifNoneExist, path string) (outcome, error) {
	ctx := rq.r.Context()
	in, err := fhir.DecodeConsent(data)
	if err != nil {
		return outcome{}, relocate(err, "Consent", path)
	}
	typ, patientID, ok := fhir.ParseReference(in.Patient)
	if !ok || typ != fhir.TypePatient {
		return outcome{}, fhir.Errorf(http.StatusUnprocessableEntity, fhir.IssueValue, "the patient is a reference Patient/{id}", path+".patient")
	}
	if ifNoneExist != "" {
		q, err := conditionQuery(ifNoneExist)
		if err != nil {
			return outcome{}, err
		}
		f, pg, err := fhir.ParseConsentSearch(q, true)
		if err != nil {
			return outcome{}, err
		}
		if !pg.None {
			f.Limit, f.Offset, f.Total = 2, 0, false
			cs, _, err := s.svc.SearchConsents(ctx, rq.p, f, rq.ri)
			if err != nil {
				return outcome{}, err
			}
			switch len(cs) {
			case 0:
			case 1:
				return outcome{http.StatusOK, fhir.Consent(cs[0], cs[0].Centre), consentMeta(cs[0])}, nil
			default:
				return outcome{}, multipleMatches()
			}
		}
	}
	a := in.Answer
	a.ID = s.newID() // a fresh ID: the service refuses it when the patient has a consent of the kind
	pat, c, err := s.svc.SetConsent(ctx, rq.p, patientID, a, 0, rq.ri)
	if cpms.KindOf(err) == cpms.KindConflict {
		return outcome{}, s.consentExists(ctx, rq, patientID, a.Kind, path)
	}
	if err != nil {
		return outcome{}, located(err, fhir.ConsentLocator(path))
	}
	return outcome{http.StatusCreated, fhir.Consent(c, pat.Centre), consentMeta(c)}, nil
}

// consentExists is the conflict of a second consent of a kind, pointing to the one to update.
func (s *Server) consentExists(ctx context.Context, rq *request, patientID string, k cpms.ConsentKind, path string) error {
	msg := "Patient/" + patientID + " already has a consent of this category: change it with PUT"
	cs, _, err := s.svc.SearchConsents(ctx, rq.p, cpms.ConsentFilter{PatientIDs: []string{patientID}, Kinds: []cpms.ConsentKind{k}, Limit: 1}, rq.ri)
	if err == nil && len(cs) == 1 {
		msg += " Consent/" + cs[0].ID
	}
	return fhir.Errorf(http.StatusConflict, fhir.IssueDuplicate, msg, path+".category")
}

// update answers PUT [type]/[id].
func (s *Server) update(rq *request, typ, id string) error {
	data, err := rq.body()
	if err != nil {
		return err
	}
	v, err := ifMatch(rq.r.Header.Get("If-Match"))
	if err != nil {
		return err
	}
	out, err := s.updateResource(rq, typ, id, data, v, typ)
	if err != nil {
		return err
	}
	rq.writeResult(out.status, out.res, out.m)
	return nil
}

// updateResource updates a Patient or a Consent; ifVersion 0 means unconditionally; path
// locates the resource in errors.
func (s *Server) updateResource(rq *request, typ, id string, data []byte, ifVersion int, path string) (outcome, error) {
	if !fhir.ValidID(id) {
		return outcome{}, noUpdateCreate(typ)
	}
	switch typ {
	case fhir.TypePatient:
		return s.updatePatient(rq, id, data, ifVersion, path)
	case fhir.TypeConsent:
		return s.updateConsent(rq, id, data, ifVersion, path)
	}
	return outcome{}, noUpdateCreate(typ)
}

// noUpdateCreate answers an update of a resource that does not exist (or is not visible: the
// two are not told apart). The server does not create by update.
func noUpdateCreate(typ string) error {
	msg := "no " + typ + " with this id that you may see; this server does not create resources by update (updateCreate is false)"
	if typ == fhir.TypePatient {
		msg += ": " + enrolByTransaction
	} else {
		msg += ": POST the Consent"
	}
	return fhir.Errorf(http.StatusMethodNotAllowed, fhir.IssueNotSupported, msg)
}

func idMismatch(path, id string) error {
	return fhir.Errorf(http.StatusBadRequest, fhir.IssueInvalid, "the resource's id must be the id of the URL ("+id+")", path+".id")
}

func (s *Server) updatePatient(rq *request, id string, data []byte, ifVersion int, path string) (outcome, error) {
	ctx := rq.r.Context()
	in, err := fhir.DecodePatient(data)
	if err != nil {
		return outcome{}, relocate(err, "Patient", path)
	}
	if in.ID != id {
		return outcome{}, idMismatch(path, id)
	}
	cur, err := s.svc.Patient(ctx, rq.p, id, rq.ri)
	if cpms.KindOf(err) == cpms.KindNotFound {
		return outcome{}, noUpdateCreate(fhir.TypePatient)
	} else if err != nil {
		return outcome{}, err
	}
	// What an update does not change must stay as it is: a transfer moves a patient, the
	// enrolment's date, network and consent form are history.
	var is []fhir.Issue
	fixed := func(changed bool, where, what string) {
		if changed {
			is = append(is, fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueBusinessRule, Diagnostics: what, Expression: []string{where}})
		}
	}
	fixed(in.Centre != "" && in.Centre != cur.Centre, path+".managingOrganization", "the centre changes only by a transfer")
	fixed(in.ERN != "" && in.ERN != cur.ERN, path+".extension('"+fhir.ExtERN+"')", "the ERN of an enrolment does not change")
	fixed(in.EnrolledOn != "" && in.EnrolledOn != cur.EnrolledOn, path+".extension('"+fhir.ExtEnrolmentDate+"')", "the enrolment date does not change")
	fixed(in.Variant != "" && in.Variant != cur.Variant, path+".extension('"+fhir.ExtConsentVariant+"')", "the consent form of an enrolment does not change")
	fixed(in.Clinician != "" && in.Clinician != cur.EnrolledBy.ID && in.Clinician != cur.EnrolledBy.Username, path+".extension('"+fhir.ExtEnrollingClinician+"')",
		"the enrolling clinician does not change")
	if len(is) > 0 {
		return outcome{}, &fhir.Error{Status: http.StatusUnprocessableEntity, Issues: is}
	}
	pat, err := s.svc.UpdateDemographics(ctx, rq.p, id, in.Demographics, ifVersion, rq.ri)
	if err != nil {
		return outcome{}, located(err, fhir.PatientLocator(path))
	}
	return outcome{http.StatusOK, fhir.Patient(pat), patientMeta(pat)}, nil
}

func (s *Server) updateConsent(rq *request, id string, data []byte, ifVersion int, path string) (outcome, error) {
	ctx := rq.r.Context()
	in, err := fhir.DecodeConsent(data)
	if err != nil {
		return outcome{}, relocate(err, "Consent", path)
	}
	if in.ID != id {
		return outcome{}, idMismatch(path, id)
	}
	cur, err := s.svc.Consent(ctx, rq.p, id, rq.ri)
	if cpms.KindOf(err) == cpms.KindNotFound {
		return outcome{}, noUpdateCreate(fhir.TypeConsent)
	} else if err != nil {
		return outcome{}, err
	}
	var is []fhir.Issue
	if in.Answer.Kind != cur.Kind {
		is = append(is, fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueBusinessRule,
			Diagnostics: "a consent does not change category: record the other consent with POST", Expression: []string{path + ".category"}})
	}
	if typ, pid, ok := fhir.ParseReference(in.Patient); !ok || typ != fhir.TypePatient || pid != cur.PatientID {
		is = append(is, fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueBusinessRule,
			Diagnostics: "a consent stays with its patient (Patient/" + cur.PatientID + ")", Expression: []string{path + ".patient"}})
	}
	if len(is) > 0 {
		return outcome{}, &fhir.Error{Status: http.StatusUnprocessableEntity, Issues: is}
	}
	a := in.Answer
	a.ID = id
	pat, c, err := s.svc.SetConsent(ctx, rq.p, cur.PatientID, a, ifVersion, rq.ri)
	if err != nil {
		return outcome{}, located(err, fhir.ConsentLocator(path))
	}
	return outcome{http.StatusOK, fhir.Consent(c, pat.Centre), consentMeta(c)}, nil
}

// relocate moves the expressions of a mapping error from the resource's root (e.g.
// "Patient") to where it sits (e.g. "Bundle.entry[0].resource").
func relocate(err error, from, to string) error {
	var fe *fhir.Error
	if from == to || !errors.As(err, &fe) {
		return err
	}
	out := &fhir.Error{Status: fe.Status, Issues: make([]fhir.Issue, len(fe.Issues))}
	for i, is := range fe.Issues {
		is.Expression = append([]string(nil), is.Expression...)
		for j, e := range is.Expression {
			if e == from || strings.HasPrefix(e, from+".") {
				is.Expression[j] = to + strings.TrimPrefix(e, from)
			} else if e == "resourceType" {
				is.Expression[j] = to + ".resourceType"
			}
		}
		out.Issues[i] = is
	}
	return out
}

// located turns a domain validation error into its FHIR form, with the FHIRPath of each field;
// other errors pass as they are (a server failure keeps its cause for the log).
func located(err error, loc fhir.Locator) error {
	if cpms.KindOf(err) == cpms.KindInvalid {
		return fhir.Outcome(err, loc)
	}
	return err
}
