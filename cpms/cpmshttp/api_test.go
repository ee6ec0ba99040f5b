package cpmshttp_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/cpms/cpmshttp"
	"github.com/ern-cpms/cpms/cpms/cpmstest"
	"github.com/ern-cpms/cpms/internal/auth"
	"github.com/ern-cpms/cpms/internal/sqldb/sqldbtest"
)

// newAPI builds the API on the real SQLite store with the demo network, outside demo mode (so
// the second-factor rule applies), behind the shared authentication.
func newAPI(t *testing.T) (*cpmshttp.API, http.Handler) {
	t.Helper()
	svc, _ := cpmstest.DemoService(t, sqldbtest.OpenSQLite(t), cpms.Config{})
	authn := &cpmshttp.Authenticator{Service: svc}
	api, err := cpmshttp.New(cpmshttp.Config{Service: svc, Auth: authn})
	if err != nil {
		t.Fatal(err)
	}
	return api, cpmshttp.Observe(slogDiscard(), nil, authn.Wrap(api))
}

type client struct {
	t       *testing.T
	h       http.Handler
	cookies []*http.Cookie
	csrf    string
}

func (c *client) do(method, path string, body any, hdr ...string) *httptest.ResponseRecorder {
	c.t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(b))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	for _, ck := range rec.Result().Cookies() {
		c.cookies = []*http.Cookie{ck}
		if ck.MaxAge < 0 {
			c.cookies = nil
		}
	}
	return rec
}

func (c *client) login(user, pw string) *httptest.ResponseRecorder {
	rec := c.do("POST", "/api/login", map[string]string{"username": user, "password": pw})
	var out struct {
		CSRFToken string `json:"csrfToken"`
	}
	json.Unmarshal(rec.Body.Bytes(), &out)
	c.csrf = out.CSRFToken
	return rec
}

func problem(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	var p cpmshttp.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != status || p.Title == "" || p.RequestID == "" || (code != "" && p.Code != code) {
		t.Errorf("problem = %+v, want status %d code %q", p, status, code)
	}
}

