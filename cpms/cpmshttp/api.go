package cpmshttp

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/internal/auth"
)

// Config wires the API.
type Config struct {
	Service *cpms.Service
	Auth    *Authenticator
	Logger  *slog.Logger
	// ProductName is the issuer shown in authenticator apps.
	ProductName string
	// LoginLimit throttles sign-in attempts per client address (default 10 a minute, burst 10).
	LoginLimit *auth.Limiter
	// OIDC, when set, enables sign-in through an identity provider.
	OIDC *OIDCLogin
	// MaxBody bounds request bodies (default 1 MiB).
	MaxBody int64
}

// API serves /api.
type API struct {
	svc     *cpms.Service
	auth    *Authenticator
	log     *slog.Logger
	product string
	limiter *auth.Limiter
	oidc    *OIDCLogin
	maxBody int64
	router  chi.Router
	// loginRetry is the Retry-After of a throttled sign-in, in seconds.
	loginRetry string
}

// New builds the API handler; mount it at the server root (its routes start with /api/).
func New(cfg Config) (*API, error) {
	if cfg.Service == nil || cfg.Auth == nil {
		return nil, errors.New("cpmshttp: Service and Auth are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ProductName == "" {
		cfg.ProductName = "CPMS"
	}
	retry := 60
	if cfg.LoginLimit == nil {
		cfg.LoginLimit = auth.NewLimiter(auth.LimiterConfig{Rate: 10.0 / 60, Burst: 10})
		retry = 6 // one attempt comes back every 6 s
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	a := &API{svc: cfg.Service, auth: cfg.Auth, log: cfg.Logger, product: cfg.ProductName, limiter: cfg.LoginLimit,
		oidc: cfg.OIDC, maxBody: cfg.MaxBody, loginRetry: strconv.Itoa(retry)}
	a.router = a.routes()
	return a, nil
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.router.ServeHTTP(w, r) }

// Router exposes the routes, for the test that keeps the OpenAPI document true.
func (a *API) Router() chi.Routes { return a.router }

// handler is an API handler that returns its error for the one renderer.
type handler func(w http.ResponseWriter, r *http.Request) error

func (a *API) h(fn handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			WriteError(w, r, a.log, err)
		}
	}
}

func (a *API) routes() chi.Router {
	r := chi.NewRouter()
	r.NotFound(a.h(func(w http.ResponseWriter, r *http.Request) error {
		return cpms.Errorf(cpms.KindNotFound, "no such API endpoint")
	}))
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		WriteProblem(w, Problem{Type: "about:blank", Title: "Method Not Allowed", Status: 405,
			Detail: "this endpoint does not take " + r.Method, RequestID: RequestID(r.Context())})
	})
	r.Route("/api", func(r chi.Router) {
		r.Get("/openapi.json", a.openAPI)
		r.Post("/login", a.h(a.login))
		r.Get("/auth/methods", a.authMethods)
		r.Get("/auth/oidc", a.h(a.oidcBegin))
		r.Get("/auth/oidc/callback", a.h(a.oidcCallback))
		r.Group(func(r chi.Router) {
			r.Use(func(next http.Handler) http.Handler { return RequirePrincipal(a.log, next) })
			r.Post("/logout", a.h(a.logout))
			r.Post("/logout/all", a.h(a.logoutAll))
			r.Get("/me", a.h(a.me))
			r.Get("/dashboard", a.h(a.dashboard))
			r.Get("/erns", a.h(a.erns))

			r.Get("/access-requests", a.h(a.listAccessRequests))
			r.Post("/access-requests", a.h(a.createAccessRequest))
			r.Post("/access-requests/{id}/approve", a.h(a.decideAccessRequest(true)))
			r.Post("/access-requests/{id}/refuse", a.h(a.decideAccessRequest(false)))

			r.Get("/admin/users", a.h(a.listUsers))
			r.Post("/admin/users", a.h(a.createUser))
			r.Get("/admin/users/{id}", a.h(a.getUser))
			r.Post("/admin/users/{id}/roles", a.h(a.grantRole))
			r.Delete("/admin/users/{id}/roles/{roleId}", a.h(a.revokeRole))
			r.Post("/admin/users/{id}/disable", a.h(a.setDisabled(true)))
			r.Post("/admin/users/{id}/enable", a.h(a.setDisabled(false)))
			r.Post("/admin/users/{id}/reset-password", a.h(a.resetPassword))
			r.Post("/admin/users/{id}/reset-totp", a.h(a.resetTOTP))

			r.Get("/audit", a.h(a.auditEvents))

			r.Get("/account/sessions", a.h(a.listSessions))
			r.Post("/account/password", a.h(a.changePassword))
			r.Post("/account/totp/setup", a.h(a.totpSetup))
			r.Post("/account/totp/confirm", a.h(a.totpConfirm))
			r.Get("/account/tokens", a.h(a.listTokens))
			r.Post("/account/tokens", a.h(a.createToken))
			r.Delete("/account/tokens/{id}", a.h(a.revokeToken))
			r.Get("/account/assistants", a.h(a.listAssistants))
			r.Post("/account/assistants", a.h(a.appointAssistant))
			r.Delete("/account/assistants/{id}", a.h(a.dismissAssistant))
			r.Get("/account/principals", a.h(a.listPrincipals))
			r.Post("/account/act-for", a.h(a.actFor))

			r.Get("/enrol-targets", a.h(a.enrolTargets))
			r.Get("/patients", a.h(a.listPatients))
			r.Post("/patients", a.h(a.enrolPatient))
			r.Get("/patients/{id}", a.h(a.getPatient))
			r.Put("/patients/{id}", a.h(a.updatePatient))
			r.Get("/patients/{id}/history", a.h(a.patientHistory))
			r.Get("/patients/{id}/consent-history", a.h(a.consentHistory))
			r.Put("/patients/{id}/consents/{kind}", a.h(a.setConsent))
			r.Post("/patients/{id}/consents/{kind}/withdraw", a.h(a.withdrawConsent))
			r.Post("/patients/{id}/transfers", a.h(a.requestTransfer))
			r.Get("/patients/{id}/access-log", a.h(a.accessLog))
			r.Get("/patients/{id}/studies", a.h(a.patientStudies))
			r.Get("/centres/{code}/studies/unlinked", a.h(a.unlinkedStudies))
			r.Put("/centres/{code}/studies/{study}/patient", a.h(a.linkStudy))
			r.Get("/transfers", a.h(a.listTransfers))
			r.Post("/transfers/{id}/accept", a.h(a.decideTransfer(true)))
			r.Post("/transfers/{id}/refuse", a.h(a.decideTransfer(false)))
			r.Get("/centres/{code}/dashboard", a.h(a.centreDashboard))
			r.Get("/consent-form", a.h(a.consentForm))
			r.Get("/consent-form/languages", a.h(a.consentFormLanguages))
		})
	})
	return r
}

