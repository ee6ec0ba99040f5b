package cpms_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ern-cpms/cpms/cpms"
)

var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })

func TestRequestAccess(t *testing.T) {
	e := newEnv(t)
	e.user("newbie")
	newbie, _ := e.login("newbie")
	pacs := &cpms.Principal{System: cpms.SystemPACS, Centre: "BE10", Via: "system-token"}

	tests := []struct {
		name string
		p    *cpms.Principal
		req  cpms.NewAccessRequest
		want cpms.Kind
	}{
		{"HP at a centre of the ERN", newbie, cpms.NewAccessRequest{ERN: ebn, Centre: "BE10", Role: cpms.RoleHP, Comment: " haematologist "}, allowed},
		{"the same again", newbie, cpms.NewAccessRequest{ERN: ebn, Centre: "BE10", Role: cpms.RoleHP}, cpms.KindConflict},
		{"another profile", newbie, cpms.NewAccessRequest{ERN: ebn, Role: cpms.RoleResearcher}, allowed},
		{"helpdesk", newbie, cpms.NewAccessRequest{ERN: ebn, Role: cpms.RoleHelpdesk}, cpms.KindInvalid},
		{"HP without a centre", newbie, cpms.NewAccessRequest{ERN: ebn, Role: cpms.RoleHP}, cpms.KindInvalid},
		{"centre outside the ERN", newbie, cpms.NewAccessRequest{ERN: ithaca, Centre: "BG07", Role: cpms.RoleHP}, cpms.KindInvalid},
		{"unknown ERN", newbie, cpms.NewAccessRequest{ERN: "Nowhere", Centre: "BE10", Role: cpms.RoleHP}, cpms.KindInvalid},
		{"unknown role", newbie, cpms.NewAccessRequest{ERN: ebn, Role: "Boss"}, cpms.KindInvalid},
		{"a system", pacs, cpms.NewAccessRequest{ERN: ebn, Centre: "BE10", Role: cpms.RoleHP}, cpms.KindPermission},
		{"the operator", operator, cpms.NewAccessRequest{ERN: ebn, Centre: "BE10", Role: cpms.RoleHP}, cpms.KindPermission},
		{"nobody", nil, cpms.NewAccessRequest{ERN: ebn, Centre: "BE10", Role: cpms.RoleHP}, cpms.KindUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := e.svc.RequestAccess(e.ctx, tt.p, tt.req, noInfo)
			if got := kindOrAllowed(err); got != tt.want {
				t.Fatalf("RequestAccess = %v (%s), want %s", err, kindName(got), kindName(tt.want))
			}
			if tt.want != allowed {
				return
			}
			if r.Status != cpms.AccessPending || r.User.Username != "newbie" || r.Role != tt.req.Role || r.DecidedAt != nil {
				t.Errorf("request %+v", r)
			}
			stored, err := e.store.AccessRequest(e.ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Status != cpms.AccessPending || stored.User.ID != newbie.User.ID {
				t.Errorf("stored request %+v", stored)
			}
		})
	}
	if got := e.events(cpms.AuditFilter{Actor: "newbie", Action: "access.request"}); len(got) != 2 {
		t.Errorf("%d access.request records, want 2", len(got))
	}
}

