package fhirhttp

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	r4 "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/fhir"
)

func marshal(v any) (json.RawMessage, error) { return json.Marshal(v) }

// searchset builds a search result Bundle.
type searchset struct {
	s     *Server
	rq    *request
	typ   string
	pg    fhir.Page
	total int
	b     r4.Bundle
	seen  map[string]bool // fullUrls already in the Bundle
}

func (s *Server) newSearchset(rq *request, typ string, pg fhir.Page) *searchset {
	return &searchset{s: s, rq: rq, typ: typ, pg: pg, b: r4.Bundle{Type: r4.BundleTypeSearchset}, seen: map[string]bool{}}
}

func (ss *searchset) add(res any, m *meta, mode r4.SearchEntryMode) error {
	if m != nil {
		key := m.typ + "/" + m.id
		if ss.seen[key] {
			return nil
		}
		ss.seen[key] = true
	}
	e, err := entry(ss.rq.base, res, m)
	if err != nil {
		return err
	}
	e.Search = &r4.BundleEntrySearch{Mode: ptr(mode)}
	ss.b.Entry = append(ss.b.Entry, e)
	return nil
}

// link is the URL of the page at offset: the search sealed, see pageLink.
func (ss *searchset) link(offset int) (string, error) {
	return ss.s.pageLink(ss.rq.r.Context(), ss.rq.base, ss.typ, ss.pg.Query, ss.pg.Count, offset)
}

// write finishes the Bundle: total, paging links, warnings.
func (ss *searchset) write() error {
	pg := ss.pg
	if pg.Total {
		ss.b.Total = ptr(ss.total)
	}
	links := []struct {
		rel    string
		offset int
		ok     bool
	}{
		{"self", pg.Offset, true},
		{"first", 0, pg.Count > 0},
		{"previous", max(0, pg.Offset-pg.Count), pg.Count > 0 && pg.Offset > 0},
		{"next", pg.Offset + pg.Count, pg.Count > 0 && pg.Offset+pg.Count < ss.total},
		{"last", 0, pg.Count > 0 && ss.total > 0},
	}
	for _, l := range links {
		if !l.ok {
			continue
		}
		if l.rel == "last" {
			l.offset = (ss.total - 1) / pg.Count * pg.Count
		}
		u, err := ss.link(l.offset)
		if err != nil {
			return err
		}
		ss.b.Link = append(ss.b.Link, r4.BundleLink{Relation: l.rel, Url: u})
	}
	if len(pg.Warnings) > 0 {
		raw, err := marshal(fhir.OperationOutcome(pg.Warnings...))
		if err == nil {
			ss.b.Entry = append(ss.b.Entry, r4.BundleEntry{Resource: raw, Search: &r4.BundleEntrySearch{Mode: ptr(r4.SearchEntryModeOutcome)}})
		}
	}
	ss.rq.write(http.StatusOK, ss.b, nil)
	return nil
}

