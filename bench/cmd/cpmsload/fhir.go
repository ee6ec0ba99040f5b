package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ern-cpms/cpms/bench/internal/measure"
)

// The FHIR scenarios enrol synthetic patients through transaction Bundles, then read and search
// them, with the token given in -fhir-token (a centre's his system token or a clinician's).
//
//	fhir-create      POST /fhir, a transaction with a Patient and its consent for care
//	fhir-read        GET /fhir/Patient/{id} of a random patient this run enrolled
//	fhir-family      GET /fhir/Patient?family={last name of such a patient}
//	fhir-identifier  GET /fhir/Patient?identifier={system}|{MRN of such a patient}
//
// -fhir-patients N first enrols N patients (c clients at once) and reports that as fhir-seed.
// With -baseline, fhir-bare serves the JSON of one of those patients from a bare net/http
// handler in this process: the ceiling the FHIR reads are compared with.

const fhirMRNSystem = "urn:oid:2.999.77.1"

// fhirState is what the run enrolled, shared by the FHIR scenarios.
type fhirState struct {
	mu       sync.Mutex
	ids      []string
	families []string
	mrns     []string
	next     atomic.Int64 // numbers the synthetic patients
	run      string       // distinguishes this run's MRNs from earlier runs'
	centre   string
	ern      string
	// familyBase starts this run's names at a random place, so that runs against one server
	// do not repeat each other's names.
	familyBase int64
	sample     []byte // one patient's JSON, for fhir-bare
}

func (s *fhirState) add(id, family, mrn string) {
	s.mu.Lock()
	s.ids, s.families, s.mrns = append(s.ids, id), append(s.families, family), append(s.mrns, mrn)
	s.mu.Unlock()
}

func (s *fhirState) pick() (id, family, mrn string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ids) == 0 {
		return "", "", "", false
	}
	i := rand.IntN(len(s.ids))
	return s.ids[i], s.families[i], s.mrns[i], true
}

var syllables = []string{"ba", "ce", "di", "fo", "gu", "ha", "je", "ki", "lo", "mu", "na", "pe", "ri", "so", "tu", "va",
	"we", "xi", "yo", "zu"}

