package cpmshttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/cpms/cpmshttp"
	"github.com/ern-cpms/cpms/cpms/cpmstest"
	"github.com/ern-cpms/cpms/internal/sqldb/sqldbtest"
)

// newPatientsAPI builds the API on the real SQLite store with the demo network in demo mode
// (the demo clinicians sign in with their password alone), plus a data-protection officer at
// BE10 and one at BG07.
func newPatientsAPI(t *testing.T) (*cpms.Service, http.Handler) {
	t.Helper()
	ctx := context.Background()
	svc, _ := cpmstest.DemoService(t, sqldbtest.OpenSQLite(t), cpms.Config{Demo: true})
	op := cpmstest.Operator
	for _, u := range []struct{ name, centre string }{{"bloodnetdpo", "BE10"}, {"dpobg07", "BG07"}} {
		if _, err := svc.UserByUsername(ctx, u.name); err == nil {
			continue
		}
		_, _, err := svc.CreateUser(ctx, op, cpms.NewUser{Username: u.name, DisplayName: "Data Protection " + u.centre,
			Email: u.name + "@demo.invalid", Password: testPassword,
			Roles: []cpms.RoleGrant{{Role: cpms.RoleDataProtection, ERN: "EuroBloodNet", Centre: u.centre}}}, cpms.RequestInfo{})
		if err != nil {
			t.Fatal(err)
		}
	}
	authn := &cpmshttp.Authenticator{Service: svc}
	api, err := cpmshttp.New(cpmshttp.Config{Service: svc, Auth: authn})
	if err != nil {
		t.Fatal(err)
	}
	return svc, cpmshttp.Observe(slogDiscard(), nil, authn.Wrap(api))
}

const testPassword = "a long enough test passphrase"

// signIn opens a session for a user, with the demo password or testPassword.
func signIn(t *testing.T, h http.Handler, username string) *client {
	t.Helper()
	c := &client{t: t, h: h}
	if rec := c.login(username, cpms.DemoPassword); rec.Code == http.StatusOK {
		return c
	}
	if rec := c.login(username, testPassword); rec.Code != http.StatusOK {
		t.Fatalf("sign in as %s: %d %s", username, rec.Code, rec.Body)
	}
	return c
}

