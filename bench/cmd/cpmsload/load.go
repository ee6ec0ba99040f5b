package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// result is what one scenario measured.
type result struct {
	name       string
	sequential bool            // one request at a time (login); no throughput figure
	skipped    string          // why the scenario could not run
	n          int             // answered requests within the window
	errs       int             // failed requests within the window
	elapsed    time.Duration   // from the window's start to the last measured answer
	lat        []time.Duration // latencies of the answered requests, sorted
	inOrder    []time.Duration // sequential: the latencies in the order they were taken
	conns      int64           // connections the clients opened
	statuses   map[int]int     // unexpected status codes
	firstErr   string          // the first failure, for the report
	srvCPU     time.Duration   // server CPU time in the window (from /metrics); 0 if unknown
	cliCPU     time.Duration   // this process's CPU time in the window; 0 if unknown
	dbCPU      time.Duration   // the database server's CPU time in the window (-db-pid); 0 if unknown
	inProcess  bool            // the server ran in this process (baseline): cliCPU includes it
	// machineBusy is the share of the whole machine's CPU time that was busy in the window;
	// othersBusy the share used by processes other than this one and the server.
	machineBusy, othersBusy float64
	othersKnown             bool
	note                    string // a closing remark
}

func (r *result) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.n) / r.elapsed.Seconds()
}

func (r *result) errorRate() float64 {
	if r.n+r.errs == 0 {
		return 0
	}
	return float64(r.errs) / float64(r.n+r.errs)
}

func (r *result) failed() bool {
	return r.skipped != "" || r.n+r.errs == 0 || r.errorRate() > maxErrorRate
}

// percentile is the nearest-rank percentile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// ms formats a latency with about three significant digits.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 10:
		return fmt.Sprintf("%.2fms", v)
	case v < 100:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.0fms", v)
}

func perReq(cpu time.Duration, n int) string {
	us := float64(cpu) / float64(time.Microsecond) / float64(n)
	switch {
	case us >= 10000:
		return fmt.Sprintf("%.0fms", us/1000)
	case us >= 1000:
		return fmt.Sprintf("%.1fms", us/1000)
	}
	return fmt.Sprintf("%.0fµs", us)
}

// line is the scenario's one-line report; bare, when given, is the baseline it is compared to.
func (r *result) line(bare *result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s", r.name)
	if r.skipped != "" {
		fmt.Fprintf(&b, " FAILED: %s", r.skipped)
		return b.String()
	}
	if r.sequential {
		fmt.Fprintf(&b, " sequential n=%d  min %s  p50 %s  max %s", r.n, ms(r.pct(0)), ms(r.pct(50)), ms(r.pct(100)))
		if len(r.inOrder) > 0 && len(r.inOrder) <= 20 {
			each := make([]string, len(r.inOrder))
			for i, d := range r.inOrder {
				each[i] = ms(d)
			}
			fmt.Fprintf(&b, "  in order [%s]", strings.Join(each, " "))
		}
	} else {
		fmt.Fprintf(&b, " %9.0f req/s  p50 %7s  p90 %7s  p99 %7s  max %7s  n=%d",
			r.rps(), ms(r.pct(50)), ms(r.pct(90)), ms(r.pct(99)), ms(r.pct(100)), r.n)
	}
	fmt.Fprintf(&b, "  errors %d (%.2f%%)", r.errs, 100*r.errorRate())
	if !r.sequential {
		fmt.Fprintf(&b, "  conns %d", r.conns)
	}
	if r.n > 0 {
		switch {
		case r.inProcess && r.cliCPU > 0:
			fmt.Fprintf(&b, "  cpu/req %s (client+server)", perReq(r.cliCPU, r.n))
		case r.srvCPU > 0:
			fmt.Fprintf(&b, "  cpu/req server %s", perReq(r.srvCPU, r.n))
			if r.dbCPU > 0 {
				fmt.Fprintf(&b, " db %s", perReq(r.dbCPU, r.n))
			}
			if r.cliCPU > 0 {
				fmt.Fprintf(&b, " client %s", perReq(r.cliCPU, r.n))
			}
		}
	}
	if r.machineBusy > 0 {
		fmt.Fprintf(&b, "  machine busy %.0f%%", 100*r.machineBusy)
		if r.othersKnown {
			fmt.Fprintf(&b, " (others %.0f%%)", 100*r.othersBusy)
		}
	}
	if bare != nil && bare != r && !r.sequential && bare.rps() > 0 && r.n > 0 {
		fmt.Fprintf(&b, "  = %.2f× bare req/s, %.1f× bare p50", r.rps()/bare.rps(), float64(r.pct(50))/float64(bare.pct(50)))
	}
	if len(r.statuses) > 0 {
		codes := make([]int, 0, len(r.statuses))
		for c := range r.statuses {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		parts := make([]string, 0, len(codes))
		for _, c := range codes {
			parts = append(parts, fmt.Sprintf("%d×%d", c, r.statuses[c]))
		}
		fmt.Fprintf(&b, "  statuses %s", strings.Join(parts, " "))
	}
	if r.firstErr != "" {
		fmt.Fprintf(&b, "  first error: %s", r.firstErr)
	}
	if r.note != "" {
		fmt.Fprintf(&b, "  (%s)", r.note)
	}
	return b.String()
}

func (r *result) pct(p float64) time.Duration { return percentile(r.lat, p) }

// load is a closed loop: c clients, each with its own transport and so its own keep-alive
// connection, each sending its next request as soon as the last one is answered.
type load struct {
	clients  int
	warmup   time.Duration
	duration time.Duration
	timeout  time.Duration
	want     int // expected status
	// request builds client i's request; it is sent again and again, so it has no body.
	request func(ctx context.Context, i int) (*http.Request, error)
	// next, when set, builds each request anew instead (one with a body, or a different
	// resource each time); it runs outside the timed part of the loop.
	next func(ctx context.Context, i int) (*http.Request, error)
	// atWindow, if set, is called when the measured window opens, while the clients run.
	atWindow func()
}

type worker struct {
	lat      []time.Duration
	errs     int
	last     time.Time
	statuses map[int]int
	firstErr string
}

func newTransport(timeout time.Duration, conns *atomic.Int64) *http.Transport {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if conns != nil {
				conns.Add(1)
			}
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConns:          1,
		MaxIdleConnsPerHost:   1,
		MaxConnsPerHost:       1,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: timeout,
		DisableCompression:    true,
	}
}

