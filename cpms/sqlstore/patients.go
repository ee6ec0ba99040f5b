package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/internal/sqldb"
)

// patientRow is what the data column keeps of a patient: every field but the consents.
func patientData(p cpms.Patient) (string, error) {
	p.Consents = nil
	b, err := json.Marshal(p)
	return string(b), err
}

func consentData(c cpms.Consent) (string, error) {
	b, err := json.Marshal(c)
	return string(b), err
}

func consentStatus(c cpms.Consent) string {
	if c.Withdrawn {
		return "inactive"
	}
	return "active"
}

// CreatePatient stores a new patient with its consents and gives it the next CPMS ID of its
// centre and ERN.
func (s *Store) CreatePatient(ctx context.Context, p cpms.Patient) (cpms.Patient, error) {
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		// Everything that does not need the number is written first (the references to the
		// patient row are checked at commit). The number comes last: the upsert locks the
		// sequence row until the transaction ends, so concurrent enrolments at the same centre
		// and ERN queue there, on every process, and hold it only for the patient's two rows
		// and the commit. A rolled-back enrolment leaves no gap.
		if err := insertIdentifiers(ctx, tx, p); err != nil {
			return err
		}
		for i, c := range p.Consents {
			if err := putConsent(ctx, tx, c, 0); err != nil {
				return err
			}
			p.Consents[i].Centre = p.Centre
		}
		var seq int64
		err := tx.QueryRow(ctx, `INSERT INTO cpms_id_seq (centre, ern, last) VALUES (?, ?, 1)
			ON CONFLICT (centre, ern) DO UPDATE SET last = cpms_id_seq.last + 1 RETURNING last`, p.Centre, p.ERN).Scan(&seq)
		if err != nil {
			return err
		}
		p.Seq = int(seq)
		p.CPMSID = cpms.CPMSID(p.Centre, p.ERN, p.Seq)
		data, err := patientData(p)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO patients (id, cpms_id, ern, centre, seq, family_norm, given_norm, label_norm,
			gender, birth_date, enrolled_on, clinician_id, frozen, consent_care, consent_registry, version, updated_at, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.CPMSID, p.ERN, p.Centre, p.Seq, cpms.NormalizeName(p.LastName), cpms.NormalizeName(p.FirstName),
			cpms.NormalizeName(p.RecordLabel), string(p.Gender), string(p.BirthDate), string(p.EnrolledOn), p.Clinician.ID,
			p.Frozen, p.ConsentStatus(cpms.ConsentCare), p.ConsentStatus(cpms.ConsentRegistry), p.Version, ts(p.UpdatedAt), data)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO patient_versions (patient_id, version, updated_at, data) VALUES (?, ?, ?, ?)`,
			p.ID, p.Version, ts(p.UpdatedAt), data)
		return err
	})
	if sqldb.IsUniqueViolation(err) {
		return cpms.Patient{}, conflict("a patient of this ERN already holds that identifier")
	}
	if isForeignKeyViolation(err) {
		return cpms.Patient{}, notFound("ERN or centre")
	}
	return p, wrap("create patient", err)
}

// insertIdentifiers stores a new patient's local identifiers.
func insertIdentifiers(ctx context.Context, tx *sqldb.Tx, p cpms.Patient) error {
	for _, id := range p.Identifiers {
		if _, err := tx.Exec(ctx, `INSERT INTO patient_identifiers (ern, system, value, patient_id) VALUES (?, ?, ?, ?)`,
			p.ERN, id.System, id.Value, p.ID); err != nil {
			return err
		}
	}
	return nil
}

func putIdentifiers(ctx context.Context, tx *sqldb.Tx, p cpms.Patient) error {
	if _, err := tx.Exec(ctx, `DELETE FROM patient_identifiers WHERE patient_id = ?`, p.ID); err != nil {
		return err
	}
	return insertIdentifiers(ctx, tx, p)
}

// putConsent inserts a consent (prev 0) or replaces the current row of version prev, and keeps
// the version in the history.
func putConsent(ctx context.Context, tx *sqldb.Tx, c cpms.Consent, prev int) error {
	data, err := consentData(c)
	if err != nil {
		return err
	}
	if prev == 0 {
		_, err = tx.Exec(ctx, `INSERT INTO consents (id, patient_id, kind, status, answer_date, version, updated_at, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, c.PatientID, string(c.Kind), consentStatus(c), string(c.Date), c.Version, ts(c.UpdatedAt), data)
	} else {
		_, err = tx.Exec(ctx, `UPDATE consents SET status = ?, answer_date = ?, version = ?, updated_at = ?, data = ? WHERE id = ?`,
			consentStatus(c), string(c.Date), c.Version, ts(c.UpdatedAt), data, c.ID)
	}
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO consent_versions (consent_id, version, updated_at, data) VALUES (?, ?, ?, ?)`,
		c.ID, c.Version, ts(c.UpdatedAt), data)
	return err
}

// Patient returns the patient with this ID and its consents.
func (s *Store) Patient(ctx context.Context, id string) (cpms.Patient, error) {
	p, err := patientWhere(ctx, s.db, "id = ?", id)
	return p, wrap("read patient", err)
}

// PatientByCPMSID returns the patient with this CPMS ID.
func (s *Store) PatientByCPMSID(ctx context.Context, cpmsID string) (cpms.Patient, error) {
	p, err := patientWhere(ctx, s.db, "cpms_id = ?", cpmsID)
	return p, wrap("read patient", err)
}

func patientWhere(ctx context.Context, q querier, where string, arg any) (cpms.Patient, error) {
	// One statement for the patient and its consents: a read is the hottest path of the store.
	rows, err := q.Query(ctx, `SELECT p.data, c.data FROM patients p LEFT JOIN consents c ON c.patient_id = p.id
		WHERE p.`+where, arg)
	if err != nil {
		return cpms.Patient{}, err
	}
	defer rows.Close()
	var (
		p     cpms.Patient
		found bool
	)
	for rows.Next() {
		var pdata string
		var cdata sql.NullString
		if err := rows.Scan(&pdata, &cdata); err != nil {
			return cpms.Patient{}, err
		}
		if !found {
			if err := json.Unmarshal([]byte(pdata), &p); err != nil {
				return cpms.Patient{}, fmt.Errorf("patient: %w", err)
			}
			p.Consents, found = nil, true
		}
		if cdata.Valid {
			var c cpms.Consent
			if err := json.Unmarshal([]byte(cdata.String), &c); err != nil {
				return cpms.Patient{}, fmt.Errorf("patient %s: consent: %w", p.ID, err)
			}
			c.Centre = p.Centre
			p.Consents = append(p.Consents, c)
		}
	}
	if err := rows.Err(); err != nil {
		return cpms.Patient{}, err
	}
	if !found {
		return cpms.Patient{}, notFound("patient")
	}
	sortConsents(p.Consents)
	return p, nil
}

// withConsents fills in the current consents of the patients.
func withConsents(ctx context.Context, q querier, ps []cpms.Patient) error {
	if len(ps) == 0 {
		return nil
	}
	idx := make(map[string]int, len(ps))
	ids := make([]string, len(ps))
	for i, p := range ps {
		idx[p.ID], ids[i] = i, p.ID
		ps[i].Consents = nil
	}
	for _, chunk := range chunks(ids, 500) {
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := q.Query(ctx, `SELECT data FROM consents WHERE patient_id IN (`+placeholders(len(chunk))+`) ORDER BY patient_id, kind`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var data string
			var c cpms.Consent
			if err := rows.Scan(&data); err != nil {
				rows.Close()
				return err
			}
			if err := json.Unmarshal([]byte(data), &c); err != nil {
				rows.Close()
				return err
			}
			i := idx[c.PatientID]
			c.Centre = ps[i].Centre
			ps[i].Consents = append(ps[i].Consents, c)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for i := range ps {
		sortConsents(ps[i].Consents)
	}
	return nil
}

// sortConsents puts consents in the order of cpms.ConsentKinds.
func sortConsents(cs []cpms.Consent) {
	rank := func(k cpms.ConsentKind) int {
		for i, kk := range cpms.ConsentKinds {
			if kk == k {
				return i
			}
		}
		return len(cpms.ConsentKinds)
	}
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && rank(cs[j].Kind) < rank(cs[j-1].Kind); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// UpdatePatient changes a patient in one transaction, keeping the previous versions.
func (s *Store) UpdatePatient(ctx context.Context, id string, fn func(p *cpms.Patient) error) (cpms.Patient, error) {
	var out cpms.Patient
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		p, err := updatePatient(ctx, tx, id, fn)
		out = p
		return err
	})
	if sqldb.IsUniqueViolation(err) {
		return cpms.Patient{}, conflict("a patient of this ERN already holds that identifier")
	}
	return out, wrap("update patient", err)
}

func updatePatient(ctx context.Context, tx *sqldb.Tx, id string, fn func(p *cpms.Patient) error) (cpms.Patient, error) {
	old, err := patientWhere(ctx, tx, "id = ?", id)
	if err != nil {
		return cpms.Patient{}, err
	}
	p := old
	p.Identifiers = append([]cpms.LocalIdentifier(nil), old.Identifiers...)
	p.Consents = append([]cpms.Consent(nil), old.Consents...)
	if err := fn(&p); err != nil {
		return cpms.Patient{}, err
	}
	p.ID, p.CPMSID, p.Seq, p.ERN = old.ID, old.CPMSID, old.Seq, old.ERN
	prev := map[string]int{}
	for _, c := range old.Consents {
		prev[c.ID] = c.Version
	}
	for _, c := range p.Consents {
		v, existed := prev[c.ID]
		if existed && v == c.Version {
			continue
		}
		if existed && c.Version <= v {
			return cpms.Patient{}, fmt.Errorf("consent %s: version %d does not follow %d", c.ID, c.Version, v)
		}
		c.PatientID = p.ID
		if err := putConsent(ctx, tx, c, v); err != nil {
			return cpms.Patient{}, err
		}
	}
	if p.Version == old.Version {
		// Consents alone changed: keep the list's consent columns in step.
		care, reg := p.ConsentStatus(cpms.ConsentCare), p.ConsentStatus(cpms.ConsentRegistry)
		if care != old.ConsentStatus(cpms.ConsentCare) || reg != old.ConsentStatus(cpms.ConsentRegistry) {
			if _, err := tx.Exec(ctx, `UPDATE patients SET consent_care = ?, consent_registry = ? WHERE id = ?`, care, reg, id); err != nil {
				return cpms.Patient{}, err
			}
		}
		for i := range p.Consents {
			p.Consents[i].Centre = p.Centre
		}
		sortConsents(p.Consents)
		return p, nil
	}
	if p.Version < old.Version {
		return cpms.Patient{}, fmt.Errorf("patient %s: version %d does not follow %d", id, p.Version, old.Version)
	}
	data, err := patientData(p)
	if err != nil {
		return cpms.Patient{}, err
	}
	_, err = tx.Exec(ctx, `UPDATE patients SET centre = ?, family_norm = ?, given_norm = ?, label_norm = ?, gender = ?,
		birth_date = ?, enrolled_on = ?, clinician_id = ?, frozen = ?, consent_care = ?, consent_registry = ?, version = ?,
		updated_at = ?, data = ? WHERE id = ?`,
		p.Centre, cpms.NormalizeName(p.LastName), cpms.NormalizeName(p.FirstName), cpms.NormalizeName(p.RecordLabel),
		string(p.Gender), string(p.BirthDate), string(p.EnrolledOn), p.Clinician.ID, p.Frozen,
		p.ConsentStatus(cpms.ConsentCare), p.ConsentStatus(cpms.ConsentRegistry), p.Version, ts(p.UpdatedAt), data, id)
	if err != nil {
		return cpms.Patient{}, err
	}
	if err := putIdentifiers(ctx, tx, p); err != nil {
		return cpms.Patient{}, err
	}
	_, err = tx.Exec(ctx, `INSERT INTO patient_versions (patient_id, version, updated_at, data) VALUES (?, ?, ?, ?)`,
		p.ID, p.Version, ts(p.UpdatedAt), data)
	if err != nil {
		return cpms.Patient{}, err
	}
	sortConsents(p.Consents)
	for i := range p.Consents {
		p.Consents[i].Centre = p.Centre
	}
	return p, nil
}

// PatientVersions returns every version of the patient, oldest first.
func (s *Store) PatientVersions(ctx context.Context, id string) ([]cpms.Patient, error) {
	rows, err := s.db.Query(ctx, `SELECT data FROM patient_versions WHERE patient_id = ? ORDER BY version`, id)
	if err != nil {
		return nil, wrap("read patient versions", err)
	}
	defer rows.Close()
	var out []cpms.Patient
	for rows.Next() {
		var data string
		var p cpms.Patient
		if err := rows.Scan(&data); err != nil {
			return nil, wrap("read patient versions", err)
		}
		if err := json.Unmarshal([]byte(data), &p); err != nil {
			return nil, wrap("read patient versions", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("read patient versions", err)
	}
	if len(out) == 0 {
		return nil, notFound("patient")
	}
	return out, nil
}

// Consent returns the current version of a consent, with the patient's centre.
func (s *Store) Consent(ctx context.Context, id string) (cpms.Consent, error) {
	var data, centre string
	err := s.db.QueryRow(ctx, `SELECT c.data, p.centre FROM consents c JOIN patients p ON p.id = c.patient_id WHERE c.id = ?`, id).Scan(&data, &centre)
	if errors.Is(err, sql.ErrNoRows) {
		return cpms.Consent{}, notFound("consent")
	} else if err != nil {
		return cpms.Consent{}, wrap("read consent", err)
	}
	var c cpms.Consent
	err = json.Unmarshal([]byte(data), &c)
	c.Centre = centre
	return c, wrap("read consent", err)
}

// ConsentVersions returns every version of a consent, oldest first, with the patient's centre.
func (s *Store) ConsentVersions(ctx context.Context, id string) ([]cpms.Consent, error) {
	rows, err := s.db.Query(ctx, `SELECT v.data, p.centre FROM consent_versions v JOIN consents c ON c.id = v.consent_id
		JOIN patients p ON p.id = c.patient_id WHERE v.consent_id = ? ORDER BY v.version`, id)
	if err != nil {
		return nil, wrap("read consent versions", err)
	}
	defer rows.Close()
	out, err := scanConsents(rows)
	if err != nil {
		return nil, wrap("read consent versions", err)
	}
	if len(out) == 0 {
		return nil, notFound("consent")
	}
	return out, nil
}

// PatientConsentVersions returns every version of the patient's consents, oldest first.
func (s *Store) PatientConsentVersions(ctx context.Context, patientID string) ([]cpms.Consent, error) {
	rows, err := s.db.Query(ctx, `SELECT v.data, p.centre FROM consent_versions v JOIN consents c ON c.id = v.consent_id
		JOIN patients p ON p.id = c.patient_id WHERE c.patient_id = ? ORDER BY v.updated_at, c.kind, v.version`, patientID)
	if err != nil {
		return nil, wrap("read consent versions", err)
	}
	defer rows.Close()
	out, err := scanConsents(rows)
	return out, wrap("read consent versions", err)
}

// scanConsents reads rows of (data, centre).
func scanConsents(rows *sql.Rows) ([]cpms.Consent, error) {
	var out []cpms.Consent
	for rows.Next() {
		var data, centre string
		var c cpms.Consent
		if err := rows.Scan(&data, &centre); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			return nil, err
		}
		c.Centre = centre
		out = append(out, c)
	}
	return out, rows.Err()
}

// upperPrefix returns the smallest string greater than every string starting with p, for a
// range scan on an index (byte-wise comparison).
func upperPrefix(p string) string { return p + "\U0010FFFF" }

// cond collects the WHERE clause of a query.
type cond struct {
	parts []string
	args  []any
}

func (c *cond) add(sql string, args ...any) {
	c.parts = append(c.parts, sql)
	c.args = append(c.args, args...)
}

func (c *cond) in(col string, vals []string) {
	if len(vals) == 0 {
		return
	}
	c.parts = append(c.parts, col+" IN ("+placeholders(len(vals))+")")
	for _, v := range vals {
		c.args = append(c.args, v)
	}
}

func (c *cond) where() string {
	if len(c.parts) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.parts, " AND ")
}

// visible restricts to the patients of the visibility (col prefix p. or the table's own).
func (c *cond) visible(v *cpms.Visibility, centreCol, clinicianCol string) {
	if v == nil {
		return
	}
	var ors []string
	var args []any
	if len(v.Centres) > 0 {
		ors = append(ors, centreCol+" IN ("+placeholders(len(v.Centres))+")")
		for _, x := range v.Centres {
			args = append(args, x)
		}
	}
	if len(v.Clinicians) > 0 {
		ors = append(ors, clinicianCol+" IN ("+placeholders(len(v.Clinicians))+")")
		for _, x := range v.Clinicians {
			args = append(args, x)
		}
	}
	if len(ors) == 0 {
		c.add("1 = 0")
		return
	}
	c.add("("+strings.Join(ors, " OR ")+")", args...)
}

// prefixes adds "col starts with one of the values" (ORed), on folded names.
func (c *cond) prefixes(cols []string, vals []string) {
	if len(vals) == 0 {
		return
	}
	var ors []string
	var args []any
	for _, v := range vals {
		n := cpms.NormalizeName(v)
		for _, col := range cols {
			ors = append(ors, "("+col+" >= ? AND "+col+" < ?)")
			args = append(args, n, upperPrefix(n))
		}
	}
	c.add("("+strings.Join(ors, " OR ")+")", args...)
}

func (c *cond) dates(col string, conds []cpms.DateCond, asDate bool) {
	for _, d := range conds {
		lo, hi := any(ts(d.Value)), any(ts(d.Until))
		if asDate {
			lo, hi = d.Value.UTC().Format("2006-01-02"), d.Until.UTC().Format("2006-01-02")
		}
		switch d.Op {
		case "", "eq":
			c.add(col+" >= ? AND "+col+" < ?", lo, hi)
		case "ne":
			c.add("("+col+" < ? OR "+col+" >= ?)", lo, hi)
		case "lt":
			c.add(col+" < ?", lo)
		case "le":
			c.add(col+" < ?", hi)
		case "gt":
			c.add(col+" >= ?", hi)
		case "ge":
			c.add(col+" >= ?", lo)
		default:
			c.add("1 = 0")
		}
	}
}

// identified returns the IDs of the patients holding the local identifier value (of system, when
// not empty); at most 1000.
func (s *Store) identified(ctx context.Context, system, value string) ([]string, error) {
	q, args := `SELECT patient_id FROM patient_identifiers WHERE value = ?`, []any{value}
	if system != "" {
		q, args = q+` AND system = ?`, append(args, system)
	}
	rows, err := s.db.Query(ctx, q+` LIMIT 1000`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// idIn is "id IN (?, …)" for n IDs, or a condition that is false for none.
func idIn(ids []string) string {
	if len(ids) == 0 {
		return "1 = 0"
	}
	return "id IN (" + placeholders(len(ids)) + ")"
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

var patientSortCols = map[string]string{
	"lastName": "family_norm", "firstName": "given_norm", "recordLabel": "label_norm", "cpmsId": "cpms_id",
	"enrolledOn": "enrolled_on", "gender": "gender", "frozen": "frozen", "birthDate": "birth_date",
	"consent": "consent_care", "consentResearch": "consent_registry", "lastUpdated": "updated_at", "id": "id",
	"centre": "centre",
}

func orderBy(keys []cpms.SortKey, cols map[string]string, tiebreak string) (string, error) {
	var (
		parts []string
		seen  = map[string]bool{}
	)
	for _, k := range keys {
		col, ok := cols[k.Field]
		if !ok {
			return "", &cpms.Error{Kind: cpms.KindInvalid, Msg: "cannot sort by " + k.Field}
		}
		if seen[col] { // a later key on the same column cannot change the order
			continue
		}
		seen[col] = true
		if k.Desc {
			col += " DESC"
		}
		parts = append(parts, col)
	}
	if !seen[tiebreak] {
		parts = append(parts, tiebreak)
	}
	return " ORDER BY " + strings.Join(parts, ", "), nil
}

// SearchPatients returns the patients matching f.
func (s *Store) SearchPatients(ctx context.Context, f cpms.PatientFilter) ([]cpms.Patient, int, error) {
	var c cond
	c.visible(f.Visible, "centre", "clinician_id")
	c.in("id", f.IDs)
	if f.ERN != "" {
		c.add("ern = ?", f.ERN)
	}
	if f.Centre != "" {
		c.add("centre = ?", f.Centre)
	}
	if f.CPMSID != "" {
		c.add("cpms_id = ?", f.CPMSID)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		n := cpms.NormalizeName(q)
		id := q
		if len(id) >= 4 && strings.EqualFold(id[:4], "ern-") {
			id = "ERN-" + strings.ToUpper(id[4:min(len(id), 9)]) + id[min(len(id), 9):]
		}
		byIdent, err := s.identified(ctx, "", q)
		if err != nil {
			return nil, 0, wrap("search patients", err)
		}
		c.add(`((family_norm >= ? AND family_norm < ?) OR (given_norm >= ? AND given_norm < ?)
			OR (cpms_id >= ? AND cpms_id < ?) OR `+idIn(byIdent)+`)`,
			append([]any{n, upperPrefix(n), n, upperPrefix(n), id, upperPrefix(id)}, anys(byIdent)...)...)
	}
	c.prefixes([]string{"family_norm"}, f.Family)
	c.prefixes([]string{"given_norm"}, f.Given)
	c.prefixes([]string{"family_norm", "given_norm"}, f.Name)
	if len(f.Identifier) > 0 {
		// Local identifiers are looked up first (an index on the value), so that the patients
		// are then read by their keys: a subquery here let the planners scan a whole centre.
		var ors []string
		var args []any
		for _, id := range f.Identifier {
			if id.System == cpms.CPMSIDSystem || id.System == "" {
				ors = append(ors, "cpms_id = ?")
				args = append(args, id.Value)
			}
			if id.System != cpms.CPMSIDSystem {
				ids, err := s.identified(ctx, id.System, id.Value)
				if err != nil {
					return nil, 0, wrap("search patients", err)
				}
				ors = append(ors, idIn(ids))
				args = append(args, anys(ids)...)
			}
		}
		c.add("("+strings.Join(ors, " OR ")+")", args...)
	}
	if len(f.Gender) > 0 {
		gs := make([]string, len(f.Gender))
		for i, g := range f.Gender {
			gs[i] = string(g)
		}
		c.in("gender", gs)
	}
	c.dates("birth_date", f.Birth, true)
	c.dates("updated_at", f.Updated, false)
	if f.Frozen != nil {
		c.add("frozen = ?", *f.Frozen)
	}
	rows, count, err := s.searchPage(ctx, "data", " FROM patients", c, f.Sort, patientSortCols, "id", f.Limit, f.Offset, "patients")
	if err != nil {
		return nil, 0, err
	}
	if rows == nil {
		total, err := pageTotal(f.Total, 0, f.Limit, f.Offset, count)
		return nil, total, err
	}
	defer rows.Close()
	var out []cpms.Patient
	for rows.Next() {
		var data string
		var p cpms.Patient
		if err := rows.Scan(&data); err != nil {
			return nil, 0, wrap("search patients", err)
		}
		if err := json.Unmarshal([]byte(data), &p); err != nil {
			return nil, 0, wrap("search patients", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, wrap("search patients", err)
	}
	rows.Close()
	total, err := pageTotal(f.Total, len(out), f.Limit, f.Offset, count)
	if err != nil {
		return nil, 0, err
	}
	return out, total, wrap("search patients", withConsents(ctx, s.db, out))
}

// searchPage runs one page of a search (SELECT sel, from, the conditions, sorted, LIMIT and
// OFFSET) and returns its rows, and a counter of every match for pageTotal. Without a limit it
// runs nothing and returns no rows.
func (s *Store) searchPage(ctx context.Context, sel, from string, c cond, sort []cpms.SortKey, cols map[string]string,
	tiebreak string, limit, offset int, what string) (*sql.Rows, func() (int, error), error) {
	where := c.where()
	count := func() (int, error) {
		var n int
		err := s.db.QueryRow(ctx, "SELECT COUNT(*)"+from+where, c.args...).Scan(&n)
		return n, wrap("count "+what, err)
	}
	if limit <= 0 {
		return nil, count, nil
	}
	order, err := orderBy(sort, cols, tiebreak)
	if err != nil {
		return nil, nil, err
	}
	args := append(append([]any(nil), c.args...), limit, max(offset, 0))
	rows, err := s.db.Query(ctx, "SELECT "+sel+from+where+order+" LIMIT ? OFFSET ?", args...)
	if err != nil {
		return nil, nil, wrap("search "+what, err)
	}
	return rows, count, nil
}

// pageTotal is how many rows match in all: known without counting when a page came back short
// (most searches for a name or an identifier fit in one page), counted otherwise.
func pageTotal(want bool, got, limit, offset int, count func() (int, error)) (int, error) {
	switch {
	case !want:
		return 0, nil
	case got < limit && (got > 0 || offset <= 0):
		return max(offset, 0) + got, nil
	}
	return count()
}

var consentSortCols = map[string]string{
	"date": "c.answer_date", "lastUpdated": "c.updated_at", "id": "c.id", "patient": "c.patient_id", "kind": "c.kind",
}

// SearchConsents returns the consents matching f.
func (s *Store) SearchConsents(ctx context.Context, f cpms.ConsentFilter) ([]cpms.Consent, int, error) {
	var c cond
	from := " FROM consents c JOIN patients p ON p.id = c.patient_id"
	c.visible(f.Visible, "p.centre", "p.clinician_id")
	c.in("c.id", f.IDs)
	c.in("c.patient_id", f.PatientIDs)
	if len(f.Kinds) > 0 {
		ks := make([]string, len(f.Kinds))
		for i, k := range f.Kinds {
			ks[i] = string(k)
		}
		c.in("c.kind", ks)
	}
	c.in("c.status", f.Status)
	c.dates("c.answer_date", f.Date, true)
	rows, count, err := s.searchPage(ctx, "c.data, p.centre", from, c, f.Sort, consentSortCols, "c.id", f.Limit, f.Offset, "consents")
	if err != nil {
		return nil, 0, err
	}
	if rows == nil {
		total, err := pageTotal(f.Total, 0, f.Limit, f.Offset, count)
		return nil, total, err
	}
	defer rows.Close()
	out, err := scanConsents(rows)
	if err != nil {
		return nil, 0, wrap("search consents", err)
	}
	rows.Close()
	total, err := pageTotal(f.Total, len(out), f.Limit, f.Offset, count)
	return out, total, err
}
