package main

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ern-cpms/cpms/bench/internal/measure"
)

// result is what one scenario measured on one server.
type result struct {
	scenario, server string
	skipped          string            // why the scenario could not run
	seed             bool              // stow work done only to set up a later scenario
	n                int               // requests answered as expected within the window
	errs             int               // requests that failed within the window
	items            int               // stow: instances stored
	itemErrs         int               // stow: instances not stored (refused, or their request failed)
	bytes            int64             // stow: bytes of the instances stored; wado: body bytes received
	elapsed          time.Duration     // from the window's start to the last answer
	lat              []time.Duration   // latencies of the answered requests, sorted
	kinds            []measure.KindLat // qido: latencies by query kind
	conns            int64             // connections the clients opened
	statuses         map[int]int       // unexpected status codes
	firstErr         string
	srvCPU, cliCPU   time.Duration
	srvKnown         bool
	// machineBusy is the busy share of the whole machine in the window; othersBusy the share
	// used by processes other than the server and this one.
	machineBusy, othersBusy float64
	othersKnown             bool
	diskMBps                float64 // stow-large: the durable write bandwidth of the disk, MB/s
	filesMBps               float64 // stow-large: the same instances written to files made durable one by one, MB/s
	note                    string
}

func (r *result) secs() float64 { return r.elapsed.Seconds() }

// rate is requests per second.
func (r *result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.n) / r.secs()
}

// itemRate is instances stored per second.
func (r *result) itemRate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.items) / r.secs()
}

// mbps is payload megabytes (10⁶ bytes) per second.
func (r *result) mbps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.bytes) / 1e6 / r.secs()
}

func (r *result) isStow() bool { return strings.HasPrefix(r.scenario, "stow-") }

// errorRate counts instances for the STOW scenarios and requests for the others.
func (r *result) errorRate() float64 {
	ok, bad := r.n, r.errs
	if r.isStow() {
		ok, bad = r.items, r.itemErrs
	}
	if ok+bad == 0 {
		return 0
	}
	return float64(bad) / float64(ok+bad)
}

func (r *result) failed() bool {
	if r.skipped != "" {
		return true
	}
	if r.isStow() {
		return r.items+r.itemErrs == 0 || r.errorRate() > maxErrorRate
	}
	return r.n+r.errs == 0 || r.errorRate() > maxErrorRate
}

func (r *result) pct(p float64) time.Duration { return measure.Percentile(r.lat, p) }

