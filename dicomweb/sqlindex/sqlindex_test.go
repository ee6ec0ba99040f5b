package sqlindex_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/dicomweb"
	"github.com/ern-cpms/cpms/dicomweb/sqlindex"
	"github.com/ern-cpms/cpms/internal/sqldb"
	"github.com/ern-cpms/cpms/internal/sqldb/sqldbtest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var (
	scopeA = dicomweb.Scope{Kind: dicomweb.ScopeCentres, ID: "BE10"}
	scopeB = dicomweb.Scope{Kind: dicomweb.ScopeCentres, ID: "FR20"}
	base   = time.Date(2025, 3, 1, 9, 0, 0, 123456789, time.UTC)
)

// eachEngine runs fn on a fresh index of every engine.
func eachEngine(t *testing.T, fn func(t *testing.T, ix *sqlindex.Index)) {
	for _, e := range sqldbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) { fn(t, newIndex(t, e.Open(t))) })
	}
}

func newIndex(t testing.TB, db *sqldb.DB) *sqlindex.Index {
	t.Helper()
	ix, err := sqlindex.New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func intp(n int) *int { return &n }

// SOP classes by modality.
var classOf = map[string]string{"CT": "1.2.840.10008.5.1.4.1.1.2", "MR": "1.2.840.10008.5.1.4.1.1.4",
	"SR": "1.2.840.10008.5.1.4.1.1.88.22", "US": "1.2.840.10008.5.1.4.1.1.6.1", "PT": "1.2.840.10008.5.1.4.1.1.128"}

// The fixture: five studies, newest first by date and time: 1.5, 1.1, 1.2, 1.3, 1.4.
var fixtureStudies = map[string]dicomweb.StudyAttrs{
	"1.1": {PatientName: "Müller^Hans", PatientID: "P1", PatientBirthDate: "19700101", PatientSex: "M", StudyDate: "20240110",
		StudyTime: "101010.5", AccessionNumber: "A_1", StudyID: "S1", StudyDescription: "CT HEAD 100%", ReferringPhysicianName: "Who^Doctor"},
	"1.2": {PatientName: "MULLER^ANNA", PatientID: "P2", PatientBirthDate: "19800202", PatientSex: "F", StudyDate: "20240110",
		StudyTime: "1010", AccessionNumber: "A11", StudyDescription: "100Xdone"},
	"1.3": {PatientName: "Smith^John", PatientID: "P3", PatientBirthDate: "19900303", StudyDate: "20230505",
		StudyDescription: "100_done", ReferringPhysicianName: "Nowak^Łukasz", JSON: []byte(`{"00100010":{"vr":"PN"}}`)},
	"1.4": {PatientName: "smith-jones^mary", PatientID: "P4", StudyDescription: "CT chest"},
	"1.5": {PatientName: "Doe^Jane", PatientID: "P5", IssuerOfPatientID: "HOSP", StudyDate: "20250101", StudyTime: "235959"},
}

var fixtureSeries = map[string]dicomweb.SeriesAttrs{
	"1.1.1": {Modality: "CT", SeriesNumber: intp(1), SeriesDescription: "axial", PerformedProcedureStepStartDate: "20240110",
		PerformedProcedureStepStartTime: "0800"},
	"1.1.2": {Modality: "CT", SeriesNumber: intp(2), SeriesDescription: "coronal", PerformedProcedureStepStartTime: "090000.25"},
	"1.2.1": {Modality: "MR", SeriesNumber: intp(1), PerformedProcedureStepStartTime: "120000"},
	"1.2.2": {Modality: "SR"},
	"1.3.1": {Modality: "US", SeriesNumber: intp(3), JSON: []byte(`{"00080060":{"vr":"CS","Value":["US"]}}`)},
	"1.4.1": {Modality: "CT", SeriesNumber: intp(1)},
	"1.5.1": {Modality: "PT", SeriesNumber: intp(1)},
}

// record makes an instance of the fixture.
func record(scope dicomweb.Scope, study, series, sop string, num *int, at int) dicomweb.InstanceRecord {
	se := fixtureSeries[series]
	return dicomweb.InstanceRecord{Scope: scope, StudyUID: study, SeriesUID: series, SOPUID: sop,
		SOPClassUID: classOf[se.Modality], TransferSyntaxUID: "1.2.840.10008.1.2.1", InstanceNumber: num,
		Rows: 512, Columns: 512, NumberOfFrames: 1, BitsAllocated: 16, BlobKey: "blob/" + scope.ID + "/" + sop,
		Size: 1000 + int64(at), SHA256: fmt.Sprintf("%064x", at), StoredAt: base.Add(time.Duration(at) * time.Second),
		Metadata: []byte(`{"00080018":{"vr":"UI","Value":["` + sop + `"]}}`), Layout: []byte(`{"frames":1}`),
		Study: fixtureStudies[study], Series: se}
}

// fixture returns the instances of the fixture in scope, in the order they are put: two per
// series (instance numbers 2 then 1, or none for the SR series), three in 1.1.1.
func fixture(scope dicomweb.Scope) []dicomweb.InstanceRecord {
	var out []dicomweb.InstanceRecord
	for _, series := range []string{"1.1.1", "1.1.2", "1.2.1", "1.2.2", "1.3.1", "1.4.1", "1.5.1"} {
		study := series[:3]
		nums := []*int{intp(2), intp(1)}
		switch series {
		case "1.1.1":
			nums = append(nums, intp(3))
		case "1.2.2":
			nums = []*int{nil, nil}
		}
		for i, n := range nums {
			out = append(out, record(scope, study, series, fmt.Sprintf("%s.%d", series, i+1), n, len(out)))
		}
	}
	return out
}

func putAll(t *testing.T, ix *sqlindex.Index, recs []dicomweb.InstanceRecord) {
	t.Helper()
	for _, r := range recs {
		if _, err := ix.PutInstance(t.Context(), r); err != nil {
			t.Fatalf("put %s: %v", r.SOPUID, err)
		}
	}
}

// stored is rec as the index gives it back.
func stored(rec dicomweb.InstanceRecord) dicomweb.InstanceRecord {
	rec.StoredAt = rec.StoredAt.UTC().Truncate(time.Microsecond)
	return rec
}

var cmpRec = cmpopts.EquateEmpty()

func sops(recs []dicomweb.InstanceRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.SOPUID)
	}
	return out
}

