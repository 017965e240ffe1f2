package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/archive"
	"github.com/djgrade/djgrade/sandbox"
)

// benchReport is what `djgrade bench --json` prints: one object.
type benchReport struct {
	Image       string          `json:"image"`
	N           int             `json:"n"`
	Concurrency int             `json:"concurrency"`
	PlainRuns   int             `json:"plain_runs"`
	Machine     benchMachine    `json:"machine"`
	Exercises   []benchExercise `json:"exercises"`
}

// benchMachine describes where the figures come from.
type benchMachine struct {
	Cores int `json:"cores"`
	// LoadBefore and LoadAfter are the 1, 5 and 15 minute load averages
	// (/proc/loadavg) at the start and the end of the run.
	LoadBefore []float64 `json:"load_before"`
	LoadAfter  []float64 `json:"load_after"`
}

// benchExercise holds one exercise's figures.
type benchExercise struct {
	Exercise string        `json:"exercise"`
	Solution string        `json:"solution"`
	Results  []benchResult `json:"results"`
	Grade    benchGrade    `json:"grade"`
	Plain    benchPlain    `json:"plain"`
	// Ratio is grade.p50_seconds / plain.median_seconds (0 when either is missing).
	Ratio float64 `json:"ratio"`
	// Public is the fast path: the same project's public tests only,
	// through POST /api/v1/exercises/{id}/public-run, N runs at
	// concurrency C; PublicRatio is its p50 over the plain median (the
	// plain run is of the public tests too).
	Public      benchFast `json:"public"`
	PublicRatio float64   `json:"public_ratio"`
	Errors      []string  `json:"errors"`
}

// benchResult is one submission through the service.
type benchResult struct {
	Seq      int     `json:"seq"`
	ID       string  `json:"id"`
	Seconds  float64 `json:"seconds"` // submit (POST sent) to result (final status read)
	Status   string  `json:"status"`
	Verdict  string  `json:"verdict"`
	Score    float64 `json:"score"`
	MaxScore float64 `json:"max_score"`
	// TimingsMS are the sandbox's own phase timings of the grading, read
	// from the service's store (the API does not show them).
	TimingsMS map[string]int64 `json:"timings_ms,omitempty"`
	Error     string           `json:"error,omitempty"`
}

// benchGrade summarises the submissions of one exercise.
type benchGrade struct {
	P50Seconds  float64 `json:"p50_seconds"`
	P95Seconds  float64 `json:"p95_seconds"`
	MinSeconds  float64 `json:"min_seconds"`
	MaxSeconds  float64 `json:"max_seconds"`
	WallSeconds float64 `json:"wall_seconds"`
	// PerMinute is the results per minute over the wall time.
	PerMinute float64 `json:"throughput_per_minute"`
	// CPUSeconds is the host's busy CPU time over the wall time (all
	// processes, from /proc/stat); CoresBusy is it divided by the wall
	// time, Utilization that divided by the cores.
	CPUSeconds  float64 `json:"cpu_seconds"`
	CoresBusy   float64 `json:"cpu_cores_busy"`
	Utilization float64 `json:"cpu_utilization"`
	// MemoryPeakBytes is the largest drop of the host's MemAvailable
	// (/proc/meminfo, sampled every 100 ms) below its value at the start:
	// what the gradings in flight took at most, page cache included.
	MemoryPeakBytes int64 `json:"memory_peak_bytes"`
	// PhasesP50MS is the median of each sandbox phase (timings_ms) over
	// the results: where a grading's time goes.
	PhasesP50MS map[string]int64 `json:"phases_p50_ms"`
}

