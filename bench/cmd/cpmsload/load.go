package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/ern-cpms/cpms/bench/internal/measure"
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

// line is the scenario's one-line report; bare, when given, is the baseline it is compared to.
func (r *result) line(bare *result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s", r.name)
	if r.skipped != "" {
		fmt.Fprintf(&b, " FAILED: %s", r.skipped)
		return b.String()
	}
	if r.sequential {
		fmt.Fprintf(&b, " sequential n=%d  min %s  p50 %s  max %s", r.n, measure.Ms(r.pct(0)), measure.Ms(r.pct(50)), measure.Ms(r.pct(100)))
		if len(r.inOrder) > 0 && len(r.inOrder) <= 20 {
			each := make([]string, len(r.inOrder))
			for i, d := range r.inOrder {
				each[i] = measure.Ms(d)
			}
			fmt.Fprintf(&b, "  in order [%s]", strings.Join(each, " "))
		}
	} else {
		fmt.Fprintf(&b, " %9.0f req/s  p50 %7s  p90 %7s  p99 %7s  max %7s  n=%d",
			r.rps(), measure.Ms(r.pct(50)), measure.Ms(r.pct(90)), measure.Ms(r.pct(99)), measure.Ms(r.pct(100)), r.n)
	}
	fmt.Fprintf(&b, "  errors %d (%.2f%%)", r.errs, 100*r.errorRate())
	if !r.sequential {
		fmt.Fprintf(&b, "  conns %d", r.conns)
	}
	if r.n > 0 {
		switch {
		case r.inProcess && r.cliCPU > 0:
			fmt.Fprintf(&b, "  cpu/req %s (client+server)", measure.Per(r.cliCPU, r.n))
		case r.srvCPU > 0:
			fmt.Fprintf(&b, "  cpu/req server %s", measure.Per(r.srvCPU, r.n))
			if r.dbCPU > 0 {
				fmt.Fprintf(&b, " db %s", measure.Per(r.dbCPU, r.n))
			}
			if r.cliCPU > 0 {
				fmt.Fprintf(&b, " client %s", measure.Per(r.cliCPU, r.n))
			}
		}
	}
	b.WriteString(measure.FormatBusy(r.machineBusy, r.othersBusy, r.othersKnown))
	if bare != nil && bare != r && !r.sequential && bare.rps() > 0 && r.n > 0 {
		fmt.Fprintf(&b, "  = %.2f× bare req/s, %.1f× bare p50", r.rps()/bare.rps(), float64(r.pct(50))/float64(bare.pct(50)))
	}
	b.WriteString(measure.FormatTail(r.statuses, r.firstErr, r.note))
	return b.String()
}

func (r *result) pct(p float64) time.Duration { return measure.Percentile(r.lat, p) }

// fill takes what a closed loop measured.
func (r *result) fill(o *measure.Outcome) {
	r.skipped, r.n, r.errs, r.elapsed, r.lat = o.Skipped, o.N, o.Errs, o.Elapsed, o.Lat
	r.conns, r.statuses, r.firstErr = o.Conns, o.Statuses, o.FirstErr
}

// record takes the CPU times a meter read over the window.
func (r *result) record(c measure.Reading) {
	r.cliCPU, r.srvCPU, r.dbCPU = c.Client, c.Server, c.Tree
	// The others' share is known when the server's CPU time is: read, or in this process.
	r.machineBusy, r.othersBusy, r.othersKnown = c.Shares(r.inProcess || r.srvCPU > 0)
}
