package sqlindex_test

import (
	"fmt"
	"testing"

	"github.com/ern-cpms/cpms/dicomweb"
	"github.com/ern-cpms/cpms/dicomweb/sqlindex"
	"github.com/google/go-cmp/cmp"
)

func single(attr, v string) dicomweb.Match {
	return dicomweb.Match{Attr: attr, Kind: dicomweb.MatchSingle, Value: v}
}

func wild(attr, v string) dicomweb.Match {
	return dicomweb.Match{Attr: attr, Kind: dicomweb.MatchWildcard, Value: v}
}

func fuzzy(attr, v string) dicomweb.Match {
	return dicomweb.Match{Attr: attr, Kind: dicomweb.MatchFuzzy, Value: v}
}

func list(attr string, vs ...string) dicomweb.Match {
	return dicomweb.Match{Attr: attr, Kind: dicomweb.MatchUIDList, Values: vs}
}

func between(attr, from, to string) dicomweb.Match {
	return dicomweb.Match{Attr: attr, Kind: dicomweb.MatchRange, From: from, To: to}
}

// uids lists the UIDs of a result at its level.
func uids(res dicomweb.Result) []string {
	var out []string
	for _, h := range res.Studies {
		out = append(out, h.StudyUID)
	}
	for _, h := range res.Series {
		out = append(out, h.SeriesUID)
	}
	for _, r := range res.Instances {
		out = append(out, r.SOPUID)
	}
	return out
}

type searchCase struct {
	name    string
	q       dicomweb.Query
	want    []string
	wantErr bool
}

