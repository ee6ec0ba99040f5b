package sqlindex

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/ern-cpms/cpms/dicomweb"
	"github.com/ern-cpms/cpms/internal/sqldb"
)

// valueKind is how an attribute's values compare.
type valueKind int

const (
	kindString valueKind = iota // exact; wildcards
	kindPN                      // case-insensitive; wildcards; fuzzy on the folded words
	kindDate                    // DA: exact, ranges
	kindTime                    // TM: on the padded column, ranges
	kindInt                     // IS: integers
)

// attribute is where a matchable attribute is kept.
type attribute struct {
	level dicomweb.Level
	kind  valueKind
	col   string // the column, with its table alias (s studies, r series, i instances)
	uc    string // PN: the upper-cased column
	words string // PN: the folded words column
	norm  string // TM: the padded column
}

var attributes = map[string]attribute{
	dicomweb.AttrPatientName: {level: dicomweb.LevelStudy, kind: kindPN, col: "s.patient_name",
		uc: "s.patient_name_uc", words: "s.patient_name_words"},
	dicomweb.AttrPatientID:         {level: dicomweb.LevelStudy, col: "s.patient_id"},
	dicomweb.AttrIssuerOfPatientID: {level: dicomweb.LevelStudy, col: "s.issuer_of_patient_id"},
	dicomweb.AttrPatientBirthDate:  {level: dicomweb.LevelStudy, kind: kindDate, col: "s.patient_birth_date"},
	dicomweb.AttrPatientSex:        {level: dicomweb.LevelStudy, col: "s.patient_sex"},
	dicomweb.AttrStudyInstanceUID:  {level: dicomweb.LevelStudy, col: "s.study_uid"},
	dicomweb.AttrStudyDate:         {level: dicomweb.LevelStudy, kind: kindDate, col: "s.study_date"},
	dicomweb.AttrStudyTime:         {level: dicomweb.LevelStudy, kind: kindTime, col: "s.study_time", norm: "s.study_time_norm"},
	dicomweb.AttrAccessionNumber:   {level: dicomweb.LevelStudy, col: "s.accession_number"},
	dicomweb.AttrReferringPhysicianName: {level: dicomweb.LevelStudy, kind: kindPN, col: "s.referring_physician_name",
		uc: "s.referring_physician_uc", words: "s.referring_physician_words"},
	dicomweb.AttrStudyID:          {level: dicomweb.LevelStudy, col: "s.study_id"},
	dicomweb.AttrStudyDescription: {level: dicomweb.LevelStudy, col: "s.study_description"},
	// ModalitiesInStudy is matched on the study's series (see matchModalities).
	dicomweb.AttrModalitiesInStudy:               {level: dicomweb.LevelStudy, col: "m.modality"},
	dicomweb.AttrSeriesInstanceUID:               {level: dicomweb.LevelSeries, col: "r.series_uid"},
	dicomweb.AttrModality:                        {level: dicomweb.LevelSeries, col: "r.modality"},
	dicomweb.AttrSeriesNumber:                    {level: dicomweb.LevelSeries, kind: kindInt, col: "r.series_number"},
	dicomweb.AttrSeriesDescription:               {level: dicomweb.LevelSeries, col: "r.series_description"},
	dicomweb.AttrPerformedProcedureStepStartDate: {level: dicomweb.LevelSeries, kind: kindDate, col: "r.pps_start_date"},
	dicomweb.AttrPerformedProcedureStepStartTime: {level: dicomweb.LevelSeries, kind: kindTime, col: "r.pps_start_time",
		norm: "r.pps_start_time_norm"},
	dicomweb.AttrSOPInstanceUID: {level: dicomweb.LevelInstance, col: "i.sop_uid"},
	dicomweb.AttrSOPClassUID:    {level: dicomweb.LevelInstance, col: "i.sop_class_uid"},
	dicomweb.AttrInstanceNumber: {level: dicomweb.LevelInstance, kind: kindInt, col: "i.instance_number"},
}

