package cpms

import (
	"context"
	"errors"
)

// ImageScopeCentres is the kind of image scope that holds a centre's identified studies.
const ImageScopeCentres = "centres"

// ImageAccess checks that p may use the images of a scope: for "centres/{code}", the centre's
// clinical users (HP, Guest) and its PACS system token (ActDICOMweb). A scope p may not use is
// reported as not found, so that nobody learns which scopes exist. Refusals are audited.
func (s *Service) ImageAccess(ctx context.Context, p *Principal, kind, id string, ri RequestInfo) error {
	switch kind {
	case ImageScopeCentres:
		if p == nil || (p.User == nil && p.System == "" && p.Operator == "") {
			return Errorf(KindUnauthenticated, "sign in first")
		}
		if _, err := s.store.Centre(ctx, id); errors.Is(err, ErrNotFound) {
			return Errorf(KindNotFound, "no such image scope")
		} else if err != nil {
			return s.storeErr(err, "read the centre")
		}
		if err := s.Authorize(ctx, p, ActDICOMweb, Resource{Centre: id}, ri); err != nil {
			if KindOf(err) == KindPermission {
				return Errorf(KindNotFound, "no such image scope")
			}
			return err
		}
		return nil
	}
	return Errorf(KindNotFound, "no such image scope")
}

// AuditImages records events about images (stored, retrieved, searched, deleted) for p, in one
// batch; the answer waits until they are durable.
func (s *Service) AuditImages(ctx context.Context, p *Principal, ri RequestInfo, events []AuditEvent) error {
	return s.auditAll(ctx, p, ri, events)
}

// PatientForImages finds the patient of centre whose local identifier is pid issued by issuer
// (IssuerOfPatientID: an OID, matched as urn:oid:…, or the identifier system itself). It
// returns "" when none or several match: a study is linked only to one certain patient.
func (s *Service) PatientForImages(ctx context.Context, centre, issuer, pid string) (string, error) {
	if pid == "" || issuer == "" {
		return "", nil
	}
	system, ok := NormalizeIdentifierSystem(issuer)
	if !ok {
		system = issuer
	}
	pats, _, err := s.store.SearchPatients(ctx, PatientFilter{Centre: centre,
		Identifier: []LocalIdentifier{{System: system, Value: pid}}, Limit: 2})
	if err != nil {
		return "", s.storeErr(err, "find the patient of a study")
	}
	if len(pats) != 1 {
		return "", nil
	}
	return pats[0].ID, nil
}
