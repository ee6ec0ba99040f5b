package cpmshttp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ern-cpms/cpms/cpms"
)

type ctxKey int

const requestIDKey ctxKey = 0

// RequestID returns the ID of the request in ctx.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// statusWriter remembers the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and deadlines of the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Metrics are the server's HTTP metrics.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inflight prometheus.Gauge
}

// NewMetrics registers the HTTP metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cpms_http_requests_total",
			Help: "HTTP requests by surface, method and status code."}, []string{"surface", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cpms_http_request_duration_seconds",
			Help: "HTTP request latency by surface.", Buckets: prometheus.DefBuckets}, []string{"surface"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cpms_http_requests_in_flight", Help: "HTTP requests being served."}),
	}
	reg.MustRegister(m.requests, m.duration, m.inflight)
	return m
}

// surface is a bounded label for metrics: the first path segment of known surfaces.
func surface(path string) string {
	seg, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	switch seg {
	case "api", "fhir", "dicomweb", "ihe", "viewer", "static", "healthz", "readyz", "metrics", "media":
		return seg
	case "":
		return "root"
	}
	return "other"
}

// ClientAddr is the client's IP address (the TCP peer; proxies are not trusted).
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Observe gives each request an ID (a sane incoming X-Request-ID is kept), recovers panics,
// records metrics and writes one structured access log line without query strings (they may
// hold search terms about patients).
func Observe(log *slog.Logger, m *Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if !requestIDRE.MatchString(id) {
			var b [12]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-ID", id)
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		ctx = cpms.WithRequestInfo(ctx, cpms.RequestInfo{Source: ClientAddr(r), RequestID: id, UserAgent: r.UserAgent()})
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w}
		if m != nil {
			m.inflight.Inc()
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(ctx, "panic serving request", "panic", fmt.Sprint(v), "request_id", id, "path", r.URL.Path)
				if sw.status == 0 {
					WriteError(sw, r, nil, fmt.Errorf("panic"))
				}
			}
			d := time.Since(start)
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			if m != nil {
				m.inflight.Dec()
				s := surface(r.URL.Path)
				m.requests.WithLabelValues(s, r.Method, strconv.Itoa(sw.status)).Inc()
				m.duration.WithLabelValues(s).Observe(d.Seconds())
			}
			attrs := []any{"method", r.Method, "path", r.URL.Path, "status", sw.status, "bytes", sw.bytes,
				"duration_ms", float64(d.Microseconds()) / 1000, "request_id", id, "remote", ClientAddr(r)}
			if p := cpms.PrincipalFrom(r.Context()); p != nil {
				attrs = append(attrs, "actor", p.Actor())
			}
			log.InfoContext(ctx, "http", attrs...)
		}()
		next.ServeHTTP(sw, r)
	})
}

// SessionCookie names the session cookie: with the __Host- prefix over HTTPS, so that it is
// bound to this host and always Secure.
func SessionCookie(secure bool) string {
	if secure {
		return "__Host-cpms_session"
	}
	return "cpms_session"
}

// Authenticator puts the request's principal into its context: from a bearer token (a bad one
// is refused at once with 401) or from the session cookie (a stale one is cleared). Unsafe
// requests of a session must carry the session's anti-forgery token in X-CSRF-Token.
type Authenticator struct {
	Service *cpms.Service
	Log     *slog.Logger
	Secure  bool // HTTPS: cookies are Secure and __Host- prefixed
	// Errors writes an authentication error in the form of the protocol under a path prefix
	// (e.g. an OperationOutcome under /fhir/); problem JSON elsewhere.
	Errors map[string]func(w http.ResponseWriter, r *http.Request, err error)
}

func (a *Authenticator) fail(w http.ResponseWriter, r *http.Request, err error) {
	for prefix, write := range a.Errors {
		if strings.HasPrefix(r.URL.Path, prefix) {
			write(w, r, err)
			return
		}
	}
	WriteError(w, r, a.Log, err)
}

// allowedBeforeTOTP are the API paths a user who must first change a temporary password or
// enrol a second factor may use.
var allowedBeforeTOTP = []string{"/api/me", "/api/logout", "/api/logout/all", "/api/account/totp/setup",
	"/api/account/totp/confirm", "/api/account/password", "/api/openapi.json"}

// Wrap returns next behind authentication.
func (a *Authenticator) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var p *cpms.Principal
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, tok, _ := strings.Cut(h, " ")
			if !strings.EqualFold(scheme, "Bearer") || tok == "" {
				a.fail(w, r, cpms.Errorf(cpms.KindUnauthenticated, "use a bearer token").WithCode("invalid_token"))
				return
			}
			var err error
			if p, err = a.Service.AuthenticateToken(ctx, strings.TrimSpace(tok)); err != nil {
				a.fail(w, r, err)
				return
			}
		} else if c, err := r.Cookie(SessionCookie(a.Secure)); err == nil && c.Value != "" {
			p, err = a.Service.AuthenticateSession(ctx, c.Value)
			if err != nil {
				if cpms.KindOf(err) != cpms.KindUnauthenticated {
					a.fail(w, r, err)
					return
				}
				a.ClearCookie(w)
				p = nil
			}
			if p != nil && !safeMethod(r.Method) {
				if err := a.Service.CheckCSRF(ctx, p, r.Header.Get("X-CSRF-Token")); err != nil {
					a.fail(w, r, err)
					return
				}
			}
		}
		if p != nil && p.User != nil && !allowedBefore(r.URL.Path) {
			// A temporary password or a missing second factor allows nothing but fixing them.
			switch {
			case p.User.MustChangePassword:
				a.fail(w, r, cpms.Errorf(cpms.KindPermission, "change your temporary password first").WithCode("password_change_required"))
				return
			case p.MustEnrolTOTP:
				a.fail(w, r, cpms.Errorf(cpms.KindPermission, "set up your second factor (authenticator app) first").WithCode("totp_enrolment_required"))
				return
			}
		}
		if p != nil {
			r = r.WithContext(cpms.WithPrincipal(ctx, p))
		}
		next.ServeHTTP(w, r)
	})
}

func allowedBefore(path string) bool {
	if slices.Contains(allowedBeforeTOTP, path) {
		return true
	}
	return !strings.HasPrefix(path, "/api/") && !strings.HasPrefix(path, "/fhir") &&
		!strings.HasPrefix(path, "/dicomweb") && !strings.HasPrefix(path, "/ihe")
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// SetCookie sets the session cookie.
func (a *Authenticator) SetCookie(w http.ResponseWriter, value string) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie(a.Secure), Value: value, Path: "/", HttpOnly: true,
		Secure: a.Secure, SameSite: http.SameSiteLaxMode})
}

// ClearCookie removes the session cookie.
func (a *Authenticator) ClearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie(a.Secure), Value: "", Path: "/", HttpOnly: true,
		Secure: a.Secure, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// RequirePrincipal answers 401 to anonymous requests.
func RequirePrincipal(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cpms.PrincipalFrom(r.Context()) == nil {
			WriteError(w, r, log, cpms.Errorf(cpms.KindUnauthenticated, "sign in first"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// SecurityHeaders sets the headers every response of the server carries: no MIME sniffing, no
// framing by other sites, and over HTTPS a year of Strict-Transport-Security. Edges that serve
// pages add their own Content-Security-Policy.
func SecurityHeaders(secure bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		if secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}