// Studies newest first: 1.5 (20250101), 1.1 (20240110 101010.5), 1.2 (20240110 1010), 1.3
// (20230505), 1.4 (no date).
var studyCases = []searchCase{
	{name: "all", want: []string{"1.5", "1.1", "1.2", "1.3", "1.4"}},
	{name: "study UID", q: dicomweb.Query{StudyUID: "1.3"}, want: []string{"1.3"}},
	{name: "study UID match", q: q(single(dicomweb.AttrStudyInstanceUID, "1.2")), want: []string{"1.2"}},
	{name: "PN exact, any case", q: q(single(dicomweb.AttrPatientName, "müller^HANS")), want: []string{"1.1"}},
	{name: "PN exact keeps diacritics", q: q(single(dicomweb.AttrPatientName, "muller^hans"))},
	{name: "PN exact ASCII", q: q(single(dicomweb.AttrPatientName, "Muller^Anna")), want: []string{"1.2"}},
	{name: "PN wildcard prefix", q: q(wild(dicomweb.AttrPatientName, "mul*")), want: []string{"1.2"}},
	{name: "PN wildcard ? is one character", q: q(wild(dicomweb.AttrPatientName, "m?ller^*")), want: []string{"1.1", "1.2"}},
	{name: "PN wildcard inside", q: q(wild(dicomweb.AttrPatientName, "*^j*")), want: []string{"1.5", "1.3"}},
	{name: "PN wildcard without wildcards", q: q(wild(dicomweb.AttrPatientName, "doe^jane")), want: []string{"1.5"}},
	{name: "universal wildcard", q: q(wild(dicomweb.AttrStudyDescription, "**")), want: []string{"1.5", "1.1", "1.2", "1.3", "1.4"}},
	{name: "universal empty value", q: q(single(dicomweb.AttrPatientID, "")), want: []string{"1.5", "1.1", "1.2", "1.3", "1.4"}},
	{name: "fuzzy folds diacritics", q: q(fuzzy(dicomweb.AttrPatientName, "mul")), want: []string{"1.1", "1.2"}},
	{name: "fuzzy with diacritics", q: q(fuzzy(dicomweb.AttrPatientName, "Mül")), want: []string{"1.1", "1.2"}},
	{name: "fuzzy every word", q: q(fuzzy(dicomweb.AttrPatientName, "hans mull")), want: []string{"1.1"}},
	{name: "fuzzy words starting only", q: q(fuzzy(dicomweb.AttrPatientName, "ller"))},
	{name: "fuzzy hyphenated name", q: q(fuzzy(dicomweb.AttrPatientName, "jones")), want: []string{"1.4"}},
	{name: "fuzzy caret separated", q: q(fuzzy(dicomweb.AttrPatientName, "MARY^smi")), want: []string{"1.4"}},
	{name: "fuzzy two patients", q: q(fuzzy(dicomweb.AttrPatientName, "smi")), want: []string{"1.3", "1.4"}},
	{name: "fuzzy literal %", q: q(fuzzy(dicomweb.AttrPatientName, "%"))},
	{name: "fuzzy referring physician", q: q(fuzzy(dicomweb.AttrReferringPhysicianName, "lukasz")), want: []string{"1.3"}},
	{name: "referring physician exact", q: q(single(dicomweb.AttrReferringPhysicianName, "WHO^DOCTOR")), want: []string{"1.1"}},
	{name: "wildcard literal %", q: q(wild(dicomweb.AttrStudyDescription, "*100%")), want: []string{"1.1"}},
	{name: "wildcard literal _", q: q(wild(dicomweb.AttrStudyDescription, "100_*")), want: []string{"1.3"}},
	{name: "wildcard ? matches _ and X", q: q(wild(dicomweb.AttrStudyDescription, "100?done")), want: []string{"1.2", "1.3"}},
	{name: "exact literal _", q: q(single(dicomweb.AttrAccessionNumber, "A_1")), want: []string{"1.1"}},
	{name: "wildcard _ is literal", q: q(wild(dicomweb.AttrAccessionNumber, "A_*")), want: []string{"1.1"}},
	{name: "non-PN is case-sensitive", q: q(wild(dicomweb.AttrStudyDescription, "ct*"))},
	{name: "non-PN wildcard", q: q(wild(dicomweb.AttrStudyDescription, "CT*")), want: []string{"1.1", "1.4"}},
	{name: "non-PN exact is case-sensitive", q: q(single(dicomweb.AttrStudyDescription, "ct chest"))},
	{name: "patient ID", q: q(single(dicomweb.AttrPatientID, "P3")), want: []string{"1.3"}},
	{name: "issuer", q: q(single(dicomweb.AttrIssuerOfPatientID, "HOSP")), want: []string{"1.5"}},
	{name: "sex", q: q(single(dicomweb.AttrPatientSex, "F")), want: []string{"1.2"}},
	{name: "study ID", q: q(single(dicomweb.AttrStudyID, "S1")), want: []string{"1.1"}},
	{name: "date single", q: q(single(dicomweb.AttrStudyDate, "20240110")), want: []string{"1.1", "1.2"}},
	{name: "date range", q: q(between(dicomweb.AttrStudyDate, "20230101", "20231231")), want: []string{"1.3"}},
	{name: "date range open end", q: q(between(dicomweb.AttrStudyDate, "20240101", "")), want: []string{"1.5", "1.1", "1.2"}},
	{name: "date range open start", q: q(between(dicomweb.AttrStudyDate, "", "20240110")), want: []string{"1.1", "1.2", "1.3"}},
	{name: "date range both open", q: q(between(dicomweb.AttrStudyDate, "", "")), want: []string{"1.5", "1.1", "1.2", "1.3", "1.4"}},
	{name: "date range with dashes", q: q(between(dicomweb.AttrStudyDate, "2024-01-10", "2024-01-10")), want: []string{"1.1", "1.2"}},
	{name: "birth date range", q: q(between(dicomweb.AttrPatientBirthDate, "19750101", "19851231")), want: []string{"1.2"}},
	{name: "time range one minute", q: q(between(dicomweb.AttrStudyTime, "1010", "1010")), want: []string{"1.1", "1.2"}},
	{name: "time range seconds", q: q(between(dicomweb.AttrStudyTime, "101005", "")), want: []string{"1.5", "1.1"}},
	{name: "time range open start", q: q(between(dicomweb.AttrStudyTime, "", "101000")), want: []string{"1.2"}},
	{name: "time range fractions", q: q(between(dicomweb.AttrStudyTime, "101010.4", "101010.6")), want: []string{"1.1"}},
	{name: "time single padded", q: q(single(dicomweb.AttrStudyTime, "101000")), want: []string{"1.2"}},
	{name: "UID list", q: q(list(dicomweb.AttrStudyInstanceUID, "1.3", "9.9", "1.1")), want: []string{"1.1", "1.3"}},
	{name: "modality in study", q: q(single(dicomweb.AttrModalitiesInStudy, "SR")), want: []string{"1.2"}},
	{name: "modalities in study", q: q(list(dicomweb.AttrModalitiesInStudy, "US", "PT", "XA")), want: []string{"1.5", "1.3"}},
	{name: "modality in study CT", q: q(single(dicomweb.AttrModalitiesInStudy, "CT")), want: []string{"1.1", "1.4"}},
	{name: "several matches", q: q(fuzzy(dicomweb.AttrPatientName, "mul"), between(dicomweb.AttrStudyDate, "20240110", ""),
		single(dicomweb.AttrModalitiesInStudy, "CT")), want: []string{"1.1"}},
	{name: "study level series UID", q: dicomweb.Query{SeriesUID: "1.2.2"}, want: []string{"1.2"}},
	{name: "series attribute at study level", q: q(single(dicomweb.AttrModality, "CT")), wantErr: true},
	{name: "unknown attribute", q: q(single("PatientWeight", "70")), wantErr: true},
	{name: "fuzzy on non-PN", q: q(fuzzy(dicomweb.AttrPatientID, "P")), wantErr: true},
	{name: "range on non-date", q: q(between(dicomweb.AttrPatientID, "A", "B")), wantErr: true},
}