// benchFast summarises the public-tests runs of one exercise.
type benchFast struct {
	RunsSeconds []float64 `json:"runs_seconds"`
	P50Seconds  float64   `json:"p50_seconds"`
	P95Seconds  float64   `json:"p95_seconds"`
	// Warm are the runs that found a pre-started sandbox (timings_ms has
	// pool_wait), Cold those that started their own; WarmP50Seconds is
	// the median of the warm ones.
	Warm           int     `json:"warm"`
	Cold           int     `json:"cold"`
	WarmP50Seconds float64 `json:"warm_p50_seconds"`
	// GapSeconds is the pause each client took between its runs
	// (--public-gap).
	GapSeconds float64 `json:"gap_seconds"`
	// Verdict is the last run's ("passed" for a correct solution).
	Verdict string `json:"verdict"`
}

// benchPlain is the cold plain `docker run` of pytest.
type benchPlain struct {
	Command       string    `json:"command"`
	Tests         string    `json:"tests"`
	Database      string    `json:"database"`
	RunsSeconds   []float64 `json:"runs_seconds"`
	MedianSeconds float64   `json:"median_seconds"`
}

const benchSynopsis = "bench [--exercise ID]... [-n N] [-c C] [--solution NAME] [--pool P] [--public-gap D] [--plain-runs K] [--plain-postgres] [--json]"