func TestNew(t *testing.T) {
	if _, err := sqlindex.New(t.Context(), nil); err == nil {
		t.Error("New without a database: no error")
	}
	for _, e := range sqldbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := e.Open(t)
			newIndex(t, db)
			newIndex(t, db) // a second start migrates nothing
			v, err := db.Version(t.Context(), "dicomweb")
			if err != nil || v != 1 {
				t.Errorf("dicomweb version = %d, %v; want 1", v, err)
			}
		})
	}
}

func TestPutAndRead(t *testing.T) {
	eachEngine(t, func(t *testing.T, ix *sqlindex.Index) {
		ctx := t.Context()
		recs := fixture(scopeA)
		for _, r := range recs {
			got, err := ix.PutInstance(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(stored(r), got, cmpRec); diff != "" {
				t.Fatalf("PutInstance returned (-want +got):\n%s", diff)
			}
		}
		for _, r := range recs {
			got, err := ix.Instance(ctx, scopeA, r.SOPUID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(stored(r), got, cmpRec); diff != "" {
				t.Errorf("Instance %s (-want +got):\n%s", r.SOPUID, diff)
			}
		}
		got, err := ix.Instances(ctx, scopeA, "1.1", "")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"1.1.1.2", "1.1.1.1", "1.1.1.3", "1.1.2.2", "1.1.2.1"}, sops(got)); diff != "" {
			t.Errorf("Instances of 1.1 (-want +got):\n%s", diff)
		}
		// Series without a number come last, instances without a number after the numbered.
		if got, err = ix.Instances(ctx, scopeA, "1.2", ""); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"1.2.1.2", "1.2.1.1", "1.2.2.1", "1.2.2.2"}, sops(got)); diff != "" {
			t.Errorf("Instances of 1.2 (-want +got):\n%s", diff)
		}
		if got, err = ix.Instances(ctx, scopeA, "1.1", "1.1.2"); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]dicomweb.InstanceRecord{stored(recs[4]), stored(recs[3])}, got, cmpRec); diff != "" {
			t.Errorf("Instances of 1.1.2 (-want +got):\n%s", diff)
		}

		for name, err := range map[string]error{
			"Instance of an unknown SOP":          second(ix.Instance(ctx, scopeA, "9.9")),
			"Instance of another scope":           second(ix.Instance(ctx, scopeB, "1.1.1.1")),
			"Instances of an unknown study":       second(ix.Instances(ctx, scopeA, "9.9", "")),
			"Instances of an unknown series":      second(ix.Instances(ctx, scopeA, "1.1", "9.9")),
			"Instances of another study's series": second(ix.Instances(ctx, scopeA, "1.2", "1.1.1")),
			"DeleteStudy of an unknown study":     second(ix.DeleteStudy(ctx, scopeA, "9.9")),
			"LinkStudy of an unknown study":       ix.LinkStudy(ctx, scopeA, "9.9", "patient-1"),
			"LinkStudy of another scope's study":  ix.LinkStudy(ctx, scopeB, "1.1", "patient-1"),
		} {
			if !errors.Is(err, dicomweb.ErrNotFound) {
				t.Errorf("%s: %v, want ErrNotFound", name, err)
			}
		}
	})
}

