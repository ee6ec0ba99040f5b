// Package sqlindex implements dicomweb.Index on the product's relational database, SQLite or
// PostgreSQL through internal/sqldb, with the component "dicomweb" migrations embedded here.
//
// Each scope's studies, series and instances live in their own rows (every key starts with the
// scope), the study and series rows holding the attributes of their newest instance (by
// StoredAt), the counts QIDO computes, and normalised copies of the values that matching needs:
// PN values upper-cased, their words folded to ASCII for fuzzy matching, TM values padded to
// HHMMSS.FFFFFF. The instances' metadata and layout sit in their own columns, read only when
// instances are returned.
//
// Times are stored in UTC, truncated to the microsecond, and come back that way. The study and
// series attributes of a returned InstanceRecord are those of its study and series rows (the
// newest instance's), not a copy kept per instance.
package sqlindex

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ern-cpms/cpms/dicomweb"
	"github.com/ern-cpms/cpms/internal/sqldb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the schema migrations of the dicomweb component.
func Migrations() sqldb.Migrations {
	return sqldb.EmbeddedMigrations("dicomweb", migrationFiles, "migrations")
}

// ErrConflict is returned (wrapped) by PutInstance for an instance whose series UID the scope
// already holds under another study. It is dicomweb.ErrConflict, so that callers need not
// import this package to recognise it.
var ErrConflict = dicomweb.ErrConflict

// Page sizes of Search: a query without a limit gets DefaultLimit results, and no page is
// longer than MaxLimit (Result.More then tells that more match).
const (
	MaxLimit     = 1000
	DefaultLimit = MaxLimit
)

// Index is dicomweb.Index on a SQL database.
type Index struct {
	db *sqldb.DB
}

var _ dicomweb.Index = (*Index)(nil)

// New applies the dicomweb migrations that the database lacks and returns an Index on it. The
// Index does not close the database.
func New(ctx context.Context, db *sqldb.DB) (*Index, error) {
	if db == nil {
		return nil, errors.New("sqlindex: no database configured")
	}
	if _, err := db.Migrate(ctx, Migrations()); err != nil {
		return nil, fmt.Errorf("sqlindex: migrate: %w", err)
	}
	return &Index{db: db}, nil
}

// querier is what *sqldb.DB and *sqldb.Tx have in common.
type querier interface {
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, dicomweb.ErrNotFound) || errors.Is(err, dicomweb.ErrDuplicate) || errors.Is(err, ErrConflict) {
		return err
	}
	return fmt.Errorf("sqlindex: %s: %w", op, err)
}

func notFound(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{dicomweb.ErrNotFound}, args...)...)
}

