package sandbox_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
	"github.com/djgrade/djgrade/sandbox"
)

// The hostile-submission suite: every folder of testdata/hostile is a
// submission written to attack the sandbox or the grade, graded through the
// same path as any upload (Service.Create into a real bbolt store, a worker
// of Service.Run, Service.Grade, the real Docker sandbox and the embedded
// catalog). Each case.yaml says what the attack must end as.

const hostileDir = "testdata/hostile"

// Placeholders a case's files may hold; the suite fills them in before the
// submission is made, so that an attack can aim at things only known now.
const (
	// placeholderHostAddrs becomes a Python list of "ip:port" strings: a
	// TCP listener of this test on every address of the host.
	placeholderHostAddrs = "__DJGRADE_HOST_ADDRS__"
)

// hostileSecretVar is set in this process's environment while the suite runs:
// nothing of the server's environment may reach a submission.
const hostileSecretVar = "DJGRADE_TEST_SECRET"

// hostileCanary is written next to the store's file: no submission may read
// djgrade's data directory. Cases search for it split in two, so that their
// own source, if a traceback shows it, does not hold it whole.
const hostileCanary = "djgrade-canary-5b1e0c7d"

// hiddenLine is a distinctive line of a hidden test of n-plus-one: no
// submission may print the hidden tests' source.
const hiddenLine = "lib.add(1, tags=3, reviews=6)"

// hostileCase is one case.yaml and the submission's files beside it.
type hostileCase struct {
	name string
	// Exercise is the exercise id (default n-plus-one).
	Exercise string `yaml:"exercise"`
	// Summary says what the attack does.
	Summary string `yaml:"summary"`
	// Expect is the verdict the submission must get, or a list of the
	// verdicts it may get (for cases whose defence is still being built
	// and may end either way, both without points).
	Expect verdicts `yaml:"expect"`
	// MinScore and MaxScore bound the score (both default 0).
	MinScore int `yaml:"min_score"`
	MaxScore int `yaml:"max_score"`
	// Limits override the exercise's limits for this case only, to keep
	// the suite fast (e.g. a 15s timeout for the loops); same syntax as
	// the manifest.
	Limits map[string]string `yaml:"limits"`
	// MustContain are strings the stored log must hold: proof that the
	// attack ran and its output was kept.
	MustContain []string `yaml:"must_contain"`
	// MustNotContain are strings that must appear nowhere in the stored
	// result (log, reason, test names and messages).
	MustNotContain []string `yaml:"must_not_contain"`
	// Refused are the candidate paths that must be refused and listed.
	Refused []string `yaml:"refused"`
	// Depends names work the case needs to pass, for the failure message.
	Depends string `yaml:"depends"`

	files []grader.File
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
		c := &hostileCase{name: e.Name(), Exercise: "n-plus-one"}
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

// limitedCatalog is the embedded catalog with one exercise's limits
// overridden: Grade takes its limits from the exercise, so this is how a
// case shortens them without another path into the sandbox.
type limitedCatalog struct {
	grader.Catalog
	id     string
	limits grader.Limits
}

func (c limitedCatalog) Exercise(id string) (*grader.Exercise, error) {
	ex, err := c.Catalog.Exercise(id)
	if err != nil || id != c.id {
		return ex, err
	}
	cp := *ex
	cp.Limits = ex.Limits.Override(c.limits)
	return &cp, nil
}

// hostListener accepts TCP connections on every address of the host and
// counts them: an attack that reaches the host from a container shows here
// even if it prints nothing.
type hostListener struct {
	ln    net.Listener
	mu    sync.Mutex
	conns int
}

func listenOnHost(t *testing.T) *hostListener {
	t.Helper()
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hostListener{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.conns++
			h.mu.Unlock()
			io.WriteString(c, "djgrade host listener\n")
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return h
}

func (h *hostListener) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.conns
}

// addrs returns "ip:port" for every address of the host (the loopback, the
// bridge gateway, the outside ones) with the listener's port.
func (h *hostListener) addrs(t *testing.T) []string {
	t.Helper()
	port := h.ln.Addr().(*net.TCPAddr).Port
	ifaddrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range ifaddrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLinkLocalUnicast() {
			continue
		}
		out = append(out, net.JoinHostPort(ipn.IP.String(), strconv.Itoa(port)))
	}
	return out
}

