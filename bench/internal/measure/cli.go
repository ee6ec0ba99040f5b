package measure

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Main runs a command's run with its arguments and standard streams, stopped by an interrupt,
// and exits with the code it returns.
func Main(run func(ctx context.Context, args []string, stdout, stderr io.Writer) int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Parse parses args with fs, which takes no arguments beyond its flags.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return nil
}

// Scenarios picks the scenarios of a comma-separated list, each once and in the order given, and
// returns a problem for each one not in all.
func Scenarios(list string, all []string) (picked, problems []string) {
	for s := range strings.SplitSeq(list, ",") {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
		case !slices.Contains(all, s):
			problems = append(problems, fmt.Sprintf("unknown scenario %q (want %s)", s, strings.Join(all, ", ")))
		case !slices.Contains(picked, s):
			picked = append(picked, s)
		}
	}
	return picked, problems
}

// IsHTTPURL says whether s is an absolute http:// or https:// URL with a host.
func IsHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// FlagSet is a command's flag set: errors are returned, and said on stderr.
func FlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// AtLeastOne adds the problem of a count flag below 1.
func AtLeastOne(problems []string, flag string, n int) []string {
	if n < 1 {
		problems = append(problems, flag+" must be at least 1")
	}
	return problems
}

// WindowProblems adds the problem of a measured time, warm-up and time limit out of range.
func WindowProblems(problems []string, d, warmup, timeout time.Duration) []string {
	if d <= 0 || warmup < 0 || timeout <= 0 {
		problems = append(problems, "-d and -timeout must be positive and -warmup not negative")
	}
	return problems
}

// Problems is the usage error of the problems found, nil if there are none.
func Problems(problems []string) error {
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// Refused reports what parsing command name's flags gave: stop is true, with the exit code, for
// -help (0) and for bad usage (2, said on stderr).
func Refused(name string, err error, stderr io.Writer) (code int, stop bool) {
	if errors.Is(err, flag.ErrHelp) {
		return 0, true
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2, true
	}
	return 0, false
}

// Platform describes this machine and runtime for the head of a report: "OS/ARCH VERSION, N
// CPUs, GOMAXPROCS M".
func Platform() string {
	return fmt.Sprintf("%s/%s %s, %d CPUs, GOMAXPROCS %d",
		runtime.GOOS, runtime.GOARCH, runtime.Version(), runtime.NumCPU(), runtime.GOMAXPROCS(0))
}
