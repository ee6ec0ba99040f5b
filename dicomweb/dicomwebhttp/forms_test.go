package dicomwebhttp_test

import (
	"bytes"
	"context"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/dicomweb"
	"github.com/ern-cpms/cpms/dicomweb/dicomwebtest"
	"github.com/ern-cpms/cpms/dicomweb/sqlindex"
	"github.com/ern-cpms/cpms/internal/blob"
	"github.com/ern-cpms/cpms/internal/sqldb/sqldbtest"
)

// TestRenderedAndLegacy covers the image answers: rendered frames, thumbnails, WADO-URI, and a
// chunked STOW.
func TestRenderedAndLegacy(t *testing.T) {
	e := newEnv(t, sqldbtest.Engines(t)[0], blobStores(t)["files"])
	root := dicomwebtest.UIDRoot(201)
	study, series := root+".1", root+".1.1"
	insts := dicomwebtest.Study(root, 3, 5, 96)

	// STOW with chunked transfer encoding: the body comes from a pipe of unknown length.
	body, ct := dicomwebtest.Multipart(insts)
	pr, pw := io.Pipe()
	go func() {
		for b := body; len(b) > 0; {
			n := min(len(b), 7000)
			pw.Write(b[:n])
			b = b[n:]
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", e.srv.URL+scope+"/studies", pr)
	req.Header.Set("Authorization", "Bearer "+e.tokens["pacs"])
	req.Header.Set("Content-Type", ct)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || req.ContentLength != 0 { // no length given: the client sends it chunked
		t.Fatalf("chunked STOW: %d", res.StatusCode)
	}
	sop := root + ".1.1.3"
	inst := scope + "/studies/" + study + "/series/" + series + "/instances/" + sop

	r := e.do("GET", inst+"/rendered", "pacs", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("rendered: %d %s", r.status, r.header.Get("Warning"))
	}
	img, err := jpeg.Decode(bytes.NewReader(r.body))
	if err != nil || img.Bounds().Dx() != 96 {
		t.Fatalf("rendered JPEG: %v", err)
	}
	r = e.do("GET", inst+"/frames/1/rendered?window=40,400&viewport=48,48", "pacs", nil, "Accept", "image/png")
	if r.status != 200 {
		t.Fatalf("rendered PNG: %d %s", r.status, r.header.Get("Warning"))
	}
	if p, err := png.Decode(bytes.NewReader(r.body)); err != nil || p.Bounds().Dx() != 48 {
		t.Fatalf("rendered PNG with a viewport: %v", err)
	}
	for _, path := range []string{scope + "/studies/" + study + "/thumbnail", scope + "/studies/" + study + "/series/" + series + "/thumbnail", inst + "/thumbnail"} {
		if r := e.do("GET", path, "pacs", nil, "Accept", "image/jpeg, image/png"); r.status != 200 || len(r.body) == 0 {
			t.Errorf("%s: %d %s", path, r.status, r.header.Get("Warning"))
		}
	}
	if r := e.do("GET", inst+"/rendered", "pacs", nil, "Accept", "image/gif"); r.status != 406 {
		t.Errorf("rendered as GIF: %d", r.status)
	}
	if r := e.do("GET", inst+"/frames/2/rendered", "pacs", nil); r.status != 404 {
		t.Errorf("a frame past the last: %d", r.status)
	}
	if r := e.do("GET", inst+"/rendered?window=40", "pacs", nil); r.status != 400 || r.header.Get("Warning") == "" {
		t.Errorf("a bad window: %d", r.status)
	}

	// WADO-URI: the instance as stored, and as an image.
	uri := scope + "/wado?requestType=WADO&studyUID=" + study + "&seriesUID=" + series + "&objectUID=" + sop
	r = e.do("GET", uri+"&contentType=application/dicom", "pacs", nil)
	if r.status != 200 || !bytes.Equal(r.body, insts[2]) {
		t.Errorf("WADO-URI DICOM: %d, %d bytes", r.status, len(r.body))
	}
	if r := e.do("GET", uri, "pacs", nil); r.status != 200 || r.header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("WADO-URI default: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if r := e.do("GET", uri+"&contentType=image/png&rows=32&columns=32", "pacs", nil); r.status != 200 {
		t.Errorf("WADO-URI PNG: %d", r.status)
	}
	if r := e.do("GET", strings.Replace(uri, "requestType=WADO", "requestType=X", 1), "pacs", nil); r.status != 400 {
		t.Errorf("WADO-URI without requestType=WADO: %d", r.status)
	}
	if r := e.do("GET", uri, "otherhp", nil); r.status != 404 {
		t.Errorf("WADO-URI from another centre: %d", r.status)
	}
}

// TestPatientLink links a study to the enrolled patient whose MRN and issuer it carries.
func TestPatientLink(t *testing.T) {
	e := newEnv(t, sqldbtest.Engines(t)[0], blobStores(t)["files"])
	ctx := context.Background()
	his := &cpms.Principal{System: cpms.SystemHIS, Centre: "BE10", Via: "system-token"}
	p, err := e.svc.Enrol(ctx, his, cpms.Enrolment{ERN: "EuroBloodNet", Centre: "BE10", FirstName: "Synthetic",
		LastName: "Testpatient7", Gender: cpms.GenderOther, BirthDate: "1970-01-01", Clinician: "bloodnethpuser1",
		Identifiers: []cpms.LocalIdentifier{{System: "1.2.826.0.1.3680043.10.1", Value: "SYN000007"}},
		Consents:    []cpms.ConsentAnswer{{Kind: cpms.ConsentCare, Given: true, Date: "2026-01-01"}}}, cpms.RequestInfo{})
	if err != nil {
		t.Fatal(err)
	}
	linked := dicomwebtest.Study(dicomwebtest.UIDRoot(301), 7, 2, 32)
	other8 := dicomwebtest.Study(dicomwebtest.UIDRoot(302), 8, 1, 32)
	if r := e.stow(scope+"/studies", "pacs", append(linked, other8...)); r.status != 200 {
		t.Fatalf("STOW: %d %s", r.status, r.body)
	}
	events, err := e.st.AuditEvents(ctx, cpms.AuditFilter{PatientID: p.ID, Action: "images.store"})
	if err != nil || len(events) != 1 || !strings.Contains(events[0].ObjectID, dicomwebtest.UIDRoot(301)) {
		t.Errorf("the store of the patient's study is not in the patient's audit: %v %v", events, err)
	}
	if r := e.do("GET", scope+"/studies", "pacs", nil); len(jsonArray(t, r.body)) != 2 {
		t.Errorf("the unlinked study is not listed for the centre: %s", r.body)
	}

	// Reads and searches of the patient's study are in the patient's access log.
	study7 := dicomwebtest.UIDRoot(301) + ".1"
	e.do("GET", scope+"/studies/"+study7+"/metadata", "pacs", nil)
	e.do("GET", scope+"/studies/"+study7+"/instances", "pacs", nil)
	// (the search of the whole scope above showed the study too)
	for action, want := range map[string]int{"images.read": 1, "images.search": 2} {
		if events, _ := e.st.AuditEvents(ctx, cpms.AuditFilter{PatientID: p.ID, Action: action}); len(events) != want {
			t.Errorf("%s of the patient's study: %d events in the patient's log, want %d", action, len(events), want)
		}
	}

	// The patient's studies; the centre's unlinked ones; a link by hand.
	hp := signIn(t, e, "bloodnethpuser1")
	studies, err := e.svc.PatientStudies(ctx, hp, p.ID, cpms.RequestInfo{})
	if err != nil || len(studies) != 1 || studies[0].StudyUID != dicomwebtest.UIDRoot(301)+".1" || studies[0].Instances != 2 ||
		studies[0].Scope != "centres/BE10" || len(studies[0].Modalities) != 1 {
		t.Fatalf("the patient's studies: %+v %v", studies, err)
	}
	unlinked, err := e.svc.UnlinkedStudies(ctx, hp, "BE10", cpms.RequestInfo{})
	if err != nil || len(unlinked) != 1 || unlinked[0].PatientID != "SYN000008" {
		t.Fatalf("unlinked studies: %+v %v", unlinked, err)
	}
	other := signIn(t, e, "bloodnethpuser2")
	if _, err := e.svc.UnlinkedStudies(ctx, other, "BE10", cpms.RequestInfo{}); cpms.KindOf(err) != cpms.KindNotFound {
		t.Errorf("another centre's clinician lists BE10's studies: %v", err)
	}
	if err := e.svc.LinkStudy(ctx, other, "BE10", unlinked[0].StudyUID, p.ID, cpms.RequestInfo{}); err == nil {
		t.Error("another centre's clinician linked a study")
	}
	if err := e.svc.LinkStudy(ctx, hp, "BE10", "1.2.3.4", p.ID, cpms.RequestInfo{}); cpms.KindOf(err) != cpms.KindNotFound {
		t.Errorf("linking an unknown study: %v", err)
	}
	if err := e.svc.LinkStudy(ctx, hp, "BE10", unlinked[0].StudyUID, p.ID, cpms.RequestInfo{}); err != nil {
		t.Fatal(err)
	}
	if studies, _ := e.svc.PatientStudies(ctx, hp, p.ID, cpms.RequestInfo{}); len(studies) != 2 {
		t.Errorf("after the link: %d studies", len(studies))
	}
	if events, _ := e.st.AuditEvents(ctx, cpms.AuditFilter{PatientID: p.ID, Action: "images.link"}); len(events) != 1 {
		t.Errorf("the link is not audited: %v", events)
	}
}

// signIn is the principal of a demo user (a personal access token's, as the API would have it).
func signIn(t *testing.T, e *env, username string) *cpms.Principal {
	t.Helper()
	ctx := context.Background()
	tok, _, err := e.svc.CreateToken(ctx, &cpms.Principal{Operator: "test"}, cpms.NewToken{Username: username, Name: "t"}, cpms.RequestInfo{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.AuthenticateToken(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSizeLimit: an instance over the store's limit is refused with A700, and nothing of it is
// kept.
func TestSizeLimit(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sqldbtest.Engines(t)[0], blobStores(t)["files"])
	idx, err := sqlindex.New(ctx, e.db)
	if err != nil {
		t.Fatal(err)
	}
	small, err := dicomweb.New(dicomweb.Config{Index: idx, Blobs: e.blobs, Domain: e.svc, MaxInstance: 20000})
	if err != nil {
		t.Fatal(err)
	}
	big := dicomwebtest.Study(dicomwebtest.UIDRoot(401), 9, 1, 128)[0] // 32 KiB of pixels
	o, err := small.StoreInstance(ctx, dicomweb.Scope{Kind: "centres", ID: "BE10"}, "", bytes.NewReader(big))
	if err != nil || !o.Failed || o.Reason != 0xA700 {
		t.Fatalf("an instance over the limit: %+v %v", o, err)
	}
	var keys []string
	e.blobs.List(ctx, "", func(i blob.Info) error { keys = append(keys, i.Key); return nil })
	if len(keys) != 0 {
		t.Errorf("the refused instance left %v", keys)
	}
	fits := dicomwebtest.Study(dicomwebtest.UIDRoot(402), 9, 1, 64)[0]
	if o, err := small.StoreInstance(ctx, dicomweb.Scope{Kind: "centres", ID: "BE10"}, "", bytes.NewReader(fits)); err != nil || o.Failed {
		t.Fatalf("an instance under the limit: %+v %v", o, err)
	}
}
