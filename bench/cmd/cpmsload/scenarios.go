package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ern-cpms/cpms/bench/internal/measure"
)

// driver runs the scenarios against one server and owns what they set up there: the sessions
// it signed in, which it signs out again at the end.
type driver struct {
	cfg         config
	setup       *http.Client // sign-ins, sign-outs and /metrics, outside the measured loops
	metrics     bool         // the server's /metrics gives its process CPU time
	serverProcs int          // the server's GOMAXPROCS, from /metrics; 0 if unknown
	sessions    []session    // signed in for the dashboard scenario
	fhir        fhirState    // the patients the FHIR scenarios enrolled
}

type session struct {
	user   string
	cookie string // name=value
	csrf   string
}

// errThrottled is a sign-in the server refused with 429.
var errThrottled = errors.New("throttled")

func (d *driver) preflight(ctx context.Context) error {
	d.setup = measure.NewClient(measure.NewTransport(d.cfg.timeout, measure.Buffers{}, nil), d.cfg.timeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.cfg.base+"/healthz", nil)
	if err != nil {
		return err
	}
	status, err := measure.Do(d.setup, req)
	if err != nil {
		return fmt.Errorf("the server at %s does not answer: %w", d.cfg.base, err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s/healthz answered %d", d.cfg.base, status)
	}
	if m, err := d.readMetrics(ctx); err == nil {
		d.metrics = true
		d.serverProcs = m.Procs
	}
	return nil
}

func (d *driver) readMetrics(ctx context.Context) (measure.Metrics, error) {
	return measure.ReadMetrics(ctx, d.setup, d.cfg.base+"/metrics")
}

// meter takes the server's, the database's (-db-pid), this process's and the whole machine's
// CPU time at the start and end of a window; a nil driver has neither server nor database.
func (d *driver) meter() *measure.Meter {
	m := &measure.Meter{}
	if d == nil {
		return m
	}
	m.TreePID = d.cfg.dbPID
	if d.metrics {
		m.Server = func(ctx context.Context) (time.Duration, bool) {
			sm, err := d.readMetrics(ctx)
			return sm.CPU, err == nil
		}
	}
	return m
}

func (d *driver) scenario(ctx context.Context, name string) *result {
	switch name {
	case "login":
		return d.login(ctx)
	case "dashboard":
		if err := d.openSessions(ctx); err != nil {
			return &result{name: name, skipped: "signing in for the sessions: " + err.Error()}
		}
	}
	l := d.load(name)
	if strings.HasPrefix(name, "fhir-") {
		if err := d.fhirLoad(name, l); err != nil {
			return &result{name: name, skipped: err.Error()}
		}
	}
	meter := d.meter()
	l.AtWindow = func() { meter.Start(ctx) }
	r := &result{name: name}
	r.fill(l.Run(ctx))
	r.record(meter.Stop(ctx))
	return r
}

// load is the closed loop of a scenario; each scenario sends one fixed request per client.
func (d *driver) load(name string) *measure.Loop {
	l := &measure.Loop{Clients: d.cfg.clients, Warmup: d.cfg.warmup, Duration: d.cfg.duration, Timeout: d.cfg.timeout}
	get := func(ctx context.Context, path string) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, d.cfg.base+path, nil)
	}
	switch name {
	case "healthz":
		l.First = func(ctx context.Context, _ int) (*http.Request, error) { return get(ctx, "/healthz") }
	case "floor":
		l.First = func(ctx context.Context, _ int) (*http.Request, error) { return get(ctx, "/floor") }
	case "me":
		l.First = func(ctx context.Context, _ int) (*http.Request, error) {
			req, err := get(ctx, "/api/me")
			if err == nil {
				req.Header.Set("Authorization", "Bearer "+d.cfg.token)
				req.Header.Set("Accept", "application/json")
			}
			return req, err
		}
	case "dashboard":
		l.First = func(ctx context.Context, i int) (*http.Request, error) {
			req, err := get(ctx, "/api/dashboard")
			if err == nil {
				req.Header.Set("Cookie", d.sessions[i%len(d.sessions)].cookie)
				req.Header.Set("Accept", "application/json")
			}
			return req, err
		}
	}
	return l
}

// openSessions signs in each login user once (no more than there are clients): a browser's
// session each, shared round-robin by the clients. Sign-ins count against the server's throttle.
func (d *driver) openSessions(ctx context.Context) error {
	if len(d.sessions) > 0 {
		return nil
	}
	n := min(d.cfg.clients, len(d.cfg.loginUsers))
	for _, u := range d.cfg.loginUsers[:n] {
		s, err := d.signIn(ctx, u)
		if err != nil {
			return err
		}
		d.sessions = append(d.sessions, s)
	}
	return nil
}

