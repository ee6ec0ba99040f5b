package cpms_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ern-cpms/cpms/cpms"
)

// roleKey is a grant without its IDs and times, for comparing.
type roleKey struct {
	Role        cpms.Role
	ERN, Centre string
}

func roleKeys(gs []cpms.RoleGrant) []roleKey {
	var out []roleKey
	for _, g := range gs {
		out = append(out, roleKey{g.Role, g.ERN, g.Centre})
	}
	return out
}

var sortRoleKeys = cmpopts.SortSlices(func(a, b roleKey) bool {
	return a.Role+"/"+cpms.Role(a.ERN)+"/"+cpms.Role(a.Centre) < b.Role+"/"+cpms.Role(b.ERN)+"/"+cpms.Role(b.Centre)
})

func TestCreateUser(t *testing.T) {
	e := newEnv(t)
	ebnAdminUser := e.user("ebnadmin", cpms.RoleGrant{Role: cpms.RoleERNAdmin, ERN: ebn})
	e.user("coordinator", cpms.RoleGrant{Role: cpms.RoleCoordinator, ERN: ebn, Centre: "IT10"})
	e.user("helpdesk", cpms.RoleGrant{Role: cpms.RoleHelpdesk})
	e.user("taken")
	ebnAdmin, _ := e.login("ebnadmin")
	coordinator, _ := e.login("coordinator")
	helpdesk, _ := e.login("helpdesk")

	hp := func(ern, centre string) cpms.RoleGrant {
		return cpms.RoleGrant{Role: cpms.RoleHP, ERN: ern, Centre: centre}
	}
	tests := []struct {
		name     string
		p        *cpms.Principal
		username string
		password string
		roles    []cpms.RoleGrant
		want     cpms.Kind
	}{
		{"admin: user in own ERN", ebnAdmin, "u1", testPassword, []cpms.RoleGrant{hp(ebn, "BE10")}, allowed},
		{"admin: user without roles", ebnAdmin, "u2", testPassword, nil, allowed},
		{"admin: temporary password", ebnAdmin, "u3", "", []cpms.RoleGrant{hp(ebn, "CY01")}, allowed},
		{"admin: user in another ERN", ebnAdmin, "u4", testPassword, []cpms.RoleGrant{hp(ithaca, "BE10")}, cpms.KindPermission},
		{"admin: user in both ERNs", ebnAdmin, "u5", testPassword, []cpms.RoleGrant{hp(ebn, "BE10"), hp(ithaca, "FR08")}, cpms.KindPermission},
		{"admin: deployment helpdesk", ebnAdmin, "u6", testPassword, []cpms.RoleGrant{{Role: cpms.RoleHelpdesk}}, cpms.KindPermission},
		{"coordinator", coordinator, "u7", testPassword, []cpms.RoleGrant{hp(ebn, "BE10")}, cpms.KindPermission},
		{"coordinator: user without roles", coordinator, "u8", testPassword, nil, cpms.KindPermission},
		{"helpdesk", helpdesk, "u9", testPassword, nil, cpms.KindPermission},
		{"no principal", nil, "u10", testPassword, nil, cpms.KindUnauthenticated},
		{"operator: deployment helpdesk", operator, "u11", testPassword, []cpms.RoleGrant{{Role: cpms.RoleHelpdesk}}, allowed},
		{"operator: centre not in the ERN", operator, "u12", testPassword, []cpms.RoleGrant{hp(ithaca, "CY01")}, cpms.KindInvalid},
		{"operator: unknown ERN", operator, "u13", testPassword, []cpms.RoleGrant{hp("ERN-Nowhere", "BE10")}, cpms.KindInvalid},
		{"operator: guest without end", operator, "u14", testPassword, []cpms.RoleGrant{{Role: cpms.RoleGuest, ERN: ebn, Centre: "BE10"}}, cpms.KindInvalid},
		{"weak password", operator, "u15", "short", nil, cpms.KindInvalid},
		{"bad username", operator, "U 16!", testPassword, nil, cpms.KindInvalid},
		{"taken username", ebnAdmin, "taken", testPassword, nil, cpms.KindConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, temp, err := e.svc.CreateUser(e.ctx, tt.p, cpms.NewUser{Username: tt.username, DisplayName: "Someone",
				Email: tt.username + "@hospital.example", Password: tt.password, Roles: tt.roles}, noInfo)
			if got := kindOrAllowed(err); got != tt.want {
				t.Fatalf("CreateUser = %v (%s), want %s", err, kindName(got), kindName(tt.want))
			}
			if tt.want != allowed {
				if tt.want != cpms.KindConflict {
					if _, err := e.store.UserByUsername(e.ctx, tt.username); !errors.Is(err, cpms.ErrNotFound) {
						t.Errorf("a refused user was stored (lookup: %v)", err)
					}
				}
				return
			}
			if diff := cmp.Diff(roleKeys(tt.roles), roleKeys(u.Roles)); diff != "" {
				t.Errorf("roles (-want +got):\n%s", diff)
			}
			for _, g := range u.Roles {
				if tt.p.User != nil && g.GrantedBy != tt.p.User.ID {
					t.Errorf("grant %s by %q, want %q", g.Role, g.GrantedBy, tt.p.User.ID)
				}
			}
			if (temp != "") != (tt.password == "") || u.MustChangePassword != (tt.password == "") {
				t.Errorf("temporary password %q, must change %v, for given password %q", temp, u.MustChangePassword, tt.password)
			}
			pw := tt.password
			if pw == "" {
				pw = temp
			}
			if _, err := e.svc.Login(e.ctx, cpms.LoginRequest{Username: tt.username, Password: pw}); err != nil {
				t.Errorf("the new user cannot sign in: %v", err)
			}
		})
	}
	if got := e.events(cpms.AuditFilter{Actor: "ebnadmin", Action: "user.create"}); len(got) != 3 {
		t.Errorf("%d user.create records by ebnadmin, want 3", len(got))
	}
	if got := e.events(cpms.AuditFilter{Actor: "ebnadmin", Action: "role.grant"}); len(got) != 2 {
		t.Errorf("%d role.grant records by ebnadmin, want 2", len(got))
	} else if got[0].ActorID != ebnAdminUser.ID {
		t.Errorf("role.grant record actor ID %q, want %q", got[0].ActorID, ebnAdminUser.ID)
	}
}