func (l *load) run(ctx context.Context, name string) *result {
	r := &result{name: name}
	reqs := make([]*http.Request, l.clients)
	for i := range reqs {
		build := l.request
		if l.next != nil {
			build = l.next
		}
		req, err := build(ctx, i)
		if err != nil {
			r.skipped = err.Error()
			return r
		}
		reqs[i] = req
	}
	var conns atomic.Int64
	start := time.Now()
	from := start.Add(l.warmup)
	until := from.Add(l.duration)
	workers := make([]worker, l.clients)
	var wg sync.WaitGroup
	if l.atWindow != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTimer(time.Until(from))
			defer t.Stop()
			select {
			case <-t.C:
				l.atWindow()
			case <-ctx.Done():
			}
		}()
	}
	for i := range workers {
		wg.Add(1)
		go func(i int, w *worker, req *http.Request) {
			defer wg.Done()
			tr := newTransport(l.timeout, &conns)
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: l.timeout,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			w.lat = make([]time.Duration, 0, 1<<14)
			l.loop(ctx, client, i, req, w, from, until)
		}(i, &workers[i], reqs[i])
	}
	wg.Wait()
	r.conns = conns.Load()
	var last time.Time
	for i := range workers {
		w := &workers[i]
		r.lat = append(r.lat, w.lat...)
		r.errs += w.errs
		if w.last.After(last) {
			last = w.last
		}
		for c, k := range w.statuses {
			if r.statuses == nil {
				r.statuses = map[int]int{}
			}
			r.statuses[c] += k
		}
		if r.firstErr == "" {
			r.firstErr = w.firstErr
		}
	}
	slices.Sort(r.lat)
	r.n = len(r.lat)
	if !last.IsZero() {
		r.elapsed = last.Sub(from)
	}
	return r
}

func (l *load) loop(ctx context.Context, client *http.Client, i int, req *http.Request, w *worker, from, until time.Time) {
	for first := true; ctx.Err() == nil; first = false {
		if l.next != nil && !first {
			var err error
			if req, err = l.next(ctx, i); err != nil {
				w.errs++
				if w.firstErr == "" {
					w.firstErr = err.Error()
				}
				return
			}
		}
		t0 := time.Now()
		if !t0.Before(until) {
			return
		}
		status, err := do(client, req)
		t1 := time.Now()
		if t0.Before(from) {
			continue
		}
		w.last = t1
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			w.errs++
			if w.firstErr == "" {
				w.firstErr = err.Error()
			}
		case status != l.want:
			w.errs++
			if w.statuses == nil {
				w.statuses = map[int]int{}
			}
			w.statuses[status]++
		default:
			w.lat = append(w.lat, t1.Sub(t0))
		}
	}
}

// do sends req and reads the whole answer, so that the connection is reused.
func do(client *http.Client, req *http.Request) (int, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, err
}