// login times sign-ins one after another. Their throughput is bounded by the password hash
// (argon2id, memory- and CPU-hard by design) and, per client address, by the server's throttle,
// so the figure is the latency of one sign-in, and the ceiling follows from its CPU time.
func (d *driver) login(ctx context.Context) *result {
	r := &result{name: "login", sequential: true}
	meter := d.meter()
	meter.Start(ctx)
	var opened []session
	for i := 0; i < d.cfg.loginN && ctx.Err() == nil; i++ {
		u := d.cfg.loginUsers[i%len(d.cfg.loginUsers)]
		t0 := time.Now()
		s, err := d.signIn(ctx, u)
		elapsed := time.Since(t0)
		if err != nil {
			r.errs++
			if r.firstErr == "" {
				r.firstErr = err.Error()
			}
			if errors.Is(err, errThrottled) {
				r.note = "this measured the server's throttle of sign-ins per address, not a sign-in: wait a minute and run login alone"
			}
			// A refused sign-in is not retried: repeated failures would lock the account.
			break
		}
		opened = append(opened, s)
		r.lat = append(r.lat, elapsed)
	}
	r.record(meter.Stop(ctx))
	for _, s := range opened {
		d.signOut(context.WithoutCancel(ctx), s)
	}
	r.n = len(r.lat)
	r.inOrder = slices.Clone(r.lat)
	slices.Sort(r.lat)
	if r.n > 0 && r.note == "" {
		r.note = "one at a time; the server throttles sign-ins per client address"
		if r.srvCPU > 0 && d.serverProcs > 0 {
			each := r.srvCPU / time.Duration(r.n)
			r.note = fmt.Sprintf("one at a time; %s server CPU each, so at most ≈%.1f sign-ins/s on its %d cores; the server also throttles sign-ins per client address",
				measure.Ms(each), float64(d.serverProcs)/each.Seconds(), d.serverProcs)
		}
	}
	return r
}

// signIn posts the user's credentials and returns the session it opens.
func (d *driver) signIn(ctx context.Context, user string) (session, error) {
	body, err := json.Marshal(map[string]string{"username": user, "password": d.cfg.loginPassword})
	if err != nil {
		return session{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.cfg.base+"/api/login", bytes.NewReader(body))
	if err != nil {
		return session{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := d.setup.Do(req)
	if err != nil {
		return session{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return session{}, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusTooManyRequests:
		return session{}, fmt.Errorf("sign-in as %s: %w (429, Retry-After %ss)", user, errThrottled, resp.Header.Get("Retry-After"))
	default:
		return session{}, fmt.Errorf("sign-in as %s answered %d", user, resp.StatusCode)
	}
	var out struct {
		CSRFToken string `json:"csrfToken"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return session{}, fmt.Errorf("sign-in as %s: %w", user, err)
	}
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "cpms_session") && c.Value != "" {
			return session{user: user, cookie: c.Name + "=" + c.Value, csrf: out.CSRFToken}, nil
		}
	}
	return session{}, fmt.Errorf("sign-in as %s set no session cookie", user)
}

// signOut ends a session the driver opened; a failure only leaves it to expire.
func (d *driver) signOut(ctx context.Context, s session) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.cfg.base+"/api/logout", nil)
	if err != nil {
		return
	}
	req.Header.Set("Cookie", s.cookie)
	req.Header.Set("X-CSRF-Token", s.csrf)
	measure.Do(d.setup, req)
}

func (d *driver) close(ctx context.Context) {
	for _, s := range d.sessions {
		d.signOut(ctx, s)
	}
	d.sessions = nil
	if d.setup != nil {
		d.setup.CloseIdleConnections()
	}
}

// runBaseline serves 200 "ok" from a bare net/http handler on loopback, in this process, and
// drives it like the healthz scenario: the most this machine's HTTP stack gives.
func runBaseline(ctx context.Context, cfg config) (*result, error) {
	r, err := runBare(ctx, cfg, "bare", "/healthz", nil, func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	if r != nil {
		r.note = "bare net/http handler in this process"
	}
	return r, err
}

// runBare serves answer from a bare net/http handler on loopback, in this process, and drives
// it with GET path carrying headers, under the name given.
func runBare(ctx context.Context, cfg config, name, path string, headers map[string]string, answer func(w http.ResponseWriter)) (*result, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { answer(w) }),
		ReadHeaderTimeout: 10 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	defer func() {
		srv.Close()
		<-errc
	}()
	url := "http://" + ln.Addr().String() + path
	l := &measure.Loop{Clients: cfg.clients, Warmup: cfg.warmup, Duration: cfg.duration, Timeout: cfg.timeout,
		First: func(ctx context.Context, _ int) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			for k, v := range headers {
				if err == nil {
					req.Header.Set(k, v)
				}
			}
			return req, err
		}}
	var meter measure.Meter
	l.AtWindow = func() { meter.Start(ctx) }
	r := &result{name: name, inProcess: true}
	r.fill(l.Run(ctx))
	r.record(meter.Stop(ctx))
	return r, nil
}
