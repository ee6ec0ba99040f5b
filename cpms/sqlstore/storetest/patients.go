package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/cpms"
)

// patientNetwork puts two ERNs sharing centre BE10 and one more centre each.
func patientNetwork(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	for _, c := range []cpms.Centre{{Code: "BE10", Name: "Leuven", Country: "BE"}, {Code: "FR08", Name: "Paris", Country: "FR"},
		{Code: "IT10", Name: "Palermo", Country: "IT"}} {
		must(t, s.PutCentre(ctx, c))
	}
	must(t, s.PutERN(ctx, cpms.ERN{Code: "EuroBloodNet", Name: "Blood", Centres: []string{"BE10", "FR08"}}))
	must(t, s.PutERN(ctx, cpms.ERN{Code: "ITHACA", Name: "ITHACA", Centres: []string{"BE10", "IT10"}}))
}

// synthetic returns an enrolment-ready patient with its consent for care. Every person here is
// invented.
func synthetic(id, ern, centre, last, first string, birth cpms.Date, g cpms.Gender, mrn string) cpms.Patient {
	at := t0.Add(time.Duration(len(id)) * time.Minute)
	p := cpms.Patient{ID: id, ERN: ern, Centre: centre, FirstName: first, LastName: last, Gender: g, BirthDate: birth,
		RecordLabel: cpms.RecordLabel(last, first, birth, g), EnrolledOn: "2026-01-15", Variant: cpms.VariantStandard,
		EnrolledBy: cpms.UserRef{ID: "u-" + centre, Username: "hp-" + centre}, Version: 1, CreatedAt: at, UpdatedAt: at,
		UpdatedBy: "hp-" + centre}
	p.Clinician = p.EnrolledBy
	if mrn != "" {
		p.Identifiers = []cpms.LocalIdentifier{{System: "urn:oid:1.2.3.4." + centre[2:], Value: mrn, Type: "MR"}}
	}
	p.Consents = []cpms.Consent{{ID: id + "-care", PatientID: id, Kind: cpms.ConsentCare, Given: true, Date: "2026-01-15",
		Version: 1, UpdatedAt: at, UpdatedBy: p.UpdatedBy}}
	return p
}