// syntheticFamily is an invented last name, distinct for 20⁵ numbers.
func syntheticFamily(n int64) string {
	var b strings.Builder
	for range 5 {
		b.WriteString(syllables[n%int64(len(syllables))])
		n /= int64(len(syllables))
	}
	s := b.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

// enrolment returns a transaction Bundle enrolling synthetic patient n, its last name and MRN.
func (s *fhirState) enrolment(n int64) ([]byte, string, string) {
	family := syntheticFamily(n + s.familyBase)
	mrn := fmt.Sprintf("BENCH-%s-%d", s.run, n)
	birth := time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(n%30000)).Format(time.DateOnly)
	gender := []string{"female", "male", "other", "unknown"}[n%4]
	bundle := map[string]any{
		"resourceType": "Bundle", "type": "transaction",
		"entry": []any{
			map[string]any{"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000001",
				"resource": map[string]any{"resourceType": "Patient",
					"identifier": []any{map[string]any{"system": fhirMRNSystem, "value": mrn}},
					"name":       []any{map[string]any{"family": family, "given": []string{"Bench"}}},
					"gender":     gender, "birthDate": birth,
					"managingOrganization": map[string]any{"reference": "Organization/" + s.centre},
					"extension": []any{map[string]any{"url": "https://ern-cpms.org/fhir/StructureDefinition/ern",
						"valueReference": map[string]any{"reference": "Organization/" + s.ern}}}},
				"request": map[string]any{"method": "POST", "url": "Patient"}},
			map[string]any{"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000002",
				"resource": map[string]any{"resourceType": "Consent", "status": "active",
					"scope": map[string]any{"coding": []any{map[string]any{
						"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "treatment"}}},
					"category": []any{map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "59284-0"}}}},
					"patient":  map[string]any{"reference": "urn:uuid:00000000-0000-4000-8000-000000000001"},
					"dateTime": "2026-01-15",
					"policyRule": map[string]any{"coding": []any{map[string]any{
						"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}}},
					"provision": map[string]any{"type": "permit"}},
				"request": map[string]any{"method": "POST", "url": "Consent"}},
		}}
	b, _ := json.Marshal(bundle)
	return b, family, mrn
}

func (d *driver) fhirRequest(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.cfg.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+d.cfg.fhirToken)
	req.Header.Set("Accept", "application/fhir+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	return req, nil
}

// enrolOne sends one enrolment and records the patient's ID from the response.
func (d *driver) enrolOne(ctx context.Context, client *http.Client) error {
	n := d.fhir.next.Add(1)
	body, family, mrn := d.fhir.enrolment(n)
	req, err := d.fhirRequest(ctx, http.MethodPost, "/fhir", body)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		Entry []struct {
			Response struct {
				Location string `json:"location"`
			} `json:"response"`
		} `json:"entry"`
	}
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("enrolment answered %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return fmt.Errorf("enrolment response: %w", err)
	}
	for _, e := range out.Entry {
		// The location is relative ("Patient/{id}/_history/1") or absolute.
		loc := e.Response.Location
		if i := strings.Index(loc, "/Patient/"); i >= 0 {
			loc = loc[i+1:]
		}
		if rest, ok := strings.CutPrefix(loc, "Patient/"); ok {
			id, _, _ := strings.Cut(rest, "/")
			d.fhir.add(id, family, mrn)
			return nil
		}
	}
	return errors.New("the transaction response names no Patient")
}

// seed enrols patients until this run has enrolled n of them, c at a time, and reports it.
func (d *driver) seed(ctx context.Context, n int) *result {
	r := &result{name: "fhir-seed"}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		left atomic.Int64
	)
	left.Store(int64(n))
	start := time.Now()
	for range d.cfg.clients {
		wg.Go(func() {
			client := &http.Client{Transport: measure.NewTransport(d.cfg.timeout, measure.Buffers{}, nil), Timeout: d.cfg.timeout}
			defer client.CloseIdleConnections()
			for left.Add(-1) >= 0 && ctx.Err() == nil {
				t0 := time.Now()
				err := d.enrolOne(ctx, client)
				lat := time.Since(t0)
				mu.Lock()
				if err != nil {
					r.errs++
					if r.firstErr == "" {
						r.firstErr = err.Error()
					}
				} else {
					r.lat = append(r.lat, lat)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	slices.Sort(r.lat)
	r.n = len(r.lat)
	r.conns = int64(d.cfg.clients)
	r.note = fmt.Sprintf("%d patients enrolled by this run", len(d.fhir.ids))
	return r
}

// fhirLoad configures the load of a FHIR scenario.
func (d *driver) fhirLoad(name string, l *measure.Loop) error {
	switch name {
	case "fhir-create":
		anew(l, func(ctx context.Context) (*http.Request, error) {
			body, _, _ := d.fhir.enrolment(d.fhir.next.Add(1))
			return d.fhirRequest(ctx, http.MethodPost, "/fhir", body)
		})
	case "fhir-read", "fhir-family", "fhir-identifier":
		if _, _, _, ok := d.fhir.pick(); !ok {
			return errors.New("no patient to read: give -fhir-patients or run fhir-create first")
		}
		anew(l, func(ctx context.Context) (*http.Request, error) {
			id, family, mrn, _ := d.fhir.pick()
			path := "/fhir/Patient/" + id
			switch name {
			case "fhir-family":
				path = "/fhir/Patient?family=" + url.QueryEscape(family)
			case "fhir-identifier":
				path = "/fhir/Patient?identifier=" + url.QueryEscape(fhirMRNSystem+"|"+mrn)
			}
			return d.fhirRequest(ctx, http.MethodGet, path, nil)
		})
	default:
		return fmt.Errorf("unknown FHIR scenario %s", name)
	}
	return nil
}

// anew makes a loop build each request anew with next (one with a body, or a different resource
// each time), each client's first one before the clients start.
func anew(l *measure.Loop, next func(ctx context.Context) (*http.Request, error)) {
	l.First = func(ctx context.Context, _ int) (*http.Request, error) { return next(ctx) }
	l.Next = func(ctx context.Context, _ int, _ *rand.Rand) (*http.Request, int, error) {
		req, err := next(ctx)
		return req, 0, err
	}
}

// fhirSample fetches one enrolled patient's JSON for the bare comparison.
func (d *driver) fhirSample(ctx context.Context) ([]byte, error) {
	id, _, _, ok := d.fhir.pick()
	if !ok {
		return nil, errors.New("no patient enrolled")
	}
	req, err := d.fhirRequest(ctx, http.MethodGet, "/fhir/Patient/"+id, nil)
	if err != nil {
		return nil, err
	}
	resp, err := d.setup.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET a patient answered %d", resp.StatusCode)
	}
	return b, err
}

// runFHIRBare serves body as a FHIR Patient from a bare net/http handler in this process and
// drives it like fhir-read: the ceiling of a read on this machine.
func runFHIRBare(ctx context.Context, cfg config, body []byte) (*result, error) {
	r, err := runBare(ctx, cfg, "fhir-bare", "/fhir/Patient/bare",
		map[string]string{"Authorization": "Bearer x", "Accept": "application/fhir+json"},
		func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
			w.Header().Set("ETag", `W/"1"`)
			w.Write(body)
		})
	if r != nil {
		r.note = fmt.Sprintf("bare net/http handler in this process serving the same %d-byte Patient", len(body))
	}
	return r, err
}
