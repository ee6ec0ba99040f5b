// Package measure holds what the load harnesses under bench/cmd share: the closed loop of HTTP
// clients and their transports, the CPU time of this process, of a server, of a process tree and
// of the whole machine over a measured window, latency percentiles, the common pieces of a
// result line, and the helpers of their command lines.
package measure

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Percentile is the nearest-rank percentile of sorted latencies.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Ms formats a latency with about three significant digits.
func Ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 10:
		return fmt.Sprintf("%.2fms", v)
	case v < 100:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.0fms", v)
}

// Per formats the CPU time of each of n operations.
func Per(cpu time.Duration, n int) string {
	us := float64(cpu) / float64(time.Microsecond) / float64(n)
	switch {
	case us >= 10000:
		return fmt.Sprintf("%.0fms", us/1000)
	case us >= 1000:
		return fmt.Sprintf("%.1fms", us/1000)
	}
	return fmt.Sprintf("%.0fµs", us)
}

// FormatBusy is the "  machine busy B% (others O%)" part of a result line: empty when busy is
// 0, without the others' share when it is unknown.
func FormatBusy(busy, others float64, othersKnown bool) string {
	if busy <= 0 {
		return ""
	}
	s := fmt.Sprintf("  machine busy %.0f%%", 100*busy)
	if othersKnown {
		s += fmt.Sprintf(" (others %.0f%%)", 100*others)
	}
	return s
}

// FormatTail is the closing part of a result line: the unexpected status codes and their
// counts, the first error and a note, each when there is one.
func FormatTail(statuses map[int]int, firstErr, note string) string {
	var b strings.Builder
	if len(statuses) > 0 {
		codes := make([]int, 0, len(statuses))
		for c := range statuses {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		parts := make([]string, 0, len(codes))
		for _, c := range codes {
			parts = append(parts, fmt.Sprintf("%d×%d", c, statuses[c]))
		}
		fmt.Fprintf(&b, "  statuses %s", strings.Join(parts, " "))
	}
	if firstErr != "" {
		fmt.Fprintf(&b, "  first error: %s", firstErr)
	}
	if note != "" {
		fmt.Fprintf(&b, "  (%s)", note)
	}
	return b.String()
}
