package sqlindex

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ern-cpms/cpms/dicomweb"
	"github.com/ern-cpms/cpms/internal/sqldb"
)

// errBatchRace reports a series that another transaction put in another study while a batch
// was being written: the batch is rolled back and its records put one by one.
var errBatchRace = errors.New("sqlindex: a series changed study during the batch")

// putBatch records normalised records of one scope in tx with a few statements per series and
// study rather than several per instance: the series' studies are checked first (a record whose
// series belongs to another study is refused before anything is written), each instance is
// inserted, then each series and each study is created or counted once, with the attributes of
// its newest instance. It gives the same results and rows as put called on each record in
// order.
func putBatch(ctx context.Context, tx *sqldb.Tx, recs []dicomweb.InstanceRecord) ([]dicomweb.PutResult, error) {
	out := make([]dicomweb.PutResult, len(recs))
	sc := recs[0].Scope

	// 1. The study each series belongs to: in the index, else the first record that names it.
	studyOf := map[string]string{}
	var uids []string
	for _, rec := range recs {
		if _, ok := studyOf[rec.SeriesUID]; !ok {
			studyOf[rec.SeriesUID] = ""
			uids = append(uids, rec.SeriesUID)
		}
	}
	for len(uids) > 0 {
		chunk := uids[:min(len(uids), 500)]
		uids = uids[len(chunk):]
		rows, err := tx.Query(ctx, `SELECT series_uid, study_uid FROM dicomweb_series
			WHERE scope_kind = ? AND scope_id = ? AND series_uid IN (`+placeholders(len(chunk))+`)`,
			append([]any{sc.Kind, sc.ID}, anys(chunk)...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var se, st string
			if err := rows.Scan(&se, &st); err != nil {
				rows.Close()
				return nil, err
			}
			studyOf[se] = st
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}

	// 2. The instances.
	type group struct {
		newest dicomweb.InstanceRecord
		n      int
	}
	series, studies := map[string]*group{}, map[string]*group{}
	var seriesOrder, studyOrder []string
	newSeriesOf := map[string]int{} // study → series created by this batch
	classes := map[[2]string]bool{}
	inserted := map[string]int{} // SOP → index of the record that inserted it
	for i, rec := range recs {
		if st := studyOf[rec.SeriesUID]; st != "" && st != rec.StudyUID {
			out[i].Err = fmt.Errorf("%w: series %s is in study %s, not %s", ErrConflict, rec.SeriesUID, st, rec.StudyUID)
			continue
		}
		studyOf[rec.SeriesUID] = rec.StudyUID
		if j, ok := inserted[rec.SOPUID]; ok {
			out[i] = dicomweb.PutResult{Stored: recs[j], Err: fmt.Errorf("%w: %s", dicomweb.ErrDuplicate, rec.SOPUID)}
			continue
		}
		ok, err := insertInstance(ctx, tx, rec)
		if err != nil {
			return nil, err
		}
		if !ok {
			stored, err := instance(ctx, tx, sc, rec.SOPUID)
			if err != nil {
				return nil, err
			}
			out[i] = dicomweb.PutResult{Stored: stored, Err: fmt.Errorf("%w: %s", dicomweb.ErrDuplicate, rec.SOPUID)}
			continue
		}
		inserted[rec.SOPUID] = i
		out[i].Stored = rec
		for _, g := range []struct {
			m     map[string]*group
			order *[]string
			key   string
		}{{series, &seriesOrder, rec.SeriesUID}, {studies, &studyOrder, rec.StudyUID}} {
			grp := g.m[g.key]
			if grp == nil {
				grp = &group{newest: rec}
				g.m[g.key] = grp
				*g.order = append(*g.order, g.key)
			}
			grp.n++
			if !rec.StoredAt.Before(grp.newest.StoredAt) {
				grp.newest = rec
			}
		}
		classes[[2]string{rec.StudyUID, rec.SOPClassUID}] = true
	}

	// 3. Each series, created or counted once.
	for _, uid := range seriesOrder {
		g := series[uid]
		rec, se := g.newest, g.newest.Series
		var count int64
		var study string
		err := tx.QueryRow(ctx, `INSERT INTO dicomweb_series (scope_kind, scope_id, series_uid, study_uid, modality,
			series_number, series_description, pps_start_date, pps_start_time, pps_start_time_norm, attrs_json,
			num_instances, last_stored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (scope_kind, scope_id, series_uid) DO UPDATE SET
			num_instances = dicomweb_series.num_instances + excluded.num_instances
			RETURNING num_instances, study_uid`,
			sc.Kind, sc.ID, uid, rec.StudyUID, se.Modality, intPtrArg(se.SeriesNumber), se.SeriesDescription,
			se.PerformedProcedureStepStartDate, se.PerformedProcedureStepStartTime,
			normTime(se.PerformedProcedureStepStartTime, false), se.JSON, g.n, rec.StoredAt).Scan(&count, &study)
		if err != nil {
			return nil, err
		}
		if study != rec.StudyUID {
			// Another transaction put the series in another study since step 1.
			return nil, errBatchRace
		}
		if count == int64(g.n) { // created now (an existing row counts at least one more)
			newSeriesOf[rec.StudyUID]++
			continue
		}
		_, err = tx.Exec(ctx, `UPDATE dicomweb_series SET modality = ?, series_number = ?, series_description = ?,
			pps_start_date = ?, pps_start_time = ?, pps_start_time_norm = ?, attrs_json = ?, last_stored_at = ?
			WHERE scope_kind = ? AND scope_id = ? AND series_uid = ? AND last_stored_at <= ?`,
			se.Modality, intPtrArg(se.SeriesNumber), se.SeriesDescription, se.PerformedProcedureStepStartDate,
			se.PerformedProcedureStepStartTime, normTime(se.PerformedProcedureStepStartTime, false), se.JSON, rec.StoredAt,
			sc.Kind, sc.ID, uid, rec.StoredAt)
		if err != nil {
			return nil, err
		}
	}

	// 4. Each study, likewise.
	for _, uid := range studyOrder {
		g := studies[uid]
		rec, st := g.newest, g.newest.Study
		studyArgs := []any{st.PatientName, upper(st.PatientName), wordsColumn(st.PatientName), st.PatientID,
			st.IssuerOfPatientID, st.PatientBirthDate, st.PatientSex, st.StudyDate, st.StudyTime, normTime(st.StudyTime, false),
			st.AccessionNumber, st.ReferringPhysicianName, upper(st.ReferringPhysicianName),
			wordsColumn(st.ReferringPhysicianName), st.StudyID, st.StudyDescription, st.JSON, rec.StoredAt}
		var count int64
		err := tx.QueryRow(ctx, `INSERT INTO dicomweb_studies (scope_kind, scope_id, study_uid, `+studyAttrCols+`,
			num_series, num_instances) VALUES (?, ?, ?, `+placeholders(len(studyArgs))+`, ?, ?)
			ON CONFLICT (scope_kind, scope_id, study_uid) DO UPDATE SET
			num_instances = dicomweb_studies.num_instances + excluded.num_instances,
			num_series = dicomweb_studies.num_series + excluded.num_series
			RETURNING num_instances`,
			append(append([]any{sc.Kind, sc.ID, uid}, studyArgs...), newSeriesOf[uid], g.n)...).Scan(&count)
		if err != nil {
			return nil, err
		}
		if count > int64(g.n) {
			set := strings.ReplaceAll(studyAttrCols, ",", " = ?,") + " = ?"
			_, err = tx.Exec(ctx, `UPDATE dicomweb_studies SET `+set+`
				WHERE scope_kind = ? AND scope_id = ? AND study_uid = ? AND last_stored_at <= ?`,
				append(studyArgs, sc.Kind, sc.ID, uid, rec.StoredAt)...)
			if err != nil {
				return nil, err
			}
		}
	}

	// 5. The SOP classes of the studies.
	for _, uid := range studyOrder {
		for k := range classes {
			if k[0] != uid {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO dicomweb_study_classes (scope_kind, scope_id, study_uid, sop_class_uid)
				VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, sc.Kind, sc.ID, uid, k[1]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
