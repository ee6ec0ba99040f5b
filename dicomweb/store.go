package dicomweb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/dicomweb/dcm"
	"github.com/ern-cpms/cpms/internal/blob"
)

// Domain is what the store needs from the workflow core: who may use a scope, the audit
// trail, and which patient a study belongs to. *cpms.Service implements it.
type Domain interface {
	ImageAccess(ctx context.Context, p *cpms.Principal, kind, id string, ri cpms.RequestInfo) error
	AuditImages(ctx context.Context, p *cpms.Principal, ri cpms.RequestInfo, events []cpms.AuditEvent) error
	PatientForImages(ctx context.Context, centre, issuer, pid string) (string, error)
}

// Config configures a Store.
type Config struct {
	Index  Index
	Blobs  blob.Store
	Domain Domain
	Logger *slog.Logger
	// MaxInstance is the largest instance accepted, in bytes (default 2 GiB).
	MaxInstance int64
	Clock       func() time.Time
}

// Store is the DICOMweb image store: scopes of studies, instances in the blob store, their
// attributes in the index.
type Store struct {
	cfg Config
	log *slog.Logger
}

// DefaultMaxInstance is the default largest instance.
const DefaultMaxInstance = 2 << 30

// New returns a Store.
func New(cfg Config) (*Store, error) {
	if cfg.Index == nil || cfg.Blobs == nil || cfg.Domain == nil {
		return nil, errors.New("dicomweb: the index, the blob store and the domain are required")
	}
	if cfg.MaxInstance <= 0 {
		cfg.MaxInstance = DefaultMaxInstance
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{cfg: cfg, log: log}, nil
}

// Access checks that p may use scope; the error is a cpms error (not found for a scope p may
// not see).
func (s *Store) Access(ctx context.Context, p *cpms.Principal, scope Scope, ri cpms.RequestInfo) error {
	return s.cfg.Domain.ImageAccess(ctx, p, scope.Kind, scope.ID, ri)
}

// Outcome is the result of storing one instance.
type Outcome struct {
	SOPClassUID    string
	SOPInstanceUID string
	StudyUID       string
	SeriesUID      string
	// Failed is set for an instance that was not stored, with the failure reason.
	Failed  bool
	Reason  uint16
	Message string
	// Warning is set for an instance stored (or already held) with a remark: the duplicate of
	// an instance the scope holds with the same content.
	Warning string
	// Record is the stored record (for a success).
	Record InstanceRecord
}

// Staged is an instance written to the blob store and inspected, not yet in the index: an
// accepted instance waiting for Commit, or a refused one (Outcome.Failed) with nothing kept.
type Staged struct {
	Outcome Outcome
	rec     InstanceRecord
	key     string
}

// StoreInstance stores one Part 10 instance read from r in scope: Stage, then Commit.
func (s *Store) StoreInstance(ctx context.Context, scope Scope, study string, r io.Reader) (Outcome, error) {
	st, err := s.Stage(ctx, scope, study, r)
	if err != nil {
		return Outcome{}, err
	}
	out, err := s.Commit(ctx, []Staged{st})
	if err != nil {
		return Outcome{}, err
	}
	return out[0], nil
}

// Stage reads one Part 10 instance from r: it streams to the blob store while the scanner
// inspects the same bytes; a refused instance leaves nothing behind. study, when not empty, is
// the study the request was addressed to: an instance of another study is refused. Failures of
// the instance itself are in the Outcome; an error means the store could not work (storage
// unavailable, the request cancelled). Accepted instances become visible with Commit, and
// Discard removes them if the request ends before.
func (s *Store) Stage(ctx context.Context, scope Scope, study string, r io.Reader) (Staged, error) {
	key := "dicom/" + scope.Kind + "/" + scope.ID + "/" + newKey()
	pr, pw := io.Pipe()
	type inspected struct {
		inst *dcm.Instance
		err  error
	}
	done := make(chan inspected, 1)
	go func() {
		inst, err := safeInspect(pr, dcm.Limits{MaxSize: s.cfg.MaxInstance})
		if err != nil {
			pr.CloseWithError(err) // stops the copy to the blob store
		} else {
			io.Copy(io.Discard, pr) // nothing follows a complete instance, but drain anyway
		}
		done <- inspected{inst, err}
	}()
	info, putErr := s.cfg.Blobs.Put(ctx, key, io.TeeReader(chunked{r}, pw), blob.PutOptions{ContentType: "application/dicom"})
	pw.CloseWithError(putErr) // nil: EOF for the inspector
	res := <-done
	failed := func(o Outcome, reason uint16, msg string) (Staged, error) {
		o.Failed, o.Reason, o.Message = true, reason, msg
		return Staged{Outcome: o}, nil
	}
	var ref *dcm.Refusal
	switch {
	case errors.As(res.err, &ref):
		if putErr == nil {
			s.deleteBlob(key)
		}
		io.Copy(io.Discard, r) // the rest of the part, so the next one can be read
		return failed(Outcome{}, ref.Reason, ref.Message)
	case res.err != nil && putErr == nil:
		s.deleteBlob(key)
		return failed(Outcome{}, dcm.ReasonProcessingFailure, "the instance could not be read")
	case putErr != nil:
		if ctx.Err() != nil {
			return Staged{}, ctx.Err()
		}
		return Staged{}, fmt.Errorf("store the instance: %w", putErr)
	}
	inst := res.inst
	out := Outcome{SOPClassUID: inst.SOPClassUID, SOPInstanceUID: inst.SOPInstanceUID,
		StudyUID: inst.StudyInstanceUID, SeriesUID: inst.SeriesInstanceUID}
	if study != "" && inst.StudyInstanceUID != study {
		s.deleteBlob(key)
		return failed(out, dcm.ReasonDataSetMismatch, "the instance belongs to another study than the one the request names")
	}
	rec, err := s.record(ctx, scope, inst, key, info)
	if err != nil {
		s.deleteBlob(key)
		return Staged{}, err
	}
	return Staged{Outcome: out, rec: rec, key: key}, nil
}

// Commit indexes the accepted instances of staged in one transaction and returns every
// instance's outcome, in order. An instance the scope holds already with the same content is
// a success (with a warning) and is not stored twice; another instance under a SOP Instance
// UID the scope holds, or of a series of another study, is refused. On an error nothing is
// indexed and the staged blobs are removed.
func (s *Store) Commit(ctx context.Context, staged []Staged) ([]Outcome, error) {
	var recs []InstanceRecord
	for _, st := range staged {
		if !st.Outcome.Failed {
			recs = append(recs, st.rec)
		}
	}
	var results []PutResult
	if len(recs) > 0 {
		var err error
		results, err = s.cfg.Index.PutInstances(ctx, recs)
		if err != nil {
			s.Discard(staged)
			return nil, fmt.Errorf("index the instances: %w", err)
		}
	}
	outs := make([]Outcome, len(staged))
	j := 0
	for i, st := range staged {
		out := st.Outcome
		if out.Failed {
			outs[i] = out
			continue
		}
		res := results[j]
		j++
		switch {
		case errors.Is(res.Err, ErrDuplicate):
			s.deleteBlob(st.key)
			if res.Stored.SHA256 == st.rec.SHA256 {
				out.Record, out.Warning = res.Stored, "the scope already holds this instance with the same content"
			} else {
				out.Failed, out.Reason = true, dcm.ReasonDuplicateSOP
				out.Message = "the scope already holds a different instance with this SOP Instance UID"
			}
		case errors.Is(res.Err, ErrConflict):
			s.deleteBlob(st.key)
			out.Failed, out.Reason = true, dcm.ReasonDataSetMismatch
			out.Message = "the series of this instance belongs to another study in this scope"
		case res.Err != nil:
			s.deleteBlob(st.key)
			out.Failed, out.Reason, out.Message = true, dcm.ReasonProcessingFailure, "the instance could not be indexed"
		default:
			out.Record = res.Stored
		}
		outs[i] = out
	}
	return outs, nil
}

// Discard removes the blobs of staged instances that will not be committed.
func (s *Store) Discard(staged []Staged) {
	for _, st := range staged {
		if st.key != "" {
			s.deleteBlob(st.key)
		}
	}
}

// chunked reads as much as it is asked for, as long as the underlying reader gives: a
// multipart part yields a few kilobytes per Read, and each Read here becomes a write to storage
// and a hand-over to the inspector.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) {
	n, err := io.ReadAtLeast(c.r, p, len(p))
	if err == io.ErrUnexpectedEOF {
		err = nil // the end: the next Read says EOF
	}
	return n, err
}