func q(ms ...dicomweb.Match) dicomweb.Query { return dicomweb.Query{Matches: ms} }

// Series by number, then UID: 1.1.1, 1.2.1, 1.4.1, 1.5.1 (1), 1.1.2 (2), 1.3.1 (3), 1.2.2 (none).
var seriesCases = []searchCase{
	{name: "all", want: []string{"1.1.1", "1.2.1", "1.4.1", "1.5.1", "1.1.2", "1.3.1", "1.2.2"}},
	{name: "of a study", q: dicomweb.Query{StudyUID: "1.2"}, want: []string{"1.2.1", "1.2.2"}},
	{name: "one series", q: dicomweb.Query{StudyUID: "1.1", SeriesUID: "1.1.2"}, want: []string{"1.1.2"}},
	{name: "modality", q: q(single(dicomweb.AttrModality, "CT")), want: []string{"1.1.1", "1.4.1", "1.1.2"}},
	{name: "modality list", q: q(list(dicomweb.AttrModality, "SR", "US")), want: []string{"1.3.1", "1.2.2"}},
	{name: "series number", q: q(single(dicomweb.AttrSeriesNumber, "2")), want: []string{"1.1.2"}},
	{name: "series number not an integer", q: q(single(dicomweb.AttrSeriesNumber, "two")), wantErr: true},
	{name: "series description wildcard", q: q(wild(dicomweb.AttrSeriesDescription, "?xial")), want: []string{"1.1.1"}},
	{name: "series UID list", q: q(list(dicomweb.AttrSeriesInstanceUID, "1.3.1", "1.1.1")), want: []string{"1.1.1", "1.3.1"}},
	{name: "pps date", q: q(between(dicomweb.AttrPerformedProcedureStepStartDate, "20240101", "")), want: []string{"1.1.1"}},
	{name: "pps time range", q: q(between(dicomweb.AttrPerformedProcedureStepStartTime, "0800", "090000.25")),
		want: []string{"1.1.1", "1.1.2"}},
	{name: "pps time open end", q: q(between(dicomweb.AttrPerformedProcedureStepStartTime, "0900", "")),
		want: []string{"1.2.1", "1.1.2"}},
	{name: "relational by patient name", q: q(single(dicomweb.AttrPatientName, "SMITH^JOHN")), want: []string{"1.3.1"}},
	{name: "relational fuzzy", q: q(fuzzy(dicomweb.AttrPatientName, "mül")), want: []string{"1.1.1", "1.2.1", "1.1.2", "1.2.2"}},
	{name: "relational and series", q: q(fuzzy(dicomweb.AttrPatientName, "mul"), single(dicomweb.AttrModality, "SR")),
		want: []string{"1.2.2"}},
	{name: "modalities in study", q: q(single(dicomweb.AttrModalitiesInStudy, "SR")), want: []string{"1.2.1", "1.2.2"}},
	{name: "instance attribute", q: q(single(dicomweb.AttrSOPClassUID, classOf["CT"])), wantErr: true},
}