// runBench grades N submissions of each exercise through the real service
// (in this process, on a loopback port, over a bbolt store in a temporary
// folder) at concurrency C, and times, in the same run, a cold plain
// `docker run --rm` of pytest over the same project in the same image.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr)
	var ids stringList
	fs.Var(&ids, "exercise", "exercise `ID` to bench (repeatable; default: every exercise of the catalog)")
	n := 10
	fs.VarP(positiveInt{&n}, "n", "n", "submissions graded per exercise")
	c := runtime.NumCPU()
	fs.VarP(positiveInt{&c}, "c", "c", "concurrency: the service's workers, and the clients submitting at once (default here: one per CPU)")
	solution := fs.String("solution", "", "the solution `NAME` (solutions/NAME, or a variant: variants/NAME) to submit; default: the exercise's first solution")
	plainRuns := 3
	fs.Var(positiveInt{&plainRuns}, "plain-runs", "cold plain docker runs of pytest per exercise")
	publicGap := fs.Duration("public-gap", 0, "pause between a client's public-tests runs (a live session's runs come seconds apart; 0: back to back)")
	pool := fs.Int("pool", -1, "the service's pre-started sandboxes, as serve --pool (-1: as many as -c; 0: every run starts cold)")
	plainPG := fs.Bool("plain-postgres", false, "run the plain pytest on PostgreSQL started in its container even where the exercise's starter uses SQLite")
	asJSON := fs.Bool("json", false, "print one JSON object for programs")
	dir := catalogFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if n == 0 {
		n = 10
	}
	if c == 0 {
		c = runtime.NumCPU()
	}
	if plainRuns == 0 {
		plainRuns = 3
	}
	catalog, err := loadCatalog(*dir)
	if err != nil {
		return err
	}
	var exs []*grader.Exercise
	if len(ids) == 0 {
		exs = catalog.Exercises()
	}
	for _, id := range ids {
		ex, err := catalog.Exercise(id)
		if err != nil {
			return &exitError{2, fmt.Sprintf("%s (known: %s)", grader.ErrorMessage(err), exerciseIDs(catalog))}
		}
		exs = append(exs, ex)
	}
	projects := make([][]grader.File, len(exs))
	solutions := make([]string, len(exs))
	for i, ex := range exs {
		if projects[i], solutions[i], err = benchProject(ex, *solution); err != nil {
			return err
		}
	}

	// The image must be there already: a bench does not build it (that
	// would be minutes of the figures' machine time).
	tag, err := benchPreflight(ctx)
	if err != nil {
		return err
	}
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", a...) }
	report := benchReport{Image: tag, N: n, Concurrency: c, PlainRuns: plainRuns,
		Machine: benchMachine{Cores: runtime.NumCPU(), LoadBefore: loadAverage()}}

	data, err := os.MkdirTemp("", "djgrade-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(data)
	progress("starting the service (%d workers, store in %s)", c, data)
	// The service logs only what went wrong; every submission's progress
	// is the bench's own line.
	srv, err := startServer(ctx, serveConfig{Addr: "127.0.0.1:0", Data: data, Concurrency: c, Pool: *pool, PoolIdle: 10 * time.Minute, Exercises: *dir}, &warnOnly{w: stderr})
	if err != nil {
		return err
	}
	defer srv.Close()
	base := "http://" + srv.addr
	// One token per client, as separate candidates would have: a token's
	// queue and upload caps then never refuse the bench's own work.
	secrets := make([]string, c)
	for i := range secrets {
		secrets[i] = grader.NewSecret()
		if err := srv.store.CreateToken(ctx, &grader.Token{Name: fmt.Sprintf("bench-%d", i+1), Role: grader.RoleInterviewer, Hash: grader.HashSecret(secrets[i])}); err != nil {
			return err
		}
	}

	for i, ex := range exs {
		if ctx.Err() != nil {
			return errBenchInterrupted
		}
		be := benchExercise{Exercise: ex.ID, Solution: solutions[i], Errors: []string{}}
		var zipped bytes.Buffer
		if err := archive.WriteZip(&zipped, projects[i]); err != nil {
			return err
		}
		progress("%s: grading %d submissions of %s through %s at concurrency %d", ex.ID, n, solutions[i], base, c)
		timings := func(id string) map[string]int64 {
			if sub, err := srv.store.Submission(ctx, id); err == nil && sub.Result != nil {
				return sub.Result.Timings
			}
			return nil
		}
		be.Results, be.Grade = benchGrades(ctx, base, secrets, ex.ID, zipped.Bytes(), n, timings, progress)
		for _, r := range be.Results {
			if r.Error != "" {
				be.Errors = append(be.Errors, fmt.Sprintf("submission %d: %s", r.Seq, r.Error))
			}
		}
		progress("%s: %d public-tests runs (the fast path) at concurrency %d", ex.ID, n, c)
		be.Public = benchPublic(ctx, base, secrets, ex.ID, zipped.Bytes(), n, *publicGap, &be.Errors, progress)
		pg := *plainPG || ex.Database == grader.DatabasePostgres
		be.Plain = benchPlain{Tests: "public", Database: grader.DatabaseSQLite}
		if pg {
			be.Plain.Database = grader.DatabasePostgres
		}
		be.Plain.Command = plainCommandLine(tag, pg)
		for k := range plainRuns {
			if ctx.Err() != nil {
				return errBenchInterrupted
			}
			took, err := plainRun(ctx, tag, projects[i], pg)
			if err != nil {
				be.Errors = append(be.Errors, fmt.Sprintf("plain run %d: %v", k+1, err))
				progress("%s: plain run %d/%d failed: %v", ex.ID, k+1, plainRuns, err)
				continue
			}
			be.Plain.RunsSeconds = append(be.Plain.RunsSeconds, took.Seconds())
			progress("%s: plain run %d/%d: %.2fs", ex.ID, k+1, plainRuns, took.Seconds())
		}
		be.Plain.MedianSeconds = quantile(be.Plain.RunsSeconds, 0.5)
		if be.Plain.MedianSeconds > 0 && be.Grade.P50Seconds > 0 {
			be.Ratio = be.Grade.P50Seconds / be.Plain.MedianSeconds
		}
		if be.Plain.MedianSeconds > 0 && be.Public.P50Seconds > 0 {
			be.PublicRatio = be.Public.P50Seconds / be.Plain.MedianSeconds
		}
		if ctx.Err() != nil {
			return errBenchInterrupted
		}
		report.Exercises = append(report.Exercises, be)
	}
	report.Machine.LoadAfter = loadAverage()

	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	} else {
		printBench(stdout, report)
	}
	for _, be := range report.Exercises {
		if len(be.Errors) > 0 {
			return &exitError{1, fmt.Sprintf("%s: %d error(s), first: %s", be.Exercise, len(be.Errors), be.Errors[0])}
		}
	}
	return nil
}

