package cpmshttp

import (
	"crypto/rand"
	"net/http"
	"time"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/internal/auth/oidc"
)

// OIDCLogin enables sign-in through an OpenID Connect identity provider (e.g. EU Login).
type OIDCLogin struct {
	Client *oidc.Client
	// Label is the button text on the login page, e.g. "EU Login".
	Label string
}

const oidcCookie = "cpms_oidc"

func (a *API) oidcBegin(w http.ResponseWriter, r *http.Request) error {
	if a.oidc == nil {
		return cpms.Errorf(cpms.KindNotFound, "sign-in through an identity provider is not configured")
	}
	authURL, st, err := a.oidc.Client.Begin(rand.Reader)
	if err != nil {
		return err
	}
	key, err := a.svc.Secret(r.Context(), "oidc-state-key")
	if err != nil {
		return err
	}
	v, err := oidc.EncodeState(key, st, a.svc.Now().Add(10*time.Minute))
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: v, Path: "/api/auth/oidc", HttpOnly: true, Secure: a.auth.Secure,
		SameSite: http.SameSiteLaxMode, MaxAge: 600})
	http.Redirect(w, r, authURL, http.StatusFound)
	return nil
}

func (a *API) oidcCallback(w http.ResponseWriter, r *http.Request) error {
	if a.oidc == nil {
		return cpms.Errorf(cpms.KindNotFound, "sign-in through an identity provider is not configured")
	}
	bad := cpms.Errorf(cpms.KindUnauthenticated, "the sign-in through the identity provider did not complete: try again").WithCode("oidc_failed")
	if e := r.URL.Query().Get("error"); e != "" {
		return bad
	}
	c, err := r.Cookie(oidcCookie)
	if err != nil {
		return bad
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: "/api/auth/oidc", HttpOnly: true, Secure: a.auth.Secure, MaxAge: -1})
	key, err := a.svc.Secret(r.Context(), "oidc-state-key")
	if err != nil {
		return err
	}
	st, err := oidc.DecodeState(key, c.Value, a.svc.Now())
	if err != nil {
		return bad
	}
	id, err := a.oidc.Client.Finish(r.Context(), st, r.URL.Query().Get("state"), r.URL.Query().Get("code"))
	if err != nil {
		a.log.WarnContext(r.Context(), "OIDC sign-in refused", "err", err, "cause", oidc.Detail(err))
		return bad
	}
	res, err := a.svc.LoginExternal(r.Context(), cpms.ExternalIdentity{Issuer: id.Issuer, Subject: id.Subject, Email: id.Email,
		EmailVerified: id.EmailVerified, Name: id.Name, PreferredUsername: id.PreferredUsername}, info(r))
	if err != nil {
		return err
	}
	a.auth.SetCookie(w, res.Cookie)
	http.Redirect(w, r, "/", http.StatusFound)
	return nil
}

// authMethods tells the login page how people may sign in.
func (a *API) authMethods(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{"password": true, "oidc": nil}
	if a.oidc != nil {
		out["oidc"] = map[string]string{"label": a.oidc.Label, "url": "/api/auth/oidc"}
	}
	writeJSON(w, http.StatusOK, out)
}
