package cpmshttp

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ern-cpms/cpms/cpms"
)

func (a *API) listAccessRequests(w http.ResponseWriter, r *http.Request) error {
	status := cpms.AccessStatus(r.URL.Query().Get("status"))
	switch status {
	case "all":
		status = ""
	case "", cpms.AccessPending, cpms.AccessApproved, cpms.AccessRefused:
	default:
		return cpms.Errorf(cpms.KindInvalid, "status is pending, approved, refused or all")
	}
	rs, err := a.svc.AccessRequests(r.Context(), principal(r), status)
	if err != nil {
		return err
	}
	if rs == nil {
		rs = []cpms.AccessRequest{}
	}
	writeJSON(w, http.StatusOK, rs)
	return nil
}

type accessRequestJSON struct {
	ERN     string    `json:"ern"`
	Centre  string    `json:"centre"`
	Role    cpms.Role `json:"role"`
	Comment string    `json:"comment"`
}

func (a *API) createAccessRequest(w http.ResponseWriter, r *http.Request) error {
	var in accessRequestJSON
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	ar, err := a.svc.RequestAccess(r.Context(), principal(r), cpms.NewAccessRequest{ERN: in.ERN, Centre: in.Centre, Role: in.Role, Comment: in.Comment}, info(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, ar)
	return nil
}

type decisionJSON struct {
	Comment string `json:"comment"`
}

func (a *API) decideAccessRequest(approve bool) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in decisionJSON
		if r.ContentLength != 0 {
			if err := a.decode(w, r, &in); err != nil {
				return err
			}
		}
		ar, err := a.svc.DecideAccessRequest(r.Context(), principal(r), chi.URLParam(r, "id"), approve, in.Comment, info(r))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, ar)
		return nil
	}
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	us, err := a.svc.Users(r.Context(), principal(r), cpms.UserFilter{ERN: q.Get("ern"), Centre: q.Get("centre"), Query: q.Get("q"), Limit: 500})
	if err != nil {
		return err
	}
	out := make([]userJSON, 0, len(us))
	for _, u := range us {
		out = append(out, a.user(r, u))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := a.svc.User(r.Context(), principal(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.user(r, u))
	return nil
}

type newUserJSON struct {
	Username    string      `json:"username"`
	DisplayName string      `json:"displayName"`
	Email       string      `json:"email"`
	Roles       []grantJSON `json:"roles"`
}

type grantJSON struct {
	Role      cpms.Role  `json:"role"`
	ERN       string     `json:"ern"`
	Centre    string     `json:"centre"`
	ExpiresAt *time.Time `json:"expiresAt"`
}

func (g grantJSON) grant() cpms.RoleGrant {
	return cpms.RoleGrant{Role: g.Role, ERN: strings.TrimSpace(g.ERN), Centre: strings.TrimSpace(g.Centre), ExpiresAt: g.ExpiresAt}
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	var in newUserJSON
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	nu := cpms.NewUser{Username: in.Username, DisplayName: in.DisplayName, Email: in.Email}
	for _, g := range in.Roles {
		nu.Roles = append(nu.Roles, g.grant())
	}
	u, temp, err := a.svc.CreateUser(r.Context(), principal(r), nu, info(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"user": a.user(r, u), "temporaryPassword": temp})
	return nil
}

func (a *API) grantRole(w http.ResponseWriter, r *http.Request) error {
	var in grantJSON
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	g, err := a.svc.GrantRole(r.Context(), principal(r), chi.URLParam(r, "id"), in.grant(), info(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.roles(r, []cpms.RoleGrant{g})[0])
	return nil
}

func (a *API) revokeRole(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.RevokeRole(r.Context(), principal(r), chi.URLParam(r, "id"), chi.URLParam(r, "roleId"), info(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) setDisabled(disabled bool) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := a.svc.SetDisabled(r.Context(), principal(r), chi.URLParam(r, "id"), disabled, info(r)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (a *API) resetPassword(w http.ResponseWriter, r *http.Request) error {
	temp, err := a.svc.ResetPassword(r.Context(), principal(r), chi.URLParam(r, "id"), info(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"temporaryPassword": temp})
	return nil
}

func (a *API) resetTOTP(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.ResetTOTP(r.Context(), principal(r), chi.URLParam(r, "id"), info(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) auditEvents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return cpms.Errorf(cpms.KindInvalid, "limit is a number from 1 to 1000")
		}
		limit = n
	}
	es, err := a.svc.AuditEvents(r.Context(), principal(r), cpms.AuditFilter{Actor: q.Get("actor"), PatientID: q.Get("patient"),
		ObjectID: q.Get("object"), Action: q.Get("action"), Limit: limit}, info(r))
	if err != nil {
		return err
	}
	if es == nil {
		es = []cpms.AuditEvent{}
	}
	writeJSON(w, http.StatusOK, es)
	return nil
}