// benchPublic runs the project's public tests n times through the API's
// fast path, from one client per secret, and times each POST to its answer.
func benchPublic(ctx context.Context, base string, secrets []string, exercise string, zipped []byte, n int, gap time.Duration, errs *[]string, progress func(string, ...any)) benchFast {
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	client := &http.Client{}
	var mu sync.Mutex
	f := benchFast{GapSeconds: gap.Seconds()}
	var warm []float64
	var wg sync.WaitGroup
	for _, secret := range secrets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if gap > 0 && i >= len(secrets) {
					select {
					case <-time.After(gap):
					case <-ctx.Done():
						return
					}
				}
				var body bytes.Buffer
				mw := multipart.NewWriter(&body)
				fw, _ := mw.CreateFormFile("archive", "project.zip")
				fw.Write(zipped)
				mw.Close()
				start := time.Now()
				var run benchSubmission
				code, err := benchCall(ctx, client, http.MethodPost, base+"/api/v1/exercises/"+exercise+"/public-run", secret, mw.FormDataContentType(), &body, &run)
				took := time.Since(start).Seconds()
				if err == nil && code != http.StatusOK {
					err = fmt.Errorf("HTTP %d %s", code, run.raw)
				}
				mu.Lock()
				if err != nil {
					*errs = append(*errs, fmt.Sprintf("public run %d: %v", i+1, err))
					progress("%s: public run %d failed: %v", exercise, i+1, err)
				} else {
					f.RunsSeconds = append(f.RunsSeconds, took)
					f.Verdict = run.Verdict
					how := "cold"
					if _, ok := run.Timings["pool_wait"]; ok {
						how = "warm"
						f.Warm++
						warm = append(warm, took)
					} else {
						f.Cold++
					}
					progress("%s: public run %d: %s (%s) in %.2fs, %s", exercise, i+1, run.Verdict, run.Reason, took, how)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sorted := slices.Sorted(slices.Values(f.RunsSeconds))
	f.P50Seconds, f.P95Seconds = quantile(sorted, 0.5), quantile(sorted, 0.95)
	f.WarmP50Seconds = quantile(slices.Sorted(slices.Values(warm)), 0.5)
	return f
}

// errBenchInterrupted ends a bench cut short (Ctrl-C): its figures would
// be partial, so none are printed; the service and its containers are
// stopped and removed on the way out.
var errBenchInterrupted = &exitError{1, "bench interrupted: no figures printed"}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

// Type names the value in help.
func (s *stringList) Type() string { return "string" }

func (s *stringList) repeatable() {}
func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

var _ pflag.Value = (*stringList)(nil)

// benchProject is the project a candidate would upload: the starter with
// the solution (or variant) laid over it.
func benchProject(ex *grader.Exercise, name string) ([]grader.File, string, error) {
	overlay := ""
	switch {
	case name == "" && len(ex.Solutions) == 0:
		return nil, "", &exitError{2, fmt.Sprintf("%s has no solution to submit; name one with --solution", ex.ID)}
	case name == "":
		name = ex.Solutions[0]
		overlay = "solutions/" + name
	case slices.Contains(ex.Solutions, name):
		overlay = "solutions/" + name
	case slices.ContainsFunc(ex.Variants, func(v grader.Variant) bool { return v.Name == name }):
		overlay = "variants/" + name
	default:
		return nil, "", &exitError{2, fmt.Sprintf("%s has no solution or variant %q (solutions: %s)", ex.ID, name, strings.Join(ex.Solutions, ", "))}
	}
	files, err := grader.StarterFiles(ex)
	if err != nil {
		return nil, "", err
	}
	over, err := grader.OverlayFiles(ex, overlay)
	if err != nil {
		return nil, "", err
	}
	at := map[string]int{}
	for i, f := range files {
		at[f.Path] = i
	}
	for _, f := range over {
		if i, ok := at[f.Path]; ok {
			files[i] = f
		} else {
			files = append(files, f)
		}
	}
	return files, name, nil
}

// benchPreflight makes sure the Docker Engine answers and the sandbox image
// exists, and returns its tag.
func benchPreflight(ctx context.Context) (string, error) {
	sb, err := sandbox.New(sandbox.Options{})
	if err != nil {
		return "", &exitError{1, "cannot reach the Docker Engine: " + describe(err)}
	}
	defer sb.Close()
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := sb.Ping(pctx); err != nil {
		return "", &exitError{1, "cannot reach the Docker Engine (is it running, is DOCKER_HOST right?): " + describe(err)}
	}
	tag := sandbox.ImageTag()
	ok, err := sb.ImageExists(pctx, tag)
	if err != nil {
		return "", &exitError{1, "cannot inspect the sandbox image " + tag + ": " + describe(err)}
	}
	if !ok {
		return "", &exitError{1, "the sandbox image " + tag + " is missing: build it first with `djgrade image build`"}
	}
	if _, err := exec.LookPath("docker"); err != nil {
		return "", &exitError{1, "the plain run needs the docker CLI on PATH: " + err.Error()}
	}
	return tag, nil
}

// benchGrades submits n copies of the archive over HTTP, len(secrets)
// clients at once (each its own token, submitting its next one when its
// last has its result), and times each from submit to result. The host's
// CPU time is read from /proc/stat around the whole.
func benchGrades(ctx context.Context, base string, secrets []string, exercise string, zipped []byte, n int, timings func(id string) map[string]int64, progress func(string, ...any)) ([]benchResult, benchGrade) {
	results := make([]benchResult, n)
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	client := &http.Client{}
	var mu sync.Mutex
	done := 0
	stopMem := sampleMemory()
	cpu0, cpuErr := hostCPUSeconds()
	start := time.Now()
	var wg sync.WaitGroup
	for _, secret := range secrets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := benchOne(ctx, client, base, secret, exercise, zipped, i+1)
				mu.Lock()
				results[i] = r
				done++
				d := done
				mu.Unlock()
				if r.Error != "" {
					progress("%s: [%d/%d] submission %d: %s after %.2fs", exercise, d, n, r.Seq, r.Error, r.Seconds)
				} else {
					progress("%s: [%d/%d] submission %d %s: %s %g/%g in %.2fs", exercise, d, n, r.Seq, r.ID, r.Verdict, r.Score, r.MaxScore, r.Seconds)
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	cpu1, cpuErr1 := hostCPUSeconds()
	memPeak := stopMem()
	var took []float64
	for _, r := range results {
		if r.Error == "" {
			took = append(took, r.Seconds)
		}
	}
	slices.Sort(took)
	g := benchGrade{P50Seconds: quantile(took, 0.5), P95Seconds: quantile(took, 0.95), WallSeconds: wall.Seconds(), MemoryPeakBytes: memPeak}
	phases := map[string][]float64{}
	for i, r := range results {
		if r.ID != "" {
			results[i].TimingsMS = timings(r.ID)
		}
		for k, v := range results[i].TimingsMS {
			phases[k] = append(phases[k], float64(v))
		}
	}
	g.PhasesP50MS = map[string]int64{}
	for k, v := range phases {
		g.PhasesP50MS[k] = int64(quantile(v, 0.5))
	}
	if len(took) > 0 {
		g.MinSeconds, g.MaxSeconds = took[0], took[len(took)-1]
		g.PerMinute = float64(len(took)) / wall.Minutes()
	}
	if cpuErr == nil && cpuErr1 == nil {
		g.CPUSeconds = cpu1 - cpu0
		g.CoresBusy = g.CPUSeconds / wall.Seconds()
		g.Utilization = g.CoresBusy / float64(runtime.NumCPU())
	} else {
		progress("no CPU figures: %v", errors.Join(cpuErr, cpuErr1))
	}
	return results, g
}

// benchOne submits one archive and waits for its result (long polls of
// GET ?wait), timing from just before the upload to the final status.
func benchOne(ctx context.Context, client *http.Client, base, secret, exercise string, zipped []byte, seq int) (r benchResult) {
	r.Seq = seq
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("exercise", exercise)
	mw.WriteField("candidate", fmt.Sprintf("bench %d", seq))
	fw, _ := mw.CreateFormFile("archive", "project.zip")
	fw.Write(zipped)
	mw.Close()
	start := time.Now()
	defer func() { r.Seconds = time.Since(start).Seconds() }()
	var sub benchSubmission
	code, err := benchCall(ctx, client, http.MethodPost, base+"/api/v1/submissions", secret, mw.FormDataContentType(), &body, &sub)
	if err != nil {
		r.Error = "submit: " + err.Error()
		return r
	}
	if code != http.StatusAccepted || sub.ID == "" {
		r.Error = fmt.Sprintf("submit: HTTP %d %s", code, sub.raw)
		return r
	}
	r.ID = sub.ID
	deadline := time.Now().Add(10 * time.Minute)
	for !grader.Status(sub.Status).Final() {
		if time.Now().After(deadline) {
			r.Error = "no result after 10 minutes (status " + sub.Status + ")"
			return r
		}
		code, err = benchCall(ctx, client, http.MethodGet, base+"/api/v1/submissions/"+sub.ID+"?wait=50s", secret, "", nil, &sub)
		if err != nil {
			r.Error = "poll: " + err.Error()
			return r
		}
		if code != http.StatusOK {
			r.Error = fmt.Sprintf("poll: HTTP %d %s", code, sub.raw)
			return r
		}
	}
	r.Status, r.Verdict, r.Score, r.MaxScore = sub.Status, sub.Verdict, sub.Score, sub.MaxScore
	if sub.Status != string(grader.StatusDone) {
		r.Error = fmt.Sprintf("ended %s: %s", sub.Status, sub.Error)
	}
	return r
}

// benchSubmission is the part of the API's submission the bench reads.
type benchSubmission struct {
	ID       string          `json:"id"`
	Status   string          `json:"status"`
	Verdict  string          `json:"verdict"`
	Score    float64         `json:"score"`
	MaxScore float64         `json:"max_score"`
	Error    json.RawMessage `json:"error"`
	Reason   string          `json:"reason"`
	// Timings are a public run's (timings_ms).
	Timings map[string]int64 `json:"timings_ms"`
	raw     string
}

func benchCall(ctx context.Context, client *http.Client, method, url, secret, contentType string, body io.Reader, out *benchSubmission) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if err != nil {
		return res.StatusCode, err
	}
	*out = benchSubmission{}
	if err := json.Unmarshal(data, out); err != nil {
		return res.StatusCode, fmt.Errorf("HTTP %d, not JSON: %.200s", res.StatusCode, data)
	}
	out.raw = fmt.Sprintf("%.300s", data)
	return res.StatusCode, nil
}

// The plain run is what a developer would type to run the project's tests
// in the sandbox image, nothing of djgrade's protocol: `docker run --rm` of
// `python3 -m pytest` over the project (starter and solution; its public
// tests). The hidden checks are not in it: they drive the project over
// HTTP from the judge's side and need djgrade's harness, which is the
// thing measured against. The project goes in as a tar on stdin (so that
// a remote engine works as a local one) and the container has no network,
// as a sandbox has none. Where the tests need PostgreSQL, the container
// starts it first as a developer with a prepared cluster would: a copy of
// the image's template cluster, as its owner (the judge's uid), on a unix
// socket, initdb where the image has no template.
const plainPytest = `python3 -m pytest -q -p no:cacheprovider`

const plainPostgres = `set -e; BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1); ` +
	`if [ -d /opt/djgrade/pgtemplate ]; then cp -a /opt/djgrade/pgtemplate /tmp/pg; else "$BIN/initdb" -D /tmp/pg -U judge -A trust >/dev/null; fi; ` +
	`"$BIN/pg_ctl" -D /tmp/pg -w -s -l /tmp/pg.log -o "-c listen_addresses= -c unix_socket_directories=/tmp" start; `

func plainArgs(tag string, postgres bool) []string {
	script := "set -e; mkdir -p /work/p; tar -x -C /work/p; cd /work/p; exec " + plainPytest
	args := []string{"run", "--rm", "-i", "--network", "none", "--entrypoint", "sh"}
	if postgres {
		script = plainPostgres + "mkdir -p /work/p; tar -x -C /work/p; cd /work/p; " + plainPytest
		args = append(args, "--user", "10002:10002",
			"-e", "DJGRADE_DB_ENGINE=postgres", "-e", "DJGRADE_DB_HOST=/tmp", "-e", "DJGRADE_DB_USER=judge", "-e", "DJGRADE_DB_NAME=djgrade")
	}
	return append(args, tag, "-c", script)
}

func plainCommandLine(tag string, postgres bool) string {
	args := plainArgs(tag, postgres)
	for i, a := range args {
		if strings.ContainsAny(a, " ;$\"'") {
			args[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return "tar -c PROJECT | docker " + strings.Join(args, " ")
}

// plainRun times one cold `docker run --rm` of pytest over the project.
func plainRun(ctx context.Context, tag string, files []grader.File, postgres bool) (time.Duration, error) {
	var tarball bytes.Buffer
	if err := archive.WriteTar(&tarball, files); err != nil {
		return 0, err
	}
	// Named, so that an interrupted bench removes the container too: killing
	// the CLI alone would leave it running.
	name := "djgrade-bench-plain-" + strings.ToLower(grader.NewRecordID(""))
	args := plainArgs(tag, postgres)
	args = append([]string{args[0], "--name", name}, args[1:]...)
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Cancel = func() error {
		exec.Command("docker", "rm", "-f", name).Run()
		return cmd.Process.Kill()
	}
	cmd.Stdin = &tarball
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		tail := out.String()
		if len(tail) > 1500 {
			tail = tail[len(tail)-1500:]
		}
		return took, fmt.Errorf("%v: %s", err, strings.TrimSpace(tail))
	}
	return took, nil
}

// quantile returns the q-quantile of sorted-or-not values (nearest rank),
// 0 for none.
func quantile(values []float64, q float64) float64 {
	if len(values) == 0 {
		return 0
	}
	v := slices.Clone(values)
	slices.Sort(v)
	if q == 0.5 && len(v)%2 == 0 {
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	i := int(q*float64(len(v))+0.999999) - 1
	return v[max(0, min(i, len(v)-1))]
}

// hostCPUSeconds is the host's busy CPU time since boot, all cores: the
// first line of /proc/stat less idle and iowait, in USER_HZ (100 a second
// on Linux).
func hostCPUSeconds() (float64, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var busy float64
	// user nice system idle iowait irq softirq steal (guest is in user).
	for i, s := range fields[1:min(len(fields), 9)] {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %v", err)
		}
		if i != 3 && i != 4 {
			busy += v
		}
	}
	return busy / 100, nil
}

// memAvailable is MemAvailable of /proc/meminfo in bytes (-1 when unknown).
func memAvailable() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemAvailable:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return -1
			}
			return kb << 10
		}
	}
	return -1
}

