package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/dicomweb/dicomwebtest"
)

// TestDICOMwebClient drives the served DICOMweb surface with dicomweb-client, the library of
// the OHIF viewer, and dcmjs (conformance/dicomweb/client.mjs): store, search, metadata,
// frames, instance and rendered, with a centre's PACS token, on every storage backend.
func TestDICOMwebClient(t *testing.T) {
	root, _ := filepath.Abs("../..")
	var missing []string
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node")
	}
	for _, m := range []string{"dicomweb-client", "dcmjs", "xhr2"} {
		if _, err := os.Stat(filepath.Join(root, "node_modules", m)); err != nil {
			missing = append(missing, "node_modules/"+m+" (npm ci)")
		}
	}
	if len(missing) > 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI requires %s", strings.Join(missing, ", "))
		}
		t.Skipf("DICOMweb client test skipped: no %s", strings.Join(missing, ", "))
	}
	for name, env := range fhirBackends(t) {
		t.Run(name, func(t *testing.T) {
			s := startServer(t, env)
			pacs := lastLine(s.cli(t, "token create", "--centre", "BE10", "--system", "pacs"))
			dir := t.TempDir()
			uidRoot := dicomwebtest.UIDRoot(9001)
			var files []string
			for i, b := range dicomwebtest.Study(uidRoot, 42, 6, 128) {
				f := filepath.Join(dir, fmt.Sprintf("%d.dcm", i))
				if err := os.WriteFile(f, b, 0o600); err != nil {
					t.Fatal(err)
				}
				files = append(files, f)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			args := append([]string{filepath.Join(root, "conformance", "dicomweb", "client.mjs"), s.base + "/dicomweb/centres/BE10", pacs, uidRoot + ".1"}, files...)
			cmd := exec.CommandContext(ctx, "node", args...)
			cmd.Dir = root
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			t.Logf("%s", strings.TrimSpace(string(out)))
		})
	}
}

// storeStudy stores, with a PACS token of BE10, three slices of a study of the demo patient Roger
// Addel: PatientID and IssuerOfPatientID are his local identifier, so the study is linked to him.
func storeStudy(t *testing.T, s *server, pacs, description string) {
	t.Helper()
	root := dicomwebtest.UIDRoot(9100)
	var insts [][]byte
	for k := range 3 {
		insts = append(insts, dicomwebtest.CT{PatientName: "Addel^Roger", PatientID: "DEMO-BE10-0001",
			IssuerOfPatientID: "2.999.1.1", BirthDate: "19760205", Sex: "M", StudyUID: root + ".1", SeriesUID: root + ".1.1",
			SOPUID: fmt.Sprintf("%s.1.1.%d", root, k+1), StudyDate: "20240102", StudyTime: "093000",
			AccessionNumber: "ACC9100", StudyDescription: description, SeriesNumber: 1, InstanceNumber: k + 1}.Bytes())
	}
	body, ct := dicomwebtest.Multipart(insts)
	req, err := http.NewRequest("POST", s.base+"/dicomweb/centres/BE10/studies", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+pacs)
	req.Header.Set("Content-Type", ct)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("storing the demo patient's study: %d %s", resp.StatusCode, resp.Header.Get("Warning"))
	}
}
