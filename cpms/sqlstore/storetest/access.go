package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/cpms"
)

func accessRequest(id string, u cpms.User, ern, centre string, role cpms.Role, created time.Duration) cpms.AccessRequest {
	return cpms.AccessRequest{ID: id, UserID: u.ID, User: u.Ref(), ERN: ern, Centre: centre, Role: role,
		Comment: "please", Status: cpms.AccessPending, CreatedAt: t0.Add(created)}
}

func testAccessRequests(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	alice := newUser("u-alice", "alice", "Alice Martin")
	alice.Roles = []cpms.RoleGrant{grant("g-held", cpms.RoleHP, "ERKNet", "FR01", 0)}
	bob := newUser("u-bob", "bob", "Bob Peeters")
	admin := newUser("u-admin", "admin", "Ada Admin")
	createUsers(t, s, alice, bob, admin)

	r1 := accessRequest("r-1", alice, "EuroBloodNet", "BE10", cpms.RoleHP, time.Second)
	r1.CreatedAt = odd(time.Second)
	r1.Status = "" // pending by default
	r2 := accessRequest("r-2", bob, "ERKNet", "", cpms.RoleResearcher, 2*time.Second)
	r3 := accessRequest("r-3", alice, "ERKNet", "FR01", cpms.RoleHP, 3*time.Second)
	for _, r := range []cpms.AccessRequest{r1, r2, r3} {
		must(t, s.CreateAccessRequest(ctx, r))
	}
	wantErr(t, "CreateAccessRequest with a taken ID", s.CreateAccessRequest(ctx, accessRequest("r-1", bob, "ERKNet", "", cpms.RoleHP, 0)), cpms.ErrConflict)
	wantErr(t, "CreateAccessRequest for an unknown user",
		s.CreateAccessRequest(ctx, accessRequest("r-9", newUser("u-nobody", "nobody", "No One"), "ERKNet", "", cpms.RoleHP, 0)), cpms.ErrNotFound)

	want1 := r1
	want1.Status, want1.CreatedAt = cpms.AccessPending, norm(r1.CreatedAt)
	got, err := s.AccessRequest(ctx, "r-1")
	must(t, err)
	wantDiff(t, "AccessRequest, with its user", want1, got)
	wantUTC(t, "access request time", got.CreatedAt)
	_, err = s.AccessRequest(ctx, "r-nope")
	wantErr(t, "AccessRequest of an unknown ID", err, cpms.ErrNotFound)

	ids := func(list []cpms.AccessRequest) []string {
		out := []string{}
		for _, r := range list {
			out = append(out, r.ID)
		}
		return out
	}
	filters := []struct {
		name string
		f    cpms.AccessFilter
		want []string
	}{
		{"all, newest first", cpms.AccessFilter{}, []string{"r-3", "r-2", "r-1"}},
		{"pending", cpms.AccessFilter{Status: cpms.AccessPending}, []string{"r-3", "r-2", "r-1"}},
		{"approved", cpms.AccessFilter{Status: cpms.AccessApproved}, []string{}},
		{"one ERN", cpms.AccessFilter{ERNs: []string{"ERKNet"}}, []string{"r-3", "r-2"}},
		{"two ERNs", cpms.AccessFilter{ERNs: []string{"ERKNet", "EuroBloodNet"}}, []string{"r-3", "r-2", "r-1"}},
		{"ERN and user", cpms.AccessFilter{ERNs: []string{"ERKNet"}, UserID: "u-alice"}, []string{"r-3"}},
		{"user", cpms.AccessFilter{UserID: "u-alice"}, []string{"r-3", "r-1"}},
		{"unknown ERN", cpms.AccessFilter{ERNs: []string{"Nowhere"}}, []string{}},
	}
	for _, tc := range filters {
		list, err := s.AccessRequests(ctx, tc.f)
		if err != nil {
			t.Errorf("AccessRequests(%s): %v", tc.name, err)
			continue
		}
		wantDiff(t, "AccessRequests("+tc.name+")", tc.want, ids(list))
	}
	list, err := s.AccessRequests(ctx, cpms.AccessFilter{UserID: "u-bob"})
	must(t, err)
	wantDiff(t, "AccessRequests with users", []cpms.AccessRequest{r2}, list)

	// Approval grants the role in the same step.
	by := admin.Ref()
	decided := odd(time.Hour)
	g := cpms.RoleGrant{ID: "g-new", Role: cpms.RoleHP, ERN: "EuroBloodNet", Centre: "BE10", GrantedBy: "u-admin", CreatedAt: decided}
	got, err = s.DecideAccessRequest(ctx, "r-1", cpms.AccessApproved, by, "welcome", decided, &g)
	must(t, err)
	want1.Status, want1.DecidedBy, want1.DecisionComment, want1.DecidedAt = cpms.AccessApproved, "admin", "welcome", ptr(norm(decided))
	wantDiff(t, "DecideAccessRequest result", want1, got)
	got, err = s.AccessRequest(ctx, "r-1")
	must(t, err)
	wantDiff(t, "approved request", want1, got)
	wantUTC(t, "decision time", *got.DecidedAt)
	u, err := s.UserByID(ctx, "u-alice")
	must(t, err)
	g.CreatedAt = norm(g.CreatedAt)
	wantDiff(t, "roles after approval", []cpms.RoleGrant{alice.Roles[0], g}, u.Roles)

	// Decided requests stay decided.
	for _, status := range []cpms.AccessStatus{cpms.AccessApproved, cpms.AccessRefused} {
		g2 := g
		g2.ID = "g-again"
		_, err = s.DecideAccessRequest(ctx, "r-1", status, by, "again", decided, &g2)
		wantErr(t, fmt.Sprintf("deciding (%s) a decided request", status), err, cpms.ErrConflict)
	}
	_, err = s.DecideAccessRequest(ctx, "r-nope", cpms.AccessApproved, by, "", decided, nil)
	wantErr(t, "DecideAccessRequest of an unknown ID", err, cpms.ErrNotFound)
	got, err = s.AccessRequest(ctx, "r-1")
	must(t, err)
	wantDiff(t, "request after refused re-decisions", want1, got)

	// Refusal grants nothing, even when given a grant.
	gb := cpms.RoleGrant{ID: "g-bob", Role: cpms.RoleResearcher, ERN: "ERKNet", CreatedAt: decided}
	got, err = s.DecideAccessRequest(ctx, "r-2", cpms.AccessRefused, by, "no", decided, &gb)
	must(t, err)
	if got.Status != cpms.AccessRefused || got.DecisionComment != "no" || got.DecidedBy != "admin" {
		t.Errorf("refused request = %+v", got)
	}
	if b, err := s.UserByID(ctx, "u-bob"); err != nil || len(b.Roles) != 0 {
		t.Errorf("bob's roles after a refusal = %v, %v; want none", b.Roles, err)
	}

	// Approving a role the user already holds keeps the existing grant and does not fail.
	dup := cpms.RoleGrant{ID: "g-dup", Role: cpms.RoleHP, ERN: "ERKNet", Centre: "FR01", CreatedAt: decided}
	got, err = s.DecideAccessRequest(ctx, "r-3", cpms.AccessApproved, by, "", decided, &dup)
	must(t, err)
	if got.Status != cpms.AccessApproved {
		t.Errorf("status after approving a held role = %s", got.Status)
	}
	u, err = s.UserByID(ctx, "u-alice")
	must(t, err)
	wantDiff(t, "roles after approving a held role", []cpms.RoleGrant{alice.Roles[0], g}, u.Roles)

	// Approval without a grant only records the decision; a non-decision is refused.
	r4 := accessRequest("r-4", bob, "ERKNet", "", cpms.RoleResearcher, 4*time.Second)
	must(t, s.CreateAccessRequest(ctx, r4))
	if _, err := s.DecideAccessRequest(ctx, "r-4", cpms.AccessPending, by, "", decided, nil); err == nil {
		t.Error("DecideAccessRequest to pending: no error")
	}
	got, err = s.DecideAccessRequest(ctx, "r-4", cpms.AccessApproved, by, "", decided, nil)
	must(t, err)
	if got.Status != cpms.AccessApproved {
		t.Errorf("status after approval without a grant = %s", got.Status)
	}

	list, err = s.AccessRequests(ctx, cpms.AccessFilter{Status: cpms.AccessApproved})
	must(t, err)
	wantDiff(t, "approved requests", []string{"r-4", "r-3", "r-1"}, ids(list))
}

