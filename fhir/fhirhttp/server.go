// Package fhirhttp is the FHIR R4 REST edge of the server, mounted at /fhir: Patient and
// Consent (read, vread, create, update, conditional create, history, search, and the
// enrolment transaction), Organization and Practitioner (read, search), the
// CapabilityStatement, and OperationOutcome errors. It speaks application/fhir+json only. The
// principal comes from the request context (cpmshttp.Authenticator puts it there); every
// decision about who sees what is the cpms.Service's. The mapping is package fhir's.
package fhirhttp

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/fhir"
)

// Prefix is the path the handler is mounted at.
const Prefix = "/fhir"

// Config wires a Server.
type Config struct {
	Service *cpms.Service
	Logger  *slog.Logger
	// BaseURL is the public base of the FHIR surface (e.g. https://cpms.example.org/fhir), for
	// links, fullUrls and Location headers; empty: from each request's Host.
	BaseURL string
	// MaxBody bounds request bodies (default 4 MiB); larger ones get 413.
	MaxBody int64
	// Version is the software version the CapabilityStatement shows.
	Version string
	// NewID makes the IDs of consents created by POST (default: 128 random bits in hex, as the
	// service's own).
	NewID func() string
}

// Server serves the FHIR REST API.
type Server struct {
	svc     *cpms.Service
	log     *slog.Logger
	base    string
	maxBody int64
	version string
	newID   func() string
	started time.Time
}

// New checks the configuration and returns the server.
func New(cfg Config) (*Server, error) {
	if cfg.Service == nil {
		return nil, errors.New("fhirhttp: no service")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 4 << 20
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.NewID == nil {
		cfg.NewID = randomID
	}
	return &Server{svc: cfg.Service, log: cfg.Logger, base: strings.TrimRight(cfg.BaseURL, "/"), maxBody: cfg.MaxBody,
		version: cfg.Version, newID: cfg.NewID, started: cfg.Service.Now()}, nil
}

func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// request is one FHIR request being served.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	log    *slog.Logger
	p      *cpms.Principal
	ri     cpms.RequestInfo
	base   string
	pretty bool
	ctype  string // response media type
}

// ServeHTTP routes a request under Prefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok || (rest != "" && rest[0] != '/') {
		s.fail(w, r, fhir.Errorf(fhir.StatusNotFound, fhir.IssueNotFound, "not a FHIR path"), nil)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	rq := &request{w: w, r: r, log: s.log, p: cpms.PrincipalFrom(r.Context()), ri: cpms.RequestInfoFrom(r.Context()), base: s.baseURL(r),
		ctype: "application/fhir+json"}
	if err := rq.negotiate(); err != nil {
		s.fail(w, r, err, nil)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	if rest == "" || rest == "/" {
		segs = nil
	}
	if len(segs) == 1 && segs[0] == "metadata" {
		if !rq.allow("GET", "HEAD") {
			return
		}
		rq.write(http.StatusOK, s.capabilities(rq), nil)
		return
	}
	if rq.p == nil {
		s.fail(w, r, cpms.Errorf(cpms.KindUnauthenticated, "sign in first: send a bearer token"), nil)
		return
	}
	if err := s.route(rq, segs); err != nil {
		s.fail(w, r, err, nil)
	}
}

