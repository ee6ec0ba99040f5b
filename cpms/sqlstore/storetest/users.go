package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/cpms"
)

// fullUser has every field set, with times the store must normalise.
func fullUser() cpms.User {
	u := newUser("u-alice", "alice", "Alice Martin")
	u.CreatedAt = odd(0)
	u.Disabled = true
	u.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"
	u.MustChangePassword = true
	u.TOTPSecret = "JBSWY3DPEHPK3PXP"
	u.TOTPEnabled = true
	u.TOTPLastStep = 59_000_123
	u.FailedLogins = 3
	u.LockedUntil = odd(15 * time.Minute)
	u.OIDCIssuer = "https://id.example.org"
	u.OIDCSubject = "248289761001"
	u.Roles = []cpms.RoleGrant{
		{ID: "g-2", Role: cpms.RoleGuest, ERN: "ERKNet", Centre: "FR01", ExpiresAt: ptr(odd(90 * 24 * time.Hour)),
			GrantedBy: "u-admin", CreatedAt: odd(2 * time.Second)},
		{ID: "g-1", Role: cpms.RoleHP, ERN: "EuroBloodNet", Centre: "BE10", CreatedAt: odd(time.Second)},
	}
	return u
}

// normUser is u as a store gives it back.
func normUser(u cpms.User) cpms.User {
	u.CreatedAt = norm(u.CreatedAt)
	if !u.LockedUntil.IsZero() {
		u.LockedUntil = norm(u.LockedUntil)
	}
	roles := make([]cpms.RoleGrant, len(u.Roles))
	for i, g := range u.Roles {
		g.CreatedAt, g.ExpiresAt = norm(g.CreatedAt), normPtr(g.ExpiresAt)
		roles[i] = g
	}
	u.Roles = roles
	return u
}

func testUsers(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	alice := fullUser()
	bob := newUser("u-bob", "bob", "Bob Peeters")
	createUsers(t, s, alice, bob)

	wantAlice := normUser(alice)
	wantAlice.Roles = []cpms.RoleGrant{wantAlice.Roles[1], wantAlice.Roles[0]} // by creation time
	wantBob := normUser(bob)

	for _, tc := range []struct {
		name string
		get  func() (cpms.User, error)
		want cpms.User
	}{
		{"UserByID", func() (cpms.User, error) { return s.UserByID(ctx, "u-alice") }, wantAlice},
		{"UserByUsername", func() (cpms.User, error) { return s.UserByUsername(ctx, "alice") }, wantAlice},
		{"UserByOIDC", func() (cpms.User, error) {
			return s.UserByOIDC(ctx, "https://id.example.org", "248289761001")
		}, wantAlice},
		{"UserByID without grants", func() (cpms.User, error) { return s.UserByID(ctx, "u-bob") }, wantBob},
	} {
		got, err := tc.get()
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		wantDiff(t, tc.name, tc.want, got)
		wantUTC(t, tc.name, got.CreatedAt)
	}

	for _, tc := range []struct {
		name string
		get  func() (cpms.User, error)
	}{
		{"UserByID", func() (cpms.User, error) { return s.UserByID(ctx, "u-nobody") }},
		{"UserByUsername", func() (cpms.User, error) { return s.UserByUsername(ctx, "nobody") }},
		{"UserByOIDC, other subject", func() (cpms.User, error) { return s.UserByOIDC(ctx, "https://id.example.org", "1") }},
		{"UserByOIDC, other issuer", func() (cpms.User, error) { return s.UserByOIDC(ctx, "https://other.example", "248289761001") }},
		{"UserByOIDC, empty identity (bob has none)", func() (cpms.User, error) { return s.UserByOIDC(ctx, "", "") }},
	} {
		_, err := tc.get()
		wantErr(t, tc.name+" of an unknown user", err, cpms.ErrNotFound)
	}
}