// decode reads a JSON body into v, refusing other media types, unknown fields and oversized bodies.
func (a *API) decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return cpms.Errorf(cpms.KindInvalid, "send application/json").WithCode("unsupported_media_type")
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, a.maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return cpms.Errorf(cpms.KindInvalid, "the request body is too large").WithCode("too_large")
		case errors.Is(err, io.EOF):
			return cpms.Errorf(cpms.KindInvalid, "the request body is empty")
		}
		return cpms.Errorf(cpms.KindInvalid, "the request body is not valid JSON for this endpoint: %s", jsonErr(err))
	}
	if dec.More() {
		return cpms.Errorf(cpms.KindInvalid, "the request body holds more than one JSON value")
	}
	return nil
}

// jsonErr describes a decoding error without echoing the input.
func jsonErr(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "syntax error"
	case errors.As(err, &te):
		return "wrong type for field " + te.Field
	}
	msg := err.Error()
	if len(msg) > 80 {
		msg = msg[:80]
	}
	return msg
}

func principal(r *http.Request) *cpms.Principal { return cpms.PrincipalFrom(r.Context()) }
func info(r *http.Request) cpms.RequestInfo     { return cpms.RequestInfoFrom(r.Context()) }

// me is the JSON shape of the signed-in user.
type meJSON struct {
	ID          string        `json:"id"`
	Username    string        `json:"username"`
	DisplayName string        `json:"displayName"`
	Email       string        `json:"email"`
	TOTPEnabled bool          `json:"totpEnabled"`
	Roles       []roleJSON    `json:"roles"`
	OnBehalfOf  *cpms.UserRef `json:"onBehalfOf"`
	CSRFToken   string        `json:"csrfToken,omitempty"`
	// MustEnrolTOTP and MustChangePassword tell the web app which page to show first.
	MustEnrolTOTP      bool   `json:"mustEnrolTotp"`
	MustChangePassword bool   `json:"mustChangePassword"`
	Via                string `json:"via"`
}

type roleJSON struct {
	ID         string     `json:"id"`
	Role       cpms.Role  `json:"role"`
	ERN        string     `json:"ern"`
	Centre     string     `json:"centre"`
	CentreName string     `json:"centreName"`
	ExpiresAt  *time.Time `json:"expiresAt"`
	Active     bool       `json:"active"`
}

func (a *API) roles(r *http.Request, gs []cpms.RoleGrant) []roleJSON {
	names := map[string]string{}
	if cs, err := a.svc.Centres(r.Context()); err == nil {
		for _, c := range cs {
			names[c.Code] = c.Name
		}
	}
	now := a.svc.Now()
	out := make([]roleJSON, 0, len(gs))
	for _, g := range gs {
		out = append(out, roleJSON{ID: g.ID, Role: g.Role, ERN: g.ERN, Centre: g.Centre, CentreName: names[g.Centre],
			ExpiresAt: g.ExpiresAt, Active: g.Active(now)})
	}
	return out
}

type userJSON struct {
	ID          string     `json:"id"`
	Username    string     `json:"username"`
	DisplayName string     `json:"displayName"`
	Email       string     `json:"email"`
	Disabled    bool       `json:"disabled"`
	TOTPEnabled bool       `json:"totpEnabled"`
	CreatedAt   time.Time  `json:"createdAt"`
	Roles       []roleJSON `json:"roles"`
}

func (a *API) user(r *http.Request, u cpms.User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email, Disabled: u.Disabled,
		TOTPEnabled: u.TOTPEnabled, CreatedAt: u.CreatedAt, Roles: a.roles(r, u.Roles)}
}
