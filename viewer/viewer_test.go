package viewer

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func newTestHandler(t *testing.T) *Handler {
	t.Helper()
	h, err := New(Config{ProductName: "CPMS", Version: "1.2.3"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h
}

func do(h http.Handler, method, target string, header http.Header) *http.Response {
	req := httptest.NewRequest(method, target, nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func checkSecurityHeaders(t *testing.T, what string, res *http.Response) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": contentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"X-Frame-Options":         "DENY",
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "data:", "http:"} {
		if strings.Contains(csp, bad) {
			t.Errorf("%s: CSP allows %s: %s", what, bad, csp)
		}
	}
	for _, need := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, need) {
			t.Errorf("%s: CSP lacks %s: %s", what, need, csp)
		}
	}
}

// samplePath is a path a page answers: its own, with an identifier for a
// parameter.
func samplePath(p page) string {
	return strings.ReplaceAll(p.path, "{id}", "0a1b2c3d-4e5f")
}

func TestPages(t *testing.T) {
	h := newTestHandler(t)
	for _, p := range pageList() {
		t.Run(p.path, func(t *testing.T) {
			res := do(h, http.MethodGet, samplePath(p), nil)
			html := body(t, res)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d", p.path, res.StatusCode)
			}
			checkSecurityHeaders(t, p.path, res)
			if got := res.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", got)
			}
			if got := res.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			for _, want := range []string{
				`<html lang="en">`,
				"<title>" + p.title + " · CPMS</title>",
				`<main id="main"`,
				`href="#main"`,
				`<h1>`,
				"version 1.2.3",
			} {
				if !strings.Contains(html, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if p.signedIn {
				for _, want := range []string{`<nav class="site-nav" id="site-nav" aria-label="Main">`, `id="user-menu-button"`, `aria-controls="nav-links"`, "data-logout", "data-logout-all", `href="/account"`} {
					if !strings.Contains(html, want) {
						t.Errorf("signed-in page lacks %q", want)
					}
				}
			} else if strings.Contains(html, "user-menu") {
				t.Errorf("%s shows the user menu", p.path)
			}
			if p.script != "" {
				url, _ := h.assets.url(p.script)
				if !strings.Contains(html, `<script type="module" src="`+url+`"></script>`) {
					t.Errorf("page does not load its module %s", url)
				}
			}
		})
	}
}

func TestHomeHasFourCards(t *testing.T) {
	html := body(t, do(newTestHandler(t), http.MethodGet, "/", nil))
	for _, title := range []string{
		"Upcoming meetings (next 14 days)", "Meeting invites", "Panel activity (last 14 days)", "Panel invites",
	} {
		if !strings.Contains(html, ">"+title+"</h2>") {
			t.Errorf("dashboard lacks the card %q", title)
		}
	}
	if n := strings.Count(html, "data-card="); n != 4 {
		t.Errorf("dashboard has %d cards, want 4", n)
	}
}

// allPages returns every HTML document the handler serves, by path.
func allPages(t *testing.T, h *Handler) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range pageList() {
		out[p.path] = body(t, do(h, http.MethodGet, samplePath(p), nil))
	}
	out["404"] = body(t, do(h, http.MethodGet, "/no-such-page", nil))
	return out
}

func TestNoInlineCode(t *testing.T) {
	h := newTestHandler(t)
	tagRE := regexp.MustCompile(`<[a-zA-Z][^>]*>`)
	scriptTagRE := regexp.MustCompile(`<script\b[^>]*>`)
	eventAttrRE := regexp.MustCompile(`\son[a-z]+\s*=`)
	for path, html := range allPages(t, h) {
		if strings.Contains(html, "<style") {
			t.Errorf("%s has a <style> element", path)
		}
		for _, tag := range tagRE.FindAllString(html, -1) {
			if strings.Contains(tag, " style=") {
				t.Errorf("%s has a style attribute: %s", path, tag)
			}
			if eventAttrRE.MatchString(tag) {
				t.Errorf("%s has an event handler attribute: %s", path, tag)
			}
		}
		for _, tag := range scriptTagRE.FindAllString(html, -1) {
			if !strings.Contains(tag, ` src="/static/`) {
				t.Errorf("%s has an inline or foreign script: %s", path, tag)
			}
		}
		if strings.Contains(html, "javascript:") {
			t.Errorf("%s has a javascript: URL", path)
		}
	}
}

