package cpmshttp

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ern-cpms/cpms/cpms"
)

type passwordJSON struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request) error {
	var in passwordJSON
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	if err := a.svc.ChangePassword(r.Context(), principal(r), in.Current, in.New, info(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) totpSetup(w http.ResponseWriter, r *http.Request) error {
	secret, uri, err := a.svc.TOTPSetup(r.Context(), principal(r), a.product, info(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"secret": secret, "uri": uri})
	return nil
}

type codeJSON struct {
	Code string `json:"code"`
}

func (a *API) totpConfirm(w http.ResponseWriter, r *http.Request) error {
	var in codeJSON
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	codes, err := a.svc.TOTPConfirm(r.Context(), principal(r), in.Code, info(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"recoveryCodes": codes})
	return nil
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.svc.Tokens(r.Context(), principal(r), cpms.TokenFilter{})
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []cpms.Token{}
	}
	writeJSON(w, http.StatusOK, ts)
	return nil
}

type tokenJSON struct {
	Name    string `json:"name"`
	TTLDays int    `json:"ttlDays"`
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request) error {
	var in tokenJSON
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	p := principal(r)
	if p.User == nil {
		return cpms.Errorf(cpms.KindPermission, "only people create personal tokens")
	}
	if in.TTLDays < 0 || in.TTLDays > 366 {
		return &cpms.Error{Kind: cpms.KindInvalid, Msg: "the request is not valid", Fields: []cpms.FieldError{{Field: "ttlDays", Msg: "0 (no expiry) to 366"}}}
	}
	plain, t, err := a.svc.CreateToken(r.Context(), p, cpms.NewToken{Username: p.User.Username, Name: in.Name,
		TTL: time.Duration(in.TTLDays) * 24 * time.Hour}, info(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": plain, "info": t})
	return nil
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.RevokeToken(r.Context(), principal(r), chi.URLParam(r, "id"), info(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) refs(us []cpms.User) []cpms.UserRef {
	out := make([]cpms.UserRef, 0, len(us))
	for i := range us {
		out = append(out, us[i].Ref())
	}
	return out
}

func (a *API) listAssistants(w http.ResponseWriter, r *http.Request) error {
	us, err := a.svc.Assistants(r.Context(), principal(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.refs(us))
	return nil
}

func (a *API) listPrincipals(w http.ResponseWriter, r *http.Request) error {
	us, err := a.svc.Principals(r.Context(), principal(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.refs(us))
	return nil
}

type appointJSON struct {
	Username string `json:"username"`
}

func (a *API) appointAssistant(w http.ResponseWriter, r *http.Request) error {
	var in appointJSON
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	if err := a.svc.AppointAssistant(r.Context(), principal(r), in.Username, info(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) dismissAssistant(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DismissAssistant(r.Context(), principal(r), chi.URLParam(r, "id"), info(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type actForJSON struct {
	ClinicianID string `json:"clinicianId"`
}

func (a *API) actFor(w http.ResponseWriter, r *http.Request) error {
	var in actForJSON
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	if err := a.svc.ActFor(r.Context(), principal(r), in.ClinicianID, info(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type sessionJSON struct {
	cpms.Session
	Current bool `json:"current"`
}

func (a *API) listSessions(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	ss, err := a.svc.Sessions(r.Context(), p)
	if err != nil {
		return err
	}
	out := make([]sessionJSON, 0, len(ss))
	for _, s := range ss {
		out = append(out, sessionJSON{Session: s, Current: s.ID == p.SessionID})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
