package grader_test

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
	"github.com/djgrade/djgrade/grader/pytest"
)

// fakeSandbox answers every run with a report in which every hidden check
// of testExercise passed, or with err.
type fakeSandbox struct {
	mu   sync.Mutex
	jobs []grader.Job
	err  error
}

func (f *fakeSandbox) Run(ctx context.Context, job grader.Job) (grader.Outcome, error) {
	f.mu.Lock()
	f.jobs = append(f.jobs, job)
	f.mu.Unlock()
	if f.err != nil {
		return grader.Outcome{}, f.err
	}
	var checks []pytest.Check
	for _, c := range testExercise().Checks {
		checks = append(checks, pytest.Check{ID: c.ID, Outcome: grader.OutcomePassed})
	}
	rep, _ := json.Marshal(pytest.Report{Version: pytest.Version, Seed: job.Seed, Checks: checks})
	public, _ := json.Marshal(pytest.PublicReport{Tests: []pytest.PublicTest{{NodeID: "tests/test_public.py::test_x", Outcome: grader.OutcomePassed}}})
	return grader.Outcome{Verdict: grader.RunOK, Report: rep, Public: public}, nil
}

type oneCatalog struct{ ex *grader.Exercise }

func (c oneCatalog) Exercise(id string) (*grader.Exercise, error) {
	if id == c.ex.ID {
		return c.ex, nil
	}
	return nil, grader.Errorf(grader.ENOTFOUND, "no exercise %q", id)
}
func (c oneCatalog) Exercises() []*grader.Exercise { return []*grader.Exercise{c.ex} }