// baseURL is the configured public base, else the request's own.
func (s *Server) baseURL(r *http.Request) string {
	if s.base != "" {
		return s.base
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + Prefix
}

var resourceTypes = map[string]bool{fhir.TypePatient: true, fhir.TypeConsent: true, fhir.TypeOrganization: true, fhir.TypePractitioner: true}

func (s *Server) route(rq *request, segs []string) error {
	m := rq.r.Method
	if len(segs) == 0 {
		if !rq.allow("POST") {
			return nil
		}
		if err := s.checkSystem(rq); err != nil {
			return err
		}
		return s.transaction(rq)
	}
	typ := segs[0]
	if !resourceTypes[typ] {
		if typ == "" || typ[0] < 'A' || typ[0] > 'Z' {
			return fhir.Errorf(http.StatusNotFound, fhir.IssueNotFound, "no such path on this FHIR server")
		}
		return fhir.Errorf(http.StatusNotFound, fhir.IssueNotSupported, "the resource type "+strconv.Quote(safe(typ))+
			" is not supported: this server has Patient, Consent, Organization and Practitioner")
	}
	writable := typ == fhir.TypePatient || typ == fhir.TypeConsent
	if writable {
		if err := s.checkSystem(rq); err != nil {
			return err
		}
	}
	for _, seg := range segs[1:] {
		if strings.HasPrefix(seg, "$") {
			return fhir.Errorf(http.StatusNotFound, fhir.IssueNotSupported, "operations are not supported (see "+rq.base+"/metadata)")
		}
	}
	switch {
	case len(segs) == 2 && segs[1] == "_history":
		return fhir.Errorf(http.StatusNotFound, fhir.IssueNotSupported, "type-level history is not supported: read the history of one "+typ)
	case len(segs) == 1:
		if writable && m == http.MethodPost {
			return s.create(rq, typ)
		}
		if !rq.allowWrite(writable, "GET", "HEAD", "POST") {
			return nil
		}
		return s.search(rq, typ, rq.r.URL.Query())
	case len(segs) == 2 && segs[1] == "_search":
		if !rq.allow("POST", "GET") {
			return nil
		}
		q, err := rq.searchForm()
		if err != nil {
			return err
		}
		return s.search(rq, typ, q)
	case len(segs) == 2:
		id := segs[1]
		if writable && m == http.MethodPut {
			return s.update(rq, typ, id)
		}
		if !rq.allowWrite(writable, "GET", "HEAD", "PUT") {
			return nil
		}
		return s.read(rq, typ, id)
	case len(segs) == 3 && segs[2] == "_history":
		if !writable {
			return fhir.Errorf(http.StatusNotFound, fhir.IssueNotSupported, typ+" keeps no history on this server")
		}
		if !rq.allow("GET", "HEAD") {
			return nil
		}
		return s.history(rq, typ, segs[1])
	case len(segs) == 4 && segs[2] == "_history":
		if !writable {
			return fhir.Errorf(http.StatusNotFound, fhir.IssueNotSupported, typ+" keeps no history on this server")
		}
		if !rq.allow("GET", "HEAD") {
			return nil
		}
		v, err := strconv.Atoi(segs[3])
		if err != nil || v < 1 {
			return fhir.Errorf(http.StatusNotFound, fhir.IssueNotFound, "no such version")
		}
		return s.vread(rq, typ, segs[1], v)
	}
	return fhir.Errorf(http.StatusNotFound, fhir.IssueNotSupported, "this interaction is not supported (see "+rq.base+"/metadata)")
}

// checkSystem lets a centre's hospital system (his) at its patients and refuses other system
// tokens (a PACS token is for DICOMweb only).
func (s *Server) checkSystem(rq *request) error {
	if rq.p.User != nil || rq.p.System == "" {
		return nil
	}
	return s.svc.Authorize(rq.r.Context(), rq.p, cpms.ActFHIR, cpms.Resource{Centre: rq.p.Centre}, rq.ri)
}

// allow answers 405 unless the method is one of methods.
func (rq *request) allow(methods ...string) bool {
	for _, m := range methods {
		if rq.r.Method == m {
			return true
		}
	}
	rq.w.Header().Set("Allow", strings.Join(methods, ", "))
	rq.writeError(fhir.Errorf(http.StatusMethodNotAllowed, fhir.IssueNotSupported, rq.r.Method+" is not supported here"))
	return false
}

// allowWrite is allow for an endpoint whose write methods only the writable types have.
func (rq *request) allowWrite(writable bool, read1, read2, write string) bool {
	if writable {
		return rq.allow(read1, read2, write)
	}
	ok := rq.r.Method == read1 || rq.r.Method == read2
	if !ok {
		rq.w.Header().Set("Allow", read1+", "+read2)
		rq.writeError(fhir.Errorf(http.StatusMethodNotAllowed, fhir.IssueNotSupported,
			"this resource type is read-only here: read and search only"))
	}
	return ok
}

// negotiate checks that the client accepts JSON (from _format or Accept) and picks the media
// type of the answer.
func (rq *request) negotiate() error {
	q := rq.r.URL.Query()
	rq.pretty = q.Get("_pretty") == "true"
	if f := q.Get("_format"); f != "" {
		switch strings.TrimSpace(strings.SplitN(f, ";", 2)[0]) {
		case "json", "application/fhir+json":
			return nil
		case "application/json":
			rq.ctype = "application/json"
			return nil
		case "xml", "text/xml", "application/xml", "application/fhir+xml":
			return fhir.Errorf(http.StatusNotAcceptable, fhir.IssueNotSupported, "this server speaks JSON only (_format=json)")
		}
		return fhir.Errorf(http.StatusNotAcceptable, fhir.IssueNotSupported, "unknown _format: use json")
	}
	accept := rq.r.Header.Get("Accept")
	if accept == "" {
		return nil
	}
	fhirJSON, plainJSON := false, false
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || params["q"] == "0" {
			continue
		}
		switch mt {
		case "application/fhir+json", "*/*", "application/*":
			fhirJSON = true
		case "application/json", "application/json+fhir":
			plainJSON = true
		}
	}
	switch {
	case fhirJSON:
	case plainJSON:
		rq.ctype = "application/json"
	default:
		return fhir.Errorf(http.StatusNotAcceptable, fhir.IssueNotSupported, "this server answers application/fhir+json only")
	}
	return nil
}

