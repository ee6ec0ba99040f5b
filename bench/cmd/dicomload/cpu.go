package main

import (
	"context"
	"time"

	"github.com/ern-cpms/cpms/bench/internal/measure"
)

// serverCPU is the CPU time a server has used so far: our server's process_cpu_seconds_total
// from its /metrics, or the utime and stime of a process (Orthanc, -orthanc-pid) from /proc.
func (t *target) serverCPU(ctx context.Context) (time.Duration, bool) {
	switch {
	case t.metricsURL != "":
		m, err := measure.ReadMetrics(ctx, t.setup, t.metricsURL)
		return m.CPU, err == nil
	case t.pid > 0:
		return measure.ProcCPU(t.pid)
	}
	return 0, false
}

// meter takes the server's, this process's and the machine's CPU time at the start and the end
// of a measured window.
func (t *target) meter() *measure.Meter { return &measure.Meter{Server: t.serverCPU} }

// record takes the CPU times a meter read over the window.
func (r *result) record(c measure.Reading) {
	r.cliCPU, r.srvCPU, r.srvKnown = c.Client, c.Server, c.ServerKnown
	r.machineBusy, r.othersBusy, r.othersKnown = c.Shares(r.srvKnown)
}
