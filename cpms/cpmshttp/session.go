package cpmshttp

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/ern-cpms/cpms/cpms"
)

type loginJSON struct {
	Username string `json:"username"`
	Password string `json:"password"`
	TOTP     string `json:"totp"`
}

// sameOrigin refuses cross-site form posts to the login endpoint (login CSRF).
func sameOrigin(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return o == ""
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

func (a *API) login(w http.ResponseWriter, r *http.Request) error {
	if !sameOrigin(r) {
		return cpms.Errorf(cpms.KindPermission, "sign in from this site's own page").WithCode("csrf")
	}
	if !a.limiter.Allow(ClientAddr(r)) {
		w.Header().Set("Retry-After", a.loginRetry)
		return cpms.Errorf(cpms.KindTooMany, "too many sign-in attempts from your address: wait a minute").WithCode("throttled")
	}
	var in loginJSON
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	res, err := a.svc.Login(r.Context(), cpms.LoginRequest{Username: in.Username, Password: in.Password, TOTP: in.TOTP, RequestInfo: info(r)})
	if err != nil {
		return err
	}
	return a.startSession(w, r, res)
}

func (a *API) startSession(w http.ResponseWriter, r *http.Request, res cpms.LoginResult) error {
	a.auth.SetCookie(w, res.Cookie)
	u := res.User
	p := &cpms.Principal{User: &u, SessionID: res.Session.ID, Via: "session", MustEnrolTOTP: a.svc.MustEnrolTOTP(&u, res.Session.Method, a.svc.Now())}
	me, err := a.meFor(r.Context(), r, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": me, "csrfToken": me.CSRFToken})
	return nil
}

func (a *API) meFor(ctx context.Context, r *http.Request, p *cpms.Principal) (meJSON, error) {
	if p.User == nil {
		return meJSON{}, cpms.Errorf(cpms.KindPermission, "this token belongs to a system, not a person")
	}
	u := p.User
	csrf, err := a.svc.CSRFToken(ctx, p)
	if err != nil {
		return meJSON{}, err
	}
	me := meJSON{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email, TOTPEnabled: u.TOTPEnabled,
		Roles: a.roles(r, u.Roles), CSRFToken: csrf, MustChangePassword: u.MustChangePassword, Via: p.Via}
	me.MustEnrolTOTP = p.MustEnrolTOTP
	if p.OnBehalfOf != nil {
		ref := p.OnBehalfOf.Ref()
		me.OnBehalfOf = &ref
	}
	return me, nil
}

func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p.System != "" {
		// A system token: say which centre and system it speaks for.
		writeJSON(w, http.StatusOK, map[string]any{"system": p.System, "centre": p.Centre, "via": p.Via, "roles": []roleJSON{}})
		return nil
	}
	me, err := a.meFor(r.Context(), r, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, me)
	return nil
}

func (a *API) logout(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.Logout(r.Context(), principal(r), info(r)); err != nil {
		return err
	}
	a.auth.ClearCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) logoutAll(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.svc.LogoutAll(r.Context(), principal(r), info(r)); err != nil {
		return err
	}
	a.auth.ClearCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// dashboard is the home page's frame; meetings and panels fill it in later work.
func (a *API) dashboard(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.Authorize(r.Context(), principal(r), cpms.ActDashboard, cpms.Resource{}, info(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"upcomingMeetings": []any{}, "meetingInvites": []any{}, "panelActivity": []any{}, "panelInvites": []any{},
		"generatedAt": a.svc.Now().Format(time.RFC3339),
	})
	return nil
}

type ernJSON struct {
	Code          string       `json:"code"`
	Name          string       `json:"name"`
	ThematicAreas []string     `json:"thematicAreas"`
	Centres       []centreJSON `json:"centres"`
}

type centreJSON struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	Country string `json:"country"`
}

func (a *API) erns(w http.ResponseWriter, r *http.Request) error {
	es, cs, err := a.svc.ERNs(r.Context())
	if err != nil {
		return err
	}
	byCode := map[string]cpms.Centre{}
	for _, c := range cs {
		byCode[c.Code] = c
	}
	out := make([]ernJSON, 0, len(es))
	for _, e := range es {
		j := ernJSON{Code: e.Code, Name: e.Name, ThematicAreas: e.ThematicAreas, Centres: []centreJSON{}}
		if j.ThematicAreas == nil {
			j.ThematicAreas = []string{}
		}
		for _, c := range e.Centres {
			cc := byCode[c]
			j.Centres = append(j.Centres, centreJSON{Code: c, Name: cc.Name, Country: cc.Country})
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
