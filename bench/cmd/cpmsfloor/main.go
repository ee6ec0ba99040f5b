// Command cpmsfloor measures what the storage layer alone allows: it serves GET /floor from a
// bare net/http handler that calls the store and the audit trail directly, with none of the
// server's middleware, policy, FHIR mapping or routing. Driven by cpmsload's floor scenario
// beside the bare handler, it shows how much of a target the database work leaves for the rest.
//
// Usage (against the data of a server that has been stopped, or the same PostgreSQL database):
//
//	cpmsfloor -data DIR | -database-url URL  -mode read|family|create  [-token T] [-audit=false]
//	          [-addr 127.0.0.1:19090]
//
// Modes, per request:
//
//	read    the token lookup by hash (-token; skipped when empty), one patient by ID (a random
//	        patient of the centre and ERN), its JSON, one audit event
//	family  the token lookup, a search by the last name of a random patient, its JSON, one audit
//	        event per patient found
//	create  a new patient (a copy of an existing one under new names, MRN and ID, with its
//	        consents) through the store's CreatePatient, which allocates the CPMS ID; one audit
//	        event
//
// With -audit=false no audit event is recorded: the difference is the price of the audit trail.
// Events go through cpms.Auditor (group commit) and the answer waits until they are durable,
// as in the server. /metrics gives the process CPU time and GOMAXPROCS as cpmsload reads them.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	mrand "math/rand/v2"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/ern-cpms/cpms/bench/internal/measure"
	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/cpms/sqlstore"
	"github.com/ern-cpms/cpms/internal/auth"
	"github.com/ern-cpms/cpms/internal/sqldb"
)

type floor struct {
	store    *sqlstore.Store
	auditor  *cpms.Auditor // nil: no audit
	mode     string
	token    string
	patients []cpms.Patient
	created  atomic.Int64
	run      string // distinguishes this process's created names and MRNs
}

func main() {
	var (
		data   = flag.String("data", "", "the server's data folder (SQLite)")
		dbURL  = flag.String("database-url", os.Getenv("CPMS_DATABASE_URL"), "PostgreSQL URL instead of -data")
		mode   = flag.String("mode", "read", "read, family or create")
		token  = flag.String("token", "", "a bearer token to look up by hash on each request (empty: no lookup)")
		audit  = flag.Bool("audit", true, "record an audit event per request (per patient found)")
		addr   = flag.String("addr", "127.0.0.1:19090", "listen address")
		centre = flag.String("centre", "BE10", "centre of the patients used")
		ern    = flag.String("ern", "EuroBloodNet", "ERN of the patients used")
	)
	flag.Parse()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, sqldb.Config{URL: *dbURL, DataDir: *data})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	store, err := sqlstore.New(ctx, sqlstore.Config{DB: db})
	if err != nil {
		log.Fatal(err)
	}
	var auditor *cpms.Auditor
	if *audit {
		auditor = cpms.NewAuditor(cpms.AuditorConfig{Store: store})
		defer auditor.Close()
	}
	f, err := newFloor(ctx, store, auditor, *mode, *token, *centre, *ern)
	if err != nil {
		log.Fatalf("cpmsfloor: %v", err)
	}
	log.Printf("cpmsfloor: %s, %d patients at %s in %s, audit %v, token lookup %v; listening on %s",
		f.mode, len(f.patients), *centre, *ern, auditor != nil, f.token != "", *addr)
	log.Fatal(http.ListenAndServe(*addr, f.handler()))
}

// newFloor checks the mode and the token and loads the patients of the centre and ERN.
func newFloor(ctx context.Context, store *sqlstore.Store, auditor *cpms.Auditor, mode, token, centre, ern string) (*floor, error) {
	if mode != "read" && mode != "family" && mode != "create" {
		return nil, fmt.Errorf("unknown mode %q (want read, family or create)", mode)
	}
	f := &floor{store: store, auditor: auditor, mode: mode, token: token, run: randomHex(4)}
	if token != "" {
		if _, err := store.TokenByHash(ctx, auth.HashToken(token)); err != nil {
			return nil, fmt.Errorf("the token: %w", err)
		}
	}
	var err error
	f.patients, _, err = store.SearchPatients(ctx, cpms.PatientFilter{Centre: centre, ERN: ern, Limit: 1 << 20})
	if err != nil {
		return nil, err
	}
	if len(f.patients) == 0 {
		return nil, fmt.Errorf("no patient at %s in %s", centre, ern)
	}
	return f, nil
}

func (f *floor) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /metrics", metrics)
	mux.HandleFunc("GET /floor", f.serve)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile) // a CPU profile of the floor itself
	return mux
}

func (f *floor) serve(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if f.token != "" {
		if _, err := f.store.TokenByHash(ctx, auth.HashToken(f.token)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	some := f.patients[mrand.IntN(len(f.patients))]
	var (
		out   any
		shown []cpms.Patient
		err   error
	)
	switch f.mode {
	case "read":
		var p cpms.Patient
		p, err = f.store.Patient(ctx, some.ID)
		out, shown = p, []cpms.Patient{p}
	case "family":
		shown, _, err = f.store.SearchPatients(ctx, cpms.PatientFilter{Centre: some.Centre, ERN: some.ERN,
			Family: []string{some.LastName}, Limit: 20})
		out = shown
	case "create":
		var p cpms.Patient
		p, err = f.store.CreatePatient(ctx, f.copyOf(some))
		out, shown = p, []cpms.Patient{p}
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if f.auditor != nil && len(shown) > 0 {
		events := make([]cpms.AuditEvent, len(shown))
		for i, p := range shown {
			events[i] = cpms.AuditEvent{At: time.Now(), Action: "patient." + f.mode, Actor: "system:floor",
				ActorID: "floor", ObjectType: "patient", ObjectID: p.ID, PatientID: p.ID, Source: r.RemoteAddr}
		}
		if err := f.auditor.RecordAll(ctx, events); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// copyOf is a new patient like p: same centre, ERN, clinician and consent answers, new ID,
// names and MRN.
func (f *floor) copyOf(p cpms.Patient) cpms.Patient {
	n := f.created.Add(1)
	now := time.Now().UTC()
	c := cpms.Patient{ID: randomHex(16), ERN: p.ERN, Centre: p.Centre, FirstName: "Floor",
		LastName: fmt.Sprintf("Floor%s%07d", f.run, n), Gender: p.Gender, BirthDate: p.BirthDate,
		RecordLabel: p.RecordLabel, EnrolledOn: p.EnrolledOn, EnrolledBy: p.EnrolledBy, Clinician: p.Clinician,
		Variant: p.Variant, CreatedAt: now, UpdatedAt: now, UpdatedBy: p.UpdatedBy,
		Identifiers: []cpms.LocalIdentifier{{System: "urn:oid:1.2.3.4.5.floor", Value: fmt.Sprintf("F%s%07d", f.run, n)}}}
	for _, k := range p.Consents {
		k.ID, k.PatientID = randomHex(16), c.ID
		c.Consents = append(c.Consents, k)
	}
	return c
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// metrics writes the two figures cpmsload reads, in the Prometheus text format.
func metrics(w http.ResponseWriter, _ *http.Request) {
	fmt.Fprintf(w, "process_cpu_seconds_total %g\n", measure.ProcessCPU().Seconds())
	fmt.Fprintf(w, "go_sched_gomaxprocs_threads %d\n", runtime.GOMAXPROCS(0))
}