// sig formats a figure with three significant digits or so.
func sig(v float64) string {
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a < 1:
		return fmt.Sprintf("%.3f", v)
	case a < 10:
		return fmt.Sprintf("%.2f", v)
	case a < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// line is the one-line report of a result.
func (r *result) line() string {
	var b strings.Builder
	name := r.scenario
	if r.seed {
		name += "(seed)"
	}
	fmt.Fprintf(&b, "%-16s %-8s", name, r.server)
	if r.skipped != "" {
		fmt.Fprintf(&b, " FAILED: %s", r.skipped)
		return b.String()
	}
	unit, count := "req", r.n
	switch {
	case r.isStow():
		fmt.Fprintf(&b, " %8s inst/s %7s MB/s", sig(r.itemRate()), sig(r.mbps()))
		if r.diskMBps > 0 {
			fmt.Fprintf(&b, " = %.2f× durable disk (%s MB/s, mean of dd before and after)", r.mbps()/r.diskMBps, sig(r.diskMBps))
			if r.filesMBps > 0 {
				fmt.Fprintf(&b, ", %.2f× per-instance durable files (%s MB/s)", r.mbps()/r.filesMBps, sig(r.filesMBps))
			}
		}
		fmt.Fprintf(&b, "  %d inst in %d req of %s MB, %.2fs", r.items, r.n+r.errs, sig(float64(r.bytes)/1e6/math.Max(1, float64(r.n))), r.secs())
		fmt.Fprintf(&b, "  p50 %s  p99 %s  max %s per req", measure.Ms(r.pct(50)), measure.Ms(r.pct(99)), measure.Ms(r.pct(100)))
		fmt.Fprintf(&b, "  errors %d inst, %d req (%.2f%%)", r.itemErrs, r.errs, 100*r.errorRate())
		unit, count = "inst", r.items
	case r.scenario == "wado":
		fmt.Fprintf(&b, " %6.3f GB/s  %s req/s of %s MB", r.mbps()/1000, sig(r.rate()), sig(float64(r.bytes)/1e6/math.Max(1, float64(r.n))))
		fmt.Fprintf(&b, "  p50 %s  p99 %s  max %s  n=%d", measure.Ms(r.pct(50)), measure.Ms(r.pct(99)), measure.Ms(r.pct(100)), r.n)
		fmt.Fprintf(&b, "  errors %d (%.2f%%)", r.errs, 100*r.errorRate())
	default:
		fmt.Fprintf(&b, " %8s q/s  p50 %s  p90 %s  p99 %s  max %s  n=%d", sig(r.rate()),
			measure.Ms(r.pct(50)), measure.Ms(r.pct(90)), measure.Ms(r.pct(99)), measure.Ms(r.pct(100)), r.n)
		fmt.Fprintf(&b, "  errors %d (%.2f%%)", r.errs, 100*r.errorRate())
		unit = "q"
	}
	fmt.Fprintf(&b, "  conns %d", r.conns)
	if count > 0 && (r.srvKnown || r.cliCPU > 0) {
		fmt.Fprintf(&b, "  cpu/%s", unit)
		if r.srvKnown {
			fmt.Fprintf(&b, " server %s", measure.Per(r.srvCPU, count))
		}
		if r.cliCPU > 0 {
			fmt.Fprintf(&b, " client %s", measure.Per(r.cliCPU, count))
		}
	}
	b.WriteString(measure.FormatBusy(r.machineBusy, r.othersBusy, r.othersKnown))
	if len(r.kinds) > 0 {
		parts := make([]string, 0, len(r.kinds))
		for _, k := range r.kinds {
			parts = append(parts, fmt.Sprintf("%s %s/%s", k.Name, measure.Ms(measure.Percentile(k.Lat, 50)), measure.Ms(measure.Percentile(k.Lat, 99))))
		}
		fmt.Fprintf(&b, "  p50/p99 by query: %s", strings.Join(parts, ", "))
	}
	b.WriteString(measure.FormatTail(r.statuses, r.firstErr, r.note))
	return b.String()
}

// headline is a result's main figure, the one the ratios compare.
func (r *result) headline() (float64, string) {
	switch {
	case r.isStow():
		return r.itemRate(), "inst/s"
	case r.scenario == "wado":
		return r.mbps() / 1000, "GB/s"
	}
	return r.rate(), "q/s"
}

// summary is the closing side-by-side table: each scenario's figures on both servers, their
// ratio and the target (shown, never asserted).
func summary(results []*result) string {
	by := map[string]map[string]*result{}
	var order []string
	for _, r := range results {
		if r.seed || r.skipped != "" {
			continue
		}
		if by[r.scenario] == nil {
			by[r.scenario] = map[string]*result{}
			order = append(order, r.scenario)
		}
		by[r.scenario][r.server] = r
	}
	var b strings.Builder
	row := func(cols ...string) {
		fmt.Fprintf(&b, "# %-26s %10s %10s %13s  %s\n", cols[0], cols[1], cols[2], cols[3], cols[4])
	}
	row("figure", "cpms", "orthanc", "cpms/orthanc", "target")
	fig := func(r *result, f func(*result) float64, format func(float64) string) (string, float64) {
		if r == nil {
			return "—", 0
		}
		v := f(r)
		return format(v), v
	}
	line := func(scen, label string, f func(*result) float64, format func(float64) string, ratio bool, target string) {
		a, av := fig(by[scen]["cpms"], f, format)
		o, ov := fig(by[scen]["orthanc"], f, format)
		rt := ""
		if ratio && av > 0 && ov > 0 {
			rt = fmt.Sprintf("%.2f×", av/ov)
		}
		row(scen+" "+label, a, o, rt, target)
	}
	p99 := func(r *result) float64 { return float64(r.pct(99)) / float64(time.Millisecond) }
	p50 := func(r *result) float64 { return float64(r.pct(50)) / float64(time.Millisecond) }
	msf := func(v float64) string { return sig(v) + " ms" }
	for _, s := range order {
		switch s {
		case "stow-large":
			line(s, "inst/s", (*result).itemRate, sig, true, "")
			line(s, "MB/s", (*result).mbps, sig, true, "")
			line(s, "× durable disk", func(r *result) float64 {
				if r.diskMBps <= 0 {
					return 0
				}
				return r.mbps() / r.diskMBps
			}, func(v float64) string {
				if v == 0 {
					return "no -data-dir"
				}
				return fmt.Sprintf("%.2f", v)
			}, false, "cpms ≥ 0.90")
			line(s, "p50/req", p50, msf, false, "")
			line(s, "p99/req", p99, msf, false, "")
		case "stow-small":
			line(s, "inst/s", (*result).itemRate, sig, true, "≥ 3×")
			line(s, "p99/req", p99, msf, false, "")
		case "qido":
			line(s, "q/s", (*result).rate, sig, true, "≥ 20×")
			line(s, "p50", p50, msf, false, "")
			line(s, "p99", p99, msf, false, "cpms ≤ 5 ms")
		case "wado":
			line(s, "GB/s", func(r *result) float64 { return r.mbps() / 1000 }, func(v float64) string { return fmt.Sprintf("%.3f", v) }, true, "cpms ≥ 1 GB/s")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