// call sends a request of the session (with its anti-forgery token) and decodes a 2xx answer
// into out; any other status than want fails the test.
func (c *client) call(method, path string, body any, want int, out any) *httptest.ResponseRecorder {
	c.t.Helper()
	rec := c.do(method, path, body, "X-CSRF-Token", c.csrf)
	if rec.Code != want {
		c.t.Fatalf("%s %s: %d, want %d: %s", method, path, rec.Code, want, rec.Body)
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			c.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return rec
}

// fail sends a request that must be refused with status (and code, unless empty).
func (c *client) fail(method, path string, body any, status int, code string) cpmshttp.Problem {
	c.t.Helper()
	rec := c.do(method, path, body, "X-CSRF-Token", c.csrf)
	problem(c.t, rec, status, code)
	var p cpmshttp.Problem
	json.Unmarshal(rec.Body.Bytes(), &p)
	return p
}

type patientOut struct {
	ID          string                 `json:"id"`
	CPMSID      string                 `json:"cpmsId"`
	ERN         string                 `json:"ern"`
	Centre      string                 `json:"centre"`
	CentreName  string                 `json:"centreName"`
	FirstName   string                 `json:"firstName"`
	LastName    string                 `json:"lastName"`
	RecordLabel string                 `json:"recordLabel"`
	BirthDate   string                 `json:"birthDate"`
	Identifiers []cpms.LocalIdentifier `json:"identifiers"`
	EnrolledBy  cpms.UserRef           `json:"enrolledBy"`
	Clinician   cpms.UserRef           `json:"clinician"`
	Consents    []cpms.Consent         `json:"consents"`
	Frozen      bool                   `json:"frozen"`
	FrozenAt    *string                `json:"frozenAt"`
	Version     int                    `json:"version"`
}

func (p patientOut) consent(k cpms.ConsentKind) cpms.Consent {
	for _, c := range p.Consents {
		if c.Kind == k {
			return c
		}
	}
	return cpms.Consent{}
}

type rowOut struct {
	ID              string `json:"id"`
	CPMSID          string `json:"cpmsId"`
	LastName        string `json:"lastName"`
	FirstName       string `json:"firstName"`
	RecordLabel     string `json:"recordLabel"`
	EnrolledOn      string `json:"enrolledOn"`
	Gender          string `json:"gender"`
	Frozen          bool   `json:"frozen"`
	BirthDate       string `json:"birthDate"`
	Consent         string `json:"consent"`
	ConsentResearch string `json:"consentResearch"`
	Centre          string `json:"centre"`
	ERN             string `json:"ern"`
}

type pageOut struct {
	Items []rowOut `json:"items"`
	Total int      `json:"total"`
}

// enrolment is a valid enrolment body of a synthetic patient with every consent given.
func enrolment(svc *cpms.Service, last, first, mrn string) map[string]any {
	today := string(cpms.DateOf(svc.Now()))
	return map[string]any{
		"firstName": first, "lastName": last, "gender": "female", "birthDate": "1976-02-05",
		"identifiers":    []map[string]string{{"system": "1.2.3.4.5", "value": mrn}},
		"consentVariant": "standard",
		"consents": []map[string]any{
			{"kind": "care", "given": true, "date": today},
			{"kind": "registry", "given": true, "date": today, "note": "OK"},
			{"kind": "research-contact", "given": false, "date": today},
		},
	}
}

func (c *client) enrol(body map[string]any) patientOut {
	c.t.Helper()
	var p patientOut
	c.call("POST", "/api/patients", body, http.StatusCreated, &p)
	return p
}

func (c *client) search(query string) pageOut {
	c.t.Helper()
	var pg pageOut
	c.call("GET", "/api/patients?"+query, nil, http.StatusOK, &pg)
	return pg
}

func fieldMessages(p cpmshttp.Problem) map[string]string {
	out := map[string]string{}
	for _, f := range p.Errors {
		out[f.Field] = f.Msg
	}
	return out
}

var cpmsIDRE = regexp.MustCompile(`^ERN-BE10-EuroBloodNet-[0-9]{3,}$`)

func TestEnrolRefusedWithoutCareConsent(t *testing.T) {
	svc, h := newPatientsAPI(t)
	hp1 := signIn(t, h, "bloodnethpuser1")

	var targets []map[string]string
	hp1.call("GET", "/api/enrol-targets", nil, 200, &targets)
	if len(targets) != 1 || targets[0]["ern"] != "EuroBloodNet" || targets[0]["centre"] != "BE10" ||
		targets[0]["centreName"] != "University Hospital Leuven" || targets[0]["ernName"] == "" {
		t.Fatalf("enrol targets = %v", targets)
	}

	body := enrolment(svc, "Nocare", "Nina", "MRN-1")
	body["consents"] = []map[string]any{{"kind": "care", "given": false, "date": string(cpms.DateOf(svc.Now()))}}
	p := hp1.fail("POST", "/api/patients", body, 400, "invalid")
	if msg := fieldMessages(p)["consents.care"]; !strings.Contains(msg, "consent for care is required") {
		t.Errorf("the refusal does not say why: %+v", p.Errors)
	}
	body["consents"] = []map[string]any{}
	if msg := fieldMessages(hp1.fail("POST", "/api/patients", body, 400, "invalid"))["consents.care"]; msg == "" {
		t.Error("no care consent at all is not refused on consents.care")
	}

	// Every problem at once, named by field, and no patient data echoed.
	bad := enrolment(svc, "", "Nina", "MRN-1")
	bad["birthDate"] = "05/02/1976"
	bad["gender"] = "x"
	bad["consents"] = []map[string]any{{"kind": "care", "given": true, "date": "2999-01-01"},
		{"kind": "registry", "given": true, "date": string(cpms.DateOf(svc.Now()))}}
	p = hp1.fail("POST", "/api/patients", bad, 400, "invalid")
	fields := fieldMessages(p)
	for _, f := range []string{"lastName", "birthDate", "gender", "consents.care.date", "consents.registry.note"} {
		if fields[f] == "" {
			t.Errorf("no error for %s: %+v", f, p.Errors)
		}
	}
	// A Ukrainian patient gives the consent for care only.
	ua := enrolment(svc, "Kovalenko", "Olena", "MRN-2")
	ua["consentVariant"] = "ukraine"
	if fields := fieldMessages(hp1.fail("POST", "/api/patients", ua, 400, "invalid")); fields["consents.registry"] == "" {
		t.Errorf("registry consent of a Ukrainian patient accepted: %v", fields)
	}
	ua["consents"] = ua["consents"].([]map[string]any)[:1]
	if got := hp1.enrol(ua); len(got.Consents) != 1 || !cpmsIDRE.MatchString(got.CPMSID) {
		t.Errorf("Ukrainian patient = %+v", got)
	}
	// An unknown field is refused rather than ignored.
	ua["nickname"] = "x"
	hp1.fail("POST", "/api/patients", ua, 400, "")
}

func TestEnrolSearchSortAndPage(t *testing.T) {
	svc, h := newPatientsAPI(t)
	hp1 := signIn(t, h, "bloodnethpuser1")

	rec := hp1.call("POST", "/api/patients", enrolment(svc, "Qzbrown", "Anna", "MRN-10"), 201, nil)
	var a patientOut
	json.Unmarshal(rec.Body.Bytes(), &a)
	if loc := rec.Header().Get("Location"); loc != "/api/patients/"+a.ID {
		t.Errorf("Location = %q", loc)
	}
	if !cpmsIDRE.MatchString(a.CPMSID) || a.ERN != "EuroBloodNet" || a.Centre != "BE10" || a.CentreName == "" {
		t.Errorf("enrolled %+v", a)
	}
	if a.RecordLabel != "Qzbrown, Anna DOB: 05/02/1976 (F)" {
		t.Errorf("record label = %q", a.RecordLabel)
	}
	if a.EnrolledBy.Username != "bloodnethpuser1" || a.Clinician.Username != "bloodnethpuser1" || a.Frozen || a.Version != 1 {
		t.Errorf("enrolled %+v", a)
	}
	if len(a.Identifiers) != 1 || a.Identifiers[0].System != "urn:oid:1.2.3.4.5" || a.Identifiers[0].Type != "MR" {
		t.Errorf("identifiers = %+v", a.Identifiers)
	}
	b := hp1.enrol(enrolment(svc, "Qzadams", "Bert", "MRN-11"))
	c := hp1.enrol(enrolment(svc, "Qzcole", "Carl", "MRN-12"))
	_, _, seqA, _ := cpms.ParseCPMSID(a.CPMSID)
	_, _, seqC, _ := cpms.ParseCPMSID(c.CPMSID)
	if seqC != seqA+2 {
		t.Errorf("CPMS IDs %s … %s are not consecutive", a.CPMSID, c.CPMSID)
	}
	// A local identifier is held by one patient of the ERN.
	hp1.fail("POST", "/api/patients", enrolment(svc, "Qzdup", "Dora", "MRN-10"), 409, "duplicate")

	pg := hp1.search("q=qzbro")
	if pg.Total != 1 || len(pg.Items) != 1 {
		t.Fatalf("search by name: %+v", pg)
	}
	row := pg.Items[0]
	want := rowOut{ID: a.ID, CPMSID: a.CPMSID, LastName: "Qzbrown", FirstName: "Anna", RecordLabel: a.RecordLabel,
		EnrolledOn: string(cpms.DateOf(svc.Now())), Gender: "female", BirthDate: "1976-02-05", Consent: "yes",
		ConsentResearch: "yes", Centre: "BE10", ERN: "EuroBloodNet"}
	if row != want {
		t.Errorf("row = %+v\nwant  %+v", row, want)
	}
	if pg := hp1.search("q=" + b.CPMSID); pg.Total != 1 || pg.Items[0].ID != b.ID {
		t.Errorf("search by CPMS ID: %+v", pg)
	}

	names := func(pg pageOut) []string {
		var out []string
		for _, r := range pg.Items {
			out = append(out, r.LastName)
		}
		return out
	}
	if got := names(hp1.search("q=qz&sort=lastName")); !slices.Equal(got, []string{"Qzadams", "Qzbrown", "Qzcole"}) {
		t.Errorf("sorted by last name: %v", got)
	}
	if got := names(hp1.search("q=qz&sort=lastName&desc=true")); !slices.Equal(got, []string{"Qzcole", "Qzbrown", "Qzadams"}) {
		t.Errorf("sorted by last name, descending: %v", got)
	}
	p1, p2 := hp1.search("q=qz&sort=cpmsId&limit=2"), hp1.search("q=qz&sort=cpmsId&limit=2&offset=2")
	if p1.Total != 3 || p2.Total != 3 || !slices.Equal(append(names(p1), names(p2)...), []string{"Qzbrown", "Qzadams", "Qzcole"}) {
		t.Errorf("pages: %+v %+v", p1, p2)
	}
	if pg := hp1.search("centre=BE10&ern=EuroBloodNet&limit=100"); pg.Total < 3 || len(pg.Items) != min(pg.Total, 100) {
		t.Errorf("the centre's list: total %d, %d rows", pg.Total, len(pg.Items))
	}
	if pg := hp1.search("centre=BG07"); pg.Total != 0 {
		t.Errorf("another centre's list shows %d patients", pg.Total)
	}
	for _, q := range []string{"limit=101", "limit=-1", "offset=x", "sort=nickname", "desc=maybe"} {
		hp1.fail("GET", "/api/patients?"+q, nil, 400, "invalid")
	}
}

// The centre tier: another centre's clinician, and the data-protection officer, get "not found"
// for everything about the patient, and do not find it by search.
func TestPatientNotFoundOutsideTier(t *testing.T) {
	svc, h := newPatientsAPI(t)
	hp1 := signIn(t, h, "bloodnethpuser1")
	p := hp1.enrol(enrolment(svc, "Hiddenname", "Hanna", "MRN-20"))

	for _, who := range []string{"bloodnethpuser2", "bloodnetdpo", "bloodnetcoord"} {
		c := signIn(t, h, who)
		today := string(cpms.DateOf(svc.Now()))
		for _, r := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/patients/" + p.ID, nil},
			{"PUT", "/api/patients/" + p.ID, map[string]any{"firstName": "X", "lastName": "Y", "gender": "male", "birthDate": "1970-01-01", "version": 1}},
			{"GET", "/api/patients/" + p.ID + "/history", nil},
			{"GET", "/api/patients/" + p.ID + "/consent-history", nil},
			{"PUT", "/api/patients/" + p.ID + "/consents/care", map[string]any{"given": true, "date": today}},
			{"POST", "/api/patients/" + p.ID + "/consents/care/withdraw", map[string]any{}},
			{"POST", "/api/patients/" + p.ID + "/transfers", map[string]any{"toCentre": "BG07"}},
			{"GET", "/api/transfers?patient=" + p.ID, nil},
			{"GET", "/api/patients/no-such-patient", nil},
		} {
			rec := c.do(r.method, r.path, r.body, "X-CSRF-Token", c.csrf)
			problem(t, rec, 404, "")
			if strings.Contains(rec.Body.String(), "Hiddenname") || strings.Contains(rec.Body.String(), p.CPMSID) {
				t.Errorf("%s: %s %s tells about the patient: %s", who, r.method, r.path, rec.Body)
			}
		}
		if pg := c.search("q=hiddenname"); pg.Total != 0 || len(pg.Items) != 0 {
			t.Errorf("%s finds the patient by name: %+v", who, pg)
		}
		if pg := c.search("q=" + p.CPMSID); pg.Total != 0 {
			t.Errorf("%s finds the patient by CPMS ID: %+v", who, pg)
		}
		c.fail("GET", "/api/centres/BE10/dashboard", nil, 404, "")
	}
	// Still there for its centre.
	hp1.call("GET", "/api/patients/"+p.ID, nil, 200, nil)
}