func TestGrantRevokeRole(t *testing.T) {
	e := newEnv(t)
	e.user("ebnadmin", cpms.RoleGrant{Role: cpms.RoleERNAdmin, ERN: ebn})
	e.user("coordinator", cpms.RoleGrant{Role: cpms.RoleCoordinator, ERN: ebn, Centre: "IT10"})
	ivan := e.user("ivan")
	ebnAdmin, _ := e.login("ebnadmin")
	coordinator, _ := e.login("coordinator")

	grants := map[string]cpms.RoleGrant{}
	steps := []struct {
		name  string
		p     *cpms.Principal
		grant cpms.RoleGrant
		key   string // remember the grant under this key
		want  cpms.Kind
	}{
		{"admin grants in own ERN", ebnAdmin, cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "FR08"}, "ebn-hp", allowed},
		{"same grant again", ebnAdmin, cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "FR08"}, "", cpms.KindConflict},
		{"admin grants in another ERN", ebnAdmin, cpms.RoleGrant{Role: cpms.RoleHP, ERN: ithaca, Centre: "FR08"}, "", cpms.KindPermission},
		{"admin grants deployment helpdesk", ebnAdmin, cpms.RoleGrant{Role: cpms.RoleHelpdesk}, "", cpms.KindPermission},
		{"coordinator grants", coordinator, cpms.RoleGrant{Role: cpms.RoleResearcher, ERN: ebn}, "", cpms.KindPermission},
		{"operator grants in another ERN", operator, cpms.RoleGrant{Role: cpms.RoleHP, ERN: ithaca, Centre: "FR08"}, "ithaca-hp", allowed},
		{"admin grants a guest for six months", ebnAdmin, cpms.RoleGrant{Role: cpms.RoleGuest, ERN: ebn, Centre: "BG07",
			ExpiresAt: ptr(e.svc.Now().Add(180 * 24 * time.Hour))}, "ebn-guest", allowed},
		{"admin grants a guest for ever", ebnAdmin, cpms.RoleGrant{Role: cpms.RoleGuest, ERN: ebn, Centre: "BG07"}, "", cpms.KindInvalid},
	}
	for _, s := range steps {
		g, err := e.svc.GrantRole(e.ctx, s.p, ivan.ID, s.grant, noInfo)
		if got := kindOrAllowed(err); got != s.want {
			t.Fatalf("%s: GrantRole = %v (%s), want %s", s.name, err, kindName(got), kindName(s.want))
		}
		if s.key != "" {
			grants[s.key] = g
		}
	}
	if _, err := e.svc.GrantRole(e.ctx, ebnAdmin, "no-such-user", cpms.RoleGrant{Role: cpms.RoleResearcher, ERN: ebn}, noInfo); cpms.KindOf(err) != cpms.KindNotFound {
		t.Errorf("GrantRole to an unknown user: %v, want not found", err)
	}

	if err := e.svc.RevokeRole(e.ctx, ebnAdmin, ivan.ID, grants["ithaca-hp"].ID, noInfo); cpms.KindOf(err) != cpms.KindPermission {
		t.Errorf("admin revokes a grant of another ERN: %v, want a permission error", err)
	}
	if err := e.svc.RevokeRole(e.ctx, coordinator, ivan.ID, grants["ebn-hp"].ID, noInfo); cpms.KindOf(err) != cpms.KindPermission {
		t.Errorf("coordinator revokes: %v, want a permission error", err)
	}
	if err := e.svc.RevokeRole(e.ctx, ebnAdmin, ivan.ID, "no-such-grant", noInfo); cpms.KindOf(err) != cpms.KindNotFound {
		t.Errorf("revoking an unknown grant: %v, want not found", err)
	}
	if err := e.svc.RevokeRole(e.ctx, ebnAdmin, ivan.ID, grants["ebn-hp"].ID, noInfo); err != nil {
		t.Fatalf("admin revokes a grant of own ERN: %v", err)
	}
	got := e.userByName("ivan")
	want := []roleKey{{cpms.RoleHP, ithaca, "FR08"}, {cpms.RoleGuest, ebn, "BG07"}}
	if diff := cmp.Diff(want, roleKeys(got.Roles), sortRoleKeys); diff != "" {
		t.Errorf("ivan's roles (-want +got):\n%s", diff)
	}
	if i := slices.IndexFunc(got.Roles, func(g cpms.RoleGrant) bool { return g.Role == cpms.RoleGuest }); i < 0 || got.Roles[i].ExpiresAt == nil {
		t.Errorf("the guest grant lost its end: %+v", got.Roles)
	}
	for action, n := range map[string]int{"role.grant": 2, "role.revoke": 1} {
		if got := e.events(cpms.AuditFilter{Actor: "ebnadmin", Action: action, ObjectID: ivan.ID}); len(got) != n {
			t.Errorf("%d %s records by ebnadmin, want %d", len(got), action, n)
		}
	}
}