// Instances by number, then UID.
var instanceCases = []searchCase{
	{name: "of a series", q: dicomweb.Query{StudyUID: "1.1", SeriesUID: "1.1.1"}, want: []string{"1.1.1.2", "1.1.1.1", "1.1.1.3"}},
	{name: "of a study", q: dicomweb.Query{StudyUID: "1.2"}, want: []string{"1.2.1.2", "1.2.1.1", "1.2.2.1", "1.2.2.2"}},
	{name: "SOP class list", q: q(list(dicomweb.AttrSOPClassUID, classOf["US"], classOf["PT"])),
		want: []string{"1.3.1.2", "1.5.1.2", "1.3.1.1", "1.5.1.1"}},
	{name: "instance number", q: q(single(dicomweb.AttrInstanceNumber, "3")), want: []string{"1.1.1.3"}},
	{name: "SOP UID", q: q(single(dicomweb.AttrSOPInstanceUID, "1.4.1.2")), want: []string{"1.4.1.2"}},
	{name: "SOP UID wildcard", q: q(wild(dicomweb.AttrSOPInstanceUID, "1.4.*")), want: []string{"1.4.1.2", "1.4.1.1"}},
	{name: "by patient", q: q(fuzzy(dicomweb.AttrPatientName, "jones")), want: []string{"1.4.1.2", "1.4.1.1"}},
	{name: "by study and series attributes", q: q(single(dicomweb.AttrStudyDate, "20240110"), single(dicomweb.AttrModality, "MR")),
		want: []string{"1.2.1.2", "1.2.1.1"}},
	{name: "instance number list", q: dicomweb.Query{StudyUID: "1.1", Matches: []dicomweb.Match{list(dicomweb.AttrInstanceNumber, "1", "3")}},
		want: []string{"1.1.1.2", "1.1.2.2", "1.1.1.3"}},
	{name: "instance number wildcard", q: q(wild(dicomweb.AttrInstanceNumber, "1*")), wantErr: true},
}

