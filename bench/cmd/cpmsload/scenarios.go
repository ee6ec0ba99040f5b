package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
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
	d.setup = &http.Client{Transport: newTransport(d.cfg.timeout, nil), Timeout: d.cfg.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.cfg.base+"/healthz", nil)
	if err != nil {
		return err
	}
	status, err := do(d.setup, req)
	if err != nil {
		return fmt.Errorf("the server at %s does not answer: %w", d.cfg.base, err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s/healthz answered %d", d.cfg.base, status)
	}
	if m, err := d.readMetrics(ctx); err == nil {
		d.metrics = true
		d.serverProcs = m.procs
	}
	return nil
}

// serverMetrics are the figures read from the server's /metrics.
type serverMetrics struct {
	cpu   time.Duration
	procs int
}

func (d *driver) readMetrics(ctx context.Context) (serverMetrics, error) {
	var m serverMetrics
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.cfg.base+"/metrics", nil)
	if err != nil {
		return m, err
	}
	resp, err := d.setup.Do(req)
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return m, fmt.Errorf("GET /metrics answered %d", resp.StatusCode)
	}
	found := false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		switch name {
		case "process_cpu_seconds_total":
			if v, err := strconv.ParseFloat(value, 64); err == nil {
				m.cpu, found = time.Duration(v*float64(time.Second)), true
			}
		case "go_sched_gomaxprocs_threads":
			if v, err := strconv.ParseFloat(value, 64); err == nil {
				m.procs = int(v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if !found {
		return m, errors.New("/metrics has no process_cpu_seconds_total")
	}
	return m, nil
}

// cpuMeter takes the server's, this process's and the whole machine's CPU time at the start and
// end of a window.
type cpuMeter struct {
	d          *driver
	t0         time.Time
	srv0, cli0 time.Duration
	srvOK      bool
	mach0      machineTicks
	machOK     bool
	db0        time.Duration
	dbOK       bool
}

func (c *cpuMeter) start(ctx context.Context) {
	c.t0 = time.Now()
	c.cli0 = processCPU()
	c.mach0, c.machOK = machineCPU()
	if c.d != nil && c.d.cfg.dbPID > 0 {
		c.db0, c.dbOK = treeCPU(c.d.cfg.dbPID)
	}
	if c.d != nil && c.d.metrics {
		m, err := c.d.readMetrics(ctx)
		c.srv0, c.srvOK = m.cpu, err == nil
	}
}

func (c *cpuMeter) stop(ctx context.Context, r *result) {
	if c.t0.IsZero() {
		return
	}
	wall := time.Since(c.t0)
	if c.cli0 > 0 {
		r.cliCPU = processCPU() - c.cli0
	}
	if c.srvOK {
		if m, err := c.d.readMetrics(ctx); err == nil {
			r.srvCPU = m.cpu - c.srv0
		}
	}
	if c.dbOK {
		if db, ok := treeCPU(c.d.cfg.dbPID); ok {
			r.dbCPU = db - c.db0
		}
	}
	if m1, ok := machineCPU(); ok && c.machOK && m1.total > c.mach0.total {
		busy := float64(m1.busy-c.mach0.busy) / float64(m1.total-c.mach0.total)
		r.machineBusy = busy
		// What the machine did beyond this process and the server: other tenants skew the figures.
		if r.inProcess || r.srvCPU > 0 {
			capacity := float64(m1.cpus) * wall.Seconds()
			r.othersBusy = max(0, busy-(r.srvCPU+r.dbCPU+r.cliCPU).Seconds()/capacity)
			r.othersKnown = true
		}
	}
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
	var meter cpuMeter
	meter.d = d
	l.atWindow = func() { meter.start(ctx) }
	r := l.run(ctx, name)
	meter.stop(ctx, r)
	return r
}

// load is the closed loop of a scenario; each scenario sends one fixed request per client.
func (d *driver) load(name string) *load {
	l := &load{clients: d.cfg.clients, warmup: d.cfg.warmup, duration: d.cfg.duration, timeout: d.cfg.timeout,
		want: http.StatusOK}
	get := func(ctx context.Context, path string) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, d.cfg.base+path, nil)
	}
	switch name {
	case "healthz":
		l.request = func(ctx context.Context, _ int) (*http.Request, error) { return get(ctx, "/healthz") }
	case "floor":
		l.request = func(ctx context.Context, _ int) (*http.Request, error) { return get(ctx, "/floor") }
	case "me":
		l.request = func(ctx context.Context, _ int) (*http.Request, error) {
			req, err := get(ctx, "/api/me")
			if err == nil {
				req.Header.Set("Authorization", "Bearer "+d.cfg.token)
				req.Header.Set("Accept", "application/json")
			}
			return req, err
		}
	case "dashboard":
		l.request = func(ctx context.Context, i int) (*http.Request, error) {
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
	var meter cpuMeter
	meter.d = d
	meter.start(ctx)
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
	meter.stop(ctx, r)
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
				ms(each), float64(d.serverProcs)/each.Seconds(), d.serverProcs)
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
	do(d.setup, req)
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
	l := &load{clients: cfg.clients, warmup: cfg.warmup, duration: cfg.duration, timeout: cfg.timeout, want: http.StatusOK,
		request: func(ctx context.Context, _ int) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			for k, v := range headers {
				if err == nil {
					req.Header.Set(k, v)
				}
			}
			return req, err
		}}
	var meter cpuMeter
	l.atWindow = func() { meter.start(ctx) }
	r := l.run(ctx, name)
	r.inProcess = true
	meter.stop(ctx, r)
	return r, nil
}
