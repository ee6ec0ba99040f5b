package dicomweb

import (
	"context"
	"errors"
	"time"
)

// Scope is a namespace of studies, named in the URL and checked on every request:
// {Kind: "centres", ID: "BE10"} holds the identified studies of centre BE10. Later issues add
// other kinds (a panel's de-identified copies) through the same code.
type Scope struct {
	Kind string
	ID   string
}

// String is the URL form "centres/BE10".
func (s Scope) String() string { return s.Kind + "/" + s.ID }

// ScopeCentres is the kind of a centre's identified studies.
const ScopeCentres = "centres"

// Errors of an Index. Returned errors wrap them.
var (
	ErrNotFound  = errors.New("dicomweb: not found")
	ErrDuplicate = errors.New("dicomweb: the scope already holds this SOP instance")
	// ErrConflict: the instance's series belongs to another study of the scope.
	ErrConflict = errors.New("dicomweb: the series belongs to another study of the scope")
)

// InstanceRecord is one stored instance as the index keeps it, with the study- and
// series-level attributes it carries.
type InstanceRecord struct {
	Scope     Scope
	StudyUID  string
	SeriesUID string
	SOPUID    string

	SOPClassUID       string
	TransferSyntaxUID string
	InstanceNumber    *int // nil when absent or not an integer
	Rows, Columns     int
	NumberOfFrames    int
	BitsAllocated     int

	BlobKey  string // where the Part 10 bytes are, in the blob store
	Size     int64
	SHA256   string // hex, of the stored bytes
	StoredAt time.Time

	// Metadata is the instance's DICOM JSON object, bulk values as BulkDataURI templates
	// ("{bulk}/<path>", see dcm.Instance.Metadata). Opaque to the index.
	Metadata []byte
	// Layout is the codec's description of the pixel data and bulk values (JSON). Opaque to the
	// index.
	Layout []byte
	// Summary is a DICOM JSON object of the instance's default QIDO attributes, so that an
	// instance search need not read the whole metadata. Opaque to the index.
	Summary []byte

	Study  StudyAttrs
	Series SeriesAttrs

	// PatientRef is the patient the instance's study is linked to, as the index reads it
	// (PutInstance ignores it: links are made with LinkStudy).
	PatientRef string
}

// StudyAttrs are the patient- and study-level attributes of an instance, as matched by QIDO.
// Strings hold the values decoded to UTF-8; multiple values are joined with "\".
type StudyAttrs struct {
	PatientName            string // the PN value as in DICOM JSON's Alphabetic group ("Doe^Jane")
	PatientID              string
	IssuerOfPatientID      string
	PatientBirthDate       string // DA: YYYYMMDD
	PatientSex             string
	StudyDate              string // DA: YYYYMMDD
	StudyTime              string // TM: HHMMSS.FFFFFF (any shorter prefix)
	AccessionNumber        string
	ReferringPhysicianName string // PN
	StudyID                string
	StudyDescription       string
	// JSON is a DICOM JSON object of the patient- and study-level attributes (everything an
	// includefield=all study answer holds apart from the computed ones). Opaque to the index.
	JSON []byte
}

// SeriesAttrs are the series-level attributes of an instance, as matched by QIDO.
type SeriesAttrs struct {
	Modality                        string
	SeriesNumber                    *int
	SeriesDescription               string
	PerformedProcedureStepStartDate string // DA
	PerformedProcedureStepStartTime string // TM
	// JSON is a DICOM JSON object of the series-level attributes. Opaque to the index.
	JSON []byte
}

// Level is the level of a QIDO search.
type Level int

const (
	LevelStudy Level = iota
	LevelSeries
	LevelInstance
)

// MatchKind is how a Match compares.
type MatchKind int

const (
	// MatchSingle: equal to Value (for PN: case-insensitive).
	MatchSingle MatchKind = iota
	// MatchWildcard: Value holds "*" (any run, possibly empty) and "?" (one character);
	// for PN case-insensitive.
	MatchWildcard
	// MatchUIDList: equal to one of Values.
	MatchUIDList
	// MatchRange: From <= value <= To, either end open when empty (DA, TM, DT strings compare
	// as text once normalised: dates YYYYMMDD, times HHMMSS.FFFFFF padded).
	MatchRange
	// MatchFuzzy: PN only: every space- or "^"-separated word of Value, upper-cased and
	// folded to ASCII, is the start of some word of the name folded the same way.
	MatchFuzzy
)