var levelNames = map[dicomweb.Level]string{dicomweb.LevelStudy: "study", dicomweb.LevelSeries: "series",
	dicomweb.LevelInstance: "instance"}

// cond collects the conditions of a WHERE clause, ANDed.
type cond struct {
	glob  bool // SQLite: wildcards through GLOB (case-sensitive), not LIKE
	parts []string
	args  []any
}

func (c *cond) add(sql string, args ...any) {
	c.parts = append(c.parts, sql)
	c.args = append(c.args, args...)
}

func (c *cond) and() string {
	if len(c.parts) == 0 {
		return ""
	}
	return " AND " + strings.Join(c.parts, " AND ")
}

// pattern adds "col matches the wildcard value v", with the range of its literal prefix so
// that an index on col serves it.
func (c *cond) pattern(col, v string) {
	p, prefix := wildcardPattern(v, c.glob)
	if prefix != "" {
		c.add(col+" >= ? AND "+col+" < ?", prefix, upperPrefix(prefix))
	}
	if c.glob {
		c.add(col+" GLOB ?", p)
	} else {
		c.add(col+` LIKE ? ESCAPE '\'`, p)
	}
}

// match adds the condition of m on attribute a.
func (c *cond) match(m dicomweb.Match, a attribute) error {
	col := a.col
	conv := func(v string) (any, error) { return v, nil }
	switch a.kind {
	case kindPN:
		col, conv = a.uc, func(v string) (any, error) { return upper(v), nil }
	case kindTime:
		col, conv = a.norm, func(v string) (any, error) { return normTime(v, false), nil }
	case kindInt:
		conv = func(v string) (any, error) {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("sqlindex: %s: %q is not an integer", m.Attr, v)
			}
			return n, nil
		}
	}
	switch m.Kind {
	case dicomweb.MatchSingle, dicomweb.MatchWildcard:
		if m.Value == "" || strings.Trim(m.Value, "*") == "" && m.Kind == dicomweb.MatchWildcard {
			return nil // universal matching
		}
		if m.Kind == dicomweb.MatchWildcard && strings.ContainsAny(m.Value, "*?") {
			switch a.kind {
			case kindInt:
				return fmt.Errorf("sqlindex: %s does not take wildcards", m.Attr)
			case kindPN:
				c.pattern(a.uc, upper(m.Value))
			default:
				c.pattern(a.col, m.Value)
			}
			return nil
		}
		v, err := conv(m.Value)
		if err != nil {
			return err
		}
		c.add(col+" = ?", v)
	case dicomweb.MatchUIDList:
		vals := m.Values
		if len(vals) == 0 && m.Value != "" {
			vals = []string{m.Value}
		}
		if len(vals) == 0 {
			return nil
		}
		args := make([]any, len(vals))
		for i, s := range vals {
			v, err := conv(s)
			if err != nil {
				return err
			}
			args[i] = v
		}
		c.add(col+" IN ("+placeholders(len(args))+")", args...)
	case dicomweb.MatchRange:
		var from, to string
		switch a.kind {
		case kindDate:
			from, to = normDate(m.From), normDate(m.To)
		case kindTime:
			from, to = normTime(m.From, false), normTime(m.To, true)
		default:
			return fmt.Errorf("sqlindex: %s does not take ranges", m.Attr)
		}
		if from == "" && to == "" {
			return nil
		}
		c.add(col + " <> ''")
		if from != "" {
			c.add(col+" >= ?", from)
		}
		if to != "" {
			c.add(col+" <= ?", to)
		}
	case dicomweb.MatchFuzzy:
		if a.kind != kindPN {
			return fmt.Errorf("sqlindex: %s takes no fuzzy matching", m.Attr)
		}
		for _, w := range strings.FieldsFunc(fold(m.Value), nameWordSep) {
			if c.glob {
				c.add(a.words+" GLOB ?", containsPattern(" "+w, true))
			} else {
				c.add(a.words+` LIKE ? ESCAPE '\'`, containsPattern(" "+w, false))
			}
		}
	default:
		return fmt.Errorf("sqlindex: %s: unknown match kind %d", m.Attr, m.Kind)
	}
	return nil
}