// hostShadowHashes returns the password hashes in the host's /etc/shadow
// (if this test can read it): the image's own file may be read, the host's
// never.
func hostShadowHashes() []string {
	data, err := os.ReadFile("/etc/shadow")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) > 1 && len(f[1]) > 3 {
			out = append(out, f[1])
		}
	}
	return out
}

// hostileTiming is one line of the summary table.
type hostileTiming struct {
	name    string
	verdict grader.Verdict
	score   string
	command time.Duration // the candidate's command inside the container
	run     time.Duration // the container, start to exit
	total   time.Duration // claim to stored result
	ok      bool
}

func TestHostileSubmissions(t *testing.T) {
	if testing.Short() {
		t.Skip("real containers: skipped in -short mode")
	}
	cases := loadHostileCases(t)
	catalog, err := exercises.Embedded()
	if err != nil {
		t.Fatal(err)
	}

	secret := "s3cret-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	old, had := os.LookupEnv(hostileSecretVar)
	os.Setenv(hostileSecretVar, secret)
	t.Cleanup(func() {
		if had {
			os.Setenv(hostileSecretVar, old)
		} else {
			os.Unsetenv(hostileSecretVar)
		}
	})
	listener := listenOnHost(t)
	hostAddrs := listener.addrs(t)
	shadow := hostShadowHashes()

	d, err := sandbox.New(sandbox.Options{Instance: "test-hostile", Image: testImage})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })

	var mu sync.Mutex
	var table []hostileTiming
	t.Cleanup(func() {
		sort.Slice(table, func(i, j int) bool { return table[i].name < table[j].name })
		var b strings.Builder
		fmt.Fprintf(&b, "\n%-26s %-15s %-7s %9s %9s %9s  %s\n", "case", "verdict", "score", "command", "container", "total", "")
		for _, r := range table {
			mark := "ok"
			if !r.ok {
				mark = "FAILED"
			}
			fmt.Fprintf(&b, "%-26s %-15s %-7s %9s %9s %9s  %s\n", r.name, r.verdict, r.score,
				r.command.Round(100*time.Millisecond), r.run.Round(100*time.Millisecond), r.total.Round(100*time.Millisecond), mark)
		}
		t.Log(b.String())
		if n := listener.count(); n != 0 {
			t.Errorf("the host listener accepted %d connection(s) from submissions", n)
		}
	})

	addrList := `["` + strings.Join(hostAddrs, `", "`) + `"]`
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			files := make([]grader.File, len(c.files))
			for i, f := range c.files {
				f.Data = []byte(strings.ReplaceAll(string(f.Data), placeholderHostAddrs, addrList))
				files[i] = f
			}
			forbidden := append([]string{"ESCAPED", secret, hostileCanary, hiddenLine}, c.MustNotContain...)
			forbidden = append(forbidden, shadow...)
			row := &hostileTiming{name: c.name}
			t.Cleanup(func() {
				row.ok = !t.Failed()
				mu.Lock()
				table = append(table, *row)
				mu.Unlock()
			})
			runHostile(t, d, catalog, c, files, forbidden, row)
		})
	}
}

