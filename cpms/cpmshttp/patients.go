package cpmshttp

import (
	"bytes"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/cpms/consentform"
)

// The centre tier in JSON: enrolment, the patient list, demographics, consents, transfers, the
// centre dashboard and the access log. Every answer comes from the service, which decides what
// the principal may see; a patient outside the caller's tier is "not found" here as there.

// Paging of the patient list.
const (
	defaultPatientLimit = 20
	maxPatientLimit     = 100
	recentPatients      = 10
)

// patientRow is one line of the patient list, with the columns of the CPMS list.
type patientRow struct {
	ID          string      `json:"id"`
	CPMSID      string      `json:"cpmsId"`
	ERN         string      `json:"ern"`
	Centre      string      `json:"centre"`
	LastName    string      `json:"lastName"`
	FirstName   string      `json:"firstName"`
	RecordLabel string      `json:"recordLabel"`
	EnrolledOn  cpms.Date   `json:"enrolledOn"`
	Gender      cpms.Gender `json:"gender"`
	Frozen      bool        `json:"frozen"`
	BirthDate   cpms.Date   `json:"birthDate"`
	// Consent is the state of the consent for care; ConsentResearch that of the consent for
	// ERN databases and registries: "yes", "no", "withdrawn", or "" when not asked.
	Consent         string    `json:"consent"`
	ConsentResearch string    `json:"consentResearch"`
	UpdatedAt       time.Time `json:"updatedAt"`
}

func rowOf(p *cpms.Patient) patientRow {
	return patientRow{ID: p.ID, CPMSID: p.CPMSID, ERN: p.ERN, Centre: p.Centre, LastName: p.LastName,
		FirstName: p.FirstName, RecordLabel: p.RecordLabel, EnrolledOn: p.EnrolledOn, Gender: p.Gender,
		Frozen: p.Frozen, BirthDate: p.BirthDate, Consent: p.ConsentStatus(cpms.ConsentCare),
		ConsentResearch: p.ConsentStatus(cpms.ConsentRegistry), UpdatedAt: p.UpdatedAt}
}

func rowsOf(ps []cpms.Patient) []patientRow {
	out := make([]patientRow, 0, len(ps))
	for i := range ps {
		out = append(out, rowOf(&ps[i]))
	}
	return out
}

// patientJSON is a patient as the details page reads it, with the name of its centre.
type patientJSON struct {
	cpms.Patient
	CentreName string `json:"centreName"`
}

func (a *API) patientJSON(r *http.Request, p cpms.Patient) patientJSON {
	return patientJSONNamed(p, a.centreNames(r))
}

func patientJSONNamed(p cpms.Patient, names map[string]string) patientJSON {
	if p.Identifiers == nil {
		p.Identifiers = []cpms.LocalIdentifier{}
	}
	if p.Consents == nil {
		p.Consents = []cpms.Consent{}
	}
	return patientJSON{Patient: p, CentreName: names[p.Centre]}
}

// centreNames maps centre codes to names; empty when the centres cannot be read (names are
// a courtesy, the codes are the data).
func (a *API) centreNames(r *http.Request) map[string]string {
	names := map[string]string{}
	if cs, err := a.svc.Centres(r.Context()); err == nil {
		for _, c := range cs {
			names[c.Code] = c.Name
		}
	}
	return names
}

type enrolTargetJSON struct {
	ERN        string `json:"ern"`
	ERNName    string `json:"ernName"`
	Centre     string `json:"centre"`
	CentreName string `json:"centreName"`
}