func TestDemographicsVersionAndHistory(t *testing.T) {
	svc, h := newPatientsAPI(t)
	hp1 := signIn(t, h, "bloodnethpuser1")
	p := hp1.enrol(enrolment(svc, "Oldname", "Olga", "MRN-30"))

	change := map[string]any{"firstName": "Olga", "lastName": "Newname", "gender": "female", "birthDate": "1976-02-06",
		"identifiers": []map[string]string{{"system": "urn:oid:1.2.3.4.5", "value": "MRN-31"}}, "version": p.Version}
	var got patientOut
	hp1.call("PUT", "/api/patients/"+p.ID, change, 200, &got)
	if got.LastName != "Newname" || got.Version != p.Version+1 || got.RecordLabel != "Newname, Olga DOB: 06/02/1976 (F)" ||
		got.CPMSID != p.CPMSID || len(got.Identifiers) != 1 || got.Identifiers[0].Value != "MRN-31" {
		t.Errorf("after the change: %+v", got)
	}
	// The same change on the old version is a conflict; without a version it is refused.
	hp1.fail("PUT", "/api/patients/"+p.ID, change, 409, "version_mismatch")
	delete(change, "version")
	hp1.fail("PUT", "/api/patients/"+p.ID, change, 400, "invalid")
	change["version"], change["birthDate"] = got.Version, "tomorrow"
	if f := fieldMessages(hp1.fail("PUT", "/api/patients/"+p.ID, change, 400, "invalid")); f["birthDate"] == "" {
		t.Errorf("a bad birth date is not named: %v", f)
	}

	var history []patientOut
	hp1.call("GET", "/api/patients/"+p.ID+"/history", nil, 200, &history)
	if len(history) != 2 || history[0].LastName != "Oldname" || history[1].LastName != "Newname" ||
		history[0].Version != 1 || history[1].Version != 2 {
		t.Errorf("history = %+v", history)
	}
	if history[0].Consents == nil || history[0].Identifiers == nil {
		t.Error("history lists come back as null")
	}
}