func second[T any](_ T, err error) error { return err }

func TestPutInvalid(t *testing.T) {
	eachEngine(t, func(t *testing.T, ix *sqlindex.Index) {
		r := record(scopeA, "1.1", "1.1.1", "1.1.1.1", nil, 0)
		for name, f := range map[string]func(*dicomweb.InstanceRecord){
			"no scope ID": func(r *dicomweb.InstanceRecord) { r.Scope.ID = "" },
			"no study":    func(r *dicomweb.InstanceRecord) { r.StudyUID = "" },
			"no series":   func(r *dicomweb.InstanceRecord) { r.SeriesUID = "" },
			"no SOP":      func(r *dicomweb.InstanceRecord) { r.SOPUID = "" },
		} {
			bad := r
			f(&bad)
			if _, err := ix.PutInstance(t.Context(), bad); err == nil {
				t.Errorf("%s: no error", name)
			}
		}
	})
}

func TestScopeIsolation(t *testing.T) {
	eachEngine(t, func(t *testing.T, ix *sqlindex.Index) {
		ctx := t.Context()
		a, b := fixture(scopeA), fixture(scopeB)
		for i := range b {
			b[i].BlobKey += "-b"
			b[i].Study.PatientName = "Other^Patient"
			b[i].Series.Modality = "XA"
		}
		putAll(t, ix, a)
		putAll(t, ix, b[:7]) // study 1.1 and series 1.2.1 of 1.2 in B
		for _, c := range []struct {
			scope dicomweb.Scope
			rec   dicomweb.InstanceRecord
		}{{scopeA, a[0]}, {scopeB, b[0]}} {
			got, err := ix.Instance(ctx, c.scope, c.rec.SOPUID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(stored(c.rec), got, cmpRec); diff != "" {
				t.Errorf("Instance in %s (-want +got):\n%s", c.scope, diff)
			}
		}
		if _, err := ix.Instance(ctx, scopeB, b[7].SOPUID); !errors.Is(err, dicomweb.ErrNotFound) {
			t.Errorf("Instance of A only, read in B: %v", err)
		}
		res, err := ix.Search(ctx, dicomweb.Query{Scope: scopeB})
		if err != nil {
			t.Fatal(err)
		}
		want := []studySummary{
			{UID: "1.1", Name: "Other^Patient", Series: 2, Instances: 5, Modalities: []string{"XA"}},
			{UID: "1.2", Name: "Other^Patient", Series: 1, Instances: 2, Modalities: []string{"XA"}},
		}
		if diff := cmp.Diff(want, summarize(res.Studies)); diff != "" {
			t.Errorf("studies of B (-want +got):\n%s", diff)
		}
		res, err = ix.Search(ctx, dicomweb.Query{Scope: scopeA, Matches: []dicomweb.Match{
			{Attr: dicomweb.AttrPatientName, Kind: dicomweb.MatchSingle, Value: "Other^Patient"}}})
		if err != nil || len(res.Studies) != 0 {
			t.Errorf("A searched for B's patient: %v, %v", res.Studies, err)
		}
		for _, level := range []dicomweb.Level{dicomweb.LevelSeries, dicomweb.LevelInstance} {
			res, err := ix.Search(ctx, dicomweb.Query{Scope: scopeB, Level: level, Matches: []dicomweb.Match{
				{Attr: dicomweb.AttrModality, Kind: dicomweb.MatchSingle, Value: "CT"}}})
			if err != nil || len(res.Series)+len(res.Instances) != 0 {
				t.Errorf("B, level %d, found A's CT: %v", level, err)
			}
		}
		a1, err := ix.Instances(ctx, scopeA, "1.1", "")
		if err != nil || len(a1) != 5 || a1[0].BlobKey != a[1].BlobKey {
			t.Errorf("Instances of 1.1 in A: %v %v", sops(a1), err)
		}
		// Deleting B's study leaves A's.
		if _, err := ix.DeleteStudy(ctx, scopeB, "1.1"); err != nil {
			t.Fatal(err)
		}
		if got, err := ix.Instances(ctx, scopeA, "1.1", ""); err != nil || len(got) != 5 {
			t.Errorf("A's 1.1 after B's was deleted: %d instances, %v", len(got), err)
		}
		// The same patient linked in both scopes: StudiesOfPatient sees both, of the kind only.
		if err := ix.LinkStudy(ctx, scopeA, "1.2", "patient-7"); err != nil {
			t.Fatal(err)
		}
		if err := ix.LinkStudy(ctx, scopeB, "1.2", "patient-7"); err != nil {
			t.Fatal(err)
		}
		hits, err := ix.StudiesOfPatient(ctx, dicomweb.ScopeCentres, "patient-7")
		if err != nil {
			t.Fatal(err)
		}
		want = []studySummary{
			{UID: "1.2", Name: "MULLER^ANNA", Series: 2, Instances: 4, Modalities: []string{"MR", "SR"}, Ref: "patient-7"},
			{UID: "1.2", Name: "Other^Patient", Series: 1, Instances: 2, Modalities: []string{"XA"}, Ref: "patient-7"},
		}
		if diff := cmp.Diff(want, summarize(hits)); diff != "" {
			t.Errorf("StudiesOfPatient (-want +got):\n%s", diff)
		}
		if hits, err := ix.StudiesOfPatient(ctx, "panels", "patient-7"); err != nil || len(hits) != 0 {
			t.Errorf("StudiesOfPatient of another kind: %v, %v", hits, err)
		}
		if len(hits) == 2 && (hits[0].Scope == hits[1].Scope || hits[0].Scope.Kind != dicomweb.ScopeCentres) {
			t.Errorf("StudiesOfPatient does not say each study's scope: %v %v", hits[0].Scope, hits[1].Scope)
		}
		// Unlinked: A's studies but 1.2, newest first; none of B's.
		un, err := ix.UnlinkedStudies(ctx, scopeA, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range un {
			if h.StudyUID == "1.2" || h.PatientRef != "" || h.Scope != scopeA {
				t.Errorf("UnlinkedStudies holds %s (%q) of %v", h.StudyUID, h.PatientRef, h.Scope)
			}
		}
		if len(un) == 0 {
			t.Error("UnlinkedStudies found nothing")
		}
		if one, err := ix.UnlinkedStudies(ctx, scopeA, 1); err != nil || len(one) != 1 || (len(un) > 0 && one[0].StudyUID != un[0].StudyUID) {
			t.Errorf("UnlinkedStudies with a limit: %v %v", one, err)
		}
	})
}

// studySummary is what the tests compare of a StudyHit.
type studySummary struct {
	UID, Name, Ref      string
	Series, Instances   int
	Modalities, Classes []string
}

func summarize(hits []dicomweb.StudyHit) []studySummary {
	var out []studySummary
	for _, h := range hits {
		out = append(out, studySummary{UID: h.StudyUID, Name: h.Study.PatientName, Ref: h.PatientRef,
			Series: h.NumSeries, Instances: h.NumInstances, Modalities: h.Modalities})
	}
	return out
}

func TestDuplicate(t *testing.T) {
	eachEngine(t, func(t *testing.T, ix *sqlindex.Index) {
		ctx := t.Context()
		first := record(scopeA, "1.1", "1.1.1", "1.1.1.1", intp(1), 0)
		if _, err := ix.PutInstance(ctx, first); err != nil {
			t.Fatal(err)
		}
		again := record(scopeA, "1.1", "1.1.1", "1.1.1.1", intp(7), 60)
		again.BlobKey, again.Study.PatientName, again.Series.Modality = "other", "Changed^Name", "MR"
		got, err := ix.PutInstance(ctx, again)
		if !errors.Is(err, dicomweb.ErrDuplicate) {
			t.Fatalf("second put: %v, want ErrDuplicate", err)
		}
		if diff := cmp.Diff(stored(first), got, cmpRec); diff != "" {
			t.Errorf("duplicate put returned (-want +got):\n%s", diff)
		}
		if got, err = ix.Instance(ctx, scopeA, "1.1.1.1"); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(stored(first), got, cmpRec); diff != "" {
			t.Errorf("after a duplicate put (-want +got):\n%s", diff)
		}
		res, err := ix.Search(ctx, dicomweb.Query{Scope: scopeA})
		if err != nil {
			t.Fatal(err)
		}
		want := []studySummary{{UID: "1.1", Name: "Müller^Hans", Series: 1, Instances: 1, Modalities: []string{"CT"}}}
		if diff := cmp.Diff(want, summarize(res.Studies)); diff != "" {
			t.Errorf("study after a duplicate put (-want +got):\n%s", diff)
		}
		// The same SOP UID in another series or study is a duplicate too.
		moved := record(scopeA, "1.2", "1.2.1", "1.1.1.1", nil, 90)
		if _, err := ix.PutInstance(ctx, moved); !errors.Is(err, dicomweb.ErrDuplicate) {
			t.Errorf("same SOP in another study: %v, want ErrDuplicate", err)
		}
		if _, err := ix.Instances(ctx, scopeA, "1.2", ""); !errors.Is(err, dicomweb.ErrNotFound) {
			t.Errorf("the study of a refused duplicate exists: %v", err)
		}
	})
}

func TestConcurrentPuts(t *testing.T) {
	eachEngine(t, func(t *testing.T, ix *sqlindex.Index) {
		ctx := t.Context()
		// The same instance from eight uploads at once: one stores it, the others get it back.
		const n = 8
		var wg sync.WaitGroup
		got := make([]dicomweb.InstanceRecord, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				r := record(scopeA, "1.1", "1.1.1", "1.1.1.1", intp(1), i)
				r.BlobKey = fmt.Sprintf("upload-%d", i)
				got[i], errs[i] = ix.PutInstance(ctx, r)
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("puts %d and %d both stored the instance", winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, dicomweb.ErrDuplicate):
				t.Errorf("put %d: %v", i, err)
			}
		}
		if winner < 0 {
			t.Fatal("no put stored the instance")
		}
		for i := range n {
			if got[i].BlobKey != got[winner].BlobKey {
				t.Errorf("put %d returned blob %q, the stored one is %q", i, got[i].BlobKey, got[winner].BlobKey)
			}
		}
		// Distinct instances of one new study and two new series, at once.
		errc := make(chan error, 40)
		for g := range 8 {
			wg.Go(func() {
				for j := range 5 {
					series := []string{"1.2.1", "1.2.2"}[(g+j)%2]
					sop := fmt.Sprintf("%s.%d.%d", series, g, j)
					if _, err := ix.PutInstance(ctx, record(scopeA, "1.2", series, sop, intp(j), g*5+j)); err != nil {
						errc <- err
					}
				}
			})
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Error(err)
		}
		res, err := ix.Search(ctx, dicomweb.Query{Scope: scopeA, StudyUID: "1.2"})
		if err != nil || len(res.Studies) != 1 {
			t.Fatalf("study 1.2: %v, %v", res.Studies, err)
		}
		if h := res.Studies[0]; h.NumSeries != 2 || h.NumInstances != 40 {
			t.Errorf("study 1.2 counts %d series, %d instances; want 2, 40", h.NumSeries, h.NumInstances)
		}
		sres, err := ix.Search(ctx, dicomweb.Query{Scope: scopeA, Level: dicomweb.LevelSeries, StudyUID: "1.2"})
		if err != nil || len(sres.Series) != 2 || sres.Series[0].NumInstances+sres.Series[1].NumInstances != 40 {
			t.Errorf("series of 1.2: %+v, %v", sres.Series, err)
		}
	})
}

func TestConflict(t *testing.T) {
	eachEngine(t, func(t *testing.T, ix *sqlindex.Index) {
		ctx := t.Context()
		putAll(t, ix, []dicomweb.InstanceRecord{record(scopeA, "1.1", "1.1.1", "1.1.1.1", nil, 0)})
		// Series 1.1.1 of study 1.1, sent again under study 1.2.
		bad := record(scopeA, "1.2", "1.1.1", "1.1.1.2", nil, 1)
		if _, err := ix.PutInstance(ctx, bad); !errors.Is(err, sqlindex.ErrConflict) {
			t.Fatalf("series under another study: %v, want ErrConflict", err)
		}
		if _, err := ix.Instance(ctx, scopeA, "1.1.1.2"); !errors.Is(err, dicomweb.ErrNotFound) {
			t.Errorf("the conflicting instance was kept: %v", err)
		}
		if _, err := ix.Instances(ctx, scopeA, "1.2", ""); !errors.Is(err, dicomweb.ErrNotFound) {
			t.Errorf("the conflicting study was kept: %v", err)
		}
		// In another scope the same pair is fine.
		if _, err := ix.PutInstance(ctx, record(scopeB, "1.2", "1.1.1", "1.1.1.2", nil, 1)); err != nil {
			t.Errorf("the pair in another scope: %v", err)
		}
		res, err := ix.Search(ctx, dicomweb.Query{Scope: scopeA, StudyUID: "1.1"})
		if err != nil || len(res.Studies) != 1 || res.Studies[0].NumInstances != 1 {
			t.Errorf("1.1 after the conflict: %+v, %v", res.Studies, err)
		}
	})
}

func TestStudyHitCounts(t *testing.T) {
	eachEngine(t, func(t *testing.T, ix *sqlindex.Index) {
		ctx := t.Context()
		recs := fixture(scopeA)
		putAll(t, ix, recs[:2]) // two instances of 1.1.1
		hit := func() dicomweb.StudyHit {
			t.Helper()
			res, err := ix.Search(ctx, dicomweb.Query{Scope: scopeA, StudyUID: "1.1"})
			if err != nil || len(res.Studies) != 1 {
				t.Fatalf("study 1.1: %v, %v", res.Studies, err)
			}
			return res.Studies[0]
		}
		want := dicomweb.StudyHit{Scope: scopeA, StudyUID: "1.1", Study: fixtureStudies["1.1"], Modalities: []string{"CT"},
			SOPClasses: []string{classOf["CT"]}, NumSeries: 1, NumInstances: 2, LastStoredAt: stored(recs[1]).StoredAt}
		if diff := cmp.Diff(want, hit(), cmpRec); diff != "" {
			t.Errorf("after 2 instances (-want +got):\n%s", diff)
		}
		putAll(t, ix, recs[2:5]) // the third of 1.1.1, series 1.1.2
		// A newer instance in a new series, with other study attributes and another SOP class.
		sr := record(scopeA, "1.1", "1.1.9", "1.1.9.1", nil, 100)
		sr.Study.StudyDescription, sr.Series.Modality, sr.SOPClassUID = "CT HEAD (revised)", "SR", classOf["SR"]
		putAll(t, ix, []dicomweb.InstanceRecord{sr})
		// An older one arriving late changes the counts, not the attributes.
		late := record(scopeA, "1.1", "1.1.2", "1.1.2.9", nil, -100)
		late.Study.StudyDescription, late.Series.SeriesDescription = "stale", "stale"
		putAll(t, ix, []dicomweb.InstanceRecord{late})
		want.Study.StudyDescription = "CT HEAD (revised)"
		want.Modalities, want.SOPClasses = []string{"CT", "SR"}, []string{classOf["CT"], classOf["SR"]}
		want.NumSeries, want.NumInstances, want.LastStoredAt = 3, 7, stored(sr).StoredAt
		if diff := cmp.Diff(want, hit(), cmpRec); diff != "" {
			t.Errorf("after 7 instances (-want +got):\n%s", diff)
		}
		sres, err := ix.Search(ctx, dicomweb.Query{Scope: scopeA, Level: dicomweb.LevelSeries, StudyUID: "1.1"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range sres.Series {
			got = append(got, fmt.Sprintf("%s %s %d %s", s.SeriesUID, s.Series.SeriesDescription, s.NumInstances, s.Study.StudyDescription))
		}
		wantSeries := []string{"1.1.1 axial 3 CT HEAD (revised)", "1.1.2 coronal 3 CT HEAD (revised)", "1.1.9  1 CT HEAD (revised)"}
		if diff := cmp.Diff(wantSeries, got); diff != "" {
			t.Errorf("series (-want +got):\n%s", diff)
		}
		// Instances keep their own instance-level values; their study attributes are the study's.
		inst, err := ix.Instance(ctx, scopeA, "1.1.2.9")
		if err != nil || inst.Study.StudyDescription != "CT HEAD (revised)" || inst.Size != late.Size {
			t.Errorf("late instance: %+v, %v", inst, err)
		}
	})
}

func TestDeleteStudy(t *testing.T) {
	eachEngine(t, func(t *testing.T, ix *sqlindex.Index) {
		ctx := t.Context()
		recs := fixture(scopeA)
		putAll(t, ix, recs)
		if err := ix.LinkStudy(ctx, scopeA, "1.1", "patient-1"); err != nil {
			t.Fatal(err)
		}
		before, err := ix.Instances(ctx, scopeA, "1.1", "")
		if err != nil {
			t.Fatal(err)
		}
		gone, err := ix.DeleteStudy(ctx, scopeA, "1.1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before, gone, cmpRec); diff != "" {
			t.Errorf("DeleteStudy returned (-want +got):\n%s", diff)
		}
		if _, err := ix.Instances(ctx, scopeA, "1.1", ""); !errors.Is(err, dicomweb.ErrNotFound) {
			t.Errorf("Instances after delete: %v", err)
		}
		if _, err := ix.Instance(ctx, scopeA, "1.1.1.1"); !errors.Is(err, dicomweb.ErrNotFound) {
			t.Errorf("Instance after delete: %v", err)
		}
		if _, err := ix.DeleteStudy(ctx, scopeA, "1.1"); !errors.Is(err, dicomweb.ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
		for _, q := range []dicomweb.Query{
			{Scope: scopeA, StudyUID: "1.1"},
			{Scope: scopeA, Matches: []dicomweb.Match{{Attr: dicomweb.AttrPatientName, Kind: dicomweb.MatchFuzzy, Value: "hans"}}},
			{Scope: scopeA, Level: dicomweb.LevelSeries, StudyUID: "1.1"},
			{Scope: scopeA, Level: dicomweb.LevelInstance, Matches: []dicomweb.Match{{Attr: dicomweb.AttrStudyInstanceUID, Value: "1.1"}}},
		} {
			res, err := ix.Search(ctx, q)
			if err != nil || len(res.Studies)+len(res.Series)+len(res.Instances) != 0 {
				t.Errorf("search %+v after delete: %+v, %v", q, res, err)
			}
		}
		if hits, err := ix.StudiesOfPatient(ctx, dicomweb.ScopeCentres, "patient-1"); err != nil || len(hits) != 0 {
			t.Errorf("StudiesOfPatient after delete: %v, %v", hits, err)
		}
		res, err := ix.Search(ctx, dicomweb.Query{Scope: scopeA})
		if err != nil || len(res.Studies) != 4 {
			t.Errorf("the other studies: %d, %v", len(res.Studies), err)
		}
		// The study can be stored again, from scratch.
		putAll(t, ix, recs[:1])
		if res, err := ix.Search(ctx, dicomweb.Query{Scope: scopeA, StudyUID: "1.1"}); err != nil ||
			len(res.Studies) != 1 || res.Studies[0].NumInstances != 1 || res.Studies[0].NumSeries != 1 || res.Studies[0].PatientRef != "" {
			t.Errorf("study stored again: %+v, %v", res.Studies, err)
		}
	})
}

func TestLinkStudy(t *testing.T) {
	eachEngine(t, func(t *testing.T, ix *sqlindex.Index) {
		ctx := t.Context()
		putAll(t, ix, fixture(scopeA))
		for _, uid := range []string{"1.3", "1.1", "1.5"} {
			if err := ix.LinkStudy(ctx, scopeA, uid, "patient-1"); err != nil {
				t.Fatal(err)
			}
		}
		if err := ix.LinkStudy(ctx, scopeA, "1.2", "patient-2"); err != nil {
			t.Fatal(err)
		}
		hits, err := ix.StudiesOfPatient(ctx, dicomweb.ScopeCentres, "patient-1")
		if err != nil {
			t.Fatal(err)
		}
		want := []studySummary{
			{UID: "1.5", Name: "Doe^Jane", Ref: "patient-1", Series: 1, Instances: 2, Modalities: []string{"PT"}},
			{UID: "1.1", Name: "Müller^Hans", Ref: "patient-1", Series: 2, Instances: 5, Modalities: []string{"CT"}},
			{UID: "1.3", Name: "Smith^John", Ref: "patient-1", Series: 1, Instances: 2, Modalities: []string{"US"}},
		}
		if diff := cmp.Diff(want, summarize(hits)); diff != "" {
			t.Errorf("StudiesOfPatient (-want +got):\n%s", diff)
		}
		// A later instance keeps the link; clearing removes it.
		putAll(t, ix, []dicomweb.InstanceRecord{record(scopeA, "1.5", "1.5.1", "1.5.1.9", nil, 200)})
		if err := ix.LinkStudy(ctx, scopeA, "1.3", ""); err != nil {
			t.Fatal(err)
		}
		if err := ix.LinkStudy(ctx, scopeA, "1.1", "patient-1"); err != nil { // unchanged: still found
			t.Fatal(err)
		}
		hits, err = ix.StudiesOfPatient(ctx, dicomweb.ScopeCentres, "patient-1")
		if err != nil {
			t.Fatal(err)
		}
		want = want[:2]
		want[0].Instances = 3
		if diff := cmp.Diff(want, summarize(hits)); diff != "" {
			t.Errorf("StudiesOfPatient after changes (-want +got):\n%s", diff)
		}
		if hits, err := ix.StudiesOfPatient(ctx, dicomweb.ScopeCentres, ""); err != nil || len(hits) != 0 {
			t.Errorf("StudiesOfPatient of no patient: %v, %v", hits, err)
		}
		if hits, err := ix.StudiesOfPatient(ctx, dicomweb.ScopeCentres, "patient-9"); err != nil || len(hits) != 0 {
			t.Errorf("StudiesOfPatient of an unknown patient: %v, %v", hits, err)
		}
	})
}

// PutInstances: one transaction, each record answered as PutInstance would, a conflicting one
// leaving no trace while the others stay.
func TestPutInstances(t *testing.T) {
	eachEngine(t, func(t *testing.T, ix *sqlindex.Index) {
		ctx := t.Context()
		first := record(scopeA, "7.1", "7.1.1", "7.1.1.1", nil, 0)
		if _, err := ix.PutInstance(ctx, first); err != nil {
			t.Fatal(err)
		}
		again := first
		again.BlobKey = "another"
		conflict := record(scopeA, "7.2", "7.1.1", "7.2.1.1", nil, 1) // series 7.1.1 is in study 7.1
		fresh := record(scopeA, "7.1", "7.1.2", "7.1.2.1", nil, 2)
		twice := record(scopeA, "7.1", "7.1.2", "7.1.2.2", nil, 3)
		res, err := ix.PutInstances(ctx, []dicomweb.InstanceRecord{again, conflict, fresh, twice, twice})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 5 {
			t.Fatalf("%d results for 5 records", len(res))
		}
		if !errors.Is(res[0].Err, dicomweb.ErrDuplicate) || res[0].Stored.BlobKey != first.BlobKey {
			t.Errorf("a stored SOP instance: %v %q", res[0].Err, res[0].Stored.BlobKey)
		}
		if !errors.Is(res[1].Err, dicomweb.ErrConflict) {
			t.Errorf("a series of another study: %v", res[1].Err)
		}
		if res[2].Err != nil || res[3].Err != nil || !errors.Is(res[4].Err, dicomweb.ErrDuplicate) {
			t.Errorf("fresh instances: %v %v %v", res[2].Err, res[3].Err, res[4].Err)
		}
		if _, err := ix.Instance(ctx, scopeA, "7.2.1.1"); !errors.Is(err, dicomweb.ErrNotFound) {
			t.Errorf("the conflicting instance was kept: %v", err)
		}
		r, err := ix.Search(ctx, dicomweb.Query{Scope: scopeA, StudyUID: "7.2"})
		if err != nil || len(r.Studies) != 0 {
			t.Errorf("the conflicting instance's study was kept: %v %v", r.Studies, err)
		}
		r, err = ix.Search(ctx, dicomweb.Query{Scope: scopeA, StudyUID: "7.1"})
		if err != nil || len(r.Studies) != 1 || r.Studies[0].NumInstances != 3 || r.Studies[0].NumSeries != 2 {
			t.Errorf("study 7.1 after the batch: %+v %v", r.Studies, err)
		}
	})
}

// A batch gives the same index as the same records put one by one: the fixture in one batch
// (scope B) and one at a time (scope A) answer every level's search alike. A batch of records of
// two scopes takes the path of one savepoint per record, with the same results.
func TestPutInstancesLikeOneByOne(t *testing.T) {
	eachEngine(t, func(t *testing.T, ix *sqlindex.Index) {
		ctx := t.Context()
		putAll(t, ix, fixture(scopeA))
		if res, err := ix.PutInstances(ctx, fixture(scopeB)); err != nil {
			t.Fatal(err)
		} else {
			for i, r := range res {
				if r.Err != nil {
					t.Fatalf("record %d: %v", i, r.Err)
				}
			}
		}
		for _, level := range []dicomweb.Level{dicomweb.LevelStudy, dicomweb.LevelSeries, dicomweb.LevelInstance} {
			a, errA := ix.Search(ctx, dicomweb.Query{Scope: scopeA, Level: level, Metadata: true})
			b, errB := ix.Search(ctx, dicomweb.Query{Scope: scopeB, Level: level, Metadata: true})
			if errA != nil || errB != nil {
				t.Fatal(errA, errB)
			}
			for i := range b.Studies {
				b.Studies[i].Scope = scopeA
			}
			for i := range b.Instances {
				b.Instances[i].Scope = scopeA
				b.Instances[i].BlobKey = strings.Replace(b.Instances[i].BlobKey, scopeB.ID, scopeA.ID, 1)
			}
			if diff := cmp.Diff(a, b, cmpRec); diff != "" {
				t.Errorf("level %d: one by one (-) and in a batch (+) differ:\n%s", level, diff)
			}
		}
		mixed := []dicomweb.InstanceRecord{record(scopeA, "8.1", "8.1.1", "8.1.1.1", nil, 0), record(scopeB, "8.1", "8.1.1", "8.1.1.1", nil, 0),
			record(scopeA, "8.2", "8.1.1", "8.2.1.1", nil, 1)}
		res, err := ix.PutInstances(ctx, mixed)
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Err != nil || res[1].Err != nil || !errors.Is(res[2].Err, dicomweb.ErrConflict) {
			t.Errorf("a batch of two scopes: %v %v %v", res[0].Err, res[1].Err, res[2].Err)
		}
	})
}

// Concurrent batches into one new series and study count every instance and the series once.
func TestPutInstancesConcurrent(t *testing.T) {
	eachEngine(t, func(t *testing.T, ix *sqlindex.Index) {
		ctx := t.Context()
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var batch []dicomweb.InstanceRecord
				for k := range 5 {
					batch = append(batch, record(scopeA, "9.1", "9.1.1", fmt.Sprintf("9.1.1.%d", g*10+k), nil, g*10+k))
				}
				res, err := ix.PutInstances(ctx, batch)
				if err == nil {
					for _, r := range res {
						if r.Err != nil {
							err = r.Err
						}
					}
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		r, err := ix.Search(ctx, dicomweb.Query{Scope: scopeA, StudyUID: "9.1"})
		if err != nil || len(r.Studies) != 1 || r.Studies[0].NumInstances != 40 || r.Studies[0].NumSeries != 1 {
			t.Fatalf("after 8 concurrent batches: %+v %v", r.Studies, err)
		}
	})
}