// search answers a type-level search (GET [type]?…, POST [type]/_search).
func (s *Server) search(rq *request, typ string, q url.Values) error {
	ctx := rq.r.Context()
	q, err := s.pageQuery(ctx, typ, q)
	if err != nil {
		return err
	}
	switch typ {
	case fhir.TypePatient:
		f, pg, err := fhir.ParsePatientSearch(q, rq.strict())
		if err != nil {
			return err
		}
		ss := s.newSearchset(rq, typ, pg)
		if !pg.None {
			pats, total, err := s.svc.SearchPatients(ctx, rq.p, f, rq.ri)
			if err != nil {
				return err
			}
			ss.total = total
			for _, p := range pats {
				if err := ss.add(fhir.Patient(p), patientMeta(p), r4.SearchEntryModeMatch); err != nil {
					return err
				}
			}
		}
		return ss.write()
	case fhir.TypeConsent:
		f, pg, err := fhir.ParseConsentSearch(q, rq.strict())
		if err != nil {
			return err
		}
		ss := s.newSearchset(rq, typ, pg)
		if !pg.None {
			cs, total, err := s.svc.SearchConsents(ctx, rq.p, f, rq.ri)
			if err != nil {
				return err
			}
			ss.total = total
			for _, c := range cs {
				if err := ss.add(fhir.Consent(c, c.Centre), consentMeta(c), r4.SearchEntryModeMatch); err != nil {
					return err
				}
			}
			if slices.Contains(pg.Include, "Consent:patient") {
				var ids []string
				for _, c := range cs {
					if !slices.Contains(ids, c.PatientID) {
						ids = append(ids, c.PatientID)
					}
				}
				pats, err := s.patients(ctx, rq, ids)
				if err != nil {
					return err
				}
				for _, p := range pats {
					if err := ss.add(fhir.Patient(p), patientMeta(p), r4.SearchEntryModeInclude); err != nil {
						return err
					}
				}
			}
		}
		return ss.write()
	case fhir.TypeOrganization, fhir.TypePractitioner:
		return s.searchDirectory(rq, typ, q)
	}
	return nil
}

// searchDirectory searches centres and networks, or users. The lists are small: they are
// filtered and paged here.
func (s *Server) searchDirectory(rq *request, typ string, q url.Values) error {
	ctx := rq.r.Context()
	f, pg, err := fhir.ParseDirectorySearch(typ, q, rq.strict())
	if err != nil {
		return err
	}
	ss := s.newSearchset(rq, typ, pg)
	type item struct {
		res any
		m   *meta
	}
	var all []item
	nameMatches := func(names ...string) bool {
		if len(f.Names) == 0 {
			return true
		}
		for _, want := range f.Names {
			w := cpms.NormalizeName(want)
			for _, n := range names {
				n = cpms.NormalizeName(n)
				if typ == fhir.TypeOrganization && strings.HasPrefix(n, w) || typ == fhir.TypePractitioner && strings.Contains(n, w) {
					return true
				}
			}
		}
		return false
	}
	idMatches := func(id string) bool { return len(f.IDs) == 0 || slices.Contains(f.IDs, id) }
	if !pg.None {
		switch typ {
		case fhir.TypeOrganization:
			erns, centres, err := s.svc.ERNs(ctx)
			if err != nil {
				return err
			}
			for _, c := range centres {
				if idMatches(c.Code) && nameMatches(c.Name, c.Code) {
					all = append(all, item{fhir.CentreOrganization(c), &meta{typ: typ, id: c.Code}})
				}
			}
			for _, e := range erns {
				if idMatches(e.Code) && nameMatches(e.Name, e.Code) && !slices.ContainsFunc(centres, func(c cpms.Centre) bool { return c.Code == e.Code }) {
					all = append(all, item{fhir.ERNOrganization(e), &meta{typ: typ, id: e.Code}})
				}
			}
		case fhir.TypePractitioner:
			uf := cpms.UserFilter{}
			if len(f.Usernames) == 1 {
				uf.Query = f.Usernames[0]
			} else if len(f.Names) == 1 {
				uf.Query = f.Names[0]
			}
			us, err := s.svc.Practitioners(ctx, rq.p, uf)
			if err != nil {
				return err
			}
			for _, u := range us {
				if idMatches(u.ID) && nameMatches(u.DisplayName, u.Username) && (len(f.Usernames) == 0 || slices.Contains(f.Usernames, u.Username)) {
					all = append(all, item{fhir.Practitioner(u), &meta{typ: typ, id: u.ID}})
				}
			}
		}
	}
	ss.total = len(all)
	for _, it := range all[min(pg.Offset, len(all)):min(pg.Offset+pg.Count, len(all))] {
		if err := ss.add(it.res, it.m, r4.SearchEntryModeMatch); err != nil {
			return err
		}
	}
	return ss.write()
}
