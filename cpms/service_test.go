package cpms_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/cpms/sqlstore"
	"github.com/ern-cpms/cpms/internal/auth"
	"github.com/ern-cpms/cpms/internal/sqldb/sqldbtest"
)

// testClock is the service's clock in these tests: it stands still until a test moves it.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// cheapPassword keeps argon2id at the smallest cost it accepts, so tests run fast.
var cheapPassword = auth.Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 16}

const testPassword = "correct horse battery staple"

var (
	operator = &cpms.Principal{Operator: "root", Via: "cli"}
	noInfo   = cpms.RequestInfo{}
)

// env is a service on a fresh SQLite database with the demo ERNs and centres (no users), a real
// auditor and a fixed clock.
type env struct {
	t       *testing.T
	ctx     context.Context
	store   *sqlstore.Store
	auditor *cpms.Auditor
	svc     *cpms.Service
	clock   *testClock
}

type envOption func(*cpms.Config)

func demoMode(c *cpms.Config) { c.Demo = true }

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.New(ctx, sqlstore.Config{DB: sqldbtest.OpenSQLite(t)})
	if err != nil {
		t.Fatal(err)
	}
	auditor := cpms.NewAuditor(cpms.AuditorConfig{Store: store})
	t.Cleanup(auditor.Close) // runs before the database is closed
	clock := &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	cfg := cpms.Config{Store: store, Auditor: auditor, Clock: clock.Now, Password: cheapPassword}
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := cpms.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	centres, erns, _ := cpms.DemoNetwork()
	for _, c := range centres {
		if err := store.PutCentre(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range erns {
		if err := store.PutERN(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	return &env{t: t, ctx: ctx, store: store, auditor: auditor, svc: svc, clock: clock}
}

// user creates an account with the test password and these grants (guests get six months).
func (e *env) user(username string, grants ...cpms.RoleGrant) cpms.User {
	e.t.Helper()
	for i := range grants {
		grants[i].ID = ""
		if grants[i].Role == cpms.RoleGuest && grants[i].ExpiresAt == nil {
			grants[i].ExpiresAt = ptr(e.svc.Now().Add(180 * 24 * time.Hour))
		}
	}
	u, _, err := e.svc.CreateUser(e.ctx, operator, cpms.NewUser{Username: username, DisplayName: "Test " + username,
		Password: testPassword, Roles: grants}, noInfo)
	if err != nil {
		e.t.Fatalf("creating %s: %v", username, err)
	}
	return u
}

// login signs in with the test password and returns the session's principal.
func (e *env) login(username string) (*cpms.Principal, cpms.LoginResult) {
	e.t.Helper()
	res, err := e.svc.Login(e.ctx, cpms.LoginRequest{Username: username, Password: testPassword})
	if err != nil {
		e.t.Fatalf("login %s: %v", username, err)
	}
	return e.session(res.Cookie), res
}

// session authenticates a cookie that must be valid.
func (e *env) session(cookie string) *cpms.Principal {
	e.t.Helper()
	p, err := e.svc.AuthenticateSession(e.ctx, cookie)
	if err != nil {
		e.t.Fatalf("AuthenticateSession: %v", err)
	}
	return p
}

// events returns the audit records matching f, oldest first.
func (e *env) events(f cpms.AuditFilter) []cpms.AuditEvent {
	e.t.Helper()
	evs, err := e.store.AuditEvents(e.ctx, f)
	if err != nil {
		e.t.Fatal(err)
	}
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	return evs
}

func (e *env) userByName(name string) cpms.User {
	e.t.Helper()
	u, err := e.store.UserByUsername(e.ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// wantErr fails the test unless err is a *cpms.Error of kind k and, when code is given, that code.
func wantErr(t *testing.T, err error, k cpms.Kind, code string) {
	t.Helper()
	var de *cpms.Error
	if !errors.As(err, &de) {
		t.Fatalf("got error %v, want a %s error", err, k)
	}
	if de.Kind != k || (code != "" && de.Code != code) {
		t.Fatalf("got %s error %q (code %q), want %s (code %q)", de.Kind, de.Msg, de.Code, k, code)
	}
}

// codeOf is the machine-readable reason of a domain error.
func codeOf(err error) string {
	var de *cpms.Error
	if errors.As(err, &de) {
		return de.Code
	}
	return ""
}

func TestLogin(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, e *env)
		username string
		password string
		wantCode string // "" for success
	}{
		{"success", nil, "alice", testPassword, ""},
		{"user name in capitals with spaces", nil, "  ALICE ", testPassword, ""},
		{"wrong password", nil, "alice", "not the password", "invalid_credentials"},
		{"empty password", nil, "alice", "", "invalid_credentials"},
		{"unknown user", nil, "mallory", testPassword, "invalid_credentials"},
		{"disabled user", func(t *testing.T, e *env) {
			if err := e.svc.SetDisabled(e.ctx, operator, e.userByName("alice").ID, true, noInfo); err != nil {
				t.Fatal(err)
			}
		}, "alice", testPassword, "invalid_credentials"},
		{"user without a password", func(t *testing.T, e *env) {
			if _, err := e.svc.LoginExternal(e.ctx, cpms.ExternalIdentity{Issuer: "https://idp.example", Subject: "s1",
				PreferredUsername: "oidc.only"}, noInfo); err != nil {
				t.Fatal(err)
			}
		}, "oidc.only", "", "invalid_credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			alice := e.user("alice", cpms.RoleGrant{Role: cpms.RoleERNAdmin, ERN: ebn})
			if tt.setup != nil {
				tt.setup(t, e)
			}
			actor := strings.ToLower(strings.TrimSpace(tt.username))
			before := len(e.events(cpms.AuditFilter{Actor: actor, Action: "login"}))
			res, err := e.svc.Login(e.ctx, cpms.LoginRequest{Username: tt.username, Password: tt.password,
				RequestInfo: cpms.RequestInfo{Source: "192.0.2.7", RequestID: "req-1", UserAgent: "test"}})
			logins := e.events(cpms.AuditFilter{Actor: actor, Action: "login"})
			if len(logins) != before+1 {
				t.Fatalf("Login added %d login records for %s, want 1: %+v", len(logins)-before, actor, logins)
			}
			ev := logins[len(logins)-1]
			if ev.Source != "192.0.2.7" || ev.RequestID != "req-1" {
				t.Errorf("audit record source %q, request %q: want the request's", ev.Source, ev.RequestID)
			}
			if tt.wantCode != "" {
				wantErr(t, err, cpms.KindUnauthenticated, tt.wantCode)
				if ev.Outcome != cpms.OutcomeMinorFailure {
					t.Errorf("failed login audited with outcome %d, want %d", ev.Outcome, cpms.OutcomeMinorFailure)
				}
				if res.Cookie != "" {
					t.Errorf("failed login returned a cookie")
				}
				return
			}
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			if res.User.ID != alice.ID || res.Session.UserID != alice.ID || res.Session.Method != "password" {
				t.Errorf("Login = user %s, session of %s by %q; want %s by password", res.User.ID, res.Session.UserID, res.Session.Method, alice.ID)
			}
			if ev.Outcome != cpms.OutcomeSuccess || ev.ActorID != alice.ID || ev.ObjectID != res.Session.ID {
				t.Errorf("login audited as %+v", ev)
			}
			if p := e.session(res.Cookie); p.User.ID != alice.ID || p.SessionID != res.Session.ID {
				t.Errorf("the cookie authenticates as %s (session %s)", p.Actor(), p.SessionID)
			}
		})
	}
}

func TestLoginLockout(t *testing.T) {
	e := newEnv(t)
	e.user("bob")
	policy := auth.DefaultLockoutPolicy()
	attempt := func(pw string) error {
		_, err := e.svc.Login(e.ctx, cpms.LoginRequest{Username: "bob", Password: pw})
		return err
	}
	for i := range policy.Threshold {
		wantErr(t, attempt("wrong"), cpms.KindUnauthenticated, "invalid_credentials")
		if u := e.userByName("bob"); u.FailedLogins != i+1 || u.LockedUntil.IsZero() != (i+1 < policy.Threshold) {
			t.Fatalf("after %d failures: count %d, locked until %v", i+1, u.FailedLogins, u.LockedUntil)
		}
	}
	wantErr(t, attempt(testPassword), cpms.KindUnauthenticated, "locked")
	wantErr(t, attempt("wrong"), cpms.KindUnauthenticated, "locked")
	e.clock.Advance(policy.Base - time.Second)
	wantErr(t, attempt(testPassword), cpms.KindUnauthenticated, "locked")
	e.clock.Advance(time.Second)
	if err := attempt(testPassword); err != nil {
		t.Fatalf("login once the lock has passed: %v", err)
	}
	if u := e.userByName("bob"); u.FailedLogins != 0 || !u.LockedUntil.IsZero() {
		t.Errorf("after a successful login: %d failures, locked until %v; want none", u.FailedLogins, u.LockedUntil)
	}
	// The count starts again: one failure does not lock.
	wantErr(t, attempt("wrong"), cpms.KindUnauthenticated, "invalid_credentials")
	if err := attempt(testPassword); err != nil {
		t.Fatalf("login after one failure: %v", err)
	}
	locked := 0
	for _, ev := range e.events(cpms.AuditFilter{Actor: "bob", Action: "login"}) {
		if ev.Detail == "locked" {
			locked++
		}
	}
	if locked != 3 {
		t.Errorf("%d refused logins of a locked account audited, want 3", locked)
	}
}

func TestLoginTOTP(t *testing.T) {
	e := newEnv(t)
	e.user("carol", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"})
	p, first := e.login("carol")
	cookie := first.Cookie
	if !p.MustEnrolTOTP {
		t.Fatal("an HP without a second factor is not asked to enrol one")
	}
	if _, err := e.svc.TOTPConfirm(e.ctx, p, "123456", noInfo); err == nil {
		t.Fatal("TOTPConfirm before TOTPSetup succeeded")
	}
	secret, uri, err := e.svc.TOTPSetup(e.ctx, p, "CPMS test", noInfo)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(uri, "otpauth://totp/") || !strings.Contains(uri, "secret="+secret) {
		t.Errorf("TOTPSetup URI %q does not carry the secret", uri)
	}
	code := func() string {
		c, err := auth.TOTPCode(secret, e.svc.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// wrong returns a code unlike c and unlike the codes of the steps next to now.
	wrong := func(c string) string {
		near := map[string]bool{}
		for _, d := range []time.Duration{-auth.TOTPPeriod, 0, auth.TOTPPeriod} {
			x, err := auth.TOTPCode(secret, e.svc.Now().Add(d))
			if err != nil {
				t.Fatal(err)
			}
			near[x] = true
		}
		for near[c] {
			c = string('0'+(c[0]-'0'+1)%10) + c[1:]
		}
		return c
	}
	_, err = e.svc.TOTPConfirm(e.ctx, p, wrong(code()), noInfo)
	wantErr(t, err, cpms.KindInvalid, "")
	recovery, err := e.svc.TOTPConfirm(e.ctx, p, code(), noInfo)
	if err != nil {
		t.Fatal(err)
	}
	if len(recovery) != auth.DefaultRecoveryCodes {
		t.Fatalf("%d recovery codes, want %d", len(recovery), auth.DefaultRecoveryCodes)
	}
	// The enrolling session carries on without the enrolment gate.
	p = e.session(cookie)
	if p.MustEnrolTOTP {
		t.Error("the session is still asked to enrol after TOTPConfirm")
	}
	if _, _, err := e.svc.TOTPSetup(e.ctx, p, "CPMS test", noInfo); cpms.KindOf(err) != cpms.KindConflict {
		t.Errorf("TOTPSetup once enrolled: %v, want a conflict", err)
	}

	login := func(second string) (cpms.LoginResult, error) {
		return e.svc.Login(e.ctx, cpms.LoginRequest{Username: "carol", Password: testPassword, TOTP: second})
	}
	_, err = login("")
	wantErr(t, err, cpms.KindUnauthenticated, "totp_required")
	_, err = e.svc.Login(e.ctx, cpms.LoginRequest{Username: "carol", Password: "wrong", TOTP: code()})
	wantErr(t, err, cpms.KindUnauthenticated, "invalid_credentials")

	// The code used to confirm may not sign in again within its step.
	_, err = login(code())
	wantErr(t, err, cpms.KindUnauthenticated, "invalid_totp")

	e.clock.Advance(auth.TOTPPeriod)
	good := code()
	res, err := login(good)
	if err != nil {
		t.Fatalf("login with a fresh code: %v", err)
	}
	if res.Session.Method != "password+totp" {
		t.Errorf("session method %q, want password+totp", res.Session.Method)
	}
	if p := e.session(res.Cookie); p.MustEnrolTOTP {
		t.Error("an enrolled HP is still asked to enrol")
	}
	_, err = login(good)
	wantErr(t, err, cpms.KindUnauthenticated, "invalid_totp")
	_, err = login(wrong(good))
	wantErr(t, err, cpms.KindUnauthenticated, "invalid_totp")

	e.clock.Advance(auth.TOTPPeriod)
	spaced := code()[:3] + " " + code()[3:]
	if _, err := login(spaced); err != nil {
		t.Fatalf("login with the next step's code, spaced: %v", err)
	}

	// Recovery codes work once each, in any case and spacing.
	if _, err := login(recovery[0]); err != nil {
		t.Fatalf("login with a recovery code: %v", err)
	}
	_, err = login(recovery[0])
	wantErr(t, err, cpms.KindUnauthenticated, "invalid_totp")
	if _, err := login(strings.ToUpper(strings.ReplaceAll(recovery[1], "-", " "))); err != nil {
		t.Fatalf("login with a recovery code typed in capitals: %v", err)
	}
	_, err = login("aaaa-bbbb-cccc")
	wantErr(t, err, cpms.KindUnauthenticated, "invalid_totp")
	if n := len(e.events(cpms.AuditFilter{Actor: "carol", Action: "login.recovery-code"})); n != 2 {
		t.Errorf("%d recovery-code sign-ins audited, want 2", n)
	}
}

// TestLoginSecondFactorRace signs in at once from several places with one code: the code
// opens one session only, as another instance of the server could take any of these requests.
func TestLoginSecondFactorRace(t *testing.T) {
	const tries = 8
	// The refused attempts count as failures: keep them from locking the account here.
	e := newEnv(t, func(c *cpms.Config) { c.Lockout = auth.LockoutPolicy{Threshold: 1000} })
	e.user("carol", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"})
	p, _ := e.login("carol")
	secret, _, err := e.svc.TOTPSetup(e.ctx, p, "CPMS test", noInfo)
	if err != nil {
		t.Fatal(err)
	}
	code, err := auth.TOTPCode(secret, e.svc.Now())
	if err != nil {
		t.Fatal(err)
	}
	recovery, err := e.svc.TOTPConfirm(e.ctx, p, code, noInfo)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(auth.TOTPPeriod)
	if code, err = auth.TOTPCode(secret, e.svc.Now()); err != nil {
		t.Fatal(err)
	}
	for _, second := range []string{code, recovery[0]} {
		var (
			wg sync.WaitGroup
			mu sync.Mutex
			ok int
		)
		for range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := e.svc.Login(e.ctx, cpms.LoginRequest{Username: "carol", Password: testPassword, TOTP: second})
				switch {
				case err == nil:
					mu.Lock()
					ok++
					mu.Unlock()
				case cpms.KindOf(err) != cpms.KindUnauthenticated:
					t.Errorf("Login: %v", err)
				case codeOf(err) != "invalid_totp":
					t.Errorf("Login refused with %v, want invalid_totp", err)
				}
			}()
		}
		wg.Wait()
		if ok != 1 {
			t.Errorf("%d of %d simultaneous sign-ins with one code succeeded, want 1", ok, tries)
		}
	}
}

func TestMustEnrolTOTP(t *testing.T) {
	tests := []struct {
		name string
		demo bool
		role cpms.RoleGrant
		want bool
	}{
		{"HP", false, cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"}, true},
		{"HP in demo mode", true, cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"}, false},
		{"guest", false, cpms.RoleGrant{Role: cpms.RoleGuest, ERN: ebn, Centre: "BE10"}, true},
		{"coordinator", false, cpms.RoleGrant{Role: cpms.RoleCoordinator, ERN: ebn, Centre: "IT10"}, true},
		{"assistant", false, cpms.RoleGrant{Role: cpms.RoleAssistant, ERN: ebn, Centre: "BE10"}, true},
		{"coordinator in demo mode", true, cpms.RoleGrant{Role: cpms.RoleCoordinator, ERN: ebn, Centre: "IT10"}, false},
		{"ERN admin", false, cpms.RoleGrant{Role: cpms.RoleERNAdmin, ERN: ebn}, false},
		{"researcher", false, cpms.RoleGrant{Role: cpms.RoleResearcher, ERN: ebn}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []envOption
			if tt.demo {
				opts = append(opts, demoMode)
			}
			e := newEnv(t, opts...)
			e.user("dave", tt.role)
			p, res := e.login("dave")
			if p.MustEnrolTOTP != tt.want {
				t.Errorf("principal MustEnrolTOTP = %v, want %v", p.MustEnrolTOTP, tt.want)
			}
			if got := e.svc.MustEnrolTOTP(&res.User, res.Session.Method, e.svc.Now()); got != tt.want {
				t.Errorf("MustEnrolTOTP = %v, want %v", got, tt.want)
			}
			if e.svc.MustEnrolTOTP(&res.User, "oidc", e.svc.Now()) {
				t.Error("a sign-in through the identity provider must enrol a second factor")
			}
		})
	}
}

func TestSessionTimeouts(t *testing.T) {
	const idle, max = 30 * time.Minute, 2 * time.Hour
	withTimeouts := func(c *cpms.Config) { c.SessionIdle, c.SessionMax = idle, max }

	t.Run("idle", func(t *testing.T) {
		e := newEnv(t, withTimeouts)
		e.user("erin")
		_, res := e.login("erin")
		for range 3 {
			e.clock.Advance(idle - time.Second)
			e.session(res.Cookie) // each use keeps it alive
		}
		e.clock.Advance(idle)
		_, err := e.svc.AuthenticateSession(e.ctx, res.Cookie)
		wantErr(t, err, cpms.KindUnauthenticated, "session_expired")
		// Going back in time does not revive it: it was deleted.
		_, err = e.svc.AuthenticateSession(e.ctx, res.Cookie)
		wantErr(t, err, cpms.KindUnauthenticated, "")
	})
	t.Run("absolute", func(t *testing.T) {
		e := newEnv(t, withTimeouts)
		e.user("erin")
		_, res := e.login("erin")
		for e.svc.Now().Add(20 * time.Minute).Before(res.Session.ExpiresAt) {
			e.clock.Advance(20 * time.Minute)
			e.session(res.Cookie)
		}
		if got := res.Session.ExpiresAt.Sub(res.Session.CreatedAt); got != max {
			t.Errorf("session lasts %v, want %v", got, max)
		}
		e.clock.Advance(res.Session.ExpiresAt.Sub(e.svc.Now()))
		_, err := e.svc.AuthenticateSession(e.ctx, res.Cookie)
		wantErr(t, err, cpms.KindUnauthenticated, "session_expired")
	})
	t.Run("sweep", func(t *testing.T) {
		e := newEnv(t, withTimeouts)
		e.user("erin")
		e.login("erin")
		_, kept := e.login("erin")
		e.clock.Advance(idle - time.Minute)
		e.session(kept.Cookie)
		e.clock.Advance(2 * time.Minute)
		n, err := e.svc.SweepSessions(e.ctx)
		if err != nil || n != 1 {
			t.Fatalf("SweepSessions = %d, %v; want 1 session swept", n, err)
		}
		e.session(kept.Cookie)
	})
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	e.user("frank")
	p1, r1 := e.login("frank")
	_, r2 := e.login("frank")
	_, r3 := e.login("frank")
	if err := e.svc.Logout(e.ctx, p1, noInfo); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateSession(e.ctx, r1.Cookie); cpms.KindOf(err) != cpms.KindUnauthenticated {
		t.Fatalf("session after Logout: %v, want unauthenticated", err)
	}
	p2 := e.session(r2.Cookie)
	e.session(r3.Cookie)
	n, err := e.svc.LogoutAll(e.ctx, p2, noInfo)
	if err != nil || n != 2 {
		t.Fatalf("LogoutAll = %d, %v; want 2", n, err)
	}
	for _, c := range []string{r2.Cookie, r3.Cookie} {
		if _, err := e.svc.AuthenticateSession(e.ctx, c); cpms.KindOf(err) != cpms.KindUnauthenticated {
			t.Errorf("session after LogoutAll: %v, want unauthenticated", err)
		}
	}
	if _, err := e.svc.LogoutAll(e.ctx, nil, noInfo); cpms.KindOf(err) != cpms.KindUnauthenticated {
		t.Errorf("LogoutAll without a principal: %v", err)
	}
	for _, action := range []string{"logout", "logout.all"} {
		if n := len(e.events(cpms.AuditFilter{Actor: "frank", Action: action})); n != 1 {
			t.Errorf("%d %s records, want 1", n, action)
		}
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	e.user("grace")
	p1, _ := e.login("grace")
	p2, _ := e.login("grace")
	tok1, err := e.svc.CSRFToken(e.ctx, p1)
	if err != nil || tok1 == "" {
		t.Fatalf("CSRFToken = %q, %v", tok1, err)
	}
	tok2, err := e.svc.CSRFToken(e.ctx, p2)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		p     *cpms.Principal
		token string
		ok    bool
	}{
		{"own token", p1, tok1, true},
		{"other session's token", p1, tok2, false},
		{"empty", p1, "", false},
		{"altered", p1, tok1[:len(tok1)-2] + "AA", false},
		{"no session", &cpms.Principal{User: p1.User, Via: "token"}, tok1, false},
		{"no principal", nil, tok1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.svc.CheckCSRF(e.ctx, tt.p, tt.token)
			if tt.ok {
				if err != nil {
					t.Fatalf("CheckCSRF: %v", err)
				}
				return
			}
			wantErr(t, err, cpms.KindPermission, "csrf")
		})
	}
	// Every instance derives the same key: a second service on the same store accepts the token.
	other, err := cpms.NewService(cpms.Config{Store: e.store, Password: cheapPassword, Clock: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.CheckCSRF(e.ctx, p1, tok1); err != nil {
		t.Errorf("another instance refuses the token: %v", err)
	}
}
