package measure

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

// Metrics are the figures read from a server's Prometheus text exposition (/metrics).
type Metrics struct {
	CPU   time.Duration // process_cpu_seconds_total
	Procs int           // go_sched_gomaxprocs_threads; 0 if absent
}

// ReadMetrics reads a server's process CPU time, and its GOMAXPROCS when given, from url.
func ReadMetrics(ctx context.Context, client *http.Client, url string) (Metrics, error) {
	var m Metrics
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return m, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return m, fmt.Errorf("GET %s answered %d", url, resp.StatusCode)
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
			v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil {
				return m, err
			}
			m.CPU, found = time.Duration(v*float64(time.Second)), true
		case "go_sched_gomaxprocs_threads":
			if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
				m.Procs = int(v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if !found {
		return m, errors.New("no process_cpu_seconds_total")
	}
	return m, nil
}

// ClockTick is the unit of /proc's CPU times (USER_HZ, 100 on every Linux port that matters).
const ClockTick = 10 * time.Millisecond

// ProcCPU is the CPU time (all threads, user and system) process pid has used so far.
func ProcCPU(pid int) (time.Duration, bool) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	return ParseProcStat(raw)
}

// ParseProcStat reads utime + stime from the text of /proc/PID/stat.
func ParseProcStat(raw []byte) (time.Duration, bool) {
	f, ok := statFields(raw)
	if !ok {
		return 0, false
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	s, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(u+s) * ClockTick, true
}

// statFields are the fields of /proc/PID/stat after the command name, from the state on: f[1]
// is the parent's PID, f[11] and f[12] utime and stime. ok is false when there are too few.
func statFields(raw []byte) (f []string, ok bool) {
	// pid (comm) state ppid … utime stime: comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return nil, false
	}
	f = strings.Fields(string(raw[i+1:]))
	return f, len(f) >= 13
}

// TreeCPU is the CPU time used so far by process pid and its direct children: a PostgreSQL
// server's postmaster and its backends. ok is false where /proc is missing or pid is gone.
func TreeCPU(pid int) (cpu time.Duration, ok bool) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	var ticks uint64
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // exited meanwhile
		}
		f, fok := statFields(raw)
		if !fok {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		if n != pid && ppid != pid {
			continue
		}
		if n == pid {
			ok = true
		}
		u, _ := strconv.ParseUint(f[11], 10, 64)
		s, _ := strconv.ParseUint(f[12], 10, 64)
		ticks += u + s
	}
	return time.Duration(ticks) * ClockTick, ok
}

// MachineTicks are the whole machine's CPU times from /proc/stat, in clock ticks.
type MachineTicks struct {
	Busy, Total uint64
	CPUs        int
}

// MachineCPU reads the machine's CPU times; ok is false where /proc/stat is missing.
func MachineCPU() (m MachineTicks, ok bool) {
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
			m.CPUs++
			continue
		}
		// user nice system idle iowait irq softirq steal guest guest_nice; guest time is
		// already counted in user and nice.
		for i, v := range fields[1:] {
			if i >= 8 {
				break
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return m, false
			}
			m.Total += n
			if i != 3 && i != 4 {
				m.Busy += n
			}
		}
		ok = true
	}
	return m, ok && m.CPUs > 0
}

// Meter takes CPU times at the start and the end of a measured window: this process's, a
// server's, a process tree's and the whole machine's.
type Meter struct {
	// Server reads the server's CPU time so far; nil when there is none to read.
	Server func(ctx context.Context) (time.Duration, bool)
	// TreePID is a process on this machine whose CPU time and its children's are read from
	// /proc (a database server); 0 for none.
	TreePID int

	t0                    time.Time
	cli0, srv0, tree0     time.Duration
	srvOK, treeOK, machOK bool
	mach0                 MachineTicks
}

// Reading is what a Meter measured over its window. A CPU time that could not be read is 0.
type Reading struct {
	Client      time.Duration // this process's
	Server      time.Duration
	ServerKnown bool
	Tree        time.Duration // the process tree's of TreePID
	// MachineBusy is the share of the whole machine's CPU time that was busy in the window;
	// MachineKnown is false where /proc/stat is missing.
	MachineBusy  float64
	MachineKnown bool
	capacity     float64 // the machine's CPU seconds in the window
}

// Start opens the window.
func (c *Meter) Start(ctx context.Context) {
	c.t0 = time.Now()
	c.cli0 = ProcessCPU()
	c.mach0, c.machOK = MachineCPU()
	if c.TreePID > 0 {
		c.tree0, c.treeOK = TreeCPU(c.TreePID)
	}
	if c.Server != nil {
		c.srv0, c.srvOK = c.Server(ctx)
	}
}

// Stop closes the window and returns what was used in it; nothing if it was never opened.
func (c *Meter) Stop(ctx context.Context) Reading {
	var r Reading
	if c.t0.IsZero() {
		return r
	}
	wall := time.Since(c.t0)
	if c.cli0 > 0 {
		r.Client = ProcessCPU() - c.cli0
	}
	if c.srvOK {
		if cpu, ok := c.Server(ctx); ok {
			r.Server, r.ServerKnown = cpu-c.srv0, true
		}
	}
	if c.treeOK {
		if cpu, ok := TreeCPU(c.TreePID); ok {
			r.Tree = cpu - c.tree0
		}
	}
	if m1, ok := MachineCPU(); ok && c.machOK && m1.Total > c.mach0.Total {
		r.MachineBusy = float64(m1.Busy-c.mach0.Busy) / float64(m1.Total-c.mach0.Total)
		r.MachineKnown = true
		r.capacity = float64(m1.CPUs) * wall.Seconds()
	}
	return r
}

// Shares are the busy share of the machine and the share that processes other than this one,
// the server and the tree used: other tenants skew the figures. The caller says whether the
// CPU times read account for the server (complete); if not, the others' share is unknown.
func (r Reading) Shares(complete bool) (busy, others float64, othersKnown bool) {
	if !r.MachineKnown {
		return 0, 0, false
	}
	if !complete {
		return r.MachineBusy, 0, false
	}
	return r.MachineBusy, max(0, r.MachineBusy-(r.Server+r.Tree+r.Client).Seconds()/r.capacity), true
}
