package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/dicomweb/dicomwebtest"
)

// TestStowBody checks that a body streamed from files is byte for byte the one
// dicomwebtest.Multipart builds in memory, and that it parses as multipart/related.
func TestStowBody(t *testing.T) {
	dir := t.TempDir()
	var insts []instance
	var raw [][]byte
	for k := range 3 {
		b := dicomwebtest.CT{SOPUID: fmt.Sprintf("1.2.3.%d", k+1), StudyUID: "1.2.3", SeriesUID: "1.2.3.9", Size: 8 + 2*k}.Bytes()
		path := filepath.Join(dir, fmt.Sprint(k))
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		insts = append(insts, instance{path: path, size: int64(len(b))})
		raw = append(raw, b)
	}
	body, n, err := stowBody(insts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(body)
	body.Close()
	if err != nil {
		t.Fatal(err)
	}
	want, ct := dicomwebtest.Multipart(raw)
	if !bytes.Equal(got, want) || int64(len(got)) != n {
		t.Fatalf("streamed body (%d bytes, said %d) differs from dicomwebtest.Multipart (%d bytes)", len(got), n, len(want))
	}
	if ct != stowContentType {
		t.Errorf("content type %q, dicomwebtest says %q", stowContentType, ct)
	}
	parts, err := readStow(stowContentType, bytes.NewReader(got))
	if err != nil || len(parts) != 3 {
		t.Fatalf("parsed %d parts, err %v", len(parts), err)
	}
	for i, p := range parts {
		if !bytes.Equal(p, raw[i]) {
			t.Errorf("part %d differs", i)
		}
	}
}

func TestParseStoreResponse(t *testing.T) {
	for _, tc := range []struct {
		body           string
		stored, failed int
		err            bool
	}{
		{`{"00081199":{"vr":"SQ","Value":[{},{}]}}`, 2, 0, false},
		{`{"00081190":{"vr":"UR","Value":["x"]},"00081199":{"vr":"SQ","Value":[{}]},"00081198":{"vr":"SQ","Value":[{}]}}`, 1, 1, false},
		{`[{"00081199":{"vr":"SQ","Value":[{}]}}]`, 1, 0, false},
		{`{}`, 0, 0, false},
		{``, 0, 0, true},
		{`<html>`, 0, 0, true},
	} {
		s, f, err := parseStoreResponse([]byte(tc.body))
		if s != tc.stored || f != tc.failed || (err != nil) != tc.err {
			t.Errorf("%s: %d stored, %d failed, err %v", tc.body, s, f, err)
		}
	}
}

func TestParseDD(t *testing.T) {
	n, d, ok := parseDD("512+0 records in\n512+0 records out\n536870912 bytes (537 MB, 512 MiB) copied, 1.25 s, 429 MB/s\n")
	if !ok || n != 536870912 || d != 1250*time.Millisecond {
		t.Errorf("GNU: %d %v %v", n, d, ok)
	}
	n, d, ok = parseDD("536870912 bytes (512.0MB) copied, 2.000000 seconds, 256.0MB/s")
	if !ok || n != 536870912 || d != 2*time.Second {
		t.Errorf("BusyBox: %d %v %v", n, d, ok)
	}
	if _, _, ok := parseDD("dd: error"); ok {
		t.Error("parsed nonsense")
	}
	if r := (diskResult{bytes: 500e6, elapsed: 2 * time.Second}); r.mbps() != 250 {
		t.Errorf("mbps %v", r.mbps())
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-cpms", "http://x/dicomweb/centres/BE10"},
		{"-orthanc", "ftp://x"},
		{"-orthanc", "http://x", "-scenarios", "nope"},
		{"-orthanc", "http://x", "-batch", "0"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	cfg, err := parseFlags([]string{"-orthanc", "http://x/dicom-web/", "-scenarios", "qido, wado,qido"}, io.Discard)
	if err != nil || cfg.orthanc != "http://x/dicom-web" || strings.Join(cfg.scenarios, ",") != "qido,wado" ||
		cfg.smallN != 20000 || cfg.c != 16 || cfg.stowC != 4 || cfg.wadoC != 4 || cfg.batch != 10 {
		t.Errorf("%+v %v", cfg, err)
	}
}

// readStow parses a STOW body as a DICOMweb server does and returns its parts.
func readStow(contentType string, body io.Reader) ([][]byte, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/related" || params["type"] != "application/dicom" || params["boundary"] == "" {
		return nil, fmt.Errorf("bad content type %q", contentType)
	}
	mr := multipart.NewReader(body, params["boundary"])
	var parts [][]byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return parts, nil
		}
		if err != nil {
			return nil, err
		}
		if p.Header.Get("Content-Type") != "application/dicom" {
			return nil, fmt.Errorf("part of type %q", p.Header.Get("Content-Type"))
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, err
		}
		if len(b) < 132 || string(b[128:132]) != "DICM" {
			return nil, fmt.Errorf("part %d is not a Part 10 file", len(parts)+1)
		}
		parts = append(parts, b)
	}
}

