// Command cpmsload drives a running CPMS server the way its clients do and prints one line of
// figures per scenario: requests per second, latency percentiles and errors.
//
// N clients each hold one keep-alive connection and send their next request as soon as the last
// one is answered (a closed loop), for a fixed time after a short warm-up. The scenarios:
//
//	healthz    GET /healthz: the HTTP stack and the server's middleware, no database
//	me         GET /api/me with a bearer token: token lookup and user load on every request
//	dashboard  GET /api/dashboard with a session cookie: session lookup and user load
//	login      POST /api/login, a few sign-ins one after another (argon2id-bound and throttled)
//	floor      GET /floor of cpmsfloor (bench/cmd/cpmsfloor): the store and audit trail alone
//
// With -baseline it first starts, inside cpmsload itself, a bare net/http server on loopback
// that answers 200 "ok" and runs the healthz scenario against it: the machine's ceiling, to
// which every other figure is given as a ratio. Each line also gives CPU time per request: the
// server's, read from its /metrics before and after the window; the database server's with
// -db-pid; cpmsload's own; and, on Linux, the share of the machine that other processes used,
// which says whether the figures are clean.
//
// Usage:
//
//	cpmsload -base http://127.0.0.1:8080 -token TOKEN [-c 16] [-d 10s] [-warmup 1s] [-baseline]
//	         [-scenarios healthz,me,dashboard,login] [-login-users u1,u2] [-login-password P]
//	         [-login-n 3] [-db-pid PID]
//
// It exits 1 when a scenario fails or more than 1% of its requests fail, and 2 on bad usage.
package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ern-cpms/cpms/bench/internal/measure"
)

func main() { measure.Main(run) }

// maxErrorRate is the share of failed requests above which the run fails.
const maxErrorRate = 0.01

var allScenarios = []string{"healthz", "me", "dashboard", "login", "floor", "fhir-create", "fhir-read", "fhir-family", "fhir-identifier"}