func TestDecideAccessRequest(t *testing.T) {
	e := newEnv(t)
	e.user("newbie")
	coordUser := e.user("coordebn", cpms.RoleGrant{Role: cpms.RoleCoordinator, ERN: ebn, Centre: "IT10"})
	e.user("coordith", cpms.RoleGrant{Role: cpms.RoleCoordinator, ERN: ithaca, Centre: "IT10"})
	e.user("adminebn", cpms.RoleGrant{Role: cpms.RoleERNAdmin, ERN: ebn})
	e.user("hp", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "IT10"})
	// cora is clinician and coordinator at IT10; her assistant works at IT10.
	e.user("cora", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "IT10"}, cpms.RoleGrant{Role: cpms.RoleCoordinator, ERN: ebn, Centre: "IT10"})
	e.user("assistant", cpms.RoleGrant{Role: cpms.RoleAssistant, ERN: ebn, Centre: "IT10"})
	newbie, _ := e.login("newbie")
	coordEBN, _ := e.login("coordebn")
	coordITH, _ := e.login("coordith")
	adminEBN, _ := e.login("adminebn")
	hp, _ := e.login("hp")
	cora, _ := e.login("cora")
	if err := e.svc.AppointAssistant(e.ctx, cora, "assistant", noInfo); err != nil {
		t.Fatal(err)
	}
	asst, asstSession := e.login("assistant")
	if err := e.svc.ActFor(e.ctx, asst, cora.User.ID, noInfo); err != nil {
		t.Fatal(err)
	}
	forCora := e.session(asstSession.Cookie)
	if forCora.OnBehalfOf == nil || forCora.OnBehalfOf.Username != "cora" {
		t.Fatalf("the assistant does not act for cora: %+v", forCora.OnBehalfOf)
	}

	request := func(p *cpms.Principal, nr cpms.NewAccessRequest) string {
		t.Helper()
		r, err := e.svc.RequestAccess(e.ctx, p, nr, noInfo)
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	hpReq := request(newbie, cpms.NewAccessRequest{ERN: ebn, Centre: "BE10", Role: cpms.RoleHP})
	guestReq := request(newbie, cpms.NewAccessRequest{ERN: ebn, Centre: "BG07", Role: cpms.RoleGuest})
	researchReq := request(newbie, cpms.NewAccessRequest{ERN: ebn, Role: cpms.RoleResearcher})
	ithacaReq := request(newbie, cpms.NewAccessRequest{ERN: ithaca, Centre: "FR08", Role: cpms.RoleHP})
	coordOwn := request(coordEBN, cpms.NewAccessRequest{ERN: ebn, Role: cpms.RoleResearcher})
	coraOwn := request(cora, cpms.NewAccessRequest{ERN: ebn, Role: cpms.RoleResearcher})

	listed := func(p *cpms.Principal) []string {
		t.Helper()
		rs, err := e.svc.AccessRequests(e.ctx, p, cpms.AccessPending)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
		return ids
	}
	// The decider sees their ERN's requests, the requester their own. (The clock stands still:
	// the order among them is not tested.)
	if diff := cmp.Diff([]string{coraOwn, coordOwn, researchReq, guestReq, hpReq}, listed(coordEBN), sortStrings); diff != "" {
		t.Errorf("EuroBloodNet coordinator's list (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{ithacaReq}, listed(coordITH), sortStrings); diff != "" {
		t.Errorf("ITHACA coordinator's list (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{ithacaReq, researchReq, guestReq, hpReq}, listed(newbie), sortStrings); diff != "" {
		t.Errorf("requester's list (-want +got):\n%s", diff)
	}

	now := e.svc.Now()
	steps := []struct {
		name    string
		p       *cpms.Principal
		id      string
		approve bool
		want    cpms.Kind
	}{
		{"coordinator of another ERN", coordITH, hpReq, true, cpms.KindPermission},
		{"HP", hp, hpReq, true, cpms.KindPermission},
		{"the requester", newbie, hpReq, true, cpms.KindPermission},
		{"coordinator approves", coordEBN, hpReq, true, allowed},
		{"second approval", coordEBN, hpReq, true, cpms.KindConflict},
		{"refusal after approval", adminEBN, hpReq, false, cpms.KindConflict},
		{"admin approves a guest", adminEBN, guestReq, true, allowed},
		{"admin refuses", adminEBN, researchReq, false, allowed},
		{"coordinator of ITHACA approves", coordITH, ithacaReq, true, allowed},
		{"coordinator decides own request", coordEBN, coordOwn, true, cpms.KindPermission},
		{"assistant decides the request of the coordinator they act for", forCora, coraOwn, true, cpms.KindPermission},
		{"admin decides the coordinator's request", adminEBN, coordOwn, true, allowed},
		{"unknown request", adminEBN, "no-such-request", true, cpms.KindNotFound},
	}
	for _, s := range steps {
		_, err := e.svc.DecideAccessRequest(e.ctx, s.p, s.id, s.approve, "checked", noInfo)
		if got := kindOrAllowed(err); got != s.want {
			t.Errorf("%s: DecideAccessRequest = %v (%s), want %s", s.name, err, kindName(got), kindName(s.want))
		}
	}

	r, err := e.store.AccessRequest(e.ctx, hpReq)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != cpms.AccessApproved || r.DecidedBy != "coordebn" || r.DecisionComment != "checked" || r.DecidedAt == nil || !r.DecidedAt.Equal(now) {
		t.Errorf("approved request %+v", r)
	}
	if r, _ := e.store.AccessRequest(e.ctx, researchReq); r.Status != cpms.AccessRefused || r.DecidedBy != "adminebn" {
		t.Errorf("refused request %+v", r)
	}
	if r, _ := e.store.AccessRequest(e.ctx, coraOwn); r.Status != cpms.AccessPending {
		t.Errorf("cora's own request is %s, want pending", r.Status)
	}

	got := e.userByName("newbie")
	want := []roleKey{{cpms.RoleHP, ebn, "BE10"}, {cpms.RoleGuest, ebn, "BG07"}, {cpms.RoleHP, ithaca, "FR08"}}
	if diff := cmp.Diff(want, roleKeys(got.Roles), sortRoleKeys); diff != "" {
		t.Errorf("newbie's roles (-want +got):\n%s", diff)
	}
	for _, g := range got.Roles {
		switch {
		case g.Role == cpms.RoleGuest:
			if g.ExpiresAt == nil || !g.ExpiresAt.Equal(now.Add(cpms.GuestMinValidity)) {
				t.Errorf("approved guest grant ends at %v, want %v", g.ExpiresAt, now.Add(cpms.GuestMinValidity))
			}
		case g.ExpiresAt != nil:
			t.Errorf("approved %s grant ends at %v", g.Role, g.ExpiresAt)
		}
		if g.ERN == ebn && g.Role == cpms.RoleHP && g.GrantedBy != coordUser.ID {
			t.Errorf("HP grant granted by %q, want the coordinator %q", g.GrantedBy, coordUser.ID)
		}
	}
	if n := len(e.events(cpms.AuditFilter{Action: "access.approved", ObjectID: hpReq})); n != 1 {
		t.Errorf("%d approval records of the HP request, want 1", n)
	}
	if n := len(e.events(cpms.AuditFilter{Action: "access.refused", ObjectID: researchReq})); n != 1 {
		t.Errorf("%d refusal records, want 1", n)
	}
}

func TestAssistantSession(t *testing.T) {
	e := newEnv(t)
	e.user("clinician", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"}, cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "FR08"})
	asstUser := e.user("assistant", cpms.RoleGrant{Role: cpms.RoleAssistant, ERN: ebn, Centre: "BE10"})
	e.user("elsewhere", cpms.RoleGrant{Role: cpms.RoleAssistant, ERN: ebn, Centre: "BG07"})
	e.user("unappointed", cpms.RoleGrant{Role: cpms.RoleAssistant, ERN: ebn, Centre: "BE10"})
	clinician, _ := e.login("clinician")

	if err := e.svc.AppointAssistant(e.ctx, clinician, "elsewhere", noInfo); cpms.KindOf(err) != cpms.KindInvalid {
		t.Errorf("appointing an assistant of another centre: %v, want invalid", err)
	}
	if err := e.svc.AppointAssistant(e.ctx, clinician, "nobody", noInfo); cpms.KindOf(err) != cpms.KindNotFound {
		t.Errorf("appointing an unknown user: %v, want not found", err)
	}
	for range 2 { // appointing twice is harmless
		if err := e.svc.AppointAssistant(e.ctx, clinician, "assistant", noInfo); err != nil {
			t.Fatalf("AppointAssistant: %v", err)
		}
	}
	as, err := e.svc.Assistants(e.ctx, clinician)
	if err != nil || len(as) != 1 || as[0].ID != asstUser.ID {
		t.Fatalf("Assistants = %v, %v", as, err)
	}

	asst, sess := e.login("assistant")
	if ps, err := e.svc.Principals(e.ctx, asst); err != nil || len(ps) != 1 || ps[0].ID != clinician.User.ID {
		t.Fatalf("Principals = %v, %v", ps, err)
	}
	unappointed, _ := e.login("unappointed")
	if err := e.svc.ActFor(e.ctx, unappointed, clinician.User.ID, noInfo); cpms.KindOf(err) != cpms.KindPermission {
		t.Errorf("an unappointed assistant acts for the clinician: %v", err)
	}
	if err := e.svc.ActFor(e.ctx, &cpms.Principal{User: asst.User, Via: "token"}, clinician.User.ID, noInfo); cpms.KindOf(err) != cpms.KindPermission {
		t.Errorf("acting for a clinician without a session: %v", err)
	}
	if err := e.svc.ActFor(e.ctx, asst, clinician.User.ID, noInfo); err != nil {
		t.Fatalf("ActFor: %v", err)
	}
	p := e.session(sess.Cookie)
	if p.OnBehalfOf == nil || p.OnBehalfOf.ID != clinician.User.ID {
		t.Fatalf("the session does not act for the clinician: %+v", p.OnBehalfOf)
	}
	if err := e.svc.Authorize(e.ctx, p, cpms.ActDICOMweb, cpms.Resource{Centre: "BE10"}, noInfo); err != nil {
		t.Errorf("assistant on behalf at BE10: %v", err)
	}
	if err := e.svc.Authorize(e.ctx, p, cpms.ActDICOMweb, cpms.Resource{Centre: "FR08"}, noInfo); cpms.KindOf(err) != cpms.KindPermission {
		t.Errorf("assistant on behalf at the clinician's other centre: %v", err)
	}
	if err := e.svc.AppointAssistant(e.ctx, p, "unappointed", noInfo); cpms.KindOf(err) != cpms.KindPermission {
		t.Errorf("an assistant appoints assistants on the clinician's behalf: %v", err)
	}
	denied := e.events(cpms.AuditFilter{Action: "denied." + string(cpms.ActDICOMweb)})
	if len(denied) != 1 || denied[0].Actor != "assistant" || denied[0].OnBehalfOf != "clinician" || denied[0].Outcome != cpms.OutcomeMinorFailure {
		t.Errorf("refusal audited as %+v", denied)
	}

	if err := e.svc.DismissAssistant(e.ctx, clinician, asstUser.ID, noInfo); err != nil {
		t.Fatal(err)
	}
	if p := e.session(sess.Cookie); p.OnBehalfOf != nil {
		t.Errorf("the session still acts for the clinician after the dismissal")
	}
	if err := e.svc.ActFor(e.ctx, asst, clinician.User.ID, noInfo); cpms.KindOf(err) != cpms.KindPermission {
		t.Errorf("a dismissed assistant acts for the clinician: %v", err)
	}
}