func testPatients(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	patientNetwork(t, s)
	a := synthetic("pa", "EuroBloodNet", "BE10", "Müller", "Anna", "1976-02-05", cpms.GenderFemale, "MRN-1")
	a.Consents = append(a.Consents, cpms.Consent{ID: "pa-reg", PatientID: "pa", Kind: cpms.ConsentRegistry, Given: true,
		Date: "2026-01-15", Note: "Amyloidosis registry", Version: 1, UpdatedAt: a.UpdatedAt})
	got, err := s.CreatePatient(ctx, a)
	must(t, err)
	if got.Seq != 1 || got.CPMSID != "ERN-BE10-EuroBloodNet-001" {
		t.Errorf("first patient: seq %d, CPMS ID %q", got.Seq, got.CPMSID)
	}
	b, err := s.CreatePatient(ctx, synthetic("pb", "EuroBloodNet", "BE10", "Addel", "Roger", "1976-02-05", cpms.GenderMale, "MRN-2"))
	must(t, err)
	c, err := s.CreatePatient(ctx, synthetic("pc", "ITHACA", "BE10", "Mueller", "Jan", "2001-12-31", cpms.GenderMale, "MRN-1"))
	must(t, err)
	if b.CPMSID != "ERN-BE10-EuroBloodNet-002" || c.CPMSID != "ERN-BE10-ITHACA-001" {
		t.Errorf("sequences: %q, %q", b.CPMSID, c.CPMSID)
	}
	// The same MRN in the same ERN is refused, and nothing is kept of the attempt.
	dup := synthetic("pd", "EuroBloodNet", "BE10", "Other", "Person", "1990-01-01", cpms.GenderOther, "MRN-1")
	_, err = s.CreatePatient(ctx, dup)
	wantErr(t, "a taken MRN in the same ERN", err, cpms.ErrConflict)
	_, err = s.Patient(ctx, "pd")
	wantErr(t, "the refused patient", err, cpms.ErrNotFound)
	// Unknown ERN or centre.
	_, err = s.CreatePatient(ctx, synthetic("px", "NoSuchERN", "BE10", "X", "Y", "1990-01-01", cpms.GenderOther, ""))
	if err == nil {
		t.Error("a patient of an unknown ERN was stored")
	}
	// A rolled-back enrolment leaves no gap: the next one gets 003.
	e, err := s.CreatePatient(ctx, synthetic("pe", "EuroBloodNet", "BE10", "Zed", "Eve", "1950-06-30", cpms.GenderFemale, ""))
	must(t, err)
	if e.CPMSID != "ERN-BE10-EuroBloodNet-003" {
		t.Errorf("after a refused enrolment the next CPMS ID is %q, want …-003", e.CPMSID)
	}

	read, err := s.Patient(ctx, "pa")
	must(t, err)
	want := a
	want.Seq, want.CPMSID = 1, "ERN-BE10-EuroBloodNet-001"
	wantDiff(t, "Patient", normPatient(want), normPatient(read))
	byID, err := s.PatientByCPMSID(ctx, "ERN-BE10-EuroBloodNet-001")
	must(t, err)
	wantDiff(t, "PatientByCPMSID", normPatient(read), normPatient(byID))
	_, err = s.Patient(ctx, "nobody")
	wantErr(t, "unknown patient", err, cpms.ErrNotFound)

	// Update: a new version of the patient and of the consent that changed.
	upd, err := s.UpdatePatient(ctx, "pa", func(p *cpms.Patient) error {
		p.Gender = cpms.GenderOther
		p.Version++
		p.UpdatedAt = odd(time.Hour)
		p.Consents[0].Given, p.Consents[0].Withdrawn, p.Consents[0].WithdrawnOn = true, true, "2026-02-01"
		p.Consents[0].Version++
		p.Frozen = true
		return nil
	})
	must(t, err)
	if upd.Version != 2 || !upd.Frozen || upd.Consents[0].Version != 2 || upd.Consents[1].Version != 1 {
		t.Errorf("after update: version %d frozen %v consents %+v", upd.Version, upd.Frozen, upd.Consents)
	}
	vs, err := s.PatientVersions(ctx, "pa")
	must(t, err)
	if len(vs) != 2 || vs[0].Gender != cpms.GenderFemale || vs[1].Gender != cpms.GenderOther || len(vs[0].Consents) != 0 {
		t.Errorf("versions: %+v", vs)
	}
	cvs, err := s.ConsentVersions(ctx, "pa-care")
	must(t, err)
	if len(cvs) != 2 || cvs[0].Withdrawn || !cvs[1].Withdrawn {
		t.Errorf("consent versions: %+v", cvs)
	}
	all, err := s.PatientConsentVersions(ctx, "pa")
	must(t, err)
	var got3 []string
	for _, c := range all {
		got3 = append(got3, fmt.Sprintf("%s/%d", c.ID, c.Version))
	}
	// The update above kept the consent's time: equal times go by kind, then version.
	wantDiff(t, "every consent version of the patient, oldest first", []string{"pa-care/1", "pa-care/2", "pa-reg/1"}, got3)
	cur, err := s.Consent(ctx, "pa-care")
	must(t, err)
	if cur.Version != 2 || cur.Status() != "withdrawn" {
		t.Errorf("consent after update: %+v", cur)
	}
	// An error from fn changes nothing.
	boom := errors.New("boom")
	_, err = s.UpdatePatient(ctx, "pa", func(p *cpms.Patient) error { p.Version++; p.LastName = "Changed"; return boom })
	if !errors.Is(err, boom) {
		t.Errorf("UpdatePatient passes fn's error: %v", err)
	}
	// Taking another patient's MRN in the ERN is a conflict.
	_, err = s.UpdatePatient(ctx, "pb", func(p *cpms.Patient) error {
		p.Identifiers = append(p.Identifiers, a.Identifiers[0])
		p.Version++
		return nil
	})
	wantErr(t, "update to a taken MRN", err, cpms.ErrConflict)
	if r, _ := s.Patient(ctx, "pb"); r.Version != 1 || len(r.Identifiers) != 1 {
		t.Errorf("refused update changed the patient: %+v", r)
	}
	// A consent alone changes: the patient keeps its version, and the list's consent column follows.
	cons, err := s.UpdatePatient(ctx, "pb", func(p *cpms.Patient) error {
		p.Consents[0].Withdrawn, p.Consents[0].WithdrawnOn = true, "2026-02-01"
		p.Consents[0].Version++
		return nil
	})
	must(t, err)
	if cons.Version != 1 || cons.Consents[0].Version != 2 || cons.Consents[0].Centre != "BE10" {
		t.Errorf("consent-only update: patient version %d, consent %+v", cons.Version, cons.Consents[0])
	}
	if vs, _ := s.PatientVersions(ctx, "pb"); len(vs) != 1 {
		t.Errorf("a consent-only update made %d patient versions", len(vs))
	}
	byConsent, _, err := s.SearchPatients(ctx, cpms.PatientFilter{IDs: []string{"pb", "pe"}, Sort: []cpms.SortKey{{Field: "consent", Desc: true}}, Limit: 5})
	must(t, err)
	wantDiff(t, "sorted by consent for care (yes before withdrawn)", []string{"pe", "pb"}, ids(byConsent))
	if c, err := s.Consent(ctx, "pb-care"); err != nil || c.Centre != "BE10" {
		t.Errorf("Consent carries the patient's centre: %+v %v", c, err)
	}
	_, err = s.UpdatePatient(ctx, "nobody", func(p *cpms.Patient) error { return nil })
	wantErr(t, "update of an unknown patient", err, cpms.ErrNotFound)
}

