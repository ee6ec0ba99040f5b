package cpmshttp

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// patientStudies answers the image studies linked to a patient.
func (a *API) patientStudies(w http.ResponseWriter, r *http.Request) error {
	studies, err := a.svc.PatientStudies(r.Context(), principal(r), chi.URLParam(r, "id"), info(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"studies": studies})
	return nil
}

// unlinkedStudies answers a centre's studies that belong to no enrolled patient yet.
func (a *API) unlinkedStudies(w http.ResponseWriter, r *http.Request) error {
	studies, err := a.svc.UnlinkedStudies(r.Context(), principal(r), chi.URLParam(r, "code"), info(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"studies": studies})
	return nil
}

// linkStudy links a centre's study to a patient ({"patientId": "…"}; "" unlinks).
func (a *API) linkStudy(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		PatientID string `json:"patientId"`
	}
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	err := a.svc.LinkStudy(r.Context(), principal(r), chi.URLParam(r, "code"), chi.URLParam(r, "study"), in.PatientID, info(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"studyUid": chi.URLParam(r, "study"), "patientId": in.PatientID})
	return nil
}