func TestConsentWithdrawalFreezes(t *testing.T) {
	svc, h := newPatientsAPI(t)
	hp1 := signIn(t, h, "bloodnethpuser1")
	p := hp1.enrol(enrolment(svc, "Frostova", "Fanny", "MRN-40"))
	base := "/api/patients/" + p.ID + "/consents/"
	today := string(cpms.DateOf(svc.Now()))

	var got patientOut
	hp1.call("POST", base+"registry/withdraw", nil, 200, &got)
	if got.Frozen || !got.consent(cpms.ConsentRegistry).Withdrawn || got.consent(cpms.ConsentRegistry).WithdrawnOn != cpms.Date(today) {
		t.Errorf("after withdrawing the registry consent: %+v", got)
	}
	if pg := hp1.search("q=frostova"); pg.Items[0].ConsentResearch != "withdrawn" || pg.Items[0].Frozen {
		t.Errorf("list after withdrawing the registry consent: %+v", pg.Items)
	}
	hp1.call("POST", base+"care/withdraw", map[string]any{"date": today}, 200, &got)
	if !got.Frozen || got.FrozenAt == nil || !got.consent(cpms.ConsentCare).Withdrawn {
		t.Errorf("withdrawing the consent for care does not freeze: %+v", got)
	}
	if pg := hp1.search("q=frostova"); !pg.Items[0].Frozen || pg.Items[0].Consent != "withdrawn" {
		t.Errorf("list after the withdrawal: %+v", pg.Items)
	}
	hp1.fail("POST", base+"care/withdraw", nil, 409, "")
	hp1.fail("POST", base+"nothing/withdraw", nil, 400, "invalid")

	// A yes without its note is refused on the note; given again, the consent for care unfreezes.
	if f := fieldMessages(hp1.fail("PUT", base+"research-contact", map[string]any{"given": true, "date": today}, 400, "invalid")); f["consents.research-contact.note"] == "" {
		t.Errorf("missing note: %v", f)
	}
	hp1.fail("PUT", base+"nothing", map[string]any{"given": true, "date": today}, 400, "invalid")
	care := got.consent(cpms.ConsentCare)
	hp1.fail("PUT", base+"care", map[string]any{"given": true, "date": today, "version": care.Version + 5}, 409, "version_mismatch")
	hp1.call("PUT", base+"care", map[string]any{"given": true, "date": today, "version": care.Version}, 200, &got)
	if got.Frozen || !got.consent(cpms.ConsentCare).InForce() {
		t.Errorf("the consent for care given again: %+v", got)
	}
	hp1.call("PUT", base+"research-contact", map[string]any{"given": true, "date": today, "note": "OK"}, 200, &got)
	if c := got.consent(cpms.ConsentResearch); !c.Given || c.Note != "OK" {
		t.Errorf("research-contact = %+v", c)
	}
	// Every answer is kept: 3 at enrolment, 2 withdrawals, care again, research contact changed.
	var hist []cpms.Consent
	hp1.call("GET", "/api/patients/"+p.ID+"/consent-history", nil, 200, &hist)
	var seen []string
	for _, c := range hist {
		seen = append(seen, fmt.Sprintf("%s v%d %s", c.Kind, c.Version, c.Status()))
	}
	want := []string{"care v1 yes", "registry v1 yes", "research-contact v1 no", "registry v2 withdrawn",
		"care v2 withdrawn", "care v3 yes", "research-contact v2 yes"}
	if strings.Join(seen, ", ") != strings.Join(want, ", ") {
		t.Errorf("consent history:\n got %v\nwant %v", seen, want)
	}
}