// fakeDICOMweb is a DICOMweb server in memory: STOW stores the parts, QIDO answers one match,
// WADO returns the parts whose bytes name the study.
type fakeDICOMweb struct {
	prefix    string
	token     string
	failEvery int // answer FailedSOPSequence for every failEvery-th instance (0: never)

	mu       sync.Mutex
	stored   [][]byte
	seen     int
	requests int
	bad      []string
	queries  map[string]int
}

func (f *fakeDICOMweb) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/metrics" {
		fmt.Fprintln(w, "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 12.5")
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, f.prefix)
	if !ok || (f.token != "" && r.Header.Get("Authorization") != "Bearer "+f.token) {
		http.Error(w, "no", http.StatusUnauthorized)
		return
	}
	switch {
	case r.Method == http.MethodPost && path == "/studies":
		parts, err := readStow(r.Header.Get("Content-Type"), r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.requests++
		if err != nil {
			f.bad = append(f.bad, err.Error())
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var ok, failed []map[string]any
		for _, p := range parts {
			f.seen++
			if f.failEvery > 0 && f.seen%f.failEvery == 0 {
				failed = append(failed, map[string]any{"00081197": map[string]any{"vr": "US", "Value": []int{272}}})
				continue
			}
			ok = append(ok, map[string]any{})
			f.stored = append(f.stored, p)
		}
		resp := map[string]any{"00081199": map[string]any{"vr": "SQ", "Value": ok}}
		if len(failed) > 0 {
			resp["00081198"] = map[string]any{"vr": "SQ", "Value": failed}
		}
		w.Header().Set("Content-Type", "application/dicom+json")
		json.NewEncoder(w).Encode(resp)
	case r.Method == http.MethodGet && (path == "/studies" || strings.HasSuffix(path, "/series") || strings.HasSuffix(path, "/instances")):
		f.mu.Lock()
		if f.queries == nil {
			f.queries = map[string]int{}
		}
		kind := path
		if path == "/studies" {
			kind = "?" + strings.SplitN(r.URL.RawQuery, "=", 2)[0]
		} else {
			kind = path[strings.LastIndexByte(path, '/'):]
		}
		f.queries[kind]++
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/dicom+json")
		io.WriteString(w, `[{"0020000D":{"vr":"UI","Value":["1.2.3"]}}]`)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/studies/"):
		study := strings.TrimPrefix(path, "/studies/")
		if !strings.Contains(r.Header.Get("Accept"), `type="application/dicom"`) {
			http.Error(w, "not acceptable", http.StatusNotAcceptable)
			return
		}
		f.mu.Lock()
		var parts [][]byte
		for _, p := range f.stored {
			if bytes.Contains(p, []byte(study+".1.")) {
				parts = append(parts, p)
			}
		}
		f.mu.Unlock()
		mw := multipart.NewWriter(w)
		w.Header().Set("Content-Type", `multipart/related; type="application/dicom"; boundary=`+mw.Boundary())
		for _, p := range parts {
			pw, _ := mw.CreatePart(map[string][]string{"Content-Type": {"application/dicom"}})
			pw.Write(p)
		}
		mw.Close()
	default:
		http.NotFound(w, r)
	}
}

func testArgs(t *testing.T, cpms, orthanc string) []string {
	return []string{"-cpms", cpms + "/dicomweb/centres/BE10", "-token", "tok", "-orthanc", orthanc + "/dicom-web",
		"-small-n", "50", "-small-per-study", "10", "-small-size", "8", "-large-n", "12", "-large-size", "16",
		"-batch", "5", "-stow-c", "2", "-c", "2", "-wado-c", "2", "-d", "200ms", "-warmup", "50ms", "-tmp", t.TempDir()}
}

func TestRunAgainstFakes(t *testing.T) {
	ours := &fakeDICOMweb{prefix: "/dicomweb/centres/BE10", token: "tok"}
	peer := &fakeDICOMweb{prefix: "/dicom-web"}
	s1, s2 := httptest.NewServer(ours), httptest.NewServer(peer)
	defer s1.Close()
	defer s2.Close()
	var out, errOut bytes.Buffer
	code := run(context.Background(), testArgs(t, s1.URL, s2.URL), &out, &errOut)
	t.Log("\n" + out.String())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	// 12 large + 50 small, and one warm-up batch of 5 per client and set: 2×5 + 2×5.
	const want = 12 + 50 + 10 + 10
	for _, f := range []*fakeDICOMweb{ours, peer} {
		if len(f.bad) > 0 {
			t.Errorf("%s: bad STOW bodies: %v", f.prefix, f.bad)
		}
		if len(f.stored) != want {
			t.Errorf("%s: stored %d instances, want %d", f.prefix, len(f.stored), want)
		}
		if f.requests != 3+2+10+2 { // 12 large in 5+5+2
			t.Errorf("%s: %d STOW requests, want 17", f.prefix, f.requests)
		}
		for _, k := range []string{"?PatientName", "?StudyInstanceUID", "?ModalitiesInStudy", "/series", "/instances"} {
			if f.queries[k] == 0 {
				t.Errorf("%s: no %s query in %v", f.prefix, k, f.queries)
			}
		}
	}
	text := out.String()
	for _, s := range []string{
		"stow-large       cpms", "stow-large       orthanc", "12 inst in 3 req", "50 inst in 10 req",
		"errors 0 inst, 0 req (0.00%)", "# qido: cpms/orthanc", "(12 instances, ", "results: name 1, uid 1, series 1, instances 1, date 1",
		"# wado GB/s", "cpms ≥ 0.90", "conns 2",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("output lacks %q", s)
		}
	}
	if strings.Contains(text, "FAILED") {
		t.Error("a scenario failed")
	}
}

