// Command dicomload drives two DICOMweb servers with the same work in the same run, ours (the
// CPMS server's /dicomweb scope of a centre) and a peer (Orthanc with its DICOMweb plugin), and
// prints their figures side by side.
//
// It makes synthetic CT instances (dicomwebtest) as files in a temporary folder, under a UID root
// picked for the run so that runs never collide, and then runs, in this order, on each server:
//
//	stow-large  -large-n (400) slices of 512×512 (≈ 512 KiB), -stow-c (4) clients, -batch (10)
//	            instances per STOW-RS request, each body streamed from the files: instances/s,
//	            MB/s, latency per request, and MB/s as a share of the disk's durable write
//	            bandwidth: dd conv=fdatasync of -dd-mib (512) MiB in -data-dir, just before and
//	            just after stow-large, the mean of the two
//	stow-small  -small-n (20 000) slices of 64×64 (≈ 9 KB), -small-per-study (100) to a study,
//	            -stow-c clients, -batch per request: instances/s
//	qido        for -d after -warmup, -c (16) clients send a mix of QIDO-RS queries against the
//	            stow-small studies: a wildcard on PatientName, StudyInstanceUID=, a study's series,
//	            a study's instances, ModalitiesInStudy=CT with a StudyDate range: queries/s, p50,
//	            p99
//	wado        for -d after -warmup, -wado-c (4) clients retrieve the whole stow-large study
//	            (multipart/related; type="application/dicom"; transfer-syntax=*): GB/s of body
//
// The STOW scenarios are a fixed amount of work: each client first stores one batch of its own
// (unmeasured; it opens the client's one keep-alive connection), then the clients take the
// batches in turn and the window ends with the last answer. qido and wado are closed loops, as
// in cpmsload. Every STOW answer is checked (200, one ReferencedSOPSequence item per instance
// sent, no FailedSOPSequence). qido needs the stow-small data and wado the stow-large study: a
// run without those scenarios stores them first (lines marked "(seed)").
//
// CPU time per request comes from our server's /metrics (process_cpu_seconds_total) and from
// /proc/PID/stat of -orthanc-pid; the client's is the harness's own, and on Linux each line gives
// how busy the machine was and the share used by other processes.
//
// Usage:
//
//	dicomload -cpms http://127.0.0.1:8080/dicomweb/centres/BE10 -token TOKEN
//	          -orthanc http://127.0.0.1:8042/dicom-web [-orthanc-pid PID] [-data-dir DIR]
//	          [-scenarios stow-large,stow-small,qido,wado] [-small-n 20000] [-c 16] [-d 10s]
//	          [-stow-c 4] [-wado-c 4] [-batch 10] [-keep]
//
// It exits 1 when a scenario fails or more than 1% of its instances or requests fail, and 2 on
// bad usage. It never asserts the targets: the closing table shows them beside the figures.
package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ern-cpms/cpms/bench/internal/measure"
	"github.com/ern-cpms/cpms/dicomweb/dicomwebtest"
)

func main() { measure.Main(run) }

// maxErrorRate is the share of failed instances (STOW) or requests above which the run fails.
const maxErrorRate = 0.01

var allScenarios = []string{"stow-large", "stow-small", "qido", "wado"}