// testAccessDecisionRace has several deciders act on one request at once: exactly one wins,
// the others get ErrConflict, and the winner's decision (and only its grant) is what is stored.
func testAccessDecisionRace(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	alice := newUser("u-alice", "alice", "Alice")
	createUsers(t, s, alice)
	const rounds, deciders = 5, 4
	for round := range rounds {
		id := fmt.Sprintf("r-%d", round)
		must(t, s.CreateAccessRequest(ctx, accessRequest(id, alice, "ERKNet", "BE10", cpms.RoleHP, time.Duration(round)*time.Second)))
		type result struct {
			who int
			r   cpms.AccessRequest
			err error
		}
		results := make(chan result, deciders)
		var wg sync.WaitGroup
		for who := range deciders {
			wg.Go(func() {
				status := cpms.AccessApproved
				if who%2 == 1 {
					status = cpms.AccessRefused
				}
				// Each round grants at a centre of its own, so that every approval adds a grant.
				g := cpms.RoleGrant{ID: fmt.Sprintf("g-%d-%d", round, who), Role: cpms.RoleHP, ERN: "ERKNet",
					Centre: fmt.Sprintf("BE%d", 10+round), CreatedAt: t0}
				r, err := s.DecideAccessRequest(ctx, id, status, cpms.UserRef{ID: "u-x", Username: fmt.Sprintf("decider%d", who)},
					fmt.Sprint(who), t0.Add(time.Hour), &g)
				results <- result{who, r, err}
			})
		}
		wg.Wait()
		close(results)
		winner := -1
		for res := range results {
			switch {
			case res.err == nil:
				if winner >= 0 {
					t.Errorf("%s: deciders %d and %d both won", id, winner, res.who)
				}
				winner = res.who
			default:
				wantErr(t, fmt.Sprintf("%s: losing decider %d", id, res.who), res.err, cpms.ErrConflict)
			}
		}
		if winner < 0 {
			t.Fatalf("%s: no decider won", id)
		}
		got, err := s.AccessRequest(ctx, id)
		must(t, err)
		if got.DecidedBy != fmt.Sprintf("decider%d", winner) || got.DecisionComment != fmt.Sprint(winner) {
			t.Errorf("%s: stored decision by %q (%q), want the winner's, decider%d", id, got.DecidedBy, got.DecisionComment, winner)
		}
		u, err := s.UserByID(ctx, "u-alice")
		must(t, err)
		var grants []string
		for _, g := range u.Roles {
			if g.Centre == fmt.Sprintf("BE%d", 10+round) {
				grants = append(grants, g.ID)
			}
		}
		var want []string
		if winner%2 == 0 {
			want = []string{fmt.Sprintf("g-%d-%d", round, winner)}
		}
		wantDiff(t, id+": grants from the race", want, grants)
	}
}
