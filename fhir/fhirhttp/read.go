package fhirhttp

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	r4 "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/fhir"
)

func patientMeta(p cpms.Patient) *meta {
	return &meta{typ: fhir.TypePatient, id: p.ID, version: p.Version, updated: p.UpdatedAt}
}

func consentMeta(c cpms.Consent) *meta {
	return &meta{typ: fhir.TypeConsent, id: c.ID, version: c.Version, updated: c.UpdatedAt}
}

func notFound(typ, id string) error {
	return fhir.Errorf(http.StatusNotFound, fhir.IssueNotFound, typ+"/"+id+" is not known here (or not visible to you)")
}

// read answers GET [type]/[id].
func (s *Server) read(rq *request, typ, id string) error {
	if !fhir.ValidID(id) {
		return notFound(typ, safe(id))
	}
	ctx := rq.r.Context()
	switch typ {
	case fhir.TypePatient:
		pat, err := s.svc.Patient(ctx, rq.p, id, rq.ri)
		if err != nil {
			return err
		}
		m := patientMeta(pat)
		if !rq.notModified(m) {
			rq.write(http.StatusOK, fhir.Patient(pat), m)
		}
	case fhir.TypeConsent:
		c, err := s.svc.Consent(ctx, rq.p, id, rq.ri)
		if err != nil {
			return err
		}
		m := consentMeta(c)
		if rq.notModified(m) {
			return nil
		}
		rq.write(http.StatusOK, fhir.Consent(c, c.Centre), m)
	case fhir.TypeOrganization:
		org, err := s.organization(ctx, id)
		if err != nil {
			return err
		}
		rq.write(http.StatusOK, org, nil)
	case fhir.TypePractitioner:
		u, err := s.svc.Practitioner(ctx, rq.p, id)
		if cpms.KindOf(err) == cpms.KindNotFound {
			return notFound(typ, id)
		} else if err != nil {
			return err
		}
		rq.write(http.StatusOK, fhir.Practitioner(u), nil)
	}
	return nil
}

// notModified answers 304 when If-None-Match names the current version.
func (rq *request) notModified(m *meta) bool {
	inm := rq.r.Header.Get("If-None-Match")
	if inm == "" {
		return false
	}
	for _, t := range strings.Split(inm, ",") {
		if v, ok := parseETag(t); ok && v == m.version {
			rq.w.Header().Set("ETag", m.etag())
			rq.w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	return false
}

// parseETag reads W/"3", "3" or 3.
func parseETag(s string) (int, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "W/")
	s = strings.Trim(s, `"`)
	v, err := strconv.Atoi(s)
	return v, err == nil && v > 0
}

// ifMatch reads the version an update is conditional on: 0 without If-Match.
func ifMatch(h string) (int, error) {
	h = strings.TrimSpace(h)
	if h == "" || h == "*" {
		return 0, nil
	}
	v, ok := parseETag(h)
	if !ok {
		return 0, fhir.Errorf(http.StatusBadRequest, fhir.IssueInvalid, `If-Match names a version: W/"3"`)
	}
	return v, nil
}

// patients reads the patients with these IDs that the principal sees, for _include.
func (s *Server) patients(ctx context.Context, rq *request, ids []string) ([]cpms.Patient, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	pats, _, err := s.svc.SearchPatients(ctx, rq.p, cpms.PatientFilter{IDs: ids, Limit: len(ids)}, rq.ri)
	return pats, err
}

// organization finds a centre or a network by code (a centre first, should the codes clash).
func (s *Server) organization(ctx context.Context, id string) (r4.Organization, error) {
	erns, centres, err := s.svc.ERNs(ctx)
	if err != nil {
		return r4.Organization{}, err
	}
	for _, c := range centres {
		if c.Code == id {
			return fhir.CentreOrganization(c), nil
		}
	}
	for _, e := range erns {
		if e.Code == id {
			return fhir.ERNOrganization(e), nil
		}
	}
	return r4.Organization{}, notFound(fhir.TypeOrganization, id)
}

// vread answers GET [type]/[id]/_history/[vid].
func (s *Server) vread(rq *request, typ, id string, v int) error {
	if !fhir.ValidID(id) {
		return notFound(typ, safe(id))
	}
	ctx := rq.r.Context()
	noVersion := fhir.Errorf(http.StatusNotFound, fhir.IssueNotFound, typ+"/"+id+" has no version "+strconv.Itoa(v))
	switch typ {
	case fhir.TypePatient:
		vs, err := s.svc.PatientHistory(ctx, rq.p, id, rq.ri)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(vs, func(p cpms.Patient) bool { return p.Version == v })
		if i < 0 {
			return noVersion
		}
		rq.write(http.StatusOK, fhir.Patient(vs[i]), patientMeta(vs[i]))
	case fhir.TypeConsent:
		vs, err := s.svc.ConsentHistory(ctx, rq.p, id, rq.ri)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(vs, func(c cpms.Consent) bool { return c.Version == v })
		if i < 0 {
			return noVersion
		}
		rq.write(http.StatusOK, fhir.Consent(vs[i], vs[i].Centre), consentMeta(vs[i]))
	}
	return nil
}

// history answers GET [type]/[id]/_history: every version, newest first.
func (s *Server) history(rq *request, typ, id string) error {
	if !fhir.ValidID(id) {
		return notFound(typ, safe(id))
	}
	ctx := rq.r.Context()
	b := r4.Bundle{Type: r4.BundleTypeHistory, Link: []r4.BundleLink{{Relation: "self", Url: rq.base + "/" + typ + "/" + id + "/_history"}}}
	add := func(res any, m *meta) error {
		e, err := entry(rq.base, res, m)
		if err != nil {
			return err
		}
		e.Request = &r4.BundleEntryRequest{Method: r4.HTTPVerbPUT, Url: typ + "/" + id}
		status := "200 OK"
		if m.version == 1 {
			e.Request = &r4.BundleEntryRequest{Method: r4.HTTPVerbPOST, Url: typ}
			status = "201 Created"
		}
		e.Response = &r4.BundleEntryResponse{Status: status, Etag: ptr(m.etag()), LastModified: ptr(fhir.Instant(m.updated))}
		b.Entry = append(b.Entry, e)
		return nil
	}
	switch typ {
	case fhir.TypePatient:
		vs, err := s.svc.PatientHistory(ctx, rq.p, id, rq.ri)
		if err != nil {
			return err
		}
		for _, v := range slices.Backward(vs) {
			if err := add(fhir.Patient(v), patientMeta(v)); err != nil {
				return err
			}
		}
	case fhir.TypeConsent:
		vs, err := s.svc.ConsentHistory(ctx, rq.p, id, rq.ri)
		if err != nil {
			return err
		}
		for _, v := range slices.Backward(vs) {
			if err := add(fhir.Consent(v, v.Centre), consentMeta(v)); err != nil {
				return err
			}
		}
	}
	b.Total = ptr(len(b.Entry))
	rq.write(http.StatusOK, b, nil)
	return nil
}

// entry is a Bundle entry holding the resource, with its fullUrl.
func entry(base string, res any, m *meta) (r4.BundleEntry, error) {
	raw, err := marshal(res)
	if err != nil {
		return r4.BundleEntry{}, err
	}
	e := r4.BundleEntry{Resource: raw}
	if m != nil {
		e.FullUrl = ptr(base + "/" + m.typ + "/" + m.id)
	}
	return e, nil
}

func ptr[T any](v T) *T { return &v }
