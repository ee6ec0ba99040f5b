package sqlindex_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/dicomweb"
	"github.com/ern-cpms/cpms/dicomweb/sqlindex"
	"github.com/ern-cpms/cpms/internal/sqldb"
	"github.com/ern-cpms/cpms/internal/sqldb/sqldbtest"
)

const (
	benchStudies   = 200
	benchSeries    = 4  // per study
	benchInstances = 25 // per series: 20,000 instances in all
)

// seedBench fills an index with benchStudies studies in scopeA (and a tenth as many in scopeB,
// which the searches must skip).
func seedBench(b *testing.B, db *sqldb.DB, ix *sqlindex.Index) {
	ctx := b.Context()
	modalities := []string{"CT", "MR", "US", "SR", "PT"}
	for _, scope := range []dicomweb.Scope{scopeA, scopeB} {
		n := benchStudies
		if scope == scopeB {
			n /= 10
		}
		var batch []dicomweb.InstanceRecord
		at := 0
		for st := range n {
			study := fmt.Sprintf("2.25.%d", st)
			sa := dicomweb.StudyAttrs{PatientName: fmt.Sprintf("Patientö%03d^Given%d", st/2, st%7),
				PatientID: fmt.Sprintf("PID%05d", st/2), StudyDate: fmt.Sprintf("2024%02d%02d", 1+st%12, 1+st%28),
				StudyTime: fmt.Sprintf("%02d%02d", st%24, st%60), AccessionNumber: fmt.Sprintf("ACC%06d", st),
				StudyDescription: "Study " + study, JSON: []byte(`{"00081030":{"vr":"LO","Value":["Study"]}}`)}
			for se := range benchSeries {
				series := fmt.Sprintf("%s.%d", study, se)
				sea := dicomweb.SeriesAttrs{Modality: modalities[(st+se)%len(modalities)], SeriesNumber: intp(se + 1),
					JSON: []byte(`{"00080060":{"vr":"CS"}}`)}
				for in := range benchInstances {
					at++
					batch = append(batch, dicomweb.InstanceRecord{Scope: scope, StudyUID: study, SeriesUID: series,
						SOPUID: fmt.Sprintf("%s.%d", series, in), SOPClassUID: classOf[sea.Modality],
						TransferSyntaxUID: "1.2.840.10008.1.2.1", InstanceNumber: intp(in + 1), Rows: 512, Columns: 512,
						NumberOfFrames: 1, BitsAllocated: 16, BlobKey: fmt.Sprintf("blob/%d", at), Size: 524288,
						SHA256: fmt.Sprintf("%064x", at), StoredAt: base.Add(time.Duration(at) * time.Millisecond),
						Metadata: make([]byte, 4096), Layout: []byte(`{"frames":1}`), Study: sa, Series: sea})
					if len(batch) == 1000 {
						if _, err := ix.PutInstances(ctx, batch); err != nil {
							b.Fatal(err)
						}
						batch = batch[:0]
					}
				}
			}
		}
		if _, err := ix.PutInstances(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	// PostgreSQL plans with statistics, which autovacuum gathers soon after the tables grow; the
	// benchmarks measure that steady state. SQLite is measured without any (nothing runs ANALYZE).
	if db.Dialect == sqldb.Postgres {
		if _, err := db.Exec(ctx, "ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSearch runs the query that q(i) makes for the i-th operation and reports the 99th
// percentile of the latencies beside ns/op.
func benchSearch(b *testing.B, q func(i int) dicomweb.Query, want func(res dicomweb.Result) bool) {
	for _, e := range sqldbtest.Engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			db := e.Open(b)
			ix := newIndex(b, db)
			seedBench(b, db, ix)
			ctx := b.Context()
			var lat []time.Duration
			i := 0
			for b.Loop() {
				start := time.Now()
				res, err := ix.Search(ctx, q(i))
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if !want(res) {
					b.Fatalf("query %d: unexpected result %+v", i, uids(res))
				}
				i++
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}

func BenchmarkSearchStudyUID(b *testing.B) {
	benchSearch(b, func(i int) dicomweb.Query {
		return dicomweb.Query{Scope: scopeA, StudyUID: fmt.Sprintf("2.25.%d", i*7919%benchStudies)}
	}, func(res dicomweb.Result) bool {
		return len(res.Studies) == 1 && res.Studies[0].NumInstances == benchSeries*benchInstances
	})
}

func BenchmarkSearchPatientName(b *testing.B) {
	benchSearch(b, func(i int) dicomweb.Query {
		st := i * 7919 % benchStudies
		return dicomweb.Query{Scope: scopeA, Matches: []dicomweb.Match{
			single(dicomweb.AttrPatientName, fmt.Sprintf("PATIENTÖ%03d^given%d", st/2, st%7))}}
	}, func(res dicomweb.Result) bool { return len(res.Studies) >= 1 })
}

func BenchmarkSearchPatientNameWildcard(b *testing.B) {
	benchSearch(b, func(i int) dicomweb.Query {
		return dicomweb.Query{Scope: scopeA, Matches: []dicomweb.Match{
			wild(dicomweb.AttrPatientName, fmt.Sprintf("patientö%03d*", i*7919%(benchStudies/2)))}}
	}, func(res dicomweb.Result) bool { return len(res.Studies) == 2 })
}

func BenchmarkSearchPatientNameFuzzy(b *testing.B) {
	benchSearch(b, func(i int) dicomweb.Query {
		return dicomweb.Query{Scope: scopeA, Matches: []dicomweb.Match{
			fuzzy(dicomweb.AttrPatientName, fmt.Sprintf("patiento%03d", i*7919%(benchStudies/2)))}}
	}, func(res dicomweb.Result) bool { return len(res.Studies) == 2 })
}

// BenchmarkSearchStudiesPage lists every study of the scope (one page of 200) with their counts.
func BenchmarkSearchStudiesPage(b *testing.B) {
	benchSearch(b, func(int) dicomweb.Query {
		return dicomweb.Query{Scope: scopeA, Matches: []dicomweb.Match{between(dicomweb.AttrStudyDate, "2024", "")}}
	}, func(res dicomweb.Result) bool { return len(res.Studies) == benchStudies })
}

func BenchmarkSearchSeriesOfStudy(b *testing.B) {
	benchSearch(b, func(i int) dicomweb.Query {
		return dicomweb.Query{Scope: scopeA, Level: dicomweb.LevelSeries, StudyUID: fmt.Sprintf("2.25.%d", i*7919%benchStudies)}
	}, func(res dicomweb.Result) bool { return len(res.Series) == benchSeries })
}

func BenchmarkSearchInstancesOfSeries(b *testing.B) {
	benchSearch(b, func(i int) dicomweb.Query {
		st := i * 7919 % benchStudies
		return dicomweb.Query{Scope: scopeA, Level: dicomweb.LevelInstance, StudyUID: fmt.Sprintf("2.25.%d", st),
			SeriesUID: fmt.Sprintf("2.25.%d.%d", st, i%benchSeries)}
	}, func(res dicomweb.Result) bool { return len(res.Instances) == benchInstances })
}

// BenchmarkPutInstance adds instances to an index of 20,000, one transaction each.
func BenchmarkPutInstance(b *testing.B) {
	for _, e := range sqldbtest.Engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			db := e.Open(b)
			ix := newIndex(b, db)
			seedBench(b, db, ix)
			i := 0
			for b.Loop() {
				r := record(scopeA, "3.1", "3.1.1", fmt.Sprintf("3.1.1.%d", i), intp(i), i)
				if _, err := ix.PutInstance(b.Context(), r); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