// An assistant acting for a clinician enrols in the clinician's name; the patient's audit trail
// shows on whose behalf.
func TestAssistantEnrolsOnBehalf(t *testing.T) {
	svc, h := newPatientsAPI(t)
	asst := signIn(t, h, "bloodnetassistant")
	var targets []any
	asst.call("GET", "/api/enrol-targets", nil, 200, &targets)
	if len(targets) != 0 {
		t.Errorf("an assistant acting as self may enrol at %v", targets)
	}
	asst.fail("POST", "/api/patients", enrolment(svc, "Behalfson", "Ben", "MRN-50"), 403, "")
	if pg := asst.search(""); pg.Total != 0 {
		t.Errorf("an assistant acting as self sees %d patients", pg.Total)
	}

	clinician, err := svc.UserByUsername(context.Background(), "bloodnethpuser1")
	if err != nil {
		t.Fatal(err)
	}
	asst.call("POST", "/api/account/act-for", map[string]string{"clinicianId": clinician.ID}, 204, nil)
	asst.call("GET", "/api/enrol-targets", nil, 200, &targets)
	if len(targets) != 1 {
		t.Errorf("acting for the clinician, the targets are %v", targets)
	}
	p := asst.enrol(enrolment(svc, "Behalfson", "Ben", "MRN-50"))
	if p.EnrolledBy.Username != "bloodnethpuser1" || p.Clinician.Username != "bloodnethpuser1" {
		t.Errorf("enrolled by %+v, clinician %+v", p.EnrolledBy, p.Clinician)
	}
	if pg := asst.search("q=behalfson"); pg.Total != 1 {
		t.Errorf("the assistant does not find the patient: %+v", pg)
	}
	asst.call("GET", "/api/centres/BE10/dashboard", nil, 200, nil)
	hp1 := signIn(t, h, "bloodnethpuser1")
	hp1.call("GET", "/api/patients/"+p.ID, nil, 200, nil)

	var log struct {
		Events []cpms.AuditEvent `json:"events"`
	}
	signIn(t, h, "bloodnetdpo").call("GET", "/api/patients/"+p.ID+"/access-log", nil, 200, &log)
	i := slices.IndexFunc(log.Events, func(e cpms.AuditEvent) bool { return e.Action == "patient.enrol" })
	if i < 0 || log.Events[i].Actor != "bloodnetassistant" || log.Events[i].OnBehalfOf != "bloodnethpuser1" {
		t.Errorf("the enrolment in the access log: %+v", log.Events)
	}
}

