package measure

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var ten []time.Duration
	for i := 1; i <= 10; i++ {
		ten = append(ten, ms(i))
	}
	for _, tc := range []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{[]time.Duration{ms(7)}, 99, ms(7)},
		{ten, 0, ms(1)},
		{ten, 50, ms(5)},
		{ten, 90, ms(9)},
		{ten, 99, ms(10)},
		{ten, 100, ms(10)},
	} {
		if got := Percentile(tc.in, tc.p); got != tc.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tc.in, tc.p, got, tc.want)
		}
	}
}

func TestParseProcStat(t *testing.T) {
	cpu, ok := ParseProcStat([]byte("42 (Orthanc (x) y) S 1 42 42 0 -1 4194560 1 0 0 0 150 25 0 0 20 0 30 0 1 1 1"))
	if !ok || cpu != 1750*time.Millisecond {
		t.Errorf("got %v %v", cpu, ok)
	}
	if _, ok := ParseProcStat([]byte("42 (short) S 1 42")); ok {
		t.Error("parsed a truncated stat")
	}
}

func TestCPUReadings(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc here: the machine and database CPU figures are left out of the reports")
	}
	if m, ok := MachineCPU(); !ok || m.CPUs < 1 || m.Total == 0 || m.Busy > m.Total {
		t.Errorf("MachineCPU() = %+v, %v", m, ok)
	}
	if cpu, ok := TreeCPU(os.Getpid()); !ok || cpu < 0 {
		t.Errorf("TreeCPU(self) = %v, %v", cpu, ok)
	}
	if _, ok := TreeCPU(-1); ok {
		t.Error("TreeCPU of no process succeeded")
	}
	if cpu, ok := ProcCPU(os.Getpid()); !ok || cpu < 0 {
		t.Errorf("ProcCPU(self) = %v, %v", cpu, ok)
	}
}

func TestFormat(t *testing.T) {
	if got := FormatBusy(0, 0.5, true); got != "" {
		t.Errorf("FormatBusy of an unknown machine = %q", got)
	}
	if got := FormatBusy(0.874, 0.021, true); got != "  machine busy 87% (others 2%)" {
		t.Errorf("FormatBusy = %q", got)
	}
	if got := FormatTail(map[int]int{500: 3, 404: 1}, "boom", "a note"); got != "  statuses 404×1 500×3  first error: boom  (a note)" {
		t.Errorf("FormatTail = %q", got)
	}
	if got := Per(1500*time.Microsecond, 3); got != "500µs" {
		t.Errorf("Per = %q", got)
	}
}

func TestScenarios(t *testing.T) {
	picked, problems := Scenarios("b, a,b,,x", []string{"a", "b"})
	if strings.Join(picked, ",") != "b,a" || len(problems) != 1 || !strings.Contains(problems[0], `"x"`) {
		t.Errorf("got %v, %v", picked, problems)
	}
}
