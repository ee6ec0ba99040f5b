package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeServer answers like a CPMS server: healthz, metrics, bearer and session endpoints and a
// throttled sign-in.
type fakeServer struct {
	mu       sync.Mutex
	logins   int
	logouts  int
	throttle int // sign-ins allowed before 429
	meStatus int
	patients []string // enrolled through the fake FHIR transaction
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method + " " + r.URL.Path {
	case "GET /healthz":
		fmt.Fprintln(w, "ok")
	case "GET /floor":
		fmt.Fprintln(w, `{"id":"p"}`)
	case "GET /metrics":
		fmt.Fprintln(w, "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.")
		fmt.Fprintln(w, "process_cpu_seconds_total 1.5")
		fmt.Fprintln(w, "go_sched_gomaxprocs_threads 2")
	case "GET /api/me":
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(f.meStatus)
		fmt.Fprintln(w, `{"username":"u"}`)
	case "GET /api/dashboard":
		if c, err := r.Cookie("cpms_session"); err != nil || !strings.HasPrefix(c.Value, "s") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprintln(w, `{"upcomingMeetings":[]}`)
	case "POST /api/login":
		var in struct{ Username, Password string }
		json.NewDecoder(r.Body).Decode(&in)
		f.mu.Lock()
		f.logins++
		n := f.logins
		f.mu.Unlock()
		if n > f.throttle {
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		if in.Password != "pw" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "cpms_session", Value: fmt.Sprintf("s%d", n), Path: "/"})
		fmt.Fprintln(w, `{"csrfToken":"c"}`)
	case "POST /api/logout":
		if r.Header.Get("X-CSRF-Token") == "c" {
			f.mu.Lock()
			f.logouts++
			f.mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	case "POST /fhir":
		var b struct {
			Type  string `json:"type"`
			Entry []struct {
				Resource struct {
					ResourceType string `json:"resourceType"`
				} `json:"resource"`
			} `json:"entry"`
		}
		if r.Header.Get("Authorization") != "Bearer tok" || json.NewDecoder(r.Body).Decode(&b) != nil || b.Type != "transaction" ||
			len(b.Entry) != 2 || b.Entry[0].Resource.ResourceType != "Patient" || b.Entry[1].Resource.ResourceType != "Consent" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		id := fmt.Sprintf("p%d", len(f.patients))
		f.patients = append(f.patients, id)
		f.mu.Unlock()
		fmt.Fprintf(w, `{"resourceType":"Bundle","type":"transaction-response","entry":[{"response":{"status":"201 Created","location":"Patient/%s/_history/1"}},{"response":{"status":"201 Created","location":"Consent/c/_history/1"}}]}`, id)
	case "GET /fhir/Patient":
		q := r.URL.Query()
		if q.Get("family") == "" && !strings.HasPrefix(q.Get("identifier"), fhirMRNSystem+"|BENCH-") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		fmt.Fprintln(w, `{"resourceType":"Bundle","type":"searchset","total":1}`)
	default:
		if strings.HasPrefix(r.URL.Path, "/fhir/Patient/p") && r.Method == http.MethodGet {
			fmt.Fprintln(w, `{"resourceType":"Patient","id":"x"}`)
			return
		}
		http.NotFound(w, r)
	}
}

func TestFHIRScenarios(t *testing.T) {
	f := &fakeServer{throttle: 10, meStatus: http.StatusOK}
	code, out := runAgainst(t, f, "-baseline", "-fhir-patients", "20",
		"-scenarios", "fhir-read,fhir-family,fhir-identifier,fhir-create")
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	for _, name := range []string{"fhir-seed", "fhir-bare", "fhir-read", "fhir-family", "fhir-identifier", "fhir-create"} {
		if !strings.Contains(out, "\n"+name+" ") {
			t.Errorf("no line for %s:\n%s", name, out)
		}
	}
	if len(f.patients) <= 20 {
		t.Errorf("%d patients enrolled, want the 20 seeded and those of fhir-create", len(f.patients))
	}
	if !strings.Contains(out, "20 patients enrolled by this run") {
		t.Errorf("the seeding line does not count the patients:\n%s", out)
	}
}

func runAgainst(t *testing.T, f *fakeServer, extra ...string) (int, string) {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	args := append([]string{"-base", srv.URL, "-token", "tok", "-c", "3", "-d", "100ms", "-warmup", "20ms",
		"-login-users", "a,b", "-login-password", "pw"}, extra...)
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String() + errOut.String()
}

func TestRunAllScenarios(t *testing.T) {
	f := &fakeServer{throttle: 10, meStatus: http.StatusOK}
	code, out := runAgainst(t, f, "-baseline")
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	for _, name := range []string{"bare", "healthz", "me", "dashboard", "login"} {
		if !strings.Contains(out, "\n"+name+" ") {
			t.Errorf("no line for %s:\n%s", name, out)
		}
	}
	if !strings.Contains(out, "bare req/s") {
		t.Errorf("no ratio to the bare handler:\n%s", out)
	}
	// Two sessions for the dashboard, three timed sign-ins; every session is signed out.
	if f.logins != 5 || f.logouts != 5 {
		t.Errorf("%d sign-ins and %d sign-outs, want 5 and 5", f.logins, f.logouts)
	}
}

func TestFloorScenario(t *testing.T) {
	f := &fakeServer{throttle: 10, meStatus: http.StatusOK}
	code, out := runAgainst(t, f, "-scenarios", "floor")
	if code != 0 || !strings.Contains(out, "\nfloor ") || !strings.Contains(out, "errors 0 ") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestErrorsFailTheRun(t *testing.T) {
	f := &fakeServer{throttle: 10, meStatus: http.StatusInternalServerError}
	code, out := runAgainst(t, f, "-scenarios", "healthz,me")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	if !strings.Contains(out, "statuses 500×") {
		t.Errorf("the failures are not reported:\n%s", out)
	}
}

func TestThrottledSignInIsReported(t *testing.T) {
	f := &fakeServer{throttle: 1, meStatus: http.StatusOK}
	code, out := runAgainst(t, f, "-scenarios", "login")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	if !strings.Contains(out, "throttle") || f.logins != 2 {
		t.Errorf("want the throttle reported after 2 sign-ins, got %d:\n%s", f.logins, out)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-base", "http://127.0.0.1:1", "-scenarios", "me"},
		{"-base", "http://127.0.0.1:1", "-scenarios", "nope", "-token", "t"},
		{"-base", "ftp://x", "-token", "t"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != 2 {
			t.Errorf("run(%q) = %d, want 2 (%s)", args, code, errOut.String())
		}
	}
}