func TestAccessLog(t *testing.T) {
	svc, h := newPatientsAPI(t)
	hp1 := signIn(t, h, "bloodnethpuser1")
	p := hp1.enrol(enrolment(svc, "Auditova", "Alma", "MRN-60"))
	hp1.call("GET", "/api/patients/"+p.ID, nil, 200, nil)
	path := "/api/patients/" + p.ID + "/access-log"

	for _, who := range []string{"bloodnetdpo", "bloodnetadmin"} {
		rec := signIn(t, h, who).call("GET", path, nil, 200, nil)
		var log struct {
			Patient cpms.PseudonymousPatient `json:"patient"`
			Events  []cpms.AuditEvent        `json:"events"`
		}
		json.Unmarshal(rec.Body.Bytes(), &log)
		if log.Patient.CPMSID != p.CPMSID || log.Patient.Gender != cpms.GenderFemale || log.Patient.AgeYears < 40 || log.Patient.Centre != "BE10" {
			t.Errorf("%s: patient = %+v", who, log.Patient)
		}
		for _, secret := range []string{"Auditova", "Alma", "1976-02-05", "MRN-60"} {
			if strings.Contains(rec.Body.String(), secret) {
				t.Errorf("%s: the access log shows %q", who, secret)
			}
		}
		var actions []string
		for _, e := range log.Events {
			if e.PatientID != p.ID {
				t.Errorf("%s: an event of another patient: %+v", who, e)
			}
			if e.Actor == "bloodnethpuser1" {
				actions = append(actions, e.Action)
			}
		}
		if !slices.Contains(actions, "patient.enrol") || !slices.Contains(actions, "patient.read") {
			t.Errorf("%s: the clinician's actions in the log: %v", who, actions)
		}
	}
	// Not for the clinician, nor for the officer of another centre; not for a malformed limit.
	hp1.fail("GET", path, nil, 404, "")
	signIn(t, h, "dpobg07").fail("GET", path, nil, 404, "")
	signIn(t, h, "bloodnetdpo").fail("GET", path+"?limit=0", nil, 400, "invalid")
}

