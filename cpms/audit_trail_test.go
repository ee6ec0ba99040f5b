package cpms_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ern-cpms/cpms/cpms"
)

// alteredStore reads the real trail but shows record seq changed by alter, as if someone had
// edited the database.
type alteredStore struct {
	cpms.AuditStore
	seq   int64
	alter func(*cpms.AuditEvent)
}

func (s alteredStore) ScanAudit(ctx context.Context, after int64, fn func(cpms.AuditEvent) error) error {
	return s.AuditStore.ScanAudit(ctx, after, func(e cpms.AuditEvent) error {
		if e.Seq == s.seq {
			s.alter(&e)
		}
		return fn(e)
	})
}

// TestAuditTrail runs the account workflows end to end and reads the trail they leave.
func TestAuditTrail(t *testing.T) {
	e := newEnv(t)
	e.user("hp", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"}, cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "FR08"})
	e.user("assistant", cpms.RoleGrant{Role: cpms.RoleAssistant, ERN: ebn, Centre: "BE10"})
	e.user("coord", cpms.RoleGrant{Role: cpms.RoleCoordinator, ERN: ebn, Centre: "IT10"})
	e.user("newbie")
	from := cpms.RequestInfo{Source: "198.51.100.1", RequestID: "r-42"}

	if _, err := e.svc.Login(e.ctx, cpms.LoginRequest{Username: "newbie", Password: "guess", RequestInfo: from}); err == nil {
		t.Fatal("wrong password accepted")
	}
	hp, _ := e.login("hp")
	if err := e.svc.AppointAssistant(e.ctx, hp, "assistant", from); err != nil {
		t.Fatal(err)
	}
	asst, sess := e.login("assistant")
	if err := e.svc.ActFor(e.ctx, asst, hp.User.ID, from); err != nil {
		t.Fatal(err)
	}
	onBehalf := e.session(sess.Cookie)
	if err := e.svc.Authorize(e.ctx, onBehalf, cpms.ActDICOMweb, cpms.Resource{Centre: "FR08"}, from); err == nil {
		t.Fatal("the assistant reached the clinician's other centre")
	}
	if err := e.svc.Logout(e.ctx, onBehalf, from); err != nil {
		t.Fatal(err)
	}
	newbie, _ := e.login("newbie")
	req, err := e.svc.RequestAccess(e.ctx, newbie, cpms.NewAccessRequest{ERN: ebn, Centre: "BE10", Role: cpms.RoleHP}, from)
	if err != nil {
		t.Fatal(err)
	}
	coord, _ := e.login("coord")
	if _, err := e.svc.DecideAccessRequest(e.ctx, coord, req.ID, true, "", from); err != nil {
		t.Fatal(err)
	}

	all := e.events(cpms.AuditFilter{})
	n, err := cpms.VerifyAudit(e.ctx, e.store)
	if err != nil {
		t.Fatalf("VerifyAudit: %v", err)
	}
	if n != int64(len(all)) {
		t.Fatalf("VerifyAudit checked %d records of %d", n, len(all))
	}

	// What the trail must say, in this order (other records may come between).
	type entry struct {
		action, actor, onBehalfOf string
		outcome                   cpms.Outcome
	}
	want := []entry{
		{"user.create", "operator:root", "", cpms.OutcomeSuccess},
		{"role.grant", "operator:root", "", cpms.OutcomeSuccess},
		{"login", "newbie", "", cpms.OutcomeMinorFailure},
		{"login", "hp", "", cpms.OutcomeSuccess},
		{"assistant.appoint", "hp", "", cpms.OutcomeSuccess},
		{"login", "assistant", "", cpms.OutcomeSuccess},
		{"assistant.act-for", "assistant", "", cpms.OutcomeSuccess},
		{"denied.dicomweb.centre", "assistant", "hp", cpms.OutcomeMinorFailure},
		{"logout", "assistant", "hp", cpms.OutcomeSuccess},
		{"login", "newbie", "", cpms.OutcomeSuccess},
		{"access.request", "newbie", "", cpms.OutcomeSuccess},
		{"login", "coord", "", cpms.OutcomeSuccess},
		{"access.approved", "coord", "", cpms.OutcomeSuccess},
	}
	i := 0
	for _, ev := range all {
		if i < len(want) && (entry{ev.Action, ev.Actor, ev.OnBehalfOf, ev.Outcome}) == want[i] {
			i++
		}
		if !ev.At.Equal(e.svc.Now()) {
			t.Errorf("record %d at %v, want the clock's %v", ev.Seq, ev.At, e.svc.Now())
		}
		if ev.Actor != "operator:root" && ev.Action != "login" && ev.ActorID == "" {
			t.Errorf("record %d (%s by %s) has no actor ID", ev.Seq, ev.Action, ev.Actor)
		}
		if ev.Action != "login" && ev.Actor != "operator:root" && (ev.Source != from.Source || ev.RequestID != from.RequestID) {
			t.Errorf("record %d (%s) from %q request %q, want the request's", ev.Seq, ev.Action, ev.Source, ev.RequestID)
		}
	}
	if i < len(want) {
		var got []string
		for _, ev := range all {
			got = append(got, fmt.Sprintf("%s by %s for %q (%d)", ev.Action, ev.Actor, ev.OnBehalfOf, ev.Outcome))
		}
		t.Fatalf("the trail lacks %+v (and what follows); it holds:\n%q", want[i], got)
	}

	// An edited record breaks the chain.
	alters := map[string]func(*cpms.AuditEvent){
		"actor":   func(e *cpms.AuditEvent) { e.Actor = "someone-else" },
		"outcome": func(e *cpms.AuditEvent) { e.Outcome = cpms.OutcomeMajorFailure },
		"hash":    func(e *cpms.AuditEvent) { e.PrevHash = cpms.GenesisHash },
		"seq":     func(e *cpms.AuditEvent) { e.Seq++ },
	}
	for name, alter := range alters {
		if _, err := cpms.VerifyAudit(e.ctx, alteredStore{e.store, 3, alter}); cpms.KindOf(err) != cpms.KindConflict {
			t.Errorf("VerifyAudit with an altered %s: %v, want a conflict", name, err)
		}
	}
}