func newService(t *testing.T, sb grader.Sandbox) (*grader.Service, *bolt.Store) {
	t.Helper()
	store, err := bolt.Open(t.TempDir() + "/djgrade.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return grader.NewService(grader.Config{Store: store, Sandbox: sb, Catalog: oneCatalog{testExercise()}, Image: "img", Concurrency: 2, Poll: 50 * time.Millisecond}), store
}

func waitFinal(t *testing.T, svc *grader.Service, id string) *grader.Submission {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		sub, err := svc.Submission(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if sub.Status.Final() {
			return sub
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("submission %s not finished", id)
	return nil
}

func TestServiceGradesQueuedSubmissions(t *testing.T) {
	sb := &fakeSandbox{}
	svc, _ := newService(t, sb)
	var mu sync.Mutex
	var events []string
	svc.Listen(func(e grader.Event) {
		mu.Lock()
		events = append(events, e.Type+":"+string(e.Submission.Status))
		mu.Unlock()
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	sub, err := svc.Submit(ctx, "demo", "  Grace Hopper ", []grader.File{
		{Path: "app/views.py", Data: []byte("fast")},
		{Path: "tests/test_public.py", Data: []byte("changed")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Status != grader.StatusQueued || sub.Candidate != "Grace Hopper" || len(sub.Refused) != 1 {
		t.Fatalf("submitted %+v", sub)
	}
	got := waitFinal(t, svc, sub.ID)
	if got.Status != grader.StatusDone || got.Result.Score != 10 || got.Result.Verdict != grader.VerdictPassed || got.Attempts != 1 {
		t.Fatalf("graded %+v %+v", got, got.Result)
	}
	if len(sb.jobs) != 1 || sb.jobs[0].ID != sub.ID || sb.jobs[0].Image != "img" {
		t.Fatalf("jobs %+v", sb.jobs)
	}
	// The store says done before the worker emits finished: wait for it.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := len(events)
		mu.Unlock()
		if n >= 3 {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"queued:queued", "running:running", "finished:done"}
	if len(events) != 3 || events[0] != want[0] || events[1] != want[1] || events[2] != want[2] {
		t.Fatalf("events %v, want %v", events, want)
	}
}

func TestServiceInfrastructureFailureIsNotTheCandidates(t *testing.T) {
	svc, _ := newService(t, &fakeSandbox{err: errors.New("daemon gone")})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	sub, err := svc.Submit(ctx, "demo", "x", []grader.File{{Path: "app/views.py", Data: []byte("fast")}})
	if err != nil {
		t.Fatal(err)
	}
	got := waitFinal(t, svc, sub.ID)
	if got.Status != grader.StatusError || got.Error == "" || got.Result == nil || got.Result.Verdict != grader.VerdictInfraError || got.Result.Score != 0 {
		t.Fatalf("got %+v %+v", got, got.Result)
	}
}

func TestServiceSubmitValidation(t *testing.T) {
	svc, store := newService(t, &fakeSandbox{})
	ctx := context.Background()
	good := []grader.File{{Path: "app/views.py", Data: []byte("x")}}
	cases := map[string]func() error{
		"unknown exercise": func() error { _, err := svc.Submit(ctx, "nope", "x", good); return err },
		"empty candidate":  func() error { _, err := svc.Submit(ctx, "demo", "   ", good); return err },
		"control chars":    func() error { _, err := svc.Submit(ctx, "demo", "a\x00b", good); return err },
		"bad utf8":         func() error { _, err := svc.Submit(ctx, "demo", "a\xffb", good); return err },
		"nothing editable": func() error {
			_, err := svc.Submit(ctx, "demo", "x", []grader.File{{Path: "app/models.py", Data: []byte("x")}})
			return err
		},
	}
	for name, fn := range cases {
		if err := fn(); grader.ErrorCode(err) != grader.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	if list, _ := store.ListSubmissions(ctx, grader.SubmissionFilter{}); len(list) != 0 {
		t.Fatalf("refused submissions were stored: %d", len(list))
	}
}

func TestGradeScanIsASignal(t *testing.T) {
	svc, _ := newService(t, &fakeSandbox{})
	ex := testExercise()
	clean, err := svc.Grade(context.Background(), ex, []grader.File{{Path: "app/views.py", Data: []byte("import json\n")}}, "t1", nil)
	if err != nil || clean.Verdict != grader.VerdictPassed || len(clean.Findings) != 0 {
		t.Fatalf("clean answer: %v %+v", err, clean)
	}
	// The sandbox reports full marks; the candidate's file reaches into
	// pytest. The finding is a signal for the interviewer and decides
	// nothing: the judge ran where that code could not reach.
	res, err := svc.Grade(context.Background(), ex, []grader.File{{Path: "app/views.py", Data: []byte("import json\nfrom _pytest import runner\n")}}, "t2", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != grader.VerdictPassed || res.Score != 10 || len(res.Findings) != 1 || res.Findings[0].Line != 2 {
		t.Fatalf("got %s %d %+v", res.Verdict, res.Score, res.Findings)
	}
	// A file the grader refused is not the candidate's code and is not scanned.
	res, err = svc.Grade(context.Background(), ex, []grader.File{{Path: "app/views.py", Data: []byte("x = 1\n")}, {Path: "tests/conftest.py", Data: []byte("import _pytest\n")}}, "t3", nil)
	if err != nil || res.Verdict != grader.VerdictPassed || len(res.Refused) != 1 {
		t.Fatalf("refused file scanned: %v %+v", err, res)
	}
}

func TestSubscribe(t *testing.T) {
	svc, _ := newService(t, &fakeSandbox{})
	all, stopAll := svc.Subscribe("")
	defer stopAll()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	defer func() { cancel(); <-done }()

	sub, err := svc.Submit(ctx, "demo", "x", []grader.File{{Path: "app/views.py", Data: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	one, stopOne := svc.Subscribe(sub.ID)
	other, stopOther := svc.Subscribe("someone-else")
	defer stopOther()
	go func() { svc.Run(ctx); close(done) }()

	next := func(ch <-chan grader.Event) grader.Event {
		select {
		case e := <-ch:
			return e
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
		}
		return grader.Event{}
	}
	if e := next(all); e.Type != grader.EventQueued {
		t.Fatalf("all: first %s", e.Type)
	}
	for _, want := range []string{grader.EventRunning, grader.EventFinished} {
		if e := next(one); e.Type != want || e.Submission.ID != sub.ID {
			t.Fatalf("one: %s, want %s", e.Type, want)
		}
		if e := next(all); e.Type != want {
			t.Fatalf("all: %s, want %s", e.Type, want)
		}
	}
	stopOne()
	select {
	case e := <-other:
		t.Fatalf("another submission's subscriber got %s", e.Type)
	default:
	}
}

func TestPerCandidateQueueCap(t *testing.T) {
	svc, _ := newService(t, &fakeSandbox{})
	svc.MaxQueuedPerOwner = 2
	ctx := context.Background()
	files := []grader.File{{Path: "app/views.py", Data: []byte("x")}}
	req := grader.SubmitRequest{Exercise: "demo", Candidate: "c", Files: files, Owner: "tok_cand", Assignment: "asg_1"}
	for i := 0; i < 2; i++ {
		if _, err := svc.Create(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Create(ctx, req); grader.ErrorCode(err) != grader.ERATELIMIT {
		t.Fatalf("third waiting submission of one candidate: %v", err)
	}
	other := req
	other.Owner = "tok_other"
	if _, err := svc.Create(ctx, other); err != nil {
		t.Fatalf("another candidate was held up: %v", err)
	}
	staff := req
	staff.Assignment = ""
	for i := 0; i < 3; i++ {
		if _, err := svc.Create(ctx, staff); err != nil {
			t.Fatalf("staff capped: %v", err)
		}
	}
}

// TestGradeSeed: a result records the data seed it ran with, a fixed seed
// replays it, and without one every grading draws its own.
func TestGradeSeed(t *testing.T) {
	sb := &fakeSandbox{}
	svc, _ := newService(t, sb)
	ex := testExercise()
	files := []grader.File{{Path: "app/views.py", Data: []byte("fast\n")}}
	a, err := svc.Grade(context.Background(), ex, files, "s1", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.Grade(context.Background(), ex, files, "s2", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Seed <= 0 || b.Seed <= 0 || a.Seed == b.Seed {
		t.Fatalf("seeds %d and %d: want two different positive seeds", a.Seed, b.Seed)
	}
	svc.Seed = a.Seed
	c, err := svc.Grade(context.Background(), ex, files, "s3", nil)
	if err != nil || c.Seed != a.Seed || sb.jobs[2].Seed != a.Seed {
		t.Fatalf("replay: %v seed %d job seed %d, want %d", err, c.Seed, sb.jobs[2].Seed, a.Seed)
	}
	if sb.jobs[2].Settings != ex.Settings || sb.jobs[2].JudgeWorkspace == nil || !sb.jobs[2].Public {
		t.Fatalf("job %+v", sb.jobs[2])
	}
}

// countingFS counts the times each file is opened.
type countingFS struct {
	fs.FS
	mu    sync.Mutex
	opens map[string]int
}

func (c *countingFS) Open(name string) (fs.File, error) {
	c.mu.Lock()
	c.opens[name]++
	c.mu.Unlock()
	return c.FS.Open(name)
}

// TestGradeReadsTheExerciseOnce checks that one grading reads the starter
// and the hidden checks once, and that the candidate's workspace, the
// judge's and the scan all come from that one reading.
func TestGradeReadsTheExerciseOnce(t *testing.T) {
	ex := testExercise()
	cfs := &countingFS{FS: ex.FS, opens: map[string]int{}}
	ex.FS = cfs
	sb := &fakeSandbox{}
	svc := grader.NewService(grader.Config{Sandbox: sb, Image: "img"})
	res, err := svc.Grade(context.Background(), ex, []grader.File{
		{Path: "app/views.py", Data: []byte("import os\nos._exit(0)\n")},
	}, "once", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"starter/app/views.py", "starter/pytest.ini", "hidden/conftest.py"} {
		if n := cfs.opens[name]; n != 1 {
			t.Errorf("%s read %d times in one grading, want 1", name, n)
		}
	}
	if len(res.Findings) != 1 || res.Findings[0].What != "os._exit" {
		t.Errorf("findings %+v", res.Findings)
	}
	if len(sb.jobs) != 1 {
		t.Fatalf("%d jobs", len(sb.jobs))
	}
	judge := untar(t, sb.jobs[0].JudgeWorkspace)
	cand := untar(t, sb.jobs[0].Workspace)
	if judge["app/views.py"] != "slow\n" || judge["djgrade_hidden/conftest.py"] != "fixtures\n" {
		t.Errorf("judge workspace %v", judge)
	}
	if cand["app/views.py"] != "import os\nos._exit(0)\n" || cand["djgrade_hidden/conftest.py"] != "" || cand["pytest.ini"] != "[pytest]\n" {
		t.Errorf("candidate workspace %v", cand)
	}
}

func untar(t *testing.T, r io.Reader) map[string]string {
	t.Helper()
	out := map[string]string{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			b, _ := io.ReadAll(tr)
			out[h.Name] = string(b)
		}
	}
}

// TestNewServiceDefaults checks that the constructor fills in the settings
// left zero and makes a service whose methods need no first call: Drain
// before Run makes Run return at once.
func TestNewServiceDefaults(t *testing.T) {
	svc := grader.NewService(grader.Config{})
	if svc.Concurrency != runtime.NumCPU() || svc.Poll != 2*time.Second || svc.Logger == nil {
		t.Fatalf("defaults: concurrency %d, poll %v, logger %v", svc.Concurrency, svc.Poll, svc.Logger)
	}
	kept := grader.NewService(grader.Config{Concurrency: 3, Poll: time.Second})
	if kept.Concurrency != 3 || kept.Poll != time.Second {
		t.Fatalf("settings not kept: %d, %v", kept.Concurrency, kept.Poll)
	}
	s, _ := newService(t, &fakeSandbox{})
	s.Wake()
	s.Wake() // a second wake-up while one is pending must not block
	s.Drain()
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after Drain")
	}
}