func normPatient(p cpms.Patient) cpms.Patient {
	p.CreatedAt, p.UpdatedAt = norm(p.CreatedAt), norm(p.UpdatedAt)
	p.FrozenAt = normPtr(p.FrozenAt)
	for i := range p.Consents {
		p.Consents[i].UpdatedAt = norm(p.Consents[i].UpdatedAt)
	}
	return p
}

func ids(ps []cpms.Patient) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func testPatientSearch(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	patientNetwork(t, s)
	for _, p := range []cpms.Patient{
		synthetic("p1", "EuroBloodNet", "BE10", "Müller", "Anna", "1976-02-05", cpms.GenderFemale, "M1"),
		synthetic("p2", "EuroBloodNet", "BE10", "Mullins", "Zoé", "1980-07-01", cpms.GenderFemale, "M2"),
		synthetic("p3", "EuroBloodNet", "FR08", "Martin", "Müller", "1999-12-31", cpms.GenderMale, "M3"),
		synthetic("p4", "ITHACA", "IT10", "Østergaard", "Lars", "2010-03-15", cpms.GenderMale, ""),
		synthetic("p5", "ITHACA", "BE10", "Addel", "Roger", "1976-02-05", cpms.GenderUnknown, "M1"),
	} {
		if p.ID == "p4" {
			p.Clinician = cpms.UserRef{ID: "u-special"}
		}
		_, err := s.CreatePatient(ctx, p)
		must(t, err)
	}
	bo := func(b bool) *bool { return &b }
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	tests := []struct {
		name string
		f    cpms.PatientFilter
		want []string
	}{
		{"all", cpms.PatientFilter{}, []string{"p1", "p2", "p3", "p4", "p5"}},
		{"family prefix, accents folded", cpms.PatientFilter{Family: []string{"MUL"}}, []string{"p1", "p2"}},
		{"family exact start", cpms.PatientFilter{Family: []string{"müller"}}, []string{"p1"}},
		{"family ORed", cpms.PatientFilter{Family: []string{"mart", "addel"}}, []string{"p3", "p5"}},
		{"ø folds to o", cpms.PatientFilter{Family: []string{"oster"}}, []string{"p4"}},
		{"given", cpms.PatientFilter{Given: []string{"zoe"}}, []string{"p2"}},
		{"name is family or given", cpms.PatientFilter{Name: []string{"muller"}}, []string{"p1", "p3"}},
		{"query by name (last or first)", cpms.PatientFilter{Query: "mull"}, []string{"p1", "p2", "p3"}},
		{"query by CPMS ID, any case", cpms.PatientFilter{Query: "ern-be10-EuroBloodNet-00"}, []string{"p1", "p2"}},
		{"query by local identifier", cpms.PatientFilter{Query: "M3"}, []string{"p3"}},
		{"identifier any system", cpms.PatientFilter{Identifier: []cpms.LocalIdentifier{{Value: "M1"}}}, []string{"p1", "p5"}},
		{"identifier with system", cpms.PatientFilter{Identifier: []cpms.LocalIdentifier{{System: "urn:oid:1.2.3.4.10", Value: "M1"}}}, []string{"p1", "p5"}},
		{"identifier other system", cpms.PatientFilter{Identifier: []cpms.LocalIdentifier{{System: "urn:oid:9.9", Value: "M1"}}}, []string{}},
		{"identifier CPMS ID", cpms.PatientFilter{Identifier: []cpms.LocalIdentifier{{System: cpms.CPMSIDSystem, Value: "ERN-IT10-ITHACA-001"}}}, []string{"p4"}},
		{"CPMS ID", cpms.PatientFilter{CPMSID: "ERN-BE10-ITHACA-001"}, []string{"p5"}},
		{"gender", cpms.PatientFilter{Gender: []cpms.Gender{cpms.GenderMale}}, []string{"p3", "p4"}},
		{"birth eq day", cpms.PatientFilter{Birth: []cpms.DateCond{{Op: "eq", Value: day("1976-02-05"), Until: day("1976-02-06")}}}, []string{"p1", "p5"}},
		{"birth year", cpms.PatientFilter{Birth: []cpms.DateCond{{Value: day("1999-01-01"), Until: day("2000-01-01")}}}, []string{"p3"}},
		{"birth ge and lt", cpms.PatientFilter{Birth: []cpms.DateCond{{Op: "ge", Value: day("1980-07-01"), Until: day("1980-07-02")},
			{Op: "lt", Value: day("2010-03-15"), Until: day("2010-03-16")}}}, []string{"p2", "p3"}},
		{"birth gt, le", cpms.PatientFilter{Birth: []cpms.DateCond{{Op: "gt", Value: day("1976-02-05"), Until: day("1976-02-06")},
			{Op: "le", Value: day("1980-07-01"), Until: day("1980-07-02")}}}, []string{"p2"}},
		{"birth ne", cpms.PatientFilter{Birth: []cpms.DateCond{{Op: "ne", Value: day("1976-02-05"), Until: day("1976-02-06")}}}, []string{"p2", "p3", "p4"}},
		{"ERN and centre", cpms.PatientFilter{ERN: "ITHACA", Centre: "BE10"}, []string{"p5"}},
		{"not frozen", cpms.PatientFilter{Frozen: bo(false)}, []string{"p1", "p2", "p3", "p4", "p5"}},
		{"visible by centre", cpms.PatientFilter{Visible: &cpms.Visibility{Centres: []string{"FR08"}}}, []string{"p3"}},
		{"visible by clinician", cpms.PatientFilter{Visible: &cpms.Visibility{Clinicians: []string{"u-special"}}}, []string{"p4"}},
		{"visible by either", cpms.PatientFilter{Visible: &cpms.Visibility{Centres: []string{"FR08"}, Clinicians: []string{"u-special"}}}, []string{"p3", "p4"}},
		{"visible nothing", cpms.PatientFilter{Visible: &cpms.Visibility{}}, []string{}},
		{"IDs", cpms.PatientFilter{IDs: []string{"p2", "p4", "zz"}}, []string{"p2", "p4"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.Limit, tc.f.Total = 100, true
			got, total, err := s.SearchPatients(ctx, tc.f)
			must(t, err)
			wantDiff(t, "ids", tc.want, ids(got))
			if total != len(tc.want) {
				t.Errorf("total %d, want %d", total, len(tc.want))
			}
		})
	}
	// Sorting and paging.
	f := cpms.PatientFilter{Sort: []cpms.SortKey{{Field: "lastName"}}, Limit: 2, Total: true}
	var pages [][]string
	for off := 0; off < 6; off += 2 {
		f.Offset = off
		got, total, err := s.SearchPatients(ctx, f)
		must(t, err)
		if total != 5 {
			t.Errorf("total %d on page at %d", total, off)
		}
		pages = append(pages, ids(got))
	}
	wantDiff(t, "pages by last name", [][]string{{"p5", "p3"}, {"p1", "p2"}, {"p4"}}, pages)
	// Past the end: no rows, and still the total.
	f.Offset = 10
	if got, total, err := s.SearchPatients(ctx, f); err != nil || len(got) != 0 || total != 5 {
		t.Errorf("page past the end: %d rows, total %d, %v", len(got), total, err)
	}
	got, _, err := s.SearchPatients(ctx, cpms.PatientFilter{Sort: []cpms.SortKey{{Field: "birthDate", Desc: true}, {Field: "firstName"}}, Limit: 10})
	must(t, err)
	wantDiff(t, "by birth date descending then first name", []string{"p4", "p3", "p2", "p1", "p5"}, ids(got))
	if len(got[0].Consents) != 1 {
		t.Errorf("search results carry their consents: %+v", got[0].Consents)
	}
	_, _, err = s.SearchPatients(ctx, cpms.PatientFilter{Sort: []cpms.SortKey{{Field: "name; DROP TABLE patients"}}, Limit: 1})
	if err == nil {
		t.Error("an unknown sort field was accepted")
	}
	if _, total, err := s.SearchPatients(ctx, cpms.PatientFilter{Total: true}); err != nil || total != 5 {
		t.Errorf("total only: %d, %v", total, err)
	}

	// Consents.
	cs, total, err := s.SearchConsents(ctx, cpms.ConsentFilter{PatientIDs: []string{"p1", "p3"}, Limit: 10, Total: true})
	must(t, err)
	if len(cs) != 2 || total != 2 {
		t.Errorf("consents of two patients: %d (total %d)", len(cs), total)
	}
	cs, _, err = s.SearchConsents(ctx, cpms.ConsentFilter{Visible: &cpms.Visibility{Centres: []string{"IT10"}}, Kinds: []cpms.ConsentKind{cpms.ConsentCare},
		Status: []string{"active"}, Limit: 10})
	must(t, err)
	if len(cs) != 1 || cs[0].PatientID != "p4" {
		t.Errorf("visible consents: %+v", cs)
	}
	cs, _, err = s.SearchConsents(ctx, cpms.ConsentFilter{Status: []string{"inactive"}, Limit: 10})
	must(t, err)
	if len(cs) != 0 {
		t.Errorf("no consent is withdrawn: %+v", cs)
	}
}

