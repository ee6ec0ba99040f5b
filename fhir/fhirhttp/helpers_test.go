package fhirhttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/cpms/cpmshttp"
	"github.com/ern-cpms/cpms/cpms/cpmstest"
	"github.com/ern-cpms/cpms/fhir"
	"github.com/ern-cpms/cpms/fhir/fhirhttp"
	"github.com/ern-cpms/cpms/fhir/fhirtest"
	"github.com/ern-cpms/cpms/internal/sqldb/sqldbtest"
)

const base = "https://cpms.test/fhir"

// env is the FHIR surface on the real service and store, with the demo network, behind the
// shared authentication, as cmd/cpms wires it.
type env struct {
	t testing.TB
	// raw skips the R4 validation of answers (benchmarks measure the server, not the validator).
	raw    bool
	svc    *cpms.Service
	h      http.Handler
	tokens map[string]string // principal name → bearer token
	users  map[string]string // username → user ID
}

// principals are the demo users and systems the tests act as.
var principals = []cpms.NewToken{
	{Username: "bloodnethpuser1"}, // HP at BE10
	{Username: "bloodnethpuser2"}, // HP at BG07
	{Username: "bloodnetguest"},   // Guest at BE10
	{Username: "bloodnetcoord"},   // Coordinator, no clinical centre
	{Centre: "BE10", System: cpms.SystemHIS},
	{Centre: "BG07", System: cpms.SystemHIS},
	{Centre: "BE10", System: cpms.SystemPACS},
}

func principalName(nt cpms.NewToken) string {
	if nt.Username != "" {
		return nt.Username
	}
	return nt.Centre + "/" + string(nt.System)
}

// forEachEngine runs fn on SQLite and, when configured, PostgreSQL.
func forEachEngine(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) { fn(t, newEnv(t, eng, fhirhttp.Config{})) })
	}
}

func newEnv(t testing.TB, eng sqldbtest.Engine, cfg fhirhttp.Config) *env {
	t.Helper()
	ctx := context.Background()
	svc, _ := cpmstest.DemoService(t, eng.Open(t), cpms.Config{Demo: true})
	op := cpmstest.Operator
	e := &env{t: t, svc: svc, tokens: map[string]string{}, users: map[string]string{}}
	for _, nt := range principals {
		tok, _, err := svc.CreateToken(ctx, op, nt, cpms.RequestInfo{})
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[principalName(nt)] = tok
		if nt.Username != "" {
			u, err := svc.UserByUsername(ctx, nt.Username)
			if err != nil {
				t.Fatal(err)
			}
			e.users[nt.Username] = u.ID
		}
	}
	cfg.Service, cfg.BaseURL = svc, base
	srv, err := fhirhttp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/fhir", srv)
	mux.Handle("/fhir/", srv)
	authn := &cpmshttp.Authenticator{Service: svc,
		Errors: map[string]func(http.ResponseWriter, *http.Request, error){fhirhttp.Prefix: fhirhttp.WriteOutcome}}
	e.h = cpmshttp.Observe(slog.New(slog.DiscardHandler), nil, authn.Wrap(mux))
	return e
}

// response is an answer of the server.
type response struct {
	t      testing.TB
	status int
	header http.Header
	body   []byte
}

// json decodes the body.
func (r *response) json() map[string]any {
	r.t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		r.t.Fatalf("%v: %s", err, r.body)
	}
	return v
}

