package cpms

import (
	"context"
	"time"
)

// PatientStore keeps enrolled patients, their consents, the versions of both, and transfer
// requests. Patients come back with their current consents.
type PatientStore interface {
	// CreatePatient stores a new patient and its consents in one transaction. It gives the
	// patient the next sequence number of its centre and ERN (no gaps, no duplicates, also with
	// several processes enrolling at once) and sets Seq and CPMSID from it. ErrConflict when a
	// patient of the same ERN already holds one of its local identifiers.
	CreatePatient(ctx context.Context, p Patient) (Patient, error)
	Patient(ctx context.Context, id string) (Patient, error)
	PatientByCPMSID(ctx context.Context, cpmsID string) (Patient, error)
	// UpdatePatient reads the patient, lets fn change it (consents included) and writes it back
	// in one transaction, keeping the previous versions. The caller sets Version, UpdatedAt and
	// UpdatedBy of what changed (the patient and each consent whose Version moved); fn may run
	// more than once. ErrConflict on a local identifier taken in the ERN.
	UpdatePatient(ctx context.Context, id string, fn func(p *Patient) error) (Patient, error)
	// PatientVersions returns every version of the patient's own fields (Consents empty), oldest
	// first.
	PatientVersions(ctx context.Context, id string) ([]Patient, error)
	// SearchPatients returns the patients matching f and, when f.Total is set, how many match
	// in all.
	SearchPatients(ctx context.Context, f PatientFilter) ([]Patient, int, error)

	Consent(ctx context.Context, id string) (Consent, error)
	ConsentVersions(ctx context.Context, id string) ([]Consent, error) // oldest first
	// PatientConsentVersions returns every version of every consent of a patient, oldest first.
	PatientConsentVersions(ctx context.Context, patientID string) ([]Consent, error)
	SearchConsents(ctx context.Context, f ConsentFilter) ([]Consent, int, error)

	CreateTransfer(ctx context.Context, t Transfer) error // ErrConflict when one is pending for the patient
	Transfer(ctx context.Context, id string) (Transfer, error)
	Transfers(ctx context.Context, f TransferFilter) ([]Transfer, error) // newest first
	// DecideTransfer records the decision on a pending transfer and, when accepted, applies
	// move to the patient, in one transaction. ErrConflict when it is no longer pending.
	DecideTransfer(ctx context.Context, id string, status TransferStatus, by UserRef, comment string, at time.Time,
		move func(p *Patient) error) (Transfer, error)
}

// Visibility restricts a search to what a principal may see in the centre tier: patients of
// the listed centres, or whose responsible clinician is one of the listed users. A nil
// *Visibility means no restriction (the service's own use).
type Visibility struct {
	Centres    []string
	Clinicians []string // user IDs
}

// DateCond compares a date (or a time, for _lastUpdated) with a FHIR search prefix.
type DateCond struct {
	Op    string // "eq", "ne", "lt", "gt", "le", "ge"
	Value time.Time
	// Until is the end (exclusive) of the value's precision: a search "2024" means the year.
	Until time.Time
}

// SortKey orders results by a field; the store knows the fields of its filter type.
type SortKey struct {
	Field string
	Desc  bool
}

// PatientSortFields are the fields patients can be sorted by.
var PatientSortFields = []string{"lastName", "firstName", "recordLabel", "cpmsId", "enrolledOn", "gender",
	"frozen", "birthDate", "consent", "consentResearch", "lastUpdated", "id", "centre"}

// PatientFilter selects patients. Empty fields match everything; conditions are ANDed.
type PatientFilter struct {
	Visible *Visibility
	IDs     []string
	ERN     string
	Centre  string
	CPMSID  string
	// Query matches the start of the last name, the first name or the CPMS ID, or the local
	// identifier value exactly (names compared by NormalizeName).
	Query string
	// Family, Given and Name match the start of the last name, the first name, or either.
	Family, Given, Name []string // each list is ORed (FHIR "a,b")
	// Identifier matches a local identifier or the CPMS ID (System may be empty: any system;
	// CPMSIDSystem: the CPMS ID).
	Identifier []LocalIdentifier
	Gender     []Gender
	Birth      []DateCond
	Updated    []DateCond
	Frozen     *bool
	Sort       []SortKey
	Limit      int // 0: no rows, only the total
	Offset     int
	Total      bool
}

// CPMSIDSystem is the identifier system of CPMS IDs in filters (and, at the FHIR edge, its
// naming system URI).
const CPMSIDSystem = "https://ern-cpms.org/fhir/NamingSystem/cpms-id"

// ConsentSortFields are the fields consents can be sorted by.
var ConsentSortFields = []string{"date", "lastUpdated", "id", "patient", "kind"}

// ConsentFilter selects consents; Visible restricts them to those of visible patients.
type ConsentFilter struct {
	Visible    *Visibility
	IDs        []string
	PatientIDs []string
	Kinds      []ConsentKind
	// Status "active" (not withdrawn) or "inactive" (withdrawn); empty: both.
	Status []string
	Date   []DateCond
	Sort   []SortKey
	Limit  int
	Offset int
	Total  bool
}

// TransferStatus is where a transfer request stands.
type TransferStatus string

const (
	TransferPending  TransferStatus = "pending"
	TransferAccepted TransferStatus = "accepted"
	TransferRefused  TransferStatus = "refused"
)

// Transfer asks another centre to take over a patient's record.
type Transfer struct {
	ID              string         `json:"id"`
	PatientID       string         `json:"patientId"`
	CPMSID          string         `json:"cpmsId"`
	ERN             string         `json:"ern"`
	FromCentre      string         `json:"fromCentre"`
	ToCentre        string         `json:"toCentre"`
	RequestedBy     UserRef        `json:"requestedBy"`
	Comment         string         `json:"comment,omitempty"`
	Status          TransferStatus `json:"status"`
	DecidedBy       *UserRef       `json:"decidedBy,omitempty"`
	DecisionComment string         `json:"decisionComment,omitempty"`
	CreatedAt       time.Time      `json:"createdAt"`
	DecidedAt       *time.Time     `json:"decidedAt,omitempty"`
}

// TransferFilter selects transfer requests. Empty fields match everything.
type TransferFilter struct {
	PatientID string
	Status    TransferStatus
	Centres   []string // from or to one of these centres
}