func (a *API) enrolTargets(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.svc.EnrolTargets(r.Context(), principal(r))
	if err != nil {
		return err
	}
	erns, centres, err := a.svc.ERNs(r.Context())
	if err != nil {
		return err
	}
	ernNames, centreNames := map[string]string{}, map[string]string{}
	for _, e := range erns {
		ernNames[e.Code] = e.Name
	}
	for _, c := range centres {
		centreNames[c.Code] = c.Name
	}
	out := make([]enrolTargetJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, enrolTargetJSON{ERN: t.ERN, ERNName: ernNames[t.ERN], Centre: t.Centre, CentreName: centreNames[t.Centre]})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listPatients answers GET /api/patients: one page of the patients the principal sees.
func (a *API) listPatients(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var v cpms.Validation
	limit := queryInt(&v, q.Get("limit"), "limit", defaultPatientLimit, 0, maxPatientLimit)
	offset := queryInt(&v, q.Get("offset"), "offset", 0, 0, 1<<30)
	sortField := q.Get("sort")
	if sortField == "" {
		sortField = "lastName"
	}
	v.Check(slices.Contains(cpms.PatientSortFields, sortField), "sort", "one of "+strings.Join(cpms.PatientSortFields, ", "))
	desc := false
	if s := q.Get("desc"); s != "" {
		b, err := strconv.ParseBool(s)
		v.Check(err == nil, "desc", "true or false")
		desc = b
	}
	query := strings.TrimSpace(q.Get("q"))
	v.Check(len(query) <= 200, "q", "at most 200 characters")
	if err := v.Err(); err != nil {
		return err
	}
	f := cpms.PatientFilter{ERN: strings.TrimSpace(q.Get("ern")), Centre: strings.TrimSpace(q.Get("centre")),
		Query: query, Sort: patientSort(sortField, desc), Limit: limit, Offset: offset, Total: true}
	ps, total, err := a.svc.SearchPatients(r.Context(), principal(r), f, info(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": rowsOf(ps), "total": total})
	return nil
}

// patientSort orders by the field asked for, then by CPMS ID so that pages do not overlap.
func patientSort(field string, desc bool) []cpms.SortKey {
	keys := []cpms.SortKey{{Field: field, Desc: desc}}
	if field != "cpmsId" {
		keys = append(keys, cpms.SortKey{Field: "cpmsId"})
	}
	return keys
}

// queryInt reads an optional whole number between lo and hi.
func queryInt(v *cpms.Validation, s, field string, def, lo, hi int) int {
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		v.Add(field, "a whole number from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
		return def
	}
	return n
}

type consentAnswerJSON struct {
	Kind  cpms.ConsentKind `json:"kind"`
	Given bool             `json:"given"`
	Date  cpms.Date        `json:"date"`
	Note  string           `json:"note"`
}

type enrolJSON struct {
	ERN            string                 `json:"ern"`
	Centre         string                 `json:"centre"`
	FirstName      string                 `json:"firstName"`
	LastName       string                 `json:"lastName"`
	Gender         cpms.Gender            `json:"gender"`
	BirthDate      cpms.Date              `json:"birthDate"`
	RecordLabel    string                 `json:"recordLabel"`
	EnrolledOn     cpms.Date              `json:"enrolledOn"`
	Identifiers    []cpms.LocalIdentifier `json:"identifiers"`
	ConsentVariant cpms.ConsentVariant    `json:"consentVariant"`
	Consents       []consentAnswerJSON    `json:"consents"`
	// Clinician is the username of the responsible clinician, for a hospital system enrolling.
	Clinician string `json:"clinician"`
}

func (a *API) enrolPatient(w http.ResponseWriter, r *http.Request) error {
	var in enrolJSON
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	e := cpms.Enrolment{ERN: strings.TrimSpace(in.ERN), Centre: strings.TrimSpace(in.Centre), FirstName: in.FirstName,
		LastName: in.LastName, Gender: in.Gender, BirthDate: in.BirthDate, RecordLabel: in.RecordLabel,
		EnrolledOn: in.EnrolledOn, Identifiers: in.Identifiers, Variant: in.ConsentVariant, Clinician: in.Clinician}
	for _, c := range in.Consents {
		e.Consents = append(e.Consents, cpms.ConsentAnswer{Kind: c.Kind, Given: c.Given, Date: c.Date, Note: c.Note})
	}
	p, err := a.svc.Enrol(r.Context(), principal(r), e, info(r))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/patients/"+p.ID)
	writeJSON(w, http.StatusCreated, a.patientJSON(r, p))
	return nil
}

func (a *API) getPatient(w http.ResponseWriter, r *http.Request) error {
	p, err := a.svc.Patient(r.Context(), principal(r), chi.URLParam(r, "id"), info(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.patientJSON(r, p))
	return nil
}

type demographicsJSON struct {
	FirstName   string                 `json:"firstName"`
	LastName    string                 `json:"lastName"`
	Gender      cpms.Gender            `json:"gender"`
	BirthDate   cpms.Date              `json:"birthDate"`
	RecordLabel string                 `json:"recordLabel"`
	Identifiers []cpms.LocalIdentifier `json:"identifiers"`
	// Version is the version of the patient the change was made on.
	Version int `json:"version"`
}

func (a *API) updatePatient(w http.ResponseWriter, r *http.Request) error {
	var in demographicsJSON
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	if in.Version < 1 {
		return cpms.Validationf("version", "the version of the patient you changed, from the last read")
	}
	p, err := a.svc.UpdateDemographics(r.Context(), principal(r), chi.URLParam(r, "id"), cpms.Demographics{
		FirstName: in.FirstName, LastName: in.LastName, Gender: in.Gender, BirthDate: in.BirthDate,
		RecordLabel: in.RecordLabel, Identifiers: in.Identifiers}, in.Version, info(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.patientJSON(r, p))
	return nil
}

// patientHistory answers every version of the patient's own fields, oldest first.
func (a *API) patientHistory(w http.ResponseWriter, r *http.Request) error {
	vs, err := a.svc.PatientHistory(r.Context(), principal(r), chi.URLParam(r, "id"), info(r))
	if err != nil {
		return err
	}
	out := make([]patientJSON, 0, len(vs))
	names := a.centreNames(r)
	for _, p := range vs {
		out = append(out, patientJSONNamed(p, names))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) consentHistory(w http.ResponseWriter, r *http.Request) error {
	vs, err := a.svc.ConsentChanges(r.Context(), principal(r), chi.URLParam(r, "id"), info(r))
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []cpms.Consent{}
	}
	writeJSON(w, http.StatusOK, vs)
	return nil
}

type setConsentJSON struct {
	Given bool      `json:"given"`
	Date  cpms.Date `json:"date"`
	Note  string    `json:"note"`
	// Version, when set, must be the consent's current version.
	Version int `json:"version"`
}

func (a *API) setConsent(w http.ResponseWriter, r *http.Request) error {
	var in setConsentJSON
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	p, _, err := a.svc.SetConsent(r.Context(), principal(r), chi.URLParam(r, "id"), cpms.ConsentAnswer{
		Kind: cpms.ConsentKind(chi.URLParam(r, "kind")), Given: in.Given, Date: in.Date, Note: in.Note}, in.Version, info(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.patientJSON(r, p))
	return nil
}

type withdrawJSON struct {
	Date cpms.Date `json:"date"`
}

func (a *API) withdrawConsent(w http.ResponseWriter, r *http.Request) error {
	var in withdrawJSON
	if r.ContentLength != 0 {
		if err := a.decode(w, r, &in); err != nil {
			return err
		}
	}
	kind := cpms.ConsentKind(chi.URLParam(r, "kind"))
	if !kind.Valid() {
		return cpms.Validationf("kind", "care, registry or research-contact")
	}
	p, _, err := a.svc.WithdrawConsent(r.Context(), principal(r), chi.URLParam(r, "id"), kind, in.Date, info(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.patientJSON(r, p))
	return nil
}

type transferRequestJSON struct {
	ToCentre string `json:"toCentre"`
	Comment  string `json:"comment"`
}

func (a *API) requestTransfer(w http.ResponseWriter, r *http.Request) error {
	var in transferRequestJSON
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	t, err := a.svc.RequestTransfer(r.Context(), principal(r), chi.URLParam(r, "id"), strings.TrimSpace(in.ToCentre), in.Comment, info(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

// listTransfers answers the transfer requests from or to the principal's centres, or those of
// one patient (?patient=).
func (a *API) listTransfers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	status := cpms.TransferStatus(q.Get("status"))
	switch status {
	case "all":
		status = ""
	case "", cpms.TransferPending, cpms.TransferAccepted, cpms.TransferRefused:
	default:
		return cpms.Validationf("status", "pending, accepted, refused or all")
	}
	ts, err := a.svc.Transfers(r.Context(), principal(r), q.Get("patient"), status)
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []cpms.Transfer{}
	}
	writeJSON(w, http.StatusOK, ts)
	return nil
}

func (a *API) decideTransfer(accept bool) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in decisionJSON
		if r.ContentLength != 0 {
			if err := a.decode(w, r, &in); err != nil {
				return err
			}
		}
		t, err := a.svc.DecideTransfer(r.Context(), principal(r), chi.URLParam(r, "id"), accept, in.Comment, info(r))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, t)
		return nil
	}
}

// accessLog answers who accessed a patient, for the centre's data-protection officer and the
// ERN's administrators: the pseudonymous view of the patient and the audit records.
func (a *API) accessLog(w http.ResponseWriter, r *http.Request) error {
	var v cpms.Validation
	limit := queryInt(&v, r.URL.Query().Get("limit"), "limit", 1000, 1, 1000)
	if err := v.Err(); err != nil {
		return err
	}
	p, events, err := a.svc.PatientAccessLog(r.Context(), principal(r), chi.URLParam(r, "id"), limit, info(r))
	if err != nil {
		return err
	}
	if events == nil {
		events = []cpms.AuditEvent{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"patient": p, "events": events})
	return nil
}

// centreDashboard answers the patient count and the recently updated patients of a centre (in
// one ERN with ?ern=) where the principal works with patients; any other centre is not found.
// ?recent= bounds the recent patients (0: the count alone, as nothing is then shown).
func (a *API) centreDashboard(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	code, ern := chi.URLParam(r, "code"), strings.TrimSpace(r.URL.Query().Get("ern"))
	var v cpms.Validation
	limit := queryInt(&v, r.URL.Query().Get("recent"), "recent", recentPatients, 0, recentPatients)
	if err := v.Err(); err != nil {
		return err
	}
	if !a.worksAt(p, code, ern) {
		return cpms.Errorf(cpms.KindNotFound, "no such centre among yours")
	}
	centre := centreJSON{Code: code}
	if cs, err := a.svc.Centres(r.Context()); err == nil {
		for _, c := range cs {
			if c.Code == code {
				centre = centreJSON{Code: c.Code, Name: c.Name, Country: c.Country}
			}
		}
	}
	ps, total, err := a.svc.SearchPatients(r.Context(), p, cpms.PatientFilter{Centre: code, ERN: ern, Limit: limit,
		Total: true, Sort: []cpms.SortKey{{Field: "lastUpdated", Desc: true}, {Field: "cpmsId"}}}, info(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"centre": centre, "ern": ern, "patientCount": total, "recent": rowsOf(ps)})
	return nil
}

// worksAt reports whether p sees the patients of a centre (for an ERN, when given): a
// clinician or guest there, an assistant acting for one, or the centre's hospital system.
func (a *API) worksAt(p *cpms.Principal, centre, ern string) bool {
	if p == nil || centre == "" {
		return false
	}
	if p.User == nil {
		return p.System == cpms.SystemHIS && p.Centre == centre
	}
	for _, g := range cpms.EffectiveGrants(p, a.svc.Now()) {
		if (g.Role == cpms.RoleHP || g.Role == cpms.RoleGuest) && g.Centre == centre && (ern == "" || g.ERN == ern) {
			return true
		}
	}
	return false
}

// consentForm answers the model consent form of an ERN (and centre) as a PDF attachment.
func (a *API) consentForm(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	lang := strings.ToLower(strings.TrimSpace(q.Get("lang")))
	if lang == "" {
		lang = "en"
	}
	variant := consentform.Variant(strings.TrimSpace(q.Get("variant")))
	if variant == "" {
		variant = consentform.Standard
	}
	ernCode, centreCode := strings.TrimSpace(q.Get("ern")), strings.TrimSpace(q.Get("centre"))
	erns, centres, err := a.svc.ERNs(r.Context())
	if err != nil {
		return err
	}
	var v cpms.Validation
	v.Check(langRE.MatchString(lang), "lang", "a language code such as en")
	v.Check(variant == consentform.Standard || variant == consentform.Ukraine, "variant", "standard or ukraine")
	var ern *cpms.ERN
	for i := range erns {
		if erns[i].Code == ernCode {
			ern = &erns[i]
		}
	}
	v.Check(ern != nil, "ern", "one of the ERNs")
	o := consentform.Options{Language: lang, Variant: variant, ERN: ernCode, Created: a.svc.Now()}
	if ern != nil {
		o.ERNName = ern.Name
		if centreCode != "" {
			v.Check(slices.Contains(ern.Centres, centreCode), "centre", "a centre of the ERN")
			for _, c := range centres {
				if c.Code == centreCode {
					o.Centre = c.Label()
				}
			}
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := consentform.Render(&buf, o); errors.Is(err, consentform.ErrLanguage) {
		return cpms.Errorf(cpms.KindNotFound, "the consent form is not available in this language").WithCode("language_unavailable")
	} else if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", `attachment; filename="consent-form-`+ernCode+"-"+string(variant)+"-"+lang+`.pdf"`)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "private, no-cache")
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
	return nil
}

// langRE is an ISO 639-1 code: it also keeps the attachment's file name plain.
var langRE = regexp.MustCompile(`^[a-z]{2}$`)

type consentLanguageJSON struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	Available bool   `json:"available"`
}

func (a *API) consentFormLanguages(w http.ResponseWriter, r *http.Request) error {
	ls := consentform.Languages()
	out := make([]consentLanguageJSON, 0, len(ls))
	for _, l := range ls {
		out = append(out, consentLanguageJSON{Code: l.Code, Name: l.Name, Available: l.Available})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