// Every /static/ reference in a page carries the current hash of its file
// and is served for good.
func TestPagesReferenceVersionedAssets(t *testing.T) {
	h := newTestHandler(t)
	staticRefRE := regexp.MustCompile(`(?:src|href)="(/static/[^"]*)"`)
	for path, html := range allPages(t, h) {
		refs := staticRefRE.FindAllStringSubmatch(html, -1)
		if len(refs) < 2 {
			t.Errorf("%s references %d static files, want the stylesheet and the icon at least", path, len(refs))
		}
		for _, m := range refs {
			ref := strings.ReplaceAll(m[1], "&amp;", "&")
			name, v, ok := strings.Cut(strings.TrimPrefix(ref, "/static/"), "?v=")
			a := h.assets.files[name]
			if !ok || a == nil || v != a.hash {
				t.Errorf("%s: reference %s is not the versioned URL of a static file", path, ref)
				continue
			}
			res := do(h, http.MethodGet, ref, nil)
			if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
				t.Errorf("%s: GET %s: status %d, Cache-Control %q", path, ref, res.StatusCode, res.Header.Get("Cache-Control"))
			}
		}
	}
}

func TestStaticAssets(t *testing.T) {
	h := newTestHandler(t)
	wantType := map[string]string{
		".css": "text/css; charset=utf-8",
		".js":  "text/javascript; charset=utf-8",
		".svg": "image/svg+xml",
	}
	if len(h.assets.files) == 0 {
		t.Fatal("no static files embedded")
	}
	for name, a := range h.assets.files {
		ext := name[strings.LastIndex(name, "."):]
		res := do(h, http.MethodGet, a.url(), nil)
		got := body(t, res)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", a.url(), res.StatusCode)
			continue
		}
		checkSecurityHeaders(t, name, res)
		if want, ok := wantType[ext]; !ok {
			t.Errorf("%s: no expectation for files of type %s in this test", name, ext)
		} else if ct := res.Header.Get("Content-Type"); ct != want {
			t.Errorf("%s: Content-Type = %q, want %q", name, ct, want)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control = %q", name, cc)
		}
		if got != string(a.body) {
			t.Errorf("%s: served body differs from the hashed one", name)
		}
		// Without the hash, or with an old one, the file must be revalidated.
		for _, target := range []string{"/static/" + name, "/static/" + name + "?v=0000000000000000"} {
			res := do(h, http.MethodGet, target, nil)
			if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-cache" {
				t.Errorf("GET %s: status %d, Cache-Control %q, want 200 no-cache", target, res.StatusCode, res.Header.Get("Cache-Control"))
			}
		}
	}
}

// A module's relative imports name the current hash of their target, so
// that an immutable module never points at a stale one.
func TestModuleImportsAreVersioned(t *testing.T) {
	h := newTestHandler(t)
	importRE := regexp.MustCompile(`(?:\bfrom|\bimport)\s*\(?\s*'(\.{1,2}/[^']+)'`)
	modules := 0
	for name, a := range h.assets.files {
		if !strings.HasSuffix(name, ".js") {
			continue
		}
		modules++
		dir := name[:strings.LastIndex(name, "/")+1]
		for _, m := range importRE.FindAllStringSubmatch(string(a.body), -1) {
			spec, v, ok := strings.Cut(m[1], "?v=")
			target := strings.TrimPrefix(dir+strings.TrimPrefix(spec, "./"), "/")
			dep := h.assets.files[target]
			if !ok || dep == nil || dep.hash != v {
				t.Errorf("%s imports %s, which is not the versioned URL of %s", name, m[1], target)
			}
		}
	}
	if modules == 0 {
		t.Fatal("no modules embedded")
	}
	home, _ := h.assets.preloads("js/home.js")
	for _, want := range []string{"js/api.js", "js/shell.js", "js/dom.js", "js/roles.js"} {
		url, _ := h.assets.url(want)
		if !strings.Contains(strings.Join(home, " "), url) {
			t.Errorf("home page does not preload %s", want)
		}
	}
}

