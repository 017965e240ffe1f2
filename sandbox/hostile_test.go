package sandbox_test

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"gopkg.in/yaml.v3"

	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/sandbox"
)

// The hostile-submission suite: every folder of testdata/hostile is a
// submission to the n-plus-one exercise written to attack the sandbox or the
// grade: its files are laid over the starter at editable paths and graded by
// grader.Service.Grade on the real Docker sandbox (a judge container with
// PostgreSQL and the hidden checks, a candidate container serving the
// project). Each case.yaml says what the attack must end as; for every case
// the suite also checks that nothing of the hidden checks reaches what the
// candidate is shown, and that no container of the run is left.
//
// The cases' Python prints "HOSTILE-BLOCKED <probe>" when an attempt was
// refused and "HOSTILE-" + "ESCAPED <probe>: ..." when it got through; the
// second must never appear in the candidate's log (the source spells it in
// two halves so that a traceback showing the source does not hold it).

const hostileDir = "testdata/hostile"

// hostileEscaped is what a case prints when an attack got through.
const hostileEscaped = "HOSTILE-ESCAPED"

// hostileCase is one case.yaml and the submission's files beside it.
type hostileCase struct {
	name string
	// Summary says what the attack does.
	Summary string `yaml:"summary"`
	// Expect is the verdict the submission must get, or a list of the
	// verdicts it may get.
	Expect verdicts `yaml:"expect"`
	// MinScore and MaxScore bound the score (both default 0). MaxScore
	// is below full marks unless the case is a correct answer under
	// attack-free behaviour.
	MinScore int `yaml:"min_score"`
	MaxScore int `yaml:"max_score"`
	// MaxPerformance bounds the performance category (default 0): the
	// undercount attacks must never earn it.
	MaxPerformance int `yaml:"max_performance"`
	// Limits override the exercise's limits for this case only (same
	// syntax as the manifest), e.g. a short timeout for the loops.
	Limits map[string]string `yaml:"limits"`
	// MaxSeconds is how long the whole Grade usually takes at most
	// (default: the timeout plus a minute). Going over it is logged, not
	// failed: the verdict (output_limit, process_limit, out_of_memory)
	// already says which limit ended the run, and a slow machine must
	// not fail the suite.
	MaxSeconds int `yaml:"max_seconds"`
	// MustContain are strings the candidate's log must hold: proof that
	// the attack ran.
	MustContain []string `yaml:"must_contain"`
	// MustNotContain are strings that must appear nowhere a candidate sees.
	MustNotContain []string `yaml:"must_not_contain"`
	// Hole, if set, says what a score above the bounds would mean: the
	// failure message is then marked as a hole for the lead.
	Hole string `yaml:"hole"`

	files []grader.File
}

// verdicts is one verdict or a list of them in YAML.
type verdicts []grader.Verdict

func (v *verdicts) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*v = verdicts{grader.Verdict(n.Value)}
		return nil
	}
	var list []grader.Verdict
	if err := n.Decode(&list); err != nil {
		return err
	}
	*v = list
	return nil
}