func TestTransferAcceptedMovesThePatient(t *testing.T) {
	svc, h := newPatientsAPI(t)
	hp1 := signIn(t, h, "bloodnethpuser1")
	hp2 := signIn(t, h, "bloodnethpuser2")
	hp3 := signIn(t, h, "bloodnethpuser3")
	p := hp1.enrol(enrolment(svc, "Movera", "Mia", "MRN-70"))
	stay := hp1.enrol(enrolment(svc, "Stayer", "Sam", "MRN-71"))

	tpath := "/api/patients/" + p.ID + "/transfers"
	if f := fieldMessages(hp1.fail("POST", tpath, map[string]any{"toCentre": "BE10"}, 400, "invalid")); f["toCentre"] == "" {
		t.Errorf("a transfer to the same centre: %v", f)
	}
	hp1.fail("POST", tpath, map[string]any{"toCentre": "ZZ99"}, 400, "")
	var tr cpms.Transfer
	hp1.call("POST", tpath, map[string]any{"toCentre": "BG07", "comment": "closer to home"}, 201, &tr)
	if tr.Status != cpms.TransferPending || tr.FromCentre != "BE10" || tr.ToCentre != "BG07" || tr.CPMSID != p.CPMSID ||
		tr.RequestedBy.Username != "bloodnethpuser1" {
		t.Errorf("transfer = %+v", tr)
	}
	hp1.fail("POST", tpath, map[string]any{"toCentre": "CY01"}, 409, "")

	var pending []cpms.Transfer
	rec := hp2.call("GET", "/api/transfers?status=pending", nil, 200, &pending)
	if len(pending) != 1 || pending[0].ID != tr.ID {
		t.Fatalf("pending at BG07: %+v", pending)
	}
	if strings.Contains(rec.Body.String(), "Movera") {
		t.Error("the transfer list names the patient")
	}
	var mine []cpms.Transfer
	hp1.call("GET", "/api/transfers?patient="+p.ID, nil, 200, &mine)
	if len(mine) != 1 || mine[0].ID != tr.ID {
		t.Errorf("the patient's transfers: %+v", mine)
	}
	hp1.fail("GET", "/api/transfers?status=maybe", nil, 400, "invalid")
	// Before the decision BG07 does not see the patient; CY01 may not decide.
	hp2.fail("GET", "/api/patients/"+p.ID, nil, 404, "")
	hp3.fail("POST", "/api/transfers/"+tr.ID+"/accept", map[string]any{}, 403, "")
	hp1.fail("POST", "/api/transfers/"+tr.ID+"/accept", nil, 403, "")
	hp2.fail("POST", "/api/transfers/no-such-transfer/accept", nil, 404, "")

	var decided cpms.Transfer
	hp2.call("POST", "/api/transfers/"+tr.ID+"/accept", map[string]any{"comment": "welcome"}, 200, &decided)
	if decided.Status != cpms.TransferAccepted || decided.DecidedBy == nil || decided.DecidedBy.Username != "bloodnethpuser2" ||
		decided.DecisionComment != "welcome" {
		t.Errorf("decided = %+v", decided)
	}
	var moved patientOut
	hp2.call("GET", "/api/patients/"+p.ID, nil, 200, &moved)
	if moved.Centre != "BG07" || moved.Clinician.Username != "bloodnethpuser2" || moved.CPMSID != p.CPMSID {
		t.Errorf("after the transfer: %+v", moved)
	}
	hp1.fail("GET", "/api/patients/"+p.ID, nil, 404, "")
	if pg := hp2.search("q=movera"); pg.Total != 1 || pg.Items[0].Centre != "BG07" {
		t.Errorf("BG07's list: %+v", pg)
	}
	hp2.fail("POST", "/api/transfers/"+tr.ID+"/refuse", nil, 409, "")

	// A refused transfer leaves the patient where it was.
	hp1.call("POST", "/api/patients/"+stay.ID+"/transfers", map[string]any{"toCentre": "BG07"}, 201, &tr)
	hp2.call("POST", "/api/transfers/"+tr.ID+"/refuse", nil, 200, &decided)
	if decided.Status != cpms.TransferRefused {
		t.Errorf("refused = %+v", decided)
	}
	hp1.call("GET", "/api/patients/"+stay.ID, nil, 200, &moved)
	if moved.Centre != "BE10" {
		t.Errorf("a refused transfer moved the patient to %s", moved.Centre)
	}
}

func TestCentreDashboard(t *testing.T) {
	svc, h := newPatientsAPI(t)
	hp1 := signIn(t, h, "bloodnethpuser1")
	var before struct {
		PatientCount int `json:"patientCount"`
	}
	hp1.call("GET", "/api/centres/BE10/dashboard", nil, 200, &before)
	a := hp1.enrol(enrolment(svc, "Dashone", "Dina", "MRN-80"))
	b := hp1.enrol(enrolment(svc, "Dashtwo", "Dan", "MRN-81"))
	hp1.call("PUT", "/api/patients/"+a.ID, map[string]any{"firstName": "Dina", "lastName": "Dashone", "gender": "female",
		"birthDate": "1976-02-05", "version": a.Version}, 200, nil)

	var d struct {
		Centre       map[string]string `json:"centre"`
		PatientCount int               `json:"patientCount"`
		Recent       []rowOut          `json:"recent"`
	}
	hp1.call("GET", "/api/centres/BE10/dashboard", nil, 200, &d)
	if d.Centre["code"] != "BE10" || d.Centre["name"] != "University Hospital Leuven" || d.PatientCount != before.PatientCount+2 {
		t.Errorf("dashboard: %+v (count before %d)", d, before.PatientCount)
	}
	if len(d.Recent) < 2 || len(d.Recent) > 10 || d.Recent[0].ID != a.ID || d.Recent[1].ID != b.ID {
		t.Errorf("recent activity: %+v", d.Recent)
	}
	hp1.call("GET", "/api/centres/BE10/dashboard?ern=EuroBloodNet", nil, 200, &d)
	if d.PatientCount != before.PatientCount+2 {
		t.Errorf("count for EuroBloodNet: %d", d.PatientCount)
	}
	hp1.call("GET", "/api/centres/BE10/dashboard?recent=0", nil, 200, &d)
	if d.PatientCount != before.PatientCount+2 || len(d.Recent) != 0 {
		t.Errorf("the count alone: %+v", d)
	}
	hp1.fail("GET", "/api/centres/BE10/dashboard?recent=11", nil, 400, "invalid")
	hp1.fail("GET", "/api/centres/BE10/dashboard?ern=ITHACA", nil, 404, "")
	hp1.fail("GET", "/api/centres/BG07/dashboard", nil, 404, "")
	hp1.fail("GET", "/api/centres/XX00/dashboard", nil, 404, "")
}