// testEnrolConcurrent enrols from many goroutines at once at one centre and ERN: every
// patient gets its own number and the numbers have no gaps.
func testEnrolConcurrent(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	patientNetwork(t, s)
	const workers, each = 8, 6
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				p, err := s.CreatePatient(ctx, synthetic(id, "EuroBloodNet", "BE10", "Concurrent", id, "1990-01-01", cpms.GenderOther, id))
				mu.Lock()
				if err != nil {
					t.Errorf("enrol %s: %v", id, err)
				} else if seen[p.CPMSID] {
					t.Errorf("CPMS ID %s given twice", p.CPMSID)
				}
				seen[p.CPMSID] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for i := 1; i <= workers*each; i++ {
		if !seen[cpms.CPMSID("BE10", "EuroBloodNet", i)] {
			t.Errorf("CPMS ID number %d not given", i)
		}
	}
}

func testTransfers(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	patientNetwork(t, s)
	_, err := s.CreatePatient(ctx, synthetic("pt", "EuroBloodNet", "BE10", "Transfer", "Tom", "1970-01-01", cpms.GenderMale, ""))
	must(t, err)
	tr := cpms.Transfer{ID: "t1", PatientID: "pt", CPMSID: "ERN-BE10-EuroBloodNet-001", ERN: "EuroBloodNet", FromCentre: "BE10",
		ToCentre: "FR08", RequestedBy: cpms.UserRef{ID: "u1"}, Status: cpms.TransferPending, CreatedAt: odd(0)}
	must(t, s.CreateTransfer(ctx, tr))
	tr2 := tr
	tr2.ID = "t2"
	wantErr(t, "a second pending transfer", s.CreateTransfer(ctx, tr2), cpms.ErrConflict)
	list, err := s.Transfers(ctx, cpms.TransferFilter{Centres: []string{"FR08"}, Status: cpms.TransferPending})
	must(t, err)
	if len(list) != 1 || list[0].ID != "t1" {
		t.Errorf("pending transfers to FR08: %+v", list)
	}
	// Two decisions race: one wins.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			_, errs[i] = s.DecideTransfer(ctx, "t1", cpms.TransferAccepted, cpms.UserRef{ID: fmt.Sprint("u", i)}, "ok", odd(time.Hour),
				func(p *cpms.Patient) error { p.Centre = "FR08"; p.Version++; return nil })
		})
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Errorf("two decisions: %v, %v; want exactly one to succeed", errs[0], errs[1])
	}
	p, err := s.Patient(ctx, "pt")
	must(t, err)
	if p.Centre != "FR08" || p.Version != 2 {
		t.Errorf("after the transfer: centre %s version %d", p.Centre, p.Version)
	}
	got, err := s.Transfer(ctx, "t1")
	must(t, err)
	if got.Status != cpms.TransferAccepted || got.DecidedAt == nil || got.DecidedBy == nil {
		t.Errorf("decided transfer: %+v", got)
	}
	// Now another request may be filed; a refusal leaves the patient where it is.
	tr2.FromCentre, tr2.ToCentre = "FR08", "BE10"
	must(t, s.CreateTransfer(ctx, tr2))
	_, err = s.DecideTransfer(ctx, "t2", cpms.TransferRefused, cpms.UserRef{ID: "u9"}, "no", odd(2*time.Hour),
		func(p *cpms.Patient) error { t.Error("a refusal moved the patient"); return nil })
	must(t, err)
	_, err = s.Transfer(ctx, "nope")
	wantErr(t, "unknown transfer", err, cpms.ErrNotFound)
}
