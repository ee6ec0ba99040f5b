package dicomweb

import (
	"context"
	"errors"

	"github.com/ern-cpms/cpms/cpms"
)

// Catalog is the index as the workflow's cpms.ImageCatalog port: the centres' scopes.
type Catalog struct{ Index Index }

var _ cpms.ImageCatalog = Catalog{}

// StudiesOfPatient lists the studies linked to a patient.
func (c Catalog) StudiesOfPatient(ctx context.Context, patientID string) ([]cpms.ImageStudy, error) {
	hits, err := c.Index.StudiesOfPatient(ctx, ScopeCentres, patientID)
	return imageStudies(hits), err
}

// UnlinkedStudies lists a centre's studies linked to no patient.
func (c Catalog) UnlinkedStudies(ctx context.Context, centre string, limit int) ([]cpms.ImageStudy, error) {
	hits, err := c.Index.UnlinkedStudies(ctx, Scope{Kind: ScopeCentres, ID: centre}, limit)
	return imageStudies(hits), err
}

// LinkStudy links a centre's study to a patient ("" unlinks).
func (c Catalog) LinkStudy(ctx context.Context, centre, studyUID, patientID string) error {
	err := c.Index.LinkStudy(ctx, Scope{Kind: ScopeCentres, ID: centre}, studyUID, patientID)
	if errors.Is(err, ErrNotFound) {
		return cpms.ErrNotFound
	}
	return err
}

func imageStudies(hits []StudyHit) []cpms.ImageStudy {
	out := make([]cpms.ImageStudy, 0, len(hits))
	for _, h := range hits {
		out = append(out, cpms.ImageStudy{Scope: h.Scope.String(), StudyUID: h.StudyUID, Date: h.Study.StudyDate,
			Description: h.Study.StudyDescription, Modalities: append([]string{}, h.Modalities...), Series: h.NumSeries,
			Instances: h.NumInstances, PatientRef: h.PatientRef, LastStoredAt: h.LastStoredAt,
			PatientName: h.Study.PatientName, PatientID: h.Study.PatientID})
	}
	return out
}