// body reads a JSON request body.
func (rq *request) body() ([]byte, error) {
	mt, _, err := mime.ParseMediaType(rq.r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/fhir+json" && mt != "application/json" && mt != "application/json+fhir") {
		return nil, fhir.Errorf(http.StatusUnsupportedMediaType, fhir.IssueNotSupported, "send application/fhir+json")
	}
	data, err := io.ReadAll(rq.r.Body)
	if err != nil {
		return nil, readError(err)
	}
	return data, nil
}

func readError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return fhir.Errorf(http.StatusRequestEntityTooLarge, fhir.IssueTooLong, "the request body is larger than "+
			strconv.FormatInt(tooBig.Limit, 10)+" bytes")
	}
	return fhir.Errorf(http.StatusBadRequest, fhir.IssueStructure, "the request body could not be read")
}

// searchForm merges the query string and, for POST, the form body of a _search.
func (rq *request) searchForm() (map[string][]string, error) {
	q := rq.r.URL.Query()
	if rq.r.Method != http.MethodPost {
		return q, nil
	}
	mt, _, err := mime.ParseMediaType(rq.r.Header.Get("Content-Type"))
	if rq.r.ContentLength != 0 && (err != nil || mt != "application/x-www-form-urlencoded") {
		return nil, fhir.Errorf(http.StatusUnsupportedMediaType, fhir.IssueNotSupported, "send the search parameters as application/x-www-form-urlencoded")
	}
	if err := rq.r.ParseForm(); err != nil {
		return nil, readError(err)
	}
	for k, vs := range rq.r.PostForm {
		q[k] = append(q[k], vs...)
	}
	return q, nil
}

// preferences of the Prefer header.
func (rq *request) prefer(name string) string {
	for _, h := range rq.r.Header.Values("Prefer") {
		for _, part := range strings.FieldsFunc(h, func(r rune) bool { return r == ',' || r == ';' }) {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			if strings.EqualFold(k, name) {
				return strings.Trim(strings.TrimSpace(v), `"`)
			}
		}
	}
	return ""
}

func (rq *request) strict() bool { return rq.prefer("handling") == "strict" }

// meta is what the headers of a versioned resource say.
type meta struct {
	typ, id string
	version int
	updated time.Time
}

func (m *meta) etag() string { return `W/"` + strconv.Itoa(m.version) + `"` }

func (m *meta) location(base string) string {
	return base + "/" + m.typ + "/" + m.id + "/_history/" + strconv.Itoa(m.version)
}

// write answers with a resource (nil: no body).
func (rq *request) write(status int, res any, m *meta) {
	h := rq.w.Header()
	if m != nil {
		h.Set("ETag", m.etag())
		h.Set("Last-Modified", m.updated.UTC().Format(http.TimeFormat))
	}
	if res == nil {
		rq.w.WriteHeader(status)
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if rq.pretty {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(res); err != nil {
		rq.writeError(err)
		return
	}
	h.Set("Content-Type", rq.ctype+"; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	rq.w.WriteHeader(status)
	rq.w.Write(buf.Bytes())
}

// writeResult answers a create or an update as the client prefers: the resource
// (return=representation, the default), nothing (return=minimal) or an OperationOutcome. The
// Location header names the version written (or, for a conditional create, found).
func (rq *request) writeResult(status int, res any, m *meta) {
	rq.w.Header().Set("Location", m.location(rq.base))
	rq.w.Header().Set("Content-Location", m.location(rq.base))
	switch rq.prefer("return") {
	case "minimal":
		res = nil
	case "OperationOutcome":
		what := "updated"
		if status == http.StatusCreated {
			what = "created"
		}
		res = fhir.OperationOutcome(fhir.Issue{Severity: fhir.SeverityInformation, Code: fhir.IssueInformational,
			Diagnostics: m.typ + "/" + m.id + " " + what + " (version " + strconv.Itoa(m.version) + ")"})
	}
	rq.write(status, res, m)
}

func safe(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
