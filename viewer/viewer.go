// Package viewer serves the browser user interface of CPMS: the page
// shells (home dashboard, sign-in, account, access requests,
// administration, patients), rendered once from html/template at start-up, and the
// scripts and styles they load, embedded in the binary and addressed by
// content hash. The scripts talk to the JSON API of cpms/cpmshttp on the
// same origin; this package holds no session and sees no personal data.
package viewer

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

//go:embed templates static
var embedded embed.FS

// Config configures a Handler.
type Config struct {
	// Logger receives start-up and error messages; nil discards them.
	Logger *slog.Logger
	// ProductName is shown in the header and page titles; "CPMS" if empty.
	ProductName string
	// Version is shown in the footer; "dev" if empty.
	Version string
}

// Handler serves the pages and static files of the web interface.
type Handler struct {
	log      *slog.Logger
	assets   *assetSet
	pages    map[string][]byte
	patterns []patternPage // pages whose path holds a parameter, in pageList order
	notFound []byte
}

// patternPage is a shell served for every path that matches its segments,
// where a segment "{name}" stands for one identifier.
type patternPage struct {
	segments []string
	body     []byte
}

// page is one server-rendered shell.
type page struct {
	path     string // URL path; a segment "{id}" matches any one identifier
	file     string // template file below templates/
	title    string
	nav      string // which main navigation entry is current
	script   string // entry module below static/, or ""
	signedIn bool   // whether the header shows navigation and user menu
}

func pageList() []page {
	return []page{
		{path: "/", file: "home.html", title: "Dashboard", nav: "home", script: "js/home.js", signedIn: true},
		{path: "/login", file: "login.html", title: "Sign in", script: "js/login.js"},
		{path: "/account", file: "account.html", title: "Account", nav: "account", script: "js/account.js", signedIn: true},
		{path: "/access", file: "access.html", title: "Request access", nav: "access", script: "js/access.js", signedIn: true},
		{path: "/admin", file: "admin.html", title: "Administration", nav: "admin", script: "js/admin.js", signedIn: true},
		{path: "/patients", file: "patients.html", title: "Patients", nav: "patients", script: "js/patients.js", signedIn: true},
		{path: "/patients/enrol", file: "enrol.html", title: "Enrol a patient", nav: "patients", script: "js/enrol.js", signedIn: true},
		{path: "/patients/{id}", file: "patient.html", title: "Patient", nav: "patients", script: "js/patient.js", signedIn: true},
		{path: "/patients/{id}/access", file: "patient-access.html", title: "Who accessed this patient", nav: "patients", script: "js/patient-access.js", signedIn: true},
	}
}

// pageData is what the templates see.
type pageData struct {
	Product  string
	Version  string
	Title    string
	Nav      string
	Script   string
	SignedIn bool
}

// New parses and renders every page and hashes every static file, so that
// a broken template or a missing asset is an error here rather than on a
// request.
func New(cfg Config) (*Handler, error) {
	return newHandler(cfg, embedded)
}

func newHandler(cfg Config, fsys fs.FS) (*Handler, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	product := strings.TrimSpace(cfg.ProductName)
	if product == "" {
		product = "CPMS"
	}
	version := strings.TrimSpace(cfg.Version)
	if version == "" {
		version = "dev"
	}
	assets, err := loadAssets(fsys, "static")
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"asset":    assets.url,
		"preloads": assets.preloads,
	}
	h := &Handler{log: log, assets: assets, pages: map[string][]byte{}}
	render := func(file string, data pageData) ([]byte, error) {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(fsys, "templates/layout.html", "templates/"+file)
		if err != nil {
			return nil, fmt.Errorf("viewer: parse %s: %w", file, err)
		}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, "layout.html", data); err != nil {
			return nil, fmt.Errorf("viewer: render %s: %w", file, err)
		}
		return buf.Bytes(), nil
	}
	for _, p := range pageList() {
		b, err := render(p.file, pageData{
			Product: product, Version: version, Title: p.title,
			Nav: p.nav, Script: p.script, SignedIn: p.signedIn,
		})
		if err != nil {
			return nil, err
		}
		if strings.Contains(p.path, "{") {
			h.patterns = append(h.patterns, patternPage{segments: strings.Split(p.path, "/"), body: b})
		} else {
			h.pages[p.path] = b
		}
	}
	h.notFound, err = render("notfound.html", pageData{Product: product, Version: version, Title: "Page not found"})
	if err != nil {
		return nil, err
	}
	log.Debug("viewer ready", "pages", len(h.pages), "static_files", len(assets.files))
	return h, nil
}

// contentSecurityPolicy allows scripts, styles, images and fonts from
// this origin only, no inline code of any kind, API calls to this origin,
// and no framing. Trusted Types are required and no policy may be made:
// the scripts build the DOM with text nodes only.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"font-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; require-trusted-types-for 'script'; trusted-types 'none'"

func setSecurityHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// ServeHTTP serves GET and HEAD for the pages of pageList (a path with a
// parameter, such as /patients/{id}, for every identifier in its place)
// and /static/…; any other path gets the not-found page.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	if name, ok := strings.CutPrefix(r.URL.Path, "/static/"); ok {
		h.serveStatic(w, r, name)
		return
	}
	body, ok := h.pages[r.URL.Path]
	if !ok {
		body, ok = h.matchPattern(r.URL.Path)
	}
	if !ok {
		h.servePage(w, r, http.StatusNotFound, h.notFound)
		return
	}
	if !methodAllowed(w, r) {
		return
	}
	h.servePage(w, r, http.StatusOK, body)
}

// matchPattern finds the page whose parameterised path matches urlPath.
// Pages with a fixed path (such as /patients/enrol) are looked up first,
// so they win over a parameter in the same place.
func (h *Handler) matchPattern(urlPath string) ([]byte, bool) {
	segs := strings.Split(urlPath, "/")
	for _, p := range h.patterns {
		if len(p.segments) != len(segs) {
			continue
		}
		ok := true
		for i, want := range p.segments {
			if strings.HasPrefix(want, "{") {
				ok = validParam(segs[i])
			} else {
				ok = want == segs[i]
			}
			if !ok {
				break
			}
		}
		if ok {
			return p.body, true
		}
	}
	return nil, false
}

// validParam accepts what can name an object in the API: 1 to 128
// letters, digits, '-', '_' or '.', and not a relative path segment.
func validParam(s string) bool {
	if s == "" || len(s) > 128 || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func methodAllowed(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
	return false
}

func (h *Handler) servePage(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := w.Write(body); err != nil {
		h.log.Debug("viewer: write page", "path", r.URL.Path, "err", err)
	}
}

// serveStatic answers with a file's bytes. Only a request carrying the
// file's current hash may be cached for good; any other version string
// (an old page, a hand-typed URL) gets the current bytes with
// revalidation, so a stale hash can never be pinned in a cache.
func (h *Handler) serveStatic(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := h.assets.files[name]
	if !ok {
		h.servePage(w, r, http.StatusNotFound, h.notFound)
		return
	}
	if !methodAllowed(w, r) {
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	if r.URL.Query().Get("v") == a.hash {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	body, etag := a.body, `"`+a.hash+`"`
	if a.gzipped != nil {
		hd.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			body, etag = a.gzipped, `"`+a.hash+`-gz"`
			hd.Set("Content-Encoding", "gzip")
		}
	}
	hd.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether an Accept-Encoding header admits gzip.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q, found := strings.CutPrefix(strings.TrimSpace(params), "q=")
		if !found {
			return true
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(q), 64)
		return err == nil && v > 0
	}
	return false
}