func TestNotFound(t *testing.T) {
	h := newTestHandler(t)
	for _, target := range []string{
		"/nope", "/login/", "/admin/users", "/index.html", "/api/me",
		"/patients/", "/patients//access", "/patients/a/b", "/patients/a/access/x", "/patients/../admin",
		"/patients/%2e%2e", "/patients/" + strings.Repeat("a", 129), "/patients/a%20b", "/patients/a/access/",
		"/static/", "/static/js", "/static/nope.js", "/static/../viewer.go",
		"/static/js/../css/app.css", "/static/templates/layout.html", "/templates/layout.html",
	} {
		res := do(h, http.MethodGet, target, nil)
		html := body(t, res)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", target, res.StatusCode)
			continue
		}
		checkSecurityHeaders(t, target, res)
		if res.Header.Get("Content-Type") != "text/html; charset=utf-8" || res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: Content-Type %q, Cache-Control %q", target, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
		}
		if !strings.Contains(html, "<h1>Page not found</h1>") || !strings.Contains(html, `href="/"`) {
			t.Errorf("GET %s: not the not-found page", target)
		}
	}
}

// A path with a parameter gets its page's shell; a fixed path in the same
// place wins over the parameter.
func TestParameterisedPages(t *testing.T) {
	h := newTestHandler(t)
	for target, title := range map[string]string{
		"/patients":                           "Patients",
		"/patients/enrol":                     "Enrol a patient",
		"/patients/p-1":                       "Patient",
		"/patients/ERN-BE10-EuroBloodNet-013": "Patient",
		"/patients/a.b_c/access":              "Who accessed this patient",
	} {
		res := do(h, http.MethodGet, target, nil)
		html := body(t, res)
		if res.StatusCode != http.StatusOK || !strings.Contains(html, "<title>"+title+" · CPMS</title>") {
			t.Errorf("GET %s: status %d, not the %q page", target, res.StatusCode, title)
		}
		checkSecurityHeaders(t, target, res)
		if !strings.Contains(html, `<a href="/patients" aria-current="page">Patients</a>`) {
			t.Errorf("GET %s: Patients is not the current navigation entry", target)
		}
	}
}

func TestMethods(t *testing.T) {
	h := newTestHandler(t)
	css, _ := h.assets.url("css/app.css")
	for _, target := range []string{"/", "/login", css} {
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
			res := do(h, method, target, nil)
			if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s: status %d, Allow %q", method, target, res.StatusCode, res.Header.Get("Allow"))
			}
			checkSecurityHeaders(t, method+" "+target, res)
		}
		res := do(h, http.MethodHead, target, nil)
		if b := body(t, res); res.StatusCode != http.StatusOK || b != "" {
			t.Errorf("HEAD %s: status %d, %d body bytes", target, res.StatusCode, len(b))
		}
		if res.Header.Get("Content-Length") == "" || res.Header.Get("Content-Length") == "0" {
			t.Errorf("HEAD %s: Content-Length %q", target, res.Header.Get("Content-Length"))
		}
	}
}

