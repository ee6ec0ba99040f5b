package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// serverCPU is the CPU time a server has used so far: our server's process_cpu_seconds_total
// from its /metrics, or the utime and stime of a process (Orthanc, -orthanc-pid) from /proc.
func (t *target) serverCPU(ctx context.Context) (time.Duration, bool) {
	switch {
	case t.metricsURL != "":
		cpu, err := readMetricsCPU(ctx, t.setup, t.metricsURL)
		return cpu, err == nil
	case t.pid > 0:
		return procCPU(t.pid)
	}
	return 0, false
}

// readMetricsCPU reads process_cpu_seconds_total from a Prometheus text exposition.
func readMetricsCPU(ctx context.Context, client *http.Client, url string) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return 0, fmt.Errorf("GET %s answered %d", url, resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if ok && name == "process_cpu_seconds_total" {
			v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil {
				return 0, err
			}
			io.Copy(io.Discard, resp.Body)
			return time.Duration(v * float64(time.Second)), nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no process_cpu_seconds_total")
}

// clockTick is the unit of /proc's CPU times (USER_HZ, 100 on every Linux port that matters).
const clockTick = 10 * time.Millisecond

// procCPU is the CPU time (all threads, user and system) process pid has used so far.
func procCPU(pid int) (time.Duration, bool) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	return parseProcStat(raw)
}

// parseProcStat reads utime + stime from the text of /proc/PID/stat.
func parseProcStat(raw []byte) (time.Duration, bool) {
	// pid (comm) state ppid … utime stime: comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	s, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(u+s) * clockTick, true
}

// machineTicks are the whole machine's CPU times from /proc/stat, in clock ticks.
type machineTicks struct {
	busy, total uint64
	cpus        int
}

// machineCPU reads the machine's CPU times; ok is false where /proc/stat is missing.
func machineCPU() (m machineTicks, ok bool) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return m, false
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 || !strings.HasPrefix(fields[0], "cpu") {
			continue
		}
		if fields[0] != "cpu" {
			m.cpus++
			continue
		}
		// user nice system idle iowait irq softirq steal; guest time is already in user and nice.
		for i, v := range fields[1:] {
			if i >= 8 {
				break
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return m, false
			}
			m.total += n
			if i != 3 && i != 4 {
				m.busy += n
			}
		}
		ok = true
	}
	return m, ok && m.cpus > 0
}

// cpuMeter takes the server's, this process's and the machine's CPU time at the start and the
// end of a measured window.
type cpuMeter struct {
	t          *target
	t0         time.Time
	srv0, cli0 time.Duration
	srvOK      bool
	mach0      machineTicks
	machOK     bool
}

func (c *cpuMeter) start(ctx context.Context) {
	c.t0 = time.Now()
	c.cli0 = processCPU()
	c.mach0, c.machOK = machineCPU()
	c.srv0, c.srvOK = c.t.serverCPU(ctx)
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
		if cpu, ok := c.t.serverCPU(ctx); ok {
			r.srvCPU, r.srvKnown = cpu-c.srv0, true
		}
	}
	if m1, ok := machineCPU(); ok && c.machOK && m1.total > c.mach0.total {
		busy := float64(m1.busy-c.mach0.busy) / float64(m1.total-c.mach0.total)
		r.machineBusy = busy
		if r.srvKnown {
			capacity := float64(m1.cpus) * wall.Seconds()
			r.othersBusy = max(0, busy-(r.srvCPU+r.cliCPU).Seconds()/capacity)
			r.othersKnown = true
		}
	}
}