type config struct {
	cpms, token     string
	orthanc         string
	orthancPID      int
	scenarios       []string
	largeN, largeSz int
	smallN, smallSz int
	perStudy        int
	batch           int
	c, stowC, wadoC int
	d, warmup       time.Duration
	timeout         time.Duration
	qidoLimit       int
	dataDir, tmpDir string
	ddMiB           int
	keep            bool
	runID           int
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := measure.FlagSet("dicomload", stderr)
	var cfg config
	fs.StringVar(&cfg.cpms, "cpms", "", "our server's DICOMweb scope root, e.g. http://127.0.0.1:8080/dicomweb/centres/BE10 (empty: skip)")
	fs.StringVar(&cfg.token, "token", "", "bearer token for -cpms (cpms token create --centre BE10 --system pacs)")
	fs.StringVar(&cfg.orthanc, "orthanc", "", "the peer's DICOMweb root, e.g. http://127.0.0.1:8042/dicom-web (empty: skip)")
	fs.IntVar(&cfg.orthancPID, "orthanc-pid", 0, "PID of the Orthanc process, for its CPU time")
	scen := fs.String("scenarios", strings.Join(allScenarios, ","), "comma-separated scenarios: "+strings.Join(allScenarios, ", "))
	fs.IntVar(&cfg.largeN, "large-n", 400, "stow-large: instances (one study)")
	fs.IntVar(&cfg.largeSz, "large-size", 512, "stow-large: rows and columns of each slice")
	fs.IntVar(&cfg.smallN, "small-n", 20000, "stow-small: instances")
	fs.IntVar(&cfg.smallSz, "small-size", 64, "stow-small: rows and columns of each slice")
	fs.IntVar(&cfg.perStudy, "small-per-study", 100, "stow-small: instances per study")
	fs.IntVar(&cfg.batch, "batch", 10, "instances per STOW request")
	fs.IntVar(&cfg.stowC, "stow-c", 4, "concurrent STOW clients")
	fs.IntVar(&cfg.c, "c", 16, "concurrent qido clients")
	fs.IntVar(&cfg.wadoC, "wado-c", 4, "concurrent wado clients")
	fs.DurationVar(&cfg.d, "d", 10*time.Second, "measured time of qido and wado")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "unmeasured time before qido and wado")
	fs.DurationVar(&cfg.timeout, "timeout", 2*time.Minute, "time limit of one request")
	fs.IntVar(&cfg.qidoLimit, "qido-limit", 100, "limit= of the ModalitiesInStudy/StudyDate query (0: none), which matches every study")
	fs.StringVar(&cfg.dataDir, "data-dir", "", "a folder on the servers' data filesystem, where dd measures the durable write bandwidth (empty: not measured)")
	fs.IntVar(&cfg.ddMiB, "dd-mib", 512, "MiB dd writes")
	fs.StringVar(&cfg.tmpDir, "tmp", "", "where the instance files are generated (default: the system's temporary folder)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the generated files")
	fs.IntVar(&cfg.runID, "run", 0, "the run number under dicomwebtest.UIDRoot, at most 9 digits (default: random); reusing one stores the same instances again")
	if err := measure.Parse(fs, args); err != nil {
		return cfg, err
	}
	var problems []string
	for _, u := range []*string{&cfg.cpms, &cfg.orthanc} {
		*u = strings.TrimRight(*u, "/")
		if *u == "" {
			continue
		}
		if !measure.IsHTTPURL(*u) {
			problems = append(problems, fmt.Sprintf("%q is not an http:// or https:// URL", *u))
		}
	}
	if cfg.cpms == "" && cfg.orthanc == "" {
		problems = append(problems, "give -cpms, -orthanc or both")
	}
	if cfg.cpms != "" && cfg.token == "" {
		problems = append(problems, "-cpms needs -token")
	}
	scenarios, bad := measure.Scenarios(*scen, allScenarios)
	cfg.scenarios, problems = scenarios, append(problems, bad...)
	if len(cfg.scenarios) == 0 {
		problems = append(problems, "-scenarios is empty")
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"-large-n", cfg.largeN}, {"-large-size", cfg.largeSz}, {"-small-n", cfg.smallN}, {"-small-size", cfg.smallSz},
		{"-small-per-study", cfg.perStudy}, {"-batch", cfg.batch}, {"-c", cfg.c}, {"-stow-c", cfg.stowC}, {"-wado-c", cfg.wadoC}, {"-dd-mib", cfg.ddMiB}} {
		problems = measure.AtLeastOne(problems, v.name, v.n)
	}
	if cfg.largeSz > 4096 || cfg.smallSz > 4096 {
		problems = append(problems, "-large-size and -small-size are at most 4096")
	}
	problems = measure.WindowProblems(problems, cfg.d, cfg.warmup, cfg.timeout)
	if (cfg.smallN+cfg.perStudy-1)/cfg.perStudy > 99_000 {
		problems = append(problems, "-small-n / -small-per-study gives more than 99 000 studies")
	}
	if cfg.runID < 0 || cfg.runID > 999_999_999 {
		problems = append(problems, "-run must not be negative")
	}
	return cfg, measure.Problems(problems)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if code, stop := measure.Refused("dicomload", err, stderr); stop {
		return code
	}
	fmt.Fprintf(stdout, "# dicomload %s; stow c=%d batch=%d, qido c=%d, wado c=%d, %s after %s warm-up\n",
		measure.Platform(), cfg.stowC, cfg.batch, cfg.c, cfg.wadoC, cfg.d, cfg.warmup)

	targets, err := preflight(ctx, cfg, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "dicomload:", err)
		return 1
	}

	want := func(s string) bool { return slices.Contains(cfg.scenarios, s) }
	needLarge := want("stow-large") || want("wado")
	needSmall := want("stow-small") || want("qido")

	dir, err := os.MkdirTemp(cfg.tmpDir, "dicomload-")
	if err != nil {
		fmt.Fprintln(stderr, "dicomload:", err)
		return 1
	}
	if cfg.keep {
		fmt.Fprintf(stdout, "# files kept in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	runID := cfg.runID
	if runID == 0 {
		runID = 100_000_000 + rand.IntN(900_000_000)
	}
	ds := &dataset{dir: dir, run: runID, root: dicomwebtest.UIDRoot(runID)}
	smallStudies := (cfg.smallN + cfg.perStudy - 1) / cfg.perStudy
	t0 := time.Now()
	var large, largeWarm, small, smallWarm *studySet
	gen := func(label string, arm, n, perStudy, size, patient int) *studySet {
		if err != nil {
			return nil
		}
		var s *studySet
		s, err = ds.generate(label, arm, n, perStudy, size, patient)
		return s
	}
	warmN := cfg.stowC * cfg.batch
	if needLarge {
		large = gen("large", 1, cfg.largeN, cfg.largeN, cfg.largeSz, smallStudies)
		largeWarm = gen("large-warm", 3, warmN, warmN, cfg.largeSz, smallStudies+1)
	}
	if needSmall {
		small = gen("small", 2, cfg.smallN, cfg.perStudy, cfg.smallSz, 0)
		smallWarm = gen("small-warm", 4, warmN, warmN, cfg.smallSz, smallStudies+2)
	}
	if err != nil {
		fmt.Fprintln(stderr, "dicomload: generating the instances:", err)
		return 1
	}
	fmt.Fprintf(stdout, "# data: UID root %s, generated in %.1fs in %s", ds.root, time.Since(t0).Seconds(), dir)
	if large != nil {
		fmt.Fprintf(stdout, "; large: %d × %d² CT in study %s, %s MB each", len(large.instances), cfg.largeSz,
			large.studies[0], sig(float64(large.instances[0].size)/1e6))
	}
	if small != nil {
		fmt.Fprintf(stdout, "; small: %d × %d² CT in %d studies, %s kB each", len(small.instances), cfg.smallSz,
			len(small.studies), sig(float64(small.instances[0].size)/1e3))
	}
	fmt.Fprintln(stdout)

	// The disk is measured just before and just after stow-large (on every server), and the
	// stow-large lines compare to the mean of the two: this disk's bandwidth varies from minute
	// to minute.
	var diskMBps, filesMBps []float64
	measureDisk := func(when string) bool {
		if !want("stow-large") || cfg.dataDir == "" {
			return true
		}
		disk, err := durableWrite(ctx, cfg.dataDir, cfg.ddMiB)
		if err != nil {
			fmt.Fprintln(stderr, "dicomload: measuring the disk:", err)
			return false
		}
		how := "dd's figure"
		if !disk.fromDD {
			how = "wall time of dd"
		}
		fmt.Fprintf(stdout, "# disk %s stow-large: dd of %d MiB with conv=fdatasync in %s: %.2fs, %s MB/s durable (%s)\n",
			when, cfg.ddMiB, cfg.dataDir, disk.elapsed.Seconds(), sig(disk.mbps()), how)
		diskMBps = append(diskMBps, disk.mbps())
		files, err := durableFiles(ctx, cfg.dataDir, large.instances, cfg.stowC)
		if err != nil {
			fmt.Fprintln(stderr, "dicomload: measuring the disk:", err)
			return false
		}
		fmt.Fprintf(stdout, "# disk %s stow-large: the %d instances copied to files by %d writers, each file and its folder synced: %.2fs, %s MB/s durable\n",
			when, len(large.instances), cfg.stowC, files.elapsed.Seconds(), sig(files.mbps()))
		filesMBps = append(filesMBps, files.mbps())
		return true
	}
	if !measureDisk("before") {
		return 1
	}

	var results []*result
	failed := false
	report := func(r *result) {
		fmt.Fprintln(stdout, r.line())
		results = append(results, r)
		failed = failed || r.failed()
	}
	compare := func(scen string, rs []*result) {
		if len(rs) != 2 || rs[0].failed() || rs[1].failed() {
			return
		}
		a, unit := rs[0].headline()
		b, _ := rs[1].headline()
		if b > 0 {
			fmt.Fprintf(stdout, "# %s: %s/%s = %.2f× %s\n", scen, rs[0].server, rs[1].server, a/b, unit)
		}
	}
	for _, scen := range allScenarios {
		if ctx.Err() != nil {
			break
		}
		seed := false
		switch scen {
		case "stow-large":
			seed = !want(scen) && want("wado")
		case "stow-small":
			seed = !want(scen) && want("qido")
		}
		if !want(scen) && !seed {
			continue
		}
		var rs []*result
		held := scen == "stow-large" && len(diskMBps) > 0 // printed after the second dd
		for _, t := range targets {
			var r *result
			switch scen {
			case "stow-large":
				r = stow(ctx, t, scen, large.instances, largeWarm.instances, cfg.stowC, cfg.batch, cfg.timeout)
			case "stow-small":
				r = stow(ctx, t, scen, small.instances, smallWarm.instances, cfg.stowC, cfg.batch, cfg.timeout)
			case "qido":
				r = runQido(ctx, cfg, t, small)
			case "wado":
				r = runWado(ctx, cfg, t, large)
			}
			r.seed = seed
			if !held {
				report(r)
			}
			rs = append(rs, r)
		}
		if held {
			if !measureDisk("after") {
				return 1
			}
			var sum, fsum float64
			for i, v := range diskMBps {
				sum, fsum = sum+v, fsum+filesMBps[i]
			}
			for _, r := range rs {
				r.diskMBps = sum / float64(len(diskMBps))
				r.filesMBps = fsum / float64(len(filesMBps))
				report(r)
			}
		}
		if !seed {
			compare(scen, rs)
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "dicomload: interrupted")
		return 1
	}
	fmt.Fprintln(stdout, summary(results))
	if failed {
		return 1
	}
	return 0
}

// preflight checks that each server answers a QIDO request and finds where its CPU time is read.
func preflight(ctx context.Context, cfg config, stdout io.Writer) ([]*target, error) {
	var targets []*target
	if cfg.cpms != "" {
		t := &target{name: "cpms", base: cfg.cpms, token: cfg.token}
		u, _ := url.Parse(cfg.cpms)
		t.metricsURL = u.Scheme + "://" + u.Host + "/metrics"
		targets = append(targets, t)
	}
	if cfg.orthanc != "" {
		targets = append(targets, &target{name: "orthanc", base: cfg.orthanc, pid: cfg.orthancPID})
	}
	for _, t := range targets {
		t.setup = measure.NewClient(measure.NewTransport(cfg.timeout, bufs, nil), cfg.timeout)
		req, err := t.request(ctx, http.MethodGet, "/studies?limit=1", nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/dicom+json")
		resp, err := t.setup.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s at %s does not answer: %w", t.name, t.base, err)
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
			return nil, fmt.Errorf("%s: GET %s/studies answered %d: %s", t.name, t.base, resp.StatusCode, strings.TrimSpace(string(raw)))
		}
		cpu := "unknown"
		if _, ok := t.serverCPU(ctx); ok {
			cpu = "from " + t.metricsURL
			if t.metricsURL == "" {
				cpu = fmt.Sprintf("from /proc/%d/stat", t.pid)
			}
		} else {
			t.metricsURL, t.pid = "", 0
		}
		fmt.Fprintf(stdout, "# %s: %s, server CPU %s\n", t.name, t.base, cpu)
	}
	return targets, nil
}

// runQido checks that each query of the mix finds the stow-small data, then drives the mix.
func runQido(ctx context.Context, cfg config, t *target, set *studySet) *result {
	note, err := qidoCheck(ctx, t, set, cfg.qidoLimit)
	if err != nil {
		return &result{scenario: "qido", server: t.name, skipped: err.Error()}
	}
	r := runLoop(ctx, t, "qido", &measure.Loop{Clients: cfg.c, Warmup: cfg.warmup, Duration: cfg.d, Timeout: cfg.timeout, Kinds: qidoKinds,
		Next: func(ctx context.Context, _ int, rng *rand.Rand) (*http.Request, int, error) {
			k := rng.IntN(len(qidoKinds))
			req, err := t.request(ctx, http.MethodGet, qidoQuery(k, set, rng, cfg.qidoLimit), nil)
			if err == nil {
				req.Header.Set("Accept", "application/dicom+json")
			}
			return req, k, err
		}})
	r.note = note
	return r
}

// runWado checks that a retrieve of the large study gives all its instances, then drives it.
func runWado(ctx context.Context, cfg config, t *target, set *studySet) *result {
	study := set.studies[0]
	note, err := wadoCheck(ctx, t, study, len(set.instances))
	if err != nil {
		return &result{scenario: "wado", server: t.name, skipped: err.Error()}
	}
	r := runLoop(ctx, t, "wado", &measure.Loop{Clients: cfg.wadoC, Warmup: cfg.warmup, Duration: cfg.d, Timeout: cfg.timeout, Kinds: []string{"study"},
		Next: func(ctx context.Context, _ int, _ *rand.Rand) (*http.Request, int, error) {
			req, err := t.request(ctx, http.MethodGet, "/studies/"+study, nil)
			if err == nil {
				req.Header.Set("Accept", wadoAccept)
			}
			return req, 0, err
		}})
	r.note = note
	return r
}