func TestResetPassword(t *testing.T) {
	e := newEnv(t)
	judy := e.user("judy", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"})
	e.user("helpdesk", cpms.RoleGrant{Role: cpms.RoleHelpdesk})
	e.user("ebnhelpdesk", cpms.RoleGrant{Role: cpms.RoleHelpdesk, ERN: ebn})
	e.user("ithhelpdesk", cpms.RoleGrant{Role: cpms.RoleHelpdesk, ERN: ithaca})
	e.user("hp", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"})
	helpdesk, _ := e.login("helpdesk")
	ebnHelpdesk, _ := e.login("ebnhelpdesk")
	ithHelpdesk, _ := e.login("ithhelpdesk")
	colleague, _ := e.login("hp")
	_, s1 := e.login("judy")
	_, s2 := e.login("judy")
	for range 5 {
		e.svc.Login(e.ctx, cpms.LoginRequest{Username: "judy", Password: "wrong"})
	}
	if e.userByName("judy").LockedUntil.IsZero() {
		t.Fatal("judy is not locked out")
	}

	for name, p := range map[string]*cpms.Principal{"helpdesk of another ERN": ithHelpdesk, "colleague": colleague, "nobody": nil} {
		if _, err := e.svc.ResetPassword(e.ctx, p, judy.ID, noInfo); err == nil {
			t.Errorf("%s reset judy's password", name)
		}
	}
	e.session(s1.Cookie) // refused resets end no session

	temp, err := e.svc.ResetPassword(e.ctx, helpdesk, judy.ID, noInfo)
	if err != nil {
		t.Fatalf("deployment helpdesk resets: %v", err)
	}
	for _, c := range []string{s1.Cookie, s2.Cookie} {
		if _, err := e.svc.AuthenticateSession(e.ctx, c); cpms.KindOf(err) != cpms.KindUnauthenticated {
			t.Errorf("a session survived the reset: %v", err)
		}
	}
	u := e.userByName("judy")
	if !u.MustChangePassword || u.FailedLogins != 0 || !u.LockedUntil.IsZero() {
		t.Errorf("after reset: must change %v, failures %d, locked until %v", u.MustChangePassword, u.FailedLogins, u.LockedUntil)
	}
	_, err = e.svc.Login(e.ctx, cpms.LoginRequest{Username: "judy", Password: testPassword})
	wantErr(t, err, cpms.KindUnauthenticated, "invalid_credentials")
	res, err := e.svc.Login(e.ctx, cpms.LoginRequest{Username: "judy", Password: temp})
	if err != nil {
		t.Fatalf("login with the temporary password: %v", err)
	}
	if !res.User.MustChangePassword {
		t.Error("the signed-in user is not told to change the password")
	}
	p := e.session(res.Cookie)
	if err := e.svc.ChangePassword(e.ctx, p, "wrong", "a brand new passphrase", noInfo); cpms.KindOf(err) != cpms.KindInvalid {
		t.Errorf("ChangePassword with a wrong current password: %v", err)
	}
	if err := e.svc.ChangePassword(e.ctx, p, temp, "a brand new passphrase", noInfo); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	if e.userByName("judy").MustChangePassword {
		t.Error("MustChangePassword still set after the change")
	}

	if _, err := e.svc.ResetPassword(e.ctx, ebnHelpdesk, judy.ID, noInfo); err != nil {
		t.Errorf("helpdesk of judy's ERN resets: %v", err)
	}
	if _, err := e.svc.ResetPassword(e.ctx, helpdesk, "no-such-user", noInfo); cpms.KindOf(err) != cpms.KindNotFound {
		t.Errorf("resetting an unknown user: %v, want not found", err)
	}
	for actor, n := range map[string]int{"helpdesk": 1, "ebnhelpdesk": 1, "ithhelpdesk": 0} {
		if got := e.events(cpms.AuditFilter{Actor: actor, Action: "user.reset-password", ObjectID: judy.ID}); len(got) != n {
			t.Errorf("%d reset records by %s, want %d", len(got), actor, n)
		}
	}
}

func TestSeedDemo(t *testing.T) {
	for _, demo := range []bool{true, false} {
		name := "demo mode"
		if !demo {
			name = "operator command outside demo mode"
		}
		t.Run(name, func(t *testing.T) {
			var opts []envOption
			if demo {
				opts = append(opts, demoMode)
			}
			e := newEnv(t, opts...)
			if _, err := e.svc.SeedDemo(e.ctx, &cpms.Principal{User: &cpms.User{ID: "x", Username: "x"}}); cpms.KindOf(err) != cpms.KindPermission {
				t.Fatalf("SeedDemo by a user: %v, want a permission error", err)
			}
			_, _, users := cpms.DemoNetwork()
			n, err := e.svc.SeedDemo(e.ctx, operator)
			if err != nil || n != len(users) {
				t.Fatalf("first SeedDemo = %d, %v; want %d users", n, err, len(users))
			}
			n, err = e.svc.SeedDemo(e.ctx, operator)
			if err != nil || n != 0 {
				t.Fatalf("second SeedDemo = %d, %v; want 0", n, err)
			}
			all, err := e.svc.Users(e.ctx, operator, cpms.UserFilter{})
			if err != nil || len(all) != len(users) {
				t.Fatalf("%d users after seeding twice (%v), want %d", len(all), err, len(users))
			}
			for _, nu := range users {
				u := e.userByName(nu.Username)
				if diff := cmp.Diff(roleKeys(nu.Roles), roleKeys(u.Roles)); diff != "" {
					t.Errorf("%s roles (-want +got):\n%s", nu.Username, diff)
				}
				for _, g := range u.Roles {
					if (g.ExpiresAt != nil) != (g.Role == cpms.RoleGuest) {
						t.Errorf("%s: %s grant ends at %v", nu.Username, g.Role, g.ExpiresAt)
					}
				}
				res, err := e.svc.Login(e.ctx, cpms.LoginRequest{Username: nu.Username, Password: cpms.DemoPassword})
				if err != nil {
					t.Errorf("%s cannot sign in with the demo password: %v", nu.Username, err)
					continue
				}
				clinical := u.NeedsSecondFactor(e.svc.Now())
				if got := e.session(res.Cookie).MustEnrolTOTP; got != (clinical && !demo) {
					t.Errorf("%s must enrol TOTP = %v", nu.Username, got)
				}
			}
			if _, ok, err := e.store.Setting(e.ctx, "demo.seeded"); err != nil || !ok {
				t.Errorf("demo.seeded setting: %v, %v", ok, err)
			}
			// Synthetic patients at each centre with a demo clinician, enrolled once.
			pats, total, err := e.svc.SearchPatients(e.ctx, operator, cpms.PatientFilter{Limit: 100, Total: true}, noInfo)
			if err != nil || total != 12 || len(pats) != 12 {
				t.Fatalf("demo patients: %d (%v), want 12", total, err)
			}
			centres := map[string]int{}
			for _, p := range pats {
				centres[p.Centre]++
				if !p.CareConsentInForce() || p.CPMSID == "" {
					t.Errorf("demo patient %s: %+v", p.ID, p)
				}
			}
			if len(centres) != 5 {
				t.Errorf("demo patients at %d centres: %v", len(centres), centres)
			}
		})
	}
	// The documented profiles: one user per role of EuroBloodNet.
	_, _, users := cpms.DemoNetwork()
	got := map[string]roleKey{}
	for _, u := range users {
		got[u.Username] = roleKeys(u.Roles)[0]
	}
	want := map[string]roleKey{
		"bloodnethpuser1":    {cpms.RoleHP, ebn, "BE10"},
		"bloodnethpuser2":    {cpms.RoleHP, ebn, "BG07"},
		"bloodnethpuser3":    {cpms.RoleHP, ebn, "CY01"},
		"bloodnethpuser4":    {cpms.RoleHP, ebn, "CZ08"},
		"bloodnethpuser5":    {cpms.RoleHP, ebn, "FR08"},
		"bloodnetcoord":      {cpms.RoleCoordinator, ebn, "IT10"},
		"bloodnetdispatcher": {cpms.RoleDispatcher, ebn, "IT10"},
		"bloodnetdatabase":   {cpms.RoleResearcher, ebn, ""},
		"bloodnetguest":      {cpms.RoleGuest, ebn, "BE10"},
		"bloodnetadmin":      {cpms.RoleERNAdmin, ebn, ""},
		"bloodnetassistant":  {cpms.RoleAssistant, ebn, "BE10"},
		"bloodnetdpo":        {cpms.RoleDataProtection, ebn, "BE10"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("demo users (-want +got):\n%s", diff)
	}
}

func TestLoginExternal(t *testing.T) {
	e := newEnv(t)
	const issuer = "https://login.example.eu"
	kim := cpms.ExternalIdentity{Issuer: issuer, Subject: "sub-1", Email: "Kim.Lee@hospital.example", EmailVerified: true,
		Name: "Kim Lee", PreferredUsername: "Kim.Lee"}
	first, err := e.svc.LoginExternal(e.ctx, kim, noInfo)
	if err != nil {
		t.Fatalf("first sign-in: %v", err)
	}
	u := first.User
	if u.Username != "kim.lee" || u.DisplayName != "Kim Lee" || u.Email != kim.Email || len(u.Roles) != 0 {
		t.Errorf("created user %+v", u)
	}
	if first.Session.Method != "oidc" {
		t.Errorf("session method %q, want oidc", first.Session.Method)
	}
	if p := e.session(first.Cookie); p.User.ID != u.ID || p.MustEnrolTOTP {
		t.Errorf("session principal %s, must enrol %v", p.Actor(), p.MustEnrolTOTP)
	}
	second, err := e.svc.LoginExternal(e.ctx, kim, noInfo)
	if err != nil {
		t.Fatalf("second sign-in: %v", err)
	}
	if second.User.ID != u.ID || second.Session.ID == first.Session.ID {
		t.Errorf("second sign-in: user %s, session %s; want user %s in a new session", second.User.ID, second.Session.ID, u.ID)
	}
	if got := e.events(cpms.AuditFilter{Action: "user.create", ObjectID: u.ID}); len(got) != 1 {
		t.Errorf("%d user.create records for the external user, want 1", len(got))
	}

	tests := []struct {
		name         string
		id           cpms.ExternalIdentity
		wantUsername string
		wantEmail    string
	}{
		{"same preferred name, other person", cpms.ExternalIdentity{Issuer: issuer, Subject: "sub-2", PreferredUsername: "kim.lee", EmailVerified: true, Email: "other@hospital.example"}, "kim.lee-2", "other@hospital.example"},
		{"same subject, other issuer", cpms.ExternalIdentity{Issuer: "https://idp.example.org", Subject: "sub-1", PreferredUsername: "kim.lee"}, "kim.lee-3", ""},
		{"name from an unverified e-mail", cpms.ExternalIdentity{Issuer: issuer, Subject: "sub-3", Email: "Jo Ann@hospital.example"}, "jo.ann", ""},
		{"nothing to make a name of", cpms.ExternalIdentity{Issuer: issuer, Subject: "sub-4", PreferredUsername: "!"}, "user", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := e.svc.LoginExternal(e.ctx, tt.id, noInfo)
			if err != nil {
				t.Fatal(err)
			}
			if res.User.ID == u.ID || res.User.Username != tt.wantUsername || res.User.Email != tt.wantEmail {
				t.Errorf("user %s (%q, %q), want a new user %q with e-mail %q", res.User.ID, res.User.Username, res.User.Email, tt.wantUsername, tt.wantEmail)
			}
		})
	}

	if _, err := e.svc.LoginExternal(e.ctx, cpms.ExternalIdentity{Issuer: issuer}, noInfo); cpms.KindOf(err) != cpms.KindUnauthenticated {
		t.Errorf("sign-in without a subject: %v, want unauthenticated", err)
	}
	if err := e.svc.SetDisabled(e.ctx, operator, u.ID, true, noInfo); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.LoginExternal(e.ctx, kim, noInfo)
	wantErr(t, err, cpms.KindUnauthenticated, "disabled")
}
