package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"
)

// machineTicks are the whole machine's CPU times from /proc/stat, in clock ticks.
type machineTicks struct {
	busy, total uint64
	cpus        int
}

// machineCPU reads the machine's CPU times; ok is false where /proc/stat is missing.
func machineCPU() (m machineTicks, ok bool) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return m, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || !strings.HasPrefix(fields[0], "cpu") {
			continue
		}
		if fields[0] != "cpu" {
			m.cpus++
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
			m.total += n
			if i != 3 && i != 4 {
				m.busy += n
			}
		}
		ok = true
	}
	return m, ok && m.cpus > 0 && sc.Err() == nil
}

// clockTick is the unit of /proc's CPU times (USER_HZ, 100 on every Linux port that matters).
const clockTick = 10 * time.Millisecond

// treeCPU is the CPU time used so far by process pid and its direct children: a PostgreSQL
// server's postmaster and its backends. ok is false where /proc is missing or pid is gone.
func treeCPU(pid int) (cpu time.Duration, ok bool) {
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
		// pid (comm) state ppid … utime stime: comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(raw, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(raw[i+1:]))
		if len(f) < 13 {
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
	return time.Duration(ticks) * clockTick, ok
}