// ts is how the index keeps a time: UTC, to the microsecond.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// bytesOrNil keeps empty byte values as NULL, so that they come back as nil.
func bytesOrNil(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func intPtrArg(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

func intPtrOf(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func checkScope(s dicomweb.Scope) error {
	if s.Kind == "" || s.ID == "" {
		return fmt.Errorf("sqlindex: incomplete scope %q", s.String())
	}
	return nil
}

// normalized is rec as the index keeps it.
func normalized(rec dicomweb.InstanceRecord) dicomweb.InstanceRecord {
	if rec.StoredAt.IsZero() {
		rec.StoredAt = time.Now()
	}
	rec.PatientRef = "" // links are LinkStudy's
	rec.StoredAt = ts(rec.StoredAt)
	rec.Metadata, rec.Layout, rec.Summary = bytesOrNil(rec.Metadata), bytesOrNil(rec.Layout), bytesOrNil(rec.Summary)
	rec.Study.JSON, rec.Series.JSON = bytesOrNil(rec.Study.JSON), bytesOrNil(rec.Series.JSON)
	return rec
}

// PutInstance records rec as a batch of one (see PutInstances and putBatch). A zero StoredAt is
// taken as now. When the scope holds rec.SOPUID already, nothing changes and the stored record
// comes back with dicomweb.ErrDuplicate; when rec's series belongs to another study of the
// scope, nothing changes and the error wraps ErrConflict.
func (x *Index) PutInstance(ctx context.Context, rec dicomweb.InstanceRecord) (dicomweb.InstanceRecord, error) {
	res, err := x.PutInstances(ctx, []dicomweb.InstanceRecord{rec})
	if err != nil {
		return dicomweb.InstanceRecord{}, err
	}
	return res[0].Stored, res[0].Err
}

// PutInstances records recs in one transaction: as one batch when they share a scope (putBatch),
// else (or when a concurrent transaction moved a series meanwhile) one by one, each under a
// savepoint, so that a record that cannot be kept leaves no trace while the others are kept.
func (x *Index) PutInstances(ctx context.Context, recs []dicomweb.InstanceRecord) ([]dicomweb.PutResult, error) {
	norm := make([]dicomweb.InstanceRecord, len(recs))
	for i, rec := range recs {
		if err := checkScope(rec.Scope); err != nil {
			return nil, err
		}
		if rec.StudyUID == "" || rec.SeriesUID == "" || rec.SOPUID == "" {
			return nil, errors.New("sqlindex: an instance needs study, series and SOP instance UIDs")
		}
		norm[i] = normalized(rec)
	}
	sameScope := len(norm) > 0
	for _, rec := range norm {
		sameScope = sameScope && rec.Scope == norm[0].Scope
	}
	var out []dicomweb.PutResult
	if sameScope {
		err := x.db.InTx(ctx, func(tx *sqldb.Tx) error {
			var err error
			out, err = putBatch(ctx, tx, norm)
			return err
		})
		if err == nil {
			return out, nil
		}
		if !errors.Is(err, errBatchRace) {
			return nil, wrap("put instances", err)
		}
	}
	err := x.db.InTx(ctx, func(tx *sqldb.Tx) error {
		out = make([]dicomweb.PutResult, len(norm)) // again on a retry
		for i, rec := range norm {
			if _, err := tx.Exec(ctx, "SAVEPOINT put_instance"); err != nil {
				return err
			}
			res, err := putBatch(ctx, tx, []dicomweb.InstanceRecord{rec})
			switch {
			case errors.Is(err, errBatchRace):
				if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT put_instance"); err != nil {
					return err
				}
				out[i].Err = fmt.Errorf("%w: series %s was put in another study meanwhile", ErrConflict, rec.SeriesUID)
			case err != nil:
				return err
			default:
				out[i] = res[0]
			}
			if _, err := tx.Exec(ctx, "RELEASE SAVEPOINT put_instance"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap("put instances", err)
	}
	return out, nil
}

// insertInstance inserts rec's instance row; false when the scope holds the SOP instance already
// (nothing is written then).
func insertInstance(ctx context.Context, tx *sqldb.Tx, rec dicomweb.InstanceRecord) (bool, error) {
	sc := rec.Scope
	res, err := tx.Exec(ctx, `INSERT INTO dicomweb_instances (scope_kind, scope_id, sop_uid, study_uid, series_uid,
		sop_class_uid, transfer_syntax_uid, instance_number, num_rows, num_columns, num_frames, bits_allocated, blob_key,
		size_bytes, sha256, stored_at, metadata, layout, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (scope_kind, scope_id, sop_uid) DO NOTHING`,
		sc.Kind, sc.ID, rec.SOPUID, rec.StudyUID, rec.SeriesUID, rec.SOPClassUID, rec.TransferSyntaxUID,
		intPtrArg(rec.InstanceNumber), rec.Rows, rec.Columns, rec.NumberOfFrames, rec.BitsAllocated, rec.BlobKey,
		rec.Size, rec.SHA256, rec.StoredAt, rec.Metadata, rec.Layout, rec.Summary)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// studyAttrCols are the study columns putBatch writes, in the order of its studyArgs.
const studyAttrCols = `patient_name, patient_name_uc, patient_name_words, patient_id, issuer_of_patient_id,
	patient_birth_date, patient_sex, study_date, study_time, study_time_norm, accession_number,
	referring_physician_name, referring_physician_uc, referring_physician_words, study_id, study_description,
	attrs_json, last_stored_at`

// Columns read into StudyAttrs (table alias s) and SeriesAttrs (alias r), in scan order.
const (
	studyCols = `s.patient_name, s.patient_id, s.issuer_of_patient_id, s.patient_birth_date, s.patient_sex,
	s.study_date, s.study_time, s.accession_number, s.referring_physician_name, s.study_id, s.study_description,
	s.attrs_json`
	seriesCols = `r.modality, r.series_number, r.series_description, r.pps_start_date, r.pps_start_time, r.attrs_json`
	// instanceCols are the columns of a whole InstanceRecord, from instances i joined to their
	// series r and study s.
	instanceCols = `i.study_uid, i.series_uid, i.sop_uid, i.sop_class_uid, i.transfer_syntax_uid, i.instance_number,
	i.num_rows, i.num_columns, i.num_frames, i.bits_allocated, i.blob_key, i.size_bytes, i.sha256, i.stored_at,
	i.metadata, i.layout, i.summary, ` + studyCols + `, ` + seriesCols + `, s.patient_ref`
	instanceFrom = ` FROM dicomweb_instances i
	JOIN dicomweb_series r ON r.scope_kind = i.scope_kind AND r.scope_id = i.scope_id AND r.series_uid = i.series_uid
	JOIN dicomweb_studies s ON s.scope_kind = i.scope_kind AND s.scope_id = i.scope_id AND s.study_uid = i.study_uid`
)

func studyDest(a *dicomweb.StudyAttrs) []any {
	return []any{&a.PatientName, &a.PatientID, &a.IssuerOfPatientID, &a.PatientBirthDate, &a.PatientSex, &a.StudyDate,
		&a.StudyTime, &a.AccessionNumber, &a.ReferringPhysicianName, &a.StudyID, &a.StudyDescription, &a.JSON}
}

// seriesScan receives seriesCols.
type seriesScan struct {
	a      dicomweb.SeriesAttrs
	number sql.NullInt64
}

func (s *seriesScan) dest() []any {
	return []any{&s.a.Modality, &s.number, &s.a.SeriesDescription, &s.a.PerformedProcedureStepStartDate,
		&s.a.PerformedProcedureStepStartTime, &s.a.JSON}
}

func (s *seriesScan) attrs() dicomweb.SeriesAttrs {
	s.a.SeriesNumber = intPtrOf(s.number)
	s.a.JSON = bytesOrNil(s.a.JSON)
	return s.a
}

// scanInstance reads a row of instanceCols.
func scanInstance(sc scanner, scope dicomweb.Scope) (dicomweb.InstanceRecord, error) {
	rec := dicomweb.InstanceRecord{Scope: scope}
	var num sql.NullInt64
	var rows, cols, frames, bits int64
	var se seriesScan
	dest := []any{&rec.StudyUID, &rec.SeriesUID, &rec.SOPUID, &rec.SOPClassUID, &rec.TransferSyntaxUID, &num,
		&rows, &cols, &frames, &bits, &rec.BlobKey, &rec.Size, &rec.SHA256, &rec.StoredAt, &rec.Metadata, &rec.Layout, &rec.Summary}
	dest = append(append(dest, studyDest(&rec.Study)...), se.dest()...)
	if err := sc.Scan(append(dest, &rec.PatientRef)...); err != nil {
		return dicomweb.InstanceRecord{}, err
	}
	rec.InstanceNumber = intPtrOf(num)
	rec.Rows, rec.Columns, rec.NumberOfFrames, rec.BitsAllocated = int(rows), int(cols), int(frames), int(bits)
	rec.StoredAt = rec.StoredAt.UTC()
	rec.Metadata, rec.Layout, rec.Study.JSON = bytesOrNil(rec.Metadata), bytesOrNil(rec.Layout), bytesOrNil(rec.Study.JSON)
	rec.Summary = bytesOrNil(rec.Summary)
	rec.Series = se.attrs()
	return rec, nil
}

func scanInstances(rows *sql.Rows, scope dicomweb.Scope) ([]dicomweb.InstanceRecord, error) {
	defer rows.Close()
	var out []dicomweb.InstanceRecord
	for rows.Next() {
		rec, err := scanInstance(rows, scope)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

func instance(ctx context.Context, q querier, scope dicomweb.Scope, sopUID string) (dicomweb.InstanceRecord, error) {
	rec, err := scanInstance(q.QueryRow(ctx, `SELECT `+instanceCols+instanceFrom+`
		WHERE i.scope_kind = ? AND i.scope_id = ? AND i.sop_uid = ?`, scope.Kind, scope.ID, sopUID), scope)
	if errors.Is(err, sql.ErrNoRows) {
		return dicomweb.InstanceRecord{}, notFound("instance %s in %s", sopUID, scope)
	}
	return rec, err
}

// Instance returns one instance by SOP Instance UID.
func (x *Index) Instance(ctx context.Context, scope dicomweb.Scope, sopUID string) (dicomweb.InstanceRecord, error) {
	rec, err := instance(ctx, x.db, scope, sopUID)
	return rec, wrap("read instance", err)
}

// instancesOrder is the order of Instances.
const instancesOrder = ` ORDER BY r.series_number NULLS LAST, r.series_uid, i.instance_number NULLS LAST, i.sop_uid`

// Instances returns the instances of a study, or of one of its series.
func (x *Index) Instances(ctx context.Context, scope dicomweb.Scope, studyUID, seriesUID string) ([]dicomweb.InstanceRecord, error) {
	out, err := instances(ctx, x.db, scope, studyUID, seriesUID)
	if err == nil && len(out) == 0 {
		if seriesUID != "" {
			return nil, notFound("series %s of study %s in %s", seriesUID, studyUID, scope)
		}
		return nil, notFound("study %s in %s", studyUID, scope)
	}
	return out, wrap("read instances", err)
}

func instances(ctx context.Context, q querier, scope dicomweb.Scope, studyUID, seriesUID string) ([]dicomweb.InstanceRecord, error) {
	query := `SELECT ` + instanceCols + instanceFrom + ` WHERE i.scope_kind = ? AND i.scope_id = ? AND i.study_uid = ?`
	args := []any{scope.Kind, scope.ID, studyUID}
	if seriesUID != "" {
		query += ` AND i.series_uid = ?`
		args = append(args, seriesUID)
	}
	rows, err := q.Query(ctx, query+instancesOrder, args...)
	if err != nil {
		return nil, err
	}
	return scanInstances(rows, scope)
}

// DeleteStudy removes a study's instance, series and study rows in one transaction and returns
// the instances it held.
func (x *Index) DeleteStudy(ctx context.Context, scope dicomweb.Scope, studyUID string) ([]dicomweb.InstanceRecord, error) {
	var out []dicomweb.InstanceRecord
	err := x.db.InTx(ctx, func(tx *sqldb.Tx) error {
		var err error
		if out, err = instances(ctx, tx, scope, studyUID, ""); err != nil {
			return err
		}
		key := []any{scope.Kind, scope.ID, studyUID}
		for _, table := range []string{"dicomweb_instances", "dicomweb_series", "dicomweb_study_classes"} {
			if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE scope_kind = ? AND scope_id = ? AND study_uid = ?`, key...); err != nil {
				return err
			}
		}
		res, err := tx.Exec(ctx, `DELETE FROM dicomweb_studies WHERE scope_kind = ? AND scope_id = ? AND study_uid = ?`, key...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return notFound("study %s in %s", studyUID, scope)
		}
		return nil
	})
	if err != nil {
		return nil, wrap("delete study", err)
	}
	return out, nil
}

// LinkStudy sets (or, with "", clears) the patient a study belongs to.
func (x *Index) LinkStudy(ctx context.Context, scope dicomweb.Scope, studyUID, patientRef string) error {
	res, err := x.db.Exec(ctx, `UPDATE dicomweb_studies SET patient_ref = ? WHERE scope_kind = ? AND scope_id = ? AND study_uid = ?`,
		patientRef, scope.Kind, scope.ID, studyUID)
	if err != nil {
		return wrap("link study", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap("link study", err)
	} else if n == 0 {
		return notFound("study %s in %s", studyUID, scope)
	}
	return nil
}

// StudiesOfPatient lists the studies linked to a patient in every scope of the kind, newest
// first (as Search orders them), then by scope ID. An empty patientRef links no study.
func (x *Index) StudiesOfPatient(ctx context.Context, kind, patientRef string) ([]dicomweb.StudyHit, error) {
	if patientRef == "" {
		return nil, nil
	}
	rows, err := x.db.Query(ctx, `SELECT s.scope_id, `+studyHitCols+` FROM dicomweb_studies s
		WHERE s.scope_kind = ? AND s.patient_ref = ?`+studyOrder+`, s.scope_id`, kind, patientRef)
	if err != nil {
		return nil, wrap("studies of patient", err)
	}
	hits, scopes, err := scanStudyHits(rows, kind, true)
	if err != nil {
		return nil, wrap("studies of patient", err)
	}
	return hits, wrap("studies of patient", x.fillStudyHits(ctx, hits, scopes))
}

// UnlinkedStudies lists the newest studies of a scope that are linked to no patient.
func (x *Index) UnlinkedStudies(ctx context.Context, scope dicomweb.Scope, limit int) ([]dicomweb.StudyHit, error) {
	if limit <= 0 || limit > MaxLimit {
		limit = MaxLimit
	}
	rows, err := x.db.Query(ctx, `SELECT s.scope_id, `+studyHitCols+` FROM dicomweb_studies s
		WHERE s.scope_kind = ? AND s.scope_id = ? AND s.patient_ref = ''`+studyOrder+` LIMIT ?`, scope.Kind, scope.ID, limit)
	if err != nil {
		return nil, wrap("unlinked studies", err)
	}
	hits, scopes, err := scanStudyHits(rows, scope.Kind, true)
	if err != nil {
		return nil, wrap("unlinked studies", err)
	}
	return hits, wrap("unlinked studies", x.fillStudyHits(ctx, hits, scopes))
}

// studyHitCols are the columns of a StudyHit (alias s), read by scanStudyHits.
const studyHitCols = `s.study_uid, s.patient_ref, s.num_series, s.num_instances, s.last_stored_at, ` + studyCols

// studyOrder is the order of studies: newest first, then by UID.
const studyOrder = ` ORDER BY s.study_date DESC, s.study_time_norm DESC, s.study_uid`

// scanStudyHits reads rows of studyHitCols, each preceded by the scope ID when withScope is set,
// and returns the scopes of the hits.
func scanStudyHits(rows *sql.Rows, kind string, withScope bool) ([]dicomweb.StudyHit, []dicomweb.Scope, error) {
	defer rows.Close()
	var hits []dicomweb.StudyHit
	var scopes []dicomweb.Scope
	for rows.Next() {
		var h dicomweb.StudyHit
		var scopeID string
		var nse, nin int64
		dest := []any{&h.StudyUID, &h.PatientRef, &nse, &nin, &h.LastStoredAt}
		if withScope {
			dest = append([]any{&scopeID}, dest...)
		}
		if err := rows.Scan(append(dest, studyDest(&h.Study)...)...); err != nil {
			return nil, nil, err
		}
		h.NumSeries, h.NumInstances = int(nse), int(nin)
		h.LastStoredAt = h.LastStoredAt.UTC()
		h.Study.JSON = bytesOrNil(h.Study.JSON)
		if withScope {
			h.Scope = dicomweb.Scope{Kind: kind, ID: scopeID}
		}
		hits = append(hits, h)
		scopes = append(scopes, dicomweb.Scope{Kind: kind, ID: scopeID})
	}
	return hits, scopes, rows.Err()
}

// fillStudyHits sets the modalities and SOP classes of hits, the study of hits[i] being in
// scopes[i].
func (x *Index) fillStudyHits(ctx context.Context, hits []dicomweb.StudyHit, scopes []dicomweb.Scope) error {
	type key struct {
		scope dicomweb.Scope
		uid   string
	}
	at := make(map[key]int, len(hits))
	byScope := map[dicomweb.Scope][]string{}
	for i, h := range hits {
		at[key{scopes[i], h.StudyUID}] = i
		byScope[scopes[i]] = append(byScope[scopes[i]], h.StudyUID)
	}
	collect := func(scope dicomweb.Scope, query string, uids []string, add func(h *dicomweb.StudyHit, v string)) error {
		args := append([]any{scope.Kind, scope.ID}, anys(uids)...)
		rows, err := x.db.Query(ctx, query+` WHERE scope_kind = ? AND scope_id = ? AND study_uid IN (`+placeholders(len(uids))+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var uid, v string
			if err := rows.Scan(&uid, &v); err != nil {
				return err
			}
			if i, ok := at[key{scope, uid}]; ok && v != "" {
				add(&hits[i], v)
			}
		}
		return rows.Err()
	}
	for scope, uids := range byScope {
		for len(uids) > 0 {
			chunk := uids[:min(len(uids), 500)]
			uids = uids[len(chunk):]
			if err := collect(scope, `SELECT DISTINCT study_uid, modality FROM dicomweb_series`, chunk,
				func(h *dicomweb.StudyHit, v string) { h.Modalities = append(h.Modalities, v) }); err != nil {
				return err
			}
			if err := collect(scope, `SELECT study_uid, sop_class_uid FROM dicomweb_study_classes`, chunk,
				func(h *dicomweb.StudyHit, v string) { h.SOPClasses = append(h.SOPClasses, v) }); err != nil {
				return err
			}
		}
	}
	for i := range hits {
		sort.Strings(hits[i].Modalities)
		sort.Strings(hits[i].SOPClasses)
	}
	return nil
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