type config struct {
	base          string
	token         string
	clients       int
	duration      time.Duration
	warmup        time.Duration
	timeout       time.Duration
	scenarios     []string
	baseline      bool
	loginUsers    []string
	loginPassword string
	loginN        int
	dbPID         int
	fhirToken     string
	fhirPatients  int
	fhirCentre    string
	fhirERN       string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := measure.FlagSet("cpmsload", stderr)
	fs.StringVar(&cfg.base, "base", "", "base URL of the running server, e.g. http://127.0.0.1:8080")
	fs.StringVar(&cfg.token, "token", "", "bearer token of a user (cpms token create --user NAME), for the me scenario")
	fs.IntVar(&cfg.clients, "c", 16, "concurrent clients, each on its own keep-alive connection")
	fs.DurationVar(&cfg.duration, "d", 10*time.Second, "measured time per scenario")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "unmeasured time before each scenario")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "time limit of one request")
	scen := fs.String("scenarios", strings.Join(allScenarios[:4], ","), "comma-separated scenarios: "+strings.Join(allScenarios, ", "))
	fs.BoolVar(&cfg.baseline, "baseline", false, "first measure a bare net/http handler on loopback in this process (the ceiling)")
	users := fs.String("login-users", "bloodnethpuser1,bloodnethpuser2,bloodnethpuser3,bloodnethpuser4,bloodnethpuser5",
		"comma-separated users to sign in as: for the dashboard sessions and the login scenario")
	fs.StringVar(&cfg.loginPassword, "login-password", "cpms-demo", "password of the -login-users")
	fs.IntVar(&cfg.loginN, "login-n", 3, "sign-ins the login scenario times, one after another")
	fs.StringVar(&cfg.fhirToken, "fhir-token", "", "bearer token for the FHIR scenarios: a centre's his system token or a clinician's (default -token)")
	fs.StringVar(&cfg.fhirCentre, "fhir-centre", "BE10", "centre the FHIR scenarios enrol at (managingOrganization)")
	fs.StringVar(&cfg.fhirERN, "fhir-ern", "EuroBloodNet", "ERN the FHIR scenarios enrol in")
	fs.IntVar(&cfg.fhirPatients, "fhir-patients", 0, "patients to enrol through FHIR before the FHIR scenarios (reported as fhir-seed)")
	fs.IntVar(&cfg.dbPID, "db-pid", 0, "PID of a database server on this machine (PostgreSQL's postmaster): its CPU time and its children's are reported")
	if err := measure.Parse(fs, args); err != nil {
		return cfg, err
	}
	var problems []string
	cfg.base = strings.TrimRight(cfg.base, "/")
	if cfg.base != "" && !measure.IsHTTPURL(cfg.base) {
		problems = append(problems, "-base must be an http:// or https:// URL")
	}
	scenarios, bad := measure.Scenarios(*scen, allScenarios)
	cfg.scenarios, problems = scenarios, append(problems, bad...)
	for _, u := range strings.Split(*users, ",") {
		if u = strings.TrimSpace(u); u != "" {
			cfg.loginUsers = append(cfg.loginUsers, u)
		}
	}
	if cfg.base == "" && !cfg.baseline {
		problems = append(problems, "give -base (the server to drive), -baseline, or both")
	}
	if cfg.base != "" && len(cfg.scenarios) == 0 {
		problems = append(problems, "-scenarios is empty")
	}
	if cfg.fhirToken == "" {
		cfg.fhirToken = cfg.token
	}
	fhir := cfg.fhirPatients > 0
	for _, s := range cfg.scenarios {
		fhir = fhir || strings.HasPrefix(s, "fhir-")
	}
	if cfg.base != "" && fhir && cfg.fhirToken == "" {
		problems = append(problems, "the FHIR scenarios need -fhir-token or -token (cpms token create --centre BE10 --system his)")
	}
	if cfg.fhirPatients < 0 {
		problems = append(problems, "-fhir-patients must not be negative")
	}
	if cfg.base != "" && slices.Contains(cfg.scenarios, "me") && cfg.token == "" {
		problems = append(problems, "the me scenario needs -token (cpms token create --data DIR --user NAME)")
	}
	if (slices.Contains(cfg.scenarios, "dashboard") || slices.Contains(cfg.scenarios, "login")) && len(cfg.loginUsers) == 0 {
		problems = append(problems, "the dashboard and login scenarios need -login-users")
	}
	problems = measure.AtLeastOne(problems, "-c", cfg.clients)
	problems = measure.WindowProblems(problems, cfg.duration, cfg.warmup, cfg.timeout)
	problems = measure.AtLeastOne(problems, "-login-n", cfg.loginN)
	return cfg, measure.Problems(problems)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if code, stop := measure.Refused("cpmsload", err, stderr); stop {
		return code
	}
	fmt.Fprintf(stdout, "# cpmsload %s; c=%d, %s per scenario after %s warm-up\n", measure.Platform(), cfg.clients, cfg.duration, cfg.warmup)

	failed := false
	var bare *result
	if cfg.baseline {
		r, err := runBaseline(ctx, cfg)
		if err != nil {
			fmt.Fprintln(stderr, "cpmsload: baseline:", err)
			return 1
		}
		bare = r
		fmt.Fprintln(stdout, r.line(nil))
		failed = failed || r.failed()
	}
	if cfg.base == "" {
		return exitCode(failed)
	}

	d := &driver{cfg: cfg}
	d.fhir.run = strconvBase36(time.Now().UnixNano())
	d.fhir.centre, d.fhir.ern = cfg.fhirCentre, cfg.fhirERN
	d.fhir.familyBase = rand.Int64N(3_000_000)
	defer d.close(context.WithoutCancel(ctx))
	if err := d.preflight(ctx); err != nil {
		fmt.Fprintln(stderr, "cpmsload:", err)
		return 1
	}
	if d.serverProcs > 0 {
		fmt.Fprintf(stdout, "# server %s: GOMAXPROCS %d\n", cfg.base, d.serverProcs)
	}
	fhirBare := bare
	fhirReady := false
	for _, name := range cfg.scenarios {
		if ctx.Err() != nil {
			break
		}
		if strings.HasPrefix(name, "fhir-") && !fhirReady {
			fhirReady = true
			if cfg.fhirPatients > 0 {
				r := d.seed(ctx, cfg.fhirPatients)
				fmt.Fprintln(stdout, r.line(nil))
				failed = failed || r.failed()
			}
			if cfg.baseline {
				if body, err := d.fhirSample(ctx); err == nil {
					if r, err := runFHIRBare(ctx, cfg, body); err == nil {
						fhirBare = r
						fmt.Fprintln(stdout, r.line(nil))
					}
				}
			}
		}
		r := d.scenario(ctx, name)
		if strings.HasPrefix(name, "fhir-") {
			fmt.Fprintln(stdout, r.line(fhirBare))
		} else {
			fmt.Fprintln(stdout, r.line(bare))
		}
		failed = failed || r.failed()
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "cpmsload: interrupted")
		return 1
	}
	return exitCode(failed)
}

func exitCode(failed bool) int {
	if failed {
		return 1
	}
	return 0
}

// strconvBase36 is a short run label.
func strconvBase36(n int64) string { return strconv.FormatInt(n, 36) }
