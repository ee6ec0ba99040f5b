package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/cpms/cpmstest"
	"github.com/ern-cpms/cpms/internal/sqldb/sqldbtest"
)

// TestFloorModes runs each mode against the demo network on every engine: each request answers
// the patient (or patients) it touched, and records one audit event per patient.
func TestFloorModes(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := context.Background()
			svc, st := cpmstest.DemoService(t, eng.Open(t), cpms.Config{Demo: true})
			op := cpmstest.Operator
			aud := cpms.NewAuditor(cpms.AuditorConfig{Store: st}) // the floor's own, as in the command
			t.Cleanup(aud.Close)
			token, _, err := svc.CreateToken(ctx, op, cpms.NewToken{Centre: "BE10", System: cpms.SystemHIS, Name: "floor"}, cpms.RequestInfo{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := newFloor(ctx, st, aud, "write", token, "BE10", "EuroBloodNet"); err == nil || !strings.Contains(err.Error(), "unknown mode") {
				t.Errorf("an unknown mode: %v", err)
			}
			if _, err := newFloor(ctx, st, aud, "read", "cpms_sys_nosuchtoken", "BE10", "EuroBloodNet"); err == nil {
				t.Error("an unknown token was accepted")
			}
			if _, err := newFloor(ctx, st, aud, "read", "", "ZZ99", "EuroBloodNet"); err == nil || !strings.Contains(err.Error(), "no patient") {
				t.Errorf("a centre without patients: %v", err)
			}
			before, _, err := st.SearchPatients(ctx, cpms.PatientFilter{Centre: "BE10", ERN: "EuroBloodNet", Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for _, mode := range []string{"read", "family", "create"} {
				f, err := newFloor(ctx, st, aud, mode, token, "BE10", "EuroBloodNet")
				if err != nil {
					t.Fatal(err)
				}
				srv := httptest.NewServer(f.handler())
				events0, err := st.AuditEvents(ctx, cpms.AuditFilter{Action: "patient." + mode})
				if err != nil {
					t.Fatal(err)
				}
				seen := map[string]bool{}
				for range 5 {
					resp, err := http.Get(srv.URL + "/floor")
					if err != nil {
						t.Fatal(err)
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						t.Fatalf("%s: %d %s", mode, resp.StatusCode, b)
					}
					var pats []cpms.Patient
					if mode == "family" {
						err = json.Unmarshal(b, &pats)
					} else {
						var p cpms.Patient
						err = json.Unmarshal(b, &p)
						pats = append(pats, p)
					}
					if err != nil || len(pats) == 0 {
						t.Fatalf("%s answered %s (%v)", mode, b, err)
					}
					for _, p := range pats {
						if p.ID == "" || p.CPMSID == "" || p.Centre != "BE10" {
							t.Errorf("%s answered a patient without its identity: %+v", mode, p)
						}
						seen[p.ID] = true
					}
				}
				srv.Close()
				events, err := st.AuditEvents(ctx, cpms.AuditFilter{Action: "patient." + mode})
				if err != nil {
					t.Fatal(err)
				}
				if len(events)-len(events0) < 5 {
					t.Errorf("%s: %d audit events for 5 requests", mode, len(events)-len(events0))
				}
				if mode == "create" && len(seen) != 5 {
					t.Errorf("create made %d distinct patients in 5 requests", len(seen))
				}
			}
			after, _, err := st.SearchPatients(ctx, cpms.PatientFilter{Centre: "BE10", ERN: "EuroBloodNet", Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != len(before)+5 {
				t.Errorf("%d patients after 5 creates, want %d", len(after), len(before)+5)
			}
			if n, err := cpms.VerifyAudit(ctx, st); err != nil {
				t.Errorf("the audit chain after %d records: %v", n, err)
			}
		})
	}
}