func runHostile(t *testing.T, d *sandbox.Docker, catalog grader.Catalog, c *hostileCase, files []grader.File, forbidden []string, row *hostileTiming) {
	over, err := parseCaseLimits(c.Limits)
	if err != nil {
		t.Fatalf("case.yaml: %v", err)
	}
	dir := t.TempDir()
	store, err := bolt.Open(filepath.Join(dir, "djgrade.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	// Something of djgrade's data directory that a submission could only
	// print by reading the host's disk.
	if err := os.WriteFile(filepath.Join(dir, "canary.txt"), []byte(hostileCanary+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	svc := &grader.Service{
		Store:       store,
		Sandbox:     d,
		Catalog:     limitedCatalog{Catalog: catalog, id: c.Exercise, limits: over},
		Image:       testImage,
		Concurrency: 1,
		Poll:        100 * time.Millisecond,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	var claimed time.Time
	done := make(chan *grader.Submission, 1)
	svc.Listen(func(e grader.Event) {
		switch e.Type {
		case grader.EventRunning:
			claimed = time.Now()
		case grader.EventFinished:
			done <- e.Submission
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, err := svc.Create(ctx, grader.SubmitRequest{
		Exercise:  c.Exercise,
		Candidate: "hostile " + c.name,
		Files:     files,
		Source:    &grader.Source{Kind: grader.SourceUpload},
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	// The container check runs last (cleanups run in reverse order), after
	// the worker has returned.
	t.Cleanup(func() {
		if n := countJobContainers(t, d, sub.ID); n != 0 {
			t.Errorf("%d container(s) labelled %s=%s remain", n, sandbox.LabelJob, sub.ID)
		}
	})
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		svc.Run(ctx)
	}()
	ex, _ := svc.Catalog.Exercise(c.Exercise)
	wait := ex.Limits.WithDefaults().Timeout + 3*time.Minute
	var fin *grader.Submission
	select {
	case fin = <-done:
	case <-time.After(wait):
		t.Fatalf("not graded within %s", wait)
	}
	cancel()
	<-ran
	row.total = time.Since(claimed)

	if fin.Status != grader.StatusDone || fin.Result == nil {
		t.Fatalf("status %s (%s), want done", fin.Status, fin.Error)
	}
	res := fin.Result
	ms := func(k string) time.Duration { return time.Duration(res.Timings[k]) * time.Millisecond }
	row.verdict, row.score = res.Verdict, fmt.Sprintf("%d/%d", res.Score, res.MaxScore)
	row.command, row.run = ms("command"), ms("run")
	t.Logf("%s: %s; command %s, container %s, total %s", c.Summary, res.Describe(), row.command, row.run, row.total.Round(time.Millisecond))
	hint := ""
	if c.Depends != "" {
		hint = " (this case depends on " + c.Depends + ")"
	}
	if !slices.Contains(c.Expect, res.Verdict) {
		t.Errorf("verdict %s (%s), want %s%s", res.Verdict, res.Reason, c.Expect, hint)
	}
	if res.Score < c.MinScore || res.Score > c.MaxScore {
		t.Errorf("score %d, want %d..%d%s", res.Score, c.MinScore, c.MaxScore, hint)
	}

	var got []string
	for _, r := range fin.Refused {
		got = append(got, r.Path)
	}
	sort.Strings(got)
	want := append([]string(nil), c.Refused...)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("refused %q, want %q", got, want)
	}

	var stored strings.Builder
	stored.WriteString(res.Reason + "\n" + res.Log + "\n")
	for _, tr := range res.Tests {
		stored.WriteString(tr.Name + "\n" + tr.Message + "\n")
	}
	for _, r := range fin.Refused {
		stored.WriteString(r.Reason + "\n")
	}
	all := stored.String()
	for _, s := range forbidden {
		if s != "" && strings.Contains(all, s) {
			t.Errorf("the stored result holds %q%s:\n%s", s, hint, excerpt(all, s))
		}
	}
	for _, s := range c.MustContain {
		if !strings.Contains(all, s) {
			t.Errorf("the stored result lacks %q (the attack did not run, or its output was lost); log:\n%s", s, capLog(res.Log))
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", capLog(res.Log))
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