// safeInspect is dcm.Inspect with a last guard: a panic is a refusal, never a crash.
func safeInspect(r io.Reader, lim dcm.Limits) (inst *dcm.Instance, err error) {
	defer func() {
		if v := recover(); v != nil {
			inst, err = nil, &dcm.Refusal{Reason: dcm.ReasonProcessingFailure, Message: "the instance could not be read"}
		}
	}()
	return dcm.Inspect(r, lim)
}

func (s *Store) deleteBlob(key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.cfg.Blobs.Delete(ctx, key); err != nil {
		s.log.Warn("dicomweb: could not delete an unused blob", "key", key, "err", err)
	}
}

// record builds the index record of an inspected instance.
func (s *Store) record(ctx context.Context, scope Scope, inst *dcm.Instance, key string, info blob.Info) (InstanceRecord, error) {
	a := func(t dcm.Tag) string { return strings.Join(inst.Attributes[t], `\`) }
	layout, err := json.Marshal(Layout{Pixel: inst.Pixel, Bulk: inst.Bulk})
	if err != nil {
		return InstanceRecord{}, err
	}
	studyJSON, seriesJSON, summary, err := splitLevels(inst.Metadata)
	if err != nil {
		return InstanceRecord{}, err
	}
	rec := InstanceRecord{
		Scope: scope, StudyUID: inst.StudyInstanceUID, SeriesUID: inst.SeriesInstanceUID, SOPUID: inst.SOPInstanceUID,
		SOPClassUID: inst.SOPClassUID, TransferSyntaxUID: inst.TransferSyntaxUID,
		InstanceNumber: intAttr(a(tagInstanceNumber)), BlobKey: key, Size: info.Size, SHA256: info.SHA256,
		StoredAt: s.cfg.Clock().UTC(), Metadata: inst.Metadata, Layout: layout, Summary: summary,
		Study: StudyAttrs{
			PatientName: a(tagPatientName), PatientID: a(tagPatientID), IssuerOfPatientID: a(tagIssuerOfPatientID),
			PatientBirthDate: a(tagPatientBirthDate), PatientSex: a(tagPatientSex), StudyDate: a(tagStudyDate),
			StudyTime: a(tagStudyTime), AccessionNumber: a(tagAccessionNumber),
			ReferringPhysicianName: a(tagReferringPhysicianName), StudyID: a(tagStudyID),
			StudyDescription: a(tagStudyDescription), JSON: studyJSON,
		},
		Series: SeriesAttrs{
			Modality: a(tagModality), SeriesNumber: intAttr(a(tagSeriesNumber)), SeriesDescription: a(tagSeriesDescription),
			PerformedProcedureStepStartDate: a(tagPPSStartDate), PerformedProcedureStepStartTime: a(tagPPSStartTime),
			JSON: seriesJSON,
		},
	}
	if p := inst.Pixel; p != nil {
		rec.Rows, rec.Columns, rec.NumberOfFrames, rec.BitsAllocated = p.Rows, p.Columns, p.NumberOfFrames, p.BitsAllocated
	}
	return rec, nil
}

func intAttr(v string) *int {
	if i := strings.IndexByte(v, '\\'); i >= 0 {
		v = v[:i]
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return nil
	}
	return &n
}

// Layout is what the store keeps of an instance's pixel data and bulk values, to cut frames
// and bulk data out of the stored bytes without reading them again.
type Layout struct {
	Pixel *dcm.Pixel    `json:"pixel,omitempty"`
	Bulk  []dcm.BulkRef `json:"bulk,omitempty"`
}

// LayoutOf decodes a record's layout.
func LayoutOf(rec InstanceRecord) (Layout, error) {
	var l Layout
	if len(rec.Layout) == 0 {
		return l, nil
	}
	err := json.Unmarshal(rec.Layout, &l)
	return l, err
}

func newKey() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

// AfterStore links the studies of the stored instances to their patients and records one audit
// event per study. outcomes are those of one request.
func (s *Store) AfterStore(ctx context.Context, p *cpms.Principal, ri cpms.RequestInfo, scope Scope, outcomes []Outcome) error {
	type study struct {
		stored, failed int
		patient        string
	}
	studies := map[string]*study{}
	var order []string
	for _, o := range outcomes {
		uid := o.StudyUID
		if uid == "" {
			uid = "-"
		}
		st := studies[uid]
		if st == nil {
			st = &study{}
			studies[uid] = st
			order = append(order, uid)
		}
		if o.Failed {
			st.failed++
			continue
		}
		st.stored++
		if scope.Kind == ScopeCentres && st.patient == "" {
			ref, err := s.cfg.Domain.PatientForImages(ctx, scope.ID, o.Record.Study.IssuerOfPatientID, o.Record.Study.PatientID)
			if err != nil {
				return err
			}
			if ref != "" {
				if err := s.cfg.Index.LinkStudy(ctx, scope, o.StudyUID, ref); err != nil {
					return err
				}
				st.patient = ref
			}
		}
	}
	events := make([]cpms.AuditEvent, 0, len(order))
	for _, uid := range order {
		st := studies[uid]
		e := cpms.AuditEvent{Action: "images.store", ObjectType: "study", ObjectID: scope.String() + "/" + uid,
			PatientID: st.patient, Detail: fmt.Sprintf("%d stored, %d refused", st.stored, st.failed)}
		if st.stored == 0 {
			e.Outcome = cpms.OutcomeMinorFailure
		}
		events = append(events, e)
	}
	return s.cfg.Domain.AuditImages(ctx, p, ri, events)
}

// Audit records that p read or searched images: one event per study.
func (s *Store) Audit(ctx context.Context, p *cpms.Principal, ri cpms.RequestInfo, scope Scope, action string, studies []StudyRef) error {
	if len(studies) == 0 {
		return nil
	}
	events := make([]cpms.AuditEvent, 0, len(studies))
	seen := map[string]bool{}
	for _, st := range studies {
		if seen[st.UID] {
			continue
		}
		seen[st.UID] = true
		events = append(events, cpms.AuditEvent{Action: action, ObjectType: "study",
			ObjectID: scope.String() + "/" + st.UID, PatientID: st.PatientRef})
	}
	return s.cfg.Domain.AuditImages(ctx, p, ri, events)
}

// AuditSearch records a QIDO search by p: one event for the search (the scope and how many
// studies it showed), and one per patient whose linked studies it showed, so that the patient's
// access log lists it. Unlike reads, a search is not recorded study by study: a page of a
// thousand studies is one event, not a thousand.
func (s *Store) AuditSearch(ctx context.Context, p *cpms.Principal, ri cpms.RequestInfo, scope Scope, studies []StudyRef) error {
	seen := map[string]bool{}
	uids := map[string]bool{}
	events := []cpms.AuditEvent{{}}
	for _, st := range studies {
		uids[st.UID] = true
		if st.PatientRef != "" && !seen[st.PatientRef] {
			seen[st.PatientRef] = true
			events = append(events, cpms.AuditEvent{Action: "images.search", ObjectType: "patient", ObjectID: st.PatientRef,
				PatientID: st.PatientRef})
		}
	}
	events[0] = cpms.AuditEvent{Action: "images.search", ObjectType: "scope", ObjectID: scope.String(),
		Detail: fmt.Sprintf("%d studies shown", len(uids))}
	return s.cfg.Domain.AuditImages(ctx, p, ri, events)
}

// StudyRef names a study in an audit event.
type StudyRef struct{ UID, PatientRef string }

// Instances returns the instances of a study or series (404 when none).
func (s *Store) Instances(ctx context.Context, scope Scope, study, series string) ([]InstanceRecord, error) {
	return s.cfg.Index.Instances(ctx, scope, study, series)
}

// Instance returns one instance, checking that it belongs to the study and series named.
func (s *Store) Instance(ctx context.Context, scope Scope, study, series, sop string) (InstanceRecord, error) {
	rec, err := s.cfg.Index.Instance(ctx, scope, sop)
	if err != nil {
		return InstanceRecord{}, err
	}
	if (study != "" && rec.StudyUID != study) || (series != "" && rec.SeriesUID != series) {
		return InstanceRecord{}, ErrNotFound
	}
	return rec, nil
}

// Search runs a QIDO query.
func (s *Store) Search(ctx context.Context, q Query) (Result, error) {
	return s.cfg.Index.Search(ctx, q)
}

// Open opens an instance's stored bytes.
func (s *Store) Open(ctx context.Context, rec InstanceRecord) (io.ReadCloser, error) {
	rc, _, err := s.cfg.Blobs.Get(ctx, rec.BlobKey)
	return rc, err
}

// OpenRange opens length bytes of an instance from off.
func (s *Store) OpenRange(ctx context.Context, rec InstanceRecord, off, length int64) (io.ReadCloser, error) {
	rc, _, err := s.cfg.Blobs.GetRange(ctx, rec.BlobKey, off, length)
	return rc, err
}

// DeleteStudy removes a study: its index records first (so nobody finds it any more), then
// its blobs. It is audited by the caller's edge through AuditImages.
func (s *Store) DeleteStudy(ctx context.Context, p *cpms.Principal, ri cpms.RequestInfo, scope Scope, study string) (int, error) {
	patient := ""
	hits, err := s.cfg.Index.Search(ctx, Query{Scope: scope, Level: LevelStudy, Limit: 1,
		Matches: []Match{{Attr: AttrStudyInstanceUID, Kind: MatchSingle, Value: study}}})
	if err != nil {
		return 0, err
	}
	if len(hits.Studies) > 0 {
		patient = hits.Studies[0].PatientRef
	}
	recs, err := s.cfg.Index.DeleteStudy(ctx, scope, study)
	if err != nil {
		return 0, err
	}
	for _, r := range recs {
		s.deleteBlob(r.BlobKey)
	}
	err = s.cfg.Domain.AuditImages(ctx, p, ri, []cpms.AuditEvent{{Action: "images.delete", ObjectType: "study",
		ObjectID: scope.String() + "/" + study, PatientID: patient, Detail: fmt.Sprintf("%d instances", len(recs))}})
	return len(recs), err
}
