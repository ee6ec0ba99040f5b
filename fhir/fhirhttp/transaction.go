package fhirhttp

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	r4 "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/fhir"
)

// shapes says which transactions the server takes: each is one atomic change in the service.
const shapes = "a transaction holds either an enrolment — one Patient (request POST Patient, fullUrl urn:uuid:…) and its " +
	"Consents (request POST Consent, patient.reference that urn:uuid), the consent for care among them — or exactly one entry: " +
	"POST Consent for an existing Patient/{id}, PUT Patient/{id} or PUT Consent/{id}; batch Bundles are not supported"

// txEntry is an entry of a transaction Bundle.
type txEntry struct {
	i                    int
	path                 string // Bundle.entry[i].resource
	method, typ, id      string
	fullURL              string
	resource             json.RawMessage
	ifNoneExist, ifMatch string
}

func badEntry(i int, msg string) error {
	return fhir.Errorf(http.StatusBadRequest, fhir.IssueInvalid, msg, "Bundle.entry["+strconv.Itoa(i)+"]")
}

// transaction answers POST [base] with a transaction Bundle.
func (s *Server) transaction(rq *request) error {
	data, err := rq.body()
	if err != nil {
		return err
	}
	if rt, err := fhir.ResourceType(data); err != nil {
		return err
	} else if rt != "Bundle" {
		return fhir.Errorf(http.StatusBadRequest, fhir.IssueInvalid, "the base URL takes a transaction Bundle: "+shapes)
	}
	b, err := fhir.DecodeBundle(data)
	if err != nil {
		return err
	}
	switch b.Type {
	case r4.BundleTypeTransaction:
	case r4.BundleTypeBatch:
		return fhir.Errorf(http.StatusBadRequest, fhir.IssueNotSupported, "batch is not supported: "+shapes, "Bundle.type")
	default:
		return fhir.Errorf(http.StatusBadRequest, fhir.IssueInvalid, "the base URL takes a transaction Bundle", "Bundle.type")
	}
	var entries []txEntry
	for i, e := range b.Entry {
		te := txEntry{i: i, path: "Bundle.entry[" + strconv.Itoa(i) + "].resource", resource: e.Resource}
		if e.FullUrl != nil {
			te.fullURL = *e.FullUrl
		}
		if e.Request == nil {
			return badEntry(i, "each entry of a transaction has a request")
		}
		req := e.Request
		te.ifNoneExist, te.ifMatch = deref(req.IfNoneExist), deref(req.IfMatch)
		if req.IfNoneMatch != nil || req.IfModifiedSince != nil {
			return badEntry(i, "ifNoneMatch and ifModifiedSince are not supported")
		}
		u := strings.TrimPrefix(strings.TrimPrefix(req.Url, rq.base), "/")
		switch req.Method {
		case r4.HTTPVerbPOST:
			te.method, te.typ = "POST", u
			if u != fhir.TypePatient && u != fhir.TypeConsent {
				return badEntry(i, "POST Patient or POST Consent: "+shapes)
			}
		case r4.HTTPVerbPUT:
			te.method = "PUT"
			typ, id, ok := strings.Cut(u, "/")
			if !ok || (typ != fhir.TypePatient && typ != fhir.TypeConsent) || !fhir.ValidID(id) {
				return badEntry(i, "PUT Patient/{id} or PUT Consent/{id}: "+shapes)
			}
			te.typ, te.id = typ, id
		default:
			return badEntry(i, req.Method.Code()+" is not supported in a transaction: "+shapes)
		}
		if len(e.Resource) == 0 {
			return badEntry(i, "a "+te.method+" entry holds its resource")
		}
		if rt, err := fhir.ResourceType(e.Resource); err != nil {
			return relocate(err, "resourceType", te.path+".resourceType")
		} else if rt != te.typ {
			return fhir.Errorf(http.StatusBadRequest, fhir.IssueInvalid, "the resource is not a "+te.typ+" as its request says", te.path+".resourceType")
		}
		entries = append(entries, te)
	}
	var patients, consents []txEntry
	for _, e := range entries {
		switch {
		case e.method == "POST" && e.typ == fhir.TypePatient:
			patients = append(patients, e)
		case e.method == "POST" && e.typ == fhir.TypeConsent:
			consents = append(consents, e)
		}
	}
	var results []outcome
	switch {
	case len(patients) == 1 && len(patients)+len(consents) == len(entries) && (len(entries) > 1 || patients[0].fullURL != ""):
		results, err = s.enrol(rq, patients[0], consents)
	case len(entries) == 1:
		results, err = s.single(rq, entries[0])
	case len(entries) == 0:
		return fhir.Errorf(http.StatusBadRequest, fhir.IssueInvalid, "the transaction is empty: "+shapes, "Bundle.entry")
	default:
		return fhir.Errorf(http.StatusBadRequest, fhir.IssueNotSupported, shapes, "Bundle.entry")
	}
	if err != nil {
		return err
	}
	out := r4.Bundle{Type: r4.BundleTypeTransactionResponse}
	minimal := rq.prefer("return") == "minimal"
	for _, res := range results {
		e := r4.BundleEntry{Response: &r4.BundleEntryResponse{Status: strconv.Itoa(res.status) + " " + http.StatusText(res.status),
			Etag: ptr(res.m.etag()), LastModified: ptr(fhir.Instant(res.m.updated))}}
		if res.status == http.StatusCreated || res.status == http.StatusOK {
			e.Response.Location = ptr(res.m.location(rq.base))
		}
		if !minimal {
			withRes, err := entry(rq.base, res.res, res.m)
			if err != nil {
				return err
			}
			e.FullUrl, e.Resource = withRes.FullUrl, withRes.Resource
		}
		out.Entry = append(out.Entry, e)
	}
	rq.write(http.StatusOK, out, nil)
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// single runs a transaction of one entry.
func (s *Server) single(rq *request, e txEntry) ([]outcome, error) {
	var (
		out outcome
		err error
	)
	switch {
	case e.method == "POST" && e.typ == fhir.TypePatient:
		out, err = s.createPatient(rq, e.resource, e.ifNoneExist, e.path)
	case e.method == "POST":
		out, err = s.createConsent(rq, e.resource, e.ifNoneExist, e.path)
	default:
		if e.ifNoneExist != "" {
			return nil, badEntry(e.i, "ifNoneExist goes with POST")
		}
		var v int
		if v, err = ifMatch(e.ifMatch); err == nil {
			out, err = s.updateResource(rq, e.typ, e.id, e.resource, v, e.path)
		}
	}
	if err != nil {
		return nil, err
	}
	return []outcome{out}, nil
}

// enrol runs the enrolment transaction: one Service.Enrol call, which stores the patient and
// its consents in one database transaction.
func (s *Server) enrol(rq *request, pe txEntry, ces []txEntry) ([]outcome, error) {
	ctx := rq.r.Context()
	if !strings.HasPrefix(pe.fullURL, "urn:uuid:") {
		return nil, fhir.Errorf(http.StatusBadRequest, fhir.IssueInvalid, "the Patient entry of an enrolment has a fullUrl urn:uuid:… that its Consents reference",
			"Bundle.entry["+strconv.Itoa(pe.i)+"].fullUrl")
	}
	if pe.ifMatch != "" {
		return nil, badEntry(pe.i, "ifMatch goes with PUT")
	}
	// Read every resource and report all their problems at once.
	var problems []error
	in, err := fhir.DecodePatient(pe.resource)
	if err != nil {
		problems = append(problems, relocate(err, "Patient", pe.path))
	}
	var answers []cpms.ConsentAnswer
	paths := map[cpms.ConsentKind]string{}
	for _, ce := range ces {
		if ce.ifNoneExist != "" || ce.ifMatch != "" {
			return nil, badEntry(ce.i, "the Consents of an enrolment are not conditional: put ifNoneExist on the Patient entry")
		}
		c, err := fhir.DecodeConsent(ce.resource)
		if err != nil {
			problems = append(problems, relocate(err, "Consent", ce.path))
			continue
		}
		if c.Patient != pe.fullURL {
			return nil, fhir.Errorf(http.StatusBadRequest, fhir.IssueInvalid, "each Consent of an enrolment references the Patient entry's fullUrl: "+shapes,
				ce.path+".patient")
		}
		answers = append(answers, c.Answer)
		if _, ok := paths[c.Answer.Kind]; !ok {
			paths[c.Answer.Kind] = ce.path
		}
	}
	if err := merge(problems); err != nil {
		return nil, err
	}
	if len(ces) == 0 {
		return nil, fhir.Errorf(http.StatusUnprocessableEntity, fhir.IssueBusinessRule, enrolByTransaction, "Bundle.entry")
	}
	if pe.ifNoneExist != "" {
		pats, err := s.matchPatients(rq, pe.ifNoneExist)
		if err != nil {
			return nil, err
		}
		switch len(pats) {
		case 0:
		case 1:
			return s.enrolled(pats[0], answers)
		default:
			return nil, multipleMatches()
		}
	}
	e := in.Enrolment()
	e.Consents = answers
	loc := fhir.EnrolmentLocator(pe.path, paths)
	if in.Clinician != "" && !in.ByUsername {
		u, err := s.svc.Practitioner(ctx, rq.p, in.Clinician)
		if cpms.KindOf(err) == cpms.KindNotFound {
			return nil, fhir.Outcome(cpms.Validationf("clinician", "no such practitioner"), loc)
		} else if err != nil {
			return nil, err
		}
		e.Clinician = u.Username
	}
	pat, err := s.svc.Enrol(ctx, rq.p, e, rq.ri)
	if err != nil {
		return nil, located(err, loc)
	}
	out := []outcome{{http.StatusCreated, fhir.Patient(pat), patientMeta(pat)}}
	for _, a := range answers {
		c, _ := pat.Consent(a.Kind)
		out = append(out, outcome{http.StatusCreated, fhir.Consent(c, pat.Centre), consentMeta(c)})
	}
	return out, nil
}

// enrolled answers an enrolment whose Patient matched its ifNoneExist: nothing is written;
// the patient and its consents of the kinds in the Bundle come back with 200.
func (s *Server) enrolled(pat cpms.Patient, answers []cpms.ConsentAnswer) ([]outcome, error) {
	out := []outcome{{http.StatusOK, fhir.Patient(pat), patientMeta(pat)}}
	for _, a := range answers {
		c, ok := pat.Consent(a.Kind)
		if !ok {
			return nil, fhir.Errorf(http.StatusConflict, fhir.IssueConflict, "the patient matching ifNoneExist (Patient/"+pat.ID+
				") has no "+string(a.Kind)+" consent: record it with POST Consent")
		}
		out = append(out, outcome{http.StatusOK, fhir.Consent(c, pat.Centre), consentMeta(c)})
	}
	return out, nil
}

// merge joins the FHIR errors of several resources into one answer: 400 when one of them
// could not be read, else 422.
func merge(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	out := &fhir.Error{Status: http.StatusUnprocessableEntity}
	for _, err := range errs {
		var fe *fhir.Error
		if !errors.As(err, &fe) {
			return err
		}
		out.Issues = append(out.Issues, fe.Issues...)
		if fe.Status != http.StatusUnprocessableEntity {
			out.Status = min(out.Status, fe.Status)
		}
	}
	if slices.ContainsFunc(out.Issues, func(is fhir.Issue) bool { return is.Code == fhir.IssueStructure }) {
		out.Status = http.StatusBadRequest
	}
	return out
}