// matchModalities adds "the study s has a series of a modality m matches".
func (c *cond) matchModalities(m dicomweb.Match) error {
	sub := cond{glob: c.glob}
	if err := sub.match(m, attributes[dicomweb.AttrModalitiesInStudy]); err != nil {
		return err
	}
	if len(sub.parts) == 0 {
		return nil
	}
	c.add(`EXISTS (SELECT 1 FROM dicomweb_series m WHERE m.scope_kind = s.scope_kind AND m.scope_id = s.scope_id
		AND m.study_uid = s.study_uid`+sub.and()+`)`, sub.args...)
	return nil
}

// Search runs a QIDO query: one page of at most Limit (DefaultLimit when 0, MaxLimit at most)
// results after Offset, ordered as dicomweb.Index says. A Match on an attribute the index does not
// know, or of a level below the query's, is an error; an empty value, a wildcard of only "*" and
// a range with both ends open match everything.
func (x *Index) Search(ctx context.Context, q dicomweb.Query) (dicomweb.Result, error) {
	if err := checkScope(q.Scope); err != nil {
		return dicomweb.Result{}, err
	}
	if _, ok := levelNames[q.Level]; !ok {
		return dicomweb.Result{}, fmt.Errorf("sqlindex: unknown query level %d", q.Level)
	}
	c := cond{glob: x.db.Dialect == sqldb.SQLite}
	if q.StudyUID != "" {
		c.add([...]string{"s.study_uid = ?", "r.study_uid = ?", "i.study_uid = ?"}[q.Level], q.StudyUID)
	}
	if q.SeriesUID != "" {
		if q.Level == dicomweb.LevelStudy {
			c.add(`EXISTS (SELECT 1 FROM dicomweb_series m WHERE m.scope_kind = s.scope_kind AND m.scope_id = s.scope_id
				AND m.study_uid = s.study_uid AND m.series_uid = ?)`, q.SeriesUID)
		} else {
			c.add([...]string{"", "r.series_uid = ?", "i.series_uid = ?"}[q.Level], q.SeriesUID)
		}
	}
	for _, m := range q.Matches {
		a, ok := attributes[m.Attr]
		if !ok {
			return dicomweb.Result{}, fmt.Errorf("sqlindex: cannot match %q", m.Attr)
		}
		if a.level > q.Level {
			return dicomweb.Result{}, fmt.Errorf("sqlindex: cannot match %s in a %s-level query", m.Attr, levelNames[q.Level])
		}
		var err error
		if m.Attr == dicomweb.AttrModalitiesInStudy {
			err = c.matchModalities(m)
		} else {
			err = c.match(m, a)
		}
		if err != nil {
			return dicomweb.Result{}, err
		}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	page := []any{limit + 1, max(q.Offset, 0)}
	args := append(append([]any{q.Scope.Kind, q.Scope.ID}, c.args...), page...)
	var res dicomweb.Result
	var n int
	var err error
	switch q.Level {
	case dicomweb.LevelStudy:
		res.Studies, err = x.searchStudies(ctx, q.Scope, c.and(), orderedByIndex(q), args)
		n = len(res.Studies)
		if res.More = n > limit; res.More {
			res.Studies = res.Studies[:limit]
		}
		if err == nil {
			err = x.fillStudyHits(ctx, res.Studies, repeatScope(q.Scope, len(res.Studies)))
		}
	case dicomweb.LevelSeries:
		res.Series, err = x.searchSeries(ctx, c.and(), args)
		n = len(res.Series)
		if res.More = n > limit; res.More {
			res.Series = res.Series[:limit]
		}
	case dicomweb.LevelInstance:
		var rows *sql.Rows
		cols := instanceCols
		if !q.Metadata {
			// Nor the study's and series' JSON, read again for every instance.
			cols = strings.NewReplacer("i.metadata, i.layout,", "NULL, NULL,", "s.attrs_json", "NULL",
				"r.attrs_json", "NULL").Replace(cols)
		}
		rows, err = x.db.Query(ctx, `SELECT `+cols+instanceFrom+` WHERE i.scope_kind = ? AND i.scope_id = ?`+
			c.and()+` ORDER BY i.instance_number NULLS LAST, i.sop_uid LIMIT ? OFFSET ?`, args...)
		if err == nil {
			res.Instances, err = scanInstances(rows, q.Scope)
		}
		n = len(res.Instances)
		if res.More = n > limit; res.More {
			res.Instances = res.Instances[:limit]
		}
	}
	if err != nil {
		return dicomweb.Result{}, wrap("search", err)
	}
	return res, nil
}

func repeatScope(s dicomweb.Scope, n int) []dicomweb.Scope {
	out := make([]dicomweb.Scope, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// orderedByIndex tells whether a study-level query should walk the index of the study order:
// when it has no condition but on the study date. Otherwise the order is written so that no
// index serves it: without statistics (SQLite's, PostgreSQL's before its first ANALYZE) the
// planners would rather walk that index through every study of the scope, filtering, than sort
// the few studies that a name, an identifier or a UID selects.
func orderedByIndex(q dicomweb.Query) bool {
	if q.StudyUID != "" || q.SeriesUID != "" {
		return false
	}
	for _, m := range q.Matches {
		if m.Attr != dicomweb.AttrStudyDate {
			return false
		}
	}
	return true
}

// studySortOrder is studyOrder that no index serves.
const studySortOrder = ` ORDER BY s.study_date || '' DESC, s.study_time_norm || '' DESC, s.study_uid || ''`

func (x *Index) searchStudies(ctx context.Context, scope dicomweb.Scope, where string, byIndex bool, args []any) ([]dicomweb.StudyHit, error) {
	order := studyOrder
	if !byIndex {
		order = studySortOrder
	}
	rows, err := x.db.Query(ctx, `SELECT `+studyHitCols+` FROM dicomweb_studies s
		WHERE s.scope_kind = ? AND s.scope_id = ?`+where+order+` LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, err
	}
	hits, _, err := scanStudyHits(rows, scope.Kind, false)
	for i := range hits {
		hits[i].Scope = scope
	}
	return hits, err
}

func (x *Index) searchSeries(ctx context.Context, where string, args []any) ([]dicomweb.SeriesHit, error) {
	rows, err := x.db.Query(ctx, `SELECT r.study_uid, r.series_uid, r.num_instances, `+studyCols+`, `+seriesCols+`, s.patient_ref
		FROM dicomweb_series r JOIN dicomweb_studies s
		ON s.scope_kind = r.scope_kind AND s.scope_id = r.scope_id AND s.study_uid = r.study_uid
		WHERE r.scope_kind = ? AND r.scope_id = ?`+where+` ORDER BY r.series_number NULLS LAST, r.series_uid LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []dicomweb.SeriesHit
	for rows.Next() {
		var h dicomweb.SeriesHit
		var n int64
		var se seriesScan
		dest := append([]any{&h.StudyUID, &h.SeriesUID, &n}, studyDest(&h.Study)...)
		if err := rows.Scan(append(append(dest, se.dest()...), &h.PatientRef)...); err != nil {
			return nil, err
		}
		h.NumInstances = int(n)
		h.Study.JSON = bytesOrNil(h.Study.JSON)
		h.Series = se.attrs()
		out = append(out, h)
	}
	return out, rows.Err()
}
