package dicomwebhttp_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/cpms/cpmshttp"
	"github.com/ern-cpms/cpms/cpms/cpmstest"
	"github.com/ern-cpms/cpms/cpms/sqlstore"
	"github.com/ern-cpms/cpms/dicomweb"
	"github.com/ern-cpms/cpms/dicomweb/dicomwebhttp"
	"github.com/ern-cpms/cpms/dicomweb/dicomwebtest"
	"github.com/ern-cpms/cpms/dicomweb/sqlindex"
	"github.com/ern-cpms/cpms/internal/blob"
	"github.com/ern-cpms/cpms/internal/sqldb"
	"github.com/ern-cpms/cpms/internal/sqldb/sqldbtest"
)

type env struct {
	t      *testing.T
	db     *sqldb.DB
	svc    *cpms.Service
	st     *sqlstore.Store
	blobs  blob.Store
	srv    *httptest.Server
	tokens map[string]string
}

// blobStores are the blob backends the edge is tested on: files always, S3 when configured
// (required in CI).
func blobStores(t *testing.T) map[string]func(t *testing.T) blob.Store {
	m := map[string]func(t *testing.T) blob.Store{
		"files": func(t *testing.T) blob.Store {
			s, err := blob.Open(context.Background(), blob.Config{DefaultDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
	raw := os.Getenv("CPMS_TEST_S3_URL")
	if raw == "" && os.Getenv("CI") == "true" {
		t.Fatal("CI requires CPMS_TEST_S3_URL")
	}
	if raw != "" {
		m["s3"] = func(t *testing.T) blob.Store {
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal("CPMS_TEST_S3_URL does not parse")
			}
			q := u.Query()
			q.Set("prefix", strings.TrimPrefix(strings.TrimSuffix(q.Get("prefix"), "/")+"/dicomweb-"+strings.ToLower(rand.Text())+"/", "/"))
			u.RawQuery = q.Encode()
			s, err := blob.Open(context.Background(), blob.Config{URL: u.String()})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	return m
}

func newEnv(t *testing.T, eng sqldbtest.Engine, openBlobs func(*testing.T) blob.Store) *env {
	t.Helper()
	ctx := context.Background()
	db := eng.Open(t)
	idx, err := sqlindex.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	svc, st := cpmstest.DemoService(t, db, cpms.Config{Demo: true, Images: dicomweb.Catalog{Index: idx}})
	op := cpmstest.Operator
	e := &env{t: t, db: db, svc: svc, st: st, blobs: openBlobs(t), tokens: map[string]string{}}
	for name, nt := range map[string]cpms.NewToken{
		"pacs":     {Centre: "BE10", System: cpms.SystemPACS, Name: "pacs"},
		"his":      {Centre: "BE10", System: cpms.SystemHIS, Name: "his"},
		"otherhp":  {Username: "bloodnethpuser2", Name: "t"},
		"be10hp":   {Username: "bloodnethpuser1", Name: "t"},
		"fr08pacs": {Centre: "FR08", System: cpms.SystemPACS, Name: "pacs"},
	} {
		tok, _, err := svc.CreateToken(ctx, op, nt, cpms.RequestInfo{})
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[name] = tok
	}
	images, err := dicomweb.New(dicomweb.Config{Index: idx, Blobs: e.blobs, Domain: svc})
	if err != nil {
		t.Fatal(err)
	}
	h, err := dicomwebhttp.New(dicomwebhttp.Config{Store: images})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/dicomweb/", h)
	authn := &cpmshttp.Authenticator{Service: svc,
		Errors: map[string]func(http.ResponseWriter, *http.Request, error){dicomwebhttp.Prefix: dicomwebhttp.WriteError}}
	e.srv = httptest.NewServer(cpmshttp.Observe(slog.New(slog.DiscardHandler), nil, authn.Wrap(mux)))
	t.Cleanup(e.srv.Close)
	return e
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(method, path, token string, body io.Reader, header ...string) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[token])
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{r.StatusCode, r.Header, b}
}

func (e *env) stow(path, token string, instances [][]byte) resp {
	body, ct := dicomwebtest.Multipart(instances)
	return e.do("POST", path, token, bytes.NewReader(body), "Content-Type", ct, "Accept", "application/dicom+json")
}

func jsonArray(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var v []map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v
}

func value(o map[string]any, tag string) any {
	a, _ := o[tag].(map[string]any)
	vs, _ := a["Value"].([]any)
	if len(vs) == 0 {
		return nil
	}
	return vs[0]
}

func parts(t *testing.T, r resp) [][]byte {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.header.Get("Content-Type"))
	if err != nil || mt != "multipart/related" {
		t.Fatalf("content type %q: %s", r.header.Get("Content-Type"), r.body)
	}
	mr := multipart.NewReader(bytes.NewReader(r.body), params["boundary"])
	var out [][]byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		out = append(out, b)
	}
}

const scope = "/dicomweb/centres/BE10"

func TestDICOMweb(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		for name, open := range blobStores(t) {
			t.Run(eng.Name+"/"+name, func(t *testing.T) { testDICOMweb(t, newEnv(t, eng, open)) })
		}
	}
}

func testDICOMweb(t *testing.T, e *env) {
	a := dicomwebtest.Study(dicomwebtest.UIDRoot(101), 1, 10, 64)
	b := dicomwebtest.Study(dicomwebtest.UIDRoot(102), 2, 3, 64)
	studyA, studyB := dicomwebtest.UIDRoot(101)+".1", dicomwebtest.UIDRoot(102)+".1"

	// STOW: every instance stored.
	r := e.stow(scope+"/studies", "pacs", append(append([][]byte{}, a...), b...))
	if r.status != http.StatusOK {
		t.Fatalf("STOW: %d %s", r.status, r.body)
	}
	var sr map[string]any
	json.Unmarshal(r.body, &sr)
	if refs, _ := sr["00081199"].(map[string]any)["Value"].([]any); len(refs) != 13 {
		t.Fatalf("ReferencedSOPSequence has %d items, want 13: %s", len(refs), r.body)
	}

	// QIDO: studies with no Accept header, wildcard names, limit with a warning.
	r = e.do("GET", scope+"/studies", "pacs", nil)
	if r.status != 200 || len(jsonArray(t, r.body)) != 2 {
		t.Fatalf("QIDO studies: %d %s", r.status, r.body)
	}
	r = e.do("GET", scope+"/studies?PatientName=testpatient1*", "pacs", nil)
	if got := jsonArray(t, r.body); len(got) != 1 || value(got[0], "0020000D") != studyA || value(got[0], "00201208") != 10.0 {
		t.Fatalf("QIDO PatientName wildcard: %s", r.body)
	}
	r = e.do("GET", scope+"/studies?limit=1", "pacs", nil)
	if len(jsonArray(t, r.body)) != 1 || !strings.Contains(r.header.Get("Warning"), "299") {
		t.Fatalf("QIDO limit: %v %s", r.header, r.body)
	}
	r = e.do("GET", scope+"/studies/"+studyA+"/instances?includefield=00100010%2CStudyDescription", "pacs", nil)
	if got := jsonArray(t, r.body); len(got) != 10 {
		t.Fatalf("QIDO instances of a study: %s", r.body)
	}

	r = e.do("GET", scope+"/studies/"+studyA+"/instances", "pacs", nil)
	if got := jsonArray(t, r.body); len(got) != 10 || value(got[0], "00080016") != dicomwebtest.CTImageStorage ||
		value(got[0], "00280010") != 64.0 || value(got[0], "00200013") == nil || value(got[0], "00081190") == nil ||
		got[0]["7FE00010"] != nil || got[0]["00100010"] != nil {
		t.Fatalf("QIDO instances with the default attributes: %s", r.body)
	}
	r = e.do("GET", scope+"/instances?SOPInstanceUID="+dicomwebtest.UIDRoot(101)+".1.1.3&includefield=all", "pacs", nil)
	if got := jsonArray(t, r.body); len(got) != 1 || value(got[0], "00200013") != 3.0 || got[0]["00100010"] == nil {
		t.Fatalf("QIDO an instance with includefield=all: %s", r.body)
	}

	// Bad queries are the client's: 400 with a Warning, never a server error.
	for _, q := range []string{"/instances?InstanceNumber=abc", "/series?SeriesNumber=1.5", "/studies?StudyDate=2024",
		"/studies?StudyDate=20240101-2024", "/studies?StudyInstanceUID=1.2.x", "/studies?limit=-1", "/studies?fuzzymatching=maybe",
		"/studies?includefield=NoSuchKeyword", "/studies?StudyTime=99"} {
		if r := e.do("GET", scope+q, "pacs", nil); r.status != 400 || r.header.Get("Warning") == "" {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
	if r := e.do("GET", scope+"/studies?NoSuchKeyword=1&SOPInstanceUID=1.2", "pacs", nil); r.status != 200 || len(r.header.Values("Warning")) != 2 {
		t.Errorf("keys the study level does not match on: %d %v", r.status, r.header.Values("Warning"))
	}

	// Metadata from the index, frames and whole-study retrieve from the blobs.
	r = e.do("GET", scope+"/studies/"+studyA+"/metadata", "pacs", nil, "Accept", "application/dicom+json")
	meta := jsonArray(t, r.body)
	if len(meta) != 10 {
		t.Fatalf("metadata: %d %s", r.status, r.body)
	}
	series, sop := value(meta[0], "0020000E").(string), value(meta[0], "00080018").(string)
	r = e.do("GET", scope+"/studies/"+studyA, "pacs", nil, "Accept", `multipart/related; type="application/dicom"; transfer-syntax=*`)
	got := parts(t, r)
	if len(got) != 10 {
		t.Fatalf("WADO study: %d parts", len(got))
	}
	for _, p := range got {
		if !containsInstance(a, p) {
			t.Fatalf("WADO study: a part (%d bytes) is not one of the instances stored", len(p))
		}
	}
	r = e.do("GET", scope+"/studies/"+studyA+"/series/"+series+"/instances/"+sop+"/frames/1", "pacs", nil,
		"Accept", `multipart/related; type="application/octet-stream"; transfer-syntax=*`)
	if fr := parts(t, r); len(fr) != 1 || len(fr[0]) != 64*64*2 {
		t.Fatalf("frame 1: %d %s", r.status, r.body[:min(200, len(r.body))])
	}

	// Scopes: a user of another centre and another centre's PACS see nothing; a HIS token is
	// no image system.
	for _, tok := range []string{"otherhp", "fr08pacs", "his", ""} {
		if r := e.do("GET", scope+"/studies", tok, nil); r.status != 404 && r.status != 401 {
			t.Errorf("%s on BE10's scope: %d", tok, r.status)
		}
	}
	if r := e.do("GET", scope+"/studies", "be10hp", nil); r.status != 200 {
		t.Errorf("a clinician of BE10: %d %s", r.status, r.body)
	}

	// Refusals: a truncated instance, a different instance under a stored UID, another study.
	r = e.stow(scope+"/studies", "pacs", [][]byte{a[0][:2000]})
	if r.status != http.StatusConflict || !strings.Contains(string(r.body), "00081198") {
		t.Fatalf("truncated: %d %s", r.status, r.body)
	}
	r = e.stow(scope+"/studies", "pacs", [][]byte{a[0]})
	if r.status != http.StatusOK || r.header.Get("Warning") == "" {
		t.Errorf("the same instance again: %d %v", r.status, r.header)
	}
	changed := bytes.Clone(a[0])
	changed[len(changed)-1] ^= 0xFF
	r = e.stow(scope+"/studies", "pacs", [][]byte{changed, b[0]})
	if r.status != http.StatusAccepted || !strings.Contains(string(r.body), `"Value":[273]`) {
		t.Errorf("a different instance under a stored UID: %d %s", r.status, r.body)
	}
	r = e.stow(scope+"/studies/"+studyB, "pacs", [][]byte{a[1]})
	if r.status != http.StatusConflict || !strings.Contains(string(r.body), `"Value":[43264]`) {
		t.Errorf("an instance of another study: %d %s", r.status, r.body)
	}

	// Delete a study: gone from QIDO and WADO.
	if r := e.do("DELETE", scope+"/studies/"+studyB, "pacs", nil); r.status != 200 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := e.do("GET", scope+"/studies/"+studyB+"/metadata", "pacs", nil); r.status != 404 {
		t.Errorf("a deleted study's metadata: %d", r.status)
	}
	events, err := e.st.AuditEvents(context.Background(), cpms.AuditFilter{Action: "images.delete"})
	if err != nil || len(events) != 1 {
		t.Errorf("delete audit: %v %v", events, err)
	}
	if events, _ := e.st.AuditEvents(context.Background(), cpms.AuditFilter{Action: "images.read"}); len(events) == 0 {
		t.Error("reads are not audited")
	}
}

func containsInstance(list [][]byte, b []byte) bool {
	for _, x := range list {
		if bytes.Equal(x, b) {
			return true
		}
	}
	return false
}

// TestSamples stores every sample file: each ends stored or cleanly refused, and the server
// keeps answering.
func TestSamples(t *testing.T) {
	dir := "../../../shared/dicom/samples"
	files, _ := filepath.Glob(filepath.Join(dir, "*.dcm"))
	if len(files) == 0 {
		t.Skip("no DICOM samples at ../shared/dicom/samples")
	}
	e := newEnv(t, sqldbtest.Engines(t)[0], blobStores(t)["files"])
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := e.stow(scope+"/studies", "pacs", [][]byte{data})
		switch r.status {
		case http.StatusOK:
			checkStored(t, e, filepath.Base(f), data, r)
		case http.StatusConflict:
			if !strings.Contains(string(r.body), "00081197") || r.header.Get("Warning") == "" {
				t.Errorf("%s refused without a reason: %s", filepath.Base(f), r.body)
			}
		default:
			t.Errorf("%s: %d %s", filepath.Base(f), r.status, r.body)
		}
		t.Logf("%s: %d %s", filepath.Base(f), r.status, r.header.Get("Warning"))
	}
	if r := e.do("GET", scope+"/studies", "pacs", nil); r.status != 200 {
		t.Fatalf("after the samples: %d", r.status)
	}
}

// checkStored reads a stored sample back every way and deletes its study, so that the next
// sample with the same UIDs (the same data set in another transfer syntax) is stored too.
func checkStored(t *testing.T, e *env, name string, data []byte, stowed resp) {
	t.Helper()
	var sr map[string]any
	json.Unmarshal(stowed.body, &sr)
	refs, _ := sr["00081199"].(map[string]any)["Value"].([]any)
	if len(refs) != 1 {
		t.Errorf("%s: %s", name, stowed.body)
		return
	}
	u, _ := url.Parse(value(refs[0].(map[string]any), "00081190").(string))
	inst := u.Path
	study := inst[:strings.Index(inst, "/series/")]
	r := e.do("GET", inst, "pacs", nil, "Accept", `multipart/related; type="application/dicom"; transfer-syntax=*`)
	if p := parts(t, r); len(p) != 1 || !bytes.Equal(p[0], data) {
		t.Errorf("%s: the instance retrieved as stored differs from the one sent", name)
	}
	r = e.do("GET", inst, "pacs", nil)
	if r.status != 200 || len(parts(t, r)) != 1 {
		t.Errorf("%s: default retrieve: %d %s", name, r.status, r.header.Get("Warning"))
	}
	r = e.do("GET", inst+"/metadata", "pacs", nil)
	if r.status != 200 || len(jsonArray(t, r.body)) != 1 {
		t.Errorf("%s: metadata: %d", name, r.status)
	}
	r = e.do("GET", inst+"/frames/1", "pacs", nil, "Accept", `multipart/related; type="application/octet-stream"; transfer-syntax=*`)
	if r.status != 200 && r.status != 404 && r.status != 406 {
		t.Errorf("%s: frame 1: %d %s", name, r.status, r.header.Get("Warning"))
	}
	if r := e.do("DELETE", study, "pacs", nil); r.status != 200 {
		t.Errorf("%s: delete: %d", name, r.status)
	}
}