// Attribute names a Match may use, with the level they belong to. They are the DICOM keywords.
const (
	AttrPatientName                     = "PatientName"
	AttrPatientID                       = "PatientID"
	AttrIssuerOfPatientID               = "IssuerOfPatientID"
	AttrPatientBirthDate                = "PatientBirthDate"
	AttrPatientSex                      = "PatientSex"
	AttrStudyInstanceUID                = "StudyInstanceUID"
	AttrStudyDate                       = "StudyDate"
	AttrStudyTime                       = "StudyTime"
	AttrAccessionNumber                 = "AccessionNumber"
	AttrReferringPhysicianName          = "ReferringPhysicianName"
	AttrStudyID                         = "StudyID"
	AttrStudyDescription                = "StudyDescription"
	AttrModalitiesInStudy               = "ModalitiesInStudy" // matches a study with a series of that modality
	AttrSeriesInstanceUID               = "SeriesInstanceUID"
	AttrModality                        = "Modality"
	AttrSeriesNumber                    = "SeriesNumber"
	AttrSeriesDescription               = "SeriesDescription"
	AttrPerformedProcedureStepStartDate = "PerformedProcedureStepStartDate"
	AttrPerformedProcedureStepStartTime = "PerformedProcedureStepStartTime"
	AttrSOPInstanceUID                  = "SOPInstanceUID"
	AttrSOPClassUID                     = "SOPClassUID"
	AttrInstanceNumber                  = "InstanceNumber"
)

// Match is one matching key of a QIDO query.
type Match struct {
	Attr     string // one of the Attr… names
	Kind     MatchKind
	Value    string   // MatchSingle, MatchWildcard, MatchFuzzy
	Values   []string // MatchUIDList (also ModalitiesInStudy with several values)
	From, To string   // MatchRange
}

// Query is a QIDO search. Matches are ANDed. A query at a lower level may match attributes of
// the levels above it (series of studies of a patient: PatientName at the series level).
type Query struct {
	Scope     Scope
	Level     Level
	StudyUID  string // set for /studies/{study}/series and /studies/{study}/series/{series}/instances
	SeriesUID string // set for …/series/{series}/instances
	Matches   []Match
	Limit     int // 0: the index's default maximum
	Offset    int
	// Metadata asks for each instance's whole Metadata and Layout, and its study's and series'
	// JSON, in an instance search; otherwise they are left out (Summary is always there).
	Metadata bool
}

// PutResult is the outcome of one record of PutInstances: Err is nil, wraps ErrDuplicate (and
// Stored is the record the scope holds) or wraps ErrConflict.
type PutResult struct {
	Stored InstanceRecord
	Err    error
}

// StudyHit is a study found by a search, with its computed attributes.
type StudyHit struct {
	Scope        Scope
	StudyUID     string
	Study        StudyAttrs // of the newest instance stored
	PatientRef   string     // the linked patient ("" when unlinked)
	Modalities   []string   // ModalitiesInStudy, sorted
	SOPClasses   []string   // SOPClassesInStudy, sorted
	NumSeries    int
	NumInstances int
	LastStoredAt time.Time
}

// SeriesHit is a series found by a search.
type SeriesHit struct {
	StudyUID     string
	SeriesUID    string
	Study        StudyAttrs
	Series       SeriesAttrs
	NumInstances int
	PatientRef   string // the patient the study is linked to ("" when unlinked)
}

// Result is one page of a search: exactly one of the slices is filled, by the query's level.
// More is set when matches beyond the page exist (the answer then carries a Warning).
type Result struct {
	Studies   []StudyHit
	Series    []SeriesHit
	Instances []InstanceRecord
	More      bool
}

// Index is the SQL index of stored instances. Implementations keep every record of a scope
// apart from every other scope: a query never sees another scope's rows.
type Index interface {
	// PutInstance records rec (creating or updating its study and series rows: the study and
	// series attributes become those of the newest instance). If the scope already holds
	// rec.SOPUID, nothing changes and the stored record is returned with ErrDuplicate.
	PutInstance(ctx context.Context, rec InstanceRecord) (InstanceRecord, error)
	// PutInstances records several instances in one transaction (one commit for all): each
	// result is what PutInstance would have answered for that record, in order. An error is for
	// the whole batch, of which nothing is then recorded.
	PutInstances(ctx context.Context, recs []InstanceRecord) ([]PutResult, error)
	// Instance returns one instance by SOP Instance UID (ErrNotFound when absent).
	Instance(ctx context.Context, scope Scope, sopUID string) (InstanceRecord, error)
	// Instances returns the instances of a study (seriesUID empty) or of one series, ordered by
	// series number, series UID, instance number, SOP UID. ErrNotFound when there are none.
	Instances(ctx context.Context, scope Scope, studyUID, seriesUID string) ([]InstanceRecord, error)
	// Search runs a QIDO query. Results are ordered: studies newest StudyDate/StudyTime first
	// then by UID; series by series number then UID; instances by instance number then UID.
	Search(ctx context.Context, q Query) (Result, error)
	// DeleteStudy removes a study's records and returns them (for their blobs); ErrNotFound
	// when the scope holds no such study.
	DeleteStudy(ctx context.Context, scope Scope, studyUID string) ([]InstanceRecord, error)
	// LinkStudy sets (or, with "", clears) the patient a study belongs to.
	LinkStudy(ctx context.Context, scope Scope, studyUID, patientRef string) error
	// StudiesOfPatient lists the studies linked to a patient, in every scope of the given kind.
	StudiesOfPatient(ctx context.Context, kind, patientRef string) ([]StudyHit, error)
	// UnlinkedStudies lists the newest studies of a scope linked to no patient, at most limit.
	UnlinkedStudies(ctx context.Context, scope Scope, limit int) ([]StudyHit, error)
}