func TestRunCountsRefusedInstances(t *testing.T) {
	ours := &fakeDICOMweb{prefix: "/dicomweb/centres/BE10", token: "tok", failEvery: 7}
	peer := &fakeDICOMweb{prefix: "/dicom-web"}
	s1, s2 := httptest.NewServer(ours), httptest.NewServer(peer)
	defer s1.Close()
	defer s2.Close()
	var out bytes.Buffer
	args := append(testArgs(t, s1.URL, s2.URL), "-scenarios", "stow-small")
	if code := run(context.Background(), args, &out, io.Discard); code != 1 {
		t.Fatalf("exit %d with refused instances, want 1:\n%s", code, out.String())
	}
	// 60 instances reach the fake, the 10 of the warm-up first: every 7th is refused, so 7 of
	// the 50 measured (the 14th, 21st, … 56th).
	if !strings.Contains(out.String(), "stow-small       cpms") || !strings.Contains(out.String(), "errors 7 inst, 7 req (14.00%)") {
		t.Errorf("refusals not counted:\n%s", out.String())
	}
}

func TestRunWrongToken(t *testing.T) {
	ours := &fakeDICOMweb{prefix: "/dicomweb/centres/BE10", token: "other"}
	s1 := httptest.NewServer(ours)
	defer s1.Close()
	var errOut bytes.Buffer
	code := run(context.Background(), []string{"-cpms", s1.URL + "/dicomweb/centres/BE10", "-token", "tok"}, io.Discard, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "401") {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
}

func TestRunMeasuresDisk(t *testing.T) {
	if _, err := exec.LookPath("dd"); err != nil {
		t.Skip("no dd")
	}
	peer := &fakeDICOMweb{prefix: "/dicom-web"}
	s := httptest.NewServer(peer)
	defer s.Close()
	var out bytes.Buffer
	args := []string{"-orthanc", s.URL + "/dicom-web", "-scenarios", "stow-large", "-large-n", "4", "-large-size", "8",
		"-batch", "2", "-stow-c", "1", "-data-dir", t.TempDir(), "-dd-mib", "1", "-tmp", t.TempDir()}
	if code := run(context.Background(), args, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	for _, s := range []string{"# disk before stow-large: dd of 1 MiB", "# disk after stow-large", "× durable disk (",
		"the 4 instances copied to files by 1 writers, each file and its folder synced", "× per-instance durable files ("} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
}
