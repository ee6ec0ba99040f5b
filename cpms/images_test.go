package cpms_test

import (
	"testing"

	"github.com/ern-cpms/cpms/cpms"
)

func TestImageAccess(t *testing.T) {
	e := newEnv(t)
	e.user("hp", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"})
	e.user("other", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "FR08"})
	e.user("coord", cpms.RoleGrant{Role: cpms.RoleCoordinator, ERN: ebn, Centre: "BE10"})
	hp, _ := e.login("hp")
	other, _ := e.login("other")
	coord, _ := e.login("coord")
	pacs := &cpms.Principal{System: cpms.SystemPACS, Centre: "BE10", Via: "system-token"}
	his := &cpms.Principal{System: cpms.SystemHIS, Centre: "BE10", Via: "system-token"}
	for _, c := range []struct {
		name     string
		p        *cpms.Principal
		kind, id string
		ok       bool
		want     cpms.Kind
	}{
		{"the centre's clinician", hp, "centres", "BE10", true, 0},
		{"the centre's PACS", pacs, "centres", "BE10", true, 0},
		{"the operator", operator, "centres", "BE10", true, 0},
		{"another centre's clinician", other, "centres", "BE10", false, cpms.KindNotFound},
		{"a coordinator", coord, "centres", "BE10", false, cpms.KindNotFound},
		{"the centre's HIS", his, "centres", "BE10", false, cpms.KindNotFound},
		{"an unknown centre", hp, "centres", "ZZ99", false, cpms.KindNotFound},
		{"an unknown kind of scope", hp, "panels", "1", false, cpms.KindNotFound},
		{"nobody", nil, "centres", "BE10", false, cpms.KindUnauthenticated},
	} {
		err := e.svc.ImageAccess(e.ctx, c.p, c.kind, c.id, noInfo)
		if (c.ok && err != nil) || (!c.ok && cpms.KindOf(err) != c.want) {
			t.Errorf("%s: %v, want kind %q", c.name, err, c.want)
		}
	}
	if len(e.events(cpms.AuditFilter{Action: "denied." + string(cpms.ActDICOMweb)})) == 0 {
		t.Error("refusals are not audited")
	}
}

func TestPatientForImages(t *testing.T) {
	e := newEnv(t)
	e.user("hp", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"})
	hp, _ := e.login("hp")
	p, err := e.svc.Enrol(e.ctx, hp, enrolment("Addel", "MRN-1"), noInfo)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ centre, issuer, pid, want string }{
		{"BE10", "1.2.840.999.10", "MRN-1", p.ID},
		{"BE10", "urn:oid:1.2.840.999.10", "MRN-1", p.ID},
		{"BE10", "1.2.840.999.11", "MRN-1", ""},
		{"BE10", "", "MRN-1", ""},
		{"BE10", "1.2.840.999.10", "MRN-2", ""},
		{"FR08", "1.2.840.999.10", "MRN-1", ""},
	} {
		got, err := e.svc.PatientForImages(e.ctx, c.centre, c.issuer, c.pid)
		if err != nil || got != c.want {
			t.Errorf("%s %s|%s: %q %v, want %q", c.centre, c.issuer, c.pid, got, err, c.want)
		}
	}
}