func TestGzipAndRevalidation(t *testing.T) {
	h := newTestHandler(t)
	a := h.assets.files["css/app.css"]
	if a.gzipped == nil {
		t.Fatal("the stylesheet is not precompressed")
	}
	plain := do(h, http.MethodGet, a.url(), nil)
	plainBody := body(t, plain)
	if plain.Header.Get("Content-Encoding") != "" {
		t.Errorf("compressed without Accept-Encoding")
	}
	zipped := do(h, http.MethodGet, a.url(), http.Header{"Accept-Encoding": {"br, gzip;q=0.8"}})
	if zipped.Header.Get("Content-Encoding") != "gzip" || zipped.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("Content-Encoding %q, Vary %q", zipped.Header.Get("Content-Encoding"), zipped.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(unzipped, []byte(plainBody)) {
		t.Error("the gzip variant does not decompress to the file")
	}
	if plain.Header.Get("ETag") == zipped.Header.Get("ETag") {
		t.Error("both encodings share one ETag")
	}
	res := do(h, http.MethodGet, a.url(), http.Header{"If-None-Match": {plain.Header.Get("ETag")}})
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match with the current ETag: status %d, want 304", res.StatusCode)
	}
	res = do(h, http.MethodGet, a.url(), http.Header{"Range": {"bytes=0-9"}})
	if got := body(t, res); res.StatusCode != http.StatusPartialContent || got != string(a.body[:10]) {
		t.Errorf("Range request: status %d, body %q", res.StatusCode, got)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                  false,
		"gzip":              true,
		"GZIP":              true,
		"br, gzip":          true,
		"gzip;q=0":          false,
		"gzip; q=0.5":       true,
		"deflate, br":       false,
		"x-gzip":            false,
		"identity, gzip;q=": false,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

// Every visible form field has a label, and ids are unique on a page.
func TestFieldsHaveLabels(t *testing.T) {
	fieldRE := regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	idAttrRE := regexp.MustCompile(`\sid="([^"]+)"`)
	for path, html := range allPages(t, newTestHandler(t)) {
		seen := map[string]bool{}
		for _, m := range idAttrRE.FindAllStringSubmatch(html, -1) {
			if seen[m[1]] {
				t.Errorf("%s: id %q is used twice", path, m[1])
			}
			seen[m[1]] = true
		}
		for _, tag := range fieldRE.FindAllString(html, -1) {
			if strings.Contains(tag, ` hidden`) || strings.Contains(tag, `type="hidden"`) {
				continue
			}
			id := idAttrRE.FindStringSubmatch(tag)
			if id == nil {
				t.Errorf("%s: field without id: %s", path, tag)
				continue
			}
			if !strings.Contains(html, `<label for="`+id[1]+`"`) {
				t.Errorf("%s: field #%s has no label", path, id[1])
			}
		}
	}
}

func TestConfig(t *testing.T) {
	h, err := New(Config{ProductName: `<b>ERN</b> & co`})
	if err != nil {
		t.Fatal(err)
	}
	html := body(t, do(h, http.MethodGet, "/login", nil))
	if strings.Contains(html, "<b>ERN</b>") || !strings.Contains(html, "&lt;b&gt;ERN&lt;/b&gt; &amp; co") {
		t.Error("the product name is not escaped")
	}
	if !strings.Contains(html, "version dev") {
		t.Error("an empty version is not shown as dev")
	}
	h = newTestHandler(t)
	if html := body(t, do(h, http.MethodGet, "/", nil)); !strings.Contains(html, `<a class="brand" href="/">CPMS</a>`) {
		t.Error("the product name is not in the header")
	}
}

// testFS is a minimal tree with the layout and pages that newHandler needs.
func testFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{
		"templates/layout.html":   {Data: []byte(`<title>{{.Title}}</title>{{with .Script}}<script src="{{asset .}}"></script>{{end}}{{template "main" .}}`)},
		"templates/notfound.html": {Data: []byte(`{{define "main"}}missing{{end}}`)},
		"static/js/home.js":       {Data: []byte(`import { a } from './api.js';`)},
		"static/js/login.js":      {Data: []byte(`import './api.js';`)},
		"static/js/account.js":    {Data: []byte(`export {};`)},
		"static/js/access.js":     {Data: []byte(`export {};`)},
		"static/js/admin.js":      {Data: []byte(`export {};`)},
		"static/js/api.js":        {Data: []byte(`export const a = 1;`)},
	}
	for _, p := range pageList() {
		fsys["templates/"+p.file] = &fstest.MapFile{Data: []byte(`{{define "main"}}` + p.title + `{{end}}`)}
		if _, ok := fsys["static/"+p.script]; !ok && p.script != "" {
			fsys["static/"+p.script] = &fstest.MapFile{Data: []byte(`export {};`)}
		}
	}
	for name, data := range files {
		if data == "" {
			delete(fsys, name)
			continue
		}
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

func TestTemplateErrorsFailNew(t *testing.T) {
	if _, err := newHandler(Config{}, testFS(nil)); err != nil {
		t.Fatalf("the minimal tree does not load: %v", err)
	}
	for name, files := range map[string]map[string]string{
		"syntax error":      {"templates/home.html": `{{define "main"}}{{if}}{{end}}`},
		"unknown asset":     {"templates/login.html": `{{define "main"}}{{asset "css/none.css"}}{{end}}`},
		"missing page":      {"templates/admin.html": ""},
		"missing template":  {"templates/account.html": `{{define "other"}}{{end}}`},
		"undefined field":   {"templates/access.html": `{{define "main"}}{{.Nope}}{{end}}`},
		"missing not-found": {"templates/notfound.html": ""},
	} {
		if _, err := newHandler(Config{}, testFS(files)); err == nil {
			t.Errorf("%s: newHandler succeeded", name)
		}
	}
}

func TestLoadAssets(t *testing.T) {
	base := fstest.MapFS{
		"static/js/a.js":   {Data: []byte("import { b } from './b.js';\nimport \"../js/c.js\";\nconst d = import('./d.js');\n")},
		"static/js/b.js":   {Data: []byte("import { c } from './c.js';\nexport const b = c;\n")},
		"static/js/c.js":   {Data: []byte("export const c = 1;\n")},
		"static/js/d.js":   {Data: []byte("export default 4;\n")},
		"static/css/x.css": {Data: []byte("body { color: red; }\n")},
	}
	set, err := loadAssets(base, "static")
	if err != nil {
		t.Fatal(err)
	}
	c := set.files["js/c.js"]
	if got := string(set.files["js/b.js"].body); got != "import { c } from './c.js?v="+c.hash+"';\nexport const b = c;\n" {
		t.Errorf("b.js rewritten to %q", got)
	}
	pre, err := set.preloads("js/a.js")
	if err != nil {
		t.Fatal(err)
	}
	if len(pre) != 3 {
		t.Errorf("a.js preloads %v, want b, c and d", pre)
	}

	// Changing c.js changes the hash of every module that reaches it, and
	// of nothing else.
	changed := fstest.MapFS{}
	for k, v := range base {
		changed[k] = v
	}
	changed["static/js/c.js"] = &fstest.MapFile{Data: []byte("export const c = 2;\n")}
	set2, err := loadAssets(changed, "static")
	if err != nil {
		t.Fatal(err)
	}
	for name, wantChange := range map[string]bool{"js/a.js": true, "js/b.js": true, "js/c.js": true, "js/d.js": false, "css/x.css": false} {
		if got := set.files[name].hash != set2.files[name].hash; got != wantChange {
			t.Errorf("%s: hash changed = %v, want %v", name, got, wantChange)
		}
	}

	for name, fsys := range map[string]fstest.MapFS{
		"missing import": {"static/a.js": {Data: []byte(`import './gone.js';`)}},
		"cycle":          {"static/a.js": {Data: []byte(`import './b.js';`)}, "static/b.js": {Data: []byte(`import './a.js';`)}},
		"unknown type":   {"static/a.exe": {Data: []byte(`MZ`)}},
	} {
		if _, err := loadAssets(fsys, "static"); err == nil {
			t.Errorf("%s: loadAssets succeeded", name)
		}
	}
}