// Programs use the patient API with a bearer token, without the session's anti-forgery token.
func TestPatientsWithBearerToken(t *testing.T) {
	svc, h := newPatientsAPI(t)
	tok, _, err := svc.CreateToken(context.Background(), &cpms.Principal{Operator: "test"}, cpms.NewToken{Username: "bloodnethpuser1"}, cpms.RequestInfo{})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, h: h}
	rec := c.do("POST", "/api/patients", enrolment(svc, "Tokenia", "Tia", "MRN-90"), "Authorization", "Bearer "+tok)
	if rec.Code != 201 {
		t.Fatalf("enrol with a token: %d %s", rec.Code, rec.Body)
	}
	rec = c.do("GET", "/api/patients?q=tokenia", nil, "Authorization", "Bearer "+tok)
	var pg pageOut
	if err := json.Unmarshal(rec.Body.Bytes(), &pg); err != nil || rec.Code != 200 || pg.Total != 1 {
		t.Fatalf("search with a token: %d %s", rec.Code, rec.Body)
	}
	// Without credentials nothing is answered.
	problem(t, c.do("GET", "/api/patients", nil), 401, "")
	problem(t, c.do("GET", "/api/patients/"+pg.Items[0].ID, nil), 401, "")
}

func TestConsentForm(t *testing.T) {
	_, h := newPatientsAPI(t)
	hp1 := signIn(t, h, "bloodnethpuser1")

	type language struct {
		Code      string `json:"code"`
		Name      string `json:"name"`
		Available bool   `json:"available"`
	}
	var langs []language
	hp1.call("GET", "/api/consent-form/languages", nil, 200, &langs)
	i := slices.IndexFunc(langs, func(l language) bool { return l.Code == "en" })
	if i < 0 || !langs[i].Available || langs[i].Name == "" || len(langs) < 24 {
		t.Fatalf("languages = %+v", langs)
	}
	var unavailable string
	for _, l := range langs {
		if !l.Available {
			unavailable = l.Code
		}
	}

	for _, variant := range []string{"standard", "ukraine"} {
		rec := hp1.do("GET", "/api/consent-form?lang=en&variant="+variant+"&ern=EuroBloodNet&centre=BE10", nil)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/pdf" || !strings.HasPrefix(rec.Body.String(), "%PDF-") {
			t.Fatalf("%s form: %d %s", variant, rec.Code, rec.Header())
		}
		want := `attachment; filename="consent-form-EuroBloodNet-` + variant + `-en.pdf"`
		if got := rec.Header().Get("Content-Disposition"); got != want {
			t.Errorf("Content-Disposition = %q, want %q", got, want)
		}
	}
	// The defaults: English, the standard form, no centre.
	if rec := hp1.do("GET", "/api/consent-form?ern=ITHACA", nil); rec.Code != 200 ||
		rec.Header().Get("Content-Disposition") != `attachment; filename="consent-form-ITHACA-standard-en.pdf"` {
		t.Errorf("defaults: %d %s", rec.Code, rec.Header())
	}
	if unavailable != "" {
		hp1.fail("GET", "/api/consent-form?lang="+unavailable+"&ern=EuroBloodNet", nil, 404, "language_unavailable")
	}
	hp1.fail("GET", "/api/consent-form?lang=zz&ern=EuroBloodNet", nil, 404, "language_unavailable")
	p := hp1.fail("GET", "/api/consent-form?lang=english&variant=other&centre=BG07", nil, 400, "invalid")
	if f := fieldMessages(p); f["lang"] == "" || f["variant"] == "" || f["ern"] == "" {
		t.Errorf("not every problem named: %+v", p.Errors)
	}
	hp1.fail("GET", "/api/consent-form?ern=ITHACA&centre=BG07", nil, 400, "invalid")
	problem(t, (&client{t: t, h: h}).do("GET", "/api/consent-form?ern=EuroBloodNet", nil), 401, "")
}