func TestSearch(t *testing.T) {
	eachEngine(t, func(t *testing.T, ix *sqlindex.Index) {
		putAll(t, ix, fixture(scopeA))
		// The same UIDs in another scope, with other values: never found in A.
		other := fixture(scopeB)
		for i := range other {
			other[i].Study.PatientName, other[i].Study.StudyDate, other[i].Series.Modality = "Müller^X", "20240110", "CT"
		}
		putAll(t, ix, other)
		for level, cases := range map[dicomweb.Level][]searchCase{
			dicomweb.LevelStudy: studyCases, dicomweb.LevelSeries: seriesCases, dicomweb.LevelInstance: instanceCases,
		} {
			for _, c := range cases {
				t.Run(fmt.Sprintf("level%d/%s", level, c.name), func(t *testing.T) {
					q := c.q
					q.Scope, q.Level = scopeA, level
					res, err := ix.Search(t.Context(), q)
					if c.wantErr {
						if err == nil {
							t.Fatalf("no error, found %v", uids(res))
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(c.want, uids(res)); diff != "" {
						t.Errorf("found (-want +got):\n%s", diff)
					}
					if res.More {
						t.Error("More set")
					}
				})
			}
		}
	})
}

func TestSearchResults(t *testing.T) {
	eachEngine(t, func(t *testing.T, ix *sqlindex.Index) {
		ctx := t.Context()
		recs := fixture(scopeA)
		putAll(t, ix, recs)
		res, err := ix.Search(ctx, dicomweb.Query{Scope: scopeA, StudyUID: "1.3"})
		if err != nil {
			t.Fatal(err)
		}
		wantStudy := []dicomweb.StudyHit{{Scope: scopeA, StudyUID: "1.3", Study: fixtureStudies["1.3"], Modalities: []string{"US"},
			SOPClasses: []string{classOf["US"]}, NumSeries: 1, NumInstances: 2, LastStoredAt: stored(recs[10]).StoredAt}}
		if diff := cmp.Diff(dicomweb.Result{Studies: wantStudy}, res, cmpRec); diff != "" {
			t.Errorf("study hit (-want +got):\n%s", diff)
		}
		res, err = ix.Search(ctx, dicomweb.Query{Scope: scopeA, Level: dicomweb.LevelSeries, StudyUID: "1.3"})
		if err != nil {
			t.Fatal(err)
		}
		wantSeries := []dicomweb.SeriesHit{{StudyUID: "1.3", SeriesUID: "1.3.1", Study: fixtureStudies["1.3"],
			Series: fixtureSeries["1.3.1"], NumInstances: 2}}
		if diff := cmp.Diff(dicomweb.Result{Series: wantSeries}, res, cmpRec); diff != "" {
			t.Errorf("series hit (-want +got):\n%s", diff)
		}
		res, err = ix.Search(ctx, dicomweb.Query{Scope: scopeA, Level: dicomweb.LevelInstance, SeriesUID: "1.3.1", Metadata: true})
		if err != nil {
			t.Fatal(err)
		}
		wantInstances := []dicomweb.InstanceRecord{stored(recs[10]), stored(recs[9])}
		if diff := cmp.Diff(dicomweb.Result{Instances: wantInstances}, res, cmpRec); diff != "" {
			t.Errorf("instance hits (-want +got):\n%s", diff)
		}
		// Without Metadata, the instances come without their metadata and layout.
		res, err = ix.Search(ctx, dicomweb.Query{Scope: scopeA, Level: dicomweb.LevelInstance, SeriesUID: "1.3.1"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range wantInstances {
			wantInstances[i].Metadata, wantInstances[i].Layout = nil, nil
			wantInstances[i].Study.JSON, wantInstances[i].Series.JSON = nil, nil
		}
		if diff := cmp.Diff(dicomweb.Result{Instances: wantInstances}, res, cmpRec); diff != "" {
			t.Errorf("instance hits without metadata (-want +got):\n%s", diff)
		}
	})
}

func TestSearchPages(t *testing.T) {
	eachEngine(t, func(t *testing.T, ix *sqlindex.Index) {
		ctx := t.Context()
		putAll(t, ix, fixture(scopeA))
		for _, c := range []struct {
			level         dicomweb.Level
			limit, offset int
			want          []string
			more          bool
		}{
			{dicomweb.LevelStudy, 2, 0, []string{"1.5", "1.1"}, true},
			{dicomweb.LevelStudy, 2, 2, []string{"1.2", "1.3"}, true},
			{dicomweb.LevelStudy, 2, 4, []string{"1.4"}, false},
			{dicomweb.LevelStudy, 2, 5, nil, false},
			{dicomweb.LevelStudy, 5, 0, []string{"1.5", "1.1", "1.2", "1.3", "1.4"}, false},
			{dicomweb.LevelStudy, 0, 3, []string{"1.3", "1.4"}, false},
			{dicomweb.LevelStudy, sqlindex.MaxLimit + 1, -1, []string{"1.5", "1.1", "1.2", "1.3", "1.4"}, false},
			{dicomweb.LevelSeries, 3, 3, []string{"1.5.1", "1.1.2", "1.3.1"}, true},
			{dicomweb.LevelSeries, 3, 6, []string{"1.2.2"}, false},
			{dicomweb.LevelInstance, 4, 0, []string{"1.1.1.2", "1.1.2.2", "1.2.1.2", "1.3.1.2"}, true},
			{dicomweb.LevelInstance, 4, 12, []string{"1.1.1.3", "1.2.2.1", "1.2.2.2"}, false},
		} {
			res, err := ix.Search(ctx, dicomweb.Query{Scope: scopeA, Level: c.level, Limit: c.limit, Offset: c.offset})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, uids(res)); diff != "" || res.More != c.more {
				t.Errorf("level %d, limit %d, offset %d: More %v (want %v), found (-want +got):\n%s",
					c.level, c.limit, c.offset, res.More, c.more, diff)
			}
		}
	})
}

func TestSearchMaxLimit(t *testing.T) {
	eachEngine(t, func(t *testing.T, ix *sqlindex.Index) {
		ctx := t.Context()
		recs := make([]dicomweb.InstanceRecord, sqlindex.MaxLimit+1)
		for i := range recs {
			recs[i] = record(scopeA, "1.1", "1.1.1", fmt.Sprintf("1.1.1.%d", i), intp(i), i)
		}
		if _, err := ix.PutInstances(ctx, recs); err != nil {
			t.Fatal(err)
		}
		for _, limit := range []int{0, sqlindex.MaxLimit + 10} {
			res, err := ix.Search(ctx, dicomweb.Query{Scope: scopeA, Level: dicomweb.LevelInstance, Limit: limit})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Instances) != sqlindex.MaxLimit || !res.More || res.Instances[sqlindex.MaxLimit-1].SOPUID != "1.1.1.999" {
				t.Errorf("limit %d: %d instances, More %v", limit, len(res.Instances), res.More)
			}
		}
	})
}