// sampleMemory samples MemAvailable every 100 ms until the returned
// function is called, which returns the largest drop below the first
// sample (0 when /proc/meminfo cannot be read).
func sampleMemory() func() int64 {
	base := memAvailable()
	stop := make(chan struct{})
	peak := make(chan int64, 1)
	go func() {
		var most int64
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if m := memAvailable(); base >= 0 && m >= 0 && base-m > most {
				most = base - m
			}
			select {
			case <-stop:
				peak <- most
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		return <-peak
	}
}

// loadAverage reads the 1, 5 and 15 minute load averages (nil off Linux).
func loadAverage() []float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	var out []float64
	for _, s := range strings.Fields(string(data))[:3] {
		v, _ := strconv.ParseFloat(s, 64)
		out = append(out, v)
	}
	return out
}

// printBench prints the report as a table for people.
func printBench(w io.Writer, r benchReport) {
	fmt.Fprintf(w, "djgrade bench: %d submissions per exercise at concurrency %d, %d cold plain runs; image %s\n", r.N, r.Concurrency, r.PlainRuns, r.Image)
	fmt.Fprintf(w, "machine: %d cores, load average %v before, %v after\n\n", r.Machine.Cores, r.Machine.LoadBefore, r.Machine.LoadAfter)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "EXERCISE\tSOLUTION\tOK\tP50\tP95\tPER MIN\tCORES BUSY\tCPU s/GRADE\tMEM PEAK\tPLAIN MEDIAN\tRATIO\tPUBLIC P50\tPUBLIC RATIO\t")
	for _, e := range r.Exercises {
		ok := 0
		for _, res := range e.Results {
			if res.Error == "" {
				ok++
			}
		}
		perGrade := 0.0
		if ok > 0 {
			perGrade = e.Grade.CPUSeconds / float64(ok)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%.2fs\t%.2fs\t%.1f\t%.2f of %d\t%.1f\t%d MiB\t%.2fs\t%.2f\t%.2fs (%d warm: %.2fs)\t%.2f\t\n",
			e.Exercise, e.Solution, ok, len(e.Results), e.Grade.P50Seconds, e.Grade.P95Seconds, e.Grade.PerMinute,
			e.Grade.CoresBusy, r.Machine.Cores, perGrade, e.Grade.MemoryPeakBytes>>20, e.Plain.MedianSeconds, e.Ratio,
			e.Public.P50Seconds, e.Public.Warm, e.Public.WarmP50Seconds, e.PublicRatio)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nP50/P95: submit to result through the service's HTTP API. PER MIN: results per minute.")
	fmt.Fprintln(w, "CORES BUSY: host CPU time during the grading over its wall time. MEM PEAK: largest drop of MemAvailable.")
	fmt.Fprintln(w, "RATIO: P50 / PLAIN MEDIAN (a cold `docker run --rm` of pytest over the same project's public tests, in the same image).")
	fmt.Fprintln(w, "PUBLIC P50: the fast path (POST .../public-run, the public tests only), and of the runs that found a pre-started sandbox;")
	fmt.Fprintln(w, "PUBLIC RATIO: PUBLIC P50 over PLAIN MEDIAN.")
	for _, e := range r.Exercises {
		keys := slices.Sorted(maps.Keys(e.Grade.PhasesP50MS))
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %.2fs", k, float64(e.Grade.PhasesP50MS[k])/1000))
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "sandbox phases of %s, p50: %s\n", e.Exercise, strings.Join(parts, ", "))
		}
	}
	// The plain command, once for each distinct one, with its exercises.
	var commands []string
	users := map[string][]string{}
	for _, e := range r.Exercises {
		key := fmt.Sprintf("(%s tests, %s): %s", e.Plain.Tests, e.Plain.Database, e.Plain.Command)
		if users[key] == nil {
			commands = append(commands, key)
		}
		users[key] = append(users[key], e.Exercise)
	}
	for _, key := range commands {
		fmt.Fprintf(w, "plain run of %s %s\n", strings.Join(users[key], ", "), key)
	}
	for _, e := range r.Exercises {
		for _, msg := range e.Errors {
			fmt.Fprintf(w, "error: %s: %s\n", e.Exercise, msg)
		}
	}
}

// warnOnly passes on the service's log lines at WARN and ERROR only.
type warnOnly struct {
	w   io.Writer
	buf []byte
	mu  sync.Mutex
}

func (l *warnOnly) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		line := l.buf[:i+1]
		if bytes.Contains(line, []byte("level=WARN")) || bytes.Contains(line, []byte("level=ERROR")) {
			l.w.Write(line)
		}
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}