// want fails the test unless the status is status.
func (r *response) want(status int) *response {
	r.t.Helper()
	if r.status != status {
		r.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

// issue is the first issue of an OperationOutcome answer: its code and diagnostics.
func (r *response) issue() (code, diagnostics string) {
	r.t.Helper()
	oo := r.json()
	if oo["resourceType"] != "OperationOutcome" {
		r.t.Fatalf("not an OperationOutcome: %s", r.body)
	}
	is := oo["issue"].([]any)[0].(map[string]any)
	d, _ := is["diagnostics"].(string)
	return is["code"].(string), d
}

// do sends a request as who (a principal name, or "" for none) and checks that whatever
// FHIR JSON comes back is a valid R4 resource.
func (e *env) do(method, path, who string, body any, hdr ...string) *response {
	e.t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	if who != "" {
		tok, ok := e.tokens[who]
		if !ok {
			e.t.Fatalf("no token for %s", who)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	r := &response{t: e.t, status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if ct := r.header.Get("Content-Type"); len(r.body) > 0 && strings.Contains(ct, "json") && !e.raw {
		if !strings.HasPrefix(ct, "application/fhir+json") && !strings.HasPrefix(ct, "application/json") {
			e.t.Errorf("%s %s: Content-Type %q", method, path, ct)
		}
		fhirtest.Check(e.t, r.body)
	}
	return r
}

// get follows an absolute link of the server (e.g. a Bundle's next link).
func (e *env) get(link, who string) *response {
	e.t.Helper()
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(link, base) {
		e.t.Fatalf("link %q is not under %s", link, base)
	}
	return e.do("GET", u.RequestURI(), who, nil)
}

// A fictitious patient and its consents, as a client writes them.

type person struct {
	first, last, gender, birth string
	mrn                        string // local identifier value (system mrnSystem); "" for none
	extensions                 []map[string]any
}

const mrnSystem = "urn:oid:1.3.6.1.4.1.99999.1"

func (p person) resource() map[string]any {
	res := map[string]any{
		"resourceType": "Patient",
		"name":         []any{map[string]any{"use": "official", "family": p.last, "given": []any{p.first}}},
		"gender":       p.gender,
		"birthDate":    p.birth,
	}
	if p.mrn != "" {
		res["identifier"] = []any{map[string]any{"system": mrnSystem, "value": p.mrn,
			"type": map[string]any{"coding": []any{map[string]any{"system": fhir.IdentifierTypeSystem, "code": "MR"}}}}}
	}
	if len(p.extensions) > 0 {
		exts := make([]any, len(p.extensions))
		for i, x := range p.extensions {
			exts[i] = x
		}
		res["extension"] = exts
	}
	return res
}

// consent is a Consent resource of kind k for the patient reference ref.
func consent(k cpms.ConsentKind, ref string, given bool, date, note string) map[string]any {
	scope, system, code := "treatment", fhir.LOINCSystem, fhir.CodeCareConsent
	if k != cpms.ConsentCare {
		scope, system, code = "research", fhir.ConsentCategorySystem, string(k)
	}
	typ := "deny"
	if given {
		typ = "permit"
	}
	c := map[string]any{
		"resourceType": "Consent",
		"status":       "active",
		"scope":        map[string]any{"coding": []any{map[string]any{"system": fhir.ConsentScopeSystem, "code": scope}}},
		"category":     []any{map[string]any{"coding": []any{map[string]any{"system": system, "code": code}}}},
		"patient":      map[string]any{"reference": ref},
		"dateTime":     date,
		"policyRule":   map[string]any{"coding": []any{map[string]any{"system": fhir.ActCodeSystem, "code": "OPTIN"}}},
		"provision":    map[string]any{"type": typ},
	}
	if note != "" {
		c["extension"] = []any{map[string]any{"url": fhir.ExtConsentNote, "valueString": note}}
	}
	return c
}

var uuidN int

// enrolment is a transaction Bundle enrolling p with the consents made by each function of the
// Patient's urn:uuid.
func enrolment(p person, ifNoneExist string, consents ...func(ref string) map[string]any) map[string]any {
	uuidN++
	ref := fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", uuidN)
	req := map[string]any{"method": "POST", "url": "Patient"}
	if ifNoneExist != "" {
		req["ifNoneExist"] = ifNoneExist
	}
	entries := []any{map[string]any{"fullUrl": ref, "resource": p.resource(), "request": req}}
	for _, c := range consents {
		entries = append(entries, map[string]any{"resource": c(ref), "request": map[string]any{"method": "POST", "url": "Consent"}})
	}
	return map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries}
}

func care(ref string) map[string]any { return consent(cpms.ConsentCare, ref, true, "2024-02-28", "") }
func registry(ref string) map[string]any {
	return consent(cpms.ConsentRegistry, ref, true, "2024-02-28", "EuroBloodNet registry")
}
func researchNo(ref string) map[string]any {
	return consent(cpms.ConsentResearch, ref, false, "2024-02-28", "")
}

// enrolled is what the enrolment transaction answered: the patient's ID and its consents' IDs by kind.
type enrolled struct {
	id       string
	consents []string
	bundle   map[string]any
}

// enrol enrols p as who and returns the IDs.
func (e *env) enrol(who string, p person, consents ...func(ref string) map[string]any) enrolled {
	e.t.Helper()
	if len(consents) == 0 {
		consents = []func(string) map[string]any{care, registry, researchNo}
	}
	b := e.do("POST", "/fhir", who, enrolment(p, "", consents...)).want(200).json()
	out := enrolled{bundle: b}
	for i, en := range b["entry"].([]any) {
		res := en.(map[string]any)["resource"].(map[string]any)
		if i == 0 {
			out.id = res["id"].(string)
		} else {
			out.consents = append(out.consents, res["id"].(string))
		}
	}
	return out
}

// entries are the resources of a Bundle, with their search mode.
func entries(b map[string]any) (res []map[string]any, modes []string) {
	list, _ := b["entry"].([]any)
	for _, en := range list {
		m := en.(map[string]any)
		res = append(res, m["resource"].(map[string]any))
		if s, ok := m["search"].(map[string]any); ok {
			modes = append(modes, s["mode"].(string))
		} else {
			modes = append(modes, "")
		}
	}
	return res, modes
}

// ids are the ids of a searchset's matches.
func ids(b map[string]any) []string {
	res, modes := entries(b)
	var out []string
	for i, r := range res {
		if modes[i] == "match" {
			out = append(out, r["id"].(string))
		}
	}
	return out
}

// link is a Bundle's link of the relation, "" when absent.
func link(b map[string]any, rel string) string {
	list, _ := b["link"].([]any)
	for _, l := range list {
		m := l.(map[string]any)
		if m["relation"] == rel {
			return m["url"].(string)
		}
	}
	return ""
}

// extension is the value of a resource's extension (nil when absent).
func extension(res map[string]any, url string) map[string]any {
	list, _ := res["extension"].([]any)
	for _, x := range list {
		m := x.(map[string]any)
		if m["url"] == url {
			return m
		}
	}
	return nil
}