func TestLoginSessionCSRFAndLogout(t *testing.T) {
	_, h := newAPI(t)
	c := &client{t: t, h: h}
	problem(t, c.login("bloodnethpuser1", "wrong"), 401, "invalid_credentials")
	problem(t, c.login("nobody", "cpms-demo"), 401, "invalid_credentials")
	problem(t, c.do("GET", "/api/me", nil), 401, "")

	rec := c.login("bloodnetadmin", "cpms-demo")
	if rec.Code != 200 || c.csrf == "" || len(c.cookies) != 1 {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	ck := c.cookies[0]
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Name != "cpms_session" {
		t.Errorf("session cookie %+v", ck)
	}
	if rec := c.do("GET", "/api/me", nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"ERN admin"`) {
		t.Fatalf("/api/me: %d %s", rec.Code, rec.Body)
	}
	// Unsafe requests of a session need the anti-forgery token.
	problem(t, c.do("POST", "/api/admin/users/x/disable", nil), 403, "csrf")
	problem(t, c.do("POST", "/api/admin/users/x/disable", nil, "X-CSRF-Token", "forged"), 403, "csrf")
	problem(t, c.do("POST", "/api/admin/users/x/disable", nil, "X-CSRF-Token", c.csrf), 404, "")
	// A login posted from another site is refused.
	problem(t, c.do("POST", "/api/login", map[string]string{"username": "bloodnetadmin", "password": "cpms-demo"}, "Origin", "https://evil.example"), 403, "csrf")

	if rec := c.do("POST", "/api/logout", nil, "X-CSRF-Token", c.csrf); rec.Code != 204 {
		t.Fatalf("logout: %d %s", rec.Code, rec.Body)
	}
	problem(t, c.do("GET", "/api/me", nil), 401, "")
}

// Outside demo mode a clinician must enrol a second factor before anything else; then sign-in
// asks for the code.
func TestSecondFactorEnrolment(t *testing.T) {
	_, h := newAPI(t)
	c := &client{t: t, h: h}
	if rec := c.login("bloodnethpuser2", "cpms-demo"); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"mustEnrolTotp":true`) {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	problem(t, c.do("GET", "/api/dashboard", nil), 403, "totp_enrolment_required")
	rec := c.do("POST", "/api/account/totp/setup", nil, "X-CSRF-Token", c.csrf)
	var setup struct{ Secret, URI string }
	json.Unmarshal(rec.Body.Bytes(), &setup)
	if rec.Code != 200 || setup.Secret == "" || !strings.HasPrefix(setup.URI, "otpauth://totp/") {
		t.Fatalf("totp setup: %d %s", rec.Code, rec.Body)
	}
	code, _ := auth.TOTPCode(setup.Secret, time.Now())
	rec = c.do("POST", "/api/account/totp/confirm", map[string]string{"code": code}, "X-CSRF-Token", c.csrf)
	var conf struct{ RecoveryCodes []string }
	json.Unmarshal(rec.Body.Bytes(), &conf)
	if rec.Code != 200 || len(conf.RecoveryCodes) != 10 {
		t.Fatalf("totp confirm: %d %s", rec.Code, rec.Body)
	}
	c2 := &client{t: t, h: h}
	problem(t, c2.login("bloodnethpuser2", "cpms-demo"), 401, "totp_required")
	rec = c2.do("POST", "/api/login", map[string]string{"username": "bloodnethpuser2", "password": "cpms-demo", "totp": conf.RecoveryCodes[0]})
	if rec.Code != 200 {
		t.Fatalf("login with a recovery code: %d %s", rec.Code, rec.Body)
	}
	if rec := c2.do("GET", "/api/dashboard", nil); rec.Code != 200 {
		t.Fatalf("dashboard after enrolment: %d %s", rec.Code, rec.Body)
	}
	c3 := &client{t: t, h: h}
	problem(t, c3.do("POST", "/api/login", map[string]string{"username": "bloodnethpuser2", "password": "cpms-demo", "totp": conf.RecoveryCodes[0]}), 401, "invalid_totp")
}

func TestBadRequestsGetProblems(t *testing.T) {
	_, h := newAPI(t)
	c := &client{t: t, h: h}
	c.login("bloodnetadmin", "cpms-demo")
	req := func(body string, ct string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/api/admin/users", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		r.Header.Set("X-CSRF-Token", c.csrf)
		for _, ck := range c.cookies {
			r.AddCookie(ck)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	problem(t, req(`{"username":`, "application/json"), 400, "")
	problem(t, req(`{"username":"x","bogus":1}`, "application/json"), 400, "")
	problem(t, req(`username=x`, "application/x-www-form-urlencoded"), 400, "unsupported_media_type")
	problem(t, req(`{"username":"`+strings.Repeat("a", 2<<20)+`"}`, "application/json"), 400, "too_large")
	rec := req(`{"username":"A B","displayName":"","email":"not-mail"}`, "application/json")
	problem(t, rec, 400, "invalid")
	var p cpmshttp.Problem
	json.Unmarshal(rec.Body.Bytes(), &p)
	if len(p.Errors) != 3 {
		t.Errorf("validation reported %d field errors, want all 3: %+v", len(p.Errors), p.Errors)
	}
	problem(t, c.do("GET", "/api/nothing-here", nil), 404, "")
	problem(t, c.do("DELETE", "/api/me", nil, "X-CSRF-Token", c.csrf), 405, "")

	// A bearer token that is not valid is refused at once, wherever it is sent.
	problem(t, c.do("GET", "/api/dashboard", nil, "Authorization", "Bearer cpms_pat_garbage"), 401, "invalid_token")
	problem(t, c.do("GET", "/api/dashboard", nil, "Authorization", "Basic Zm9vOmJhcg=="), 401, "invalid_token")
}

func TestLoginThrottled(t *testing.T) {
	_, h := newAPI(t)
	c := &client{t: t, h: h}
	var last *httptest.ResponseRecorder
	for i := 0; i < 12; i++ {
		last = c.login("bloodnetguest", "wrong")
	}
	problem(t, last, 429, "throttled")
}

// A temporary password allows nothing but changing it, for sessions and tokens alike.
func TestTemporaryPasswordMustBeChanged(t *testing.T) {
	_, h := newAPI(t)
	admin := &client{t: t, h: h}
	admin.login("bloodnetadmin", "cpms-demo")
	rec := admin.do("POST", "/api/admin/users", map[string]any{"username": "fresh", "displayName": "Fresh User"}, "X-CSRF-Token", admin.csrf)
	var created struct{ TemporaryPassword string }
	json.Unmarshal(rec.Body.Bytes(), &created)
	if rec.Code != 201 || created.TemporaryPassword == "" {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	c := &client{t: t, h: h}
	if rec := c.login("fresh", created.TemporaryPassword); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"mustChangePassword":true`) {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	problem(t, c.do("GET", "/api/dashboard", nil), 403, "password_change_required")
	problem(t, c.do("POST", "/api/account/tokens", map[string]any{"name": "x"}, "X-CSRF-Token", c.csrf), 403, "password_change_required")
	if rec := c.do("GET", "/api/me", nil); rec.Code != 200 {
		t.Fatalf("/api/me: %d", rec.Code)
	}
	if rec := c.do("POST", "/api/account/password", map[string]string{"current": created.TemporaryPassword, "new": "a much longer passphrase"}, "X-CSRF-Token", c.csrf); rec.Code != 204 {
		t.Fatalf("change password: %d %s", rec.Code, rec.Body)
	}
	if rec := c.do("GET", "/api/dashboard", nil); rec.Code != 200 {
		t.Fatalf("dashboard after the change: %d %s", rec.Code, rec.Body)
	}
}

func TestSessionsAndAuditReading(t *testing.T) {
	_, h := newAPI(t)
	a, b := &client{t: t, h: h}, &client{t: t, h: h}
	a.login("bloodnetadmin", "cpms-demo")
	b.login("bloodnetadmin", "cpms-demo")
	rec := a.do("GET", "/api/account/sessions", nil)
	var ss []struct {
		ID      string `json:"id"`
		Current bool   `json:"current"`
	}
	json.Unmarshal(rec.Body.Bytes(), &ss)
	if rec.Code != 200 || len(ss) != 2 || ss[0].Current == ss[1].Current {
		t.Fatalf("sessions: %d %s", rec.Code, rec.Body)
	}
	// An ERN admin does not read the deployment's audit trail.
	problem(t, a.do("GET", "/api/audit", nil), 403, "")
}
