package cpms

import (
	"context"
	"errors"
	"time"
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

// ImageStudy is a study of the image store as the workflow shows it beside a patient.
type ImageStudy struct {
	Scope        string    `json:"scope"` // "centres/BE10"
	StudyUID     string    `json:"studyUid"`
	Date         string    `json:"date,omitempty"` // YYYYMMDD as in DICOM
	Description  string    `json:"description,omitempty"`
	Modalities   []string  `json:"modalities"`
	Series       int       `json:"series"`
	Instances    int       `json:"instances"`
	PatientRef   string    `json:"patientId,omitempty"`
	LastStoredAt time.Time `json:"lastStoredAt"`
	// PatientName and PatientID are what the images say (centre tier only): they help a
	// clinician link an unlinked study by hand.
	PatientName string `json:"patientName,omitempty"`
	PatientID   string `json:"patientIdentifier,omitempty"`
}

// ImageCatalog is the image store's index as the workflow needs it (a port: the DICOMweb
// store implements it, wired in cmd/cpms).
type ImageCatalog interface {
	StudiesOfPatient(ctx context.Context, patientID string) ([]ImageStudy, error)
	UnlinkedStudies(ctx context.Context, centre string, limit int) ([]ImageStudy, error)
	// LinkStudy links a study of a centre to a patient ("" unlinks); ErrNotFound when the
	// centre holds no such study.
	LinkStudy(ctx context.Context, centre, studyUID, patientID string) error
}

// PatientStudies lists the studies linked to a patient the principal may see.
func (s *Service) PatientStudies(ctx context.Context, p *Principal, patientID string, ri RequestInfo) ([]ImageStudy, error) {
	pat, err := s.patient(ctx, p, patientID)
	if err != nil {
		return nil, err
	}
	if s.cfg.Images == nil {
		return []ImageStudy{}, nil
	}
	studies, err := s.cfg.Images.StudiesOfPatient(ctx, pat.ID)
	if err != nil {
		return nil, s.storeErr(err, "list the patient's studies")
	}
	return studies, s.audit(ctx, p, ri, AuditEvent{Action: "images.list", ObjectType: "patient", ObjectID: pat.ID, PatientID: pat.ID})
}

// UnlinkedStudies lists a centre's studies that belong to no enrolled patient yet, for the
// centre's clinical users (and its PACS) to link by hand.
func (s *Service) UnlinkedStudies(ctx context.Context, p *Principal, centre string, ri RequestInfo) ([]ImageStudy, error) {
	if err := s.ImageAccess(ctx, p, ImageScopeCentres, centre, ri); err != nil {
		return nil, err
	}
	if s.cfg.Images == nil {
		return []ImageStudy{}, nil
	}
	studies, err := s.cfg.Images.UnlinkedStudies(ctx, centre, 200)
	if err != nil {
		return nil, s.storeErr(err, "list the unlinked studies")
	}
	events := make([]AuditEvent, len(studies))
	for i, st := range studies {
		events[i] = AuditEvent{Action: "images.list", ObjectType: "study", ObjectID: st.Scope + "/" + st.StudyUID}
	}
	return studies, s.auditAll(ctx, p, ri, events)
}

// LinkStudy links a study of a centre to one of the centre's patients (patientID "" unlinks):
// for a user who may use the centre's images and see the patient.
func (s *Service) LinkStudy(ctx context.Context, p *Principal, centre, studyUID, patientID string, ri RequestInfo) error {
	if err := s.ImageAccess(ctx, p, ImageScopeCentres, centre, ri); err != nil {
		return err
	}
	if s.cfg.Images == nil {
		return Errorf(KindNotFound, "no such study")
	}
	if patientID != "" {
		pat, err := s.patient(ctx, p, patientID)
		if err != nil {
			return err
		}
		if pat.Centre != centre {
			return Validationf("patientId", "the patient is enrolled at another centre")
		}
	}
	err := s.cfg.Images.LinkStudy(ctx, centre, studyUID, patientID)
	if errors.Is(err, ErrNotFound) {
		return Errorf(KindNotFound, "no such study")
	} else if err != nil {
		return s.storeErr(err, "link the study")
	}
	action := "images.link"
	if patientID == "" {
		action = "images.unlink"
	}
	return s.audit(ctx, p, ri, AuditEvent{Action: action, ObjectType: "study", ObjectID: ImageScopeCentres + "/" + centre + "/" + studyUID,
		PatientID: patientID})
}