func loadHostileCases(t *testing.T) []*hostileCase {
	t.Helper()
	entries, err := os.ReadDir(hostileDir)
	if err != nil {
		t.Fatal(err)
	}
	var cases []*hostileCase
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(hostileDir, e.Name())
		raw, err := os.ReadFile(filepath.Join(dir, "case.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		c := &hostileCase{name: e.Name()}
		dec := yaml.NewDecoder(strings.NewReader(string(raw)))
		dec.KnownFields(true)
		if err := dec.Decode(c); err != nil {
			t.Fatalf("%s/case.yaml: %v", dir, err)
		}
		if len(c.Expect) == 0 {
			t.Fatalf("%s/case.yaml: expect is required", dir)
		}
		err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			if rel == "case.yaml" {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			c.files = append(c.files, grader.File{Path: filepath.ToSlash(rel), Data: data})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.files) == 0 {
			t.Fatalf("%s: no candidate files", dir)
		}
		cases = append(cases, c)
	}
	if len(cases) == 0 {
		t.Fatal("no hostile cases")
	}
	return cases
}

// parseCaseLimits reads a case's limit overrides, in the manifest's syntax.
func parseCaseLimits(raw map[string]string) (grader.Limits, error) {
	var l grader.Limits
	for k, v := range raw {
		var err error
		switch k {
		case "timeout":
			l.Timeout, err = time.ParseDuration(v)
		case "memory":
			l.MemoryBytes, err = exercises.ParseBytes(v)
		case "scratch":
			l.ScratchBytes, err = exercises.ParseBytes(v)
		case "output":
			l.OutputBytes, err = exercises.ParseBytes(v)
		case "cpus":
			l.CPUs, err = strconv.ParseFloat(v, 64)
		case "pids":
			l.Pids, err = strconv.ParseInt(v, 10, 64)
		case "open_files":
			l.OpenFiles, err = strconv.ParseInt(v, 10, 64)
		default:
			err = fmt.Errorf("unknown limit")
		}
		if err != nil {
			return l, fmt.Errorf("limits.%s: %q: %v", k, v, err)
		}
	}
	return l, nil
}

// hiddenSecrets returns what of the exercise's hidden checks must never
// reach a candidate: every distinctive line of the hidden files (one that
// is long enough to mean something and appears in no file the candidate
// has anyway: the starter, the sandbox image's own Python, the case files)
// and the hidden tests' function names.
func hiddenSecrets(t *testing.T, ex *grader.Exercise, cases []*hostileCase) []string {
	t.Helper()
	var known strings.Builder
	add := func(fsys fs.FS, root string) {
		err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := fs.ReadFile(fsys, p)
			known.Write(data)
			known.WriteByte('\n')
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	add(ex.FS, "starter")
	add(os.DirFS("image/python"), ".")
	for _, c := range cases {
		for _, f := range c.files {
			known.Write(f.Data)
		}
	}
	public := known.String()
	funcName := regexp.MustCompile(`def (test_\w+)`)
	var out []string
	seen := map[string]bool{}
	err := fs.WalkDir(ex.FS, "hidden", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(ex.FS, p)
		if err != nil {
			return err
		}
		for _, m := range funcName.FindAllStringSubmatch(string(data), -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				out = append(out, m[1])
			}
		}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if len(line) < 24 || seen[line] || strings.Contains(public, line) {
				continue
			}
			seen[line] = true
			out = append(out, line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 50 {
		t.Fatalf("only %d distinctive hidden lines: the hidden checks moved?", len(out))
	}
	return out
}

// candidateView is everything of a result that a candidate is shown: the
// public reason, each check's public name, the public tests' names and
// messages, the candidate container's log and the refused files' reasons.
// The hidden checks' messages and the judge's log are for staff only.
func candidateView(res *grader.Result) string {
	var b strings.Builder
	b.WriteString(res.PublicReason() + "\n")
	for i, tr := range res.Tests {
		b.WriteString(grader.PublicName(tr, i) + "\n")
		if !tr.Hidden {
			b.WriteString(tr.NodeID + "\n" + tr.Message + "\n")
		}
	}
	for _, r := range res.Refused {
		b.WriteString(r.Path + ": " + r.Reason + "\n")
	}
	b.WriteString(res.Log)
	return b.String()
}

// loadNPlusOne loads the n-plus-one exercise from the source tree (the
// same files the binary embeds), alone: a half-ported sibling exercise
// must not stop this suite.
func loadNPlusOne(t *testing.T) *grader.Exercise {
	t.Helper()
	ex, err := exercises.LoadExercise(os.DirFS("../exercises/n-plus-one"), "n-plus-one")
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// hostileContainers counts the containers of a run, by its job label.
func hostileContainers(t *testing.T, d *sandbox.Docker, id string) int {
	t.Helper()
	list, err := d.Client().ContainerList(context.Background(), container.ListOptions{
		All:     true,
		Filters: filters.NewArgs(filters.Arg("label", sandbox.LabelJob+"="+id)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// hostileRow is one line of the summary table.
type hostileRow struct {
	name    string
	verdict grader.Verdict
	score   string
	perf    string
	took    time.Duration
	ok      bool
}

func TestHostileSubmissions(t *testing.T) {
	if testing.Short() {
		t.Skip("real containers: skipped in -short mode")
	}
	cases := loadHostileCases(t)
	// Each case is a full grade (about 40s on two shared cores, two at a
	// time): the suite needs more than go test's default 10 minutes.
	// (A -run naming one case is not held to it.)
	if dl, ok := t.Deadline(); ok && time.Until(dl) < 15*time.Minute && !strings.Contains(flag.Lookup("test.run").Value.String(), "/") {
		t.Fatalf("%d cases take about 11 minutes (two at a time on two shared cores): run with -timeout 30m (%s left)", len(cases), time.Until(dl).Round(time.Second))
	}
	ex := loadNPlusOne(t)
	secrets := hiddenSecrets(t, ex, cases)

	// A label of this test's own, so that nothing it leaves can be
	// mistaken for a real server's.
	d, err := sandbox.New(sandbox.Options{Instance: "test-hostile", App: "djgrade-test-hostile", Image: testImage})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	svc := grader.NewService(grader.Config{Sandbox: d, Image: testImage})

	var mu sync.Mutex
	var table []hostileRow
	start := time.Now()
	t.Cleanup(func() {
		sort.Slice(table, func(i, j int) bool { return table[i].name < table[j].name })
		var b strings.Builder
		fmt.Fprintf(&b, "\n%-30s %-15s %-6s %-5s %7s  %s\n", "case", "verdict", "score", "perf", "took", "")
		for _, r := range table {
			mark := "ok"
			if !r.ok {
				mark = "FAILED"
			}
			fmt.Fprintf(&b, "%-30s %-15s %-6s %-5s %7s  %s\n", r.name, r.verdict, r.score, r.perf, r.took.Round(100*time.Millisecond), mark)
		}
		fmt.Fprintf(&b, "wall time %s\n", time.Since(start).Round(time.Second))
		t.Log(b.String())
		// Nothing of this test's label may be left, by any case.
		list, err := d.Client().ContainerList(context.Background(), container.ListOptions{
			All:     true,
			Filters: filters.NewArgs(filters.Arg("label", sandbox.LabelApp+"=djgrade-test-hostile")),
		})
		if err != nil {
			t.Error(err)
		} else if len(list) != 0 {
			t.Errorf("%d container(s) labelled %s=djgrade-test-hostile remain", len(list), sandbox.LabelApp)
		}
	})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			row := &hostileRow{name: c.name}
			t.Cleanup(func() {
				row.ok = !t.Failed()
				mu.Lock()
				table = append(table, *row)
				mu.Unlock()
			})
			runHostile(t, svc, d, ex, c, secrets, row)
		})
	}
}

// hostileTimeout is the run's time limit for a case that sets none.
const hostileTimeout = 240 * time.Second

func runHostile(t *testing.T, svc *grader.Service, d *sandbox.Docker, base *grader.Exercise, c *hostileCase, secrets []string, row *hostileRow) {
	over, err := parseCaseLimits(c.Limits)
	if err != nil {
		t.Fatalf("case.yaml: %v", err)
	}
	if over.Timeout == 0 {
		// The exercise's timeout is not what these cases test, and a
		// slow or loaded machine must not turn a disk fill into a
		// timeout: cases that test the timeout set their own.
		over.Timeout = hostileTimeout
	}
	ex := *base
	ex.Limits = base.Limits.Override(over)
	lim := ex.Limits.WithDefaults()
	bound := lim.Timeout + time.Minute
	if c.MaxSeconds > 0 {
		bound = time.Duration(c.MaxSeconds) * time.Second
	}

	id := fmt.Sprintf("hostile-%s-%d", c.name, time.Now().UnixNano())
	// Runs after the grade, whatever happened to it.
	t.Cleanup(func() {
		if n := hostileContainers(t, d, id); n != 0 {
			t.Errorf("%d container(s) labelled %s=%s remain", n, sandbox.LabelJob, id)
		}
	})
	// The bound plus room: a grade that never returns fails here rather
	// than hanging the suite.
	ctx, cancel := context.WithTimeout(context.Background(), max(bound, lim.Timeout+time.Minute)+2*time.Minute)
	defer cancel()
	began := time.Now()
	res, err := svc.Grade(ctx, &ex, c.files, id, nil)
	row.took = time.Since(began)
	if err != nil {
		t.Fatalf("Grade: %v (after %s)", err, row.took.Round(time.Millisecond))
	}
	perf := -1
	for _, cs := range res.Categories {
		if cs.Name == "performance" {
			perf = cs.Score
		}
	}
	row.verdict, row.score, row.perf = res.Verdict, fmt.Sprintf("%d/%d", res.Score, res.MaxScore), strconv.Itoa(perf)
	t.Logf("%s: %s; took %s", c.Summary, res.Describe(), row.took.Round(time.Millisecond))

	hole := ""
	if c.Hole != "" {
		hole = " -- HOLE: " + c.Hole
	}
	if len(res.Refused) != 0 {
		t.Errorf("files refused: %+v (the case must only touch editable files)", res.Refused)
	}
	if !slices.Contains(c.Expect, res.Verdict) {
		t.Errorf("verdict %s (%s), want %s%s", res.Verdict, res.Reason, c.Expect, hole)
	}
	if res.Score < c.MinScore || res.Score > c.MaxScore {
		t.Errorf("score %d/%d, want %d..%d%s", res.Score, res.MaxScore, c.MinScore, c.MaxScore, hole)
	}
	if perf < 0 {
		t.Errorf("the result has no performance category: %+v", res.Categories)
	} else if perf > c.MaxPerformance {
		t.Errorf("performance %d, want at most %d%s", perf, c.MaxPerformance, hole)
	}
	if res.Score == res.MaxScore && c.MaxScore < res.MaxScore {
		t.Errorf("HOLE: an attack reached full marks (%s)%s", res.Describe(), hole)
	}
	if row.took > bound {
		t.Logf("slow: the grade took %s, usually at most %s (verdict %s)", row.took.Round(time.Millisecond), bound, res.Verdict)
	}

	seen := candidateView(res)
	for _, s := range secrets {
		if strings.Contains(seen, s) {
			t.Errorf("HOLE: hidden content reaches the candidate: %q:\n%s", s, excerpt(seen, s))
		}
	}
	for _, s := range append([]string{hostileEscaped}, c.MustNotContain...) {
		if strings.Contains(seen, s) {
			t.Errorf("what the candidate sees holds %q%s:\n%s", s, hole, excerpt(seen, s))
		}
	}
	for _, s := range c.MustContain {
		if !strings.Contains(res.Log, s) {
			t.Errorf("the candidate's log lacks %q (the attack did not run, or its output was lost)", s)
		}
	}
	if t.Failed() {
		t.Logf("candidate log:\n%s", capLog(res.Log))
		for _, tr := range res.Tests {
			t.Logf("%s %s (%d/%d, %d queries): %s", tr.Outcome, tr.NodeID, tr.Points, tr.MaxPoints, tr.Queries, firstLines(tr.Message, 6))
		}
		t.Logf("judge log (staff only):\n%s", capLog(res.JudgeLog))
	}
}

// excerpt returns the text around the first s in all.
func excerpt(all, s string) string {
	i := strings.Index(all, s)
	lo, hi := max(0, i-300), min(len(all), i+len(s)+300)
	return all[lo:hi]
}

func capLog(s string) string {
	if len(s) > 6000 {
		return s[:3000] + "\n...\n" + s[len(s)-3000:]
	}
	return s
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