func testUserConflicts(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	alice := fullUser()
	createUsers(t, s, alice)
	// Accounts without an OIDC identity do not clash with each other; sharing an issuer does not clash.
	carol := newUser("u-carol", "carol", "Carol")
	dave := newUser("u-dave", "dave", "Dave")
	dave.OIDCIssuer, dave.OIDCSubject = alice.OIDCIssuer, "another-subject"
	createUsers(t, s, newUser("u-bob", "bob", "Bob"), carol, dave)

	sameID := newUser("u-alice", "alice2", "Alice bis")
	sameName := newUser("u-alice2", "alice", "Alice bis")
	sameOIDC := newUser("u-alice3", "alice3", "Alice ter")
	sameOIDC.OIDCIssuer, sameOIDC.OIDCSubject = alice.OIDCIssuer, alice.OIDCSubject
	for name, u := range map[string]cpms.User{"same ID": sameID, "same username": sameName, "same OIDC identity": sameOIDC} {
		wantErr(t, "CreateUser with the "+name, s.CreateUser(ctx, u), cpms.ErrConflict)
	}
	// A user whose grants clash is not created at all.
	eve := newUser("u-eve", "eve", "Eve")
	eve.Roles = []cpms.RoleGrant{grant("g-e1", cpms.RoleHP, "ERKNet", "BE10", 0), grant("g-e2", cpms.RoleHP, "ERKNet", "BE10", 1)}
	wantErr(t, "CreateUser with twice the same grant", s.CreateUser(ctx, eve), cpms.ErrConflict)
	_, err := s.UserByID(ctx, "u-eve")
	wantErr(t, "user whose creation failed", err, cpms.ErrNotFound)

	all, err := s.Users(ctx, cpms.UserFilter{})
	must(t, err)
	wantDiff(t, "users after the failed creations", []string{"alice", "bob", "carol", "dave"}, usernames(all))
}

func testUserFilters(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	alice := newUser("u-alice", "alice", "Alice Martin")
	alice.Roles = []cpms.RoleGrant{grant("g-a1", cpms.RoleHP, "EuroBloodNet", "BE10", 0)}
	bob := newUser("u-bob", "bob", "Bob Smith")
	bob.Roles = []cpms.RoleGrant{grant("g-b1", cpms.RoleCoordinator, "EuroBloodNet", "", 0)}
	carol := newUser("u-carol", "carol", "Carol Smithson")
	carol.Roles = []cpms.RoleGrant{grant("g-c1", cpms.RoleHP, "ERKNet", "FR01", 0), grant("g-c2", cpms.RoleResearcher, "EuroBloodNet", "", 1)}
	dave := newUser("u-dave", "dave", "Dave 100% Jones")
	elodie := newUser("u-elodie", "elodie.dupre", "Élodie Dupré")
	past := t0.Add(-time.Hour)
	elodie.Roles = []cpms.RoleGrant{{ID: "g-e1", Role: cpms.RoleGuest, ERN: "EuroBloodNet", Centre: "FR01", ExpiresAt: &past, CreatedAt: t0.Add(-48 * time.Hour)}}
	// Created out of order: the results come by username.
	createUsers(t, s, elodie, carol, alice, dave, bob)

	for _, tc := range []struct {
		name string
		f    cpms.UserFilter
		want []string
	}{
		{"everyone", cpms.UserFilter{}, []string{"alice", "bob", "carol", "dave", "elodie.dupre"}},
		{"ERN (expired grants count)", cpms.UserFilter{ERN: "EuroBloodNet"}, []string{"alice", "bob", "carol", "elodie.dupre"}},
		{"centre", cpms.UserFilter{Centre: "FR01"}, []string{"carol", "elodie.dupre"}},
		{"ERN and centre on one grant", cpms.UserFilter{ERN: "EuroBloodNet", Centre: "FR01"}, []string{"elodie.dupre"}},
		{"ERN and centre on different grants", cpms.UserFilter{ERN: "EuroBloodNet", Centre: "FR01", Query: "carol"}, []string{}},
		{"unknown ERN", cpms.UserFilter{ERN: "Nowhere"}, []string{}},
		{"query on username, any case", cpms.UserFilter{Query: "ALI"}, []string{"alice"}},
		{"query on display name", cpms.UserFilter{Query: "smith"}, []string{"bob", "carol"}},
		{"query beyond ASCII, any case", cpms.UserFilter{Query: "ÉLODIE"}, []string{"elodie.dupre"}},
		{"query with an accent", cpms.UserFilter{Query: "dupré"}, []string{"elodie.dupre"}},
		{"query % is literal", cpms.UserFilter{Query: "%"}, []string{"dave"}},
		{"query _ is literal", cpms.UserFilter{Query: "a_i"}, []string{}},
		{"query and ERN", cpms.UserFilter{ERN: "EuroBloodNet", Query: "smith"}, []string{"bob", "carol"}},
		{"limit", cpms.UserFilter{Limit: 2}, []string{"alice", "bob"}},
		{"filter and limit", cpms.UserFilter{ERN: "EuroBloodNet", Limit: 3}, []string{"alice", "bob", "carol"}},
	} {
		got, err := s.Users(ctx, tc.f)
		if err != nil {
			t.Errorf("Users(%s): %v", tc.name, err)
			continue
		}
		wantDiff(t, "Users("+tc.name+")", tc.want, usernames(got))
	}

	// Listed users carry all their grants.
	got, err := s.Users(ctx, cpms.UserFilter{Centre: "FR01"})
	must(t, err)
	wantDiff(t, "Users with their roles", []cpms.User{normUser(carol), normUser(elodie)}, got)
}

