package cpms_test

import (
	"slices"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/cpms"
)

// enrolment is a valid enrolment of a synthetic patient at BE10 for EuroBloodNet.
func enrolment(last, mrn string) cpms.Enrolment {
	return cpms.Enrolment{ERN: ebn, Centre: "BE10", FirstName: "Roger", LastName: last, Gender: cpms.GenderMale,
		BirthDate: "1976-02-05", Identifiers: []cpms.LocalIdentifier{{System: "1.2.840.999.10", Value: mrn}},
		Consents: []cpms.ConsentAnswer{
			{Kind: cpms.ConsentCare, Given: true, Date: "2026-03-01"},
			{Kind: cpms.ConsentRegistry, Given: true, Date: "2026-03-01", Note: "Amyloidosis registry"},
			{Kind: cpms.ConsentResearch, Given: false, Date: "2026-03-01"},
		}}
}

func fieldsOf(err error) []string {
	de, ok := err.(*cpms.Error)
	if !ok {
		return nil
	}
	var out []string
	for _, f := range de.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestEnrol(t *testing.T) {
	e := newEnv(t)
	e.user("hp", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"})
	e.user("hp2", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"}, cpms.RoleGrant{Role: cpms.RoleHP, ERN: "ITHACA", Centre: "BE10"})
	e.user("coord", cpms.RoleGrant{Role: cpms.RoleCoordinator, ERN: ebn, Centre: "IT10"})
	hp, _ := e.login("hp")

	p, err := e.svc.Enrol(e.ctx, hp, enrolment("Addel", "MRN-1"), noInfo)
	if err != nil {
		t.Fatal(err)
	}
	if p.CPMSID != "ERN-BE10-EuroBloodNet-001" || p.RecordLabel != "Addel, Roger DOB: 05/02/1976 (M)" ||
		p.EnrolledOn != "2026-03-02" || p.EnrolledBy.Username != "hp" || p.Clinician.ID != hp.User.ID || p.Frozen ||
		len(p.Consents) != 3 || p.Identifiers[0].System != "urn:oid:1.2.840.999.10" || p.Identifiers[0].Type != "MR" {
		t.Errorf("enrolled: %+v", p)
	}
	if evs := e.events(cpms.AuditFilter{PatientID: p.ID}); len(evs) != 1 || evs[0].Action != "patient.enrol" || evs[0].Detail != p.CPMSID {
		t.Errorf("audit of the enrolment: %+v", evs)
	}

	// One centre and one ERN: no need to name them.
	en := enrolment("Second", "MRN-2")
	en.ERN, en.Centre = "", ""
	if p2, err := e.svc.Enrol(e.ctx, hp, en, noInfo); err != nil || p2.CPMSID != "ERN-BE10-EuroBloodNet-002" {
		t.Errorf("enrol without ERN and centre: %v %v", p2.CPMSID, err)
	}
	// Two ERNs: the ERN must be chosen.
	hp2, _ := e.login("hp2")
	_, err = e.svc.Enrol(e.ctx, hp2, en, noInfo)
	wantErr(t, err, cpms.KindInvalid, "")
	if !slices.Contains(fieldsOf(err), "ern") {
		t.Errorf("the error names the missing ERN: %v", err)
	}
	en.ERN = "ITHACA"
	if p3, err := e.svc.Enrol(e.ctx, hp2, en, noInfo); err != nil || p3.CPMSID != "ERN-BE10-ITHACA-001" {
		t.Errorf("enrol in the second ERN: %v %v", p3.CPMSID, err)
	}

	// No consent for care, or a "no": no enrolment.
	for name, cs := range map[string][]cpms.ConsentAnswer{
		"none":    nil,
		"refused": {{Kind: cpms.ConsentCare, Given: false, Date: "2026-03-01"}},
	} {
		en := enrolment("Refused-"+name, "MRN-R-"+name)
		en.Consents = cs
		_, err := e.svc.Enrol(e.ctx, hp, en, noInfo)
		wantErr(t, err, cpms.KindInvalid, "")
		if !slices.Contains(fieldsOf(err), "consents.care") {
			t.Errorf("%s: the error does not name the consent for care: %v", name, err)
		}
	}
	// Everything wrong at once is reported at once.
	bad := cpms.Enrolment{ERN: ebn, Centre: "BE10", Gender: "x", BirthDate: "1976-02-30",
		Identifiers: []cpms.LocalIdentifier{{System: "not an oid", Value: ""}},
		Consents: []cpms.ConsentAnswer{{Kind: cpms.ConsentCare, Given: true, Date: "2027-01-01"},
			{Kind: cpms.ConsentRegistry, Given: true, Date: "2026-01-01"}}}
	_, err = e.svc.Enrol(e.ctx, hp, bad, noInfo)
	want := []string{"firstName", "lastName", "gender", "birthDate", "identifiers.system", "identifiers.value",
		"consents.care.date", "consents.registry.note"}
	for _, f := range want {
		if !slices.Contains(fieldsOf(err), f) {
			t.Errorf("invalid enrolment: %q not reported in %v", f, fieldsOf(err))
		}
	}
	// The Ukrainian variant asks only the consent for care.
	uk := enrolment("Ukraine", "MRN-UA")
	uk.Variant = cpms.VariantUkraine
	_, err = e.svc.Enrol(e.ctx, hp, uk, noInfo)
	wantErr(t, err, cpms.KindInvalid, "")
	uk.Consents = uk.Consents[:1]
	if p, err := e.svc.Enrol(e.ctx, hp, uk, noInfo); err != nil || len(p.Consents) != 1 || p.Variant != cpms.VariantUkraine {
		t.Errorf("Ukrainian variant: %+v %v", p, err)
	}
	// The same MRN twice in the ERN.
	_, err = e.svc.Enrol(e.ctx, hp, enrolment("Again", "MRN-1"), noInfo)
	wantErr(t, err, cpms.KindConflict, "duplicate")
	// Not at a centre where the user enrols; a coordinator does not enrol.
	other := enrolment("Elsewhere", "MRN-X")
	other.Centre = "FR08"
	_, err = e.svc.Enrol(e.ctx, hp, other, noInfo)
	if k := cpms.KindOf(err); k != cpms.KindPermission && k != cpms.KindInvalid {
		t.Errorf("enrol at another centre: %v", err)
	}
	coord, _ := e.login("coord")
	_, err = e.svc.Enrol(e.ctx, coord, enrolment("ByCoord", "MRN-C"), noInfo)
	wantErr(t, err, cpms.KindPermission, "")
}

func TestEnrolBySystem(t *testing.T) {
	e := newEnv(t)
	e.user("hp", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"})
	e.user("hpfr", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "FR08"})
	his := &cpms.Principal{System: cpms.SystemHIS, Centre: "BE10", Via: "system-token", TokenID: "tok"}
	en := enrolment("FromHIS", "MRN-H")
	en.Clinician = "hp"
	p, err := e.svc.Enrol(e.ctx, his, en, noInfo)
	if err != nil || p.Clinician.Username != "hp" {
		t.Fatalf("HIS enrolment: %+v %v", p, err)
	}
	en = enrolment("FromHIS2", "MRN-H2")
	en.Clinician = "hpfr"
	_, err = e.svc.Enrol(e.ctx, his, en, noInfo)
	wantErr(t, err, cpms.KindInvalid, "")
	pacs := &cpms.Principal{System: cpms.SystemPACS, Centre: "BE10", Via: "system-token"}
	_, err = e.svc.Enrol(e.ctx, pacs, enrolment("FromPACS", "MRN-P"), noInfo)
	wantErr(t, err, cpms.KindPermission, "")
	// The HIS reads its centre's patients; another centre's HIS does not see them.
	if _, err := e.svc.Patient(e.ctx, his, p.ID, noInfo); err != nil {
		t.Errorf("HIS reads its patient: %v", err)
	}
	hisFR := &cpms.Principal{System: cpms.SystemHIS, Centre: "FR08", Via: "system-token"}
	_, err = e.svc.Patient(e.ctx, hisFR, p.ID, noInfo)
	wantErr(t, err, cpms.KindNotFound, "")
}

func TestPatientTiers(t *testing.T) {
	for _, vis := range []string{cpms.VisibilityCentre, cpms.VisibilityClinician} {
		t.Run(vis, func(t *testing.T) {
			e := newEnv(t, func(c *cpms.Config) { c.PatientVisibility = vis })
			e.user("hp", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"})
			e.user("colleague", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"})
			e.user("other", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BG07"})
			e.user("asst", cpms.RoleGrant{Role: cpms.RoleAssistant, ERN: ebn, Centre: "BE10"})
			e.user("dpo", cpms.RoleGrant{Role: cpms.RoleDataProtection, ERN: ebn, Centre: "BE10"})
			e.user("admin", cpms.RoleGrant{Role: cpms.RoleERNAdmin, ERN: ebn})
			hp, _ := e.login("hp")
			pat, err := e.svc.Enrol(e.ctx, hp, enrolment("Tiered", "MRN-T"), noInfo)
			if err != nil {
				t.Fatal(err)
			}
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(e.svc.AppointAssistant(e.ctx, hp, "asst", noInfo))
			asst, sess := e.login("asst")
			must(e.svc.ActFor(e.ctx, asst, hp.User.ID, noInfo))
			asst = e.session(sess.Cookie)
			colleague, _ := e.login("colleague")
			other, _ := e.login("other")
			dpo, _ := e.login("dpo")

			sees := func(who string, p *cpms.Principal, want bool) {
				t.Helper()
				_, err := e.svc.Patient(e.ctx, p, pat.ID, noInfo)
				if want && err != nil {
					t.Errorf("%s cannot read the patient: %v", who, err)
				}
				if !want && cpms.KindOf(err) != cpms.KindNotFound {
					t.Errorf("%s reads the patient (err %v), want not found", who, err)
				}
				got, _, err := e.svc.SearchPatients(e.ctx, p, cpms.PatientFilter{Family: []string{"tiered"}, Limit: 10}, noInfo)
				if err != nil || (len(got) == 1) != want {
					t.Errorf("%s finds %d patients by name (err %v), want found=%v", who, len(got), err, want)
				}
			}
			sees("the clinician", hp, true)
			sees("the clinician's assistant acting for them", asst, true)
			sees("the colleague", colleague, vis == cpms.VisibilityCentre)
			sees("another centre's clinician", other, false)
			sees("the data-protection officer", dpo, false)

			// The data-protection officer and the ERN admin read who accessed the patient.
			pseudo, events, err := e.svc.PatientAccessLog(e.ctx, dpo, pat.ID, 0, noInfo)
			if err != nil || pseudo.CPMSID != pat.CPMSID || pseudo.AgeYears != 50 || len(events) == 0 {
				t.Fatalf("access log: %+v, %d events, %v", pseudo, len(events), err)
			}
			var actors []string
			for _, ev := range events {
				if ev.PatientID != pat.ID {
					t.Errorf("access log holds an event of another patient: %+v", ev)
				}
				actors = append(actors, ev.Actor+" "+ev.Action)
			}
			if !slices.Contains(actors, "hp patient.read") || !slices.Contains(actors, "hp patient.search") {
				t.Errorf("access log: %v", actors)
			}
			if byCPMS, _, err := e.svc.PatientAccessLog(e.ctx, dpo, pat.CPMSID, 0, noInfo); err != nil || byCPMS.CPMSID != pat.CPMSID {
				t.Errorf("access log by CPMS ID: %+v %v", byCPMS, err)
			}
			admin, _ := e.login("admin")
			if _, _, err := e.svc.PatientAccessLog(e.ctx, admin, pat.ID, 0, noInfo); err != nil {
				t.Errorf("ERN admin reads the access log: %v", err)
			}
			_, _, err = e.svc.PatientAccessLog(e.ctx, colleague, pat.ID, 0, noInfo)
			wantErr(t, err, cpms.KindNotFound, "")
		})
	}
}

func TestAssistantSeesClinicianPatients(t *testing.T) {
	e := newEnv(t, func(c *cpms.Config) { c.PatientVisibility = cpms.VisibilityClinician })
	e.user("hp", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"})
	e.user("asst", cpms.RoleGrant{Role: cpms.RoleAssistant, ERN: ebn, Centre: "BE10"})
	hp, _ := e.login("hp")
	if err := e.svc.AppointAssistant(e.ctx, hp, "asst", noInfo); err != nil {
		t.Fatal(err)
	}
	asst, sess := e.login("asst")
	if _, _, err := e.svc.SearchPatients(e.ctx, asst, cpms.PatientFilter{Limit: 10}, noInfo); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ActFor(e.ctx, asst, hp.User.ID, noInfo); err != nil {
		t.Fatal(err)
	}
	asst = e.session(sess.Cookie)
	// The assistant enrols for the clinician: the patient is the clinician's.
	pat, err := e.svc.Enrol(e.ctx, asst, enrolment("ByAssistant", "MRN-A"), noInfo)
	if err != nil || pat.Clinician.ID != hp.User.ID {
		t.Fatalf("assistant's enrolment: %+v %v", pat.Clinician, err)
	}
	if _, err := e.svc.Patient(e.ctx, hp, pat.ID, noInfo); err != nil {
		t.Errorf("the clinician reads the patient the assistant enrolled: %v", err)
	}
	if _, err := e.svc.Patient(e.ctx, asst, pat.ID, noInfo); err != nil {
		t.Errorf("the assistant reads the clinician's patient: %v", err)
	}
	if evs := e.events(cpms.AuditFilter{PatientID: pat.ID, Action: "patient.enrol"}); len(evs) != 1 || evs[0].OnBehalfOf != "hp" {
		t.Errorf("the enrolment is audited on behalf of the clinician: %+v", evs)
	}
}

func TestConsentWithdrawalFreezes(t *testing.T) {
	e := newEnv(t)
	e.user("hp", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"})
	hp, _ := e.login("hp")
	pat, err := e.svc.Enrol(e.ctx, hp, enrolment("Frozen", "MRN-F"), noInfo)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(24 * time.Hour)
	p2, c, err := e.svc.WithdrawConsent(e.ctx, hp, pat.ID, cpms.ConsentCare, "", noInfo)
	if err != nil || !p2.Frozen || p2.FrozenAt == nil || !c.Withdrawn || c.WithdrawnOn != "2026-03-03" || c.Version != 2 {
		t.Fatalf("withdrawal: frozen %v consent %+v err %v", p2.Frozen, c, err)
	}
	if evs := e.events(cpms.AuditFilter{PatientID: pat.ID, Action: "patient.freeze"}); len(evs) != 1 {
		t.Errorf("freeze audited: %+v", evs)
	}
	// Withdrawing twice: nothing in force to withdraw.
	_, _, err = e.svc.WithdrawConsent(e.ctx, hp, pat.ID, cpms.ConsentCare, "", noInfo)
	wantErr(t, err, cpms.KindConflict, "")
	// A stale version is refused.
	_, _, err = e.svc.SetConsent(e.ctx, hp, pat.ID, cpms.ConsentAnswer{Kind: cpms.ConsentCare, Given: true, Date: "2026-03-03"}, 1, noInfo)
	wantErr(t, err, cpms.KindConflict, cpms.ErrVersionMismatch)
	// Consent given again unfreezes.
	p3, c3, err := e.svc.SetConsent(e.ctx, hp, pat.ID, cpms.ConsentAnswer{Kind: cpms.ConsentCare, Given: true, Date: "2026-03-03"}, 2, noInfo)
	if err != nil || p3.Frozen || c3.Version != 3 || !c3.InForce() {
		t.Fatalf("consent again: %+v %+v %v", p3.Frozen, c3, err)
	}
	hist, err := e.svc.ConsentHistory(e.ctx, hp, c3.ID, noInfo)
	if err != nil || len(hist) != 3 {
		t.Errorf("consent history: %d versions, %v", len(hist), err)
	}
	// Optional consent withdrawal does not freeze.
	p4, _, err := e.svc.WithdrawConsent(e.ctx, hp, pat.ID, cpms.ConsentRegistry, "", noInfo)
	if err != nil || p4.Frozen {
		t.Errorf("registry withdrawal: frozen %v, %v", p4.Frozen, err)
	}
	if ps := cpms.Pseudonymise(p4, e.svc.Now()); ps.RegistryConsent {
		t.Errorf("withdrawn registry consent still shows in the pseudonymised view")
	}
}

func TestUpdateDemographicsAndTransfer(t *testing.T) {
	e := newEnv(t)
	e.user("hp", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"})
	e.user("hpfr", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "FR08"})
	e.user("hpbg", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BG07"})
	hp, _ := e.login("hp")
	pat, err := e.svc.Enrol(e.ctx, hp, enrolment("Moving", "MRN-M"), noInfo)
	if err != nil {
		t.Fatal(err)
	}
	d := cpms.Demographics{FirstName: "Rogier", LastName: "Moving", Gender: cpms.GenderMale, BirthDate: "1976-02-05",
		Identifiers: pat.Identifiers}
	up, err := e.svc.UpdateDemographics(e.ctx, hp, pat.ID, d, 1, noInfo)
	if err != nil || up.Version != 2 || up.RecordLabel != "Moving, Rogier DOB: 05/02/1976 (M)" {
		t.Fatalf("update: %+v %v", up, err)
	}
	_, err = e.svc.UpdateDemographics(e.ctx, hp, pat.ID, d, 1, noInfo)
	wantErr(t, err, cpms.KindConflict, cpms.ErrVersionMismatch)
	hist, err := e.svc.PatientHistory(e.ctx, hp, pat.ID, noInfo)
	if err != nil || len(hist) != 2 || hist[0].FirstName != "Roger" {
		t.Errorf("history: %v %v", hist, err)
	}

	tr, err := e.svc.RequestTransfer(e.ctx, hp, pat.ID, "FR08", "moving to Paris", noInfo)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.RequestTransfer(e.ctx, hp, pat.ID, "BG07", "", noInfo)
	wantErr(t, err, cpms.KindConflict, "")
	hpbg, _ := e.login("hpbg")
	_, err = e.svc.DecideTransfer(e.ctx, hpbg, tr.ID, true, "", noInfo)
	wantErr(t, err, cpms.KindPermission, "")
	hpfr, _ := e.login("hpfr")
	list, err := e.svc.Transfers(e.ctx, hpfr, "", cpms.TransferPending)
	if err != nil || len(list) != 1 {
		t.Fatalf("pending transfers for FR08: %v %v", list, err)
	}
	if _, err := e.svc.Patient(e.ctx, hpfr, pat.ID, noInfo); cpms.KindOf(err) != cpms.KindNotFound {
		t.Errorf("before acceptance the receiving centre does not see the patient: %v", err)
	}
	done, err := e.svc.DecideTransfer(e.ctx, hpfr, tr.ID, true, "welcome", noInfo)
	if err != nil || done.Status != cpms.TransferAccepted {
		t.Fatalf("accept: %+v %v", done, err)
	}
	moved, err := e.svc.Patient(e.ctx, hpfr, pat.ID, noInfo)
	if err != nil || moved.Centre != "FR08" || moved.Clinician.Username != "hpfr" || moved.CPMSID != pat.CPMSID {
		t.Errorf("after the transfer: %+v %v", moved, err)
	}
	if _, err := e.svc.Patient(e.ctx, hp, pat.ID, noInfo); cpms.KindOf(err) != cpms.KindNotFound {
		t.Errorf("after the transfer the old centre still sees the patient: %v", err)
	}
	if evs := e.events(cpms.AuditFilter{PatientID: pat.ID, Action: "patient.transfer.accepted"}); len(evs) != 1 {
		t.Errorf("transfer acceptance audited: %+v", evs)
	}
}

func TestPseudonymise(t *testing.T) {
	p := cpms.Patient{CPMSID: "ERN-BE10-EuroBloodNet-013", ERN: ebn, Centre: "BE10", FirstName: "Roger", LastName: "Addel",
		Gender: cpms.GenderMale, BirthDate: "1976-02-05", Identifiers: []cpms.LocalIdentifier{{System: "urn:oid:1.2", Value: "MRN"}},
		Consents: []cpms.Consent{{Kind: cpms.ConsentRegistry, Given: true}}}
	for _, tc := range []struct {
		at  string
		age int
	}{{"2026-02-04", 49}, {"2026-02-05", 50}, {"2027-01-01", 50}} {
		at, _ := time.Parse(time.DateOnly, tc.at)
		ps := cpms.Pseudonymise(p, at)
		if ps.AgeYears != tc.age || ps.CPMSID != p.CPMSID || !ps.RegistryConsent || ps.Gender != cpms.GenderMale {
			t.Errorf("at %s: %+v", tc.at, ps)
		}
	}
}

func TestCPMSIDAndLabel(t *testing.T) {
	if got := cpms.CPMSID("BE10", "EuroBloodNet", 13); got != "ERN-BE10-EuroBloodNet-013" {
		t.Errorf("CPMSID = %q", got)
	}
	if got := cpms.CPMSID("BE10", "EuroBloodNet", 1234); got != "ERN-BE10-EuroBloodNet-1234" {
		t.Errorf("CPMSID past 999 = %q", got)
	}
	c, ern, n, ok := cpms.ParseCPMSID("ERN-BE10-EuroBloodNet-013")
	if !ok || c != "BE10" || ern != "EuroBloodNet" || n != 13 {
		t.Errorf("ParseCPMSID = %q %q %d %v", c, ern, n, ok)
	}
	if _, _, _, ok := cpms.ParseCPMSID("ERN-BE10-EuroBloodNet-000"); ok {
		t.Error("number 000 parsed")
	}
	if got := cpms.RecordLabel("Addel", "Roger", "1976-02-05", cpms.GenderMale); got != "Addel, Roger DOB: 05/02/1976 (M)" {
		t.Errorf("RecordLabel = %q", got)
	}
	for in, want := range map[string]string{"Müller": "muller", "ØSTERGAARD": "ostergaard", "Straße": "strasse", " Zoé ": "zoe"} {
		if got := cpms.NormalizeName(in); got != want {
			t.Errorf("NormalizeName(%q) = %q, want %q", in, got, want)
		}
	}
}