func testUpdateUser(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	alice := fullUser()
	createUsers(t, s, alice, newUser("u-bob", "bob", "Bob"))
	stored, err := s.UserByID(ctx, "u-alice")
	must(t, err)

	_, err = s.UpdateUser(ctx, "u-nobody", func(u *cpms.User) error { return nil })
	wantErr(t, "UpdateUser of an unknown user", err, cpms.ErrNotFound)

	// fn sees the stored user; its error is returned and nothing is written.
	boom := errors.New("boom")
	_, err = s.UpdateUser(ctx, "u-alice", func(u *cpms.User) error {
		wantDiff(t, "user given to fn", stored, *u)
		u.DisplayName = "Changed"
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("UpdateUser with a failing fn: err = %v, want %v", err, boom)
	}

	// Every account field is written; ID, creation time and roles are not.
	want := stored
	want.Username, want.DisplayName, want.Email = "alice.martin", "Alice Martin-Dubois", "alice@hospital.example"
	want.Disabled, want.MustChangePassword = false, false
	want.PasswordHash, want.TOTPSecret, want.TOTPEnabled, want.TOTPLastStep = "new-hash", "NEWSECRET", false, 0
	want.FailedLogins, want.LockedUntil = 0, time.Time{}
	want.OIDCIssuer, want.OIDCSubject = "", ""
	got, err := s.UpdateUser(ctx, "u-alice", func(u *cpms.User) error {
		u.ID, u.CreatedAt, u.Roles = "u-other", t0.Add(time.Hour), nil
		u.Username, u.DisplayName, u.Email = want.Username, want.DisplayName, want.Email
		u.Disabled, u.MustChangePassword = false, false
		u.PasswordHash, u.TOTPSecret, u.TOTPEnabled, u.TOTPLastStep = "new-hash", "NEWSECRET", false, 0
		u.FailedLogins, u.LockedUntil = 0, time.Time{}
		u.OIDCIssuer, u.OIDCSubject = "", ""
		return nil
	})
	must(t, err)
	wantDiff(t, "UpdateUser result", want, got)
	reread, err := s.UserByID(ctx, "u-alice")
	must(t, err)
	wantDiff(t, "user after UpdateUser", want, reread)
	_, err = s.UserByOIDC(ctx, alice.OIDCIssuer, alice.OIDCSubject)
	wantErr(t, "UserByOIDC after the identity was removed", err, cpms.ErrNotFound)

	// Setting times and an identity again: stored normalised.
	lock := odd(time.Hour)
	got, err = s.UpdateUser(ctx, "u-alice", func(u *cpms.User) error {
		u.LockedUntil, u.FailedLogins = lock, 5
		u.OIDCIssuer, u.OIDCSubject = "https://id.example.org", "new-subject"
		return nil
	})
	must(t, err)
	want.LockedUntil, want.FailedLogins = norm(lock), 5
	want.OIDCIssuer, want.OIDCSubject = "https://id.example.org", "new-subject"
	wantDiff(t, "UpdateUser result with a lock", want, got)
	reread, err = s.UserByOIDC(ctx, "https://id.example.org", "new-subject")
	must(t, err)
	wantDiff(t, "user by its new identity", want, reread)

	// A taken username is a conflict, and nothing is written.
	_, err = s.UpdateUser(ctx, "u-alice", func(u *cpms.User) error {
		u.Username, u.DisplayName = "bob", "Not written"
		return nil
	})
	wantErr(t, "UpdateUser to a taken username", err, cpms.ErrConflict)
	reread, err = s.UserByID(ctx, "u-alice")
	must(t, err)
	wantDiff(t, "user after a conflicting update", want, reread)
}

// testUpdateUserConcurrent counts failed logins from many goroutines at once: a store that
// loses updates ends below the number of calls.
func testUpdateUserConcurrent(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	createUsers(t, s, newUser("u-alice", "alice", "Alice"))
	const workers, each = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Go(func() {
			for range each {
				_, err := s.UpdateUser(ctx, "u-alice", func(u *cpms.User) error {
					u.FailedLogins++
					return nil
				})
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	u, err := s.UserByID(ctx, "u-alice")
	must(t, err)
	if u.FailedLogins != workers*each {
		t.Errorf("FailedLogins after %d concurrent increments = %d", workers*each, u.FailedLogins)
	}
}

func testGrants(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	createUsers(t, s, newUser("u-alice", "alice", "Alice"), newUser("u-bob", "bob", "Bob"))

	exp := odd(180 * 24 * time.Hour)
	guest := cpms.RoleGrant{ID: "g-3", Role: cpms.RoleGuest, ERN: "ERKNet", Centre: "FR01", ExpiresAt: &exp,
		GrantedBy: "u-bob", CreatedAt: odd(3 * time.Second)}
	hp := grant("g-1", cpms.RoleHP, "EuroBloodNet", "BE10", 2*time.Second)
	helpdesk := grant("g-2", cpms.RoleHelpdesk, "", "", 2*time.Second) // same time as hp: then by ID
	for _, g := range []cpms.RoleGrant{guest, hp, helpdesk} {
		must(t, s.GrantRole(ctx, "u-alice", g))
	}

	for _, tc := range []struct {
		name   string
		userID string
		g      cpms.RoleGrant
		want   error
	}{
		{"same role, ERN and centre", "u-alice", grant("g-9", cpms.RoleHP, "EuroBloodNet", "BE10", 0), cpms.ErrConflict},
		{"same deployment-wide role", "u-alice", grant("g-9", cpms.RoleHelpdesk, "", "", 0), cpms.ErrConflict},
		{"same grant ID", "u-bob", grant("g-1", cpms.RoleResearcher, "ERKNet", "", 0), cpms.ErrConflict},
		{"unknown user", "u-nobody", grant("g-9", cpms.RoleHP, "EuroBloodNet", "BE10", 0), cpms.ErrNotFound},
	} {
		wantErr(t, "GrantRole, "+tc.name, s.GrantRole(ctx, tc.userID, tc.g), tc.want)
	}
	// The same role elsewhere, or for another user, is fine.
	must(t, s.GrantRole(ctx, "u-alice", grant("g-4", cpms.RoleHP, "EuroBloodNet", "FR01", 4*time.Second)))
	must(t, s.GrantRole(ctx, "u-bob", grant("g-5", cpms.RoleHP, "EuroBloodNet", "BE10", 0)))

	wantRoles := []cpms.RoleGrant{hp, helpdesk, guest, grant("g-4", cpms.RoleHP, "EuroBloodNet", "FR01", 4*time.Second)}
	for i := range wantRoles {
		wantRoles[i].CreatedAt, wantRoles[i].ExpiresAt = norm(wantRoles[i].CreatedAt), normPtr(wantRoles[i].ExpiresAt)
	}
	u, err := s.UserByID(ctx, "u-alice")
	must(t, err)
	wantDiff(t, "roles by creation time", wantRoles, u.Roles)
	for _, g := range u.Roles {
		wantUTC(t, "grant times", g.CreatedAt)
		if g.ExpiresAt != nil {
			wantUTC(t, "grant expiry", *g.ExpiresAt)
		}
	}

	wantErr(t, "RevokeRole of another user's grant", s.RevokeRole(ctx, "u-bob", "g-1"), cpms.ErrNotFound)
	must(t, s.RevokeRole(ctx, "u-alice", "g-1"))
	wantErr(t, "RevokeRole again", s.RevokeRole(ctx, "u-alice", "g-1"), cpms.ErrNotFound)
	wantErr(t, "RevokeRole of an unknown grant", s.RevokeRole(ctx, "u-alice", "g-nope"), cpms.ErrNotFound)
	u, err = s.UserByID(ctx, "u-alice")
	must(t, err)
	wantDiff(t, "roles after a revocation", wantRoles[1:], u.Roles)
	bob, err := s.UserByID(ctx, "u-bob")
	must(t, err)
	if len(bob.Roles) != 1 || bob.Roles[0].ID != "g-5" {
		t.Errorf("bob's roles after alice's revocation = %+v, want only g-5", bob.Roles)
	}
	// Revoked, the role may be granted again.
	must(t, s.GrantRole(ctx, "u-alice", grant("g-6", cpms.RoleHP, "EuroBloodNet", "BE10", 5*time.Second)))
}

func testRecoveryCodes(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	createUsers(t, s, newUser("u-alice", "alice", "Alice"), newUser("u-bob", "bob", "Bob"))
	wantErr(t, "SetRecoveryCodes of an unknown user", s.SetRecoveryCodes(ctx, "u-nobody", []string{"h1"}), cpms.ErrNotFound)

	must(t, s.SetRecoveryCodes(ctx, "u-alice", []string{"h1", "h2", "h3"}))
	must(t, s.SetRecoveryCodes(ctx, "u-bob", []string{"h1", "hb"}))
	use := func(user, hash string, want bool) {
		t.Helper()
		ok, err := s.UseRecoveryCode(ctx, user, hash, odd(time.Minute))
		if err != nil || ok != want {
			t.Errorf("UseRecoveryCode(%s, %s) = %v, %v; want %v", user, hash, ok, err, want)
		}
	}
	use("u-alice", "h1", true)
	use("u-alice", "h1", false) // single use
	use("u-bob", "h1", true)    // bob's own code of the same hash
	use("u-alice", "hb", false) // bob's code
	use("u-alice", "nope", false)
	use("u-nobody", "h2", false)

	// Replacing drops the old codes, used or not; the new ones are all unused.
	must(t, s.SetRecoveryCodes(ctx, "u-alice", []string{"h1", "h4"}))
	use("u-alice", "h2", false)
	use("u-alice", "h1", true)
	use("u-alice", "h4", true)
	use("u-bob", "hb", true) // bob's codes are untouched

	// Clearing leaves none.
	must(t, s.SetRecoveryCodes(ctx, "u-alice", []string{"h5"}))
	must(t, s.SetRecoveryCodes(ctx, "u-alice", nil))
	use("u-alice", "h5", false)

	// Of concurrent uses of one code, exactly one succeeds.
	must(t, s.SetRecoveryCodes(ctx, "u-alice", []string{"race"}))
	const n = 8
	var wg sync.WaitGroup
	results := make(chan error, n)
	wins := make(chan bool, n)
	for range n {
		wg.Go(func() {
			ok, err := s.UseRecoveryCode(ctx, "u-alice", "race", t0)
			results <- err
			wins <- ok
		})
	}
	wg.Wait()
	close(results)
	close(wins)
	for err := range results {
		must(t, err)
	}
	won := 0
	for ok := range wins {
		if ok {
			won++
		}
	}
	if won != 1 {
		t.Errorf("%d concurrent uses of one code: %d succeeded, want 1", n, won)
	}
}

func testAssistants(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	alice := newUser("u-alice", "alice", "Alice")
	alice.Roles = []cpms.RoleGrant{grant("g-a", cpms.RoleHP, "EuroBloodNet", "BE10", 0)}
	bob := newUser("u-bob", "bob", "Bob")
	bob.Roles = []cpms.RoleGrant{grant("g-b", cpms.RoleAssistant, "EuroBloodNet", "BE10", 0)}
	carol := newUser("u-carol", "carol", "Carol")
	dave := newUser("u-dave", "dave", "Dave")
	createUsers(t, s, dave, carol, bob, alice)

	wantErr(t, "AppointAssistant of an unknown assistant", s.AppointAssistant(ctx, "u-alice", "u-nobody", t0), cpms.ErrNotFound)
	wantErr(t, "AppointAssistant by an unknown clinician", s.AppointAssistant(ctx, "u-nobody", "u-bob", t0), cpms.ErrNotFound)

	must(t, s.AppointAssistant(ctx, "u-alice", "u-carol", odd(0)))
	must(t, s.AppointAssistant(ctx, "u-alice", "u-bob", odd(0)))
	must(t, s.AppointAssistant(ctx, "u-dave", "u-bob", odd(0)))
	must(t, s.AppointAssistant(ctx, "u-alice", "u-bob", odd(time.Hour))) // again: no error

	for _, tc := range []struct {
		clinician, assistant string
		want                 bool
	}{
		{"u-alice", "u-bob", true},
		{"u-bob", "u-alice", false}, // the direction matters
		{"u-dave", "u-bob", true},
		{"u-dave", "u-carol", false},
		{"u-nobody", "u-bob", false},
	} {
		got, err := s.IsAssistant(ctx, tc.clinician, tc.assistant)
		if err != nil || got != tc.want {
			t.Errorf("IsAssistant(%s, %s) = %v, %v; want %v", tc.clinician, tc.assistant, got, err, tc.want)
		}
	}

	as, err := s.Assistants(ctx, "u-alice")
	must(t, err)
	wantDiff(t, "Assistants, by username, with roles", []cpms.User{normUser(bob), normUser(carol)}, as)
	ps, err := s.Principals(ctx, "u-bob")
	must(t, err)
	wantDiff(t, "Principals, by username, with roles", []cpms.User{normUser(alice), normUser(dave)}, ps)
	for name, get := range map[string]func() ([]cpms.User, error){
		"Assistants of a user with none": func() ([]cpms.User, error) { return s.Assistants(ctx, "u-bob") },
		"Principals of a user with none": func() ([]cpms.User, error) { return s.Principals(ctx, "u-alice") },
		"Assistants of an unknown user":  func() ([]cpms.User, error) { return s.Assistants(ctx, "u-nobody") },
	} {
		if got, err := get(); err != nil || len(got) != 0 {
			t.Errorf("%s = %v, %v; want none", name, usernames(got), err)
		}
	}

	must(t, s.DismissAssistant(ctx, "u-alice", "u-bob"))
	wantErr(t, "DismissAssistant again", s.DismissAssistant(ctx, "u-alice", "u-bob"), cpms.ErrNotFound)
	wantErr(t, "DismissAssistant in the wrong direction", s.DismissAssistant(ctx, "u-carol", "u-alice"), cpms.ErrNotFound)
	if ok, err := s.IsAssistant(ctx, "u-alice", "u-bob"); err != nil || ok {
		t.Errorf("IsAssistant after dismissal = %v, %v", ok, err)
	}
	as, err = s.Assistants(ctx, "u-alice")
	must(t, err)
	wantDiff(t, "Assistants after dismissal", []string{"carol"}, usernames(as))
	ps, err = s.Principals(ctx, "u-bob")
	must(t, err)
	wantDiff(t, "Principals after dismissal", []string{"dave"}, usernames(ps))
}
